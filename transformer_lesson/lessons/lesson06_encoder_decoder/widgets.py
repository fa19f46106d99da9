"""Lesson 06, the encoder and the decoder (编码器和解码器): its interactive controls.

Each is a `drawing.FigureWidget`: controls above a figure that is redrawn on every change, with a
caption saying what it shows.
"""
from __future__ import annotations

import html

import ipywidgets as ipw
import torch

from ...drawing import FigureWidget
from ...i18n import translator
from . import experiments, plots

_ = translator("lesson06")

__all__ = ["cross_attention_widget", "future_token_widget"]


def future_token_widget(model, src, tgt_in, tokens, new_token: int, new_label: str, *, position: int | None = None,
                        width: float = 7.0, height: float = 3.0) -> FigureWidget:
    """A slider over which target position gets changed (its token replaced by `new_label`, id `new_token`);
    two curves show how much every position's output changed, with the decoder's causal mask and without it
    (`experiments.future_token_effect`); the changed position and those after it are shaded. `tokens` label
    the target positions of `tgt_in` `(1, T)`."""
    T = tgt_in.size(1)
    if len(tokens) != T:
        raise ValueError(_("expected {T} tokens, one per target position, got {n}", T=T, n=len(tokens)))
    control = ipw.IntSlider(value=T - 2 if position is None else position, min=1, max=T - 1,
                            description=_("change position"), style={"description_width": "initial"})

    def draw(fig, position):
        new_id = new_token if int(tgt_in[0, position]) != new_token else (new_token + 1) % model.tgt_vocab_size
        masked = experiments.future_token_effect(model, src, tgt_in, position, new_id, causal=True)
        unmasked = experiments.future_token_effect(model, src, tgt_in, position, new_id, causal=False)
        fig.set_layout_engine(None)      # fixed margins: no layout engine, so savefig draws once, not twice
        ax = fig.add_subplot(fig.add_gridspec(1, 1, left=0.1, right=0.98, bottom=0.2, top=0.88)[0])
        x = list(range(T))
        ax.axvspan(position - 0.5, T - 0.5, color="0.93")             # the changed position and after
        ax.plot(x, unmasked["changes"], "s--", color="tab:orange", label=_("without a mask"))
        ax.plot(x, masked["changes"], "o-", color="tab:blue", label=_("with the causal mask"))
        ax.set_xticks(x, [f"{t} {tok}" for t, tok in enumerate(tokens)])
        ax.set_xlim(-0.5, T - 0.5)
        ax.set_ylim(bottom=-0.05 * max(max(masked["changes"]), max(unmasked["changes"])))
        ax.set_ylabel(_("max |change| of the logits"))
        ax.set_title(_("position {position}: {token} → {new}", position=position, token=tokens[position],
                       new=new_label))
        ax.legend(fontsize=8, loc="upper left")
        same = [t for t in range(T) if masked["changes"][t] == 0.0]
        moved_unmasked = [t for t in range(position) if unmasked["changes"][t] > 0.0]
        caption = _("Changing position {position} ({token} → {new}): with the causal mask, positions "
                    "0–{before} are unchanged (largest change {earlier_max:.3f}) and positions {position}–{last} "
                    "(shaded) change. Without the mask, {moved} of the {position} earlier positions change too: they "
                    "were looking at the future.", position=position, token=tokens[position], new=new_label,
                    before=position - 1, earlier_max=masked["earlier_max"], last=T - 1, moved=len(moved_unmasked))
        return caption, {"position": position, "unchanged_with_mask": same,
                         "changed_without_mask_before": moved_unmasked,
                         "masked": masked["changes"], "unmasked": unmasked["changes"]}

    return FigureWidget(draw, {"position": control}, width=width, height=height)


def cross_attention_widget(attention_map: dict, *, width: float = 5.6, height: float = 3.8) -> FigureWidget:
    """Layer and head dropdowns over a translation's cross-attention: a dict {"weights" (L, h, T, S), "source",
    "target"} as lesson 06 builds it, or as lesson 07's `experiments.cross_attention_map` returns it;
    "mean of heads" averages the layer's heads. The caption names each Chinese token's favourite English word."""
    weights = torch.as_tensor(attention_map["weights"]).detach().double()       # (L, h, T, S)
    source, target = attention_map["source"], attention_map["target"]
    L, h = weights.shape[:2]
    controls = {"layer": ipw.Dropdown(options=[(_("decoder layer {n}", n=i + 1), i) for i in range(L)], value=L - 1,
                                      description=_("layer")),
                "head": ipw.Dropdown(options=[(_("mean of heads"), -1)] + [(_("head {i}", i=i), i) for i in range(h)],
                                     value=-1, description=_("head"))}

    def draw(fig, layer, head):
        w = weights[layer].mean(0) if head < 0 else weights[layer, head]         # (T, S)
        fig.set_layout_engine(None)      # fixed margins: no layout engine, so savefig draws once, not twice
        ax = fig.add_subplot(fig.add_gridspec(1, 1, left=0.2, right=0.98, bottom=0.25, top=0.91)[0])
        which = _("mean of heads") if head < 0 else _("head {i}", i=head)
        plots.cross_attention_heatmap(w, source, target, ax=ax, colorbar=False, annotate=False,
                                      title=_("decoder layer {n}, {which}", n=layer + 1, which=which))
        ax.set_xlabel(_("English word (key)"))
        ax.set_ylabel(_("Chinese token produced"))
        favourite = [source[int(i)] for i in w.argmax(-1)]
        pairs = ", ".join(f"{html.escape(t)} → {html.escape(s)}" for t, s in zip(target, favourite))
        caption = _("Decoder layer {n}, {which}: {pairs} (each Chinese token's most attended English word).",
                    n=layer + 1, which=which, pairs=pairs)
        return caption, {"layer": layer, "head": head, "favourite": favourite, "weights": w.tolist()}

    return FigureWidget(draw, controls, width=width, height=height)
