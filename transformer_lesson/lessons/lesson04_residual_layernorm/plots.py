"""Lesson 04, residual connections and layer normalisation (残差连接和层归一化): its figures.

Each function draws on a matplotlib `Axes` it is given (or a new figure) and returns the figure, so the
same code serves a static cell, a widget redraw and a test.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..._validate import check_positive_int
from ...drawing import as_array, new_figure
from ...i18n import translator
from .experiments import median_steps

_ = translator("lesson04")

__all__ = ["token_statistics_bars", "feature_bars", "gradient_norms_plot", "loss_curves", "seed_loss_curves",
           "steps_to_threshold_plot"]


def token_statistics_bars(before, after, tokens: Sequence[str], *, axes=None, title: str = ""):
    """Per-token mean and standard deviation over the features `(T, d_model)`, before and after LayerNorm."""
    before, after = as_array(before), as_array(after)
    if before.shape != after.shape or before.ndim != 2 or before.shape[0] != len(tokens):
        raise ValueError(_("expected before and after of shape (T, d_model) with T={n} tokens, "
                           "got {before} and {after}", n=len(tokens), before=before.shape, after=after.shape))
    if axes is None:
        _fig, axes = new_figure(8.0, 2.8, ncols=2)
    axes = np.ravel(axes)
    x, w = np.arange(len(tokens)), 0.38
    for ax, name, b, a, target in ((axes[0], _("mean"), before.mean(-1), after.mean(-1), 0.0),
                                   (axes[1], _("standard deviation"), before.std(-1), after.std(-1), 1.0)):
        ax.bar(x - w / 2, b, w, color="tab:gray", label=_("before LayerNorm"))
        ax.bar(x + w / 2, a, w, color="tab:blue", label=_("after LayerNorm"))
        ax.axhline(target, color="tab:blue", lw=1, ls="--")
        ax.axhline(0.0, color="black", lw=0.6)
        ax.set_xticks(x)
        ax.set_xticklabels(list(tokens))
        ax.set_title(_("{name} per token (over d_model)", name=name))
    axes[0].legend(fontsize=8, loc="best")
    if title:
        axes[0].figure.suptitle(title)
    return axes[0].figure


def feature_bars(before, after, *, axes=None, token: str = "", after_ylim: float | None = None):
    """One token's features before and after LayerNorm, side by side, with each panel's mean and std marked.

    `after_ylim` fixes the right panel's y-range to +-after_ylim, so a widget's redraws are comparable."""
    before, after = as_array(before).ravel(), as_array(after).ravel()
    if axes is None:
        _fig, axes = new_figure(8.0, 2.8, ncols=2)
    axes = np.ravel(axes)
    for ax, values, name, colour in ((axes[0], before, _("input x"), "tab:gray"),
                                     (axes[1], after, "LayerNorm(x)", "tab:blue")):
        mean, std = values.mean(), values.std()                      # numpy's std is the biased one, as in LayerNorm
        ax.bar(np.arange(values.size), values, color=colour)
        ax.axhline(mean, color="tab:red", lw=1.2)                    # the mean, and a band of +- one std around it
        ax.axhspan(mean - std, mean + std, color="tab:red", alpha=0.12)
        ax.axhline(0.0, color="black", lw=0.6)
        ax.set_xlabel(_("feature"))
        std_text = f"{std:.2f}" if std >= 0.01 else f"{std:.1e}"
        mean = round(mean, 2) + 0.0                                  # + 0.0: no "-0.00"
        ax.set_title(_("{name} of “{token}”: mean {mean:.2f}, std {std}", name=name, token=token, mean=mean,
                       std=std_text)
                     if token else _("{name}: mean {mean:.2f}, std {std}", name=name, mean=mean, std=std_text),
                     fontsize=10)
    if after_ylim is not None:
        axes[1].set_ylim(-after_ylim, after_ylim)
    return axes[0].figure


def gradient_norms_plot(norms: dict, *, ax=None, title: str = ""):
    """Gradient norm per layer on a log scale, one line per stack (e.g. {"plain": [...], "residual": [...]})."""
    if ax is None:
        _fig, ax = new_figure(6.0, 3.5)
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator
    lo, hi = np.inf, 0.0
    for label, values in norms.items():
        values = as_array(values)
        ax.semilogy(np.arange(1, values.size + 1), values, marker="o", ms=3, label=label)
        lo, hi = min(lo, values.min()), max(hi, values.max())
    lo, hi = lo / 2, hi * 2
    ax.set_ylim(min(lo, hi / 100), hi)                                 # at least two decades: labelled ticks
    ax.yaxis.set_major_locator(LogLocator(numticks=7))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e+")))
    ax.yaxis.set_minor_locator(NullLocator())                         # few ticks, plain text: a fast redraw
    ax.set_xlabel(_("layer (1 = nearest the input)"))
    ax.set_ylabel(_("gradient norm (log scale)"))
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return ax.figure


def loss_curves(curves: dict, *, ax=None, title: str = "", chance: float | None = None, smooth: int = 1):
    """Training loss against step, one line per run; `smooth` > 1 draws a running mean over that many steps."""
    if ax is None:
        _fig, ax = new_figure(6.0, 3.5)
    for label, values in curves.items():
        values = as_array(values)
        if smooth > 1 and values.size >= smooth:
            values = np.convolve(values, np.ones(smooth) / smooth, mode="valid")
        ax.plot(np.arange(1, values.size + 1) + (smooth - 1 if smooth > 1 else 0), values, label=label)
    if chance is not None:
        ax.axhline(chance, color="gray", lw=1, ls=":", label=_("chance ({chance:.2f})", chance=chance))
    ax.set_xlabel(_("training step"))
    ax.set_ylabel(_("loss (cross-entropy)"))
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax.figure


GROUP_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")   # group i, in every plot


def seed_loss_curves(groups: dict, *, ax=None, title: str = "", chance: float | None = None, smooth: int = 10,
                     thresholds: Sequence[float] = ()):
    """One colour per group {label: [losses of seed 0, losses of seed 1, ...]}, one thin line per seed.

    `smooth` > 1 draws the mean of the last `smooth` steps (as `experiments.steps_to_threshold` measures);
    `thresholds` are drawn as dashed lines."""
    if ax is None:
        _fig, ax = new_figure(6.0, 3.5)
    for colour, (label, runs) in zip(GROUP_COLOURS, groups.items()):
        for index, values in enumerate(runs):
            values = as_array(values)
            if smooth > 1 and values.size >= smooth:
                values = np.convolve(values, np.ones(smooth) / smooth, mode="valid")   # trailing mean
            start = smooth if smooth > 1 else 1
            ax.plot(np.arange(start, start + values.size), values, color=colour, lw=1.0, alpha=0.75,
                    label=label if index == 0 else None)
    for threshold in thresholds:
        ax.axhline(threshold, color="black", lw=0.8, ls="--")
        ax.annotate(_("loss {threshold:g}", threshold=threshold), (1.0, threshold), xycoords=("axes fraction", "data"),
                    xytext=(-2, 2), textcoords="offset points", ha="right", va="bottom", fontsize=8)
    if chance is not None:
        ax.axhline(chance, color="gray", lw=1, ls=":", label=_("chance ({chance:.2f})", chance=chance))
    ax.set_xlabel(_("training step"))
    ax.set_ylabel(_("loss, mean of the last {smooth} steps", smooth=smooth) if smooth > 1
                  else _("loss (cross-entropy)"))
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper right")
    return ax.figure


def steps_to_threshold_plot(rows: dict, *, budget: int, ax=None, title: str = "", row_labels: bool = True):
    """Each seed as a dot at the step where it first got below the threshold, one row per run type
    {label: [step or None, ...]}; None ("never within the budget") is drawn in the grey band right of the
    budget as hollow dots; the median is a black bar with its value. Row i has the colour of group i in
    `seed_loss_curves`. `row_labels=False` leaves the rows unnamed (for a second panel beside a first)."""
    budget = check_positive_int("budget", budget)
    if ax is None:
        _fig, ax = new_figure(6.0, 0.9 + 0.6 * len(rows))
    never_x = budget * 1.1
    for row, (label, steps) in enumerate(rows.items()):
        steps = list(steps)
        offsets = (np.arange(len(steps)) - (len(steps) - 1) / 2) * min(0.12, 0.6 / max(len(steps), 1))
        reached = np.array([s is not None for s in steps], dtype=bool)
        xs = np.array([never_x if s is None else s for s in steps], dtype=float)
        colour = GROUP_COLOURS[row % len(GROUP_COLOURS)]
        ax.scatter(xs[reached], (row + offsets)[reached], s=22, color=colour, alpha=0.8, zorder=3)
        ax.scatter(xs[~reached], (row + offsets)[~reached], s=22, facecolors="none", edgecolors=colour, zorder=3)
        median = median_steps(steps)
        x = never_x if median is None else median
        ax.plot([x, x], [row - 0.3, row + 0.3], color="black", lw=2.2, zorder=4)
        ax.annotate(_("median: never") if median is None else _("median {median:g}", median=median), (x, row - 0.3),
                    xytext=(0, 1), textcoords="offset points", ha="center", va="bottom", fontsize=8)
    ax.axvspan(budget + 0.5, budget * 1.2, color="tab:gray", alpha=0.15)
    ax.annotate(_("never"), (never_x, 1.0), xycoords=("data", "axes fraction"), xytext=(0, -2),
                textcoords="offset points", ha="center", va="top", fontsize=8, color="dimgray")
    ax.set_xlim(0, budget * 1.2)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(list(rows) if row_labels else [])
    ax.set_ylim(len(rows) - 0.45, -0.75)                                # the first row on top
    ax.set_xlabel(_("first step below the threshold (of {budget})", budget=budget))
    ax.set_title(title)
    ax.grid(True, axis="x", alpha=0.3)
    return ax.figure
