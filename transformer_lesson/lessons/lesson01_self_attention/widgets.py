"""Lesson 01, self-attention (自注意力): its interactive controls.

Each is a `drawing.FigureWidget`: controls above a figure that is redrawn on every change, with a
caption saying what it shows.
"""
from __future__ import annotations

import math

import ipywidgets as ipw
import torch

from ...drawing import FigureWidget
from ...i18n import translator
from . import experiments, plots

_ = translator("lesson01")

__all__ = ["attention_row_widget", "d_k_scaling_widget"]


def attention_row_widget(weights, tokens, *, width: float = 5.0, height: float = 3.0) -> FigureWidget:
    """A dropdown over the query tokens; shows the chosen query's row of the `(T, T)` weights as bars."""
    w = torch.as_tensor(weights).detach().double()
    if w.dim() != 2 or w.shape != (len(tokens), len(tokens)):
        raise ValueError(_("expected weights of shape (T, T) = ({T}, {T}) for {T} tokens, got {shape}",
                           T=len(tokens), shape=tuple(w.shape)))
    query = ipw.Dropdown(options=[(f"{i}: {t}", i) for i, t in enumerate(tokens)], value=len(tokens) - 1,
                         description=_("query"))

    def draw(fig, query):
        row = w[query]
        top = int(row.argmax())
        fig.set_layout_engine(None)                                  # fixed margins: no layout passes, twice as fast
        ax = fig.subplots(gridspec_kw=dict(left=0.14, right=0.97, bottom=0.17, top=0.88))
        plots.attention_row_bars(row, tokens, ax=ax, title=_("query \"{token}\": its row of the weights",
                                                             token=tokens[query]))
        caption = _("“{query}” attends most to “{top}” (weight {weight:.2f}); its weights sum to {total:.2f}.",
                    query=tokens[query], top=tokens[top], weight=row[top], total=row.sum())
        return caption, {"query": tokens[query], "top_key": tokens[top], "top_weight": row[top].item(),
                         "weights": row.tolist()}

    return FigureWidget(draw, {"query": query}, width=width, height=height)


def d_k_scaling_widget(d_ks=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512), value: int = 64, n_keys: int = 16,
                       n_queries: int = 1000, seed: int = 0) -> FigureWidget:
    """A d_k slider: one query's softmax with and without 1/sqrt(d_k), and the mean largest weight vs d_k."""
    d_ks = [int(d) for d in d_ks]
    rows = experiments.softmax_saturation(d_ks, n_keys=n_keys, n_queries=n_queries, seed=seed)  # once, not per redraw
    d_k = ipw.SelectionSlider(options=d_ks, value=value, description="d_k")

    def draw(fig, d_k):
        g = torch.Generator().manual_seed(seed)
        q, k = torch.randn(d_k, generator=g), torch.randn(n_keys, d_k, generator=g)
        raw = k @ q                                                  # (n_keys, d_k) @ (d_k,) -> (n_keys,)
        fig.set_layout_engine(None)                                  # fixed margins: no layout passes, twice as fast
        ax_bars, ax_top = fig.subplots(1, 2, gridspec_kw=dict(left=0.08, right=0.98, bottom=0.16, top=0.9,
                                                              wspace=0.3))
        plots.softmax_scaling_bars(torch.softmax(raw, -1), torch.softmax(raw / math.sqrt(d_k), -1), ax=ax_bars,
                                   title=_("one query, d_k = {d_k}", d_k=d_k))
        plots.saturation_curves(rows, "top_weight", ax=ax_top, mark_d_k=d_k, legend=False)
        row = rows[d_ks.index(d_k)]
        caption = _("d_k = {d_k}: on average the top key of {n_keys} takes {unscaled:.2f} of the weight without the "
                    "scale, {scaled:.2f} with it (equal weights would give each 1/{n_keys} = {uniform:.2f}).",
                    d_k=d_k, n_keys=n_keys, unscaled=row["top_weight_unscaled"], scaled=row["top_weight_scaled"],
                    uniform=1 / n_keys)
        return caption, dict(row)

    return FigureWidget(draw, {"d_k": d_k}, width=8.0, height=3.2)
