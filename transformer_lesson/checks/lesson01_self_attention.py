"""Lesson 01 checkers: scaled dot-product attention (缩放点积注意力) and the causal mask (因果掩码).

softmax(Q K^T / sqrt(d_k)) V with a boolean mask (True = may attend); each known mistake (softmax over the
queries, no or the wrong scale, an inverted or late mask, an upper-triangular causal mask) is named.
"""
from __future__ import annotations

import math

import torch

from ..i18n import N_, translator
from ._core import Check, checker, randn, random_mask, sandbox, shape_str

_ = translator("lesson01")


def attention_variant(q, k, v, mask=None, *, scale: str | float = "sqrt_dk", softmax_dim: int = -1,
                      mask_mode: str = "before"):
    """Reference attention -> (output, weights), and its known-wrong variants (scale, softmax axis, mask use).

    `scale` names the divisor of the scores ("sqrt_dk", "none", "dk", ...) or is the divisor itself.
    """
    d_k, d_v = q.size(-1), v.size(-1)
    scores = q @ k.transpose(-2, -1)                          # (..., T_q, d_k) @ (..., d_k, T_k) -> (..., T_q, T_k)
    divisor = scale if isinstance(scale, float) else {
        "sqrt_dk": math.sqrt(d_k), "none": 1.0, "dk": float(d_k), "sqrt_dv": math.sqrt(d_v),
        "times_sqrt_dk": 1.0 / math.sqrt(d_k), "after_softmax": 1.0}[scale]
    scores = scores / divisor
    if mask is not None and mask_mode in ("before", "inverted", "zero_fill"):
        keep = ~mask if mask_mode == "inverted" else mask
        scores = scores.masked_fill(~keep, 0.0 if mask_mode == "zero_fill" else float("-inf"))
    weights = torch.softmax(scores, dim=softmax_dim)
    if scale == "after_softmax":
        weights = weights / math.sqrt(d_k)
    if mask is not None and mask_mode == "after":
        weights = weights.masked_fill(~mask, 0.0)
    return weights @ v, weights


_ATTENTION_SCALE_HINTS = [
    (N_("自注意力 (self-attention): your weights sum to 1 over the query axis, not the key axis — each query's row "
        "must sum to 1, so use softmax(scores, dim=-1)."), dict(softmax_dim=-2)),
    (N_("缩放 (scaling) is missing: the scores must be divided by sqrt(d_k) before the softmax, "
        "scores = query @ key.transpose(-2, -1) / sqrt(d_k)."), dict(scale="none")),
    (N_("缩放 (scaling): you divided the scores by d_k; divide by its square root, sqrt(d_k) = "
        "math.sqrt(query.size(-1))."), dict(scale="dk")),
    (N_("缩放 (scaling): you scaled by sqrt(d_v), the size of the value vectors; the scale is sqrt(d_k), the size of "
        "the query and key vectors (query.size(-1))."), dict(scale="sqrt_dv")),
    (N_("缩放 (scaling): you multiplied the scores by sqrt(d_k); divide them by it."), dict(scale="times_sqrt_dk")),
    (N_("缩放 (scaling): you divided the weights by sqrt(d_k) after the softmax; scale the scores before the "
        "softmax, so that each row of weights still sums to 1."), dict(scale="after_softmax")),
]

_MASK_HINTS = [
    (N_("掩码 (mask): its meaning is inverted — in this course (as in F.scaled_dot_product_attention) True means "
        "'may attend', so fill the scores where the mask is False: scores.masked_fill(~mask, float('-inf'))."),
     dict(mask_mode="inverted")),
    (N_("掩码 (mask): you masked after the softmax (setting weights to 0), so the remaining weights no longer sum "
        "to 1; fill the scores with -inf before the softmax instead."), dict(mask_mode="after")),
    (N_("掩码 (mask): you filled masked scores with 0, but exp(0) = 1 still gives those keys weight; fill them "
        "with float('-inf') (or a large negative number such as -1e9)."), dict(mask_mode="zero_fill")),
    (N_("掩码 (mask): the mask is ignored — masked keys still get weight. Use it: "
        "scores.masked_fill(~mask, float('-inf')) before the softmax."), dict(mask_mode="ignored")),
]


@checker
def check_scaled_dot_product_attention(fn) -> None:
    """Check `fn(query, key, value, mask=None) -> (output, weights)`.

    query `(..., T_q, d_k)`, key `(..., T_k, d_k)`, value `(..., T_k, d_v)`; mask boolean, True where a
    query may attend to a key, broadcastable to `(..., T_q, T_k)`. output `(..., T_q, d_v)`,
    weights `(..., T_q, T_k)` with each row summing to 1 over the keys.
    """
    c = Check(_("缩放点积注意力 (scaled dot-product attention)"))
    c.callable(fn, _("your attention function"), "check_scaled_dot_product_attention(scaled_dot_product_attention)")
    B, T_q, T_k, d_k, d_v = 2, 3, 7, 8, 5
    with sandbox():
        q, k, v = randn(B, T_q, d_k, seed=1), randn(B, T_k, d_k, seed=2), randn(B, T_k, d_v, seed=3)

        def run(on, *args, advice=""):
            result = c.call(fn, *args, on=on, advice=advice)
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                if isinstance(result, (tuple, list)):
                    c.fail(_("expected a pair (output, weights) on {on}, got {kind} of length {length}. End your "
                             "function with `return output, weights`.", on=on, kind=type(result).__name__,
                             length=len(result)))
                c.fail(_("expected a pair (output, weights) on {on}, got {kind}. End your function with "
                         "`return output, weights`.", on=on, kind=type(result).__name__))
            return result

        # Stage 1-2: no mask, T_q != T_k, d_v != d_k: shapes tell many mistakes apart.
        on = _("query {q}, key {k}, value {v}, no mask", q=shape_str(q.shape), k=shape_str(k.shape),
               v=shape_str(v.shape))
        output, weights = run(on, q, k, v)
        lead = (B,)
        if (isinstance(output, torch.Tensor) and isinstance(weights, torch.Tensor)
                and tuple(output.shape) == lead + (T_q, T_k) and tuple(weights.shape) == lead + (T_q, d_v)):
            c.fail(_("you returned (weights, output); return them in the order (output, weights) (on {on}).", on=on))
        weights = c.tensor(weights, _("weights"), on, lead + (T_q, T_k), "(B, T_q, T_k)", shape_hints={
            lead + (T_k, T_q): _("your scores are key @ query^T; compute query @ key.transpose(-2, -1), so that "
                                 "row i holds query i's score against every key."),
            lead + (T_q, T_q): _("you compared the queries with themselves; compare them with the keys: "
                                 "query @ key.transpose(-2, -1)."),
        })
        output = c.tensor(output, _("output"), on, lead + (T_q, d_v), "(B, T_q, d_v)", shape_hints={
            lead + (T_q, d_k): _("you multiplied the weights by the keys; the output is weights @ value."),
        })
        ref_out, ref_w = attention_variant(q, k, v)
        c.numbers(weights, ref_w, _("weights"), on, [
            (_(hint), lambda kw=kw: attention_variant(q, k, v, **kw)[1]) for hint, kw in _ATTENTION_SCALE_HINTS
        ] + [(_("自注意力 (self-attention): softmax over the batch axis (dim=0); it goes over the keys, dim=-1."),
              lambda: attention_variant(q, k, v, softmax_dim=0)[1])],
            fallback=_("scores = query @ key.transpose(-2, -1) / math.sqrt(d_k); weights = softmax(scores, dim=-1)."))
        c.numbers(output, ref_out, _("output"), on, [
            (_("the output should be weights @ value; yours matches unscaled weights @ value."),
             lambda: attention_variant(q, k, v, scale="none")[0]),
        ], fallback=_("output = weights @ value, with the same weights you return."))

        # Stage 3: a boolean mask, (B, T_q, T_k), every row with some keys allowed and some hidden.
        mask = random_mask(B, T_q, T_k, seed=4)
        on = _("the same inputs with a boolean mask {shape} (True = may attend)", shape=shape_str(mask.shape))
        output, weights = run(on, q, k, v, mask)
        weights = c.tensor(weights, _("weights"), on, lead + (T_q, T_k), "(B, T_q, T_k)")
        output = c.tensor(output, _("output"), on, lead + (T_q, d_v), "(B, T_q, d_v)")
        ref_out, ref_w = attention_variant(q, k, v, mask)
        variants = [(_(hint), lambda kw=kw: attention_variant(q, k, v, mask, **kw)[1]) for hint, kw in _MASK_HINTS]
        c.numbers(weights, ref_w, _("weights"), on, variants,
                  fallback=_("scores.masked_fill(~mask, float('-inf')) before the softmax; masked keys get weight 0."))
        c.numbers(output, ref_out, _("output"), on, fallback=_("output = weights @ value."))

        # Stage 4: extra leading dimensions (B, h, T, d) and a mask that broadcasts, as multi-head attention needs.
        q4, k4, v4 = randn(2, 3, 4, 6, seed=5), randn(2, 3, 5, 6, seed=6), randn(2, 3, 5, 4, seed=7)
        mask4 = random_mask(4, 5, seed=8)
        on = _("4-D inputs query {q}, key {k}, value {v} (B, h, T, d) with a mask {mask} that broadcasts over B and h",
               q=shape_str(q4.shape), k=shape_str(k4.shape), v=shape_str(v4.shape), mask=shape_str(mask4.shape))
        output, weights = run(on, q4, k4, v4, mask4,
                              advice=_("use key.transpose(-2, -1) and softmax(..., dim=-1), which work for any number "
                                       "of leading dimensions (multi-head attention passes (B, h, T, d))."))
        weights = c.tensor(weights, _("weights"), on, (2, 3, 4, 5), "(B, h, T_q, T_k)", shape_hints={
            (2, 3, 5, 4): _("transpose the last two axes of key, key.transpose(-2, -1), so any leading axes stay put."),
        })
        output = c.tensor(output, _("output"), on, (2, 3, 4, 4), "(B, h, T_q, d_v)")
        ref_out, ref_w = attention_variant(q4, k4, v4, mask4)
        c.numbers(weights, ref_w, _("weights"), on,
                  [(_(hint), lambda kw=kw: attention_variant(q4, k4, v4, mask4, **kw)[1])
                     for hint, kw in _ATTENTION_SCALE_HINTS + _MASK_HINTS],
                  fallback=_("use the last two axes only: key.transpose(-2, -1), softmax(dim=-1)."))
        c.numbers(output, ref_out, _("output"), on)
    c.passed()


@checker
def check_causal_mask(fn) -> None:
    """Check `fn(size) -> (size, size)` boolean tensor, True on and below the diagonal (t sees 0..t)."""
    c = Check(_("因果掩码 (causal mask)"))
    c.callable(fn, _("your causal-mask function"), "check_causal_mask(causal_mask)")
    for size in (4, 7, 1):
        on = f"size={size}"
        mask = c.call(fn, size, on=on)
        if isinstance(mask, torch.Tensor) and tuple(mask.shape) == (size, size) and mask.dtype != torch.bool:
            values = mask.detach().double()
            if torch.isinf(values).any() or (size > 1 and torch.equal(values, torch.zeros_like(values))):
                c.fail(_("you returned an additive float mask (0 and -inf, like nn.Transformer's "
                         "generate_square_subsequent_mask) on {on}; this course's masks are boolean, True where "
                         "a position may attend: torch.ones(size, size, dtype=torch.bool).tril().", on=on))
            c.fail(_("the mask must be boolean (dtype torch.bool), got {dtype} on {on}; make it with "
                     "dtype=torch.bool, or add .bool() at the end.", dtype=mask.dtype, on=on))
        mask = c.tensor(mask, _("the mask"), on, (size, size), "(size, size)", kind="bool")
        ones = torch.ones(size, size, dtype=torch.bool)
        c.numbers(mask, ones.tril(), _("mask"), on, [
            (_("因果掩码 (causal mask): yours hides the diagonal — a position must be allowed to attend to itself "
               "(position 0 would see nothing at all); use tril() (diagonal=0), not tril(-1)."),
             lambda: ones.tril(-1)),
            (_("因果掩码 (causal mask): True marks the positions to hide (nn.MultiheadAttention's convention); in "
               "this course True means 'may attend', so the mask is ones.tril() — or invert yours with ~."),
             lambda: ones.triu(1)),
            (_("因果掩码 (causal mask): yours is the upper triangle, so each position sees the future and not the "
               "past; row t is the query: it may see columns 0..t, the lower triangle, tril()."),
             lambda: ones.triu()),
            (_("因果掩码 (causal mask): each position may also see the next one; use tril() (diagonal=0), not "
               "tril(1)."), lambda: ones.tril(1)),
            (_("因果掩码 (causal mask): everything is allowed, so every position sees the future; keep only the "
               "lower triangle, tril()."), lambda: ones),
        ], fallback=_("row t (a query) may see columns 0..t: torch.ones(size, size, dtype=torch.bool).tril()."))
    c.passed()
