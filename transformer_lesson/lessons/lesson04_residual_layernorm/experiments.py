"""Lesson 04, residual connections and layer normalisation (残差连接和层归一化): the experiments behind its claims.

Each function is seeded, runs in a few seconds on a CPU, and returns plain numbers that the notebook
prints and asserts and the tests assert too. The short ones are shown in the notebook (`show_source`).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..._validate import check_choice, check_number, check_positive_int
from ...i18n import translator
from ...model import Encoder
from ...positional import PositionalEncoding
from ...residual import ResidualConnection
from ...runtime import torch_threads

_ = translator("lesson04")

__all__ = [
    "STACKS", "gradient_norms_per_layer", "gradient_flow", "reverse_task_batch", "TinySequenceModel",
    "train_tiny_encoder", "held_out_loss", "steps_to_threshold", "median_steps",
]

STACKS = ("plain", "residual", "pre-ln")   # h = f(h), h = h + f(h), h = h + f(LayerNorm(h))


def gradient_norms_per_layer(depth: int = 32, stack: str = "residual", *, gain: float = 1.0, width: int = 64,
                             batch_size: int = 32, seed: int = 0) -> list[float]:
    """Claim C7: the gradient norm ||d loss / d W_l|| of every layer l of a deep stack, layer 1 nearest the input.

    Each block is f(h) = tanh(W h + b), PyTorch's default initialisation with W multiplied by `gain`.
    """
    depth, gain = check_positive_int("depth", depth), check_number("gain", gain, positive=True, example="1.0")
    check_choice("stack", stack, STACKS)
    with torch.random.fork_rng():                       # the caller's random state is left alone
        torch.manual_seed(seed)
        layers = [nn.Linear(width, width) for _ in range(depth)]
        x, target = torch.randn(batch_size, width), torch.randn(batch_size, width)   # (B, width) each
    with torch.no_grad():
        for layer in layers:
            layer.weight *= gain                        # gain > 1: larger weights than PyTorch's default
    h = x
    with torch_threads(1):
        for layer in layers:
            if stack == "plain":
                h = torch.tanh(layer(h))                                     # h = f(h)
            elif stack == "residual":
                h = h + torch.tanh(layer(h))                                 # h = h + f(h)
            else:
                h = h + torch.tanh(layer(F.layer_norm(h, (width,))))         # h = h + f(LayerNorm(h))
        loss = F.mse_loss(h, target)                    # mean squared error against a random target
        loss.backward()                                 # fills layer.weight.grad for every layer
    return [layer.weight.grad.norm().item() for layer in layers]


def gradient_flow(depth: int = 32, *, stacks=("plain", "residual"), gain: float = 1.0, width: int = 64,
                  batch_size: int = 32, seed: int = 0) -> dict:
    """Claim C7 in one call: the same weights and data in each of `stacks` (see `STACKS`).

    For each stack name: the list of per-layer gradient norms, `<name>_first_over_last` (layer 1's norm
    divided by the last layer's: 1 means the first layer gets as much gradient as the last) and
    `<name>_spread` (max / min over all layers).
    """
    result = {"depth": depth, "gain": gain}
    for name in stacks:
        norms = gradient_norms_per_layer(depth, name, gain=gain, width=width, batch_size=batch_size, seed=seed)
        result[name] = norms
        result[f"{name}_first_over_last"] = norms[0] / norms[-1]
        result[f"{name}_spread"] = max(norms) / min(norms)
    return result


def reverse_task_batch(batch_size: int, seq_len: int, vocab_size: int, generator: torch.Generator):
    """A synthetic sequence task: read random tokens `x (B, T)` (ids 1..V-1), output them reversed, `y = x[:, ::-1]`.

    Every output position must fetch the token from the mirrored position, so the model needs attention
    and positions; a 1-layer encoder learns it in about fifty steps.
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


def held_out_loss(model: nn.Module, seq_len: int, vocab_size: int, seed: int, size: int = 1000) -> float:
    """The model's loss on `size` held-out sequences of the reverse task, drawn by their own generator."""
    x, y = reverse_task_batch(size, seq_len, vocab_size, torch.Generator().manual_seed(20_000 + seed))
    with torch.no_grad():
        return F.cross_entropy(model(x).flatten(0, 1), y.flatten()).item()


def train_tiny_encoder(norm: str = "pre", num_layers: int = 4, *, steps: int = 100, lr: float = 3e-2,
                       warmup: int = 0, train_set: int | None = None, seed: int = 0, batch_size: int = 32,
                       seq_len: int = 6, vocab_size: int = 10, d_model: int = 16, num_heads: int = 2, d_ff: int = 32,
                       tail: int = 10) -> dict:
    """Claim C8: train a `TinySequenceModel` on the reverse task with Adam; return the loss of every step.

    The same `seed` gives the same initial weights and batches for every `norm`. `warmup` > 0 ramps the
    learning rate up over that many steps. `train_set` = n draws every batch from one fixed set of n
    sequences (default: a new batch each step).
    """
    steps = check_positive_int("steps", steps)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = TinySequenceModel(norm, num_layers, vocab_size, d_model, num_heads, d_ff)
    data = torch.Generator().manual_seed(10_000 + seed)
    if train_set:
        fixed_x, fixed_y = reverse_task_batch(check_positive_int("train_set", train_set), seq_len, vocab_size, data)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)
    losses = []
    with torch_threads(1):
        for step in range(steps):
            for group in optimizer.param_groups:        # warm-up: the learning rate grows linearly, then stays
                group["lr"] = lr * min(1.0, (step + 1) / warmup) if warmup else lr
            if train_set:                               # a batch of the same n sequences, again and again
                pick = torch.randint(0, train_set, (batch_size,), generator=data)
                x, y = fixed_x[pick], fixed_y[pick]
            else:                                       # a new batch: sequences never seen before
                x, y = reverse_task_batch(batch_size, seq_len, vocab_size, data)
            loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())   # logits (B*T, V) against (B*T,)
            optimizer.zero_grad()
            loss.backward()                             # the gradient of the loss for every weight
            optimizer.step()                            # Adam moves every weight a step against its gradient
            losses.append(loss.item())
        held_out = held_out_loss(model, seq_len, vocab_size, seed)   # on sequences never trained on
    return {"norm": norm, "num_layers": num_layers, "lr": lr, "warmup": warmup, "train_set": train_set,
            "seed": seed, "losses": losses, "final_loss": sum(losses[-tail:]) / len(losses[-tail:]),
            "held_out_loss": held_out, "chance_loss": math.log(vocab_size - 1)}


def steps_to_threshold(losses, threshold: float, window: int = 10) -> int | None:
    """The first step at which the mean loss of the last `window` steps is below `threshold`; None: never."""
    threshold, window = check_number("threshold", threshold, positive=True), check_positive_int("window", window)
    for step in range(window, len(losses) + 1):
        if sum(losses[step - window:step]) / window < threshold:
            return step
    return None


def median_steps(steps) -> float | None:
    """The median of steps-to-threshold over seeds, "never" (None) counting as later than any step; None: never."""
    values = sorted(math.inf if s is None else s for s in steps)
    if not values:
        raise ValueError(_("expected at least one run's steps, got none"))
    middle = len(values) // 2
    median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
    return None if math.isinf(median) else median
