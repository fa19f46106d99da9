"""Lesson 02, positional encoding (位置编码): the experiments behind its claims.

Each function is seeded, runs in a few seconds on a CPU, and returns plain numbers that the notebook
prints and asserts and the tests assert too.
"""
from __future__ import annotations

from typing import Sequence

import torch

from ...i18n import translator
from ...positional import shift_matrix, sinusoidal_encoding
from ..lesson01_self_attention.experiments import (
    permutation_check,
    self_attention,
    toy_embeddings,
    toy_projections,
)

__all__ = [
    "toy_projections", "toy_embeddings", "self_attention", "permutation_check",
    "pe_dot_product_vs_offset", "pe_similarity_by_offset", "pe_shift_check", "pe_codes_unique_and_bounded",
]

_ = translator("lesson02")


def _check_offsets(offsets: Sequence[int], max_len: int) -> None:
    for k in offsets:
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < max_len:
            raise ValueError(_("expected offsets that are whole numbers in 0..{last} (max_len={max_len}), got {k!r}",
                               last=max_len - 1, max_len=max_len, k=k))


def pe_dot_product_vs_offset(max_len: int = 64, d_model: int = 16, offsets: Sequence[int] = range(9)) -> list[dict]:
    """Claim C4 (similarity depends on the offset): PE(p) . PE(p + k) for every p, per offset k.

    Each (sin, cos) pair contributes sin(wp) sin(w(p+k)) + cos(wp) cos(w(p+k)) = cos(wk), so the dot product
    is sum_i cos(w_i k): a function of k alone. Returns, per k, the smallest and largest dot product over p
    and that formula.
    """
    if d_model % 2:
        raise ValueError(f"expected an even d_model (whole sin/cos pairs), got {d_model}")
    _check_offsets(offsets, max_len)
    pe = sinusoidal_encoding(max_len, d_model).double()
    freqs = 1.0 / 10000.0 ** (torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    rows = []
    for k in offsets:
        dots = (pe[: max_len - k] * pe[k:]).sum(-1)             # (max_len - k,) one dot product per p
        formula = torch.cos(freqs * k).sum().item()
        rows.append({"offset": int(k), "dot_min": dots.min().item(), "dot_max": dots.max().item(),
                     "spread": (dots.max() - dots.min()).item(), "formula": formula})
    return rows


def pe_similarity_by_offset(d_model: int = 16, max_offset: int = 100) -> dict:
    """Closer is not always more similar: the cosine similarity of PE(0) and PE(k) for k = 0..max_offset.

    By C4 the dot product depends only on the offset k, so PE(0) stands for every start position. Dividing
    by |PE|^2 = d_model / 2 gives 1 at k = 0. `rises` lists every k where PE(k + 1) is *more* similar to
    PE(0) than PE(k) is: one step farther, yet closer in the dot product.
    """
    if d_model % 2:
        raise ValueError(f"expected an even d_model (whole sin/cos pairs), got {d_model}")
    pe = sinusoidal_encoding(max_offset + 1, d_model).double()     # (max_offset + 1, d_model)
    similarity = pe @ pe[0] / (d_model / 2)                        # (max_offset + 1,), 1.0 at k = 0
    rises = [k for k in range(max_offset) if similarity[k + 1] > similarity[k]]
    return {"d_model": d_model, "similarity": similarity.tolist(), "rises": rises,
            "first_rise": rises[0] if rises else None}


def pe_shift_check(max_len: int = 100, d_model: int = 16, offsets: Sequence[int] = (1, 5, 20)) -> list[dict]:
    """Claim C4 (a fixed linear map): PE[pos + k] = PE[pos] @ M_k with one matrix M_k for every pos.

    Per offset k: the largest error of that equation over all positions, and how far M_k is from a
    rotation (max |M M^T - I|, 0 for a rotation; and its determinant, +1 for a rotation).
    """
    _check_offsets(offsets, max_len)
    pe = sinusoidal_encoding(max_len, d_model).double()
    rows = []
    for k in offsets:
        M = shift_matrix(int(k), d_model).double()
        error = (pe[: max_len - k] @ M - pe[k:]).abs().max().item()   # (N, d) @ (d, d) -> (N, d)
        orthogonality = (M @ M.T - torch.eye(d_model, dtype=torch.float64)).abs().max().item()
        rows.append({"offset": int(k), "max_error": error, "orthogonality_error": orthogonality,
                     "determinant": torch.linalg.det(M).item()})
    return rows


def pe_codes_unique_and_bounded(max_len: int = 200, d_model: int = 32) -> dict:
    """Claim C4 (unique and bounded): every value lies in [-1, 1]; no two positions share a code."""
    pe = sinusoidal_encoding(max_len, d_model).double()
    distances = torch.cdist(pe, pe).fill_diagonal_(float("inf"))   # a position's distance to itself is not a clash
    flat = int(distances.argmin())
    return {"max_abs": pe.abs().max().item(), "min_distance": distances.min().item(),
            "closest_pair": (flat // max_len, flat % max_len),
            "norm": pe.norm(dim=-1).mean().item()}
