"""Lesson 01, self-attention (自注意力): the experiments behind its claims.

Each function is seeded, runs in a few seconds on a CPU, and returns plain numbers that the notebook
prints and asserts and the tests assert too.
"""
from __future__ import annotations

import itertools
import math
import zlib
from typing import Sequence

import torch

from ..._validate import check_positive_int
from ...attention import scaled_dot_product_attention
from ...positional import sinusoidal_encoding

__all__ = [
    "toy_embeddings", "toy_projections", "self_attention", "same_word_in_two_sentences",
    "permutation_check", "softmax_saturation",
]


def toy_embeddings(tokens: Sequence[str], d_model: int = 8, seed: int = 0) -> torch.Tensor:
    """Stand-in word vectors `(T, d_model)` for a list of words, in place of a learned embedding table.

    Each word's vector is drawn from a generator seeded by the word itself (and `seed`), so the same
    word gets the same vector in every sentence, exactly as a lookup in an embedding table would.
    """
    d_model = check_positive_int("d_model", d_model)
    if isinstance(tokens, str) or len(tokens) == 0:
        raise ValueError(f"expected a non-empty list of words such as 'I am a student'.split(), got {tokens!r}")
    rows = []
    for token in tokens:
        g = torch.Generator().manual_seed(zlib.crc32(str(token).encode("utf-8")) + 1_000_003 * seed)
        rows.append(torch.randn(d_model, generator=g))
    return torch.stack(rows)                                     # T x (d_model,) -> (T, d_model)


def toy_projections(d_model: int = 8, d_k: int = 8, seed: int = 0):
    """Seeded stand-ins for the learned projections `(W_q, W_k, W_v)`, each `(d_model, d_k)`.

    Scaled by 1/sqrt(d_model) so that queries and keys have components of variance about 1.
    """
    d_model, d_k = check_positive_int("d_model", d_model), check_positive_int("d_k", d_k)
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(d_model, d_k, generator=g) / math.sqrt(d_model) for _ in range(3))


def self_attention(x: torch.Tensor, W_q: torch.Tensor, W_k: torch.Tensor, W_v: torch.Tensor, mask=None):
    """One self-attention step: queries, keys and values all come from the same `x` `(..., T, d_model)`.

    Returns `(output (..., T, d_k), weights (..., T, T))`.
    """
    return scaled_dot_product_attention(x @ W_q, x @ W_k, x @ W_v, mask)  # (T, d_model) @ (d_model, d_k) -> (T, d_k)


def _toy_attention(tokens: Sequence[str], d_model: int, seed: int, add_positions: bool = False):
    x = toy_embeddings(tokens, d_model, seed)
    if add_positions:
        x = x + sinusoidal_encoding(len(tokens), d_model)      # position t gets PE[t], whatever word is there
    return self_attention(x, *toy_projections(d_model, d_model, seed))


def same_word_in_two_sentences(sentence_a: str, sentence_b: str, word: str, d_model: int = 8,
                               seed: int = 0) -> dict:
    """Claim C2: attention weights depend on the input. The same `word` (same embedding) in two sentences.

    Returns the word's row of attention weights in each sentence, how far apart the two rows are (largest
    difference position by position; NaN when the sentences differ in length), and how far apart the
    word's two outputs are, although its input vector is identical in both.
    """
    tokens_a, tokens_b = sentence_a.split(), sentence_b.split()
    for tokens, sentence in ((tokens_a, sentence_a), (tokens_b, sentence_b)):
        if word not in tokens:
            raise ValueError(f"expected the word {word!r} in the sentence {sentence!r}")
    ia, ib = tokens_a.index(word), tokens_b.index(word)
    out_a, w_a = _toy_attention(tokens_a, d_model, seed)
    out_b, w_b = _toy_attention(tokens_b, d_model, seed)
    row_a, row_b = w_a[ia], w_b[ib]
    same_length = len(tokens_a) == len(tokens_b)
    return {
        "tokens_a": tokens_a, "tokens_b": tokens_b,
        "row_a": [round(v, 6) for v in row_a.tolist()], "row_b": [round(v, 6) for v in row_b.tolist()],
        "self_weight_a": row_a[ia].item(), "self_weight_b": row_b[ib].item(),
        "row_difference": (row_a - row_b).abs().max().item() if same_length else float("nan"),
        "output_difference": (out_a[ia] - out_b[ib]).norm().item(),
    }


def permutation_check(tokens: Sequence[str], perms: Sequence[Sequence[int]] | None = None, d_model: int = 8,
                      seed: int = 0, add_positions: bool = False) -> dict:
    """Claim C3: does self-attention ignore order? Feed the words in another order and compare.

    For each permutation `perm` (all non-identity ones by default), the sentence `tokens[perm]` goes through
    the same self-attention. If attention ignores order, its outputs are the original outputs reordered:
    out(x[perm]) == out(x)[perm]. Returns the largest and smallest such error over the permutations.
    With `add_positions=True` the sinusoidal code of each *position* is added first (lesson 02), which
    breaks the symmetry.
    """
    T = len(tokens)
    if perms is None:
        perms = [p for p in itertools.permutations(range(T)) if list(p) != list(range(T))]
    for perm in perms:
        if sorted(perm) != list(range(T)):
            raise ValueError(f"expected each permutation to reorder positions 0..{T - 1} of the {T} tokens, "
                             f"got {tuple(perm)}")
    out, w = _toy_attention(tokens, d_model, seed, add_positions)
    output_errors, weight_errors = [], []
    for perm in perms:
        p = torch.as_tensor(list(perm))
        out_p, w_p = _toy_attention([tokens[i] for i in perm], d_model, seed, add_positions)
        output_errors.append((out_p - out[p]).abs().max().item())
        weight_errors.append((w_p - w[p][:, p]).abs().max().item())  # rows and columns both reorder
    return {"permutations": len(perms), "max_output_error": max(output_errors),
            "min_output_error": min(output_errors), "max_weights_error": max(weight_errors)}


def _softmax_stats(scores: torch.Tensor) -> tuple[float, float]:
    """Mean entropy (nats) of softmax over the last axis, and mean Frobenius norm of its Jacobian."""
    p = torch.softmax(scores, dim=-1)
    entropy = torch.special.entr(p).sum(-1)                     # -sum p log p, 0 log 0 = 0
    # Jacobian of softmax: J = diag(p) - p p^T, so ||J||_F^2 = sum p^2 - 2 sum p^3 + (sum p^2)^2
    p2 = (p ** 2).sum(-1)
    jac = (p2 - 2 * (p ** 3).sum(-1) + p2 ** 2).clamp_min(0).sqrt()
    return entropy.mean().item(), jac.mean().item()


def softmax_saturation(d_ks: Sequence[int] = (4, 16, 64, 256), n_keys: int = 16, n_queries: int = 1000,
                       seed: int = 0) -> list[dict]:
    """Claim C5: scaling by 1/sqrt(d_k) keeps softmax from saturating.

    For each d_k: random queries and keys with independent N(0, 1) components, scores q.k for `n_keys` keys,
    softmax over the keys with and without the 1/sqrt(d_k) scale. Per d_k, one dict with:
    the variance of q.k (about d_k) and of q.k/sqrt(d_k) (about 1); the mean softmax entropy in nats
    (at most log(n_keys), for uniform weights; 0 for one-hot); and the mean size of the softmax gradient,
    the Frobenius norm of d softmax / d scores (0 when saturated).
    """
    n_keys, n_queries = check_positive_int("n_keys", n_keys), check_positive_int("n_queries", n_queries)
    rows = []
    for d_k in d_ks:
        d_k = check_positive_int("d_k", d_k)
        g = torch.Generator().manual_seed(seed * 7919 + d_k)
        q = torch.randn(n_queries, d_k, generator=g)
        k = torch.randn(n_queries, n_keys, d_k, generator=g)
        raw = torch.einsum("nd,nkd->nk", q, k)                  # one query against its n_keys keys: (n, n_keys)
        scaled = raw / math.sqrt(d_k)
        entropy_u, grad_u = _softmax_stats(raw)
        entropy_s, grad_s = _softmax_stats(scaled)
        rows.append({"d_k": d_k, "n_keys": n_keys,
                     "score_var_unscaled": raw.var().item(), "score_var_scaled": scaled.var().item(),
                     "entropy_unscaled": entropy_u, "entropy_scaled": entropy_s,
                     "grad_unscaled": grad_u, "grad_scaled": grad_s})
    return rows
