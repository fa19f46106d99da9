"""The experiments behind the course's claims C1-C12 (see COURSE.md), one function per experiment.

Each function is pure and seeded, runs in a few seconds on a CPU, and returns plain numbers, lists or
dicts that a notebook prints and asserts and that the tests assert too.
"""
from __future__ import annotations

import itertools
import math
import zlib
from typing import Sequence

import torch

from ._validate import check_positive_int
from .attention import scaled_dot_product_attention
from .positional import shift_matrix, sinusoidal_encoding

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
from contextlib import contextmanager  # noqa: E402  (section imports: lesson 03)

from torch import nn  # noqa: E402

from .multihead import MultiHeadAttention  # noqa: E402

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


@contextmanager
def _one_thread():
    """Tiny models run faster on one thread (no hand-offs between threads); restore the setting after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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
from .feedforward import PositionwiseFeedForward  # noqa: E402  (section imports: lesson 05)
from .model import DecoderLayer, EncoderLayer  # noqa: E402

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
import torch.nn.functional as F  # noqa: E402  (section imports: lesson 04)
from torch import nn  # noqa: E402

from ._validate import check_choice, check_positive_int  # noqa: E402
from .model import Encoder  # noqa: E402
from .positional import PositionalEncoding  # noqa: E402
from .residual import ResidualConnection  # noqa: E402

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

