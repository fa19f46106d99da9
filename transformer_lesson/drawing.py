"""Drawing primitives every lesson shares: figures, heatmaps, and `FigureWidget`.

- `new_figure`, `heatmap`, `attention_heatmap`, `mask_heatmap`: a lesson's plot calls one of these instead
  of twenty lines of matplotlib. Each draws on a matplotlib `Axes` it is given (or a new figure) and
  returns the figure; Chinese tokens render with the CJK font that `notebook.setup()` registers.
- `FigureWidget`: controls (sliders, dropdowns) above a picture. Each change of a control calls a plain
  `draw(fig, **values)` function that draws on a fresh matplotlib figure and returns a short caption
  saying what is shown. The figure is rendered to PNG and put in an `ipywidgets.Image`, so a test can set
  `w.controls["d_k"].value = 64` headlessly and read `w.caption` and `w.summary`, the notebook stores the
  widget's state, and no pyplot state leaks between redraws.
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

__all__ = ["as_array", "new_figure", "heatmap", "attention_heatmap", "mask_heatmap", "FigureWidget", "render_png",
           "png_size"]


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
        _, ax = new_figure(max(3.0, 0.45 * data.shape[1] + 2), max(2.5, 0.4 * data.shape[0] + 1.5))
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
            r, g, b, _ = image.cmap(image.norm(v))           # the cell's own colour: dark cell, white text
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
    return heatmap(weights, key_tokens, query_tokens, ax=ax, title=title, xlabel="key (attended to)",
                   ylabel="query (attending)", cmap="Blues", vmin=0.0, vmax=1.0, annotate=annotate)


def mask_heatmap(mask, query_tokens: Sequence[str] | None = None, key_tokens: Sequence[str] | None = None, *,
                 ax=None, title: str = "mask (True = may attend)"):
    """A boolean mask as a two-colour grid: filled where a query may attend to a key."""
    m = as_array(mask)
    while m.ndim > 2:
        m = m[0]
    return heatmap(m, key_tokens, query_tokens, ax=ax, title=title, xlabel="key", ylabel="query",
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


class FigureWidget(ipw.VBox):
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

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus its current view as an ordinary PNG and its caption as text.

        A live front end (JupyterLab, Colab, VS Code) shows the widget; a static view of the stored
        notebook (GitHub, nbviewer, a website, nbconvert) has no widget to run, and shows the figure and
        the caption of the widget's first view instead.
        """
        data = super()._repr_mimebundle_(**kwargs)
        data["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        data["text/plain"] = html.unescape(re.sub(r"<[^>]+>", "", self.caption)) or data.get("text/plain", "")
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
