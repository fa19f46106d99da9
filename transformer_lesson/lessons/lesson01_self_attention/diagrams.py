"""Lesson 01, self-attention (自注意力): the picture the lesson opens with."""
from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from ...drawing import PALETTE, arrow, box, diagram_figure, label, tint
from ...i18n import translator

_ = translator("lesson01")

__all__ = ["qkv_lookup"]

# A made-up example: the query of "student" against the keys of "I am a student" (scores q·k), and a
# 2-number value per word. Softmax of these scores gives weights whose two-decimal roundings add up to 1.
WORDS = ("I", "am", "a", "student")
SCORES = (0.6, -0.2, 0.1, 2.2)
VALUES = ((1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (0.0, 2.0))


def qkv_lookup():
    """Attention as a soft dictionary lookup: one query is compared with every key (scores), softmax turns the
    scores into weights that sum to 1, and the output is the weighted sum of the values. Returns the Figure."""
    scores = np.array(SCORES)
    weights = np.exp(scores) / np.exp(scores).sum()
    values = np.array(VALUES)
    output = weights @ values                                          # (4,) @ (4, 2) -> (2,)
    fig, ax = diagram_figure(9.5, 6.2, title=_("Attention as a soft dictionary lookup (注意力：软性的字典查询)"))
    label(ax, 4.75, 5.6, _('Self-attention of "I am a student": the word "student" asks which words matter to it '
                           "(made-up numbers)"), size=10, color="#444444")

    rows = [4.35 - 0.7 * i for i in range(len(WORDS))]
    x_key, x_score, x_bar, x_value, x_out = 2.55, 3.6, 4.25, 6.6, 8.55
    top = 5.0
    label(ax, 0.8, top, _("query 查询"), color=PALETTE["query"])
    label(ax, x_key, top, _("keys 键"), color=PALETTE["key"])
    label(ax, x_score, top, _("① score\nq ⋅ k"))
    label(ax, x_bar + 0.65, top, _("② softmax →\nweight 权重"))
    label(ax, x_value, top, _("values 值"), color=PALETTE["value"])
    label(ax, x_out, top, _("③ weighted sum\n加权求和"))

    mid = float(np.mean(rows))
    box(ax, 0.8, mid, 1.3, 0.75, _('q of\n"student"'), fill=tint(PALETTE["query"]), edge=PALETTE["query"])
    box(ax, x_out, mid, 1.6, 1.15, _("output 输出\n= Σ weight × value\n= [{a:.2f}, {b:.2f}]", a=output[0], b=output[1]),
        fill=tint(PALETTE["highlight"], 0.85), edge=PALETTE["highlight"])
    for y, word, s, w, v in zip(rows, WORDS, scores, weights, values):
        arrow(ax, (1.45, mid), (x_key - 0.47, y), color=PALETTE["query"], linewidth=1.0)
        box(ax, x_key, y, 0.9, 0.42, word, fill=tint(PALETTE["key"]), edge=PALETTE["key"])
        label(ax, x_score, y, f"{s:+.1f}")
        ax.add_patch(Rectangle((x_bar, y - 0.13), 1.0 * w, 0.26, facecolor=PALETTE["highlight"], edgecolor="none"))
        label(ax, x_bar + 1.0 * w + 0.06, y, f"{w:.2f}", ha="left")
        label(ax, x_value - 0.78, y, "×", size=12)
        box(ax, x_value, y, 1.05, 0.42, f"[{v[0]:.0f}, {v[1]:.0f}]", fill=tint(PALETTE["value"]),
            edge=PALETTE["value"])
        arrow(ax, (x_value + 0.53, y), (x_out - 0.81, mid + (y - mid) * 0.35), color=PALETTE["value"], linewidth=1.0)
    label(ax, x_bar + 0.65, rows[-1] - 0.45, _("sum = {total:.0f}", total=weights.sum()), color="#444444")
    label(ax, x_score, rows[-1] - 0.5, _("(÷ √d_k in the\nfull formula)"), size=9, color="#444444")

    # the difference with a Python dict, in one line each
    box(ax, 2.55, 0.85, 4.7, 1.05, "", fill="#F4F4F4", edge=PALETTE["muted"])
    label(ax, 0.35, 1.18, _("Hard dictionary 字典: d[\"student\"]"), ha="left")
    label(ax, 0.35, 0.72, _("picks exactly one key: weights 0, 0, 0, 1\n→ returns that one value"), ha="left")
    box(ax, 7.2, 0.85, 4.3, 1.05, "", fill=tint(PALETTE["highlight"], 0.9), edge=PALETTE["highlight"])
    label(ax, 5.2, 1.18, _("Attention 注意力: a soft lookup"), ha="left")
    label(ax, 5.2, 0.72, _("weights {weights}\n→ blends all values", weights=", ".join(f"{w:.2f}" for w in weights)),
          ha="left")
    return fig
