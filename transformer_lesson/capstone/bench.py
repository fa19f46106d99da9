"""Training benchmark: how long does the course's Transformer take to learn the capstone corpus?

    python -m transformer_lesson.capstone.bench

Trains two models of the same size on the same data, one after the other, and reports the training
seconds each needs to reach the target exact-match accuracy (98% by default) on the held-out split:

- the course's `transformer_lesson.Transformer`, built from the lessons' own modules;
- a plain `torch.nn.Transformer` with its own embeddings, positional encoding and output layer around it.

Both see the same batches in the same order, with the same loss (label smoothing 0.1), optimiser
(Adam 0.9/0.98/1e-9), warm-up schedule and small initial embeddings; only the encoder and decoder
stacks differ. Every
`--eval-every` steps the held-out split is translated greedily; that evaluation is not counted in the
training time. Each model runs with `--repeats` seeds (3 by default), alternating, and the medians are
compared: the ratio course / torch says what writing the layers by hand costs.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import torch
from torch import nn

from ..model import Transformer
from ..runtime import count_parameters, torch_threads
from .config import DEFAULTS, TranslatorConfig
from .data import PAD, TranslationDataset, build_vocabs, load_corpus
from .training import small_embeddings, training_steps, warm_up_torch
from .translator import Translator, evaluate

__all__ = ["TorchTransformerModel", "time_to_accuracy", "main"]


class TorchTransformerModel(Transformer):
    """`torch.nn.Transformer` (batch_first, Post-LN) inside the course model's embeddings, positional
    encoding and generator, so the same training loop and the same decoding functions drive it.

    Only `encode` and `decode` change: they call PyTorch's encoder and decoder stacks, converting the
    course's masks (True = may attend) into PyTorch's (True = may NOT attend).
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, d_model: int, num_heads: int, num_layers: int,
                 d_ff: int, dropout: float, max_len: int = 64, pad_id: int = PAD):
        super().__init__(src_vocab_size, tgt_vocab_size, d_model=d_model, num_heads=num_heads,
                         num_encoder_layers=num_layers, num_decoder_layers=num_layers, d_ff=d_ff, dropout=dropout,
                         max_len=max_len, pad_id=pad_id)

    def build_stacks(self, num_encoder_layers, num_decoder_layers, d_model, num_heads, d_ff, dropout, norm_first,
                     activation, final_norm):
        """PyTorch's stacks instead of the course's (Post-LN, ReLU, as the course model)."""
        core = nn.Transformer(d_model, num_heads, num_encoder_layers, num_decoder_layers, d_ff, dropout,
                              batch_first=True)
        core.encoder.enable_nested_tensor = core.encoder.use_nested_tensor = False  # plain tensors
        return core.encoder, core.decoder

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self._embed(src, self.src_embed, "src")                           # (B, S, d_model)
        return self.encoder(x, src_key_padding_mask=src == self.pad_id)  # True = padding, ignored

    def decode(self, tgt: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor | None = None) -> torch.Tensor:
        T = tgt.size(1)
        future = torch.ones(T, T, dtype=torch.bool, device=tgt.device).triu(1)  # True above the diagonal: hidden
        memory_padding = None if memory_mask is None else ~memory_mask[:, 0, 0, :]  # (B, 1, 1, S) -> (B, S)
        y = self._embed(tgt, self.tgt_embed, "tgt")
        return self.decoder(y, memory, tgt_mask=future, memory_key_padding_mask=memory_padding,
                                 tgt_is_causal=True)


def time_to_accuracy(model: Transformer, translator_vocabs, dataset: TranslationDataset, test_pairs, *,
                     target: float, eval_every: int, max_epochs: int, seed: int, config: TranslatorConfig) -> dict:
    """Train until greedy exact match on `test_pairs` reaches `target`; evaluation time is not counted.

    Returns {"seconds", "steps", "epochs", "accuracy", "reached", "eval_seconds", "curve"}, where curve
    lists (training seconds, step, accuracy) at each evaluation.
    """
    src_vocab, tgt_vocab = translator_vocabs
    translator = Translator(model, src_vocab, tgt_vocab)
    train_seconds, eval_seconds, curve = 0.0, 0.0, []
    accuracy, reached, info = 0.0, False, None
    steps = training_steps(model, dataset, epochs=max_epochs, batch_size=config.batch_size,
                           lr_factor=config.lr_factor, warmup=config.warmup,
                           label_smoothing=config.label_smoothing, seed=seed)
    tick = time.perf_counter()
    for info in steps:
        if info.step % eval_every:
            continue
        train_seconds += time.perf_counter() - tick               # the clock stops for evaluation
        t0 = time.perf_counter()
        accuracy = evaluate(translator, test_pairs)["accuracy"]
        model.train()
        eval_seconds += time.perf_counter() - t0
        curve.append((train_seconds, info.step, accuracy))
        if accuracy >= target:
            reached = True
            break
        tick = time.perf_counter()
    else:
        train_seconds += time.perf_counter() - tick
    steps.close()
    model.eval()
    return {"seconds": train_seconds, "steps": info.step if info else 0, "epochs": (info.epoch + 1) if info else 0,
            "accuracy": accuracy, "reached": reached, "eval_seconds": eval_seconds, "curve": curve}


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load_note() -> str:
    try:
        one, five, _ = os.getloadavg()
    except (AttributeError, OSError):
        return "load average unknown"
    cores = os.cpu_count() or 1
    note = f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {cores} cores"
    if one > 0.5 * cores:
        note += "  <- other programs are busy: timings will be slower and noisier than on a quiet machine"
    return note


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m transformer_lesson.capstone.bench",
        description="Seconds of training to reach a target held-out accuracy: the course's Transformer "
                    "against a plain torch.nn.Transformer of the same size, same data, same schedule.")
    parser.add_argument("--target", type=float, default=0.98,
                        help="held-out greedy exact-match accuracy to reach (default 0.98)")
    parser.add_argument("--eval-every", type=int, default=20, metavar="STEPS",
                        help="evaluate on the held-out split every STEPS training steps (default 20)")
    parser.add_argument("--max-epochs", type=int, default=2 * DEFAULTS.epochs,
                        help=f"give up after this many epochs (default {2 * DEFAULTS.epochs})")
    parser.add_argument("--seed", type=int, default=0, help="first seed for weights and batch order (default 0)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per model, with seeds SEED, SEED+1, ...; medians are compared (default 3)")
    parser.add_argument("--only", choices=("course", "torch"), help="run one of the two models only")
    parser.add_argument("--threads", type=int, default=1,
                        help="PyTorch threads for both models (default 1, as train_translator uses; "
                             "0 keeps PyTorch's default)")
    args = parser.parse_args(argv)
    if not 0 < args.target <= 1:
        parser.error(f"expected --target in (0, 1], got {args.target}")
    if args.eval_every < 1 or args.max_epochs < 1 or args.repeats < 1:
        parser.error("expected --eval-every, --max-epochs and --repeats to be positive")
    if args.threads < 0:
        parser.error(f"expected --threads >= 0, got {args.threads}")
    with torch_threads(args.threads or None):
        return _run(args)


def _run(args) -> int:
    train_pairs, test_pairs = load_corpus("train"), load_corpus("test")
    src_vocab, tgt_vocab = build_vocabs(train_pairs)
    dataset = TranslationDataset(train_pairs, src_vocab, tgt_vocab)
    config = DEFAULTS
    size = {k: getattr(config, k) for k in ("d_model", "num_heads", "num_layers", "d_ff", "dropout")}
    print("Training benchmark: seconds of training until greedy exact match on the held-out split "
          f">= {args.target:.0%}")
    print(f"  corpus     {len(train_pairs)} training pairs, {len(test_pairs)} held-out pairs; "
          f"vocabularies {len(src_vocab)} English / {len(tgt_vocab)} Chinese tokens")
    print(f"  model      d_model={size['d_model']}, heads={size['num_heads']}, {size['num_layers']}+"
          f"{size['num_layers']} layers, d_ff={size['d_ff']}, dropout={size['dropout']}")
    print(f"  training   batches of {config.batch_size} (same order for both), Adam(0.9, 0.98, 1e-9), "
          f"lr = {config.lr_factor} * d_model^-0.5 * min(step^-0.5, step * {config.warmup}^-1.5), "
          f"label smoothing {config.label_smoothing}, embeddings start at std {config.embed_init_std}")
    print(f"  evaluation every {args.eval_every} steps (not counted in the training time), "
          f"at most {args.max_epochs} epochs")
    threads = torch.get_num_threads()
    print(f"  machine    {_cpu_name()}, torch {torch.__version__}, {threads} thread{'s' if threads > 1 else ''}; "
          f"{_load_note()}")
    print(flush=True)

    builders = {
        "course": ("transformer_lesson.Transformer",
                   lambda: config.build_model(len(src_vocab), len(tgt_vocab))),
        "torch": ("torch.nn.Transformer",
                  lambda: TorchTransformerModel(len(src_vocab), len(tgt_vocab), **size)),
    }
    keys = ("course", "torch") if args.only is None else (args.only,)
    seeds = list(range(args.seed, args.seed + args.repeats))
    warm_up_torch()                                       # one-off import costs, before any clock starts
    runs: dict[str, list[dict]] = {key: [] for key in keys}
    parameters = {}
    print(f"{'model':<32} {'seed':>4} {'parameters':>10} {'steps':>6} {'epochs':>6} {'train s':>8} {'test acc':>9}")
    for seed in seeds:                                    # alternate the models, so a change of load hits both
        for key in keys:
            name, build = builders[key]
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                model = build()
                if config.embed_init_std is not None:
                    small_embeddings(model, config.embed_init_std)
                result = time_to_accuracy(model, (src_vocab, tgt_vocab), dataset, test_pairs, target=args.target,
                                          eval_every=args.eval_every, max_epochs=args.max_epochs, seed=seed,
                                          config=config)
            runs[key].append(result)
            parameters[key] = count_parameters(model)
            mark = "" if result["reached"] else f"  (target not reached in {args.max_epochs} epochs)"
            print(f"{name:<32} {seed:>4} {parameters[key]:>10,} {result['steps']:>6} {result['epochs']:>6} "
                  f"{result['seconds']:>8.1f} {result['accuracy']:>9.1%}{mark}", flush=True)
    if len(keys) == 2:
        print("(nn.Transformer ends each stack with one more LayerNorm, hence its 4 * d_model extra parameters)")
    print()
    reached = all(r["reached"] for rs in runs.values() for r in rs)
    summary = {}
    for key in keys:
        seconds = statistics.median(r["seconds"] for r in runs[key])
        per_step = statistics.median(r["seconds"] / max(r["steps"], 1) for r in runs[key])
        summary[key] = (seconds, per_step)
        print(f"{builders[key][0]:<32} median over {len(seeds)} seed{'s' if len(seeds) > 1 else ''}: "
              f"{seconds:5.1f} s of training to {args.target:.0%}, {1000 * per_step:5.1f} ms per step")
    if len(keys) == 2:
        if reached:
            (ours, ours_step), (theirs, theirs_step) = summary["course"], summary["torch"]
            print(f"ratio course / torch: {ours / theirs:.2f}x the training time to {args.target:.0%}, "
                  f"{ours_step / theirs_step:.2f}x the time per step")
        else:
            print("ratio: not available, a run did not reach the target")
    print("For scale: the Annotated Transformer's synthetic copy task takes about 4 minutes of training "
          "on this kind of machine.")
    return 0 if reached else 1


if __name__ == "__main__":
    sys.exit(main())
