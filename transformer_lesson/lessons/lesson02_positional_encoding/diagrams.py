"""Lesson 02, positional encoding (位置编码): the picture the lesson opens with."""
from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle

from ...drawing import PALETTE, cells, diagram_figure, font_families, label
from ...i18n import translator

__all__ = ["positions_added"]

_ = translator("lesson02")

WORDS = ("a", "cat", "and", "a", "dog")      # the word "a" at positions 0 and 3
D_MODEL = 8                                  # so the wavelengths are 2π·1, 2π·10, 2π·100, 2π·1000
SLOW = "#882255"                             # the slower waves: a darker shade of the position colour


def _encoding(positions, d_model: int = D_MODEL) -> np.ndarray:
    """PE(p, 2i) = sin(p / 10000^(2i/d_model)), PE(p, 2i+1) = cos(the same): (len(positions), d_model)."""
    p = np.asarray(positions, dtype=float)[:, None]
    angle = p / 10000.0 ** (np.arange(0, d_model, 2) / d_model)          # (T, d_model / 2)
    pe = np.empty((p.shape[0], d_model))
    pe[:, 0::2], pe[:, 1::2] = np.sin(angle), np.cos(angle)
    return pe


def _matrix(ax, x: float, top: float, values: np.ndarray, norm, cmap, cell=(0.4, 0.22)):
    """`values` (T, d) drawn as d rows by T columns, each cell coloured and printed to one decimal."""
    grid = values.T                                                       # (d, T): a column per position
    cells(ax, x, top, [[cmap(norm(v)) for v in row] for row in grid], cell=cell)
    for (i, j), v in np.ndenumerate(grid):
        r, g, b, _ = cmap(norm(v))
        dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
        label(ax, x + (j + 0.5) * cell[0], top - (i + 0.5) * cell[1], f"{round(v, 1) + 0.0:.1f}",
              size=9, color="white" if dark else PALETTE["ink"])
    return cell[0] * grid.shape[1]


def positions_added():
    """Token embedding + positional encoding = the input the model sees: sine and cosine waves of different
    frequencies, sampled at positions 0..T-1, give every position its own vector, so the same word at two
    positions reaches the model as two different vectors. Returns the Figure."""
    T = len(WORDS)
    embedding = np.round(np.random.default_rng(4).uniform(-1.0, 1.0, size=(T, D_MODEL)), 1)
    embedding[3] = embedding[0]                                           # one row per word: both "a" alike
    pe = _encoding(range(T))
    fig, ax = diagram_figure(9.5, 7.2, title=_("Token embedding + positional encoding = what the model sees "
                                                "(词元嵌入 + 位置编码)"))

    # the waves: continuous curves, with the values the encoding takes at positions 0..T-1 marked
    waves = fig.add_axes((0.9 / 9.5, 4.7 / 7.2, 4.8 / 9.5, 1.55 / 7.2))     # in inches: x 0.9, y 4.7, 4.8 x 1.55
    p = np.linspace(-0.2, T - 0.8, 300)
    dense, sampled = _encoding(p), _encoding(range(T))
    styles = [(_("dim 0: sin(p)"), PALETTE["position"], "-"), (_("dim 1: cos(p)"), PALETTE["position"], "--"),
              (_("dim 2: sin(p / 10)"), SLOW, "-"), (_("dim 3: cos(p / 10)"), SLOW, "--")]
    for dim, (name, colour, style) in enumerate(styles):
        waves.plot(p, dense[:, dim], style, color=colour, linewidth=1.6, label=name)
        waves.plot(range(T), sampled[:, dim], "o", color=colour, markersize=5)
    waves.set_xticks(range(T))
    waves.set_yticks([-1, 0, 1])
    waves.tick_params(labelsize=9)
    waves.set_xlim(-0.3, T - 0.7)
    waves.set_ylim(-1.25, 1.25)
    waves.axhline(0.0, color=PALETTE["muted"], linewidth=0.6, zorder=0)
    waves.set_xlabel(_("position p 位置"), fontsize=10, fontfamily=font_families())
    waves.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False,
                 prop=FontProperties(family=font_families(), size=10))
    label(ax, 5.95, 4.85, _("dots: the values at p = 0..4, rows dim 0-3\nof the middle table below. Fast waves "
                            "change\nat every step, slow ones barely move;\ndims 4-7 are slower still (p / 100, "
                            "p / 1000)"),
          ha="left", va="top", size=9, color="#444444")

    # embedding + encoding = input, one column per position; the two columns of "a" outlined
    cmap, norm = colormaps["PuOr"], Normalize(-2.2, 2.2)
    top, cell = 3.0, (0.4, 0.22)
    xs = (1.0, 3.7, 6.4)
    for i in range(D_MODEL):
        label(ax, xs[0] - 0.1, top - (i + 0.5) * cell[1], _("dim {i}", i=i), ha="right", size=9)
    titles = (_("token embedding 词元嵌入\n(looked up by the word)"),
              _("positional encoding 位置编码\n(from the position only)"), _("input 模型的输入\n(their sum)"))
    heads = (WORDS, [f"p={i}" for i in range(T)], WORDS)
    notes = (_('the two "a" columns are equal'), _("columns 0 and 3 differ"), _('two different vectors for "a"'))
    for x, values, title, head, note in zip(xs, (embedding, pe, embedding + pe), titles, heads, notes):
        width = _matrix(ax, x, top, values, norm, cmap, cell)
        label(ax, x + width / 2, top + 0.72, title, size=10)
        for j, word in enumerate(head):
            label(ax, x + (j + 0.5) * cell[0], top + 0.15, word, size=9, color=PALETTE["ink"])
        for j in (0, 3):
            ax.add_patch(Rectangle((x + j * cell[0], top - D_MODEL * cell[1]), cell[0], D_MODEL * cell[1],
                                   fill=False, edgecolor=PALETTE["highlight"], linewidth=2.2, zorder=4))
        label(ax, x + width / 2, top - D_MODEL * cell[1] - 0.25, note, size=9, color=PALETTE["highlight"])
    label(ax, xs[1] - 0.33, top - D_MODEL * cell[1] / 2, "+", size=18)
    label(ax, xs[2] - 0.33, top - D_MODEL * cell[1] / 2, "=", size=18)
    label(ax, 4.75, 0.45, _("d_model = 8 here; the encoding is added, not appended: the input keeps d_model "
                            "numbers"),
          size=9, color="#444444")
    return fig
