"""Lesson 04, residual connections and layer normalisation (残差连接和层归一化): the experiments behind its claims.

Each function is seeded, runs in a few seconds on a CPU, and returns plain numbers that the notebook
prints and asserts and the tests assert too.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..._validate import check_choice, check_positive_int
from ...model import Encoder
from ...positional import PositionalEncoding
from ...residual import ResidualConnection
from ...runtime import torch_threads

__all__ = [
    "gradient_norms_per_layer", "gradient_flow", "reverse_task_batch", "TinySequenceModel",
    "train_tiny_encoder",
]


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
    with torch_threads(1):
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

    What holds with these defaults over many seeds is measured by tests/test_claims.py (claims C8-*; rates in
    docs/claims.md): at 4 layers Pre-LN usually, not always, ends lower than no LayerNorm (the median of five
    seeds far lower), Post-LN stays near chance and 30 steps of warm-up lower its loss; at 1 layer both
    placements train.
    """
    steps = check_positive_int("steps", steps)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = TinySequenceModel(norm, num_layers, vocab_size, d_model, num_heads, d_ff)
    data = torch.Generator().manual_seed(10_000 + seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)
    losses = []
    with torch_threads(1):
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
