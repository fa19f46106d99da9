"""Scaled dot-product attention (缩放点积注意力), the heart of self-attention (自注意力).

Every query is compared with every key; the scores become weights with a softmax over the keys;
the output is the weighted sum of the values:

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V

Masks are boolean and mean what `torch.nn.functional.scaled_dot_product_attention` means:
**True where a query may attend to a key**.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

import numbers

from ._validate import (check_last_dim, check_mask, check_positive_int, check_probability, check_same_batch,
                        check_same_dtype, check_tensor, shape_str)

__all__ = ["scaled_dot_product_attention", "causal_mask", "padding_mask"]


def scaled_dot_product_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                                 mask: torch.Tensor | None = None, *, dropout_p: float = 0.0):
    """Return `(output, weights)` for queries `(..., T_q, d_k)`, keys `(..., T_k, d_k)`, values `(..., T_k, d_v)`.

    `mask` is boolean, True where a query may attend to a key, and broadcasts to `(..., T_q, T_k)`.
    A query whose keys are all masked gets all-zero weights and a zero output (no NaN), which is
    also what PyTorch's fused kernel returns on the CPU.
    `dropout_p` drops attention weights during training (the caller decides when that is).
    """
    check_tensor("query", query, shape="(..., T_q, d_k)", min_ndim=2, floating=True)
    d_k = query.size(-1)
    check_tensor("key", key, shape="(..., T_k, d_k)", min_ndim=2, floating=True)
    check_last_dim("key", key, d_k, shape="(..., T_k, d_k)", because=f"with d_k={d_k} as in query")
    check_tensor("value", value, shape="(..., T_k, d_v)", min_ndim=2, floating=True)
    if value.size(-2) != key.size(-2):
        raise ValueError(f"expected value of shape (..., T_k, d_v) with T_k={key.size(-2)} as in key, "
                         f"got {shape_str(value.shape)}")
    check_same_dtype("key", key, "query", query)
    check_same_dtype("value", value, "query", query)
    check_same_batch("key", key, "query", query, shape="(..., T_k, d_k)")
    check_same_batch("value", value, "key", key, shape="(..., T_k, d_v)")
    dropout_p = check_probability("dropout_p", dropout_p)

    # scaling the queries (T_q x d_k numbers) is the same as scaling the scores (T_q x T_k), and cheaper
    scores = (query / math.sqrt(d_k)) @ key.transpose(-2, -1)  # (..., T_q, d_k) @ (..., d_k, T_k) -> (..., T_q, T_k)
    if mask is not None:
        check_mask(mask, scores.shape)
        scores = scores.masked_fill(~mask, float("-inf"))    # a masked key can never win the softmax
    weights = torch.softmax(scores, dim=-1)                   # each row sums to 1 over the keys
    if mask is not None:
        weights = weights.masked_fill(~mask, 0.0)             # rows with every key masked: NaN -> 0
    if dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p)
    output = weights @ value                                  # (..., T_q, T_k) @ (..., T_k, d_v) -> (..., T_q, d_v)
    return output, weights


def causal_mask(size: int, device=None) -> torch.Tensor:
    """A `(size, size)` boolean mask, True on and below the diagonal: position t sees positions 0..t."""
    size = check_positive_int("size", size)
    return torch.ones(size, size, dtype=torch.bool, device=device).tril()


def padding_mask(tokens: torch.Tensor, pad_id: int) -> torch.Tensor:
    """True for real tokens, False for padding, shaped `(B, 1, 1, T_k)` to broadcast over heads and queries."""
    check_tensor("tokens", tokens, shape="(B, T)", ndim=2, integer=True)
    if isinstance(pad_id, bool) or not isinstance(pad_id, numbers.Integral):
        raise TypeError(f"expected pad_id to be an integer token id, got {pad_id!r} ({type(pad_id).__name__})")
    pad_id = int(pad_id)
    return (tokens != pad_id)[:, None, None, :]  # (B, T) -> (B, 1, 1, T)
