"""Position-wise feed-forward network (位置感知前馈网络).

The same two-layer MLP is applied to every position separately, widening to d_ff and back:

    FFN(x) = max(0, x W1 + b1) W2 + b2
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import check_choice, check_module_dtype, check_positive_int, check_probability, check_tensor, shape_str

__all__ = ["PositionwiseFeedForward", "ACTIVATIONS"]

ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


class PositionwiseFeedForward(nn.Module):
    """`linear2(dropout(activation(linear1(x))))` at every position of a `(..., d_model)` input."""

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0, activation: str = "relu"):
        super().__init__()
        self.d_model = check_positive_int("d_model", d_model)
        self.d_ff = check_positive_int("d_ff", d_ff)
        check_choice("activation", activation, tuple(ACTIVATIONS))
        self.activation_name = activation
        self.activation = ACTIVATIONS[activation]
        self.linear1 = nn.Linear(d_model, d_ff)   # widen:  d_model -> d_ff
        self.linear2 = nn.Linear(d_ff, d_model)   # narrow: d_ff -> d_model
        self.dropout = nn.Dropout(check_probability("dropout", dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor("x", x, shape="(..., d_model)", min_ndim=1, floating=True)
        if x.size(-1) != self.d_model:
            raise ValueError(f"expected x of shape (..., d_model) with d_model={self.d_model}, got {shape_str(x.shape)}")
        check_module_dtype("x", x, self)
        hidden = self.activation(self.linear1(x))                # (..., d_model) -> (..., d_ff)
        return self.linear2(self.dropout(hidden))                # (..., d_ff) -> (..., d_model)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, d_ff={self.d_ff}, activation={self.activation_name!r}"
