"""Figures for the lessons. A notebook calls one function here instead of twenty lines of matplotlib.

Every function draws on a matplotlib `Axes` it is given (or a new figure) and returns the figure, so the
same code serves a static cell, a widget redraw and a test. Chinese tokens render with the CJK font that
`transformer_lesson.notebook.setup()` registers.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = ["new_figure", "heatmap", "attention_heatmap", "mask_heatmap"]


def _array(x) -> np.ndarray:
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
    data = _array(matrix)
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
    m = _array(mask)
    while m.ndim > 2:
        m = m[0]
    return heatmap(m, key_tokens, query_tokens, ax=ax, title=title, xlabel="key", ylabel="query",
                   cmap="Greens", vmin=0.0, vmax=1.0, colorbar=False, annotate=False)


# ---- lesson 01: self-attention ----

__all__ += ["attention_row_bars", "softmax_scaling_bars", "saturation_curves"]


def attention_row_bars(weights_row, key_tokens: Sequence[str], *, ax=None, title: str = ""):
    """One query's attention weights as bars over the keys (they sum to 1); the largest is orange."""
    w = _array(weights_row).reshape(-1)
    if len(key_tokens) != w.size:
        raise ValueError(f"expected {w.size} key tokens to match the weights, got {len(key_tokens)}")
    if ax is None:
        _, ax = new_figure(max(3.0, 0.7 * w.size + 1.5), 3.0)
    top = int(np.argmax(w))
    ax.bar(range(w.size), w, color=["tab:orange" if i == top else "tab:blue" for i in range(w.size)])
    for i, v in enumerate(w):
        ax.text(i, v + 0.02, f"{v:.2f}", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(range(w.size))
    ax.set_xticklabels(list(key_tokens))
    ax.set_ylim(0.0, 1.1)
    ax.set_xlabel("key (attended to)")
    ax.set_ylabel("weight")
    ax.set_title(title)
    return ax.figure


def softmax_scaling_bars(unscaled, scaled, *, ax=None, title: str = ""):
    """Softmax weights of one query over its keys without and with the 1/sqrt(d_k) scale, side by side."""
    u, s = _array(unscaled).reshape(-1), _array(scaled).reshape(-1)
    if ax is None:
        _, ax = new_figure(4.0, 3.0)
    x = np.arange(u.size)
    # thick vertical lines, one collection per series: a slider redraw stays fast with many keys
    ax.vlines(x - 0.17, 0.0, u, colors="tab:red", linewidth=5, label="without 1/sqrt(d_k)")
    ax.vlines(x + 0.17, 0.0, s, colors="tab:blue", linewidth=5, label="with 1/sqrt(d_k)")
    ax.set_xlim(-0.7, u.size - 0.3)
    ax.set_ylim(0.0, 1.05)
    ax.set_yticks([0.0, 0.5, 1.0])                       # few ticks: each tick label costs a slider redraw time
    ax.set_xlabel("key")
    ax.set_ylabel("softmax weight")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left")
    return ax.figure


def saturation_curves(rows: Sequence[dict], quantity: str = "entropy", *, ax=None, mark_d_k: int | None = None):
    """Softmax entropy (`quantity="entropy"`) or gradient size (`"grad"`) against d_k, without (red) and
    with (blue) the 1/sqrt(d_k) scale; rows from `experiments.softmax_saturation`. A dotted line marks
    `mark_d_k`; the entropy panel has a dashed line at its largest possible value, log(n_keys)."""
    if quantity not in ("entropy", "grad"):
        raise ValueError(f"expected quantity to be 'entropy' or 'grad', got {quantity!r}")
    if ax is None:
        _, ax = new_figure(4.0, 3.0)
    d_ks = [r["d_k"] for r in rows]
    ax.plot(d_ks, [r[f"{quantity}_unscaled"] for r in rows], "o-", color="tab:red", label="without 1/sqrt(d_k)")
    ax.plot(d_ks, [r[f"{quantity}_scaled"] for r in rows], "s-", color="tab:blue", label="with 1/sqrt(d_k)")
    if quantity == "entropy":
        ax.axhline(np.log(rows[0]["n_keys"]), color="grey", linestyle="--", linewidth=1)
    if mark_d_k is not None:
        ax.axvline(mark_d_k, color="black", linestyle=":", linewidth=1)
    ax.set_xscale("log", base=2)
    ticks = d_ks[:: max(1, len(d_ks) // 5)]
    ax.set_xticks(ticks, [str(d) for d in ticks])        # plain labels: faster than the log formatter's maths text
    ax.minorticks_off()
    ax.yaxis.set_major_locator(MaxNLocator(4))
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel("d_k")
    ax.set_ylabel("entropy (nats)" if quantity == "entropy" else "size of d softmax / d scores")
    ax.set_title("softmax entropy 熵" if quantity == "entropy" else "gradient size 梯度大小")
    return ax.figure


# ---- lesson 02: positional encoding ----
__all__ += ["positional_encoding_heatmap", "positional_waves", "dot_product_vs_offset"]


def positional_encoding_heatmap(pe, *, ax=None, title: str = "positional encoding 位置编码"):
    """The `(max_len, d_model)` table: one row per position, one column per dimension, values in [-1, 1]."""
    if ax is None:
        _, ax = new_figure(6.0, 3.5)                 # a fixed size: the table can be hundreds of cells wide
    return heatmap(pe, ax=ax, title=title, xlabel="dimension", ylabel="position", cmap="RdBu_r",
                   vmin=-1.0, vmax=1.0)


def positional_waves(pe, dims: Sequence[int], *, ax=None, base: float = 10000.0, title: str = ""):
    """Columns of the table as curves over the positions: each dimension is a wave of its own wavelength."""
    data = _array(pe)
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
    data = _array(pe)
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


# ---- lesson 03: multi-head attention ----
__all__ += ["head_attention_grid", "mark_offset"]


def head_attention_grid(weights, tokens: Sequence[str], *, fig=None, titles: Sequence[str] | None = None,
                        annotate: bool = False, vmax: float | None = 1.0):
    """Every head's `(T, T)` attention weights side by side, from `weights` of shape `(h, T, T)`.

    The colour scale runs from 0 to `vmax` (1 by default; `None`: the largest weight shown, so that
    faint untrained patterns stay visible)."""
    w = _array(weights)
    if w.ndim != 3 or w.shape[1:] != (len(tokens), len(tokens)):
        raise ValueError(f"expected weights of shape (h, T, T) with T={len(tokens)} tokens, got {w.shape}")
    h = w.shape[0]
    if titles is not None and len(titles) != h:
        raise ValueError(f"expected {h} titles, one per head, got {len(titles)}")
    if fig is None:
        fig = Figure(figsize=(2.3 * h + 0.5, 2.9), dpi=80, layout="constrained")
    top = float(w.max()) if vmax is None else float(vmax)
    rotation = 90 if max(len(str(t)) for t in tokens) > 3 else 0
    axes = fig.subplots(1, h, squeeze=False)[0]
    for i, ax in enumerate(axes):
        heatmap(w[i], tokens, tokens if i == 0 else None, ax=ax, cmap="Blues", vmin=0.0, vmax=top,
                annotate=annotate, colorbar=False, title=titles[i] if titles else f"head {i}")
        ax.tick_params(axis="x", labelrotation=rotation, labelsize=8)
        ax.tick_params(axis="y", labelsize=8)
        if i:
            ax.set_yticks([])
    axes[0].set_ylabel("query")
    fig.supxlabel("key", fontsize=9)
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


# ---- lesson 05: position-wise feed-forward network ----
__all__ += ["hidden_activation_heatmap", "change_per_position_bars", "parameter_split_bars"]


def hidden_activation_heatmap(hidden, tokens: Sequence[str], *, ax=None, title: str = "hidden activations",
                              limit: float | None = None):
    """Hidden activations `(T, d_ff)`: positions down, hidden units across. White is exactly 0, red positive,
    blue negative, on a colour scale symmetric around 0 (`limit` fixes it, e.g. to compare two panels)."""
    h = _array(hidden)
    if h.ndim != 2 or h.shape[0] != len(tokens):
        raise ValueError(f"expected hidden activations of shape (T, d_ff) with T={len(tokens)} tokens, got {h.shape}")
    lim = float(limit) if limit is not None else max(float(np.abs(h).max()), 1e-6)
    if ax is None:
        _, ax = new_figure(7.0, 0.35 * len(tokens) + 1.5)
    heatmap(h, None, tokens, ax=ax, cmap="bwr", vmin=-lim, vmax=lim, title=title,
            xlabel=f"hidden unit (d_ff = {h.shape[1]})", ylabel="position")
    return ax.figure


def change_per_position_bars(changes: dict, tokens: Sequence[str], *, ax=None,
                             title: str = "how much each position's output changed"):
    """Grouped bars: for each named layer (e.g. FFN, self-attention), the change of every position's output."""
    if ax is None:
        _, ax = new_figure(5.5, 3.0)
    names = list(changes)
    width = 0.8 / max(len(names), 1)
    x = np.arange(len(tokens))
    for n, name in enumerate(names):
        values = _array(changes[name]).reshape(-1)
        if values.size != len(tokens):
            raise ValueError(f"expected {len(tokens)} changes for {name!r}, one per token, got {values.size}")
        bars = ax.bar(x + (n - (len(names) - 1) / 2) * width, values, width=width, label=name)
        for bar, v in zip(bars, values):
            if v == 0:
                ax.text(bar.get_x() + bar.get_width() / 2, 0.0, "0", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x)
    ax.set_xticklabels(list(tokens))
    ax.set_ylabel("max |change| of the output")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax.figure


def parameter_split_bars(rows: Sequence[dict], *, ax=None, title: str = "where a layer's parameters are"):
    """Stacked horizontal bars, one per layer, split into attention / FFN / LayerNorm
    (rows from `experiments.layer_parameter_split`), each part labelled with its share."""
    if ax is None:
        _, ax = new_figure(6.5, 0.6 * len(rows) + 1.6)
    parts = (("attention", "attention", "tab:blue"), ("ffn", "FFN", "tab:orange"), ("layer_norm", "LayerNorm", "tab:green"))
    for y, row in enumerate(rows):
        left = 0.0
        for key, label, colour in parts:
            value = row[key] / 1e6
            ax.barh(y, value, left=left, color=colour, label=label if y == 0 else None)
            share = row[key] / row["total"]
            if share > 0.05:
                ax.text(left + value / 2, y, f"{share:.0%}", ha="center", va="center", color="white", fontsize=9)
            left += value
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([row["layer"] for row in rows])
    ax.invert_yaxis()
    ax.set_xlabel("parameters (millions)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=3, frameon=False)
    return ax.figure


# ---- lesson 04: residual connections and layer normalisation ----
__all__ += ["token_statistics_bars", "feature_bars", "gradient_norms_plot", "loss_curves"]


def token_statistics_bars(before, after, tokens: Sequence[str], *, axes=None, title: str = ""):
    """Per-token mean and standard deviation over the features `(T, d_model)`, before and after LayerNorm."""
    before, after = _array(before), _array(after)
    if before.shape != after.shape or before.ndim != 2 or before.shape[0] != len(tokens):
        raise ValueError(f"expected before and after of shape (T, d_model) with T={len(tokens)} tokens, "
                         f"got {before.shape} and {after.shape}")
    if axes is None:
        _, axes = new_figure(8.0, 2.8, ncols=2)
    axes = np.ravel(axes)
    x, w = np.arange(len(tokens)), 0.38
    for ax, name, b, a, target in ((axes[0], "mean", before.mean(-1), after.mean(-1), 0.0),
                                   (axes[1], "standard deviation", before.std(-1), after.std(-1), 1.0)):
        ax.bar(x - w / 2, b, w, color="tab:gray", label="before LayerNorm")
        ax.bar(x + w / 2, a, w, color="tab:blue", label="after LayerNorm")
        ax.axhline(target, color="tab:blue", lw=1, ls="--")
        ax.axhline(0.0, color="black", lw=0.6)
        ax.set_xticks(x)
        ax.set_xticklabels(list(tokens))
        ax.set_title(f"{name} per token (over d_model)")
    axes[0].legend(fontsize=8, loc="best")
    if title:
        axes[0].figure.suptitle(title)
    return axes[0].figure


def feature_bars(before, after, *, axes=None, token: str = "", after_ylim: float | None = None):
    """One token's features before and after LayerNorm, side by side, with each panel's mean and std marked.

    `after_ylim` fixes the right panel's y-range to +-after_ylim, so a widget's redraws are comparable."""
    before, after = _array(before).ravel(), _array(after).ravel()
    if axes is None:
        _, axes = new_figure(8.0, 2.8, ncols=2)
    axes = np.ravel(axes)
    for ax, values, name, colour in ((axes[0], before, "input x", "tab:gray"),
                                     (axes[1], after, "LayerNorm(x)", "tab:blue")):
        mean, std = values.mean(), values.std()                      # numpy's std is the biased one, as in LayerNorm
        ax.bar(np.arange(values.size), values, color=colour)
        ax.axhline(mean, color="tab:red", lw=1.2)                    # the mean, and a band of +- one std around it
        ax.axhspan(mean - std, mean + std, color="tab:red", alpha=0.12)
        ax.axhline(0.0, color="black", lw=0.6)
        ax.set_xlabel("feature")
        std_text = f"{std:.2f}" if std >= 0.01 else f"{std:.1e}"
        ax.set_title(f"{name}{' of “' + token + '”' if token else ''}: mean {round(mean, 2) + 0.0:.2f}, std {std_text}",
                     fontsize=10)
    if after_ylim is not None:
        axes[1].set_ylim(-after_ylim, after_ylim)
    return axes[0].figure


def gradient_norms_plot(norms: dict, *, ax=None, title: str = ""):
    """Gradient norm per layer on a log scale, one line per stack (e.g. {"plain": [...], "residual": [...]})."""
    if ax is None:
        _, ax = new_figure(6.0, 3.5)
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator
    lo, hi = np.inf, 0.0
    for label, values in norms.items():
        values = _array(values)
        ax.semilogy(np.arange(1, values.size + 1), values, marker="o", ms=3, label=label)
        lo, hi = min(lo, values.min()), max(hi, values.max())
    lo, hi = lo / 2, hi * 2
    ax.set_ylim(min(lo, hi / 100), hi)                                 # at least two decades: labelled ticks
    ax.yaxis.set_major_locator(LogLocator(numticks=7))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e+")))
    ax.yaxis.set_minor_locator(NullLocator())                         # few ticks, plain text: a fast redraw
    ax.set_xlabel("layer (1 = nearest the input)")
    ax.set_ylabel("gradient norm (log scale)")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return ax.figure


def loss_curves(curves: dict, *, ax=None, title: str = "", chance: float | None = None, smooth: int = 1):
    """Training loss against step, one line per run; `smooth` > 1 draws a running mean over that many steps."""
    if ax is None:
        _, ax = new_figure(6.0, 3.5)
    for label, values in curves.items():
        values = _array(values)
        if smooth > 1 and values.size >= smooth:
            values = np.convolve(values, np.ones(smooth) / smooth, mode="valid")
        ax.plot(np.arange(1, values.size + 1) + (smooth - 1 if smooth > 1 else 0), values, label=label)
    if chance is not None:
        ax.axhline(chance, color="gray", lw=1, ls=":", label=f"chance ({chance:.2f})")
    ax.set_xlabel("training step")
    ax.set_ylabel("loss (cross-entropy)")
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax.figure


# ---- lesson 07: training and generation ----
__all__ += ["lr_schedule_plot", "training_curves", "next_token_panels", "cross_attention_heatmap", "decoding_bars"]


def lr_schedule_plot(curves: dict, *, ax=None, title: str = "learning-rate schedule", warmups: dict | None = None):
    """Learning rate against step, one line per schedule (`{label: rates}`); a dotted line at each warm-up end."""
    if ax is None:
        _, ax = new_figure(5.0, 3.0)
    for label, rates in curves.items():
        rates = _array(rates)
        line, = ax.plot(np.arange(1, rates.size + 1), rates, label=label)
        if warmups and label in warmups:
            ax.axvline(warmups[label], color=line.get_color(), linestyle=":", linewidth=1)
    ax.set_xlabel("training step")
    ax.set_ylabel("learning rate")
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax.figure


def training_curves(history: dict, *, floor: float | None = None, warmup: int | None = None, smooth: int = 20,
                    fig=None):
    """Two panels from a training `history`: the loss per step (faint) with its running mean over `smooth`
    steps and the label-smoothing `floor`, and the learning rate per step with the warm-up's end marked."""
    loss, lr = _array(history["loss"]), _array(history["lr"])
    if loss.size == 0 or loss.size != lr.size:
        raise ValueError(f"expected history with as many 'loss' as 'lr' values (one per step), "
                         f"got {loss.size} and {lr.size}")
    if fig is None:
        fig = Figure(figsize=(9.0, 3.2), dpi=80, layout="constrained")
    ax_loss, ax_lr = fig.subplots(1, 2)
    steps = np.arange(1, loss.size + 1)
    ax_loss.plot(steps, loss, color="tab:blue", alpha=0.3, linewidth=1, label="loss of each batch")
    if smooth > 1 and loss.size >= smooth:
        ax_loss.plot(steps[smooth - 1:], np.convolve(loss, np.ones(smooth) / smooth, mode="valid"),
                     color="tab:blue", label=f"running mean of {smooth} steps")
    if floor is not None:
        ax_loss.axhline(floor, color="tab:red", linestyle="--", linewidth=1,
                        label=f"lowest possible with label smoothing ({floor:.2f})")
    ax_loss.set_ylim(bottom=0)
    ax_loss.set_xlabel("training step")
    ax_loss.set_ylabel("loss (cross-entropy, nats)")
    ax_loss.set_title("训练损失 training loss")
    ax_loss.legend(fontsize=8)
    ax_lr.plot(steps, lr, color="tab:green")
    if warmup is not None:
        ax_lr.axvline(warmup, color="gray", linestyle=":", linewidth=1)
        ax_lr.annotate(f"end of warm-up (step {warmup})", (warmup, lr.max()), xytext=(6, -4),
                       textcoords="offset points", fontsize=8, va="top")
    ax_lr.set_ylim(bottom=0)
    ax_lr.set_xlabel("training step")
    ax_lr.set_ylabel("learning rate")
    ax_lr.set_title("学习率 learning rate (warm-up, then 1/√step)")
    return fig


def next_token_panels(probabilities, vocab_tokens: Sequence[str], chosen: Sequence[str], *, k: int = 4, fig=None):
    """One small panel per decoding step, each a `next_token_bars` of row t of `probabilities` `(T, V)`: the `k`
    likeliest next tokens, the token greedy decoding chose (`chosen[t]`) in orange. Panel t is titled with what
    came before it; all panels share the scale 0..1."""
    p = _array(probabilities)
    if p.ndim != 2 or p.shape[1] != len(vocab_tokens) or p.shape[0] != len(chosen):
        raise ValueError(f"expected probabilities of shape (T, V) = ({len(chosen)}, {len(vocab_tokens)}), got {p.shape}")
    T = p.shape[0]
    if fig is None:
        fig = Figure(figsize=(2.3 * T + 0.4, 2.4), dpi=80, layout="constrained")
    axes = fig.subplots(1, T, squeeze=False)[0]
    for t, ax in enumerate(axes):
        before = " ".join(["<bos>"] + list(chosen[:t]))
        next_token_bars(p[t], vocab_tokens, target=chosen[t], k=k, ax=ax, title=f"after {before}")
        ax.title.set_fontsize(9)
        ax.set_xlim(0, 1.3)
        ax.set_xticks([0, 0.5, 1])
        ax.set_xlabel("")
    fig.supxlabel("probability of the next token", fontsize=9)
    return fig


def cross_attention_heatmap(weights, source: Sequence[str], target: Sequence[str], *, ax=None,
                            title: str = "cross-attention 交叉注意力", annotate: bool = True, colorbar: bool = True):
    """Cross-attention weights `(T, S)`: rows are the Chinese tokens being produced, columns the English words."""
    w = _array(weights)
    if w.shape != (len(target), len(source)):
        raise ValueError(f"expected weights of shape (T, S) = ({len(target)}, {len(source)}), got {w.shape}")
    if ax is None:
        _, ax = new_figure(0.6 * len(source) + 2.2, 0.42 * len(target) + 1.6)
    return heatmap(w, source, target, ax=ax, title=title, xlabel="English word (key) 英文词",
                   ylabel="Chinese token produced (query) 生成的中文词", cmap="Blues", vmin=0.0, vmax=1.0,
                   annotate=annotate, colorbar=colorbar)


def _short(text: str, limit: int = 11) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def decoding_bars(choices: dict, *, ax=None, max_rows: int = 7):
    """The candidate translations of `experiments.decoding_choices`, likeliest first (at most `max_rows`,
    greedy's always among them): one bar of -log P(translation) each (shorter = likelier), beam search's
    pick in orange, and at the end of each bar who found it (beam rank and score, greedy, how many samples).
    Translations longer than 11 characters are cut, with "…"."""
    if ax is None:
        _, ax = new_figure(8.0, 3.4)
    beam, (greedy, greedy_lp) = choices["beam"], choices["greedy"]
    found: dict[str, dict] = {}
    for rank, (text, score, lp) in enumerate(beam):
        found.setdefault(text, {"lp": lp, "by": []})["by"].append(f"beam #{rank + 1} (score {score:.2f})")
    found.setdefault(greedy, {"lp": greedy_lp, "by": []})["by"].append("greedy")
    for text, lp in choices["samples"]:
        found.setdefault(text, {"lp": lp, "by": []})
    for text, count in choices["sample_counts"].items():
        found[text]["by"].append(f"sampled {count}×")
    ranked = sorted(found.items(), key=lambda item: -item[1]["lp"])
    rows = ranked[:max_rows]
    if greedy not in dict(rows):                      # greedy's answer is always shown, even when unlikely
        rows = rows[:max_rows - 1] + [(greedy, found[greedy])]
    ys = np.arange(len(rows))[::-1]
    lengths = [-info["lp"] for _, info in rows]
    ax.barh(ys, lengths, color=["tab:orange" if text == beam[0][0] else "tab:blue" for text, _ in rows])
    ax.set_yticks(ys)
    ax.set_yticklabels([_short(text) for text, _ in rows], fontsize=9)
    for y, length, (_, info) in zip(ys, lengths, rows):
        ax.text(length, y, f"  log P {-length:.2f}: " + ", ".join(info["by"]), va="center", fontsize=8)
    ax.set_xlim(0, 2.0 * max(lengths) + 0.5)
    ax.set_ylim(-0.6, max_rows - 0.4)
    ax.set_xlabel("−log P(translation)  (shorter bar = likelier)")
    ax.set_title(f"beam width {choices['beam_size']}, α = {choices['length_penalty']:.1f}; "
                 f"{len(choices['samples'])} samples at temperature {choices['temperature']:.2f}", fontsize=10)
    return ax.figure


# ---- lesson 06: encoder and decoder ----
__all__ += ["next_token_bars"]


def next_token_bars(probabilities, vocab_tokens: Sequence[str], *, target: str | None = None, k: int = 10, ax=None,
                    title: str = "P(next token)"):
    """The `k` likeliest tokens of one output distribution `(V,)` as horizontal bars, likeliest on top.
    `target` (the right next token) is drawn in orange, added below the others if it is not among them."""
    p = _array(probabilities).reshape(-1)
    if p.size != len(vocab_tokens):
        raise ValueError(f"expected one probability per vocabulary token ({len(vocab_tokens)}), got {p.size}")
    order = [int(i) for i in np.argsort(-p, kind="stable")[:k]]
    if target is not None:
        t = list(vocab_tokens).index(target)
        if t not in order:
            order.append(t)
    if ax is None:
        _, ax = new_figure(4.0, 0.25 * len(order) + 1.2)
    ys = np.arange(len(order))[::-1]
    labels = [vocab_tokens[i] for i in order]
    ax.barh(ys, p[order], color=["tab:orange" if lab == target else "tab:blue" for lab in labels])
    for y, i in zip(ys, order):
        ax.text(p[i], y, f" {p[i]:.3f}", va="center", fontsize=8)
    ax.set_yticks(ys)
    ax.set_yticklabels(labels)
    ax.set_xlim(0, max(1.3 * p[order].max(), 0.05))
    ax.set_xlabel("probability")
    ax.set_title(title)
    return ax.figure


# ---- lesson 08: why attention ----
__all__ += ["depth_and_work_plot", "timing_plot", "gradient_reach_plot", "accuracy_vs_distance"]

_ATTENTION_STYLE = dict(color="tab:blue", marker="o", label="self-attention 自注意力")
_GRU_STYLE = dict(color="tab:red", marker="s", label="GRU (循环神经网络)")


def depth_and_work_plot(rows: Sequence[dict], *, axes=None):
    """Two log-log panels from `experiments.depth_and_work`: sequential steps (critical path) and flops against T."""
    if axes is None:
        fig = Figure(figsize=(8.0, 3.0), dpi=80, layout="constrained")
        axes = fig.subplots(1, 2)
    lengths = [r["length"] for r in rows]
    for ax, key, ylabel, title in ((axes[0], "depth", "operations one after another", "sequential steps 顺序步数"),
                                   (axes[1], "flops", "floating-point operations", "work 计算量")):
        ax.plot(lengths, [r[f"attention_{key}"] for r in rows], **_ATTENTION_STYLE)
        ax.plot(lengths, [r[f"gru_{key}"] for r in rows], **_GRU_STYLE)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(lengths, [str(t) for t in lengths])
        ax.minorticks_off()
        ax.set_xlabel("sequence length T")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
    axes[0].legend(fontsize=8)
    return axes[0].figure


def timing_plot(rows: Sequence[dict], *, ax=None, title: str = "time of one forward pass 前向计算时间"):
    """Milliseconds against T for both layers (rows from `experiments.time_attention_vs_gru`), log-log."""
    if ax is None:
        _, ax = new_figure(4.5, 3.0)
    lengths = [r["length"] for r in rows]
    ax.plot(lengths, [r["attention_ms"] for r in rows], **_ATTENTION_STYLE)
    ax.plot(lengths, [r["gru_ms"] for r in rows], **_GRU_STYLE)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(lengths, [str(t) for t in lengths])
    ax.minorticks_off()
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("milliseconds")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax.figure


def gradient_reach_plot(reach: dict, *, ax=None, title: str = "how much the last output feels a token d steps back"):
    """Gradient norm against distance (from `experiments.gradient_reach`), log scale; zeros drawn at the floor."""
    if ax is None:
        _, ax = new_figure(5.0, 3.0)
    floor = 1e-30                                                # float32 underflow: show exact zeros at the bottom
    distances = reach["distances"]
    ax.plot(distances, np.maximum(_array(reach["attention"]), floor), **_ATTENTION_STYLE)
    gru = _array(reach["gru"])
    ax.plot(distances, np.maximum(gru, floor), **_GRU_STYLE)
    for d, g in zip(distances, gru):
        if g < floor:
            ax.annotate("< 1e-30", (d, floor), xytext=(-4, 4), textcoords="offset points", ha="right", fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(distances, [str(d) for d in distances])
    ax.minorticks_off()
    ax.set_ylim(bottom=floor / 10)
    ax.set_xlabel("distance d (positions back)")
    ax.set_ylabel("‖∂ output[T-1] / ∂ x[T-1-d]‖")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax.figure


def accuracy_vs_distance(result: dict, *, ax=None, mark: int | None = None,
                         title: str = "key-value recall: accuracy against distance"):
    """Both models' accuracy per distance (from `experiments.long_range_recall`), chance as a dashed line,
    a dotted line at distance `mark`."""
    if ax is None:
        _, ax = new_figure(5.0, 3.0)
    d = result["distances"]
    ax.plot(d, result["attention"],
            **{**_ATTENTION_STYLE, "label": f"attention ({result['attention_params']:,} parameters)"})
    ax.plot(d, result["gru"], **{**_GRU_STYLE, "label": f"GRU ({result['gru_params']:,} parameters)"})
    ax.axhline(result["chance"], color="gray", linestyle="--", linewidth=1, label="chance 随机猜测")
    if mark is not None:
        ax.axvline(mark, color="black", linestyle=":", linewidth=1)
    ax.set_ylim(0, 1.05)
    ax.set_xticks(d[::max(1, len(d) // 8)])
    ax.set_xlabel("distance: the asked pair lies d positions back")
    ax.set_ylabel("accuracy 准确率")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="center right")
    return ax.figure
