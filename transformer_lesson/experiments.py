"""The experiments behind the course's claims C1-C12 (see COURSE.md), one function per experiment.

Each function is pure and seeded, runs in a few seconds on a CPU, and returns plain numbers, lists or
dicts that a notebook prints and asserts and that the tests assert too.
"""
from __future__ import annotations

import itertools
import math
import time
import zlib
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ._validate import check_choice, check_positive_int
from .attention import scaled_dot_product_attention
from .feedforward import PositionwiseFeedForward
from .model import DecoderLayer, Encoder, EncoderLayer, Transformer
from .multihead import MultiHeadAttention
from .positional import PositionalEncoding, shift_matrix, sinusoidal_encoding
from .residual import ResidualConnection
from .training import torch_threads

__all__: list[str] = []


# ---- lesson 01: self-attention ----
__all__ += ["toy_embeddings", "toy_projections", "self_attention", "same_word_in_two_sentences",
            "permutation_check", "softmax_saturation"]


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


# ---- lesson 02: positional encoding ----
__all__ += ["pe_dot_product_vs_offset", "pe_shift_check", "pe_codes_unique_and_bounded"]


def _check_offsets(offsets: Sequence[int], max_len: int) -> None:
    for k in offsets:
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < max_len:
            raise ValueError(f"expected offsets that are whole numbers in 0..{max_len - 1} "
                             f"(max_len={max_len}), got {k!r}")


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


# ---- lesson 03: multi-head attention ----


__all__ += ["parameter_count_by_heads", "WrongSplitMultiHeadAttention", "wrong_split_still_trains",
            "offset_profile", "dominant_offsets", "OFFSET_TASK_WORDS", "train_offset_heads"]


def _parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def parameter_count_by_heads(d_model: int = 512, head_counts: Sequence[int] = (1, 2, 4, 8, 16, 32)) -> list[dict]:
    """Claim C6 (same parameter cost): build `MultiHeadAttention(d_model, h)` for each h and count.

    Per h: d_k = d_model / h, the parameters of one head's three projections (3 (d_model d_k + d_k)),
    of all h heads together, of W^O, and of the whole module. The total is 4 d_model^2 + 4 d_model
    whatever h is: h heads of width d_k cost what one head of width d_model costs.
    """
    rows = []
    for h in head_counts:
        with torch.random.fork_rng():                          # building a module draws random weights:
            mha = MultiHeadAttention(d_model, int(h))          # leave the caller's generator where it was
        per_head = 3 * (d_model * mha.d_k + mha.d_k)           # the rows of W_q, W_k, W_v (and biases) head i uses
        rows.append({"num_heads": int(h), "d_k": mha.d_k, "per_head_qkv": per_head,
                     "all_heads_qkv": _parameter_count(mha.w_q) + _parameter_count(mha.w_k) + _parameter_count(mha.w_v),
                     "w_o": _parameter_count(mha.w_o), "total": _parameter_count(mha),
                     "formula": 4 * d_model * d_model + 4 * d_model})
    return rows


class WrongSplitMultiHeadAttention(MultiHeadAttention):
    """The classic bug, kept for the lesson: heads split with `view(B, h, T, d_k)` and no transpose.

    `view` only reinterprets memory. `(B, T, d_model)` is stored token after token, so the first
    "head" gets the first T * d_k numbers: whole tokens 0, 1, ... instead of features 0..d_k-1 of every
    token. Head 0 then only ever sees the first tokens and head h-1 the last ones: a different function,
    yet it has the right shapes and still trains.
    """

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        return x.view(B, self.num_heads, T, self.d_k)          # WRONG: the same numbers, cut the wrong way

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        B, _, T, _ = x.shape
        return x.reshape(B, T, self.d_model)                   # the matching wrong inverse


def _first_output_moves_with_last_token(mha: MultiHeadAttention, x: torch.Tensor) -> float:
    """How much the first position's output moves when only the last token changes (no mask)."""
    y = x.clone()
    y[:, -1] += 1.0                                             # change the last token only
    with torch.no_grad():
        return (mha(x, x, x)[:, 0] - mha(y, y, y)[:, 0]).abs().max().item()


def _one_thread():
    """Tiny models run faster on one thread (no hand-offs between threads); the setting is restored after."""
    return torch_threads(1)


def wrong_split_still_trains(steps: int = 100, d_model: int = 16, num_heads: int = 4, T: int = 6,
                             batch_size: int = 16, lr: float = 1e-2, seed: int = 0) -> dict:
    """Pitfall: `view(B, h, T, d_k)` without a transpose still trains, so a falling loss proves nothing.

    A fixed random `MultiHeadAttention` is the teacher. Two students start from the same weights, one
    correct, one with the wrong split, and learn to imitate the teacher (mean squared error) on fresh
    random inputs. Returns both loss curves (one value per step), how far apart the two students'
    outputs are when they hold the *same* weights, and how much the first position's output moves when
    only the last token changes: with the wrong split, head 0 holds only the first tokens, so the first
    output never sees the last token at all.
    """
    with torch.random.fork_rng(), _one_thread():
        torch.manual_seed(seed)
        teacher = MultiHeadAttention(d_model, num_heads).eval()
        right = MultiHeadAttention(d_model, num_heads)
        wrong = WrongSplitMultiHeadAttention(d_model, num_heads)
        wrong.load_state_dict(right.state_dict())              # identical weights: only the split differs
        g = torch.Generator().manual_seed(seed + 1)
        probe = torch.randn(2, T, d_model, generator=g)
        with torch.no_grad():
            same_weights_difference = (right(probe, probe, probe) - wrong(probe, probe, probe)).abs().max().item()
        curves = {}
        for name, student in (("right", right), ("wrong", wrong)):
            opt = torch.optim.Adam(student.parameters(), lr=lr)
            data = torch.Generator().manual_seed(seed + 2)     # both students see the same batches
            losses = []
            for _ in range(steps):
                x = torch.randn(batch_size, T, d_model, generator=data)
                with torch.no_grad():
                    target = teacher(x, x, x)
                loss = torch.nn.functional.mse_loss(student(x, x, x), target)
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.item())
            curves[name] = losses
    return {"right_losses": curves["right"], "wrong_losses": curves["wrong"],
            "same_weights_difference": same_weights_difference,
            "right_first_sees_last": _first_output_moves_with_last_token(right, probe),
            "wrong_first_sees_last": _first_output_moves_with_last_token(wrong, probe)}


def offset_profile(weights: torch.Tensor) -> torch.Tensor:
    """Where a head's attention goes, by offset key - query = -(T-1) .. T-1.

    `weights` is `(h, T, T)` (or `(T, T)`), rows summing to 1; returns `(h, 2T - 1)`, entry `[i, o + T - 1]`
    being the share of head i's attention (summed over all T queries, divided by T) that lands on the key
    `o` positions away. Each head's profile sums to 1.
    """
    w = torch.as_tensor(weights).detach().double()
    if w.dim() == 2:
        w = w.unsqueeze(0)
    T = w.size(-1)
    return torch.stack([torch.diagonal(w, offset=o, dim1=-2, dim2=-1).sum(-1) / T for o in range(-(T - 1), T)], dim=-1)


def dominant_offsets(weights: torch.Tensor) -> list[tuple[int, float]]:
    """Per head, the offset (key - query) that gets the largest share of its attention, and that share."""
    profile = offset_profile(weights)
    T = (profile.size(-1) + 1) // 2
    best = profile.argmax(-1)
    return [(int(b) - (T - 1), profile[i, b].item()) for i, b in enumerate(best)]


# The words of the lesson's sentence 他们 今天 在 图书馆 学习 中文 and six more from the corpus.
OFFSET_TASK_WORDS = ("他们", "今天", "在", "图书馆", "学习", "中文", "我", "是", "学生", "喝", "茶", "每天")


def train_offset_heads(sentence: Sequence[str] = ("他们", "今天", "在", "图书馆", "学习", "中文"),
                       offsets: Sequence[int] = (-2, -1, 1, 2), num_heads: int = 4, d_model: int = 64,
                       steps: int = 400, batch_size: int = 64, lr: float = 1e-2, seed: int = 0) -> dict:
    """Claim C6 (heads specialise), on a toy task: one multi-head attention layer learns to report, at
    every position t, the words at t + o for each o in `offsets` (t-2, t-1, t+1, t+2 by default).

    Inputs are random sequences of `OFFSET_TASK_WORDS` as long as `sentence`: a learned embedding plus the
    sinusoidal positional encoding, then `MultiHeadAttention`, then one linear read-out per offset. No head
    is told which offset is its job. Returns the attention weights `(h, T, T)` of every head on `sentence`
    before and after training, each head's dominant offset after training, the loss at the start and the
    end, and the accuracy on fresh sequences.
    """
    words = list(OFFSET_TASK_WORDS)
    unknown = [w for w in sentence if w not in words]
    if unknown:
        raise ValueError(f"expected the sentence's words among OFFSET_TASK_WORDS, got unknown words {unknown}")
    V, T, n = len(words), len(sentence), len(offsets)
    with torch.random.fork_rng(), _one_thread():
        torch.manual_seed(seed)
        embed, mha, read_out = nn.Embedding(V, d_model), MultiHeadAttention(d_model, num_heads), nn.Linear(d_model, n * V)
        pe = sinusoidal_encoding(T, d_model)
        source = torch.arange(T)[:, None] + torch.as_tensor(list(offsets))[None]   # (T, n): the position each answer is at
        has_answer = (source >= 0) & (source < T)                                   # t-2 does not exist for t = 0

        def forward(ids):                                                           # (B, T) -> (B, T, n, V)
            x = embed(ids) + pe                                                     # (B, T, d_model)
            return read_out(mha(x, x, x)).view(ids.size(0), T, n, V)

        sentence_ids = torch.tensor([[words.index(w) for w in sentence]])
        with torch.no_grad():
            forward(sentence_ids)
        untrained = mha.attention_weights[0].clone()                                # (h, T, T)
        params = [*embed.parameters(), *mha.parameters(), *read_out.parameters()]
        opt = torch.optim.Adam(params, lr=lr)
        g = torch.Generator().manual_seed(seed + 1)
        losses = []
        for _ in range(steps):
            ids = torch.randint(V, (batch_size, T), generator=g)
            target = ids[:, source.clamp(0, T - 1)].masked_fill(~has_answer, -100)  # (B, T, n); -100 = no answer
            loss = nn.functional.cross_entropy(forward(ids).reshape(-1, V), target.reshape(-1), ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with torch.no_grad():
            ids = torch.randint(V, (512, T), generator=g)
            target = ids[:, source.clamp(0, T - 1)]
            correct = (forward(ids).argmax(-1) == target)[:, has_answer]
            forward(sentence_ids)
        trained = mha.attention_weights[0].clone()
    return {"tokens": list(sentence), "offsets": list(offsets), "untrained_weights": untrained,
            "trained_weights": trained, "head_offsets": dominant_offsets(trained),
            "first_loss": losses[0], "final_loss": losses[-1], "accuracy": correct.float().mean().item()}


# ---- lesson 05: position-wise feed-forward network ----

__all__ += ["seeded_feed_forward", "hidden_activation_stats", "ffn_locality", "ffn_conv1x1_difference",
            "layer_parameter_split"]


def seeded_feed_forward(d_model: int, d_ff: int, activation: str = "relu", seed: int = 0) -> PositionwiseFeedForward:
    """A `PositionwiseFeedForward` whose weights depend only on (d_model, d_ff, seed), not on the activation
    or on the caller's random state, so ReLU and GELU can be compared on the very same weights."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return PositionwiseFeedForward(d_model, d_ff, activation=activation).eval()


def hidden_activation_stats(hidden: torch.Tensor) -> dict:
    """What the widget's caption reports about hidden activations `(..., d_ff)`: the fraction that are
    exactly 0 (ReLU switches units off), the fraction below 0 (GELU lets small negatives through), range."""
    h = torch.as_tensor(hidden).detach()
    return {"shape": tuple(h.shape), "zero_fraction": (h == 0).float().mean().item(),
            "negative_fraction": (h < 0).float().mean().item(), "min": h.min().item(), "max": h.max().item()}


def ffn_locality(tokens: Sequence[str] = ("I", "am", "a", "student"), position: int = 3, replacement: str = "teacher",
                 d_model: int = 16, d_ff: int = 64, num_heads: int = 4, seed: int = 0) -> dict:
    """Claim C9: the FFN works on each position independently. Self-attention, for contrast, does not.

    The sentence `tokens` and a copy with the word at `position` replaced by `replacement` (word vectors
    from `toy_embeddings` plus the positional encoding) go through the same FFN and the same self-attention
    (`MultiHeadAttention`). Returns, per position, how much each one's output changed (max abs difference).
    """
    if not 0 <= position < len(tokens):
        raise ValueError(f"expected a position in 0..{len(tokens) - 1} for {len(tokens)} tokens, got {position}")
    changed = list(tokens)
    changed[position] = replacement
    pe = sinusoidal_encoding(len(tokens), d_model)
    x = (toy_embeddings(tokens, d_model, seed) + pe)[None]              # (1, T, d_model)
    y = (toy_embeddings(changed, d_model, seed) + pe)[None]
    ffn = seeded_feed_forward(d_model, d_ff, seed=seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        attention = MultiHeadAttention(d_model, num_heads).eval()
    with torch.no_grad():
        ffn_change = (ffn(x) - ffn(y)).abs().amax(-1)[0]                 # (T,) one number per position
        attention_change = (attention(x, x, x) - attention(y, y, y)).abs().amax(-1)[0]
    return {"tokens": list(tokens), "changed_tokens": changed, "position": position,
            "ffn_change": ffn_change.tolist(), "attention_change": attention_change.tolist()}


def ffn_conv1x1_difference(d_model: int = 16, d_ff: int = 64, T: int = 7, batch_size: int = 3,
                           activation: str = "relu", seed: int = 0) -> float:
    """Claim C9 (second form): the FFN is a convolution with kernel size 1 over the positions.

    Copies `linear1` and `linear2` into `nn.Conv1d(d_model, d_ff, 1)` and `nn.Conv1d(d_ff, d_model, 1)`
    (a Linear weight `(out, in)` becomes a kernel `(out, in, 1)`), runs both on random inputs and returns
    the largest difference. Conv1d wants channels first: `(B, T, d_model) -> (B, d_model, T)`.
    """
    ffn = seeded_feed_forward(d_model, d_ff, activation, seed)
    conv1, conv2 = nn.Conv1d(d_model, d_ff, kernel_size=1), nn.Conv1d(d_ff, d_model, kernel_size=1)
    with torch.no_grad():
        for conv, linear in ((conv1, ffn.linear1), (conv2, ffn.linear2)):
            conv.weight.copy_(linear.weight[:, :, None])               # (out, in) -> (out, in, 1)
            conv.bias.copy_(linear.bias)
        x = torch.randn(batch_size, T, d_model, generator=torch.Generator().manual_seed(seed + 1))
        by_conv = conv2(ffn.activation(conv1(x.transpose(1, 2)))).transpose(1, 2)   # (B, d_model, T) in and out
        return (ffn(x) - by_conv).abs().max().item()


def layer_parameter_split(d_model: int = 512, num_heads: int = 8, d_ff: int = 2048) -> list[dict]:
    """Where a layer's parameters are: counted from real `EncoderLayer` and `DecoderLayer` modules
    (the paper's base model by default), next to the formulas and PyTorch's own layers.

    Attention: 4 d_model^2 + 4 d_model per attention block (W_q, W_k, W_v, W_o and biases).
    FFN: 2 d_model d_ff + d_ff + d_model. LayerNorm: 2 d_model each. With d_ff = 4 d_model the FFN holds
    about 2/3 of an encoder layer and about 1/2 of a decoder layer (which has two attention blocks).
    """
    with torch.random.fork_rng():
        layers = {"encoder layer": (EncoderLayer(d_model, num_heads, d_ff),
                                    nn.TransformerEncoderLayer(d_model, num_heads, d_ff, batch_first=True)),
                  "decoder layer": (DecoderLayer(d_model, num_heads, d_ff),
                                    nn.TransformerDecoderLayer(d_model, num_heads, d_ff, batch_first=True))}
    rows = []
    for name, (layer, theirs) in layers.items():
        attention_blocks = [m for m in layer.modules() if isinstance(m, MultiHeadAttention)]
        attention = sum(_parameter_count(m) for m in attention_blocks)
        ffn = _parameter_count(layer.feed_forward)
        total = _parameter_count(layer)
        rows.append({"layer": name, "attention_blocks": len(attention_blocks), "attention": attention,
                     "ffn": ffn, "layer_norm": total - attention - ffn, "total": total,
                     "torch_total": _parameter_count(theirs),
                     "attention_formula": len(attention_blocks) * (4 * d_model * d_model + 4 * d_model),
                     "ffn_formula": 2 * d_model * d_ff + d_ff + d_model,
                     "attention_share": attention / total, "ffn_share": ffn / total})
    return rows


# ---- lesson 04: residual connections and layer normalisation ----


__all__ += ["gradient_norms_per_layer", "gradient_flow", "reverse_task_batch", "TinySequenceModel",
            "train_tiny_encoder"]


def gradient_norms_per_layer(depth: int = 32, residual: bool = True, *, width: int = 64, batch_size: int = 32,
                             seed: int = 0) -> list[float]:
    """Claim C7: the gradient norm ||d loss / d W_l|| of every layer l of a deep stack, layer 1 nearest the input.

    Each of the `depth` blocks is `f(h) = tanh(W h + b)` (an `nn.Linear` with PyTorch's default init), stacked
    either plainly, `h = f(h)`, or with a residual connection, `h = h + f(h)`. The loss is the mean squared
    error against a random target, so the gradient arriving at the top is about the same size either way.
    """
    depth = check_positive_int("depth", depth)
    with torch.random.fork_rng():                       # the caller's random state is left alone
        torch.manual_seed(seed)
        layers = [nn.Linear(width, width) for _ in range(depth)]
        x, target = torch.randn(batch_size, width), torch.randn(batch_size, width)
    h = x
    with _one_thread():
        for layer in layers:
            out = torch.tanh(layer(h))                  # (B, width) -> (B, width)
            h = h + out if residual else out            # the residual path carries h past the block unchanged
        F.mse_loss(h, target).backward()
    return [layer.weight.grad.norm().item() for layer in layers]


def gradient_flow(depth: int = 32, *, width: int = 64, batch_size: int = 32, seed: int = 0) -> dict:
    """Claim C7 in one call: the same stack (same weights, same data) with and without residual connections.

    Returns both lists of per-layer gradient norms, and for each the ratio first layer / last layer
    (1 means the first layer gets as much gradient as the last) and the spread max / min over all layers.
    """
    plain = gradient_norms_per_layer(depth, False, width=width, batch_size=batch_size, seed=seed)
    residual = gradient_norms_per_layer(depth, True, width=width, batch_size=batch_size, seed=seed)
    return {"depth": depth, "plain": plain, "residual": residual,
            "plain_first_over_last": plain[0] / plain[-1], "residual_first_over_last": residual[0] / residual[-1],
            "plain_spread": max(plain) / min(plain), "residual_spread": max(residual) / min(residual)}


def reverse_task_batch(batch_size: int, seq_len: int, vocab_size: int, generator: torch.Generator):
    """A synthetic sequence task: read random tokens `x (B, T)` (ids 1..V-1), output them reversed, `y = x[:, ::-1]`.

    Every output position must fetch the token from the mirrored position, so the model needs attention
    and positions; a 1-layer encoder learns it in about a hundred steps.
    """
    x = torch.randint(1, vocab_size, (batch_size, seq_len), generator=generator)
    return x, x.flip(1)


class TinySequenceModel(nn.Module):
    """Embedding + sinusoidal positions -> a stack of the course's `EncoderLayer`s -> linear to token logits.

    `norm` picks where LayerNorm goes in every `ResidualConnection`: "post" (the paper, LayerNorm(x + Sublayer(x))),
    "pre" (x + Sublayer(LayerNorm(x)), with one more LayerNorm after the stack, as `Encoder` adds), or "none"
    (x + Sublayer(x): the residual connections stay, every LayerNorm is replaced by the identity).
    """

    def __init__(self, norm: str = "pre", num_layers: int = 4, vocab_size: int = 10, d_model: int = 16,
                 num_heads: int = 2, d_ff: int = 32, max_len: int = 64):
        super().__init__()
        check_choice("norm", norm, ("post", "pre", "none"))
        self.norm = norm
        self.embed = nn.Embedding(vocab_size, d_model)
        self.positional = PositionalEncoding(d_model, max_len, dropout=0.0)
        self.encoder = Encoder(num_layers, d_model, num_heads, d_ff, dropout=0.0, norm_first=norm == "pre")
        if norm == "none":
            for block in self.encoder.modules():
                if isinstance(block, ResidualConnection):
                    block.norm = nn.Identity()          # x + Dropout(Sublayer(x)) whichever placement
        self.generator = nn.Linear(d_model, vocab_size)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.generator(self.encoder(self.positional(self.embed(tokens))))  # (B, T) -> (B, T, V)


def train_tiny_encoder(norm: str = "pre", num_layers: int = 4, *, steps: int = 100, lr: float = 3e-2,
                       warmup: int = 0, seed: int = 0, batch_size: int = 32, seq_len: int = 6, vocab_size: int = 10,
                       d_model: int = 16, num_heads: int = 2, d_ff: int = 32, tail: int = 10) -> dict:
    """Claim C8: train a `TinySequenceModel` on the reverse task with Adam (a large learning rate, no warm-up
    by default) for `steps` steps; about a second on one CPU core for 4 layers.

    The same `seed` gives the same initial weights and the same batches for every `norm`, so runs differ
    only in where (or whether) LayerNorm sits. `warmup` > 0 ramps the learning rate linearly over that
    many steps. Returns the loss at every step and `final_loss`, the mean of the last `tail` steps
    (guessing uniformly among the vocab_size - 1 real tokens scores ln 9 = 2.20 nats by default).

    What we measured with these defaults (seeds 0-5): at 4 layers, Pre-LN ends 1.2x to over 100x lower than
    no LayerNorm (about 3x for seed 0) and Post-LN stays near chance, which 30 steps of warm-up mostly
    repair; at 1 layer both placements train.
    """
    steps = check_positive_int("steps", steps)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = TinySequenceModel(norm, num_layers, vocab_size, d_model, num_heads, d_ff)
    data = torch.Generator().manual_seed(10_000 + seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)
    losses = []
    with _one_thread():
        for step in range(steps):
            if warmup:
                for group in optimizer.param_groups:
                    group["lr"] = lr * min(1.0, (step + 1) / warmup)
            x, y = reverse_task_batch(batch_size, seq_len, vocab_size, data)
            loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())   # (B*T, V) against (B*T,)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return {"norm": norm, "num_layers": num_layers, "lr": lr, "warmup": warmup, "seed": seed, "losses": losses,
            "final_loss": sum(losses[-tail:]) / len(losses[-tail:]), "chance_loss": math.log(vocab_size - 1)}


# ---- lesson 06: encoder and decoder ----


__all__ += ["decoder_logits", "future_token_effect", "cross_attention_weights", "copy_nn_transformer_weights"]


def decoder_logits(model: Transformer, src: torch.Tensor, tgt_in: torch.Tensor, causal: bool = True) -> torch.Tensor:
    """Next-token logits `(B, T, V)` of `model` (in eval mode, no gradients) for source ids `(B, S)` and the
    target so far `(B, T)`. `causal=False` runs the same decoder without its causal mask, so that every
    target position may look at every other one: what the decoder would compute if it could see ahead.
    """
    with torch.no_grad():
        src_mask = model.source_mask(src)                                 # (B, 1, 1, S): True = real token
        memory = model.encode(src, src_mask)                              # (B, S, d_model)
        if causal:
            hidden = model.decode(tgt_in, memory, src_mask)               # (B, T, d_model), causal mask inside
        else:
            y = model.positional(model.tgt_embed(tgt_in) * math.sqrt(model.d_model))
            hidden = model.decoder(y, memory, None, src_mask)             # no mask: sees the whole target
        return model.generator(hidden)                                    # (B, T, V)


def future_token_effect(model: Transformer, src: torch.Tensor, tgt_in: torch.Tensor, position: int,
                        new_token: int, causal: bool = True) -> dict:
    """Claim C10: replace the target token at `position` by `new_token`; how much does each output change?

    Returns `changes`, the largest absolute change of the logits at every target position (batch row 0),
    the largest change before `position` (`earlier_max`) and the smallest from `position` on (`later_min`).
    With the causal mask, `earlier_max` is exactly 0: position t never sees positions after t.
    """
    T = tgt_in.size(1)
    if not 0 <= position < T:
        raise ValueError(f"expected position in 0..{T - 1} for a target of length {T}, got {position}")
    if int(tgt_in[0, position]) == new_token:
        raise ValueError(f"expected new_token to differ from the token already at position {position}, "
                         f"got the same id {new_token}")
    changed = tgt_in.clone()
    changed[:, position] = new_token
    was_training = model.training
    model.eval()
    try:
        before = decoder_logits(model, src, tgt_in, causal)
        after = decoder_logits(model, src, changed, causal)
    finally:
        model.train(was_training)
    changes = (after - before)[0].abs().amax(-1)                          # (T,): per position, largest change
    return {"position": position, "causal": causal, "changes": changes.tolist(),
            "earlier_max": changes[:position].max().item() if position else 0.0,
            "later_min": changes[position:].min().item()}


def cross_attention_weights(model: Transformer, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
    """The cross-attention weights of every decoder layer, `(L, h, T, S)` for batch row 0.

    Row t of head i in layer l: how target position t (a query from the decoder) spreads its attention
    over the S source positions (keys and values from the encoder's memory); each row sums to 1.
    """
    was_training = model.training
    model.eval()
    try:
        decoder_logits(model, src, tgt_in)                                # fills .attention_weights
    finally:
        model.train(was_training)
    return torch.stack([layer.cross_attn.attention_weights[0] for layer in model.decoder.layers])


def copy_nn_transformer_weights(ours: Transformer, theirs: nn.Transformer) -> list[tuple[str, str]]:
    """Load the weights of a `torch.nn.Transformer(batch_first=True)` into the course's `Transformer`.

    Layer by layer with `EncoderLayer.from_torch` / `DecoderLayer.from_torch`, plus the final LayerNorm of
    each stack, which `nn.Transformer` always has (build `ours` with `final_norm=True`). Embeddings and the
    output layer are not part of `nn.Transformer` and stay as they are. Returns the `(ours, theirs)` pairs
    of module names that were copied.
    """
    if not isinstance(theirs, nn.Transformer):
        raise TypeError(f"expected a torch.nn.Transformer, got {type(theirs).__name__}")
    if ours.encoder.norm is None or ours.decoder.norm is None:
        raise ValueError("expected a Transformer built with final_norm=True: nn.Transformer ends each stack "
                         "with a LayerNorm (encoder.norm, decoder.norm)")
    for side in ("encoder", "decoder"):
        n_ours, n_theirs = len(getattr(ours, side).layers), len(getattr(theirs, side).layers)
        if n_ours != n_theirs:
            raise ValueError(f"expected the same number of {side} layers, got {n_ours} (ours) and {n_theirs} (theirs)")
    copied = []
    for side, layer_cls in (("encoder", EncoderLayer), ("decoder", DecoderLayer)):
        for i, (mine, their) in enumerate(zip(getattr(ours, side).layers, getattr(theirs, side).layers)):
            mine.load_state_dict(layer_cls.from_torch(their).state_dict())
            copied.append((f"{side}.layers.{i}", f"{side}.layers.{i}"))
        getattr(ours, side).norm.load_state_dict(getattr(theirs, side).norm.state_dict())
        copied.append((f"{side}.norm", f"{side}.norm"))
    return copied


# ---- lesson 08: why attention ----


__all__ += ["critical_path_length", "depth_and_work", "time_attention_vs_gru", "gradient_reach",
            "RECALL_KEYS", "RECALL_VALUES", "recall_batch", "recall_tokens", "RecallEmbedding",
            "RecallAttention", "RecallGRU", "count_parameters", "matched_gru_hidden_size", "recall_accuracy",
            "long_range_recall"]


def critical_path_length(output: torch.Tensor) -> int:
    """The longest chain of operations, one waiting for the other, that produced `output`.

    Counted on the autograd graph: the number of nodes on the longest path from `output` back to the
    inputs. Operations on that path cannot run at the same time, however many cores there are.
    """
    if output.grad_fn is None:
        raise ValueError("expected a tensor computed from inputs with requires_grad=True, got one with no grad_fn")
    length: dict = {}
    stack = [(output.grad_fn, False)]
    while stack:                                              # depth-first, without recursion (GRU graphs are deep)
        node, children_done = stack.pop()
        if node in length:
            continue
        children = [child for child, _ in node.next_functions if child is not None]
        if children_done:
            length[node] = 1 + max((length[c] for c in children), default=0)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children if c not in length)
    return length[output.grad_fn]


def _threads(n: int | None):
    """Run with `n` intra-op threads (None: leave as is), then restore the previous setting."""
    return torch_threads(n)


def _attention_and_gru(d_model: int, num_heads: int, seed: int):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MultiHeadAttention(d_model, num_heads), nn.GRU(d_model, d_model, batch_first=True)


def depth_and_work(lengths: Sequence[int] = (16, 64, 256, 1024), d_model: int = 64, num_heads: int = 4,
                   seed: int = 0) -> list[dict]:
    """Claim C1: one self-attention layer against one GRU layer (both d_model wide, on the CPU), per length T.

    `*_depth`: the critical path (sequential steps) of the forward pass, from `critical_path_length`;
    `*_flops`: the arithmetic, counted by `torch.utils.flop_counter.FlopCounterMode` (matrix products).
    Attention: a depth that does not grow with T, and about 8 T d^2 + 4 T^2 d flops. GRU: a depth that grows
    by a fixed number of operations per time step, and about 12 T d^2 flops.
    """
    attention, gru = _attention_and_gru(d_model, num_heads, seed)
    rows = []
    for T in lengths:
        T = check_positive_int("length", T)
        x = torch.randn(1, T, d_model, generator=torch.Generator().manual_seed(seed), requires_grad=True)
        with FlopCounterMode(display=False) as counter:
            out_attention = attention(x, x, x)                  # (1, T, d) attends to (1, T, d) in one step
        attention_flops = counter.get_total_flops()
        with FlopCounterMode(display=False) as counter:
            out_gru, _ = gru(x)                                 # (1, T, d), one time step after the other
        rows.append({"length": T, "attention_depth": critical_path_length(out_attention),
                     "gru_depth": critical_path_length(out_gru),
                     "attention_flops": attention_flops, "gru_flops": counter.get_total_flops()})
    return rows


def time_attention_vs_gru(lengths: Sequence[int] = (16, 64, 256, 1024), d_model: int = 64, num_heads: int = 4,
                          batch_size: int = 8, repeats: int = 5, threads: int | None = 1, seed: int = 0) -> list[dict]:
    """Claim C1, the clock: the best of `repeats` forward passes (milliseconds) of one self-attention layer and
    one GRU layer on a `(batch_size, T, d_model)` input, per length T. Runs with `threads` CPU threads
    (None: PyTorch's setting). Timings vary from run to run and machine to machine; nothing asserts them.
    """
    attention, gru = _attention_and_gru(d_model, num_heads, seed)
    repeats = check_positive_int("repeats", repeats)

    def best_ms(fn) -> float:
        fn()                                                    # warm-up: first calls allocate
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return 1000 * min(times)

    rows = []
    with _threads(threads), torch.no_grad():
        for T in lengths:
            x = torch.randn(batch_size, T, d_model, generator=torch.Generator().manual_seed(seed))
            rows.append({"length": int(T), "attention_ms": best_ms(lambda: attention(x, x, x)),
                         "gru_ms": best_ms(lambda: gru(x))})
    return rows


def gradient_reach(length: int = 128, distances: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 127), d_model: int = 32,
                   num_heads: int = 4, batch_size: int = 16, seed: int = 0) -> dict:
    """How strongly the last position's output feels an input d positions back, at initialisation.

    The mean norm of d output[T-1] / d x[T-1-d] over a batch of random inputs, for one self-attention layer
    and one GRU layer. This is the signal that training needs to learn a dependency over distance d.
    In attention every position is one step from every other; in a GRU the signal passes through d steps,
    each multiplying it by a Jacobian, and fades.
    """
    length = check_positive_int("length", length)
    for d in distances:
        if not 1 <= d < length:
            raise ValueError(f"expected distances in 1..{length - 1} for length={length}, got {d}")
    attention, gru = _attention_and_gru(d_model, num_heads, seed)
    x = torch.randn(batch_size, length, d_model, generator=torch.Generator().manual_seed(seed), requires_grad=True)
    (grad_attention,) = torch.autograd.grad(attention(x, x, x)[:, -1].sum(), x)   # (B, T, d)
    (grad_gru,) = torch.autograd.grad(gru(x)[0][:, -1].sum(), x)                  # (B, T, d)
    at = [length - 1 - d for d in distances]
    return {"distances": [int(d) for d in distances],
            "attention": grad_attention.norm(dim=-1).mean(0)[at].tolist(),
            "gru": grad_gru.norm(dim=-1).mean(0)[at].tolist()}


# The long-range task: key-value recall. A sequence of pairs such as "c7 a2 f9 ... ?a": each position holds a
# key (a letter) and a value (a digit), keys distinct within a sequence; the last position asks for one key;
# the answer is its value. The pair asked about lies `distance` positions before the question.
RECALL_KEYS = "abcdefghijklmnop"
RECALL_VALUES = "0123456789"


def recall_batch(batch_size: int, num_pairs: int, generator: torch.Generator, asked: str = "random"):
    """`(tokens (B, N + 1), answers (B,), asked_positions (B,))` for `N = num_pairs` pairs and a question.

    Token ids: the pair (key k, value v) is `k * len(RECALL_VALUES) + v`; the question about key k is
    `len(RECALL_KEYS) * len(RECALL_VALUES) + k`. `asked="random"` asks about any pair; `"first"` about the
    first one, so the answer lies exactly `num_pairs` positions before the question.
    """
    K, M = len(RECALL_KEYS), len(RECALL_VALUES)
    if not 1 <= num_pairs <= K:
        raise ValueError(f"expected num_pairs in 1..{K} (one pair per key), got {num_pairs}")
    if asked not in ("random", "first"):
        raise ValueError(f"expected asked to be 'random' or 'first', got {asked!r}")
    keys = torch.rand(batch_size, K, generator=generator).argsort(-1)[:, :num_pairs]    # (B, N) distinct keys
    values = torch.randint(0, M, (batch_size, num_pairs), generator=generator)         # (B, N)
    if asked == "random":
        positions = torch.randint(0, num_pairs, (batch_size,), generator=generator)
    else:
        positions = torch.zeros(batch_size, dtype=torch.long)
    rows = torch.arange(batch_size)
    question = K * M + keys[rows, positions]                                           # (B,)
    tokens = torch.cat([keys * M + values, question[:, None]], dim=1)                  # (B, N + 1)
    return tokens, values[rows, positions], positions


def recall_tokens(ids) -> list[str]:
    """Ids of one sequence -> readable tokens: ["c7", "a2", ..., "?a"]."""
    K, M = len(RECALL_KEYS), len(RECALL_VALUES)
    out = []
    for i in (ids.tolist() if hasattr(ids, "tolist") else ids):
        out.append(f"?{RECALL_KEYS[i - K * M]}" if i >= K * M else f"{RECALL_KEYS[i // M]}{RECALL_VALUES[i % M]}")
    return out


class RecallEmbedding(nn.Module):
    """A position's vector: the embedding of its key plus the embedding of its value ("?" for the question)."""

    def __init__(self, d_model: int):
        super().__init__()
        self.key = nn.Embedding(len(RECALL_KEYS), d_model)
        self.value = nn.Embedding(len(RECALL_VALUES) + 1, d_model)      # the last row stands for "?"

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        K, M = len(RECALL_KEYS), len(RECALL_VALUES)
        question = tokens >= K * M
        keys = torch.where(question, tokens - K * M, tokens // M)
        values = torch.where(question, M, tokens % M)
        return self.key(keys) + self.value(values)                      # (B, T) -> (B, T, d_model)


class RecallAttention(nn.Module):
    """Embedding + positional encoding, one encoder layer (self-attention + FFN), a linear read-out at the question."""

    def __init__(self, d_model: int = 32, num_heads: int = 2, d_ff: int = 64, max_len: int = 64):
        super().__init__()
        self.embed = RecallEmbedding(d_model)
        self.positional = PositionalEncoding(d_model, max_len)
        self.layer = EncoderLayer(d_model, num_heads, d_ff)
        self.readout = nn.Linear(d_model, len(RECALL_VALUES))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        h = self.layer(self.positional(self.embed(tokens)))             # (B, T, d_model)
        return self.readout(h[:, -1])                                   # (B, values): logits at the question


class RecallGRU(nn.Module):
    """The same embedding, one GRU layer, and a linear read-out of its last hidden state."""

    def __init__(self, d_model: int = 32, hidden_size: int = 39):
        super().__init__()
        self.embed = RecallEmbedding(d_model)
        self.gru = nn.GRU(d_model, hidden_size, batch_first=True)
        self.readout = nn.Linear(hidden_size, len(RECALL_VALUES))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        _, h_last = self.gru(self.embed(tokens))                        # (1, B, hidden): the state after the question
        return self.readout(h_last[-1])                                 # (B, values)


def count_parameters(model: nn.Module) -> int:
    """The number of trainable numbers in `model`."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def matched_gru_hidden_size(target_params: int, d_model: int = 32) -> int:
    """The hidden size whose `RecallGRU(d_model, hidden_size)` has the parameter count closest to `target_params`."""
    fixed = count_parameters(RecallEmbedding(d_model)) + len(RECALL_VALUES)          # embedding + read-out bias
    def size(h: int) -> int:                                   # 3 gates: input and hidden weights, two biases each
        return fixed + 3 * (d_model * h + h * h + 2 * h) + h * len(RECALL_VALUES)
    return min(range(1, 4 * d_model + 1), key=lambda h: abs(size(h) - target_params))


def recall_accuracy(model: nn.Module, distance: int, num_examples: int = 500, seed: int = 1234) -> float:
    """Accuracy on `num_examples` fresh sequences of `distance` pairs, asked about the first pair."""
    generator = torch.Generator().manual_seed(seed + distance)
    tokens, answers, _ = recall_batch(num_examples, distance, generator, asked="first")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return (model(tokens).argmax(-1) == answers).float().mean().item()
    finally:
        model.train(was_training)


def long_range_recall(seed: int = 0, max_pairs: int = 16, steps: int = 300, batch_size: int = 32, lr: float = 1e-2,
                      d_model: int = 32, num_heads: int = 2, d_ff: int = 64, num_examples: int = 500,
                      threads: int | None = 1) -> dict:
    """Claim C11: a small attention model against a GRU with the same number of parameters, trained the same way.

    Both see the same batches: sequences of 1 to `max_pairs` key-value pairs and a question about a random
    one (`recall_batch`), `steps` Adam steps at learning rate `lr`. Then, for every distance d, the accuracy
    on sequences whose answer lies d positions back (d pairs, asked about the first). Runs on `threads` CPU
    threads (1: the same numbers on every machine of a kind, and no fight for cores); seeded, a few seconds.

    Returns the distances, both accuracy lists, parameter counts, training seconds, final losses and the
    two trained models (under "models").
    """
    steps, max_pairs = check_positive_int("steps", steps), check_positive_int("max_pairs", max_pairs)
    with _threads(threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        attention = RecallAttention(d_model, num_heads, d_ff, max_len=max_pairs + 1)
        hidden = matched_gru_hidden_size(count_parameters(attention), d_model)
        torch.manual_seed(seed)
        gru = RecallGRU(d_model, hidden)
        seconds, losses = {}, {}
        for name, model in (("attention", attention), ("gru", gru)):
            data = torch.Generator().manual_seed(seed + 1)             # the same batches for both models
            optimizer = torch.optim.Adam(model.parameters(), lr=lr)
            start = time.perf_counter()
            for _ in range(steps):
                num_pairs = int(torch.randint(1, max_pairs + 1, (1,), generator=data))
                tokens, answers, _ = recall_batch(batch_size, num_pairs, data)
                loss = nn.functional.cross_entropy(model(tokens), answers)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            seconds[name], losses[name] = time.perf_counter() - start, loss.item()
        distances = list(range(1, max_pairs + 1))
        return {"distances": distances,
                "attention": [recall_accuracy(attention, d, num_examples) for d in distances],
                "gru": [recall_accuracy(gru, d, num_examples) for d in distances],
                "attention_params": count_parameters(attention), "gru_params": count_parameters(gru),
                "gru_hidden_size": hidden, "chance": 1 / len(RECALL_VALUES), "seconds": seconds,
                "final_loss": losses, "seed": seed, "steps": steps,
                "models": {"attention": attention, "gru": gru}}


# ---- lesson 07: training and generation ----
__all__ += ["cross_attention_map", "untrained_copy", "head_diversity", "beam_vs_greedy",
            "decoding_choices"]


def _check_translator(translator) -> None:
    from .training import Translator
    if not isinstance(translator, Translator):
        raise TypeError(f"expected a transformer_lesson.Translator, got {type(translator).__name__}")


def cross_attention_map(translator, sentence: str) -> dict:
    """Translate `sentence` greedily and read every decoder layer's cross-attention weights.

    Runs `pipeline.trace_translation`, whose decoder pass over `<bos> y_1 ... y_n` leaves each layer's
    `cross_attn.attention_weights` `(1, h, T, S)` behind. Row t is the query that *produces* output token
    t (y_1 ... y_n, then <eos>); column s is English word s. Returns {"source": English words, "target":
    produced tokens incl. "<eos>", "weights": (L, h, T, S) tensor, "translation": str}.
    """
    from .pipeline import trace_translation
    _check_translator(translator)
    trace = trace_translation(translator, sentence)
    weights = torch.stack([layer.cross_attn.attention_weights[0] for layer in translator.model.decoder.layers])
    target = trace.target_tokens + ["<eos>"]
    if weights.shape[-2:] != (len(target), len(trace.words)):
        raise RuntimeError(f"expected cross-attention weights of shape (L, h, {len(target)}, {len(trace.words)}), "
                           f"got {tuple(weights.shape)}")
    return {"source": list(trace.words), "target": target, "weights": weights, "translation": trace.translation}


def untrained_copy(translator, seed: int = 0):
    """A `Translator` with the same vocabularies and sizes as `translator` but freshly initialised weights,
    initialised as `train_translator` initialises them before its first step (small embeddings included)."""
    from .training import Translator, _build_model, _model_kwargs, small_embeddings
    _check_translator(translator)
    with torch.random.fork_rng(devices=[]):             # the caller's random state is left alone
        torch.manual_seed(seed)
        model = _build_model(len(translator.src_vocab), len(translator.tgt_vocab), **_model_kwargs(translator.config))
        if translator.config.get("embed_init_std") is not None:
            small_embeddings(model, translator.config["embed_init_std"])
    return Translator(model, translator.src_vocab, translator.tgt_vocab, translator.config)


def _attention_modules(model) -> list[tuple[str, object]]:
    mods = [(f"encoder {i + 1} self", layer.self_attn) for i, layer in enumerate(model.encoder.layers)]
    for i, layer in enumerate(model.decoder.layers):
        mods += [(f"decoder {i + 1} self", layer.self_attn), (f"decoder {i + 1} cross", layer.cross_attn)]
    return mods


def head_diversity(translator, sentences: Sequence[str]) -> dict:
    """Claim C6, second half: how differently the heads of each attention layer look at the same sentences.

    Each sentence is translated (`pipeline.trace_translation`), which leaves every attention module's
    weights `(1, h, T_q, T_k)` behind. For two heads i, j the distance is the total variation between
    their rows, 0.5 * sum_k |a_ik - b_jk| (0: the same distribution, 1: no overlap), averaged over the
    query rows, then over the sentences. Returns {"modules": [{"name", "distances" (h x h list), "mean",
    "min"} ...], "mean": mean over all pairs of heads, "min": the closest pair anywhere}.
    """
    from .pipeline import trace_translation
    _check_translator(translator)
    if isinstance(sentences, str) or not sentences:
        raise ValueError("expected a non-empty list of English sentences")
    modules = _attention_modules(translator.model)
    h = modules[0][1].num_heads
    totals = [torch.zeros(h, h, dtype=torch.float64) for _ in modules]
    with _one_thread():
        for sentence in sentences:
            trace_translation(translator, sentence)
            for total, (_, module) in zip(totals, modules):
                w = module.attention_weights[0].double()                     # (h, T_q, T_k)
                diff = (w[:, None] - w[None, :]).abs().sum(-1) / 2           # (h, h, T_q): TV per query row
                total += diff.mean(-1)
    rows, pairs = [], torch.triu_indices(h, h, offset=1)
    for total, (name, _) in zip(totals, modules):
        d = total / len(sentences)
        off = d[pairs[0], pairs[1]]
        rows.append({"name": name, "distances": d.tolist(), "mean": off.mean().item(), "min": off.min().item()})
    return {"modules": rows, "num_heads": h, "sentences": len(sentences),
            "mean": sum(r["mean"] for r in rows) / len(rows), "min": min(r["min"] for r in rows)}


def _greedy_by_length(translator, sentences: Sequence[str]) -> list[tuple[str, float]]:
    """Greedy translations and their log-probabilities, decoding sentences of equal length together (no padding)."""
    from .data import BOS, EOS, join_chinese
    from .decoding import greedy_decode
    ids = [translator.encode_source(sentence)[0] for sentence in sentences]     # each (S,)
    by_length: dict[int, list[int]] = {}
    for i, row in enumerate(ids):
        by_length.setdefault(row.numel(), []).append(i)
    results: list = [None] * len(ids)
    for rows in by_length.values():
        src = torch.stack([ids[i] for i in rows])                                  # (B, S), all real words
        for i, hyp in zip(rows, greedy_decode(translator.model, src, bos_id=BOS, eos_id=EOS)):
            results[i] = (join_chinese(translator.tgt_vocab.decode(hyp.tokens)), hyp.log_prob)
    return results


def beam_vs_greedy(translator, pairs: Sequence[tuple[str, str]], beam_size: int = 4, length_penalty: float = 0.0,
                   tol: float = 1e-4) -> dict:
    """Claim C12, second half: beam search's translation against greedy decoding's, sentence by sentence.

    Greedy decoding runs on all sentences of one length at once (a batch without padding), beam search on
    each sentence alone; their total log-probabilities log P(y | x) (with <eos>) are compared, `tol`
    absorbing float rounding between the two. With `length_penalty` 0 beam search ranks by log-probability
    itself. Returns counts ("beam_higher", "same", "beam_lower"), "largest_gain", exact-match counts
    against the references, and "differ": the sentences where the two translations differ, as
    (english, reference, greedy, greedy_lp, beam, beam_lp). Unknown English words raise ValueError.
    """
    from .data import join_chinese, tokenize_chinese
    _check_translator(translator)
    if isinstance(pairs, str) or not pairs:
        raise ValueError("expected a non-empty list of (english, chinese) pairs")
    higher = same = lower = greedy_right = beam_right = 0
    gain, differ, greedy_lps, beam_lps = 0.0, [], [], []
    with _one_thread():
        greedy_results = _greedy_by_length(translator, [english for english, _ in pairs])
        beam_results = [translator.alternatives(english, beam_size=beam_size, length_penalty=length_penalty)[0]
                        for english, _ in pairs]
    for (english, chinese), (greedy, greedy_lp), (beam, _, beam_lp) in zip(pairs, greedy_results, beam_results):
        greedy_lps.append(greedy_lp)
        beam_lps.append(beam_lp)
        if beam_lp > greedy_lp + tol:
            higher += 1
        elif beam_lp < greedy_lp - tol:
            lower += 1
        else:
            same += 1
        gain = max(gain, beam_lp - greedy_lp)
        reference = join_chinese(tokenize_chinese(chinese))
        greedy_right += greedy == reference
        beam_right += beam == reference
        if greedy != beam:
            differ.append((english, reference, greedy, greedy_lp, beam, beam_lp))
    return {"total": len(pairs), "beam_size": beam_size, "length_penalty": length_penalty,
            "beam_higher": higher, "same": same, "beam_lower": lower, "largest_gain": gain,
            "greedy_correct": greedy_right, "beam_correct": beam_right, "differ": differ,
            "greedy_log_probs": greedy_lps, "beam_log_probs": beam_lps}


def decoding_choices(translator, sentence: str, beam_size: int = 4, length_penalty: float = 0.6,
                     temperature: float = 1.0, num_samples: int = 8, seed: int = 0, cache: dict | None = None) -> dict:
    """Greedy, beam search and sampling on one sentence, for the decoding widget.

    Returns {"greedy": (text, log_prob), "beam": [(text, score, log_prob), ...] best first,
    "samples": [(text, log_prob), ...] (`num_samples` draws from softmax(logits / temperature), the
    log-probabilities under the model itself, at temperature 1; a sample stops at <eos> or after as many
    tokens as the English sentence has words plus 6), "sample_counts": {text: count}}.
    The samples come from a generator seeded with `seed`, so the same arguments give the same samples.
    `cache`: a dict to keep results in, so that moving one slider recomputes only what depends on it.
    """
    from .data import BOS, EOS, join_chinese
    from .decoding import sample_decode
    _check_translator(translator)
    num_samples = check_positive_int("num_samples", num_samples)
    cache = {} if cache is None else cache
    key = (id(translator), sentence)

    def cached(part, compute):
        if (key, part) not in cache:
            cache[key, part] = compute()
        return cache[key, part]

    def sample():
        src = translator.encode_source(sentence).repeat(num_samples, 1)       # (1, S) -> (n, S)
        generator = torch.Generator().manual_seed(seed)
        hyps = sample_decode(translator.model, src, temperature, max_len=src.size(1) + 6, bos_id=BOS, eos_id=EOS,
                             generator=generator)                             # at most 6 tokens more than English
        return [(join_chinese(translator.tgt_vocab.decode(h.tokens)), h.log_prob) for h in hyps]

    with _one_thread():
        greedy, _, greedy_lp = cached("greedy", lambda: translator.alternatives(sentence, beam_size=1)[0])
        beam = cached(("beam", beam_size, length_penalty),
                      lambda: translator.alternatives(sentence, beam_size=beam_size, length_penalty=length_penalty))
        samples = cached(("samples", temperature, num_samples, seed), sample)
    counts: dict[str, int] = {}
    for text, _ in samples:
        counts[text] = counts.get(text, 0) + 1
    return {"sentence": sentence, "greedy": (greedy, greedy_lp), "beam": beam, "samples": samples,
            "sample_counts": counts, "beam_size": beam_size, "length_penalty": length_penalty,
            "temperature": temperature}
