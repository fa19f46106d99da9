"""Lesson 02 checkers: the sinusoidal positional encoding (位置编码) and its shift matrix.

PE(pos, 2i) = sin(pos / 10000^(2i/d_model)), PE(pos, 2i+1) = cos(...); PE[pos + k] = PE[pos] @ M(k).
"""
from __future__ import annotations

import math

import torch

from ._core import Check, checker


def _pe(max_len: int, d_model: int, *, layout: str = "interleave", exponent: str = "2i/d", first: int = 0,
        divide: bool = True, length_in_exponent: bool = False) -> torch.Tensor:
    """Reference sinusoidal encoding (float64) and its known-wrong variants."""
    pos = torch.arange(first, first + max_len, dtype=torch.float64)[:, None]   # (max_len, 1)
    j = torch.arange(d_model, dtype=torch.float64)                             # dimension index
    pair = torch.div(j, 2, rounding_mode="floor")                              # i = j // 2
    size = max_len if length_in_exponent else d_model
    power = {"2i/d": 2 * pair / size, "j/d": j / size, "i/d": pair / size, "4i/d": 4 * pair / size}[exponent]
    freq = 10000.0 ** power                                                    # (d_model,)
    angle = pos / freq if divide else pos * freq                               # (max_len, d_model)
    even = (j % 2 == 0)
    if layout == "interleave":
        return torch.where(even, torch.sin(angle), torch.cos(angle))
    if layout == "swapped":
        return torch.where(even, torch.cos(angle), torch.sin(angle))
    if layout == "sin_only":
        return torch.sin(angle)
    if layout == "concat":                                                      # [sin of every pair | cos of every pair]
        a = angle[:, 0::2]
        return torch.cat([torch.sin(a), torch.cos(a)], dim=-1)
    raise ValueError(layout)


@checker
def check_positional_encoding(fn) -> None:
    """Check `fn(max_len, d_model) -> (max_len, d_model)`.

    PE(pos, 2i) = sin(pos / 10000^(2i/d_model)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)).
    """
    c = Check("位置编码 (positional encoding)")
    c.callable(fn, "your positional-encoding function", "check_positional_encoding(sinusoidal_encoding)")
    for max_len, d_model in ((20, 16), (9, 6)):
        on = f"max_len={max_len}, d_model={d_model}"
        pe = c.call(fn, max_len, d_model, on=on)
        pe = c.tensor(pe, "the encoding", on, (max_len, d_model), "(max_len, d_model)", shape_hints={
            (d_model, max_len): "your table is transposed: one row per position, (max_len, d_model).",
            (1, max_len, d_model): "return the table itself, (max_len, d_model), without a leading batch axis "
                                   "(no .unsqueeze(0)); adding it to (B, T, d_model) embeddings broadcasts anyway.",
        })

        def v(**kw):
            return lambda: _pe(max_len, d_model, **kw)
        c.numbers(pe, _pe(max_len, d_model), "encoding", on, [
            ("位置编码 (positional encoding): sin and cos are concatenated ([all sines | all cosines]); they must "
             "be interleaved: sin on even dimensions 0, 2, 4, ..., cos on odd dimensions 1, 3, 5, ... "
             "(pe[:, 0::2] = sin, pe[:, 1::2] = cos).", v(layout="concat")),
            ("位置编码 (positional encoding): sin and cos are swapped; sin goes on the even dimensions (0, 2, ...) "
             "and cos on the odd ones.", v(layout="swapped")),
            ("位置编码 (positional encoding): every dimension uses sin; the odd dimensions use cos.", v(layout="sin_only")),
            ("位置编码 (positional encoding): the wrong exponent — you used j/d_model with j the dimension index, so "
             "each sin/cos pair gets two different frequencies. Dimensions 2i and 2i+1 share one frequency: "
             "10000^(2i/d_model), with i = j // 2.", v(exponent="j/d")),
            ("位置编码 (positional encoding): the wrong exponent — you used 2j/d_model with j the dimension index "
             "(torch.arange(0, d_model, 2) already holds 2i; do not double it again). The exponent is 2i/d_model.",
             v(exponent="4i/d")),
            ("位置编码 (positional encoding): the wrong exponent — you used i/d_model; the exponent is 2i/d_model "
             "(i is the pair index, so 2i runs 0, 2, 4, ...).", v(exponent="i/d")),
            ("位置编码 (positional encoding): you multiplied the position by 10000^(2i/d_model); divide by it, "
             "pos / 10000^(2i/d_model) (in exp form: pos * exp(-2i * ln(10000) / d_model)).", v(divide=False)),
            ("位置编码 (positional encoding): your positions start at 1; they start at 0 "
             "(torch.arange(max_len)), so PE(0) = [0, 1, 0, 1, ...].", v(first=1)),
            ("位置编码 (positional encoding): the exponent divides by max_len; it divides by d_model, "
             "10000^(2i/d_model).", v(length_in_exponent=True)),
        ], fallback="PE(pos, 2i) = sin(pos / 10000^(2i/d_model)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)), "
                    "positions 0..max_len-1.", atol=1e-4, rtol=1e-4, match_atol=0.05)
    c.passed()


def _shift(k: int, d_model: int, *, transpose: bool = False, pair_exponent: str = "2i/d",
           layout: str = "interleave", use_k: bool = True) -> torch.Tensor:
    """Reference shift matrix M (PE[pos + k] = PE[pos] @ M) and its known-wrong variants, in float64."""
    M = torch.zeros(d_model, d_model, dtype=torch.float64)
    half = d_model // 2
    for i in range(half):
        power = (2 * i if pair_exponent == "2i/d" else i) / d_model
        angle = (k if use_k else 1) / 10000.0 ** power
        cos, sin = math.cos(angle), math.sin(angle)
        s, c = (2 * i, 2 * i + 1) if layout == "interleave" else (i, i + half)   # rows/cols of the sin and cos
        M[s, s], M[c, s] = cos, sin        # new sin = sin * cos(wk) + cos * sin(wk)
        M[s, c], M[c, c] = -sin, cos       # new cos = cos * cos(wk) - sin * sin(wk)
    return M.T.contiguous() if transpose else M


@checker
def check_shift_matrix(fn) -> None:
    """Check `fn(k, d_model) -> (d_model, d_model)` matrix M with PE[pos + k] = PE[pos] @ M for every pos."""
    c = Check("位置编码的平移矩阵 (shift matrix of the positional encoding)")
    c.callable(fn, "your shift-matrix function", "check_shift_matrix(shift_matrix)")
    for k, d_model in ((3, 8), (1, 8), (5, 4)):
        on = f"k={k}, d_model={d_model}"
        M = c.call(fn, k, d_model, on=on)
        M = c.tensor(M, "M", on, (d_model, d_model), "(d_model, d_model)")
        expected = _shift(k, d_model)
        c.numbers(M, expected, "M", on, [
            ("平移 (shift): your matrix moves k positions backwards — PE[pos] @ M gives PE[pos - k]. Transpose it: "
             "with row vectors on the left, the new sin of pair i is sin*cos(w k) + cos*sin(w k), so "
             "M[2i, 2i] = cos, M[2i+1, 2i] = sin, M[2i, 2i+1] = -sin, M[2i+1, 2i+1] = cos.",
             lambda: _shift(k, d_model, transpose=True)),
            ("平移 (shift): your matrix ignores k — it always moves one position; the angle of pair i is k * w_i.",
             lambda: _shift(k, d_model, use_k=False)),
            ("平移 (shift): the wrong frequency — pair i turns at w_i = 1 / 10000^(2i/d_model) (2i, not i).",
             lambda: _shift(k, d_model, pair_exponent="i/d")),
            ("平移 (shift): you rotate dimensions i and i + d_model/2 together (the concatenated layout); in the "
             "paper's layout each pair is a neighbour pair (2i, 2i+1).",
             lambda: _shift(k, d_model, layout="concat")),
            ("平移 (shift): you built the identity matrix; moving by k rotates each (sin, cos) pair by the angle k * w_i.",
             lambda: torch.eye(d_model, dtype=torch.float64)),
        ], fallback="one 2x2 rotation block per (sin, cos) pair, angle k / 10000^(2i/d_model), placed on "
                    "rows/columns 2i and 2i+1.", atol=1e-5, rtol=1e-4)
        table = _pe(40, d_model)                                 # the property itself, on 40 positions
        c.numbers(table[:-k] @ M.detach().double(), table[k:], "PE[pos] @ M", on + ", compared with PE[pos + k]",
                  atol=1e-5, rtol=1e-4)
    c.passed()
