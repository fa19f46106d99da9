"""Lesson 05, the position-wise feed-forward network (位置感知前馈网络): its figures.

Each function draws on a matplotlib `Axes` it is given (or a new figure) and returns the figure, so the
same code serves a static cell, a widget redraw and a test.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ...drawing import as_array, heatmap, new_figure
from ...i18n import N_, translator

_ = translator("lesson05")

__all__ = ["hidden_activation_heatmap", "change_per_position_bars", "parameter_split_bars", "flop_split_bars"]

LAYER_NAMES = (N_("encoder layer"), N_("decoder layer"))   # the row names of experiments.layer_parameter_split


def hidden_activation_heatmap(hidden, tokens: Sequence[str], *, ax=None, title: str = N_("hidden activations"),
                              limit: float | None = None):
    """Hidden activations `(T, d_ff)`: positions down, hidden units across. White is exactly 0, red positive,
    blue negative, on a colour scale symmetric around 0 (`limit` fixes it, e.g. to compare two panels)."""
    h = as_array(hidden)
    if h.ndim != 2 or h.shape[0] != len(tokens):
        raise ValueError(_("expected hidden activations of shape (T, d_ff) with T={n} tokens, got {shape}",
                           n=len(tokens), shape=h.shape))
    lim = float(limit) if limit is not None else max(float(np.abs(h).max()), 1e-6)
    if ax is None:
        ax = new_figure(7.0, 0.35 * len(tokens) + 1.5)[1]
    heatmap(h, None, tokens, ax=ax, cmap="bwr", vmin=-lim, vmax=lim, title=_(title),
            xlabel=_("hidden unit (d_ff = {d_ff})", d_ff=h.shape[1]), ylabel=_("position"))
    return ax.figure


def change_per_position_bars(changes: dict, tokens: Sequence[str], *, ax=None,
                             title: str = N_("how much each position's output changed")):
    """Grouped bars: for each named layer (e.g. FFN, self-attention), the change of every position's output."""
    if ax is None:
        ax = new_figure(5.5, 3.0)[1]
    names = list(changes)
    width = 0.8 / max(len(names), 1)
    x = np.arange(len(tokens))
    for n, name in enumerate(names):
        values = as_array(changes[name]).reshape(-1)
        if values.size != len(tokens):
            raise ValueError(_("expected {n} changes for {name!r}, one per token, got {size}",
                               n=len(tokens), name=name, size=values.size))
        bars = ax.bar(x + (n - (len(names) - 1) / 2) * width, values, width=width, label=name)
        for bar, v in zip(bars, values):
            if v == 0:
                ax.text(bar.get_x() + bar.get_width() / 2, 0.0, "0", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x)
    ax.set_xticklabels(list(tokens))
    ax.set_ylabel(_("max |change| of the output"))
    ax.set_title(_(title))
    ax.legend(fontsize=8)
    return ax.figure


def parameter_split_bars(rows: Sequence[dict], *, ax=None, title: str = N_("where a layer's parameters are")):
    """Stacked horizontal bars, one per layer, split into attention / FFN / LayerNorm
    (rows from `experiments.layer_parameter_split`), each part labelled with its share."""
    if ax is None:
        ax = new_figure(6.5, 0.6 * len(rows) + 1.6)[1]
    parts = (("attention", _("attention"), "tab:blue"), ("ffn", _("FFN"), "tab:orange"),
             ("layer_norm", _("LayerNorm"), "tab:green"))
    for y, row in enumerate(rows):
        left = 0.0
        for key, label, colour in parts:
            value = row[key] / 1e6
            ax.barh(y, value, left=left, color=colour, label=label if y == 0 else None)
            share = row[key] / row["total"]
            if share > 0.05:
                ax.text(left + value / 2, y, f"{share:.0%}", ha="center", va="center", color="white", fontsize=9)
            left += value
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([_(row["layer"]) for row in rows])
    ax.invert_yaxis()
    ax.set_xlabel(_("parameters (millions)"))
    ax.set_title(_(title))
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=3, frameon=False)
    return ax.figure


def flop_split_bars(rows: Sequence[dict], *, ax=None, title: str = N_("where a layer's arithmetic goes")):
    """Stacked horizontal bars, one per sentence length T, each split into the shares of attention and FFN
    in the layer's FLOPs (rows from `experiments.layer_flops`), with a line at one half."""
    if ax is None:
        ax = new_figure(6.5, 0.45 * len(rows) + 1.6)[1]
    for y, row in enumerate(rows):
        total = row["attention"] + row["ffn"]
        left = 0.0
        for key, label, colour in (("attention", _("attention"), "tab:blue"), ("ffn", _("FFN"), "tab:orange")):
            share = row[key] / total
            ax.barh(y, share, left=left, color=colour, label=label if y == 0 else None)
            if share > 0.08:
                ax.text(left + share / 2, y, f"{share:.0%}", ha="center", va="center", color="white", fontsize=9)
            left += share
    ax.axvline(0.5, color="black", linewidth=0.8, linestyle="--")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"T = {row['length']:,}" for row in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(_("share of the layer's FLOPs (matrix products)"))
    ax.set_title(_(title))
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=2, frameon=False)
    return ax.figure
