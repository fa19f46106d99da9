"""Lesson 03, multi-head attention (多头注意力): its interactive controls.

Each is a `drawing.FigureWidget`: controls above a figure that is redrawn on every change, with a
caption saying what it shows.
"""
from __future__ import annotations

import ipywidgets as ipw
import torch

from ...drawing import FigureWidget
from . import experiments, plots

__all__ = ["head_selector_widget"]


def _offset_phrase(offset: int) -> str:
    if offset == 0:
        return "the word itself"
    side = "left (earlier)" if offset < 0 else "right (later)"
    if abs(offset) == 1:
        return f"the {'previous' if offset < 0 else 'next'} word (1 place to its {'left' if offset < 0 else 'right'})"
    return f"the word {abs(offset)} places to its {side}"


def head_selector_widget(weights_by_model: dict, tokens, *, width: float = 5.0, height: float = 3.6) -> FigureWidget:
    """A head dropdown (and a model toggle when there are several) above one head's `(T, T)` weights on the
    sentence, the cells of the head's favourite offset (key − query) outlined. `weights_by_model` maps a name to
    weights of shape `(h, T, T)`."""
    weights = {name: torch.as_tensor(w).detach().double() for name, w in weights_by_model.items()}
    shapes = {tuple(w.shape) for w in weights.values()}
    T = len(tokens)
    if len(shapes) != 1 or len(next(iter(shapes))) != 3 or next(iter(shapes))[1:] != (T, T):
        raise ValueError(f"expected every model's weights of one shape (h, T, T) with T={T} tokens, "
                         f"got {sorted(shapes)}")
    h = next(iter(shapes))[0]
    favourite = {name: experiments.dominant_offsets(w) for name, w in weights.items()}   # once, not per redraw
    controls = {"head": ipw.Dropdown(options=[(f"head {i}", i) for i in range(h)], value=0, description="head")}
    if len(weights) > 1:
        controls["model"] = ipw.ToggleButtons(options=list(weights), description="model")

    def draw(fig, head, model=next(iter(weights))):
        fig.set_layout_engine(None)     # fixed margins: no layout engine, so savefig draws once, not twice
        ax = fig.add_subplot(fig.add_gridspec(1, 1, left=0.2, right=0.97, bottom=0.17, top=0.91)[0])
        offset, share = favourite[model][head]
        plots.heatmap(weights[model][head], tokens, tokens, ax=ax, title=f"{model}: head {head}",
                      xlabel="key (attended to)", ylabel="query (attending)", cmap="Blues", vmin=0.0, vmax=1.0,
                      annotate=True, colorbar=False)
        plots.mark_offset(ax, offset, T)
        caption = (f"{model}, head {head}: {share:.0%} of this head's attention goes to "
                   f"{_offset_phrase(offset)} (offset {offset:+d}, outlined in orange).")
        return caption, {"model": model, "head": head, "dominant_offset": offset, "weight": share}

    return FigureWidget(draw, controls, width=width, height=height)
