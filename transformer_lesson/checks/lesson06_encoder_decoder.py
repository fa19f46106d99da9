"""Lesson 06 checkers: the encoder (编码器) and decoder (解码器) layers, Post-LN as in the paper.

Each checker compares the learner's layer with a reference assembled from the layer's own submodules, so
only the wiring is judged: which sub-layer, which mask, which norm, which residual, in which order.
"""
from __future__ import annotations

import inspect
from typing import Sequence

import torch
from torch import nn

from ..i18n import N_, translator
from ._core import Check, checker, randn, randomize, sandbox, shape_str

_ = translator("lesson06")


def _modules(c: Check, layer, names: Sequence[str], example: str) -> None:
    for name in names:
        if not isinstance(getattr(layer, name, None), nn.Module):
            c.fail(_("expected an attribute `{name}` (an nn.Module); yours has none. {example}",
                     name=name, example=example))
        if name.endswith("attn") and isinstance(getattr(layer, name), nn.MultiheadAttention):
            c.fail(_("`{name}` is torch's nn.MultiheadAttention, which returns a pair (output, weights) and reads "
                     "a boolean mask the other way round (True = hidden); build it from the package instead: "
                     "self.{name} = MultiHeadAttention(d_model, num_heads), which returns one tensor and takes "
                     "True = may attend.", name=name))


def _probe(c: Check, layer, name: str, args: tuple, shape, call: str) -> None:
    """Call one submodule of the learner's layer as the layer should, and check it returns one tensor of `shape`."""
    on = _("your layer's {call}, x of shape {shape}", call=call, shape=shape_str(args[0].shape))
    out = c.call(getattr(layer, name), *args, on=on)
    if not isinstance(out, torch.Tensor):
        if isinstance(out, (tuple, list)):
            c.fail(_("{call} returned {kind} of length {length}; expected one tensor of shape (B, T, d_model) = "
                     "{shape}. Build `{name}` from the package's classes (lesson 03-05), which return a single "
                     "tensor.", call=call, kind=type(out).__name__, length=len(out), shape=shape_str(shape),
                     name=name))
        c.fail(_("{call} returned {kind}; expected one tensor of shape (B, T, d_model) = {shape}. Build `{name}` "
                 "from the package's classes (lesson 03-05), which return a single tensor.",
                 call=call, kind=type(out).__name__, shape=shape_str(shape), name=name))
    if tuple(out.shape) != tuple(shape):
        c.fail(_("{call} returned shape {actual}; expected (B, T, d_model) = {shape}.",
                 call=call, actual=shape_str(out.shape), shape=shape_str(shape)))


class _Spy:
    """Records which of a layer's submodules run, and on what, during the learner's own call of the layer.

    `with _Spy(layer, names) as spy: ...` hooks the submodules called `names` and every LayerNorm-like module of
    the layer outside them (a class name with "Norm", or an attribute name with "norm"); `spy.calls` then lists
    (names of the module, the module, its inputs in the order of its forward's parameters).
    """

    def __init__(self, layer: nn.Module, names: Sequence[str]):
        self.calls: list = []
        inside = {id(m) for name in names for m in getattr(layer, name).modules()}
        labels: dict = {}                                         # id -> (module, [every name it has])
        for name in names:
            module = getattr(layer, name)
            labels.setdefault(id(module), (module, []))[1].append(name)
        for name, module in layer.named_modules(remove_duplicate=False):
            if name and id(module) not in inside and (
                    "norm" in name.rsplit(".", 1)[-1].lower() or "Norm" in type(module).__name__):
                labels.setdefault(id(module), (module, []))[1].append(name)
        self.labels = {key: (module, sorted(set(found))) for key, (module, found) in labels.items()}

    def __enter__(self):
        self.handles = [module.register_forward_pre_hook(self._recorder(names), with_kwargs=True)
                        for module, names in self.labels.values()]
        return self

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()

    def _recorder(self, names):
        def record(module, args, kwargs):
            try:
                inputs = list(inspect.signature(module.forward).bind(*args, **kwargs).arguments.values())
            except (TypeError, ValueError):
                inputs = list(args) + list(kwargs.values())
            self.calls.append((names, module, inputs))
        return record

    def inputs(self, name: str) -> list:
        """The inputs of every call of the submodule `name`."""
        return [inputs for names, _module, inputs in self.calls if name in names]

    def shared_norm(self, sublayers: int) -> str | None:
        """How one LayerNorm serves several sub-layers, or None: fewer distinct norms ran than there are
        sub-layers, and one of them ran more than once (Pre-LN's norm1(x) used for q, k and v is fine)."""
        norms = [(names, module) for names, module, _inputs in self.calls
                 if any("norm" in n.lower() for n in names) or "Norm" in type(module).__name__]
        distinct = {id(module): names for names, module in norms}
        if not norms or len(distinct) >= sublayers or len(norms) == len(distinct):
            return None
        runs = [sum(id(module) == key for _unused, module in norms) for key in distinct]
        twice = "; ".join(
            _("{names} runs twice in one call of your layer", names="/".join(names)) if n == 2 else
            _("{names} runs {n} times in one call of your layer", names="/".join(names), n=n)
            for names, n in zip(distinct.values(), runs) if n > 1)
        unused = ["/".join(names) for key, (_module, names) in self.labels.items() if key not in distinct
                  and any(n.startswith("norm") for n in names)]
        if len(unused) == 1:
            twice += _(", and {names} never runs", names=unused[0])
        elif unused:
            twice += _(", and {names} never run", names=_and(unused))
        return twice


def _and(items: Sequence[str]) -> str:
    """The items joined by "and", in the reader's language ("a and b and c")."""
    return (" " + _("and") + " ").join(items)


def _shared_norm_hint(count: int, detail: str) -> str:
    names = ["norm1", "norm2", "norm3"][:count]
    build = _and([f"self.{n} = LayerNorm(d_model)" for n in names])
    if count == 2:
        return _("层归一化 (LayerNorm): both sub-layers use the same LayerNorm ({detail}): each residual sub-layer "
                 "needs its own (two LayerNorms, with their own γ, β). Build {build}, each on its own line, and use "
                 "each one once.", detail=detail, build=build)
    return _("层归一化 (LayerNorm): several sub-layers use the same LayerNorm ({detail}): each residual sub-layer "
             "needs its own (three LayerNorms, with their own γ, β). Build {build}, each on its own line, and use "
             "each one once.", detail=detail, build=build)


def _same_norms(layer, names: Sequence[str]) -> str | None:
    """Which of the norms `names` are one module, or share a parameter (None if each is its own)."""
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            first, second = getattr(layer, a), getattr(layer, b)
            if first is second:
                return _("self.{a} and self.{b} are one module: self.{a} = self.{b} = LayerNorm(d_model) builds one "
                         "LayerNorm and gives it two names", a=a, b=b)
            if {id(p) for p in first.parameters()} & {id(p) for p in second.parameters()}:
                return _("self.{a} and self.{b} share their γ, β parameters", a=a, b=b)
    return None


@checker
def check_encoder_layer(cls) -> None:
    """Check `cls(d_model, num_heads, d_ff)` with `self_attn`, `feed_forward`, `norm1`, `norm2`; `forward(x, mask=None)`.

    Post-LN, as in the paper:  x = norm1(x + self_attn(x, x, x, mask));  x = norm2(x + feed_forward(x)).
    """
    c = Check(_("编码器层 (encoder layer)"))
    c.a_class(cls, "check_encoder_layer(EncoderLayer)")
    d, h, d_ff = 12, 3, 24
    with sandbox():
        layer = c.build(cls, d, h, d_ff, on=f"EncoderLayer(d_model={d}, num_heads={h}, d_ff={d_ff})")
        _modules(c, layer, ("self_attn", "feed_forward", "norm1", "norm2"),
                 _("Build them in __init__ from the package: MultiHeadAttention, PositionwiseFeedForward, LayerNorm."))
        same = _same_norms(layer, ("norm1", "norm2"))
        if same:
            c.fail(_shared_norm_hint(2, same))
        layer.eval()
        randomize(layer, seed=61)
        sa, ff, n1, n2 = layer.self_attn, layer.feed_forward, layer.norm1, layer.norm2
        x = randn(2, 5, d, seed=62)
        mask = torch.ones(2, 1, 1, 5, dtype=torch.bool)
        mask[1, ..., 3:] = False                                  # the second sentence ends with two pads
        _probe(c, layer, "self_attn", (x, x, x, mask), x.shape, "self_attn(x, x, x, mask)")
        for name in ("feed_forward", "norm1", "norm2"):
            _probe(c, layer, name, (x,), x.shape, f"{name}(x)")

        def post(x, mask):
            x = n1(x + sa(x, x, x, mask))
            return n2(x + ff(x))
        for m, on in ((None, _("x of shape {shape}, no mask", shape=shape_str(x.shape))),
                      (mask, _("x of shape {shape} with a padding mask {mask}", shape=shape_str(x.shape),
                               mask=shape_str(mask.shape)))):
            with _Spy(layer, ("self_attn", "feed_forward")) as spy:
                out = c.call(layer, x, m, on=on)
            shared = spy.shared_norm(2)
            if shared:
                c.fail(_shared_norm_hint(2, shared) + _(" (on {on})", on=on))
            out = c.tensor(out, _("the output"), on, x.shape, "(B, T, d_model)")
            c.repeatable(layer, x, m, first=out, on=on)
            expected = c.expected(lambda: post(x, m), _("the reference built from your layer's own submodules"))
            c.numbers(out, expected, _("output"), on, [
                (_("编码器层 (encoder layer): your layer ignores the mask, so queries attend to padding; pass it on: "
                   "self.self_attn(x, x, x, mask)."), lambda: post(x, None)),
                (_("编码器层 (encoder layer): you built Pre-LN, x + sublayer(norm(x)); this exercise asks for the "
                   "paper's Post-LN: x = norm1(x + self_attn(x, x, x, mask)); x = norm2(x + feed_forward(x))."),
                 lambda: (lambda y: y + ff(n2(y)))(x + sa(n1(x), n1(x), n1(x), m))),
                (_("残差连接 (residual connection) missing around the self-attention: norm1(x + self_attn(...))."),
                 lambda: (lambda y: n2(y + ff(y)))(n1(sa(x, x, x, m)))),
                (_("残差连接 (residual connection) missing around the feed-forward network: norm2(x + feed_forward(x))."),
                 lambda: n2(ff(n1(x + sa(x, x, x, m))))),
                (_("编码器层 (encoder layer): norm1 and norm2 are swapped; norm1 follows the attention, norm2 the FFN."),
                 lambda: (lambda y: n1(y + ff(y)))(n2(x + sa(x, x, x, m)))),
                (_("编码器层 (encoder layer): the feed-forward network runs before the attention; attention first, "
                   "then the FFN."), lambda: (lambda y: n2(y + sa(y, y, y, m)))(n1(x + ff(x)))),
            ], fallback=_("x = norm1(x + self_attn(x, x, x, mask)); return norm2(x + feed_forward(x))."),
                atol=1e-4, rtol=1e-4)
    c.passed()


_CROSS = N_("交叉注意力 (cross-attention): the cross-attention takes its queries from the decoder and its "
            "keys/values from the encoder memory: self.cross_attn(x, memory, memory, memory_mask), x first.")


def _wiring(spy: _Spy, T: int, S: int) -> str | None:
    """What the learner's decoder layer fed its attentions wrongly (queries from memory, swapped masks), or None."""
    def length(t):
        return t.size(-2) if isinstance(t, torch.Tensor) and t.dim() >= 2 else None
    for inputs in spy.inputs("cross_attn"):
        if len(inputs) >= 2 and length(inputs[0]) == S and length(inputs[1]) != S:
            return _(_CROSS) + _(" Yours takes its queries from memory (length S = {S}) and its keys/values from x.",
                                 S=S)
    masks = [(name, inputs[3]) for name in ("self_attn", "cross_attn") for inputs in spy.inputs(name)
             if len(inputs) >= 4 and isinstance(inputs[3], torch.Tensor)]
    if any((name == "self_attn" and m.size(-1) == S) or (name == "cross_attn" and m.dim() == 2 and m.shape == (T, T))
           for name, m in masks):
        return _("掩码 (mask): tgt_mask (T, T) belongs to the self-attention, memory_mask (B, 1, 1, S) to the "
                 "cross-attention; did you swap them?")
    return None


@checker
def check_decoder_layer(cls) -> None:
    """Check `cls(d_model, num_heads, d_ff)` with `self_attn`, `cross_attn`, `feed_forward`, `norm1`, `norm2`, `norm3`.

    forward(x, memory, tgt_mask=None, memory_mask=None), Post-LN as in the paper:
        x = norm1(x + self_attn(x, x, x, tgt_mask))              # masked self-attention: only the past
        x = norm2(x + cross_attn(x, memory, memory, memory_mask)) # queries from the decoder, keys/values from the encoder
        x = norm3(x + feed_forward(x))
    """
    c = Check(_("解码器层 (decoder layer)"))
    c.a_class(cls, "check_decoder_layer(DecoderLayer)")
    d, h, d_ff = 12, 3, 24
    with sandbox():
        layer = c.build(cls, d, h, d_ff, on=f"DecoderLayer(d_model={d}, num_heads={h}, d_ff={d_ff})")
        _modules(c, layer, ("self_attn", "cross_attn", "feed_forward", "norm1", "norm2", "norm3"),
                 _("Build them in __init__ from the package: two MultiHeadAttention, a PositionwiseFeedForward, "
                   "three LayerNorm."))
        if layer.self_attn is layer.cross_attn:
            c.fail(_("self_attn and cross_attn are the same module; the layer needs two separate attention modules "
                     "with their own weights."))
        same = _same_norms(layer, ("norm1", "norm2", "norm3"))
        if same:
            c.fail(_shared_norm_hint(3, same))
        layer.eval()
        randomize(layer, seed=71)
        sa, ca, ff = layer.self_attn, layer.cross_attn, layer.feed_forward
        n1, n2, n3 = layer.norm1, layer.norm2, layer.norm3
        T, S = 5, 7
        x, memory = randn(2, T, d, seed=72), randn(2, S, d, seed=73)
        tgt_mask = torch.ones(T, T, dtype=torch.bool).tril()
        memory_mask = torch.ones(2, 1, 1, S, dtype=torch.bool)
        memory_mask[1, ..., 4:] = False                                     # the second source ends with pads
        _probe(c, layer, "self_attn", (x, x, x, tgt_mask), x.shape, "self_attn(x, x, x, tgt_mask)")
        _probe(c, layer, "cross_attn", (x, memory, memory, memory_mask), x.shape,
               "cross_attn(x, memory, memory, memory_mask)")
        for name in ("feed_forward", "norm1", "norm2", "norm3"):
            _probe(c, layer, name, (x,), x.shape, f"{name}(x)")

        def layer_of(x, tm, mm, *, pre=False, cross=None, order="sc", norms=(None, None, None), res=(1, 1, 1)):
            a, b, f = norms[0] or n1, norms[1] or n2, norms[2] or n3
            cross = cross or (lambda y: ca(y, memory, memory, mm))
            subs = {"s": (lambda y: sa(y, y, y, tm)), "c": cross}
            steps = [(subs[order[0]], a, res[0]), (subs[order[1]], b, res[1]), (ff, f, res[2])]
            for sub, nrm, r in steps:
                x = (x + sub(nrm(x))) if pre else nrm(x * r + sub(x))
            return x

        cases = [(None, None, _("x {x} and memory {memory}, no masks", x=shape_str(x.shape),
                                memory=shape_str(memory.shape))),
                 (tgt_mask, None, _("the same with a causal tgt_mask {tgt_mask}", tgt_mask=shape_str(tgt_mask.shape))),
                 (tgt_mask, memory_mask, _("the same with tgt_mask {tgt_mask} and a padding memory_mask {memory_mask}",
                                           tgt_mask=shape_str(tgt_mask.shape),
                                           memory_mask=shape_str(memory_mask.shape)))]
        for tm, mm, on in cases:
            with _Spy(layer, ("self_attn", "cross_attn", "feed_forward")) as spy:
                out = c.call(layer, x, memory, tm, mm, on=on, advice=lambda error: _wiring(spy, T, S) or _(
                    "x is (B, T, d_model) and memory (B, S, d_model), here with T = {T} and S = {S}: the "
                    "self-attention works on x alone with tgt_mask (T, T); the cross-attention takes its queries "
                    "from x and its keys and values from memory, with memory_mask (B, 1, 1, S).", T=T, S=S))
            wiring = _wiring(spy, T, S)
            if wiring:
                c.fail(wiring + _(" (on {on})", on=on))
            shared = spy.shared_norm(3)
            if shared:
                c.fail(_shared_norm_hint(3, shared) + _(" (on {on})", on=on))
            out = c.tensor(out, _("the output"), on, x.shape, "(B, T, d_model)", shape_hints={
                tuple(memory.shape): _("交叉注意力 (cross-attention): the queries come from the decoder (x), the keys "
                                       "and values from the encoder's output: cross_attn(x, memory, memory, "
                                       "memory_mask)."),
            })
            c.repeatable(layer, x, memory, tm, mm, first=out, on=on)
            expected = c.expected(lambda: layer_of(x, tm, mm), _("the reference built from your layer's own submodules"))
            c.numbers(out, expected, _("output"), on, [
                (_("交叉注意力 (cross-attention) ignores the encoder: you attend over x again; keys and values come from "
                   "memory: self.cross_attn(x, memory, memory, memory_mask)."),
                 lambda: layer_of(x, tm, mm, cross=lambda y: ca(y, y, y, tm))),
                (_("交叉注意力 (cross-attention) ignores the encoder: you attend over x again; keys and values come from "
                   "memory: self.cross_attn(x, memory, memory, memory_mask)."),
                 lambda: layer_of(x, tm, mm, cross=lambda y: ca(y, y, y, None))),
                (_("交叉注意力 (cross-attention) uses self_attn's weights; use the layer's own cross_attn module."),
                 lambda: layer_of(x, tm, mm, cross=lambda y: sa(y, memory, memory, mm))),
                (_("解码器 (decoder): your layer ignores tgt_mask, so each position sees future target tokens; pass it "
                   "to the self-attention: self.self_attn(x, x, x, tgt_mask)."), lambda: layer_of(x, None, mm)),
                (_("解码器 (decoder): your layer ignores memory_mask, so queries attend to source padding; pass it "
                   "to the cross-attention: self.cross_attn(x, memory, memory, memory_mask)."),
                 lambda: layer_of(x, tm, None)),
                (_("解码器层 (decoder layer): you built Pre-LN, x + sublayer(norm(x)); this exercise asks for the "
                   "paper's Post-LN: x = norm(x + sublayer(x)) after each of the three sub-layers."),
                 lambda: layer_of(x, tm, mm, pre=True)),
                (_("解码器层 (decoder layer): the cross-attention runs before the masked self-attention; the order is "
                   "self-attention, cross-attention, feed-forward."), lambda: layer_of(x, tm, mm, order="cs")),
                (_("解码器层 (decoder layer): the cross-attention runs before the masked self-attention; the order is "
                   "self-attention, cross-attention, feed-forward."),
                 lambda: layer_of(x, tm, mm, order="cs", norms=(n2, n1, n3))),
                (_("解码器层 (decoder layer): the LayerNorms are used in the wrong order: norm1 after the "
                   "self-attention, norm2 after the cross-attention, norm3 after the FFN."),
                 lambda: layer_of(x, tm, mm, norms=(n2, n1, n3))),
                (_("解码器层 (decoder layer): the LayerNorms are used in the wrong order: norm1 after the "
                   "self-attention, norm2 after the cross-attention, norm3 after the FFN."),
                 lambda: layer_of(x, tm, mm, norms=(n1, n3, n2))),
                (_("残差连接 (residual connection) missing around the self-attention: norm1(x + self_attn(...))."),
                 lambda: layer_of(x, tm, mm, res=(0, 1, 1))),
                (_("残差连接 (residual connection) missing around the cross-attention: norm2(x + cross_attn(...))."),
                 lambda: layer_of(x, tm, mm, res=(1, 0, 1))),
                (_("残差连接 (residual connection) missing around the feed-forward network: norm3(x + feed_forward(x))."),
                 lambda: layer_of(x, tm, mm, res=(1, 1, 0))),
            ], fallback=_("x = norm1(x + self_attn(x, x, x, tgt_mask)); x = norm2(x + cross_attn(x, memory, memory, "
                          "memory_mask)); return norm3(x + feed_forward(x))."), atol=1e-4, rtol=1e-4)
    c.passed()
