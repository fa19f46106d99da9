"""Lesson 05, the position-wise feed-forward network (位置感知前馈网络): its interactive controls.

Each is a `drawing.FigureWidget`: controls above a figure that is redrawn on every change, with a
caption saying what it shows.
"""
from __future__ import annotations

import ipywidgets as ipw
import torch

from ...drawing import FigureWidget
from ...i18n import translator
from . import experiments, plots

_ = translator("lesson05")

__all__ = ["ffn_hidden_widget"]


def ffn_hidden_widget(x, tokens, *, d_ff_options=(16, 32, 64, 128, 256), d_ff: int = 64, activation: str = "relu",
                      seed: int = 0, width: float = 8.0, height: float = 3.0) -> FigureWidget:
    """A d_ff slider and an activation dropdown over the hidden activations `activation(x W1^T + b1)`,
    `(T, d_ff)`, of a seeded FFN on the sentence `x` `(T, d_model)`; the caption counts the zeros."""
    x = torch.as_tensor(x).detach()
    if x.dim() != 2 or x.size(0) != len(tokens):
        raise ValueError(_("expected x of shape (T, d_model) with T={n} tokens, got {shape}",
                           n=len(tokens), shape=tuple(x.shape)))
    controls = {"d_ff": ipw.SelectionSlider(options=[int(d) for d in d_ff_options], value=d_ff, description="d_ff"),
                "activation": ipw.Dropdown(options=["relu", "gelu"], value=activation, description=_("activation"))}

    def draw(fig, d_ff, activation):
        ffn = experiments.seeded_feed_forward(x.size(-1), d_ff, activation, seed)
        with torch.no_grad():
            hidden = ffn.activation(ffn.linear1(x))                      # (T, d_model) -> (T, d_ff)
        stats = experiments.hidden_activation_stats(hidden)
        fig.set_layout_engine(None)     # fixed margins: no layout engine, so savefig draws once, not twice
        ax = fig.add_subplot(fig.add_gridspec(1, 1, left=0.11, right=1.0, bottom=0.17, top=0.9)[0])
        plots.hidden_activation_heatmap(hidden, tokens, ax=ax,
                                        title=_("{activation}(x W1 + b1): {n} positions × {d_ff} hidden units",
                                                activation=activation, n=len(tokens), d_ff=d_ff))
        if activation == "relu":
            caption = _("ReLU, d_ff = {d_ff}: {zero:.0%} of the {numel} hidden activations are exactly 0 (white): "
                        "those units are switched off for that word.",
                        d_ff=d_ff, zero=stats["zero_fraction"], numel=hidden.numel())
        else:
            caption = _("GELU, d_ff = {d_ff}: {zero:.0%} are exactly 0; {negative:.0%} are small negatives (down "
                        "to {low:.2f}), where ReLU would give 0.",
                        d_ff=d_ff, zero=stats["zero_fraction"], negative=stats["negative_fraction"], low=stats["min"])
        return caption, {"d_ff": d_ff, "activation": activation, **stats}

    return FigureWidget(draw, controls, width=width, height=height)
