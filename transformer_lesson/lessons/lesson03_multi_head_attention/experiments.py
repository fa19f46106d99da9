"""Lesson 03, multi-head attention (多头注意力): the experiments behind its claims.

Each function is seeded, runs in a few seconds on a CPU, and returns plain numbers that the notebook
prints and asserts and the tests assert too.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ...multihead import MultiHeadAttention
from ...positional import sinusoidal_encoding
from ...runtime import count_parameters, torch_threads
from ..lesson01_self_attention.experiments import toy_embeddings

__all__ = [
    "toy_embeddings", "parameter_count_by_heads", "WrongSplitMultiHeadAttention",
    "wrong_split_still_trains", "offset_profile", "dominant_offsets", "train_offset_heads",
    "OFFSET_TASK_WORDS",
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


def _first_output_moves_with_last_token(mha: MultiHeadAttention, x: torch.Tensor) -> float:
    """How much the first position's output moves when only the last token changes (no mask)."""
    y = x.clone()
    y[:, -1] += 1.0                                             # change the last token only
    with torch.no_grad():
        return (mha(x, x, x)[:, 0] - mha(y, y, y)[:, 0]).abs().max().item()



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
    with torch.random.fork_rng(), torch_threads(1):
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
    with torch.random.fork_rng(), torch_threads(1):
        torch.manual_seed(seed)
        embed, mha, read_out = nn.Embedding(V, d_model), MultiHeadAttention(d_model, num_heads), nn.Linear(d_model, n * V)
        pe = sinusoidal_encoding(T, d_model)
        source = torch.arange(T)[:, None] + torch.as_tensor(list(offsets))[None]   # (T, n): the position each answer is at
        has_answer = (source >= 0) & (source < T)                                   # t-2 does not exist for t = 0

        def forward(ids):                                                           # (B, T) -> (B, T, n, V)
            x = embed(ids) + pe                                                     # (B, T, d_model)
            return read_out(mha(x, x, x)).view(ids.size(0), T, n, V)

        def sentence_weights():                                                     # (h, T, T) for the sentence
            x = embed(torch.tensor([[words.index(w) for w in sentence]])) + pe      # (1, T, d_model)
            return mha(x, x, x, need_weights=True)[1][0].detach()

        with torch.no_grad():
            untrained = sentence_weights()
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
            trained = sentence_weights()
    return {"tokens": list(sentence), "offsets": list(offsets), "untrained_weights": untrained,
            "trained_weights": trained, "head_offsets": dominant_offsets(trained),
            "first_loss": losses[0], "final_loss": losses[-1], "accuracy": correct.float().mean().item()}
