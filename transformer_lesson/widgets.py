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
import math
import time
from typing import Any, Callable

import ipywidgets as ipw
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import experiments, plots
from .positional import sinusoidal_encoding
from .residual import LayerNorm

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


# ---- lesson 07: training and generation ----
__all__ += ["cross_attention_widget", "decoding_widget"]


def cross_attention_widget(attention_map: dict, *, width: float = 5.6, height: float = 3.8) -> FigureWidget:
    """Layer and head dropdowns over a translation's cross-attention, from `experiments.cross_attention_map`;
    "mean of heads" averages the layer's heads. The caption names each Chinese token's favourite English word."""
    weights = torch.as_tensor(attention_map["weights"]).detach().double()       # (L, h, T, S)
    source, target = attention_map["source"], attention_map["target"]
    L, h = weights.shape[:2]
    controls = {"layer": ipw.Dropdown(options=[(f"decoder layer {i + 1}", i) for i in range(L)], value=L - 1,
                                      description="layer"),
                "head": ipw.Dropdown(options=[("mean of heads", -1)] + [(f"head {i}", i) for i in range(h)],
                                     value=-1, description="head")}

    def draw(fig, layer, head):
        w = weights[layer].mean(0) if head < 0 else weights[layer, head]         # (T, S)
        fig.set_layout_engine(None)      # fixed margins: no layout engine, so savefig draws once, not twice
        ax = fig.add_subplot(fig.add_gridspec(1, 1, left=0.2, right=0.98, bottom=0.25, top=0.91)[0])
        which = "mean of heads" if head < 0 else f"head {head}"
        plots.cross_attention_heatmap(w, source, target, ax=ax, colorbar=False, annotate=False,
                                      title=f"decoder layer {layer + 1}, {which}")
        ax.set_xlabel("English word (key)")
        ax.set_ylabel("Chinese token produced")
        favourite = [source[int(i)] for i in w.argmax(-1)]
        caption = f"Decoder layer {layer + 1}, {which}: " + ", ".join(
            f"{t} → {s}" for t, s in zip(target, favourite)) + " (each Chinese token's most attended English word)."
        return caption, {"layer": layer, "head": head, "favourite": favourite, "weights": w.tolist()}

    return FigureWidget(draw, controls, width=width, height=height)


def decoding_widget(translators, sentences, *, sentence: str | None = None, beam_size: int = 4,
                    length_penalty: float = 0.6, temperature: float = 1.0, num_samples: int = 8, seed: int = 0,
                    width: float = 8.0, height: float = 3.2) -> FigureWidget:
    """Sliders for beam width, length penalty alpha and sampling temperature, a sentence dropdown and (with
    several translators, `{name: translator}`) a model toggle, over `experiments.decoding_choices`: every
    candidate translation with its log-probability and who found it. The caption names greedy's, beam
    search's and the samples' translations. Samples are seeded, so the same settings show the same samples."""
    from .training import Translator
    models = {"model": translators} if isinstance(translators, Translator) else dict(translators)
    sentences = list(sentences)
    controls = {}
    if len(models) > 1:
        controls["model"] = ipw.ToggleButtons(options=list(models), description="model")
    controls.update({
        "sentence": ipw.Dropdown(options=sentences, value=sentence or sentences[0], description="sentence",
                                 layout=ipw.Layout(width="420px")),
        "beam_size": ipw.IntSlider(value=beam_size, min=1, max=8, description="beam width"),
        "length_penalty": ipw.FloatSlider(value=length_penalty, min=0.0, max=2.0, step=0.1, description="length α"),
        "temperature": ipw.FloatLogSlider(value=temperature, base=10, min=-1, max=0.6, step=0.1,
                                          description="temperature")})
    cache: dict = {}                     # results already computed, so a slider recomputes only its own part

    def draw(fig, sentence, beam_size, length_penalty, temperature, model=next(iter(models))):
        choices = experiments.decoding_choices(models[model], sentence, beam_size, length_penalty, temperature,
                                               num_samples=num_samples, seed=seed, cache=cache)
        fig.set_layout_engine(None)      # fixed margins: no layout engine, so savefig draws once, not twice
        ax = fig.add_subplot(fig.add_gridspec(1, 1, left=0.2, right=0.98, bottom=0.15, top=0.9)[0])
        plots.decoding_bars(choices, ax=ax)
        (greedy, greedy_lp), (best, best_score, best_lp) = choices["greedy"], choices["beam"][0]
        counts = choices["sample_counts"]
        top = max(counts, key=counts.get)
        spread = ("all different" if counts[top] == 1 else
                  f"{len(counts)} different, most often {top} ({counts[top]}×)" if len(counts) > 1 else f"all {top}")
        caption = (f"greedy: {greedy} (log P {greedy_lp:.2f}); beam width {beam_size}, α {length_penalty:.1f}: "
                   f"<b>{best}</b> (log P {best_lp:.2f}, score {best_score:.2f}); {num_samples} samples at "
                   f"temperature {temperature:.2f}: {spread}.")
        return caption, {"model": model, "greedy": greedy, "greedy_log_prob": greedy_lp, "beam": best,
                         "beam_log_prob": best_lp, "beam_score": best_score, "hypotheses": len(choices["beam"]),
                         "distinct_samples": len(counts), "samples": [t for t, _ in choices["samples"]]}

    return FigureWidget(draw, controls, width=width, height=height)


# ---- lesson 06: encoder and decoder ----
__all__ += ["future_token_widget"]


def future_token_widget(model, src, tgt_in, tokens, new_token: int, new_label: str, *, position: int | None = None,
                        width: float = 7.0, height: float = 3.0) -> FigureWidget:
    """A slider over which target position gets changed (its token replaced by `new_label`, id `new_token`);
    two curves show how much every position's output changed, with the decoder's causal mask and without it
    (`experiments.future_token_effect`); the changed position and those after it are shaded. `tokens` label
    the target positions of `tgt_in` `(1, T)`."""
    T = tgt_in.size(1)
    if len(tokens) != T:
        raise ValueError(f"expected {T} tokens, one per target position, got {len(tokens)}")
    control = ipw.IntSlider(value=T - 2 if position is None else position, min=1, max=T - 1,
                            description="change position", style={"description_width": "initial"})

    def draw(fig, position):
        new_id = new_token if int(tgt_in[0, position]) != new_token else (new_token + 1) % model.tgt_vocab_size
        masked = experiments.future_token_effect(model, src, tgt_in, position, new_id, causal=True)
        unmasked = experiments.future_token_effect(model, src, tgt_in, position, new_id, causal=False)
        fig.set_layout_engine(None)      # fixed margins: no layout engine, so savefig draws once, not twice
        ax = fig.add_subplot(fig.add_gridspec(1, 1, left=0.1, right=0.98, bottom=0.2, top=0.88)[0])
        x = list(range(T))
        ax.axvspan(position - 0.5, T - 0.5, color="0.93")             # the changed position and after
        ax.plot(x, unmasked["changes"], "s--", color="tab:orange", label="without a mask")
        ax.plot(x, masked["changes"], "o-", color="tab:blue", label="with the causal mask")
        ax.set_xticks(x, [f"{t} {tok}" for t, tok in enumerate(tokens)])
        ax.set_xlim(-0.5, T - 0.5)
        ax.set_ylim(bottom=-0.05 * max(max(masked["changes"]), max(unmasked["changes"])))
        ax.set_ylabel("max |change| of the logits")
        ax.set_title(f"position {position}: {tokens[position]} → {new_label}")
        ax.legend(fontsize=8, loc="upper left")
        same = [t for t in range(T) if masked["changes"][t] == 0.0]
        moved_unmasked = [t for t in range(position) if unmasked["changes"][t] > 0.0]
        caption = (f"Changing position {position} ({tokens[position]} → {new_label}): with the causal mask, "
                   f"positions 0–{position - 1} are unchanged (largest change {masked['earlier_max']:.3f}) and "
                   f"positions {position}–{T - 1} (shaded) change. Without the mask, {len(moved_unmasked)} of the "
                   f"{position} earlier positions change too: they were looking at the future.")
        return caption, {"position": position, "unchanged_with_mask": same,
                         "changed_without_mask_before": moved_unmasked,
                         "masked": masked["changes"], "unmasked": unmasked["changes"]}

    return FigureWidget(draw, {"position": control}, width=width, height=height)


# ---- lesson 08: why attention ----
__all__ += ["recall_distance_widget"]


def recall_distance_widget(result: dict, *, distance: int | None = None, seed: int = 0, width: float = 9.0,
                           height: float = 2.4) -> FigureWidget:
    """A distance slider over a `experiments.long_range_recall` result: left, both models' accuracy at that
    distance; right, one test sequence at that distance (the asked pair first, the question last) shaded by
    the weights from the question to every position in the attention head that looks the key up (the head
    with the most weight on the asked pair). The caption gives both models' answers on that sequence."""
    attention, gru = result["models"]["attention"], result["models"]["gru"]
    distances = result["distances"]
    control = ipw.IntSlider(value=distances[-1] if distance is None else distance, min=distances[0],
                            max=distances[-1], description="distance")

    def draw(fig, distance):
        generator = torch.Generator().manual_seed(seed + 7919 * distance)
        tokens, answers, _ = experiments.recall_batch(1, distance, generator, asked="first")
        with torch.no_grad():
            attention.eval(), gru.eval()
            answer_attention = int(attention(tokens).argmax(-1))
            rows = attention.layer.self_attn.attention_weights[0, :, -1]     # (h, T): the question's row, per head
            answer_gru = int(gru(tokens).argmax(-1))
        head = int(rows[:, 0].argmax())                                      # the head that looks the key up
        weights = rows[head]
        labels = experiments.recall_tokens(tokens[0])
        i = distances.index(distance)
        acc_a, acc_g = result["attention"][i], result["gru"][i]
        fig.set_layout_engine(None)      # fixed margins: no layout engine, so savefig draws once, not twice
        grid = fig.add_gridspec(1, 2, left=0.1, right=0.99, bottom=0.3, top=0.84, wspace=0.12, width_ratios=[1, 3])
        ax_acc, ax_row = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
        ax_acc.barh([1, 0], [acc_a, acc_g], color=["tab:blue", "tab:red"])
        ax_acc.axvline(result["chance"], color="gray", linestyle="--", linewidth=1)
        for y, acc in ((1, acc_a), (0, acc_g)):
            ax_acc.text(acc + 0.02, y, f"{acc:.2f}", va="center", fontsize=9)
        ax_acc.set_yticks([1, 0], ["attention", "GRU"])
        ax_acc.set_xlim(0, 1.25)
        ax_acc.set_xlabel("accuracy (dashed: chance)")
        ax_acc.set_title(f"distance {distance}")
        ax_row.imshow(weights[None].numpy(), cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
        ax_row.text(0, 0, f"{weights[0]:.2f}", ha="center", va="center", color="white" if weights[0] > 0.5 else "black")
        ax_row.set_xticks(range(len(labels)), labels, fontsize=9 if distance <= 10 else 8)
        ax_row.set_yticks([])
        ax_row.set_xlabel("the sequence (the asked pair first, the question last)")
        ax_row.set_title(f"attention head {head}: where the question {labels[-1]} looks")
        values = experiments.RECALL_VALUES
        caption = (f"Distance {distance}: accuracy {acc_a:.2f} (attention) against {acc_g:.2f} (GRU); chance "
                   f"{result['chance']:.2f}. In this example the question {labels[-1]} asks for "
                   f"{labels[0]}, {distance} positions back; head {head} puts {weights[0]:.2f} of its weight "
                   f"there. Answers: attention {values[answer_attention]}, GRU {values[answer_gru]} "
                   f"(right: {values[int(answers[0])]}).")
        return caption, {"distance": distance, "attention_accuracy": acc_a, "gru_accuracy": acc_g, "head": head,
                         "weight_on_answer": weights[0].item(), "answer_attention": values[answer_attention],
                         "answer_gru": values[answer_gru], "right_answer": values[int(answers[0])]}

    return FigureWidget(draw, {"distance": control}, width=width, height=height)
