"""Lesson 02, positional encoding (位置编码): its figures.

Each function draws on a matplotlib `Axes` it is given (or a new figure) and returns the figure, so the
same code serves a static cell, a widget redraw and a test.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ...drawing import as_array, heatmap, new_figure

__all__ = ["positional_encoding_heatmap", "positional_waves", "dot_product_vs_offset"]


def positional_encoding_heatmap(pe, *, ax=None, title: str = "positional encoding 位置编码"):
    """The `(max_len, d_model)` table: one row per position, one column per dimension, values in [-1, 1]."""
    if ax is None:
        _, ax = new_figure(6.0, 3.5)                 # a fixed size: the table can be hundreds of cells wide
    return heatmap(pe, ax=ax, title=title, xlabel="dimension", ylabel="position", cmap="RdBu_r",
                   vmin=-1.0, vmax=1.0)


def positional_waves(pe, dims: Sequence[int], *, ax=None, base: float = 10000.0, title: str = ""):
    """Columns of the table as curves over the positions: each dimension is a wave of its own wavelength."""
    data = as_array(pe)
    max_len, d_model = data.shape
    if ax is None:
        _, ax = new_figure(7.0, 3.0)
    for d in dims:
        wavelength = 2 * np.pi * base ** ((d - d % 2) / d_model)
        kind = "sin" if d % 2 == 0 else "cos"
        ax.plot(range(max_len), data[:, d], label=f"dim {d} ({kind}, wavelength {wavelength:.1f})")
    ax.set_xlabel("position")
    ax.set_ylabel("value")
    ax.set_ylim(-1.1, 1.1)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax.figure


def dot_product_vs_offset(pe, start_positions: Sequence[int] = (0, 10, 20), *, ax=None, title: str = ""):
    """PE(p) · PE(p + k) against the offset k, one curve per starting position p: the curves coincide."""
    data = as_array(pe)
    if ax is None:
        _, ax = new_figure(6.0, 3.0)
    styles = ("-", "--", ":", "-.")
    for n, p in enumerate(start_positions):
        k = np.arange(data.shape[0] - p)
        ax.plot(k, data[p + k] @ data[p], styles[n % len(styles)], linewidth=2.5 - 0.5 * (n % 3),
                label=f"p = {p}")
    ax.set_xlabel("offset k")
    ax.set_ylabel("PE(p) · PE(p + k)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax.figure
