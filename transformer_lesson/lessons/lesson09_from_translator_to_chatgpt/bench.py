"""`make bench-kv-cache`: the cost of one generated token with and without the KV cache, at several lengths.

    python -m transformer_lesson.lessons.lesson09_from_translator_to_chatgpt.bench [--lengths 8 32 128 512]
        [--repeats 7] [--d-model 64] [--layers 4]

For each length n it times (CPU time of this process, one thread, median of the repeats) the logits of token
n + 1 on a decoder-only model of the lesson's size: with the cache only the newest token runs, without it all
n + 1 positions run again. The ratio (without / with) grows with the length; the last line compares it at the
longest and the shortest length.
"""
from __future__ import annotations

import argparse
import sys

from . import experiments


def table(rows: list[dict]) -> str:
    lines = [f"{'length':>8} {'with cache (ms)':>16} {'without (ms)':>14} {'without / with':>16}"]
    for r in rows:
        lines.append(f"{r['length']:>8} {1e3 * r['cached']:>16.3f} {1e3 * r['full']:>14.3f} {r['ratio']:>16.1f}")
    growth = rows[-1]["ratio"] / rows[0]["ratio"]
    lines.append(f"the cache saves {rows[-1]['ratio']:.1f}x per token at length {rows[-1]['length']} and "
                 f"{rows[0]['ratio']:.1f}x at length {rows[0]['length']}: its advantage grew {growth:.1f} times")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[8, 32, 128, 512])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--d-model", type=int, default=64)
    parser.add_argument("--layers", type=int, default=4)
    args = parser.parse_args(argv)
    if len(args.lengths) < 2 or sorted(args.lengths) != args.lengths:
        parser.error("expected at least two lengths, from the shortest to the longest")
    print(f"KV cache: per-token cost of a decoder-only model, d_model={args.d_model}, {args.layers} layers, "
          f"CPU time, median of {args.repeats}")
    rows = experiments.kv_cache_benchmark(args.lengths, args.repeats, args.d_model, args.layers)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
