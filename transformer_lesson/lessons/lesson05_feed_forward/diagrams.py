"""Lesson 05, the position-wise feed-forward network (位置感知前馈网络): the picture the lesson opens with."""
from __future__ import annotations

import numpy as np
from matplotlib.patches import Circle

from ...drawing import PALETTE, bracket, diagram_figure, label
from ...i18n import translator

_ = translator("lesson05")

__all__ = ["position_wise"]

WORDS = ("I", "am", "a", "student")
D_MODEL, D_FF = 3, 12            # d_ff = 4 x d_model, as in the paper (512 -> 2048)
WEIGHTS = "#A67C00"              # one colour for the one set of weights every position uses


def _layer(ax, x: float, y: float, n: int, spacing: float, fill: str) -> np.ndarray:
    """n neurons in a row centred on x; returns their x positions."""
    xs = x + (np.arange(n) - (n - 1) / 2) * spacing
    for xi in xs:
        ax.add_patch(Circle((xi, y), 0.055, facecolor=fill, edgecolor=PALETTE["ink"], linewidth=0.8, zorder=3))
    return xs


def _connect(ax, xs0, y0: float, xs1, y1: float) -> None:
    for a in xs0:
        for b in xs1:
            ax.plot([a, b], [y0, y1], color=WEIGHTS, linewidth=0.6, alpha=0.7, zorder=1)


def position_wise():
    """The same two-layer network (d_model -> d_ff with ReLU -> d_model) applied at every position on its own,
    with the same weights (one colour) and no connection between positions. Returns the Figure."""
    fig, ax = diagram_figure(9.5, 6.4, title=_("Position-wise feed-forward network: one small network, used at "
                                                "every position (位置感知前馈网络)"))
    label(ax, 4.75, 5.7, "FFN(x) = max(0, x W₁ + b₁) W₂ + b₂", size=11)
    y_in, y_hidden, y_out = 1.85, 3.2, 4.55
    centres = [2.0 + 2.0 * i for i in range(len(WORDS))]
    for t, (x, word) in enumerate(zip(centres, WORDS)):
        ins = _layer(ax, x, y_in, D_MODEL, 0.22, PALETTE["embedding"])
        hidden = _layer(ax, x, y_hidden, D_FF, 0.13, PALETTE["ffn"])
        outs = _layer(ax, x, y_out, D_MODEL, 0.22, PALETTE["output"])
        _connect(ax, ins, y_in, hidden, y_hidden)
        _connect(ax, hidden, y_hidden, outs, y_out)
        label(ax, x, y_in - 0.35, f'"{word}"', size=10)
        label(ax, x, y_in - 0.65, _("position {t}", t=t), size=9, color="#555555")
        if t:                                                     # nothing crosses from one position to the next
            ax.plot([x - 1.0, x - 1.0], [y_in - 0.2, y_out + 0.2], color=PALETTE["muted"], linewidth=1,
                    linestyle=(0, (4, 4)))
    for y, text in ((y_out, _("output 输出\nd_model")), ((y_hidden + y_out) / 2, "W₂, b₂"),
                    (y_hidden, _("hidden 隐藏层\nd_ff, ReLU")), ((y_in + y_hidden) / 2, "W₁, b₁"),
                    (y_in, _("input 输入\nd_model"))):
        label(ax, 0.15, y, text, ha="left", size=9.5, color=WEIGHTS if text.startswith("W") else PALETTE["ink"])
    bracket(ax, (centres[0] - 0.8, y_out + 0.3), (centres[-1] + 0.8, y_out + 0.3),
            _("the same W₁, b₁, W₂, b₂ at every position 每个位置用同一组权重"), side="above", color=WEIGHTS, size=10)
    label(ax, 4.75, 0.5, _("No line crosses the dashed borders: each position is computed alone, all at once.\n"
                           "Mixing information between positions is attention's job. d_ff = 4 × d_model, as in the "
                           "paper (512 → 2048)."), size=9.5, color="#444444")
    return fig
