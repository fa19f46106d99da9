"""Lesson 03, multi-head attention (多头注意力): its figures.

Each function draws on a matplotlib `Axes` it is given (or a new figure) and returns the figure, so the
same code serves a static cell, a widget redraw and a test.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from ...drawing import as_array, heatmap
from ...i18n import translator

_ = translator("lesson03")

__all__ = ["head_attention_grid", "mark_offset"]


def head_attention_grid(weights, tokens: Sequence[str], *, fig=None, titles: Sequence[str] | None = None,
                        annotate: bool = False, vmax: float | None = 1.0, colorbar: bool = True):
    """Every head's `(T, T)` attention weights side by side, from `weights` of shape `(h, T, T)`.

    The colour scale runs from 0 to `vmax` (1 by default; `None`: the largest weight shown, so that
    faint untrained patterns stay visible), shown by one colour bar on the right (`colorbar=False`: none)."""
    w = as_array(weights)
    if w.ndim != 3 or w.shape[1:] != (len(tokens), len(tokens)):
        raise ValueError(_("expected weights of shape (h, T, T) with T={T} tokens, got {shape}",
                           T=len(tokens), shape=w.shape))
    h = w.shape[0]
    if titles is not None and len(titles) != h:
        raise ValueError(_("expected {h} titles, one per head, got {n}", h=h, n=len(titles)))
    if fig is None:
        fig = Figure(figsize=(2.3 * h + 0.5, 2.9), dpi=80, layout="constrained")
    top = float(w.max()) if vmax is None else float(vmax)
    rotation = 90 if max(len(str(t)) for t in tokens) > 3 else 0
    axes = fig.subplots(1, h, squeeze=False)[0]
    for i, ax in enumerate(axes):
        heatmap(w[i], tokens, tokens if i == 0 else None, ax=ax, cmap="Blues", vmin=0.0, vmax=top,
                annotate=annotate, colorbar=False, title=titles[i] if titles else _("head {i}", i=i))
        ax.tick_params(axis="x", labelrotation=rotation, labelsize=8)
        ax.tick_params(axis="y", labelsize=8)
        if i:
            ax.set_yticks([])
    axes[0].set_ylabel(_("query"))
    fig.supxlabel(_("key"), fontsize=9)
    if colorbar:
        fig.colorbar(axes[-1].images[0], ax=list(axes), shrink=0.8, label=_("weight"))
    return fig


def mark_offset(ax, offset: int, size: int, *, color: str = "tab:orange"):
    """Outline, on a `(T, T)` attention heatmap drawn on `ax`, the cells where key = query + `offset`:
    the diagonal stripe that a head looking `offset` words away fills. One line artist (cheap to redraw)."""
    xs, ys = [], []
    for t in range(size):
        if 0 <= t + offset < size:
            left, top = t + offset - 0.5, t - 0.5
            xs += [left, left + 1, left + 1, left, left, np.nan]
            ys += [top, top, top + 1, top + 1, top, np.nan]
    ax.plot(xs, ys, color=color, linewidth=2.0)
    return ax.figure
