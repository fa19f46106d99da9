"""Lesson 04, residual connections and layer normalisation (残差连接和层归一化): the picture the lesson opens with."""
from __future__ import annotations

from ...drawing import PALETTE, arrow, box, diagram_figure, label, plus_circle, polyline
from ...i18n import N_, translator

_ = translator("lesson04")

__all__ = ["residual_stream"]

BOX_W, BOX_H = 2.0, 0.5
NORM = N_("LayerNorm 层归一化")


def _branch(ax, hx: float, bx: float, leave: float, boxes: list[tuple[float, str, str]], join: float) -> None:
    """A sub-layer on the side: leave the highway at `leave`, go through `boxes` (centre y, text, fill), and
    come back to a plus at `join`."""
    first, last = boxes[0][0], boxes[-1][0]
    polyline(ax, [(hx, leave), (bx, leave), (bx, first - BOX_H / 2)])
    for (y0, _, _), (y1, _, _) in zip(boxes, boxes[1:]):
        arrow(ax, (bx, y0 + BOX_H / 2), (bx, y1 - BOX_H / 2))
    for y, text, fill in boxes:
        box(ax, bx, y, BOX_W, BOX_H, text, fill=fill)
    polyline(ax, [(bx, last + BOX_H / 2), (bx, join), (hx + 0.15, join)])
    plus_circle(ax, hx, join)


def _highway(ax, hx: float, y0: float, y1: float) -> None:
    """The residual stream: a thick straight grey line from the input to the output."""
    ax.plot([hx, hx], [y0, y1 - 0.15], color=PALETTE["residual"], linewidth=7, solid_capstyle="butt", zorder=0.5)
    arrow(ax, (hx, y1 - 0.2), (hx, y1), color=PALETTE["residual"], linewidth=7, head_size=22, zorder=0.5)
    label(ax, hx - 0.3, y0 + 0.95, _("residual stream\n残差流"), rotation=90, size=9.5, color="#555555")


def residual_stream():
    """The residual stream of one encoder layer, Post-LN (x + sublayer(x), then LayerNorm, as the 2017 paper)
    beside Pre-LN (x + sublayer(LayerNorm(x))), the identity path drawn as a straight grey highway.
    Returns the Figure."""
    fig, ax = diagram_figure(9.5, 7.8,
                             title=_("The residual stream: where LayerNorm sits (残差流：层归一化的位置)"))
    attention, ffn = _("Multi-head attention\n多头注意力"), _("Feed-forward network\n前馈网络 (FFN)")
    norm = _(NORM)

    # Post-LN: the LayerNorms sit on the highway itself
    hx, bx = 1.5, 3.6
    label(ax, 2.55, 6.95, _("Post-LN (the 2017 paper) 后置层归一化"), size=11)
    _highway(ax, hx, 1.35, 6.55)
    _branch(ax, hx, bx, 1.75, [(2.45, attention, PALETTE["attention"])], 3.15)
    box(ax, hx, 3.7, 1.9, 0.45, norm, fill=PALETTE["norm"], zorder=3)
    _branch(ax, hx, bx, 4.25, [(4.95, ffn, PALETTE["ffn"])], 5.65)
    box(ax, hx, 6.15, 1.9, 0.45, norm, fill=PALETTE["norm"], zorder=3)

    # Pre-LN: the highway is clean; LayerNorm is the first box of each branch
    hx2, bx2 = 6.3, 8.4
    label(ax, 7.3, 6.95, _("Pre-LN (GPT-2 and many later models) 前置层归一化"), size=11)
    _highway(ax, hx2, 1.35, 6.55)
    _branch(ax, hx2, bx2, 1.75, [(2.25, norm, PALETTE["norm"]), (3.0, attention, PALETTE["attention"])], 3.55)
    _branch(ax, hx2, bx2, 3.95, [(4.45, norm, PALETTE["norm"]), (5.2, ffn, PALETTE["ffn"])], 5.75)
    box(ax, hx2, 6.2, 1.9, 0.4, _("final {norm}", norm=norm), fill=PALETTE["norm"], linestyle="--", zorder=3, size=9)
    label(ax, 7.3, 6.65, _("(dashed: once, after the last layer of the stack)"), size=9, color="#555555")

    for x in (hx, hx2):
        label(ax, x, 1.15, _("x (the layer's input)"), size=9.5)
    label(ax, 2.55, 0.5, _("x ← LayerNorm(x + Sublayer(x))\nthe stream itself passes through\n2 LayerNorms "
                            "per layer"), size=9.5)
    label(ax, 7.3, 0.5, _("x ← x + Sublayer(LayerNorm(x))\nthe stream is only added to (an identity path 恒等路径);\n"
                            "LayerNorm sits on the branches"), size=9.5)
    return fig
