"""Lesson 03, multi-head attention (多头注意力): the experiments behind its claims.

Each function is seeded, runs in a few seconds on a CPU, and returns plain numbers that the notebook
prints and asserts and the tests assert too.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ...i18n import translator
from ...multihead import MultiHeadAttention
from ...positional import sinusoidal_encoding
from ...runtime import count_parameters, torch_threads
from ..lesson01_self_attention.experiments import toy_embeddings

_ = translator("lesson03")

__all__ = [
    "toy_embeddings", "parameter_count_by_heads", "WrongSplitMultiHeadAttention", "imitate",
    "first_output_moves", "wrong_split_still_trains", "offset_profile", "dominant_offsets", "sentence_ids",
    "offset_batch", "OffsetReader", "train_offset_heads", "OFFSET_TASK_WORDS", "SENTENCE",
]



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
                     "all_heads_qkv": count_parameters(mha.w_q) + count_parameters(mha.w_k) + count_parameters(mha.w_v),
                     "w_o": count_parameters(mha.w_o), "total": count_parameters(mha),
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


def imitate(student: nn.Module, teacher: nn.Module, steps: int, batch_size: int, T: int, lr: float,
            seed: int) -> list[float]:
    """Train `student` to give the `teacher`'s outputs on random inputs; return the loss of every step."""
    optimizer = torch.optim.Adam(student.parameters(), lr=lr)
    data = torch.Generator().manual_seed(seed)                  # the same seed: the same batches
    losses = []
    for _ in range(steps):
        x = torch.randn(batch_size, T, teacher.d_model, generator=data)   # (B, T, d_model) random inputs
        with torch.no_grad():
            target = teacher(x, x, x)                                      # (B, T, d_model): what to imitate
        loss = nn.functional.mse_loss(student(x, x, x), target)           # mean squared error
        optimizer.zero_grad()
        loss.backward()                                                    # gradients of the loss
        optimizer.step()                                                   # every weight a small step downhill
        losses.append(loss.item())
    return losses


def first_output_moves(mha: MultiHeadAttention, x: torch.Tensor) -> float:
    """How far the first position's output moves when only the last token's vector changes (no mask)."""
    changed = x.clone()
    changed[:, -1] += 1.0                                      # (B, T, d_model): only the last token differs
    with torch.no_grad():
        return (mha(x, x, x)[:, 0] - mha(changed, changed, changed)[:, 0]).abs().max().item()


def wrong_split_still_trains(steps: int = 100, d_model: int = 16, num_heads: int = 4, T: int = 6,
                             batch_size: int = 16, lr: float = 1e-2, seed: int = 0) -> dict:
    """Pitfall: `view(B, h, T, d_k)` without a transpose still trains, so a falling loss proves nothing.

    Two students with the same starting weights, one right and one with the wrong split, imitate a fixed
    random teacher on the same batches. Also: how far apart the two are with the same weights, and whether
    the first output sees the last token at all.
    """
    with torch.random.fork_rng(), torch_threads(1):
        torch.manual_seed(seed)
        teacher = MultiHeadAttention(d_model, num_heads).eval()
        right = MultiHeadAttention(d_model, num_heads)
        wrong = WrongSplitMultiHeadAttention(d_model, num_heads)
        wrong.load_state_dict(right.state_dict())              # identical weights: only the split differs
        probe = torch.randn(2, T, d_model, generator=torch.Generator().manual_seed(seed + 1))
        with torch.no_grad():
            same_weights_difference = (right(probe, probe, probe) - wrong(probe, probe, probe)).abs().max().item()
        right_losses = imitate(right, teacher, steps, batch_size, T, lr, seed=seed + 2)
        wrong_losses = imitate(wrong, teacher, steps, batch_size, T, lr, seed=seed + 2)
    return {"right_losses": right_losses, "wrong_losses": wrong_losses,
            "same_weights_difference": same_weights_difference,
            "right_first_sees_last": first_output_moves(right, probe),
            "wrong_first_sees_last": first_output_moves(wrong, probe)}


def offset_profile(weights: torch.Tensor) -> torch.Tensor:
    """The share of each head's attention that lands o positions away, o = key - query = -(T-1) .. T-1.

    `weights (h, T, T)` (or `(T, T)`) -> `(h, 2T - 1)`: entry `[i, o + T - 1]` is head i's weight on the key o
    positions from its query, averaged over the T queries. Each head's row sums to 1.
    """
    w = torch.as_tensor(weights).detach().double()
    w = w.unsqueeze(0) if w.dim() == 2 else w                                # (h, T, T)
    T = w.size(-1)
    shares = [torch.diagonal(w, offset=o, dim1=-2, dim2=-1).sum(-1) / T      # (h,): the cells key = query + o
              for o in range(-(T - 1), T)]
    return torch.stack(shares, dim=-1)                                        # (h, 2T - 1)


def dominant_offsets(weights: torch.Tensor) -> list[tuple[int, float]]:
    """Per head, the offset (key - query) that gets the largest share of its attention, and that share."""
    profile = offset_profile(weights)
    T = (profile.size(-1) + 1) // 2
    best = profile.argmax(-1)
    return [(int(b) - (T - 1), profile[i, b].item()) for i, b in enumerate(best)]


# The words of the lesson's sentence 他们 今天 在 图书馆 学习 中文 and six more from the corpus.
OFFSET_TASK_WORDS = ("他们", "今天", "在", "图书馆", "学习", "中文", "我", "是", "学生", "喝", "茶", "每天")
SENTENCE = ("他们", "今天", "在", "图书馆", "学习", "中文")


def sentence_ids(sentence: Sequence[str]) -> torch.Tensor:
    """The ids `(1, T)` of a sentence made of `OFFSET_TASK_WORDS`."""
    unknown = [w for w in sentence if w not in OFFSET_TASK_WORDS]
    if unknown:
        raise ValueError(_("expected the sentence's words among OFFSET_TASK_WORDS, got unknown words {unknown}",
                           unknown=unknown))
    return torch.tensor([[OFFSET_TASK_WORDS.index(w) for w in sentence]])


def offset_batch(batch_size: int, T: int, offsets: Sequence[int], generator: torch.Generator):
    """Random sequences of the task's words, ids `(B, T)`, and their answers `(B, T, n)`: at position t, the
    id of the word at t + o for each offset o, or -100 (no answer) where t + o falls off the sequence."""
    ids = torch.randint(len(OFFSET_TASK_WORDS), (batch_size, T), generator=generator)   # (B, T)
    where = torch.arange(T)[:, None] + torch.as_tensor(list(offsets))[None]             # (T, n): answer's position
    inside = (where >= 0) & (where < T)                                                 # t - 2 < 0 for t = 0, 1
    answers = ids[:, where.clamp(0, T - 1)]                                             # (B, T, n)
    return ids, answers.masked_fill(~inside, -100)


class OffsetReader(nn.Module):
    """The toy task's model: word embedding + positional encoding, one multi-head attention layer, and a
    linear read-out that names, from position t's output, the word at t + o for each of n offsets."""

    def __init__(self, T: int, num_offsets: int, d_model: int = 64, num_heads: int = 4):
        super().__init__()
        V = len(OFFSET_TASK_WORDS)
        self.embed = nn.Embedding(V, d_model)
        self.mha = MultiHeadAttention(d_model, num_heads)
        self.read_out = nn.Linear(d_model, num_offsets * V)
        self.register_buffer("pe", sinusoidal_encoding(T, d_model))

    def forward(self, ids: torch.Tensor):
        """Ids `(B, T)` -> logits `(B, T, n, V)` (a score per word, per offset) and every head's weights `(B, h, T, T)`."""
        x = self.embed(ids) + self.pe                               # (B, T, d_model)
        y, weights = self.mha(x, x, x, need_weights=True)          # (B, T, d_model), (B, h, T, T)
        logits = self.read_out(y)                                   # (B, T, n * V)
        return logits.view(*ids.shape, -1, len(OFFSET_TASK_WORDS)), weights


def train_offset_heads(sentence: Sequence[str] = SENTENCE, offsets: Sequence[int] = (-2, -1, 1, 2),
                       num_heads: int = 4, d_model: int = 64, steps: int = 400, batch_size: int = 64,
                       lr: float = 1e-2, seed: int = 0) -> dict:
    """Claim C6: train `OffsetReader` on the offset task; its heads' weights on `sentence` before and after."""
    ids = sentence_ids(sentence)                                            # (1, T)
    T, V = ids.size(1), len(OFFSET_TASK_WORDS)
    with torch.random.fork_rng(), torch_threads(1):
        torch.manual_seed(seed)
        model = OffsetReader(T, len(offsets), d_model, num_heads)
        with torch.no_grad():
            untrained = model(ids)[1][0]                                    # (h, T, T), before any training
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        data = torch.Generator().manual_seed(seed + 1)
        losses = []
        for _ in range(steps):
            batch, answers = offset_batch(batch_size, T, offsets, data)    # (B, T), (B, T, n)
            logits, _ = model(batch)                                        # (B, T, n, V)
            loss = nn.functional.cross_entropy(logits.reshape(-1, V), answers.reshape(-1), ignore_index=-100)
            optimizer.zero_grad()
            loss.backward()                                                 # gradients of the loss
            optimizer.step()                                                # every weight a small step downhill
            losses.append(loss.item())
        with torch.no_grad():
            batch, answers = offset_batch(512, T, offsets, data)           # 512 fresh sequences
            right = model(batch)[0].argmax(-1) == answers                   # (512, T, n): the best-scored word
            accuracy = right[answers != -100].float().mean().item()
            trained = model(ids)[1][0]                                      # (h, T, T), after training
    return {"tokens": list(sentence), "offsets": list(offsets), "untrained_weights": untrained,
            "trained_weights": trained, "head_offsets": dominant_offsets(trained), "losses": losses,
            "first_loss": losses[0], "final_loss": losses[-1], "accuracy": accuracy}
