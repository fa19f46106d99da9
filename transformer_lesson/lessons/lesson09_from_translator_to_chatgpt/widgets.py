"""Lesson 09, from the translator to ChatGPT (从翻译模型到 ChatGPT): its interactive controls.

Each is a `drawing.FigureWidget`: controls above a figure that is redrawn on every change, with a caption
saying what it shows.
"""
from __future__ import annotations

import html
from typing import Sequence

import ipywidgets as ipw

from ...capstone.data import join_chinese, tokenize_chinese
from ...drawing import FigureWidget
from ...i18n import translator
from . import experiments, plots

__all__ = ["generation_widget", "sampling_widget"]

_ = translator("lesson09")


def generation_widget(model, vocab, sentences: Sequence[str], *, width: float = 7.0,
                      height: float = 3.4) -> FigureWidget:
    """Step through greedy generation: a sentence dropdown and a step slider. The figure shows the next-token
    distribution at that step (the token appended in orange); the caption shows what the model reads, the token
    it appends, and the sequence after it. Beyond the last step the slider stays on the last one."""
    runs = {sentence: experiments.generation_steps(model, vocab, sentence) for sentence in sentences}
    controls = {"sentence": ipw.Dropdown(options=list(runs), description=_("sentence"),
                                         layout=ipw.Layout(width="420px")),
                "step": ipw.IntSlider(value=0, min=0, max=max(len(r) for r in runs.values()) - 1,
                                      description=_("step"))}

    def draw(fig, sentence, step):
        steps = runs[sentence]
        step = min(step, len(steps) - 1)
        now = steps[step]
        fig.set_layout_engine(None)
        ax = fig.add_subplot(fig.add_gridspec(1, 1, left=0.2, right=0.95, bottom=0.16, top=0.88)[0])
        plots.next_token_bars(now["probabilities"], vocab.tokens, target=now["chosen"], k=8, ax=ax,
                              title=_("step {step}: P(next token | everything before it)", step=step + 1))
        read = " ".join(now["context"])
        caption = (_("step {step} of {steps}: the model reads <code>{read}</code> and appends <b>{chosen}</b> "
                     "(P = {p:.2f}); ", step=step + 1, steps=len(steps), read=html.escape(read),
                     chosen=html.escape(now["chosen"]), p=float(now["probabilities"].max()))
                   + (_("&lt;eos&gt; ends the answer.") if now["chosen"] == "<eos>"
                      else _("then it runs again on the longer input.")))
        return caption, {"step": step, "steps": len(steps), "context": now["context"], "chosen": now["chosen"]}

    return FigureWidget(draw, controls, width=width, height=height)


def sampling_widget(model, vocab, sentences: dict, *, num_samples: int = 30, seed: int = 0, width: float = 8.5,
                    height: float = 3.4) -> FigureWidget:
    """Temperature, top-k and top-p over one sentence (`{english: reference chinese}`): the first token's
    distribution before and after them, and what `num_samples` seeded samples translate it as. top-k 0 and
    top-p 1.0 switch the filter off."""
    sentences = dict(sentences)
    controls = {"sentence": ipw.Dropdown(options=list(sentences), description=_("sentence"),
                                         layout=ipw.Layout(width="420px")),
                "temperature": ipw.FloatSlider(value=1.0, min=0.1, max=3.0, step=0.1, description=_("temperature")),
                "top_k": ipw.IntSlider(value=0, min=0, max=20, description=_("top-k (0: off)")),
                "top_p": ipw.FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05, description=_("top-p (1: off)"))}

    def draw(fig, sentence, temperature, top_k, top_p):
        options = dict(temperature=temperature, top_k=top_k or None, top_p=top_p if top_p < 1.0 else None)
        reference = join_chinese(tokenize_chinese(sentences[sentence]))
        run = experiments.sampling_variety(model, vocab, sentence, reference, {"now": options},
                                           num_samples=num_samples, seed=seed)["now"]
        dist = experiments.first_step_distribution(model, vocab, sentence, **options)
        plots.sampling_panels(fig, dist, vocab.tokens, run["counts"], reference)
        off = _("off")
        caption = _("temperature {temperature:.1f}, top-k {top_k}, top-p {top_p}: the first token is drawn from {kept} "
                    "of {vocab} tokens; {samples} samples give {distinct} different outputs, {right} of them the right "
                    "one ({reference}).", temperature=temperature, top_k=top_k or off,
                    top_p=top_p if top_p < 1 else off, kept=dist["kept"], vocab=len(vocab), samples=num_samples,
                    distinct=run["distinct"], right=run["right"], reference=reference)
        return caption, {"kept": dist["kept"], "distinct": run["distinct"], "right": run["right"]}

    return FigureWidget(draw, controls, width=width, height=height)
