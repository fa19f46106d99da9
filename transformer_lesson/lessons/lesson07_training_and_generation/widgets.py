"""Lesson 07, training and generation (训练与生成): its interactive controls.

Each is a `drawing.FigureWidget`: controls above a figure that is redrawn on every change, with a
caption saying what it shows.
"""
from __future__ import annotations

import html

import ipywidgets as ipw

from ...capstone import Translator
from ...drawing import FigureWidget
from ...i18n import translator
from ..lesson06_encoder_decoder.widgets import cross_attention_widget
from . import experiments, plots

__all__ = ["cross_attention_widget", "decoding_widget"]

_ = translator("lesson07")


def decoding_widget(translators, sentences, *, sentence: str | None = None, beam_size: int = 4,
                    length_penalty: float = 0.6, temperature: float = 1.0, num_samples: int = 8, seed: int = 0,
                    width: float = 8.0, height: float = 3.2) -> FigureWidget:
    """Sliders for beam width, length penalty alpha and sampling temperature, a sentence dropdown and (with
    several translators, `{name: translator}`) a model toggle, over `experiments.decoding_choices`: every
    candidate translation with its log-probability and who found it. The caption names greedy's, beam
    search's and the samples' translations. Samples are seeded, so the same settings show the same samples."""
    models = {"model": translators} if isinstance(translators, Translator) else dict(translators)
    sentences = list(sentences)
    controls = {}
    if len(models) > 1:
        controls["model"] = ipw.ToggleButtons(options=list(models), description=_("model"))
    controls.update({
        "sentence": ipw.Dropdown(options=sentences, value=sentence or sentences[0], description=_("sentence"),
                                 layout=ipw.Layout(width="420px")),
        "beam_size": ipw.IntSlider(value=beam_size, min=1, max=8, description=_("beam width")),
        "length_penalty": ipw.FloatSlider(value=length_penalty, min=0.0, max=2.0, step=0.1, description=_("length α")),
        "temperature": ipw.FloatLogSlider(value=temperature, base=10, min=-1, max=0.6, step=0.1,
                                          description=_("temperature"))})
    cache: dict = {}                     # results already computed, so a slider recomputes only its own part

    def draw(fig, sentence, beam_size, length_penalty, temperature, model=next(iter(models))):
        choices = experiments.decoding_choices(models[model], sentence, beam_size, length_penalty, temperature,
                                               num_samples=num_samples, seed=seed, cache=cache)
        fig.set_layout_engine(None)      # fixed margins: no layout engine, so savefig draws once, not twice
        ax = fig.add_subplot(fig.add_gridspec(1, 1, left=0.2, right=0.98, bottom=0.15, top=0.9)[0])
        plots.decoding_bars(choices, ax=ax)
        (greedy, greedy_lp), (best, best_score, best_lp) = choices["greedy"], choices["beam"][0]
        counts = choices["sample_counts"]
        top = max(counts, key=counts.get)
        shown = {text: html.escape(text or _(plots.EMPTY_TRANSLATION)) for text in (greedy, best, top)}
        spread = (_("all different") if counts[top] == 1 else
                  _("{n} different, most often {top} ({count}×)", n=len(counts), top=shown[top], count=counts[top])
                  if len(counts) > 1 else _("all {top}", top=shown[top]))
        caption = _("greedy: {greedy} (log P {greedy_lp:.2f}); beam width {beam_size}, α {alpha:.1f}: <b>{best}</b> "
                    "(log P {best_lp:.2f}, score {best_score:.2f}); {num_samples} samples at temperature "
                    "{temperature:.2f}: {spread}.", greedy=shown[greedy], greedy_lp=greedy_lp, beam_size=beam_size,
                    alpha=length_penalty, best=shown[best], best_lp=best_lp, best_score=best_score,
                    num_samples=num_samples, temperature=temperature, spread=spread)
        return caption, {"model": model, "greedy": greedy, "greedy_log_prob": greedy_lp, "beam": best,
                         "beam_log_prob": best_lp, "beam_score": best_score, "hypotheses": len(choices["beam"]),
                         "distinct_samples": len(counts), "samples": [t for t, _lp in choices["samples"]]}

    return FigureWidget(draw, controls, width=width, height=height)
