"""Lesson 08, why attention (为什么是注意力): its figures.

Each function draws on a matplotlib `Axes` it is given (or a new figure) and returns the figure, so the
same code serves a static cell, a widget redraw and a test.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from ...drawing import as_array, new_figure
from ...i18n import N_, translator

_ = translator("lesson08")

__all__ = ["depth_and_work_plot", "timing_plot", "gradient_reach_plot", "accuracy_vs_distance"]


_ATTENTION_STYLE = dict(color="tab:blue", marker="o", label=N_("self-attention 自注意力"))
_GRU_STYLE = dict(color="tab:red", marker="s", label=N_("GRU (循环神经网络)"))


def _style(style: dict, label: str | None = None) -> dict:
    """A line style with its legend label in the reader's language (or `label`, already translated)."""
    return {**style, "label": _(style["label"]) if label is None else label}


def depth_and_work_plot(rows: Sequence[dict], *, axes=None):
    """Two log-log panels from `experiments.depth_and_work`: sequential steps (critical path) and flops against T."""
    if axes is None:
        fig = Figure(figsize=(8.0, 3.0), dpi=80, layout="constrained")
        axes = fig.subplots(1, 2)
    lengths = [r["length"] for r in rows]
    for ax, key, ylabel, title in ((axes[0], "depth", _("operations one after another"), _("sequential steps 顺序步数")),
                                   (axes[1], "flops", _("floating-point operations"), _("work 计算量"))):
        ax.plot(lengths, [r[f"attention_{key}"] for r in rows], **_style(_ATTENTION_STYLE))
        ax.plot(lengths, [r[f"gru_{key}"] for r in rows], **_style(_GRU_STYLE))
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(lengths, [str(t) for t in lengths])
        ax.minorticks_off()
        ax.set_xlabel(_("sequence length T"))
        ax.set_ylabel(ylabel)
        ax.set_title(title)
    axes[0].legend(fontsize=8)
    return axes[0].figure


def timing_plot(rows: Sequence[dict], *, ax=None, title: str = N_("time of one forward pass 前向计算时间")):
    """Milliseconds against T for both layers (rows from `experiments.time_attention_vs_gru`), log-log."""
    if ax is None:
        _fig, ax = new_figure(4.5, 3.0)
    lengths = [r["length"] for r in rows]
    ax.plot(lengths, [r["attention_ms"] for r in rows], **_style(_ATTENTION_STYLE))
    ax.plot(lengths, [r["gru_ms"] for r in rows], **_style(_GRU_STYLE))
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(lengths, [str(t) for t in lengths])
    ax.minorticks_off()
    ax.set_xlabel(_("sequence length T"))
    ax.set_ylabel(_("milliseconds"))
    ax.set_title(_(title))
    ax.legend(fontsize=8)
    return ax.figure


def gradient_reach_plot(reach: dict, *, ax=None,
                        title: str = N_("how much the last output feels a token d steps back")):
    """Gradient norm against distance (from `experiments.gradient_reach`), log scale; zeros drawn at the floor."""
    if ax is None:
        _fig, ax = new_figure(5.0, 3.0)
    floor = 1e-30                                                # float32 underflow: show exact zeros at the bottom
    distances = reach["distances"]
    ax.plot(distances, np.maximum(as_array(reach["attention"]), floor), **_style(_ATTENTION_STYLE))
    gru = as_array(reach["gru"])
    ax.plot(distances, np.maximum(gru, floor), **_style(_GRU_STYLE))
    for d, g in zip(distances, gru):
        if g < floor:
            ax.annotate("< 1e-30", (d, floor), xytext=(-4, 4), textcoords="offset points", ha="right", fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(distances, [str(d) for d in distances])
    ax.minorticks_off()
    ax.set_ylim(bottom=floor / 10)
    ax.set_xlabel(_("distance d (positions back)"))
    ax.set_ylabel("‖∂ output[T-1] / ∂ x[T-1-d]‖")
    ax.set_title(_(title))
    ax.legend(fontsize=8)
    return ax.figure


def accuracy_vs_distance(result: dict, *, ax=None, mark: int | None = None,
                         title: str = N_("key-value recall: accuracy against distance")):
    """Both models' accuracy per distance (from `experiments.long_range_recall`), chance as a dashed line,
    a dotted line at distance `mark`."""
    if ax is None:
        _fig, ax = new_figure(5.0, 3.0)
    d = result["distances"]
    ax.plot(d, result["attention"],
            **_style(_ATTENTION_STYLE, _("attention ({n:,} parameters)", n=result["attention_params"])))
    ax.plot(d, result["gru"], **_style(_GRU_STYLE, _("GRU ({n:,} parameters)", n=result["gru_params"])))
    ax.axhline(result["chance"], color="gray", linestyle="--", linewidth=1, label=_("chance 随机猜测"))
    if mark is not None:
        ax.axvline(mark, color="black", linestyle=":", linewidth=1)
    ax.set_ylim(0, 1.05)
    ax.set_xticks(d[::max(1, len(d) // 8)])
    ax.set_xlabel(_("distance: the asked pair lies d positions back"))
    ax.set_ylabel(_("accuracy 准确率"))
    ax.set_title(_(title))
    ax.legend(fontsize=8, loc="center right")
    return ax.figure
