"""Lesson 01, self-attention (自注意力): its figures.

Each function draws on a matplotlib `Axes` it is given (or a new figure) and returns the figure, so the
same code serves a static cell, a widget redraw and a test.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator

from ...drawing import as_array, attention_heatmap, mask_heatmap, new_figure
from ...i18n import N_, translator

_ = translator("lesson01")

__all__ = [
    "mask_heatmap", "attention_heatmap", "attention_row_bars", "softmax_scaling_bars", "saturation_curves",
]


def attention_row_bars(weights_row, key_tokens: Sequence[str], *, ax=None, title: str = ""):
    """One query's attention weights as bars over the keys (they sum to 1); the largest is orange."""
    w = as_array(weights_row).reshape(-1)
    if len(key_tokens) != w.size:
        raise ValueError(_("expected {n} key tokens to match the weights, got {got}", n=w.size, got=len(key_tokens)))
    if ax is None:
        ax = new_figure(max(3.0, 0.7 * w.size + 1.5), 3.0)[1]
    top = int(np.argmax(w))
    ax.bar(range(w.size), w, color=["tab:orange" if i == top else "tab:blue" for i in range(w.size)])
    for i, v in enumerate(w):
        ax.text(i, v + 0.02, f"{v:.2f}", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(range(w.size))
    ax.set_xticklabels(list(key_tokens))
    ax.set_ylim(0.0, 1.1)
    ax.set_xlabel(_("key (attended to)"))
    ax.set_ylabel(_("weight"))
    ax.set_title(title)
    return ax.figure


def softmax_scaling_bars(unscaled, scaled, *, ax=None, title: str = ""):
    """Softmax weights of one query over its keys without and with the 1/sqrt(d_k) scale, side by side."""
    u, s = as_array(unscaled).reshape(-1), as_array(scaled).reshape(-1)
    if ax is None:
        ax = new_figure(4.0, 3.0)[1]
    x = np.arange(u.size)
    # thick vertical lines, one collection per series: a slider redraw stays fast with many keys
    ax.vlines(x - 0.17, 0.0, u, colors="tab:red", linewidth=5, label=_("without 1/sqrt(d_k)"))
    ax.vlines(x + 0.17, 0.0, s, colors="tab:blue", linewidth=5, label=_("with 1/sqrt(d_k)"))
    ax.set_xlim(-0.7, u.size - 0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0.0, 1.05)
    ax.set_yticks([0.0, 0.5, 1.0])                       # few ticks: each tick label costs a slider redraw time
    ax.set_xlabel(_("key"))
    ax.set_ylabel(_("softmax weight"))
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left")
    return ax.figure


QUANTITIES = {  # what saturation_curves can draw: (axis label, panel title)
    "top_weight": (N_("largest softmax weight (mean)"), N_("weight on the top key 最大权重")),
    "grad": (N_("size of d softmax / d scores"), N_("gradient size 梯度大小")),
}


def saturation_curves(rows: Sequence[dict], quantity: str = "top_weight", *, ax=None, mark_d_k: int | None = None,
                      legend: bool = True):
    """Against d_k, without (red) and with (blue) the 1/sqrt(d_k) scale: the mean largest softmax weight
    (`quantity="top_weight"`, rows from `experiments.softmax_saturation`; dashed lines at 1/n_keys, uniform
    weights, and at 1, all on one key) or the gradient size (`"grad"`, rows from `experiments.softmax_gradient`).
    A dotted line marks `mark_d_k`; `legend=False` leaves out the legend (a widget shows it in its other panel)."""
    if quantity not in QUANTITIES:
        raise ValueError(_("expected quantity to be one of {names}, got {quantity!r}", names=sorted(QUANTITIES),
                           quantity=quantity))
    if ax is None:
        ax = new_figure(4.0, 3.0)[1]
    d_ks = [r["d_k"] for r in rows]
    ax.plot(d_ks, [r[f"{quantity}_unscaled"] for r in rows], "o-", color="tab:red", label=_("without 1/sqrt(d_k)"))
    ax.plot(d_ks, [r[f"{quantity}_scaled"] for r in rows], "s-", color="tab:blue", label=_("with 1/sqrt(d_k)"))
    if quantity == "top_weight":
        for level, words in ((1.0 / rows[0]["n_keys"], N_("all equal")), (1.0, N_("all on one key"))):
            ax.axhline(level, color="grey", linestyle="--", linewidth=1)
            ax.text(d_ks[0], level + 0.02, _(words), color="grey", fontsize=8, va="bottom")
    if mark_d_k is not None:
        ax.axvline(mark_d_k, color="black", linestyle=":", linewidth=1)
    ax.set_xscale("log", base=2)
    ticks = d_ks[:: max(1, len(d_ks) // 5)]
    ax.set_xticks(ticks, [str(d) for d in ticks])        # plain labels: faster than the log formatter's maths text
    ax.minorticks_off()
    ax.yaxis.set_major_locator(MaxNLocator(4))
    ax.set_ylim(0.0, 1.12 if quantity == "top_weight" else None)
    ax.set_xlabel("d_k")
    ax.set_ylabel(_(QUANTITIES[quantity][0]))
    ax.set_title(_(QUANTITIES[quantity][1]))
    if legend:
        ax.legend(fontsize=8, loc="center right" if quantity == "top_weight" else "lower left")  # where no curve runs
    return ax.figure
