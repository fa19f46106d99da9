"""Interactive controls for the lessons, built on one small class: `FigureWidget`.

A `FigureWidget` is controls (sliders, dropdowns) above a picture. Each change of a control calls a plain
`draw(fig, **values)` function that draws on a fresh matplotlib figure and returns a short caption saying
what is shown. The figure is rendered to PNG and put in an `ipywidgets.Image`, so:
- a test can set `w.controls["d_k"].value = 64` headlessly and read `w.caption` and `w.summary`;
- the notebook stores the widget's state, so a static render (GitHub, nbconvert) shows its first view;
- no pyplot state leaks between redraws.
"""
from __future__ import annotations

import io
import time
from typing import Any, Callable

import ipywidgets as ipw
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["FigureWidget", "render_png"]


def render_png(fig: Figure, dpi: int | None = None) -> bytes:
    """Render a matplotlib figure to PNG bytes (Agg, no display needed)."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi)
    return buf.getvalue()


class FigureWidget(ipw.VBox):
    """Controls above a figure that is redrawn whenever a control changes.

    `draw(fig, **values)` draws on `fig` (a fresh `matplotlib.figure.Figure`) and returns either a caption
    string or a `(caption, summary)` pair, where `summary` is a dict of the numbers shown, for tests.
    """

    def __init__(self, draw: Callable[..., Any], controls: dict[str, ipw.ValueWidget], *,
                 width: float = 6.0, height: float = 4.0, dpi: int = 80):
        self.draw_fn, self.controls = draw, dict(controls)
        self.figsize, self.dpi = (width, height), dpi
        self.image = ipw.Image(format="png", layout=ipw.Layout(max_width=f"{int(width * dpi)}px"))
        self.caption_html = ipw.HTML()
        self.caption, self.summary, self.renders, self.last_render_seconds = "", {}, 0, 0.0
        super().__init__([ipw.HBox(list(self.controls.values()), layout=ipw.Layout(flex_flow="row wrap")),
                          self.image, self.caption_html])
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.refresh()

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
        self.image.value = render_png(fig)
        self.caption, self.summary = caption, dict(summary)
        self.caption_html.value = f"<div style='font-family: sans-serif'>{caption}</div>"
        self.renders += 1
        self.last_render_seconds = time.perf_counter() - start


# ---- lesson 01: self-attention ----
import math  # noqa: E402  (section imports: lessons 01-02)

import torch  # noqa: E402

from . import experiments, plots  # noqa: E402
from .positional import sinusoidal_encoding  # noqa: E402

__all__ += ["attention_row_widget", "d_k_scaling_widget"]


def attention_row_widget(weights, tokens, *, width: float = 5.0, height: float = 3.0) -> FigureWidget:
    """A dropdown over the query tokens; shows the chosen query's row of the `(T, T)` weights as bars."""
    w = torch.as_tensor(weights).detach().double()
    if w.dim() != 2 or w.shape != (len(tokens), len(tokens)):
        raise ValueError(f"expected weights of shape (T, T) = ({len(tokens)}, {len(tokens)}) for "
                         f"{len(tokens)} tokens, got {tuple(w.shape)}")
    query = ipw.Dropdown(options=[(f"{i}: {t}", i) for i, t in enumerate(tokens)], value=len(tokens) - 1,
                         description="query")

    def draw(fig, query):
        row = w[query]
        top = int(row.argmax())
        fig.set_layout_engine(None)                                  # fixed margins: no layout passes, twice as fast
        ax = fig.subplots(gridspec_kw=dict(left=0.14, right=0.97, bottom=0.17, top=0.88))
        plots.attention_row_bars(row, tokens, ax=ax, title=f"query \"{tokens[query]}\": its row of the weights")
        caption = (f"“{tokens[query]}” attends most to “{tokens[top]}” (weight {row[top]:.2f}); "
                   f"its weights sum to {row.sum():.2f}.")
        return caption, {"query": tokens[query], "top_key": tokens[top], "top_weight": row[top].item(),
                         "weights": row.tolist()}

    return FigureWidget(draw, {"query": query}, width=width, height=height)


def d_k_scaling_widget(d_ks=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512), value: int = 64, n_keys: int = 16,
                       n_queries: int = 1000, seed: int = 0) -> FigureWidget:
    """A d_k slider: one query's softmax with and without 1/sqrt(d_k), and entropy / gradient size vs d_k."""
    d_ks = [int(d) for d in d_ks]
    rows = experiments.softmax_saturation(d_ks, n_keys=n_keys, n_queries=n_queries, seed=seed)  # once, not per redraw
    d_k = ipw.SelectionSlider(options=d_ks, value=value, description="d_k")

    def draw(fig, d_k):
        g = torch.Generator().manual_seed(seed)
        q, k = torch.randn(d_k, generator=g), torch.randn(n_keys, d_k, generator=g)
        raw = k @ q                                                  # (n_keys, d_k) @ (d_k,) -> (n_keys,)
        fig.set_layout_engine(None)                                  # fixed margins: no layout passes, twice as fast
        ax_bars, ax_entropy, ax_grad = fig.subplots(1, 3, gridspec_kw=dict(left=0.06, right=0.99, bottom=0.16,
                                                                           top=0.9, wspace=0.3))
        plots.softmax_scaling_bars(torch.softmax(raw, -1), torch.softmax(raw / math.sqrt(d_k), -1), ax=ax_bars,
                                   title=f"one query, d_k = {d_k}")
        plots.saturation_curves(rows, "entropy", ax=ax_entropy, mark_d_k=d_k)
        plots.saturation_curves(rows, "grad", ax=ax_grad, mark_d_k=d_k)
        row = rows[d_ks.index(d_k)]
        caption = (f"d_k = {d_k}: entropy {row['entropy_unscaled']:.2f} nats without the scale, "
                   f"{row['entropy_scaled']:.2f} with it (uniform: log {n_keys} = {math.log(n_keys):.2f}); "
                   f"gradient size {row['grad_unscaled']:.3f} without, {row['grad_scaled']:.3f} with.")
        return caption, dict(row)

    return FigureWidget(draw, {"d_k": d_k}, width=10.0, height=3.2)


# ---- lesson 02: positional encoding ----
__all__ += ["positional_encoding_widget"]


def positional_encoding_widget(max_len: int = 50, d_model: int = 64) -> FigureWidget:
    """Two sliders, the number of positions and the width d_model, above the sinusoidal table as a heatmap."""
    controls = {"max_len": ipw.IntSlider(value=max_len, min=2, max=200, description="max_len"),
                "d_model": ipw.IntSlider(value=d_model, min=4, max=256, step=2, description="d_model")}

    def draw(fig, max_len, d_model):
        pe = sinusoidal_encoding(max_len, d_model)
        fig.set_layout_engine(None)                                  # fixed margins: no layout passes, twice as fast
        ax = fig.subplots(gridspec_kw=dict(left=0.11, right=1.0, bottom=0.14, top=0.9))
        plots.positional_encoding_heatmap(pe, ax=ax, title=f"位置编码 PE: {max_len} positions × {d_model} dimensions")
        slowest = 2 * math.pi * 10000.0 ** ((d_model - 2) / d_model)
        caption = (f"{max_len} positions × {d_model} dimensions, values in [{pe.min():.2f}, {pe.max():.2f}]. "
                   f"Wavelengths grow from 2π ≈ 6.3 positions (dimensions 0, 1) to {slowest:,.0f} positions "
                   f"(dimensions {d_model - 2}, {d_model - 1}).")
        return caption, {"shape": tuple(pe.shape), "min": pe.min().item(), "max": pe.max().item(),
                         "slowest_wavelength": slowest}

    return FigureWidget(draw, controls, width=6.0, height=3.5)


# ---- lesson 03: multi-head attention ----
__all__ += ["head_selector_widget"]


def _offset_phrase(offset: int) -> str:
    if offset == 0:
        return "the word itself"
    side = "left (earlier)" if offset < 0 else "right (later)"
    return f"the word {abs(offset)} word{'s' if abs(offset) > 1 else ''} to its {side}"


def head_selector_widget(weights_by_model: dict, tokens, *, width: float = 5.0, height: float = 3.6) -> FigureWidget:
    """A head dropdown (and a model toggle when there are several) above one head's `(T, T)` weights on the
    sentence, the cells of the head's favourite offset (key − query) outlined. `weights_by_model` maps a name to
    weights of shape `(h, T, T)`."""
    weights = {name: torch.as_tensor(w).detach().double() for name, w in weights_by_model.items()}
    shapes = {tuple(w.shape) for w in weights.values()}
    T = len(tokens)
    if len(shapes) != 1 or len(next(iter(shapes))) != 3 or next(iter(shapes))[1:] != (T, T):
        raise ValueError(f"expected every model's weights of one shape (h, T, T) with T={T} tokens, "
                         f"got {sorted(shapes)}")
    h = next(iter(shapes))[0]
    favourite = {name: experiments.dominant_offsets(w) for name, w in weights.items()}   # once, not per redraw
    controls = {"head": ipw.Dropdown(options=[(f"head {i}", i) for i in range(h)], value=0, description="head")}
    if len(weights) > 1:
        controls["model"] = ipw.ToggleButtons(options=list(weights), description="model")

    def draw(fig, head, model=next(iter(weights))):
        fig.set_layout_engine(None)     # fixed margins: no layout engine, so savefig draws once, not twice
        ax = fig.add_subplot(fig.add_gridspec(1, 1, left=0.2, right=0.97, bottom=0.17, top=0.91)[0])
        offset, share = favourite[model][head]
        plots.heatmap(weights[model][head], tokens, tokens, ax=ax, title=f"{model}: head {head}",
                      xlabel="key (attended to)", ylabel="query (attending)", cmap="Blues", vmin=0.0, vmax=1.0,
                      annotate=True, colorbar=False)
        plots.mark_offset(ax, offset, T)
        caption = (f"{model}, head {head}: {share:.0%} of this head's attention goes to "
                   f"{_offset_phrase(offset)} (offset {offset:+d}, outlined in orange).")
        return caption, {"model": model, "head": head, "dominant_offset": offset, "weight": share}

    return FigureWidget(draw, controls, width=width, height=height)


# ---- lesson 05: position-wise feed-forward network ----
__all__ += ["ffn_hidden_widget"]


def ffn_hidden_widget(x, tokens, *, d_ff_options=(16, 32, 64, 128, 256), d_ff: int = 64, activation: str = "relu",
                      seed: int = 0, width: float = 8.0, height: float = 3.0) -> FigureWidget:
    """A d_ff slider and an activation dropdown over the hidden activations `activation(x W1^T + b1)`,
    `(T, d_ff)`, of a seeded FFN on the sentence `x` `(T, d_model)`; the caption counts the zeros."""
    x = torch.as_tensor(x).detach()
    if x.dim() != 2 or x.size(0) != len(tokens):
        raise ValueError(f"expected x of shape (T, d_model) with T={len(tokens)} tokens, got {tuple(x.shape)}")
    controls = {"d_ff": ipw.SelectionSlider(options=[int(d) for d in d_ff_options], value=d_ff, description="d_ff"),
                "activation": ipw.Dropdown(options=["relu", "gelu"], value=activation, description="activation")}

    def draw(fig, d_ff, activation):
        ffn = experiments.seeded_feed_forward(x.size(-1), d_ff, activation, seed)
        with torch.no_grad():
            hidden = ffn.activation(ffn.linear1(x))                      # (T, d_model) -> (T, d_ff)
        stats = experiments.hidden_activation_stats(hidden)
        fig.set_layout_engine(None)     # fixed margins: no layout engine, so savefig draws once, not twice
        ax = fig.add_subplot(fig.add_gridspec(1, 1, left=0.11, right=1.0, bottom=0.17, top=0.9)[0])
        plots.hidden_activation_heatmap(hidden, tokens, ax=ax,
                                        title=f"{activation}(x W1 + b1): {len(tokens)} positions × {d_ff} hidden units")
        if activation == "relu":
            caption = (f"ReLU, d_ff = {d_ff}: {stats['zero_fraction']:.0%} of the {hidden.numel()} hidden "
                       f"activations are exactly 0 (white): those units are switched off for that word.")
        else:
            caption = (f"GELU, d_ff = {d_ff}: {stats['zero_fraction']:.0%} are exactly 0; "
                       f"{stats['negative_fraction']:.0%} are small negatives (down to {stats['min']:.2f}), "
                       f"where ReLU would give 0.")
        return caption, {"d_ff": d_ff, "activation": activation, **stats}

    return FigureWidget(draw, controls, width=width, height=height)


# ---- lesson 04: residual connections and layer normalisation ----
from .residual import LayerNorm  # noqa: E402  (section imports: lesson 04)

__all__ += ["layer_norm_widget", "residual_depth_widget"]


def layer_norm_widget(x, token: str = "", eps: float = 1e-5, *, width: float = 8.0,
                      height: float = 3.0) -> FigureWidget:
    """Sliders that scale and shift one token's features `(d_model,)`; LayerNorm's output does not move,
    until the scale is so small that the variance comes near `eps`."""
    x = torch.as_tensor(x).detach().double().reshape(-1)               # (d_model,)
    norm = LayerNorm(x.numel(), eps).double()
    with torch.no_grad():
        reference = norm(x)
    controls = {"scale": ipw.FloatLogSlider(value=1.0, base=10, min=-3, max=2, step=0.25, description="scale"),
                "shift": ipw.FloatSlider(value=0.0, min=-10.0, max=10.0, step=0.5, description="shift")}

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
        caption = (f"input {scale:g}·x {'+' if shift >= 0 else '-'} {abs(shift):g}: mean {mean_in:.2f}, std {std_in:.3g}"
                   f" → LayerNorm: mean {mean_out:.2f}, std {std_out:.3f}; largest change from LayerNorm(x): {change:.1e}.")
        if std_out < 0.99:
            caption += f" The variance {std_in ** 2:.1e} is now close to eps = {eps:g}, which damps the output."
        return caption, {"scale": scale, "shift": shift, "mean_in": x_in.mean().item(), "std_in": std_in,
                         "mean_out": y.mean().item(), "std_out": std_out, "max_change": change}

    return FigureWidget(draw, controls, width=width, height=height)


def residual_depth_widget(depth: int = 32, max_depth: int = 64, width: int = 64, seed: int = 0) -> FigureWidget:
    """A depth slider over `experiments.gradient_flow`: gradient norm per layer, plain stack against residual."""
    control = ipw.IntSlider(value=depth, min=2, max=max_depth, step=2, description="depth")

    def draw(fig, depth):
        flow = experiments.gradient_flow(depth, width=width, seed=seed)
        fig.set_layout_engine("none")                                  # fixed margins: half the redraw time
        ax = fig.subplots(gridspec_kw=dict(left=0.12, right=0.97, bottom=0.14, top=0.92))
        plots.gradient_norms_plot({"plain: h = tanh(Wh + b)": flow["plain"],
                                   "residual: h = h + tanh(Wh + b)": flow["residual"]},
                                  ax=ax, title=f"gradient norm per layer, {depth} layers")
        caption = (f"{depth} layers: the first layer gets {flow['plain_first_over_last']:.1e} × the last layer's "
                   f"gradient without residual connections, {flow['residual_first_over_last']:.2f} × with them.")
        return caption, {k: v for k, v in flow.items()}

    return FigureWidget(draw, {"depth": control}, width=6.0, height=3.6)
