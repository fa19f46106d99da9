"""Lesson 03 checkers: multi-head attention (多头注意力): splitting the heads, and the whole layer.

(B, T, d_model) -> (B, h, T, d_k) with head i = features i*d_k .. (i+1)*d_k; attention per head; merge; w_o.
"""
from __future__ import annotations

import math

import torch

from ..i18n import N_, translator
from ._core import Check, checker, is_linear, randn, random_mask, randomize, sandbox, shape_str
from .lesson01_self_attention import attention_variant

_ = translator("lesson03")


_SPLITS = {                            # (B, T, d_model) -> the four-axis tensor each way of splitting gives
    "ok": lambda x, B, T, h, d_k: x.reshape(B, T, h, d_k).transpose(1, 2),          # (B, h, T, d_k)
    "view": lambda x, B, T, h, d_k: x.reshape(B, h, T, d_k),                         # tokens and features mixed up
    "interleave": lambda x, B, T, h, d_k: x.reshape(B, T, d_k, h).permute(0, 3, 1, 2),  # head i: features i, i+h, ...
    "dk_h": lambda x, B, T, h, d_k: x.reshape(B, T, d_k, h).transpose(1, 2),         # (B, d_k, T, h)
    "dk_h_t13": lambda x, B, T, h, d_k: x.reshape(B, T, d_k, h).transpose(1, 3),     # (B, h, d_k, T)
}
_MERGES = {                            # the heads (B, h, T, d_k) -> the axes reshaped to (B, T, d_model)
    "ok": lambda t: t.transpose(1, 2), "none": lambda t: t, "p0231": lambda t: t.permute(0, 2, 3, 1),
    "t23": lambda t: t.transpose(2, 3), "t13": lambda t: t.transpose(1, 3),
}

_ORDER = N_("heads split in the wrong order: view(B, T, d_k, h) makes head i take every h-th feature (i, i+h, "
             "i+2h, ...){also}. Split as (B, T, h, d_k): heads first, then the d_k features of each head: "
             "x.view(B, T, h, d_k).transpose(1, 2), so head i takes the contiguous features i*d_k .. (i+1)*d_k.")
_ORDER_ALSO = {                        # what the wrong order then leads to, inserted into _ORDER at {also}
    "interleave": "",
    "dk_h": N_(", and its .transpose(1, 2) then gives (B, d_k, T, h): d_k 'heads' of h numbers each"),
    "dk_h_t13": N_(", and its .transpose(1, 3) then gives (B, h, d_k, T): attention over features, not tokens"),
}
_VIEW = N_("heads split with view(B, h, T, d_k) and no transpose — that mixes tokens and features. Split with "
           ".view(B, T, h, d_k).transpose(1, 2).")
_MERGE_HINTS = {
    "none": N_("the heads are merged without transposing back — (B, h, T, d_k).reshape(B, T, d_model) mixes "
               "tokens; use heads.transpose(1, 2).reshape(B, T, d_model)."),
    "p0231": N_("the heads are merged in the wrong order: permute(0, 2, 3, 1) gives (B, T, d_k, h), so the merge "
                "interleaves the heads' features. The merge (concatenation of the heads) is "
                "heads.transpose(1, 2).reshape(B, T, d_model): (B, h, T, d_k) -> (B, T, h, d_k) -> (B, T, d_model), "
                "all of head 0's features, then all of head 1's, ..."),
    "t23": N_("the heads are merged with transpose(2, 3), which gives (B, h, d_k, T): the reshape then mixes tokens "
              "and features. The merge (concatenation of the heads) is heads.transpose(1, 2).reshape(B, T, d_model)."),
    "t13": N_("the heads are merged with transpose(1, 3), which gives (B, d_k, T, h): the reshape then mixes tokens "
              "and features. The merge (concatenation of the heads) is heads.transpose(1, 2).reshape(B, T, d_model)."),
}


def _split_hint(how: str) -> str:
    """The hint for one wrong way of splitting, in the reader's language."""
    if how == "view":
        return _(_VIEW)
    also = _ORDER_ALSO[how]
    return _(_ORDER, also=_(also) if also else "")


def _mha_prefix() -> str:
    return _("多头注意力 (multi-head attention): ")


def _split(x: torch.Tensor, h: int, how: str = "ok") -> torch.Tensor:
    B, T, d = x.shape
    return _SPLITS[how](x, B, T, h, d // h)


def _split_merge_hint(split: str, merge: str) -> str:
    """The hint for one way of splitting and merging; at least one of them is wrong."""
    prefix = _mha_prefix()
    if split == "ok":
        return prefix + _(_MERGE_HINTS[merge])
    if merge == "ok":
        return prefix + _split_hint(split)
    return prefix + _("{split} Merge back with .transpose(1, 2).reshape(B, T, d_model); yours is wrong too: {merge}",
                      split=_split_hint(split), merge=_(_MERGE_HINTS[merge]))


def _split_shape_hint(x: torch.Tensor, h: int, ways: dict):
    """A shape hint that looks at the numbers: the first of `ways` (split -> hint) whose result the learner's equals,
    else the hint under the key None (a result of that shape made some other way)."""
    def hint(value):
        for how, text in ways.items():
            if how is None:
                continue
            candidate = _split(x, h, how)
            if candidate.shape == value.shape and torch.equal(candidate, value.detach().to(candidate.dtype)):
                return text
        return ways.get(None)
    return hint


@checker
def check_split_heads(fn) -> None:
    """Check `fn(x, num_heads)`: `(B, T, d_model) -> (B, num_heads, T, d_k)`, head i = features i*d_k .. (i+1)*d_k."""
    c = Check(_("多头注意力 (multi-head attention), splitting the heads"))
    c.callable(fn, _("your split_heads function"), "check_split_heads(split_heads)")
    for B, T, d, h in ((2, 5, 12, 3), (1, 4, 8, 4)):
        x = randn(B, T, d, seed=10 + T)
        on = _("x of shape {shape} with num_heads={h}", shape=shape_str(x.shape), h=h)
        out = c.call(fn, x, h, on=on)
        d_k, prefix = d // h, _mha_prefix()
        out = c.tensor(out, _("the result"), on, (B, h, T, d_k), "(B, num_heads, T, d_k)", shape_hints={
            (B, T, h, d_k): _("you reshaped to (B, T, h, d_k) but did not move the head axis forward: "
                              "add .transpose(1, 2) to get (B, h, T, d_k)."),
            (B, d_k, T, h): _split_shape_hint(x, h, {"dk_h": prefix + _split_hint("dk_h")}),
            (B, h, d_k, T): _split_shape_hint(x, h, {
                "dk_h_t13": prefix + _split_hint("dk_h_t13"),
                None: _("the last two axes are swapped: the result is (B, h, T, d_k).")}),
        })
        c.numbers(out, _split(x, h), _("result"), on, [
            (_("多头注意力 (multi-head attention): heads split with view(B, h, T, d_k) and no transpose — that mixes "
               "tokens and features (the loss may still fall, but the heads are garbage). Split the last axis: "
               "x.view(B, T, h, d_k).transpose(1, 2)."), lambda: _split(x, h, "view")),
            (prefix + _split_hint("interleave"),
             lambda: _split(x, h, "interleave")),
            (prefix + _split_hint("dk_h"), lambda: _split(x, h, "dk_h")),
        ], fallback=_("x.view(B, T, num_heads, d_k).transpose(1, 2)."), atol=0.0, rtol=0.0)
    c.passed()


def _mha(m, h: int, query, key, value, mask=None, *, split: str = "ok", merge: str = "ok", scale: str = "sqrt_dk",
         out_proj: bool = True, value_proj: str = "w_v", self_only: bool = False, softmax_dim: int = -1,
         mask_mode: str = "before") -> torch.Tensor:
    """Reference multi-head attention with the learner's own projections, and its known-wrong variants."""
    B, T_q, d = query.shape
    key_in, value_in = (query, query) if self_only else (key, value)
    q = _split(m.w_q(query), h, split)                                       # (B, h, T_q, d_k)
    k = _split(m.w_k(key_in), h, split)                                      # (B, h, T_k, d_k)
    v = _split((m.w_k if value_proj == "w_k" else m.w_v)(value_in), h, split)
    heads, _ = attention_variant(q, k, v, mask, scale=math.sqrt(d) if scale == "sqrt_dmodel" else scale,
                                 softmax_dim=softmax_dim, mask_mode=mask_mode)  # (B, h, T_q, d_k)
    concat = _MERGES[merge](heads).reshape(B, T_q, d)                       # ok: (B, T_q, h, d_k) -> (B, T_q, d)
    return m.w_o(concat) if out_proj else concat


@checker
def check_multi_head_attention(cls) -> None:
    """Check `cls(d_model, num_heads)` with nn.Linear `w_q, w_k, w_v, w_o` and `forward(query, key, value, mask=None)`.

    query `(B, T_q, d_model)`, key and value `(B, T_k, d_model)`; mask boolean (True = may attend),
    broadcastable to `(B, num_heads, T_q, T_k)`; returns `(B, T_q, d_model)`.
    """
    c = Check(_("多头注意力 (multi-head attention)"))
    c.a_class(cls, "check_multi_head_attention(MultiHeadAttention)")
    d, h = 12, 3
    with sandbox():
        m = c.build(cls, d, h, on=f"MultiHeadAttention(d_model={d}, num_heads={h})")
        for name in ("w_q", "w_k", "w_v", "w_o"):
            layer = getattr(m, name, None)
            if layer is None:
                c.fail(_("expected an attribute {name} (an nn.Linear(d_model, d_model)); yours has none. Create it "
                         "in __init__: self.w_q = nn.Linear(d_model, d_model), and the same for w_k, w_v, w_o.",
                         name=name))
            if not is_linear(layer, d, d):
                c.fail(_("expected {name} to be nn.Linear(d_model, d_model) = nn.Linear({d}, {d}) (all heads side "
                         "by side in one layer), got {layer!r}", name=name, d=d, layer=layer))
        m.eval()
        randomize(m, seed=20)

        def check(on, query, key, value, mask, variants):
            out = c.call(m, query, key, value, mask, on=on)
            out = c.tensor(out, _("the output"), on, query.shape, "(B, T_q, d_model)", shape_hints={
                tuple(key.shape): _("the output must have one row per query: (B, T_q, d_model)."),
                (query.size(0), h, query.size(1), d // h): _("merge the heads back: "
                                                             "heads.transpose(1, 2).reshape(B, T_q, d_model), "
                                                             "then apply w_o."),
            })
            c.repeatable(m, query, key, value, mask, first=out, on=on)
            c.numbers(out, _mha(m, h, query, key, value, mask), _("output"), on,
                      [(hint, lambda kw=kw: _mha(m, h, query, key, value, mask, **kw)) for hint, kw in variants],
                      fallback=_("split with view(B, T, h, d_k).transpose(1, 2); scores / sqrt(d_k); softmax over "
                                 "the keys; merge with transpose(1, 2).reshape(B, T, d_model); then w_o."),
                      atol=1e-4, rtol=1e-4)

        common = [(_split_merge_hint(split, merge), dict(split=split, merge=merge))
                  for split in _SPLITS for merge in _MERGES if (split, merge) != ("ok", "ok")] + [
            (_("多头注意力 (multi-head attention): you scaled by sqrt(d_model); each head compares d_k = d_model / h "
               "numbers, so scale by sqrt(d_k)."), dict(scale="sqrt_dmodel")),
            (_("多头注意力 (multi-head attention): no scaling — divide each head's scores by sqrt(d_k)."),
             dict(scale="none")),
            (_("多头注意力 (multi-head attention): the output projection w_o is missing; concatenate the heads, then "
               "return self.w_o(concat)."), dict(out_proj=False)),
            (_("多头注意力 (multi-head attention): the values are projected with w_k; use w_v for the values."),
             dict(value_proj="w_k")),
            (_("自注意力 (self-attention): your softmax runs over the query axis; use dim=-1 (the keys)."),
             dict(softmax_dim=-2)),
        ]
        x = randn(2, 5, d, seed=21)
        check(_("self-attention, query = key = value of shape {shape}, no mask", shape=shape_str(x.shape)),
              x, x, x, None, common)

        query, key, value = randn(2, 4, d, seed=22), randn(2, 6, d, seed=23), randn(2, 6, d, seed=24)
        on = _("cross-attention, query {query}, key and value {key} (different tensors), no mask",
               query=shape_str(query.shape), key=shape_str(key.shape))
        check(on, query, key, value, None, common + [
            (_("多头注意力 (multi-head attention): keys and values are computed from query; use the key and value "
               "arguments: self.w_k(key), self.w_v(value)."), dict(self_only=True)),
        ])

        mask = random_mask(2, 1, 4, 6, seed=25)
        on = _("the same cross-attention with a boolean mask {shape} (True = may attend)", shape=shape_str(mask.shape))
        check(on, query, key, value, mask, [
            (_("掩码 (mask): its meaning is inverted — True means 'may attend', so fill where the mask is False: "
               "scores.masked_fill(~mask, float('-inf'))."), dict(mask_mode="inverted")),
            (_("掩码 (mask): the mask is ignored; pass it on to the attention of every head "
               "(it broadcasts over the head axis)."), dict(mask_mode="ignored")),
        ] + common)
    c.passed()
