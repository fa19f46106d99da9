"""Residual connections and layer normalisation (残差连接和层归一化).

Every sub-layer (attention, feed-forward) is wrapped so that its input is added back to its output,
and the sum is normalised per token over its d_model features:

    Post-LN (the paper):  x = LayerNorm(x + Dropout(Sublayer(x)))
    Pre-LN:               x = x + Dropout(Sublayer(LayerNorm(x)))

LayerNorm(x) = (x - mean) / sqrt(var + eps) * weight + bias, mean and (biased) var over the last axis.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ._validate import check_number, check_positive_int, check_probability, check_tensor, shape_str

__all__ = ["LayerNorm", "ResidualConnection"]


class LayerNorm(nn.Module):
    """Layer normalisation from scratch; parameters `weight` and `bias` as in `nn.LayerNorm`."""

    def __init__(self, d_model: int, eps: float = 1e-5):
        super().__init__()
        self.d_model = check_positive_int("d_model", d_model)
        self.eps = check_number("eps", eps, positive=True, example="1e-5")
        self.weight = nn.Parameter(torch.ones(d_model))   # gamma: a learned scale per feature
        self.bias = nn.Parameter(torch.zeros(d_model))    # beta: a learned shift per feature

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor("x", x, shape="(..., d_model)", min_ndim=1, floating=True)
        if x.size(-1) != self.d_model:
            raise ValueError(f"expected x of shape (..., d_model) with d_model={self.d_model}, got {shape_str(x.shape)}")
        # float16 squares overflow above 256 (as nn.LayerNorm does, compute half precision in float32)
        h = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
        var, mean = torch.var_mean(h, dim=-1, keepdim=True, correction=0)  # per token: (..., 1) each
        x_hat = (h - mean) * torch.rsqrt(var + self.eps)                    # mean 0, variance 1 per token
        out = torch.addcmul(self.bias.to(h.dtype), x_hat, self.weight.to(h.dtype))  # x_hat * weight + bias
        return out.to(x.dtype)                                              # the input's dtype, as nn.LayerNorm

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, eps={self.eps}"


class ResidualConnection(nn.Module):
    """Wraps a sub-layer with a residual connection and LayerNorm, after (Post-LN) or before (Pre-LN)."""

    def __init__(self, d_model: int, dropout: float = 0.0, norm_first: bool = False, eps: float = 1e-5):
        super().__init__()
        if not isinstance(norm_first, bool):
            raise TypeError(f"expected norm_first to be True (Pre-LN) or False (Post-LN), got {norm_first!r}")
        self.norm = LayerNorm(d_model, eps)
        self.dropout = nn.Dropout(check_probability("dropout", dropout))
        self.norm_first = norm_first

    def forward(self, x: torch.Tensor, sublayer: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        if self.norm_first:
            return x + self.dropout(sublayer(self.norm(x)))   # Pre-LN: the residual path is never normalised
        return self.norm(x + self.dropout(sublayer(x)))       # Post-LN: normalise the sum

    def extra_repr(self) -> str:
        return "Pre-LN: x + Dropout(Sublayer(LayerNorm(x)))" if self.norm_first else \
            "Post-LN: LayerNorm(x + Dropout(Sublayer(x)))"
