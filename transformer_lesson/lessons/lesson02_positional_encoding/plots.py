"""Lesson 02, positional encoding (位置编码): its figures.

Each function draws on a matplotlib `Axes` it is given (or a new figure) and returns the figure, so the
same code serves a static cell, a widget redraw and a test.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ...drawing import as_array, heatmap, new_figure
from ...i18n import translator

_ = translator("lesson02")

__all__ = ["positional_encoding_heatmap", "positional_waves", "dot_product_vs_offset", "similarity_vs_offset"]


def positional_encoding_heatmap(pe, *, ax=None, title: str | None = None):
    """The `(max_len, d_model)` table: one row per position, one column per dimension, values in [-1, 1]
    (`title` defaults to "positional encoding 位置编码")."""
    if ax is None:
        ax = new_figure(6.0, 3.5)[1]                 # a fixed size: the table can be hundreds of cells wide
    if title is None:
        title = _("positional encoding 位置编码")
    return heatmap(pe, ax=ax, title=title, xlabel=_("dimension"), ylabel=_("position"), cmap="RdBu_r",
                   vmin=-1.0, vmax=1.0)


def positional_waves(pe, dims: Sequence[int], *, ax=None, base: float = 10000.0, title: str = "",
                     points_per_position: int = 20):
    """Columns of the table as waves over the positions: each dimension's continuous sine or cosine (a line
    on a fine grid) with the table's values at the whole-number positions as dots on it.

    The dots alone would mislead: a wave 6.3 positions long gets only about six dots per turn, and lines
    drawn straight from dot to dot look like a jagged sawtooth rather than a sine.
    """
    data = as_array(pe)
    if data.ndim != 2:
        raise ValueError(_("expected a table of shape (max_len, d_model), got {shape}", shape=data.shape))
    max_len, d_model = data.shape
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not 0 <= d < d_model:
            raise ValueError(_("expected dimensions in 0..{last} (d_model={d_model}), got {d!r}",
                               last=d_model - 1, d_model=d_model, d=d))
    if ax is None:
        ax = new_figure(7.0, 3.0)[1]
    fine = np.linspace(0, max_len - 1, (max_len - 1) * points_per_position + 1)   # between the positions too
    positions = np.arange(max_len)
    for d in dims:
        omega = base ** (-(d - d % 2) / d_model)                 # the pair's angular frequency (radians per position)
        kind, wave = ("sin", np.sin) if d % 2 == 0 else ("cos", np.cos)
        line, = ax.plot(fine, wave(omega * fine), linewidth=1.2,
                        label=_("dim {d} ({kind}, wavelength {wavelength:.1f})", d=d, kind=kind,
                                wavelength=2 * np.pi / omega))
        ax.plot(positions, data[:, d], "o", markersize=3.5, color=line.get_color())   # the table's values
    ax.set_xlabel(_("position (dots: the whole-number positions the table holds)"))
    ax.set_ylabel(_("value"))
    ax.set_ylim(-1.1, 1.1)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax.figure


def dot_product_vs_offset(pe, start_positions: Sequence[int] = (0, 10, 20), *, ax=None, title: str = ""):
    """PE(p) · PE(p + k) against the offset k, one curve per starting position p: the curves coincide."""
    data = as_array(pe)
    if ax is None:
        ax = new_figure(6.0, 3.0)[1]
    styles = ("-", "--", ":", "-.")
    for n, p in enumerate(start_positions):
        k = np.arange(data.shape[0] - p)
        ax.plot(k, data[p + k] @ data[p], styles[n % len(styles)], linewidth=2.5 - 0.5 * (n % 3),
                label=f"p = {p}")
    ax.set_xlabel(_("offset k"))
    ax.set_ylabel("PE(p) · PE(p + k)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax.figure


def similarity_vs_offset(results: Sequence[dict], *, ax=None, title: str = ""):
    """Cosine similarity of PE(0) and PE(k) against the offset k, one curve per d_model (results of
    `experiments.pe_similarity_by_offset`), each with its first rise marked: there one step farther is
    more similar."""
    if ax is None:
        ax = new_figure(6.5, 3.0)[1]
    for result in results:
        similarity = np.asarray(result["similarity"])
        line, = ax.plot(np.arange(similarity.size), similarity, label=f"d_model = {result['d_model']}")
        k = result["first_rise"]
        if k is not None:
            ax.plot([k, k + 1], similarity[[k, k + 1]], "o", markersize=5, color=line.get_color())
    ax.set_xlabel(_("offset k"))
    ax.set_ylabel("PE(0)·PE(k) / |PE|²")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax.figure
