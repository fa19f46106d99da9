"""Lesson 02 checkers: the sinusoidal positional encoding (位置编码) and its shift matrix.

PE(pos, 2i) = sin(pos / 10000^(2i/d_model)), PE(pos, 2i+1) = cos(...); PE[pos + k] = PE[pos] @ M(k).
"""
from __future__ import annotations

import math

import torch

from ..i18n import N_, translator
from ._core import Check, checker

_ = translator("lesson02")


def _pe(max_len: int, d_model: int, *, layout: str = "interleave", exponent: str = "2i/d", first: int = 0,
        divide: bool = True, length_in_exponent: bool = False, base: float = 10000.0) -> torch.Tensor:
    """Reference sinusoidal encoding (float64) and its known-wrong variants."""
    pos = torch.arange(first, first + max_len, dtype=torch.float64)[:, None]   # (max_len, 1)
    j = torch.arange(d_model, dtype=torch.float64)                             # dimension index
    pair = torch.div(j, 2, rounding_mode="floor")                              # i = j // 2
    size = max_len if length_in_exponent else d_model
    power = {"2i/d": 2 * pair / size, "j/d": j / size, "i/d": pair / size, "4i/d": 4 * pair / size,
             "2j/d": 2 * j / size}[exponent]
    freq = base ** power                                                       # (d_model,)
    angle = pos / freq if divide else pos * freq                               # (max_len, d_model)
    even = (j % 2 == 0)
    if layout == "interleave":
        return torch.where(even, torch.sin(angle), torch.cos(angle))
    if layout == "swapped":
        return torch.where(even, torch.cos(angle), torch.sin(angle))
    if layout == "sin_only":
        return torch.sin(angle)
    a = angle[:, 0::2]                                                          # one angle per pair
    if layout == "concat":                                                      # [sin of every pair | cos of every pair]
        return torch.cat([torch.sin(a), torch.cos(a)], dim=-1)
    if layout == "concat_swapped":                                              # [cos of every pair | sin of ...]
        return torch.cat([torch.cos(a), torch.sin(a)], dim=-1)
    raise ValueError(layout)


_LAYOUTS = [                          # where sin and cos go: (layout, what is wrong, or None)
    ("interleave", None),
    ("concat", N_("sin and cos are concatenated ([all sines | all cosines]); they must be interleaved: sin on even "
                  "dimensions 0, 2, 4, ..., cos on odd dimensions 1, 3, 5, ... (pe[:, 0::2] = sin, pe[:, 1::2] = cos).")),
    ("swapped", N_("sin and cos are swapped; sin goes on the even dimensions (0, 2, ...) and cos on the odd ones.")),
    ("concat_swapped", N_("cos and sin are concatenated, cosines first ([all cosines | all sines]); they must be "
                          "interleaved, sin first: pe[:, 0::2] = sin, pe[:, 1::2] = cos.")),
    ("sin_only", N_("every dimension uses sin; the odd dimensions use cos.")),
]

_FREQUENCIES = [                      # the angle pos / 10000^(2i/d_model): (arguments of _pe, what is wrong, or None)
    ({}, None),
    (dict(exponent="j/d"), N_("the wrong exponent — you used j/d_model with j the dimension index, so each sin/cos "
                              "pair gets two different frequencies. Dimensions 2i and 2i+1 share one frequency: "
                              "10000^(2i/d_model), with i = j // 2.")),
    (dict(exponent="2j/d"), N_("the wrong exponent — you used the dimension index j where the formula has the pair "
                               "index i: 10000^(2j/d_model) gives dimension 2i the exponent 4i/d_model and its partner "
                               "2i+1 the exponent (4i+2)/d_model. i counts the (sin, cos) pairs, i = j // 2, so both "
                               "dimensions of pair i share 10000^(2i/d_model).")),
    (dict(exponent="4i/d"), N_("the wrong exponent — you used 2j/d_model with j the dimension index "
                               "(torch.arange(0, d_model, 2) already holds 2i; do not double it again). The exponent "
                               "is 2i/d_model.")),
    (dict(exponent="i/d"), N_("the wrong exponent — you used i/d_model; the exponent is 2i/d_model (i is the pair "
                              "index, so 2i runs 0, 2, 4, ...). (A base of 100 instead of 10000 gives the same "
                              "numbers, 100^(2i/d_model) = 10000^(i/d_model); the base is 10000.)")),
    (dict(divide=False), N_("you multiplied the position by 10000^(2i/d_model); divide by it, pos / "
                            "10000^(2i/d_model) (in exp form: pos * exp(-2i * ln(10000) / d_model)).")),
    (dict(length_in_exponent=True), N_("the exponent divides by max_len; it divides by d_model, "
                                       "10000^(2i/d_model).")),
]

_PAIR_1 = {"interleave": (2, 3), "swapped": (3, 2)}    # columns of (sin, cos) of pair i = 1; concat: see _base


def _base(pe: torch.Tensor, layout: str) -> float | None:
    """The base b of the learner's frequencies b^(-2i/d_model), read from pair 1 at position 1 (None if unreadable)."""
    d_model = pe.size(1)
    if d_model < 4 or pe.size(0) < 2 or layout == "sin_only":
        return None
    half = d_model // 2
    s, c = _PAIR_1.get(layout) or ((1, 1 + half) if layout == "concat" else (1 + half, 1))
    row = pe[1].detach().double()
    angle = math.atan2(float(row[s]), float(row[c]))                       # = 1 / b^(2/d_model) at position 1
    if not 0.0 < angle < 1.0:
        return None
    return math.exp(-math.log(angle) * d_model / 2)


def _base_hint(base: float) -> str:
    if abs(math.log(base) - 4.0) < 2e-3:                                    # exp(4): log10(10000) = 4 in the exp form
        return _("the wrong base — your frequencies fall as 54.6^(-2i/d_model), which is what exp(-2i * "
                 "math.log10(10000) / d_model) gives: the exp form needs the natural logarithm, math.log(10000) "
                 "≈ 9.21, not math.log10(10000) = 4.")
    if abs(math.log(base) - math.log2(10000.0)) < 2e-3:
        return _("the wrong base — the exp form exp(-2i * math.log2(10000) / d_model) uses the base-2 logarithm; "
                 "it needs the natural logarithm, math.log(10000) ≈ 9.21.")
    return _("the wrong base — you used {base:.4g} where the formula has 10000: "
             "PE(pos, 2i) = sin(pos / 10000^(2i/d_model)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)).",
             base=base)


def _pe_variants(pe: torch.Tensor, max_len: int, d_model: int) -> list:
    """Every wrong layout, frequency formula (with the base read from the learner's table) and pairing of the two,
    as (hint, table); a table equal to the reference or to an earlier variant is left out."""
    prefix = _("位置编码 (positional encoding): ")
    found = [(prefix + _("your positions start at 1; they start at 0 (torch.arange(max_len)), so PE(0) = "
                         "[0, 1, 0, 1, ...]."), _pe(max_len, d_model, first=1))]
    for layout, where in _LAYOUTS:
        frequencies = [(kwargs, formula and _(formula)) for kwargs, formula in _FREQUENCIES]   # N_ constants
        base = _base(pe, layout)
        if base is not None and abs(math.log(base / 10000.0)) > 1e-3:
            frequencies.append((dict(base=base), _base_hint(base)))
        for kwargs, formula in frequencies:
            wrong = [part for part in (where and _(where), formula) if part]
            if not wrong:
                continue
            hint = prefix + (wrong[0] if len(wrong) == 1 else
                             _("two mistakes: (1) {first} (2) {second}", first=wrong[0], second=wrong[1]))
            found.append((hint, _pe(max_len, d_model, layout=layout, **kwargs)))
    kept, seen = [], [_pe(max_len, d_model)]
    for hint, table in found:
        if not any(torch.allclose(table, other, atol=1e-3, rtol=0.0) for other in seen):
            kept.append((hint, lambda table=table: table))
            seen.append(table)
    return kept


@checker
def check_positional_encoding(fn) -> None:
    """Check `fn(max_len, d_model) -> (max_len, d_model)`.

    PE(pos, 2i) = sin(pos / 10000^(2i/d_model)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)).
    """
    c = Check(_("位置编码 (positional encoding)"))
    c.callable(fn, _("your positional-encoding function"), "check_positional_encoding(sinusoidal_encoding)")
    for max_len, d_model in ((20, 16), (9, 6)):
        on = f"max_len={max_len}, d_model={d_model}"
        pe = c.call(fn, max_len, d_model, on=on)
        pe = c.tensor(pe, _("the encoding"), on, (max_len, d_model), "(max_len, d_model)", shape_hints={
            (d_model, max_len): _("your table is transposed: one row per position, (max_len, d_model)."),
            (1, max_len, d_model): _("return the table itself, (max_len, d_model), without a leading batch axis "
                                     "(no .unsqueeze(0)); adding it to (B, T, d_model) embeddings broadcasts anyway."),
        })
        expected = _pe(max_len, d_model)
        right = torch.allclose(pe.detach().double().nan_to_num(), expected, atol=1e-4, rtol=1e-4)
        c.numbers(pe, expected, _("encoding"), on, [] if right else _pe_variants(pe, max_len, d_model),
                  fallback=_("PE(pos, 2i) = sin(pos / 10000^(2i/d_model)), "
                             "PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)), positions 0..max_len-1."),
                  atol=1e-4, rtol=1e-4, match_atol=0.05)
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
    c = Check(_("位置编码的平移矩阵 (shift matrix of the positional encoding)"))
    c.callable(fn, _("your shift-matrix function"), "check_shift_matrix(shift_matrix)")
    for k, d_model in ((3, 8), (1, 8), (5, 4)):
        on = f"k={k}, d_model={d_model}"
        M = c.call(fn, k, d_model, on=on)
        M = c.tensor(M, "M", on, (d_model, d_model), "(d_model, d_model)")
        expected = _shift(k, d_model)
        c.numbers(M, expected, "M", on, [
            (_("平移 (shift): your matrix moves k positions backwards — PE[pos] @ M gives PE[pos - k]. Transpose "
               "it: with row vectors on the left, the new sin of pair i is sin*cos(w k) + cos*sin(w k), so "
               "M[2i, 2i] = cos, M[2i+1, 2i] = sin, M[2i, 2i+1] = -sin, M[2i+1, 2i+1] = cos."),
             lambda: _shift(k, d_model, transpose=True)),
            (_("平移 (shift): your matrix ignores k — it always moves one position; the angle of pair i is k * w_i."),
             lambda: _shift(k, d_model, use_k=False)),
            (_("平移 (shift): the wrong frequency — pair i turns at w_i = 1 / 10000^(2i/d_model) (2i, not i)."),
             lambda: _shift(k, d_model, pair_exponent="i/d")),
            (_("平移 (shift): you rotate dimensions i and i + d_model/2 together (the concatenated layout); in the "
               "paper's layout each pair is a neighbour pair (2i, 2i+1)."),
             lambda: _shift(k, d_model, layout="concat")),
            (_("平移 (shift): you built the identity matrix; moving by k rotates each (sin, cos) pair by the angle "
               "k * w_i."),
             lambda: torch.eye(d_model, dtype=torch.float64)),
        ], fallback=_("one 2x2 rotation block per (sin, cos) pair, angle k / 10000^(2i/d_model), placed on "
                      "rows/columns 2i and 2i+1."), atol=1e-5, rtol=1e-4)
        table = _pe(40, d_model)                                 # the property itself, on 40 positions
        c.numbers(table[:-k] @ M.detach().double(), table[k:], "PE[pos] @ M",
                  _("{on}, compared with PE[pos + k]", on=on), atol=1e-5, rtol=1e-4)
    c.passed()
