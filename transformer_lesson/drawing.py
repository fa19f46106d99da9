"""Drawing primitives every lesson shares: figures, heatmaps, and `FigureWidget`.

- `new_figure`, `heatmap`, `attention_heatmap`, `mask_heatmap`: a lesson's plot calls one of these instead
  of twenty lines of matplotlib. Each draws on a matplotlib `Axes` it is given (or a new figure) and
  returns the figure; Chinese tokens render with the CJK font that `notebook.setup()` registers.
- `FigureWidget`: controls (sliders, dropdowns) above a picture. Each change of a control calls a plain
  `draw(fig, **values)` function that draws on a fresh matplotlib figure and returns a short caption
  saying what is shown. The figure is rendered to PNG and put in an `ipywidgets.Image`, so a test can set
  `w.controls["d_k"].value = 64` headlessly and read `w.caption` and `w.summary`, the notebook stores the
  widget's state, and no pyplot state leaks between redraws.
- Diagram parts (`diagram_figure`, `box`, `arrow`, `polyline`, `bracket`, `cells`, `badge`, `label`,
  `shape_label`, and the colours `PALETTE`, `HEAD_COLOURS`): the pictures each lesson opens with
  (`lessons/lessonNN_*/diagrams.py`) are drawn from these, on a canvas measured in inches, with one colour
  per role in every lesson (queries, keys, values, the residual path ...).
"""
from __future__ import annotations

import base64
import html
import io
import re
import time
from typing import Any, Callable, Sequence

import ipywidgets as ipw
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from ._validate import check_positive_int
from .i18n import translator
from .widget_compat import StaticView

_ = translator("common")

__all__ = ["as_array", "new_figure", "heatmap", "attention_heatmap", "mask_heatmap", "FigureWidget", "render_png",
           "png_size", "PALETTE", "HEAD_COLOURS", "TEXT_SIZE", "diagram_figure", "label", "shape_label", "box", "arrow",
           "polyline", "bracket", "cells", "badge", "plus_circle", "tint", "font_families"]


def as_array(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=float)


def new_figure(width: float = 5.0, height: float = 4.0, ncols: int = 1, nrows: int = 1, dpi: int = 80):
    """A figure not tied to pyplot (no global state, nothing leaks between widget redraws) and its axes."""
    fig = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, (axes[0, 0] if nrows * ncols == 1 else axes)


def heatmap(matrix, x_labels: Sequence[str] | None = None, y_labels: Sequence[str] | None = None, *,
            ax=None, title: str = "", xlabel: str = "", ylabel: str = "", cmap: str = "viridis",
            vmin: float | None = None, vmax: float | None = None, annotate: bool = False, colorbar: bool = True):
    """Draw a 2-D matrix with labelled rows and columns; returns the figure."""
    data = as_array(matrix)
    if data.ndim != 2:
        raise ValueError(f"expected a 2-D matrix to draw, got shape {data.shape}")
    if ax is None:
        ax = new_figure(max(3.0, 0.45 * data.shape[1] + 2), max(2.5, 0.4 * data.shape[0] + 1.5))[1]
    image = ax.imshow(data, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    for labels, set_ticks, set_labels, n in ((x_labels, ax.set_xticks, ax.set_xticklabels, data.shape[1]),
                                              (y_labels, ax.set_yticks, ax.set_yticklabels, data.shape[0])):
        if labels is not None:
            if len(labels) != n:
                raise ValueError(f"expected {n} labels to match the matrix shape {data.shape}, got {len(labels)}")
            set_ticks(range(n))
            set_labels(list(labels))
    if x_labels is not None and max((len(str(t)) for t in x_labels), default=0) > 3:
        ax.tick_params(axis="x", labelrotation=45)
    if annotate:
        for (i, j), v in np.ndenumerate(data):
            r, g, b, _alpha = image.cmap(image.norm(v))           # the cell's own colour: dark cell, white text
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, shrink=0.8)
    return ax.figure


def attention_heatmap(weights, query_tokens: Sequence[str], key_tokens: Sequence[str] | None = None, *,
                      ax=None, title: str = "attention weights", annotate: bool = True):
    """Rows are queries, columns are keys; each row sums to 1."""
    key_tokens = query_tokens if key_tokens is None else key_tokens
    return heatmap(weights, key_tokens, query_tokens, ax=ax, title=title, xlabel=_("key (attended to)"),
                   ylabel=_("query (attending)"), cmap="Blues", vmin=0.0, vmax=1.0, annotate=annotate)


def mask_heatmap(mask, query_tokens: Sequence[str] | None = None, key_tokens: Sequence[str] | None = None, *,
                 ax=None, title: str = "mask (True = may attend)"):
    """A boolean mask as a two-colour grid: filled where a query may attend to a key."""
    m = as_array(mask)
    while m.ndim > 2:
        m = m[0]
    return heatmap(m, key_tokens, query_tokens, ax=ax, title=title, xlabel=_("key"), ylabel=_("query"),
                   cmap="Greens", vmin=0.0, vmax=1.0, colorbar=False, annotate=False)


def render_png(fig: Figure, dpi: int | None = None, *, scale: int = 1, bbox_inches: str | None = None) -> bytes:
    """Render a matplotlib figure to PNG bytes (Agg, no display needed).

    `scale=2` renders twice the pixels (a "retina" image, sharp on HiDPI screens and projectors) and
    stores them with a 256-colour palette, which keeps it smaller than the plain 1x image: figures are
    flat colours, colour maps and anti-aliased text, which a palette holds without visible change.
    """
    scale = check_positive_int("scale", scale, maximum=4, because="(a larger image only makes the notebook heavier)")
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=(dpi or fig.dpi) * scale, bbox_inches=bbox_inches)
    if scale == 1:
        return buf.getvalue()
    image = Image.open(buf).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="png", optimize=True)
    return out.getvalue()


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels of PNG bytes."""
    return Image.open(io.BytesIO(png)).size


class FigureWidget(StaticView, ipw.VBox):
    """Controls above a figure that is redrawn whenever a control changes.

    `draw(fig, **values)` draws on `fig` (a fresh `matplotlib.figure.Figure`) and returns either a caption
    string or a `(caption, summary)` pair, where `summary` is a dict of the numbers shown, for tests.
    """

    def __init__(self, draw: Callable[..., Any], controls: dict[str, ipw.ValueWidget], *,
                 width: float = 6.0, height: float = 4.0, dpi: int = 80):
        self.draw_fn, self.controls = draw, dict(controls)
        self.figsize, self.dpi = (width, height), dpi
        # rendered at twice the pixels (sharp on HiDPI screens), shown at the figure's size
        self.image = ipw.Image(format="png", layout=ipw.Layout(width=f"{int(width * dpi)}px", max_width="100%"))
        self.caption_html = ipw.HTML()
        self.caption, self.summary, self.renders, self.last_render_seconds = "", {}, 0, 0.0
        super().__init__([ipw.HBox(list(self.controls.values()), layout=ipw.Layout(flex_flow="row wrap")),
                          self.image, self.caption_html])
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.refresh()

    def _static_view(self):
        """The live widget, plus its current view as an ordinary PNG and its caption as text.

        A live front end (JupyterLab, Colab, VS Code) shows the widget; a static view of the stored
        notebook (GitHub, nbviewer, a website, nbconvert) has no widget to run, and shows the figure and
        the caption of the widget's first view instead (`widget_compat.StaticView` adds these to the
        widget's bundle under ipywidgets 7 and 8).
        """
        data = {"image/png": base64.b64encode(self.image.value).decode("ascii")}
        caption = html.unescape(re.sub(r"<[^>]+>", "", self.caption))
        if caption:
            data["text/plain"] = caption
        width, height = png_size(self.image.value)
        return data, {"image/png": {"width": width // 2, "height": height // 2}}

    @property
    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, _change) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Redraw with the controls' current values (timed: `last_render_seconds`)."""
        start = time.perf_counter()
        fig = Figure(figsize=self.figsize, dpi=self.dpi, layout="constrained")
        result = self.draw_fn(fig, **self.values)
        caption, summary = result if isinstance(result, tuple) else (result or "", {})
        self.image.value = render_png(fig, scale=2)
        self.caption, self.summary = caption, dict(summary)
        self.caption_html.value = f"<div style='font-family: sans-serif'>{caption}</div>"
        self.renders += 1
        self.last_render_seconds = time.perf_counter() - start


# Diagram parts: the pictures each lesson opens with (lessons/lessonNN_*/diagrams.py) are drawn from these.
# One colour per role in every lesson (Okabe & Ito's colour-blind-safe palette, light tints for box fills);
# change a colour here and every diagram follows.
PALETTE = {
    "query": "#0072B2", "key": "#E69F00", "value": "#009E73",        # Q, K, V: always blue, orange, green
    "residual": "#8C8C8C",                                            # the residual (identity) path
    "highlight": "#D55E00",                                           # what to look at: best path, a step
    "muted": "#B0B0B0",                                               # pruned, masked, not used
    "ink": "#222222",                                                 # text and outlines
    "attention": "#D2E6F5", "ffn": "#FBEFC4", "norm": "#E8E8E8",      # box fills by kind of layer
    "embedding": "#F6D9E8", "position": "#CC79A7", "output": "#D6EFE3", "paper": "#FFFFFF",
}
HEAD_COLOURS = ("#56B4E9", "#F0E442", "#999933", "#332288")           # head 1..4 (no other role's colour)
TEXT_SIZE = 10                                                         # points; nothing smaller than 9


def font_families(mono: bool = False) -> list[str]:
    """Font families for a diagram's text: the bundled Chinese font first (registered here, so a diagram
    renders 中文 even before `notebook.setup()`), DejaVu for the glyphs it lacks."""
    from .notebook import cjk_font_name
    return ["DejaVu Sans Mono", cjk_font_name()] if mono else [cjk_font_name(), "DejaVu Sans"]


def diagram_figure(width: float = 9.5, height: float = 5.5, *, title: str = "", dpi: int = 110):
    """A blank canvas for a diagram: one axes over the whole figure whose units are inches, (0, 0) at the
    bottom left, so a box 1.5 wide is 1.5 inches wide at the figure's native size. Returns (fig, ax)."""
    fig = Figure(figsize=(width, height), dpi=dpi)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0.0, width)
    ax.set_ylim(0.0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        label(ax, width / 2, height - 0.3, title, size=TEXT_SIZE + 3)
    return fig, ax


def label(ax, x: float, y: float, text: str, *, size: float = TEXT_SIZE, color: str | None = None,
          ha: str = "center", va: str = "center", mono: bool = False, **kwargs):
    """Text at (x, y) in the diagram's font (Chinese included); returns the matplotlib Text.

    No bold: the bundled Chinese font has one weight (matplotlib would log a warning and use it anyway);
    colour and size set a heading apart instead."""
    return ax.text(x, y, text, fontsize=size, color=color or PALETTE["ink"], ha=ha, va=va,
                   fontfamily=font_families(mono), zorder=kwargs.pop("zorder", 5), **kwargs)


def shape_label(ax, x: float, y: float, shape: str, *, size: float = TEXT_SIZE - 0.5, color: str | None = None,
                ha: str = "center", va: str = "center"):
    """A tensor's shape such as "(B, T, d_model)", in a fixed-width font so shapes line up and stand out."""
    return label(ax, x, y, shape, size=size, color=color or "#444444", ha=ha, va=va, mono=True)


def box(ax, x: float, y: float, width: float, height: float, text: str = "", *, fill: str = "#FFFFFF",
        edge: str | None = None, size: float = TEXT_SIZE, text_color: str | None = None, radius: float = 0.08,
        linewidth: float = 1.2, linestyle: str = "-", zorder: float = 2):
    """A rounded box centred on (x, y), with its label in the middle; returns the patch."""
    from matplotlib.patches import FancyBboxPatch
    patch = FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                           boxstyle=f"round,pad=0,rounding_size={min(radius, width / 2, height / 2)}",
                           facecolor=fill, edgecolor=edge or PALETTE["ink"], linewidth=linewidth,
                           linestyle=linestyle, zorder=zorder)
    ax.add_patch(patch)
    if text:
        label(ax, x, y, text, size=size, color=text_color, zorder=zorder + 0.5)
    return patch


def arrow(ax, start: tuple[float, float], end: tuple[float, float], *, color: str | None = None,
          linewidth: float = 1.4, head: bool = True, bend: float = 0.0, linestyle: str = "-",
          zorder: float = 1, head_size: float = 11):
    """An arrow from `start` to `end` (a plain line with `head=False`); `bend` curves it (0 = straight)."""
    from matplotlib.patches import FancyArrowPatch
    patch = FancyArrowPatch(start, end, arrowstyle="-|>" if head else "-", mutation_scale=head_size,
                            color=color or PALETTE["ink"], linewidth=linewidth, linestyle=linestyle,
                            shrinkA=0, shrinkB=0, connectionstyle=f"arc3,rad={bend}", zorder=zorder)
    ax.add_patch(patch)
    return patch


def polyline(ax, points: Sequence[tuple[float, float]], *, color: str | None = None, linewidth: float = 1.4,
             head: bool = True, zorder: float = 1, linestyle: str = "-"):
    """A path through `points` with right-angle corners, an arrowhead on the last segment."""
    xs, ys = zip(*points)
    ax.plot(xs[:-1], ys[:-1], color=color or PALETTE["ink"], linewidth=linewidth, zorder=zorder,
            linestyle=linestyle, solid_joinstyle="miter", solid_capstyle="butt")
    return arrow(ax, points[-2], points[-1], color=color, linewidth=linewidth, head=head, zorder=zorder,
                 linestyle=linestyle)


def bracket(ax, start: tuple[float, float], end: tuple[float, float], text: str = "", *, side: str = "left",
            depth: float = 0.1, gap: float = 0.08, color: str | None = None, size: float = TEXT_SIZE, **kwargs):
    """A square bracket from `start` to `end` with its label outside: `side` is where the label goes
    ("left", "right" for a vertical bracket; "above", "below" for a horizontal one)."""
    normals = {"left": (-1, 0), "right": (1, 0), "above": (0, 1), "below": (0, -1)}
    if side not in normals:
        raise ValueError(f"expected side to be one of {sorted(normals)}, got {side!r}")
    nx, ny = normals[side]
    (x0, y0), (x1, y1) = start, end
    ax.plot([x0, x0 + nx * depth, x1 + nx * depth, x1], [y0, y0 + ny * depth, y1 + ny * depth, y1],
            color=color or PALETTE["ink"], linewidth=1.2, zorder=3)
    if not text:
        return None
    ha = {"left": "right", "right": "left"}.get(side, "center")
    va = {"above": "bottom", "below": "top"}.get(side, "center")
    return label(ax, (x0 + x1) / 2 + nx * (depth + gap), (y0 + y1) / 2 + ny * (depth + gap), text,
                 size=size, color=color, ha=ha, va=va, **kwargs)


def cells(ax, x: float, y: float, colours, *, cell: tuple[float, float] = (0.16, 0.16), edge: str = "#FFFFFF",
          linewidth: float = 0.8, zorder: float = 2):
    """A grid of coloured squares, row 0 on top, its top left corner at (x, y); `colours` is a list of rows
    of colours. Returns (width, height) of the grid."""
    from matplotlib.patches import Rectangle
    w, h = cell
    for i, row in enumerate(colours):
        for j, colour in enumerate(row):
            ax.add_patch(Rectangle((x + j * w, y - (i + 1) * h), w, h, facecolor=colour, edgecolor=edge,
                                   linewidth=linewidth, zorder=zorder))
    return len(colours[0]) * w, len(colours) * h


def badge(ax, x: float, y: float, text: str, *, color: str | None = None, radius: float = 0.16,
          size: float = TEXT_SIZE):
    """A filled circle with a short white label (a step number)."""
    from matplotlib.patches import Circle
    ax.add_patch(Circle((x, y), radius, facecolor=color or PALETTE["highlight"], edgecolor="none", zorder=6))
    return label(ax, x, y, text, size=size, color="white", zorder=7)


def plus_circle(ax, x: float, y: float, radius: float = 0.15):
    """The residual addition: a white circle with a plus, where a branch joins the stream."""
    from matplotlib.patches import Circle
    ax.add_patch(Circle((x, y), radius, facecolor="white", edgecolor=PALETTE["ink"], linewidth=1.2, zorder=4))
    return label(ax, x, y + 0.01, "+", size=12, zorder=5)


def tint(colour: str, amount: float = 0.8) -> tuple[float, float, float]:
    """`colour` mixed with white (0.8 = 80 % white): a light box fill that keeps the colour's hue."""
    from matplotlib.colors import to_rgb
    return tuple(c + (1.0 - c) * amount for c in to_rgb(colour))
