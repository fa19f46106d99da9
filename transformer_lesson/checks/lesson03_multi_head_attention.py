"""Lesson 03 checkers: multi-head attention (多头注意力): splitting the heads, and the whole layer.

(B, T, d_model) -> (B, h, T, d_k) with head i = features i*d_k .. (i+1)*d_k; attention per head; merge; w_o.
"""
from __future__ import annotations

import math

import torch

from ._core import Check, checker, is_linear, randn, random_mask, randomize, sandbox, shape_str
from .lesson01_self_attention import attention_variant


def _split(x: torch.Tensor, h: int, how: str = "ok") -> torch.Tensor:
    B, T, d = x.shape
    d_k = d // h
    if how == "ok":
        return x.view(B, T, h, d_k).transpose(1, 2)              # (B, T, d) -> (B, T, h, d_k) -> (B, h, T, d_k)
    if how == "view":
        return x.reshape(B, h, T, d_k)                           # the mistake: tokens and features mixed up
    if how == "interleave":
        return x.reshape(B, T, d_k, h).permute(0, 3, 1, 2)       # head i takes features i, i+h, i+2h, ...
    raise ValueError(how)


@checker
def check_split_heads(fn) -> None:
    """Check `fn(x, num_heads)`: `(B, T, d_model) -> (B, num_heads, T, d_k)`, head i = features i*d_k .. (i+1)*d_k."""
    c = Check("多头注意力 (multi-head attention), splitting the heads")
    c.callable(fn, "your split_heads function", "check_split_heads(split_heads)")
    for B, T, d, h in ((2, 5, 12, 3), (1, 4, 8, 4)):
        x = randn(B, T, d, seed=10 + T)
        on = f"x of shape {shape_str(x.shape)} with num_heads={h}"
        out = c.call(fn, x, h, on=on)
        out = c.tensor(out, "the result", on, (B, h, T, d // h), "(B, num_heads, T, d_k)", shape_hints={
            (B, T, h, d // h): "you reshaped to (B, T, h, d_k) but did not move the head axis forward: "
                               "add .transpose(1, 2) to get (B, h, T, d_k).",
            (B, h, d // h, T): "the last two axes are swapped: the result is (B, h, T, d_k).",
        })
        c.numbers(out, _split(x, h), "result", on, [
            ("多头注意力 (multi-head attention): heads split with view(B, h, T, d_k) and no transpose — that mixes "
             "tokens and features (the loss may still fall, but the heads are garbage). Split the last axis: "
             "x.view(B, T, h, d_k).transpose(1, 2).", lambda: _split(x, h, "view")),
            ("多头注意力 (multi-head attention): your heads take every h-th feature (interleaved); head i must take "
             "the contiguous block of features i*d_k .. (i+1)*d_k: x.view(B, T, h, d_k).transpose(1, 2).",
             lambda: _split(x, h, "interleave")),
        ], fallback="x.view(B, T, num_heads, d_k).transpose(1, 2).", atol=0.0, rtol=0.0)
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
    if merge == "ok":
        concat = heads.transpose(1, 2).reshape(B, T_q, d)                    # (B, T_q, h, d_k) -> (B, T_q, d)
    else:
        concat = heads.reshape(B, T_q, d)                                    # the mistake: no transpose back
    return m.w_o(concat) if out_proj else concat


@checker
def check_multi_head_attention(cls) -> None:
    """Check `cls(d_model, num_heads)` with nn.Linear `w_q, w_k, w_v, w_o` and `forward(query, key, value, mask=None)`.

    query `(B, T_q, d_model)`, key and value `(B, T_k, d_model)`; mask boolean (True = may attend),
    broadcastable to `(B, num_heads, T_q, T_k)`; returns `(B, T_q, d_model)`.
    """
    c = Check("多头注意力 (multi-head attention)")
    c.a_class(cls, "check_multi_head_attention(MultiHeadAttention)")
    d, h = 12, 3
    with sandbox():
        m = c.build(cls, d, h, on=f"MultiHeadAttention(d_model={d}, num_heads={h})")
        for name in ("w_q", "w_k", "w_v", "w_o"):
            layer = getattr(m, name, None)
            if layer is None:
                c.fail(f"expected an attribute {name} (an nn.Linear(d_model, d_model)); yours has none. "
                       "Create it in __init__: self.w_q = nn.Linear(d_model, d_model), and the same for w_k, w_v, w_o.")
            if not is_linear(layer, d, d):
                c.fail(f"expected {name} to be nn.Linear(d_model, d_model) = nn.Linear({d}, {d}) (all heads side by "
                       f"side in one layer), got {layer!r}")
        m.eval()
        randomize(m, seed=20)

        def check(on, query, key, value, mask, variants):
            out = c.call(m, query, key, value, mask, on=on)
            out = c.tensor(out, "the output", on, query.shape, "(B, T_q, d_model)", shape_hints={
                tuple(key.shape): "the output must have one row per query: (B, T_q, d_model).",
                (query.size(0), h, query.size(1), d // h): "merge the heads back: "
                    "heads.transpose(1, 2).reshape(B, T_q, d_model), then apply w_o.",
            })
            c.numbers(out, _mha(m, h, query, key, value, mask), "output", on,
                      [(hint, lambda kw=kw: _mha(m, h, query, key, value, mask, **kw)) for hint, kw in variants],
                      fallback="split with view(B, T, h, d_k).transpose(1, 2); scores / sqrt(d_k); softmax over "
                               "the keys; merge with transpose(1, 2).reshape(B, T, d_model); then w_o.",
                      atol=1e-4, rtol=1e-4)

        common = [
            ("多头注意力 (multi-head attention): heads split with view(B, h, T, d_k) and no transpose — that mixes "
             "tokens and features. Split with .view(B, T, h, d_k).transpose(1, 2) and merge back with "
             ".transpose(1, 2).reshape(B, T, d_model).", dict(split="view", merge="no_transpose")),
            ("多头注意力 (multi-head attention): heads split with view(B, h, T, d_k) and no transpose — that mixes "
             "tokens and features. Split with .view(B, T, h, d_k).transpose(1, 2).", dict(split="view")),
            ("多头注意力 (multi-head attention): the heads are merged without transposing back — "
             "(B, h, T, d_k).reshape(B, T, d_model) mixes tokens; use heads.transpose(1, 2).reshape(B, T, d_model).",
             dict(merge="no_transpose")),
            ("多头注意力 (multi-head attention): your heads take every h-th feature; head i must take the contiguous "
             "features i*d_k .. (i+1)*d_k: .view(B, T, h, d_k).transpose(1, 2).", dict(split="interleave")),
            ("多头注意力 (multi-head attention): you scaled by sqrt(d_model); each head compares d_k = d_model / h "
             "numbers, so scale by sqrt(d_k).", dict(scale="sqrt_dmodel")),
            ("多头注意力 (multi-head attention): no scaling — divide each head's scores by sqrt(d_k).",
             dict(scale="none")),
            ("多头注意力 (multi-head attention): the output projection w_o is missing; concatenate the heads, then "
             "return self.w_o(concat).", dict(out_proj=False)),
            ("多头注意力 (multi-head attention): the values are projected with w_k; use w_v for the values.",
             dict(value_proj="w_k")),
            ("自注意力 (self-attention): your softmax runs over the query axis; use dim=-1 (the keys).",
             dict(softmax_dim=-2)),
        ]
        x = randn(2, 5, d, seed=21)
        check(f"self-attention, query = key = value of shape {shape_str(x.shape)}, no mask", x, x, x, None, common)

        query, key, value = randn(2, 4, d, seed=22), randn(2, 6, d, seed=23), randn(2, 6, d, seed=24)
        on = (f"cross-attention, query {shape_str(query.shape)}, key and value {shape_str(key.shape)} "
              "(different tensors), no mask")
        check(on, query, key, value, None, common + [
            ("多头注意力 (multi-head attention): keys and values are computed from query; use the key and value "
             "arguments: self.w_k(key), self.w_v(value).", dict(self_only=True)),
        ])

        mask = random_mask(2, 1, 4, 6, seed=25)
        on = f"the same cross-attention with a boolean mask {shape_str(mask.shape)} (True = may attend)"
        check(on, query, key, value, mask, [
            ("掩码 (mask): its meaning is inverted — True means 'may attend', so fill where the mask is False: "
             "scores.masked_fill(~mask, float('-inf')).", dict(mask_mode="inverted")),
            ("掩码 (mask): the mask is ignored; pass it on to the attention of every head "
             "(it broadcasts over the head axis).", dict(mask_mode="ignored")),
        ] + common)
    c.passed()
