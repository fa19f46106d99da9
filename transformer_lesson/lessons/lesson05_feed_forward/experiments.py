"""Lesson 05, the position-wise feed-forward network (位置感知前馈网络): the experiments behind its claims.

Each function is seeded, runs in a few seconds on a CPU, and returns plain numbers that the notebook
prints and asserts and the tests assert too.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ...feedforward import PositionwiseFeedForward
from ...model import DecoderLayer, EncoderLayer
from ...multihead import MultiHeadAttention
from ...positional import sinusoidal_encoding
from ..._validate import check_positive_int
from ...runtime import count_parameters
from ..lesson01_self_attention.experiments import toy_embeddings

__all__ = [
    "toy_embeddings", "seeded_feed_forward", "hidden_activation_stats", "ffn_locality",
    "ffn_conv1x1_difference", "affine_gap", "layer_parameter_split", "layer_flops",
]


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


def affine_gap(f, a: torch.Tensor, b: torch.Tensor) -> float:
    """How far `f` is from a linear layer: max |f(a) + f(b) - f(a + b) - f(0)|.

    For f(x) = x W + c the four terms cancel exactly (x W + c is "affine"), whatever W, c, a, b are; a gap
    far above float rounding proves that no single linear layer computes f.
    """
    with torch.no_grad():
        return (f(a) + f(b) - f(a + b) - f(torch.zeros_like(a))).abs().max().item()


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
        attention = sum(count_parameters(m) for m in attention_blocks)
        ffn = count_parameters(layer.feed_forward)
        total = count_parameters(layer)
        rows.append({"layer": name, "attention_blocks": len(attention_blocks), "attention": attention,
                     "ffn": ffn, "layer_norm": total - attention - ffn, "total": total,
                     "torch_total": count_parameters(theirs),
                     "attention_formula": len(attention_blocks) * (4 * d_model * d_model + 4 * d_model),
                     "ffn_formula": 2 * d_model * d_ff + d_ff + d_model,
                     "attention_share": attention / total, "ffn_share": ffn / total})
    return rows


def layer_flops(d_model: int = 512, num_heads: int = 8, d_ff: int = 2048,
                lengths: Sequence[int] = (16, 64, 256, 1024, 4096)) -> list[dict]:
    """The arithmetic of one encoder layer's two sub-layers for a sentence of T tokens, per length T.

    `FlopCounterMode` counts the floating-point operations (FLOPs) of every matrix product a module runs;
    biases, softmax, ReLU and LayerNorm are left out. On the "meta" device tensors have shapes but no
    numbers, so nothing is computed and any length costs nothing to count.
    """
    with torch.device("meta"):
        layer = EncoderLayer(d_model, num_heads, d_ff)                    # shapes only, no weights drawn
    rows = []
    for T in lengths:
        T = check_positive_int("length", T)
        x = torch.empty(1, T, d_model, device="meta")                     # (B, T, d_model)
        with FlopCounterMode(display=False) as counter:
            layer.self_attn(x, x, x)                                      # (1, T, d) -> (1, T, d)
        attention = counter.get_total_flops()
        with FlopCounterMode(display=False) as counter:
            layer.feed_forward(x)                                         # (1, T, d) -> (1, T, d_ff) -> (1, T, d)
        ffn = counter.get_total_flops()
        rows.append({"length": T, "attention": attention, "ffn": ffn, "ffn_share": ffn / (attention + ffn)})
    return rows
