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
from ...attention import causal_mask, scaled_dot_product_attention
from ...i18n import translator
from ...positional import sinusoidal_encoding

_ = translator("lesson01")

__all__ = [
    "toy_embeddings", "toy_projections", "self_attention", "same_word_in_two_sentences", "change_one_word",
    "permutation_check", "random_scores", "softmax_saturation", "softmax_gradient",
]


def toy_embeddings(tokens: Sequence[str], d_model: int = 8, seed: int = 0) -> torch.Tensor:
    """Stand-in word vectors `(T, d_model)` for a list of words, in place of a learned embedding table.

    Each word's vector is drawn from a generator seeded by the word itself (and `seed`), so the same
    word gets the same vector in every sentence, exactly as a lookup in an embedding table would.
    """
    d_model = check_positive_int("d_model", d_model)
    if isinstance(tokens, str) or len(tokens) == 0:
        raise ValueError(_("expected a non-empty list of words such as 'I am a student'.split(), got {tokens!r}",
                           tokens=tokens))
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


def _split_with(sentence: str, word: str) -> list[str]:
    tokens = sentence.split()
    if word not in tokens:
        raise ValueError(_("expected the word {word!r} in the sentence {sentence!r}", word=word, sentence=sentence))
    return tokens


def same_word_in_two_sentences(sentence_a: str, sentence_b: str, word: str, d_model: int = 8,
                               seed: int = 0) -> dict:
    """Claim C2: the same `word` (the same vector) in two sentences gets different weights and outputs."""
    W_q, W_k, W_v = toy_projections(d_model, d_model, seed)          # one set of projections for both
    rows, outputs = [], []
    for sentence in (sentence_a, sentence_b):
        tokens = _split_with(sentence, word)
        x = toy_embeddings(tokens, d_model, seed)                      # (T, d_model): `word` is the same row in both
        out, weights = self_attention(x, W_q, W_k, W_v)                # (T, d_model), (T, T)
        i = tokens.index(word)
        rows.append(weights[i])                                        # (T,): how `word` shares out its attention
        outputs.append(out[i])                                         # (d_model,): what `word` turns into
    same_length = len(rows[0]) == len(rows[1])
    return {"row_a": rows[0].tolist(), "row_b": rows[1].tolist(),
            "row_difference": (rows[0] - rows[1]).abs().max().item() if same_length else float("nan"),
            "output_difference": (outputs[0] - outputs[1]).norm().item()}


def change_one_word(sentence: str, position: int, new_word: str, causal: bool = False, d_model: int = 8,
                    seed: int = 0) -> list[float]:
    """Replace the word at `position`: how far does each word's output move? One distance per position."""
    tokens = sentence.split()
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < len(tokens):
        raise ValueError(f"expected position to be one of 0..{len(tokens) - 1} (a word of {sentence!r}), "
                         f"got {position!r}")
    changed = tokens[:position] + [new_word] + tokens[position + 1:]
    W_q, W_k, W_v = toy_projections(d_model, d_model, seed)
    mask = causal_mask(len(tokens)) if causal else None              # (T, T) or no mask at all
    before, _ = self_attention(toy_embeddings(tokens, d_model, seed), W_q, W_k, W_v, mask)   # (T, d_model)
    after, _ = self_attention(toy_embeddings(changed, d_model, seed), W_q, W_k, W_v, mask)   # (T, d_model)
    return (after - before).norm(dim=-1).tolist()                    # (T,): how far each output moved


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


def random_scores(d_k: int, n_keys: int = 16, n_queries: int = 1000, seed: int = 0) -> torch.Tensor:
    """Scores q·k of `n_queries` random queries, each against its own `n_keys` random keys, all components
    N(0, 1): a `(n_queries, n_keys)` tensor, without the 1/sqrt(d_k) scale."""
    d_k = check_positive_int("d_k", d_k)
    n_keys, n_queries = check_positive_int("n_keys", n_keys), check_positive_int("n_queries", n_queries)
    g = torch.Generator().manual_seed(seed * 7919 + d_k)
    q = torch.randn(n_queries, d_k, generator=g)                     # (n, d_k)
    k = torch.randn(n_queries, n_keys, d_k, generator=g)             # (n, n_keys, d_k)
    return torch.einsum("nd,nkd->nk", q, k)                          # each query with its own keys: (n, n_keys)


def softmax_saturation(d_ks: Sequence[int] = (4, 16, 64, 256), n_keys: int = 16, n_queries: int = 1000,
                       seed: int = 0) -> list[dict]:
    """Claim C5: without the 1/sqrt(d_k) scale, scores grow with d_k and the softmax gives almost all the
    weight to one key; with it, they do not. One dict per d_k."""
    rows = []
    for d_k in d_ks:
        scores = random_scores(d_k, n_keys, n_queries, seed)         # (n, n_keys), variance about d_k
        scaled = scores / math.sqrt(d_k)                             # variance about 1
        rows.append({"d_k": d_k, "n_keys": n_keys,
                     "score_var_unscaled": scores.var().item(), "score_var_scaled": scaled.var().item(),
                     # the largest weight of each query's softmax, averaged: 1/n_keys if uniform, 1 if one-hot
                     "top_weight_unscaled": torch.softmax(scores, dim=-1).max(dim=-1).values.mean().item(),
                     "top_weight_scaled": torch.softmax(scaled, dim=-1).max(dim=-1).values.mean().item()})
    return rows


def softmax_gradient(d_ks: Sequence[int] = (4, 16, 64, 256), n_keys: int = 16, n_queries: int = 1000,
                     seed: int = 0) -> list[dict]:
    """Claim C5, deeper: how strongly the softmax weights respond to a change in the scores, without and with
    the scale. That response is the Jacobian J = diag(p) - p pᵀ; its size is the Frobenius norm (the square
    root of the sum of its squared entries), averaged over the queries. Near 0: saturated, nothing to learn."""
    rows = []
    for d_k in d_ks:
        scores = random_scores(d_k, n_keys, n_queries, seed)         # the same scores as softmax_saturation
        row = {"d_k": d_k, "n_keys": n_keys}
        for name, s in (("unscaled", scores), ("scaled", scores / math.sqrt(d_k))):
            p = torch.softmax(s, dim=-1)                             # (n, n_keys)
            J = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]  # (n, n_keys, n_keys): d p / d scores
            row[f"grad_{name}"] = torch.linalg.matrix_norm(J).mean().item()   # Frobenius norm, mean over n
        rows.append(row)
    return rows
