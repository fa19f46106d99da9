"""Lesson 09, from the translator to ChatGPT (从翻译模型到 ChatGPT): its figures.

Each function draws on a matplotlib `Axes` it is given (or a new figure) and returns the figure, so the
same code serves a static cell, a widget redraw and a test.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ...drawing import as_array, new_figure
from ...i18n import N_, translator
from ..lesson04_residual_layernorm import plots as lesson04_plots
from ..lesson06_encoder_decoder.plots import next_token_bars

__all__ = ["new_figure", "loss_curves", "kv_cache_costs", "fixed_offset_plot", "next_token_bars",
           "sampling_panels"]

_ = translator("lesson09")


def loss_curves(histories: dict, *, ax=None, smooth: int = 10, title: str = N_("training loss (训练损失)")):
    """The loss of every training step, one line per model (`{label: losses}`), smoothed over `smooth` steps:
    lesson 04's training-curve plot, with lesson 09's defaults."""
    if ax is None:
        _fig, ax = new_figure(6.0, 3.2)
    return lesson04_plots.loss_curves(histories, ax=ax, title=_(title), smooth=smooth)


def kv_cache_costs(rows: Sequence[dict], *, ax=None, title: str = N_("cost of one new token (每个新词元的开销)")):
    """Milliseconds of CPU time per generated token against the number of tokens before it, with the KV cache
    (only the new token runs) and without (everything runs again); lengths on a log scale, ratios written above."""
    if ax is None:
        _fig, ax = new_figure(6.0, 3.6)
    lengths = [r["length"] for r in rows]
    full, cached = [1e3 * r["full"] for r in rows], [1e3 * r["cached"] for r in rows]
    ax.plot(lengths, full, "o-", color="tab:red", label=_("without the cache: all positions again"))
    ax.plot(lengths, cached, "o-", color="tab:blue", label=_("with the KV cache: the new position only"))
    for n, f, r in zip(lengths, full, rows):
        ax.annotate(f"×{r['ratio']:.1f}", (n, f), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_xticks(lengths, [str(n) for n in lengths])
    ax.set_ylim(0, 1.18 * max(full + cached))
    ax.set_xlabel(_("tokens already generated (length)"))
    ax.set_ylabel(_("ms per new token (CPU time)"))
    ax.set_title(_(title))
    ax.legend(fontsize=8, loc="upper left")
    return ax.figure


def fixed_offset_plot(result: dict, *, ax=None, offset: int = 3):
    """`experiments.fixed_offset_scores`: the score of one query and one key `offset` positions apart, slid along
    the sentence, with RoPE (flat) and with the paper's added sinusoidal code (it moves)."""
    if ax is None:
        _fig, ax = new_figure(6.0, 3.2)
    ax.plot(result["starts"], result["sinusoidal"], color="tab:red", label=_("added code x + PE (the 2017 paper)"))
    ax.plot(result["starts"], result["rope"], color="tab:blue", linewidth=2.5, label=_("RoPE: rotate q and k"))
    ax.set_xlabel(_("position of the key (the query sits {offset} positions later)", offset=offset))
    ax.set_ylabel(_("score q·k / √d"))
    ax.set_title(_("the same two words, always {offset} apart (相对位置)", offset=offset))
    ax.legend(fontsize=8)
    return ax.figure


def sampling_panels(fig, distribution: dict, vocab_tokens: Sequence[str], counts: dict, reference: str, *,
                    top: int = 8):
    """Left: the first Chinese token's distribution as the model gives it (grey) and as sampling draws from it after
    temperature, top-k and top-p (blue). Right: how often each translation came out of the samples (the right one
    orange). `distribution` comes from `experiments.first_step_distribution`."""
    fig.set_layout_engine(None)              # fixed margins: savefig draws once (a widget redraws on every change)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3], "left": 0.08, "right": 0.98,
                                                   "bottom": 0.16, "top": 0.9, "wspace": 0.55})
    model, sampled = as_array(distribution["model"]), as_array(distribution["sampled"])
    order = [int(i) for i in np.argsort(-model, kind="stable")[:top]]
    ys = np.arange(len(order))[::-1]
    left.barh(ys + 0.2, model[order], height=0.4, color="#BBBBBB", label=_("the model (T = 1)"))
    left.barh(ys - 0.2, sampled[order], height=0.4, color="tab:blue", label=_("sampled from"))
    left.set_yticks(ys)
    left.set_yticklabels([vocab_tokens[i] for i in order])
    left.set_xlim(0, 1.05)
    left.set_xlabel(_("probability"))
    left.set_title(_("first token (第一个词元)"))
    left.legend(fontsize=7, loc="lower right")
    shown = sorted(counts.items(), key=lambda item: -item[1])[:6]
    ys = np.arange(len(shown))[::-1]
    right.barh(ys, [n for _, n in shown], color=["tab:orange" if t == reference else "tab:blue" for t, _ in shown])
    right.set_yticks(ys)
    right.set_yticklabels([t if len(t) <= 14 else t[:13] + "…" for t, _ in shown], fontsize=8)
    right.set_xlabel(_("samples"))
    right.set_title(_("{n} samples (采样)", n=sum(counts.values())))
    return fig
