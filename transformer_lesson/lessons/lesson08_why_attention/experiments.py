"""Lesson 08, why attention (为什么是注意力): the experiments behind its claims.

Each function is seeded, runs in a few seconds on a CPU, and returns plain numbers that the notebook
prints and asserts and the tests assert too.
"""
from __future__ import annotations

import time
from typing import Sequence

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..._validate import check_positive_int
from ...i18n import translator
from ...model import EncoderLayer
from ...multihead import MultiHeadAttention
from ...positional import PositionalEncoding
from ...runtime import count_parameters, eval_mode, torch_threads

_ = translator("lesson08")

__all__ = [
    "critical_path_length", "attention_and_gru_layers", "depth_and_work", "time_attention_vs_gru",
    "gradient_reach", "recall_batch", "recall_tokens", "RecallEmbedding", "RecallAttention", "RecallGRU",
    "count_parameters", "matched_gru_hidden_size", "recall_accuracy", "train_recall", "long_range_recall",
    "RECALL_KEYS", "RECALL_VALUES",
]


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



def attention_and_gru_layers(d_model: int, num_heads: int, seed: int):
    """One self-attention layer (`MultiHeadAttention`) and one `nn.GRU` layer, both `d_model` wide, seeded."""
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
    attention, gru = attention_and_gru_layers(d_model, num_heads, seed)
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
    attention, gru = attention_and_gru_layers(d_model, num_heads, seed)
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
    with torch_threads(threads), torch.no_grad():
        for T in lengths:
            x = torch.randn(batch_size, T, d_model, generator=torch.Generator().manual_seed(seed))
            rows.append({"length": int(T), "attention_ms": best_ms(lambda: attention(x, x, x)),
                         "gru_ms": best_ms(lambda: gru(x))})
    return rows


def gradient_reach(length: int = 128, distances: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 127), d_model: int = 32,
                   num_heads: int = 4, batch_size: int = 16, seed: int = 0) -> dict:
    """How strongly the last position's output feels the input d positions back, at initialisation: the norm
    of d output[T-1] / d x[T-1-d], averaged over a batch of random inputs, for attention and for a GRU."""
    length = check_positive_int("length", length)
    for d in distances:
        if not 1 <= d < length:
            raise ValueError(f"expected distances in 1..{length - 1} for length={length}, got {d}")
    attention, gru = attention_and_gru_layers(d_model, num_heads, seed)
    x = torch.randn(batch_size, length, d_model, generator=torch.Generator().manual_seed(seed), requires_grad=True)
    last_attention = attention(x, x, x)[:, -1]                          # (B, d): the last position's output
    last_gru = gru(x)[0][:, -1]                                         # (B, d)
    (grad_attention,) = torch.autograd.grad(last_attention.sum(), x)    # (B, T, d): d output / d every input
    (grad_gru,) = torch.autograd.grad(last_gru.sum(), x)                # (B, T, d)
    at = [length - 1 - d for d in distances]                            # the positions d steps back
    return {"distances": [int(d) for d in distances],
            "attention": grad_attention.norm(dim=-1).mean(0)[at].tolist(),   # (B, T) norms -> mean over B
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
        raise ValueError(_("expected num_pairs in 1..{K} (one pair per key), got {num_pairs}", K=K, num_pairs=num_pairs))
    if asked not in ("random", "first"):
        raise ValueError(_("expected asked to be 'random' or 'first', got {asked!r}", asked=asked))
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



def matched_gru_hidden_size(target_params: int, d_model: int = 32) -> int:
    """The hidden size whose `RecallGRU(d_model, hidden_size)` has the parameter count closest to `target_params`."""
    fixed = count_parameters(RecallEmbedding(d_model)) + len(RECALL_VALUES)          # embedding + read-out bias
    def size(h: int) -> int:                                   # 2 gates + candidate: input and hidden weights, two biases each
        return fixed + 3 * (d_model * h + h * h + 2 * h) + h * len(RECALL_VALUES)
    return min(range(1, 4 * d_model + 1), key=lambda h: abs(size(h) - target_params))


def recall_accuracy(model: nn.Module, distance: int, num_examples: int = 500, seed: int = 1234) -> float:
    """The share of `num_examples` fresh sequences of `distance` pairs, asked about the first pair, that
    `model` answers right: the answer lies exactly `distance` positions before the question."""
    generator = torch.Generator().manual_seed(seed + distance)
    tokens, answers, _ = recall_batch(num_examples, distance, generator, asked="first")   # (N, d + 1), (N,)
    with eval_mode(model):                                                  # no dropout, no gradients
        guesses = model(tokens).argmax(-1)                                  # (N,): the best-scored digit
    return (guesses == answers).float().mean().item()


def train_recall(model: nn.Module, steps: int = 300, batch_size: int = 32, max_pairs: int = 16, lr: float = 1e-2,
                 seed: int = 1) -> float:
    """Train a recall model with Adam on `steps` batches of 1 to `max_pairs` pairs; return the last loss.
    The batches come from `seed` alone, so two models trained with the same seed see the same data."""
    data = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        num_pairs = int(torch.randint(1, max_pairs + 1, (1,), generator=data))   # this batch's length
        tokens, answers, _ = recall_batch(batch_size, num_pairs, data)          # (B, N + 1), (B,)
        logits = model(tokens)                                                  # (B, 10): a score per digit
        loss = nn.functional.cross_entropy(logits, answers)
        optimizer.zero_grad()
        loss.backward()                                                         # gradients of the loss
        optimizer.step()                                                        # every weight a small step downhill
    return loss.item()


def long_range_recall(seed: int = 0, max_pairs: int = 16, steps: int = 300, batch_size: int = 32, lr: float = 1e-2,
                      d_model: int = 32, num_heads: int = 2, d_ff: int = 64, num_examples: int = 500,
                      threads: int | None = 1) -> dict:
    """Claim C11: the attention model and a GRU with as many parameters, trained on the same batches, then
    tested at every distance 1 .. `max_pairs`. Runs on `threads` CPU threads; seeded, a few seconds.

    Returns the distances, both accuracy lists, parameter counts, training seconds, final losses and the
    two trained models (under "models").
    """
    steps, max_pairs = check_positive_int("steps", steps), check_positive_int("max_pairs", max_pairs)
    with torch_threads(threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        attention = RecallAttention(d_model, num_heads, d_ff, max_len=max_pairs + 1)
        hidden = matched_gru_hidden_size(count_parameters(attention), d_model)      # the same budget
        torch.manual_seed(seed)
        gru = RecallGRU(d_model, hidden)
        seconds, losses = {}, {}
        for name, model in (("attention", attention), ("gru", gru)):
            start = time.perf_counter()
            losses[name] = train_recall(model, steps, batch_size, max_pairs, lr, seed=seed + 1)   # same batches
            seconds[name] = time.perf_counter() - start
        distances = list(range(1, max_pairs + 1))
        return {"distances": distances,
                "attention": [recall_accuracy(attention, d, num_examples) for d in distances],
                "gru": [recall_accuracy(gru, d, num_examples) for d in distances],
                "attention_params": count_parameters(attention), "gru_params": count_parameters(gru),
                "gru_hidden_size": hidden, "chance": 1 / len(RECALL_VALUES), "seconds": seconds,
                "final_loss": losses, "seed": seed, "steps": steps,
                "models": {"attention": attention, "gru": gru}}
