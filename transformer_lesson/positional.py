"""Sinusoidal positional encoding (位置编码).

Attention alone cannot tell positions apart, so each position gets a fixed code added to its
embedding. Dimension pairs rotate at geometrically spaced frequencies:

    PE(pos, 2i) = sin(pos / 10000^(2i / d_model)),   PE(pos, 2i+1) = cos(pos / 10000^(2i / d_model))

Rotary position embedding (RoPE, 旋转位置编码; Su et al. 2021), today's heir: instead of adding a code to
the input, rotate each (2i, 2i+1) pair of a query or key by the angle pos * w_i, w_i = 10000^(-2i/d), so
that the score of a query at m and a key at n depends only on the offset m - n.
"""
from __future__ import annotations

import torch
from torch import nn

from ._validate import check_number, check_positive_int, check_probability, check_tensor, shape_str

__all__ = ["sinusoidal_encoding", "shift_matrix", "PositionalEncoding", "rotary_angles", "apply_rotary"]


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


def rotary_angles(positions: torch.Tensor, d: int, base: float = 10000.0) -> torch.Tensor:
    """The `(T, d / 2)` angles pos * w_i, w_i = base^(-2i / d): the same frequencies as the sinusoidal code."""
    check_tensor("positions", positions, shape="(T,)", ndim=1)
    d = check_positive_int("d", d)
    if d % 2:
        raise ValueError(f"expected an even width d for rotary embedding (it rotates pairs of features), got {d}")
    base = check_number("base", base, positive=True, example="10000")
    two_i = torch.arange(0, d, 2, dtype=torch.float64)                      # 0, 2, 4, ..., d - 2
    return positions.to(torch.float64)[:, None] / base ** (two_i / d)       # (T, 1) / (d/2,) -> (T, d/2)


def apply_rotary(x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """Rotate each (2i, 2i+1) feature pair of `x (..., T, d)` by the angle positions[t] * w_i.

    Applied to queries and keys (never to values), it makes q_m . k_n a function of m - n only:
    a rotation by m*w against a rotation by n*w leaves the angle (m - n)*w between them.
    """
    check_tensor("x", x, shape="(..., T, d)", min_ndim=2, floating=True)
    if positions.dim() != 1 or positions.numel() != x.size(-2):
        raise ValueError(f"expected positions of shape (T,) with T={x.size(-2)} as in x {shape_str(x.shape)}, "
                         f"got {shape_str(positions.shape)}; pass torch.arange(T) (plus the cache length)")
    angle = rotary_angles(positions, x.size(-1), base)                      # (T, d/2)
    cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)
    even, odd = x[..., 0::2], x[..., 1::2]                                  # (..., T, d/2) each
    rotated = torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1)  # (..., T, d/2, 2)
    return rotated.flatten(-2)                                              # pairs back in place: (..., T, d)
