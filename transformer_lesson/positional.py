"""Sinusoidal positional encoding (位置编码).

Attention alone cannot tell positions apart, so each position gets a fixed code added to its
embedding. Dimension pairs rotate at geometrically spaced frequencies:

    PE(pos, 2i) = sin(pos / 10000^(2i / d_model)),   PE(pos, 2i+1) = cos(pos / 10000^(2i / d_model))
"""
from __future__ import annotations

import torch
from torch import nn

from ._validate import check_number, check_positive_int, check_probability, check_tensor, shape_str

__all__ = ["sinusoidal_encoding", "shift_matrix", "PositionalEncoding"]


def sinusoidal_encoding(max_len: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """The `(max_len, d_model)` table of the paper: sin on even dimensions, cos on odd ones."""
    max_len = check_positive_int("max_len", max_len)
    d_model = check_positive_int("d_model", d_model)
    base = check_number("base", base, positive=True, example="10000")
    position = torch.arange(max_len, dtype=torch.float64)[:, None]          # (max_len, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)                # 0, 2, 4, ...
    angle = position / base ** (two_i / d_model)                            # (max_len, ceil(d_model / 2))
    pe = torch.zeros(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)                                          # even dimensions
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])                       # odd dimensions
    return pe.to(torch.get_default_dtype())


def shift_matrix(k: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """The `(d_model, d_model)` matrix M with PE[pos + k] = PE[pos] @ M for every position.

    Each (sin, cos) pair is a point on a circle; moving k positions rotates it by the angle k * w_i,
    whatever pos is:  sin(w(pos+k)) = sin(w pos) cos(w k) + cos(w pos) sin(w k),
                      cos(w(pos+k)) = cos(w pos) cos(w k) - sin(w pos) sin(w k).
    """
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"expected k to be an integer offset, got {k!r}")
    d_model = check_positive_int("d_model", d_model)
    base = check_number("base", base, positive=True, example="10000")
    M = torch.zeros(d_model, d_model, dtype=torch.float64)
    for i in range(0, d_model, 2):
        angle = k / base ** (i / d_model)
        c, s = torch.cos(torch.tensor(angle)), torch.sin(torch.tensor(angle))
        if i + 1 < d_model:
            M[i, i], M[i + 1, i] = c, s          # new sin = sin*cos(wk) + cos*sin(wk)
            M[i, i + 1], M[i + 1, i + 1] = -s, c  # new cos = cos*cos(wk) - sin*sin(wk)
        else:
            raise ValueError(f"expected an even d_model for shift_matrix, got {d_model}")
    return M.to(torch.get_default_dtype())


class PositionalEncoding(nn.Module):
    """Adds the sinusoidal code to a `(B, T, d_model)` input, then applies dropout (as in the paper)."""

    def __init__(self, d_model: int, max_len: int = 512, dropout: float = 0.0):
        super().__init__()
        self.d_model = check_positive_int("d_model", d_model)
        self.max_len = check_positive_int("max_len", max_len)
        self.dropout = nn.Dropout(check_probability("dropout", dropout))
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor("x", x, shape="(B, T, d_model)", ndim=3, floating=True)
        if x.size(-1) != self.d_model:
            raise ValueError(f"expected x of shape (B, T, d_model) with d_model={self.d_model}, "
                             f"got {shape_str(x.shape)}")
        if x.size(1) > self.max_len:
            raise ValueError(f"expected a sequence of at most max_len={self.max_len} positions, "
                             f"got {x.size(1)}; build PositionalEncoding with a larger max_len")
        pe = self.pe[: x.size(1)].to(x.dtype)                               # keep float16/float64 input's dtype
        return self.dropout(x + pe)                                         # (B, T, d) + (T, d) -> (B, T, d)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}"
