"""Lesson 06, the encoder and the decoder (编码器和解码器): its figures.

Each function draws on a matplotlib `Axes` it is given (or a new figure) and returns the figure, so the
same code serves a static cell, a widget redraw and a test.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ...drawing import as_array, heatmap, new_figure
from ...i18n import N_, translator
from ..lesson05_feed_forward.plots import change_per_position_bars

_ = translator("lesson06")

__all__ = ["change_per_position_bars", "cross_attention_heatmap", "next_token_bars"]


def next_token_bars(probabilities, vocab_tokens: Sequence[str], *, target: str | None = None, k: int = 10, ax=None,
                    title: str = N_("P(next token)")):
    """The `k` likeliest tokens of one output distribution `(V,)` as horizontal bars, likeliest on top.
    `target` (the right next token) is drawn in orange, added below the others if it is not among them.
    The title is shown in the reader's language when this lesson's table has it."""
    p = as_array(probabilities).reshape(-1)
    if p.size != len(vocab_tokens):
        raise ValueError(_("expected one probability per vocabulary token ({n}), got {size}",
                           n=len(vocab_tokens), size=p.size))
    order = [int(i) for i in np.argsort(-p, kind="stable")[:k]]
    if target is not None:
        t = list(vocab_tokens).index(target)
        if t not in order:
            order.append(t)
    if ax is None:
        _fig, ax = new_figure(4.0, 0.25 * len(order) + 1.2)
    ys = np.arange(len(order))[::-1]
    labels = [vocab_tokens[i] for i in order]
    ax.barh(ys, p[order], color=["tab:orange" if lab == target else "tab:blue" for lab in labels])
    for y, i in zip(ys, order):
        ax.text(p[i], y, f" {p[i]:.3f}", va="center", fontsize=8)
    ax.set_yticks(ys)
    ax.set_yticklabels(labels)
    ax.set_xlim(0, max(1.3 * p[order].max(), 0.05))
    ax.set_xlabel(_("probability"))
    ax.set_title(_(title))
    return ax.figure


def cross_attention_heatmap(weights, source: Sequence[str], target: Sequence[str], *, ax=None,
                            title: str = N_("cross-attention 交叉注意力"), annotate: bool = True,
                            colorbar: bool = True):
    """Cross-attention weights `(T, S)`: rows are the Chinese tokens being produced, columns the English words."""
    w = as_array(weights)
    if w.shape != (len(target), len(source)):
        raise ValueError(_("expected weights of shape (T, S) = ({T}, {S}), got {shape}",
                           T=len(target), S=len(source), shape=w.shape))
    if ax is None:
        _fig, ax = new_figure(0.6 * len(source) + 2.2, 0.42 * len(target) + 1.6)
    return heatmap(w, source, target, ax=ax, title=_(title), xlabel=_("English word (key) 英文词"),
                   ylabel=_("Chinese token produced (query) 生成的中文词"), cmap="Blues", vmin=0.0, vmax=1.0,
                   annotate=annotate, colorbar=colorbar)
