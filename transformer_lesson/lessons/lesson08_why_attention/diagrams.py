"""Lesson 08, why attention (为什么用注意力): the picture the lesson opens with."""
from __future__ import annotations

from typing import Sequence

from ...drawing import PALETTE, arrow, box, diagram_figure, label
from ...i18n import translator

_ = translator("lesson08")

__all__ = ["paths"]

WORDS = ("I", "am", "a", "student", "at", "school")


def paths(words: Sequence[str] = WORDS):
    """A GRU reads one word per step (T steps one after another; the first word reaches the last state through
    T - 1 hops) beside self-attention (every position connected to every other in one step: 1 step, 1 hop).
    Returns the Figure."""
    words = [str(w) for w in words]
    T = len(words)
    if not 2 <= T <= 8:
        raise ValueError(_("expected 2 to 8 words to draw, got {T}", T=T))
    fig, ax = diagram_figure(9.5, 6.5, title=_("Why attention: sequential steps and path length (为什么用注意力)"))
    spacing = 8.0 / T
    xs = [1.35 + spacing * (i + 0.5) - spacing / 2 for i in range(T)]
    bw, bh = min(0.95, 0.75 * spacing), 0.42
    hot, cold = PALETTE["highlight"], PALETTE["ink"]          # the first word's path, the rest

    # the GRU: word t enters state t, which hands everything it knows to state t + 1
    label(ax, 4.75, 5.55, _('GRU (循环神经网络): one word per step, {T} steps one after another; '
                            '"{word}" reaches the last state through T − 1 = {hops} hops', T=T, word=words[0], hops=T - 1),
          size=10)
    y_in, y_state = 3.45, 4.55
    label(ax, 0.15, y_in, _("input\n输入"), ha="left", size=9.5)
    label(ax, 0.15, y_state, _("state\n状态"), ha="left", size=9.5)
    for i, (x, word) in enumerate(zip(xs, words)):
        box(ax, x, y_in, bw, bh, word, fill=PALETTE["embedding"])
        box(ax, x, y_state, bw, bh, f"h{i + 1}", fill=PALETTE["attention"], edge=hot, linewidth=2.0)
        label(ax, x, y_state + 0.45, _("step {n}", n=i + 1), size=9, color="#555555")
        arrow(ax, (x, y_in + bh / 2), (x, y_state - bh / 2), color=hot if i == 0 else cold,
              linewidth=2.2 if i == 0 else 1.2)
        if i:
            arrow(ax, (xs[i - 1] + bw / 2, y_state), (x - bw / 2, y_state), color=hot, linewidth=2.2)
            label(ax, (xs[i - 1] + x) / 2, y_state + 0.2, _("hop {n}", n=i), size=9, color=hot)

    # self-attention: every output looks at every input directly, all outputs at once
    ax.plot([0.15, 9.35], [3.02, 3.02], color=PALETTE["muted"], linewidth=0.8)
    label(ax, 4.75, 2.75, _('Self-attention (自注意力): all {T} positions in 1 step; '
                            '"{word}" reaches every output in 1 hop', T=T, word=words[0]), size=10)
    y_in2, y_out = 0.85, 2.1
    label(ax, 0.15, y_in2, _("input\n输入"), ha="left", size=9.5)
    label(ax, 0.15, y_out, _("output\n输出"), ha="left", size=9.5)
    for i, x_out in enumerate(xs):
        for j, x_in in enumerate(xs):
            if j != 0 or i != T - 1:
                ax.plot([x_in, x_out], [y_in2 + bh / 2, y_out - bh / 2], color=PALETTE["muted"], linewidth=0.8,
                        zorder=1)
    arrow(ax, (xs[0], y_in2 + bh / 2), (xs[-1], y_out - bh / 2), color=hot, linewidth=2.4, zorder=1.5)
    for x, word in zip(xs, words):
        box(ax, x, y_in2, bw, bh, word, fill=PALETTE["embedding"])
        box(ax, x, y_out, bw, bh, "", fill=PALETTE["attention"], edge=hot if x == xs[-1] else cold,
            linewidth=2.0 if x == xs[-1] else 1.2)
    label(ax, 4.75, 0.3, _("sequential steps 顺序步数: GRU T = {T}, attention 1   ·   "
                           "longest path 最长路径: GRU T − 1 = {hops}, attention 1", T=T, hops=T - 1), size=10)
    return fig
