"""Is code written from scratch slow? The course's modules against PyTorch's, with the same weights.

    python -m transformer_lesson.bench            # one layer of the paper's base model, about a minute
    python -m transformer_lesson.bench --quick    # smaller, for a smoke test

For each pair it times a training step (forward + backward) and inference (eval mode, no grad, where
PyTorch takes its fused fast path), alternating ours and theirs round by round so that a busy machine
slows both alike, and prints the ratio of medians (ours / PyTorch; below 1 means ours is faster).
"""
from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils import benchmark

from .model import EncoderLayer
from .multihead import MultiHeadAttention


@dataclass
class Result:
    name: str
    ours: float     # median seconds per call
    theirs: float

    @property
    def ratio(self) -> float:
        return self.ours / self.theirs


def _interleaved(name: str, ours, theirs, rounds: int, number: int) -> Result:
    """Median time per call of two callables, measured alternately in `rounds` rounds of `number` calls."""
    timers = [benchmark.Timer("fn()", globals={"fn": fn}) for fn in (ours, theirs)]
    for t in timers:                      # warm-up: allocator, caches, lazy initialisation
        t.timeit(max(1, number // 2))
    samples = ([], [])
    for _ in range(rounds):
        for timer, store in zip(timers, samples):
            store.append(timer.timeit(number).median)
    return Result(name, statistics.median(samples[0]), statistics.median(samples[1]))


def _train_step(module, *inputs):
    def step():
        out = module(*inputs)
        out = out[0] if isinstance(out, tuple) else out
        out.sum().backward()
    return step


def _inference(module, *inputs):
    def run():
        with torch.inference_mode():
            module(*inputs)
    return run


def run(batch: int = 8, length: int = 64, d_model: int = 512, num_heads: int = 8, d_ff: int = 2048,
        rounds: int = 7, number: int = 10, seed: int = 0) -> list[Result]:
    torch.manual_seed(seed)
    x = torch.randn(batch, length, d_model)
    x_grad = x.clone().requires_grad_()

    torch_attn = nn.MultiheadAttention(d_model, num_heads, batch_first=True)
    our_attn = MultiHeadAttention.from_torch(torch_attn)
    torch_layer = nn.TransformerEncoderLayer(d_model, num_heads, d_ff, dropout=0.0, batch_first=True)
    our_layer = EncoderLayer.from_torch(torch_layer)

    results = []
    for m in (torch_attn, our_attn, torch_layer, our_layer):
        m.train()
    results.append(_interleaved("multi-head attention, training step", _train_step(our_attn, x_grad, x_grad, x_grad),
                                _train_step(torch_attn, x_grad, x_grad, x_grad), rounds, number))
    results.append(_interleaved("encoder layer, training step", _train_step(our_layer, x_grad),
                                _train_step(torch_layer, x_grad), rounds, number))
    for m in (torch_attn, our_attn, torch_layer, our_layer):
        m.eval()
    results.append(_interleaved("multi-head attention, inference", _inference(our_attn, x, x, x),
                                _inference(torch_attn, x, x, x), rounds, number))
    results.append(_interleaved("encoder layer, inference", _inference(our_layer, x),
                                _inference(torch_layer, x), rounds, number))
    return results


def format_results(results: list[Result], sizes: str) -> str:
    lines = [f"transformer_lesson vs PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {sizes}",
             f"{'':40s} {'ours (ms)':>10s} {'PyTorch (ms)':>13s} {'ratio':>7s}"]
    for r in results:
        lines.append(f"{r.name:40s} {r.ours * 1e3:10.3f} {r.theirs * 1e3:13.3f} {r.ratio:7.2f}")
    worst = max(results, key=lambda r: r.ratio)
    lines.append(f"worst ratio: {worst.ratio:.2f} ({worst.name}); below 1 means the from-scratch code is faster")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # default sizes: one layer of the paper's base model (d_model 512, h 8, d_ff 2048), 8 sentences of 64 tokens
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--d-model", type=int, default=512)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--d-ff", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="small sizes and few rounds (a smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.batch, args.length, args.d_model, args.d_ff, args.rounds, args.number = 2, 16, 64, 128, 3, 3
    sizes = f"B={args.batch}, T={args.length}, d_model={args.d_model}, h={args.heads}, d_ff={args.d_ff}"
    results = run(args.batch, args.length, args.d_model, args.heads, args.d_ff, args.rounds, args.number)
    print(format_results(results, sizes))


if __name__ == "__main__":
    main()
