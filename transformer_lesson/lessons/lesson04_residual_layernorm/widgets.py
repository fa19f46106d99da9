"""Lesson 04, residual connections and layer normalisation (残差连接和层归一化): its interactive controls.

Each is a `drawing.FigureWidget`: controls above a figure that is redrawn on every change, with a
caption saying what it shows.
"""
from __future__ import annotations

import ipywidgets as ipw
import torch

from ...drawing import FigureWidget
from ...i18n import translator
from ...residual import LayerNorm
from . import experiments, plots

_ = translator("lesson04")

__all__ = ["layer_norm_widget", "residual_depth_widget"]


def layer_norm_widget(x, token: str = "", eps: float = 1e-5, *, width: float = 8.0,
                      height: float = 3.0) -> FigureWidget:
    """Sliders that scale and shift one token's features `(d_model,)`; LayerNorm's output does not move,
    until the scale is so small that the variance comes near `eps`."""
    x = torch.as_tensor(x).detach().double().reshape(-1)               # (d_model,)
    norm = LayerNorm(x.numel(), eps).double()
    with torch.no_grad():
        reference = norm(x)
    controls = {"scale": ipw.FloatLogSlider(value=1.0, base=10, min=-3, max=2, step=0.25, description=_("scale")),
                "shift": ipw.FloatSlider(value=0.0, min=-10.0, max=10.0, step=0.5, description=_("shift"))}

    def draw(fig, scale, shift):
        x_in = x * scale + shift                                       # the same token, rescaled and moved
        with torch.no_grad():
            y = norm(x_in)
        change = (y - reference).abs().max().item()
        std_in, std_out = x_in.std(correction=0).item(), y.std(correction=0).item()
        fig.set_layout_engine("none")                                  # fixed margins: half the redraw time
        axes = fig.subplots(1, 2, gridspec_kw=dict(left=0.07, right=0.98, bottom=0.18, top=0.89, wspace=0.18))
        plots.feature_bars(x_in, y, axes=axes, token=token, after_ylim=2.5)
        mean_in, mean_out = round(x_in.mean().item(), 2) + 0.0, round(y.mean().item(), 2) + 0.0  # + 0.0: no "-0.00"
        caption = _("input {scale:g}·x {sign} {shift:g}: mean {mean_in:.2f}, std {std_in:.3g}"
                    " → LayerNorm: mean {mean_out:.2f}, std {std_out:.3f}; largest change from LayerNorm(x): {change:.1e}.",
                    scale=scale, sign="+" if shift >= 0 else "-", shift=abs(shift), mean_in=mean_in, std_in=std_in,
                    mean_out=mean_out, std_out=std_out, change=change)
        if std_out < 0.99:
            caption += _(" The variance {var:.1e} is now close to eps = {eps:g}, which damps the output.",
                         var=std_in ** 2, eps=eps)
        return caption, {"scale": scale, "shift": shift, "mean_in": x_in.mean().item(), "std_in": std_in,
                         "mean_out": y.mean().item(), "std_out": std_out, "max_change": change}

    return FigureWidget(draw, controls, width=width, height=height)


def residual_depth_widget(depth: int = 32, gain: float = 1.0, max_depth: int = 64, width: int = 64,
                          seed: int = 0) -> FigureWidget:
    """Sliders for the depth and the weights' gain over `experiments.gradient_flow`: gradient norm per layer
    in the plain stack, with residual connections, and with residual connections and LayerNorm (Pre-LN)."""
    controls = {"depth": ipw.IntSlider(value=depth, min=2, max=max_depth, step=2, description=_("depth")),
                "gain": ipw.FloatSlider(value=gain, min=0.5, max=6.0, step=0.5, description=_("weights ×"))}
    labels = {"plain": _("plain: h = tanh(Wh + b)"), "residual": _("residual: h = h + tanh(Wh + b)"),
              "pre-ln": _("Pre-LN: h = h + tanh(W·LN(h) + b)")}

    def draw(fig, depth, gain):
        flow = experiments.gradient_flow(depth, stacks=experiments.STACKS, gain=gain, width=width, seed=seed)
        fig.set_layout_engine("none")                                  # fixed margins: half the redraw time
        ax = fig.subplots(gridspec_kw=dict(left=0.12, right=0.97, bottom=0.14, top=0.92))
        plots.gradient_norms_plot({labels[name]: flow[name] for name in experiments.STACKS},
                                  ax=ax, title=_("gradient norm per layer, {depth} layers, weights × {gain:g}",
                                                 depth=depth, gain=gain))
        caption = _("{depth} layers, weights × {gain:g}: the first layer gets "
                    "{plain:.1e} × the last layer's gradient in the plain stack, "
                    "{residual:.2g} × with residual connections, "
                    "{pre_ln:.2g} × with residual connections and LayerNorm (Pre-LN).",
                    depth=depth, gain=gain, plain=flow["plain_first_over_last"],
                    residual=flow["residual_first_over_last"], pre_ln=flow["pre-ln_first_over_last"])
        return caption, dict(flow)

    return FigureWidget(draw, controls, width=6.0, height=3.6)
