"""Lesson 07, training and generation (训练与生成): its figures.

Each function draws on a matplotlib `Axes` it is given (or a new figure) and returns the figure, so the
same code serves a static cell, a widget redraw and a test.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from ...drawing import as_array, heatmap, new_figure
from ...i18n import N_, translator
from ..lesson03_multi_head_attention.plots import head_attention_grid
from ..lesson06_encoder_decoder.plots import cross_attention_heatmap, next_token_bars

__all__ = [
    "head_attention_grid", "attention_heads", "heads_of_layers", "cross_attention_heatmap", "lr_schedule_plot", "training_curves",
    "next_token_panels", "decoding_bars", "EMPTY_TRANSLATION",
]

_ = translator("lesson07")

EMPTY_TRANSLATION = N_("(empty: <eos> at once)")     # how a translation with no word at all is labelled


def lr_schedule_plot(curves: dict, *, ax=None, title: str | None = None, warmups: dict | None = None):
    """Learning rate against step, one line per schedule (`{label: rates}`); a dotted line at each warm-up end.
    The title is "learning-rate schedule" unless given."""
    if ax is None:
        ax = new_figure(5.0, 3.0)[1]
    for label, rates in curves.items():
        rates = as_array(rates)
        line, = ax.plot(np.arange(1, rates.size + 1), rates, label=label)
        if warmups and label in warmups:
            ax.axvline(warmups[label], color=line.get_color(), linestyle=":", linewidth=1)
    ax.set_xlabel(_("training step"))
    ax.set_ylabel(_("learning rate"))
    ax.set_ylim(bottom=0)
    ax.set_title(_("learning-rate schedule") if title is None else title)
    ax.legend(fontsize=8)
    return ax.figure


def training_curves(history: dict, *, floor: float | None = None, warmup: int | None = None, smooth: int = 20,
                    fig=None):
    """Two panels from a training `history`: the loss per step (faint) with its running mean over `smooth`
    steps and the label-smoothing `floor`, and the learning rate per step with the warm-up's end marked."""
    loss, lr = as_array(history["loss"]), as_array(history["lr"])
    if loss.size == 0 or loss.size != lr.size:
        raise ValueError(f"expected history with as many 'loss' as 'lr' values (one per step), "
                         f"got {loss.size} and {lr.size}")
    if fig is None:
        fig = Figure(figsize=(9.0, 3.2), dpi=80, layout="constrained")
    ax_loss, ax_lr = fig.subplots(1, 2)
    steps = np.arange(1, loss.size + 1)
    ax_loss.plot(steps, loss, color="tab:blue", alpha=0.3, linewidth=1, label=_("loss of each batch"))
    if smooth > 1 and loss.size >= smooth:
        ax_loss.plot(steps[smooth - 1:], np.convolve(loss, np.ones(smooth) / smooth, mode="valid"),
                     color="tab:blue", label=_("running mean of {smooth} steps", smooth=smooth))
    if floor is not None:
        ax_loss.axhline(floor, color="tab:red", linestyle="--", linewidth=1,
                        label=_("lowest possible with label smoothing ({floor:.2f})", floor=floor))
    ax_loss.set_ylim(bottom=0)
    ax_loss.set_xlabel(_("training step"))
    ax_loss.set_ylabel(_("loss (cross-entropy, nats)"))
    ax_loss.set_title(_("训练损失 training loss"))
    ax_loss.legend(fontsize=8)
    ax_lr.plot(steps, lr, color="tab:green")
    if warmup is not None:
        ax_lr.axvline(warmup, color="gray", linestyle=":", linewidth=1)
        ax_lr.annotate(_("end of warm-up (step {warmup})", warmup=warmup), (warmup, lr.max()), xytext=(6, -4),
                       textcoords="offset points", fontsize=8, va="top")
    ax_lr.set_ylim(bottom=0)
    ax_lr.set_xlabel(_("training step"))
    ax_lr.set_ylabel(_("learning rate"))
    ax_lr.set_title(_("学习率 learning rate (warm-up, then ∝ step^−0.5)"))
    return fig


def next_token_panels(probabilities, vocab_tokens: Sequence[str], chosen: Sequence[str], *, k: int = 4, fig=None):
    """One small panel per decoding step, each a `next_token_bars` of row t of `probabilities` `(T, V)`: the `k`
    likeliest next tokens, the token greedy decoding chose (`chosen[t]`) in orange. Panel t is titled with what
    came before it; all panels share the scale 0..1."""
    p = as_array(probabilities)
    if p.ndim != 2 or p.shape[1] != len(vocab_tokens) or p.shape[0] != len(chosen):
        raise ValueError(f"expected probabilities of shape (T, V) = ({len(chosen)}, {len(vocab_tokens)}), got {p.shape}")
    T = p.shape[0]
    if fig is None:
        fig = Figure(figsize=(2.3 * T + 0.4, 2.4), dpi=80, layout="constrained")
    axes = fig.subplots(1, T, squeeze=False)[0]
    for t, ax in enumerate(axes):
        before = " ".join(["<bos>"] + list(chosen[:t]))
        next_token_bars(p[t], vocab_tokens, target=chosen[t], k=k, ax=ax, title=_("after {before}", before=before))
        ax.title.set_fontsize(9)
        ax.set_xlim(0, 1.3)
        ax.set_xticks([0, 0.5, 1])
        ax.set_xlabel("")
    fig.supxlabel(_("probability of the next token"), fontsize=9)
    return fig


def attention_heads(weights, query_tokens: Sequence[str], key_tokens: Sequence[str], *, titles=None,
                    fig=None):
    """Every head's attention weights side by side, from `weights` of shape `(h, T_q, T_k)`: rows are the
    queries (`query_tokens`), columns the keys (`key_tokens`); self- or cross-attention alike. One colour
    scale, 0 to 1, for every head."""
    w = as_array(weights)
    if w.ndim != 3 or w.shape[1:] != (len(query_tokens), len(key_tokens)):
        raise ValueError(f"expected weights of shape (h, T_q, T_k) = (h, {len(query_tokens)}, {len(key_tokens)}), "
                         f"got {w.shape}")
    h = w.shape[0]
    if titles is not None and len(titles) != h:
        raise ValueError(f"expected {h} titles, one per head, got {len(titles)}")
    if fig is None:
        fig = Figure(figsize=(0.3 * len(key_tokens) * h + 1.4, 0.3 * len(query_tokens) + 1.9), dpi=80,
                     layout="constrained")
    axes = fig.subplots(1, h, squeeze=False)[0]
    for i, ax in enumerate(axes):
        heatmap(w[i], key_tokens, query_tokens if i == 0 else None, ax=ax, cmap="Blues", vmin=0.0, vmax=1.0,
                colorbar=False, title=titles[i] if titles else _("head {i}", i=i))
        ax.tick_params(axis="x", labelrotation=90, labelsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.title.set_fontsize(9)
        if i:
            ax.set_yticks([])
    axes[0].set_ylabel(_("query"))
    fig.supxlabel(_("key"), fontsize=9)
    return fig


def heads_of_layers(layers: dict):
    """One row of `attention_heads` per attention layer, `{row title: experiments.layer_heads(...)}`, so
    that the heads of two layers can be compared at a glance."""
    if not layers:
        raise ValueError("expected at least one layer to draw, {title: experiments.layer_heads(...)}")
    rows = list(layers.items())
    first = rows[0][1]
    width = 0.3 * len(first["keys"]) * first["weights"].shape[0] + 1.4
    fig = Figure(figsize=(width, sum(0.3 * len(r["queries"]) + 2.0 for _title, r in rows)), dpi=80,
                 layout="constrained")
    for sub, (title, heads) in zip(np.atleast_1d(fig.subfigures(len(rows), 1)), rows):
        attention_heads(heads["weights"], heads["queries"], heads["keys"], fig=sub,
                        titles=[_("head {i}", i=i) for i in range(heads["weights"].shape[0])])
        sub.suptitle(title, fontsize=10)
    return fig


def _short(text: str, limit: int = 11) -> str:
    if not text:
        return _(EMPTY_TRANSLATION)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def decoding_bars(choices: dict, *, ax=None, max_rows: int = 7):
    """The candidate translations of `experiments.decoding_choices`, likeliest first (at most `max_rows`,
    greedy's always among them): one bar of -log P(translation) each (shorter = likelier), beam search's
    pick in orange, and at the end of each bar who found it (beam rank and score, greedy, how many samples).
    Translations longer than 11 characters are cut, with "…"."""
    if ax is None:
        ax = new_figure(8.0, 3.4)[1]
    beam, (greedy, greedy_lp) = choices["beam"], choices["greedy"]
    found: dict[str, dict] = {}
    for rank, (text, score, lp) in enumerate(beam):
        found.setdefault(text, {"lp": lp, "by": []})["by"].append(_("beam #{rank} (score {score:.2f})",
                                                                    rank=rank + 1, score=score))
    found.setdefault(greedy, {"lp": greedy_lp, "by": []})["by"].append(_("greedy"))
    for text, lp in choices["samples"]:
        found.setdefault(text, {"lp": lp, "by": []})
    for text, count in choices["sample_counts"].items():
        found[text]["by"].append(_("sampled {count}×", count=count))
    ranked = sorted(found.items(), key=lambda item: -item[1]["lp"])
    rows = ranked[:max_rows]
    if greedy not in dict(rows):                      # greedy's answer is always shown, even when unlikely
        rows = rows[:max_rows - 1] + [(greedy, found[greedy])]
    ys = np.arange(len(rows))[::-1]
    lengths = [-info["lp"] for _text, info in rows]
    ax.barh(ys, lengths, color=["tab:orange" if text == beam[0][0] else "tab:blue" for text, _info in rows])
    ax.set_yticks(ys)
    ax.set_yticklabels([_short(text) for text, _info in rows], fontsize=9)
    for y, length, (_text, info) in zip(ys, lengths, rows):
        ax.text(length, y, f"  log P {-length:.2f}: " + ", ".join(info["by"]), va="center", fontsize=8)
    ax.set_xlim(0, 2.0 * max(lengths) + 0.5)
    ax.set_ylim(-0.6, max_rows - 0.4)
    ax.set_xlabel(_("−log P(translation)  (shorter bar = likelier)"))
    ax.set_title(_("beam width {beam_size}, α = {alpha:.1f}; {samples} samples at temperature {temperature:.2f}",
                   beam_size=choices["beam_size"], alpha=choices["length_penalty"], samples=len(choices["samples"]),
                   temperature=choices["temperature"]), fontsize=10)
    return ax.figure
