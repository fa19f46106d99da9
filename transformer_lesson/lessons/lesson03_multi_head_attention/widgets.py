"""Lesson 03, multi-head attention (多头注意力): its interactive controls.

Each is a `drawing.FigureWidget`: controls above a figure that is redrawn on every change, with a
caption saying what it shows.
"""
from __future__ import annotations

import ipywidgets as ipw
import torch

from ...drawing import FigureWidget
from ...i18n import N_, translator
from . import experiments, plots

__all__ = ["head_selector_widget"]

_ = translator("lesson03")

# The names lesson 03 gives its two models, shown in the reader's language (any other name is shown as given).
_MODEL_NAMES = (N_("trained"), N_("untrained"))


def _offset_phrase(offset: int) -> str:
    if offset == 0:
        return _("the word itself")
    if offset == -1:
        return _("the previous word (1 place to its left)")
    if offset == 1:
        return _("the next word (1 place to its right)")
    if offset < 0:
        return _("the word {n} places to its left (earlier)", n=-offset)
    return _("the word {n} places to its right (later)", n=offset)


def head_selector_widget(weights_by_model: dict, tokens, *, width: float = 5.0, height: float = 3.6) -> FigureWidget:
    """A head dropdown (and a model toggle when there are several) above one head's `(T, T)` weights on the
    sentence, the cells of the head's favourite offset (key − query) outlined. `weights_by_model` maps a name to
    weights of shape `(h, T, T)`; the lesson's names "trained" and "untrained" are shown translated."""
    weights = {name: torch.as_tensor(w).detach().double() for name, w in weights_by_model.items()}
    shapes = {tuple(w.shape) for w in weights.values()}
    T = len(tokens)
    if len(shapes) != 1 or len(next(iter(shapes))) != 3 or next(iter(shapes))[1:] != (T, T):
        raise ValueError(_("expected every model's weights of one shape (h, T, T) with T={T} tokens, got {shapes}",
                           T=T, shapes=sorted(shapes)))
    h = next(iter(shapes))[0]
    favourite = {name: experiments.dominant_offsets(w) for name, w in weights.items()}   # once, not per redraw
    controls = {"head": ipw.Dropdown(options=[(_("head {i}", i=i), i) for i in range(h)], value=0,
                                     description=_("head"))}
    if len(weights) > 1:
        controls["model"] = ipw.ToggleButtons(options=[(_(name), name) for name in weights], description=_("model"))

    def draw(fig, head, model=next(iter(weights))):
        fig.set_layout_engine(None)     # fixed margins: no layout engine, so savefig draws once, not twice
        ax = fig.add_subplot(fig.add_gridspec(1, 1, left=0.2, right=0.97, bottom=0.17, top=0.91)[0])
        offset, share = favourite[model][head]
        shown = _(model)                # the model's name in the reader's language
        plots.heatmap(weights[model][head], tokens, tokens, ax=ax,
                      title=_("{model}: head {head}", model=shown, head=head),
                      xlabel=_("key (attended to)"), ylabel=_("query (attending)"), cmap="Blues", vmin=0.0, vmax=1.0,
                      annotate=True, colorbar=False)
        plots.mark_offset(ax, offset, T)
        caption = _("{model}, head {head}: {share:.0%} of this head's attention goes to {phrase} (offset {offset:+d}, "
                    "outlined in orange).", model=shown, head=head, share=share, phrase=_offset_phrase(offset),
                    offset=offset)
        return caption, {"model": model, "head": head, "dominant_offset": offset, "weight": share}

    return FigureWidget(draw, controls, width=width, height=height)
