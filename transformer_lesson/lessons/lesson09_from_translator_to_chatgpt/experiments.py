"""Lesson 09, from the translator to ChatGPT (从翻译模型到 ChatGPT): the experiments behind its claims.

Translation as next-token prediction: each pair becomes one sequence `english <sep> chinese <eos>`, a
decoder-only model learns to continue it, and the loss counts only the Chinese part. Then the KV cache
(proved equal, then timed), sampling, RoPE, and the seed's "perfect memory" sentence.
"""
from __future__ import annotations

import math
import statistics
import time
from typing import Sequence

import torch
from torch import nn

from ..._validate import check_positive_int
from ...capstone.data import EOS, PAD, Vocab, check_pairs, join_chinese, tokenize_chinese, tokenize_english
from ...capstone.training import make_criterion, make_optimizer, make_scheduler, warm_up_torch
from ...decoder_only import DecoderOnlyTransformer, generate
from ...decoding import top_k_filter, top_p_filter
from ...i18n import translator
from ...multihead import KVCache
from ...positional import apply_rotary, sinusoidal_encoding
from ...runtime import count_parameters, eval_mode, torch_threads
from ..lesson07_training_and_generation.experiments import recall_from_memory

__all__ = ["SEP", "lm_vocabulary", "lm_sequence", "lm_batch", "build_decoder_only", "train_decoder_only",
           "continue_prompts", "translate", "exact_match", "comparison", "kv_cache_agreement", "time_per_token",
           "kv_cache_benchmark", "rope_shift_check", "sinusoidal_shift_check", "memory_vs_model",
           "teacher_forced_accuracy", "generate_without_mask", "short_run", "generation_steps", "sampling_variety",
           "first_step_distribution", "fixed_offset_scores", "count_parameters"]

_ = translator("lesson09")

SEP = "<sep>"          # ends the English prompt: "translate" becomes "continue after <sep>"


# ---- the data: one sequence per pair --------------------------------------------------------------------

def lm_vocabulary(pairs: Sequence[tuple[str, str]]) -> Vocab:
    """One vocabulary for both languages: the specials (<pad> <bos> <eos> <unk>), <sep>, then every English and
    Chinese word of `pairs`, most frequent first."""
    pairs = check_pairs("pairs", pairs)
    words = Vocab.build([tokenize_english(en) + tokenize_chinese(zh) for en, zh in pairs])
    return Vocab([SEP] + list(words.tokens[4:]))


def lm_sequence(vocab: Vocab, english: str, chinese: str | None = None) -> list[int]:
    """`english <sep>` (a prompt), or with `chinese` the whole training sequence `english <sep> chinese <eos>`."""
    prompt = vocab.encode(tokenize_english(english)) + [vocab[SEP]]
    return prompt if chinese is None else prompt + vocab.encode(tokenize_chinese(chinese)) + [EOS]


def lm_batch(vocab: Vocab, pairs: Sequence[tuple[str, str]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and targets `(N, L)` for next-token prediction, padded at the end with <pad>.

    inputs  = english <sep> chinese          targets = the next token at each position, where only the
    targets = (pad ... pad) chinese <eos>    Chinese part and <eos> count: the English positions get <pad>,
                                             which the loss ignores (the prompt is given, not learned).
    """
    rows_in, rows_out = [], []
    for english, chinese in pairs:
        seq = lm_sequence(vocab, english, chinese)
        prompt = len(tokenize_english(english)) + 1                 # english words and <sep>
        rows_in.append(seq[:-1])
        rows_out.append([PAD] * (prompt - 1) + seq[prompt:])        # predicted from <sep> onwards
    L = max(len(r) for r in rows_in)
    pad = lambda rows: torch.tensor([r + [PAD] * (L - len(r)) for r in rows], dtype=torch.long)
    return pad(rows_in), pad(rows_out)


# ---- training -------------------------------------------------------------------------------------------

def build_decoder_only(vocab_size: int, seed: int = 0, **sizes) -> DecoderOnlyTransformer:
    """The lesson's decoder-only model: 4 layers of width 64, 4 heads, d_ff 128 (the translator's encoder and
    decoder have 2 layers each), embeddings started small as `train_translator` does; `sizes` change any."""
    sizes = {"d_model": 64, "num_heads": 4, "num_layers": 4, "d_ff": 128, "max_len": 64, **sizes}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = DecoderOnlyTransformer(vocab_size, **sizes)
        nn.init.normal_(model.embed.weight, std=0.02)               # position visible from the first step
    return model


def train_decoder_only(pairs, seed: int = 0, epochs: int = 10, batch_size: int = 64, lr_factor: float = 0.2,
                       warmup: int = 100, threads: int | None = 1, **sizes):
    """Train a decoder-only model to continue `english <sep>` with `chinese <eos>`; returns (model, vocab, history).
    The translator's recipe (Adam with warm-up, label smoothing 0.1, the same epochs), one sequence per pair."""
    vocab = lm_vocabulary(pairs)
    inputs, targets = lm_batch(vocab, pairs)                        # (N, L) each
    model = build_decoder_only(len(vocab), seed, **sizes)
    criterion, optimizer = make_criterion(0.1), make_optimizer(model)   # <pad> targets are ignored
    scheduler = make_scheduler(optimizer, model.d_model, warmup, lr_factor)
    order, losses = torch.Generator().manual_seed(seed), []
    warm_up_torch()
    with torch_threads(threads):
        start = time.perf_counter()
        for epoch in range(epochs):
            for rows in torch.randperm(len(inputs), generator=order).split(batch_size):
                x, y = inputs[rows], targets[rows]                  # (B, L): a batch of sequences
                logits = model(x)                                   # (B, L, V): a next-token guess everywhere
                loss = criterion(logits.flatten(0, 1), y.flatten())     # only the Chinese part counts
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                scheduler.step()
                losses.append(loss.item())
        seconds = time.perf_counter() - start
    return model.eval(), vocab, {"loss": losses, "seconds": seconds, "steps": len(losses)}


# ---- translating by continuing the prompt ---------------------------------------------------------------

def continue_prompts(model: DecoderOnlyTransformer, vocab: Vocab, sentences: Sequence[str], *,
                     use_cache: bool = True, extra: int = 8) -> list[list[str]]:
    """Greedy continuation of `english <sep>` for each sentence, until <eos>: the Chinese words, one list per
    sentence. Prompts of equal length run together (no padding inside a prompt)."""
    prompts = [lm_sequence(vocab, s) for s in sentences]
    out: list[list[str] | None] = [None] * len(prompts)
    for length in sorted({len(p) for p in prompts}):
        rows = [i for i, p in enumerate(prompts) if len(p) == length]
        batch = torch.tensor([prompts[i] for i in rows])            # (n, length)
        new = generate(model, batch, length + extra, use_cache=use_cache, eos_id=EOS).tokens[:, length:]
        for i, ids in zip(rows, new.tolist()):
            out[i] = vocab.decode(ids)                              # stops at the first <eos>
    return out


def translate(model: DecoderOnlyTransformer, vocab: Vocab, sentence: str) -> str:
    """English -> Chinese by continuing `english <sep>`: "I am a student" -> "我是学生"."""
    unknown = vocab.unknown(tokenize_english(sentence))
    if unknown:
        raise ValueError(_("unknown English word(s) {unknown}: the model knows only the corpus's words", unknown=unknown))
    return join_chinese(continue_prompts(model, vocab, [sentence])[0])


def exact_match(model: DecoderOnlyTransformer, vocab: Vocab, pairs: Sequence[tuple[str, str]]) -> dict:
    """Held-out exact match of greedy continuation: {"accuracy", "correct", "total", "mistakes"}."""
    pairs = check_pairs("pairs", pairs)
    with torch_threads(1):
        outputs = continue_prompts(model, vocab, [en for en, _ in pairs])
    mistakes = [(en, join_chinese(tokenize_chinese(zh)), join_chinese(got))
                for (en, zh), got in zip(pairs, outputs) if got != tokenize_chinese(zh)]
    correct = len(pairs) - len(mistakes)
    return {"accuracy": correct / len(pairs), "correct": correct, "total": len(pairs), "mistakes": mistakes}


# ---- the KV cache: the same numbers, less work ------------------------------------------------------------

def kv_cache_agreement(model: DecoderOnlyTransformer, prompts: torch.Tensor, max_new_tokens: int) -> dict:
    """Generate from `prompts (B, T0)` with and without the cache: {"same_tokens", "max_logit_difference",
    "steps"}. Without the cache every step reruns the whole sequence; with it, only the newest position."""
    cached = generate(model, prompts, max_new_tokens, use_cache=True)
    full = generate(model, prompts, max_new_tokens, use_cache=False)
    same = cached.tokens.shape == full.tokens.shape and bool(torch.equal(cached.tokens, full.tokens))
    diff = (cached.logits - full.logits).abs().max().item() if same else float("inf")
    return {"same_tokens": same, "max_logit_difference": diff, "steps": cached.steps}


def time_per_token(model: DecoderOnlyTransformer, length: int, use_cache: bool, repeats: int = 7) -> float:
    """Seconds of CPU time to compute the next token's logits after `length` tokens (median of `repeats`).

    With the cache the `length` earlier keys and values are already stored and only the newest token runs;
    without it all length + 1 positions run again. CPU time (`time.process_time`, one thread) is the work
    this process did, which other programs on a busy machine do not inflate as they inflate the clock."""
    seq = torch.randint(4, model.vocab_size, (1, length + 1), generator=torch.Generator().manual_seed(length))
    times = []
    with eval_mode(model), torch_threads(1):
        if use_cache:
            stored = model.new_cache()
            model(seq[:, :length], stored)                          # the earlier positions, computed once
        for _ in range(repeats):
            if use_cache:
                cache = [_copy_cache(c) for c in stored]            # the same stored keys/values each repeat
            start = time.process_time()
            if use_cache:
                model(seq[:, length:], cache)                       # (1, 1): the newest token only
            else:
                model(seq)                                          # (1, length + 1): everything again
            times.append(time.process_time() - start)
    return statistics.median(times)


def _copy_cache(cache: KVCache) -> KVCache:
    copy = KVCache()
    copy.keys, copy.values = cache.keys, cache.values               # append() builds new tensors: safe to share
    return copy


def kv_cache_benchmark(lengths: Sequence[int] = (8, 32, 128, 512), repeats: int = 7, d_model: int = 64,
                       num_layers: int = 4, seed: int = 0) -> list[dict]:
    """Per-token cost with and without the cache at several lengths, on an untrained model of the lesson's size
    (the weights do not change the work): [{"length", "cached", "full", "ratio" = full / cached}, ...]."""
    lengths = [check_positive_int("length", n) for n in lengths]
    model = build_decoder_only(64, seed, d_model=d_model, num_layers=num_layers, d_ff=2 * d_model,
                               max_len=max(lengths) + 1)
    rows = []
    for n in lengths:
        cached, full = time_per_token(model, n, True, repeats), time_per_token(model, n, False, repeats)
        rows.append({"length": n, "cached": cached, "full": full, "ratio": full / cached})
    return rows


# ---- RoPE: scores that depend only on the offset ----------------------------------------------------------

def rope_shift_check(d: int = 16, T: int = 6, shifts: Sequence[int] = (1, 7, 100), seed: int = 0) -> dict:
    """Rotate random queries and keys of T positions by RoPE, then shift every position by s: the (T, T)
    scores q_m . k_n stay the same (in float64, to rounding). Returns {"scores", "differences": {s: max |change|}}."""
    g = torch.Generator().manual_seed(seed)
    q, k = torch.randn(T, d, generator=g, dtype=torch.float64), torch.randn(T, d, generator=g, dtype=torch.float64)
    positions = torch.arange(T)

    def scores(start: int) -> torch.Tensor:
        return apply_rotary(q, positions + start) @ apply_rotary(k, positions + start).T   # (T, d) @ (d, T)
    base = scores(0)
    return {"scores": base, "differences": {s: (scores(s) - base).abs().max().item() for s in shifts}}


def sinusoidal_shift_check(d: int = 16, T: int = 6, shifts: Sequence[int] = (1, 7, 100), seed: int = 0) -> dict:
    """The same test for the paper's way: add PE(pos) to the inputs, then project to queries and keys. Shifting
    every position changes the scores. Returns {"scores", "differences": {s: max |change|}}."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(T, d, generator=g, dtype=torch.float64)
    w_q, w_k = torch.randn(d, d, generator=g, dtype=torch.float64), torch.randn(d, d, generator=g, dtype=torch.float64)
    pe = sinusoidal_encoding(T + max(shifts), d).double()           # (T + s, d)

    def scores(start: int) -> torch.Tensor:
        h = x + pe[start:start + T]                                  # content + position, added
        return (h @ w_q) @ (h @ w_k).T / math.sqrt(d)               # (T, T)
    base = scores(0)
    return {"scores": base, "differences": {s: (scores(s) - base).abs().max().item() for s in shifts}}


# ---- "perfect memory"? --------------------------------------------------------------------------------------

def memory_vs_model(model: DecoderOnlyTransformer, vocab: Vocab, train_pairs, test_pairs) -> dict:
    """Held-out meanings: how many a perfect memory of the training pairs gets right (lesson 07's
    `recall_from_memory`: the translation of the nearest training sentence), how many the model gets right, and how
    many of the model's right answers are Chinese sentences found nowhere in training (it could not repeat them)."""
    train_pairs, test_pairs = check_pairs("train_pairs", train_pairs), check_pairs("test_pairs", test_pairs)
    reference = lambda zh: join_chinese(tokenize_chinese(zh))
    seen = {reference(zh) for _, zh in train_pairs}
    memory = recall_from_memory(train_pairs, test_pairs)            # rows: (english, reference, nearest, recalled)
    with torch_threads(1):
        outputs = [join_chinese(words) for words in continue_prompts(model, vocab, [en for en, _ in test_pairs])]
    right = [out == reference(zh) for out, (_, zh) in zip(outputs, test_pairs)]
    return {"total": len(test_pairs), "model_correct": sum(right), "memory_correct": memory["memory_correct"],
            "new_and_correct": sum(ok and out not in seen for ok, out in zip(right, outputs)),
            "test_in_training": sum(reference(zh) in seen for _, zh in test_pairs), "outputs": outputs,
            "recalled": [row[3] for row in memory["rows"]]}


# ---- BERT against GPT: the same stack without the causal mask -----------------------------------------------

def teacher_forced_accuracy(model: DecoderOnlyTransformer, vocab: Vocab, pairs) -> float:
    """Share of the Chinese tokens (and <eos>) predicted right when the whole true sequence is fed in, as in
    training: for an encoder-only model this includes the token it is asked to predict."""
    inputs, targets = lm_batch(vocab, check_pairs("pairs", pairs))
    with eval_mode(model):
        guess = model(inputs).argmax(-1)                            # (N, L)
    counted = targets != PAD
    return (guess[counted] == targets[counted]).double().mean().item()


def generate_without_mask(model: DecoderOnlyTransformer, vocab: Vocab, sentences: Sequence[str],
                          extra: int = 8) -> list[list[str]]:
    """Greedy continuation of `english <sep>` by rerunning the whole sequence at every step, as an encoder-only
    model must (without a causal mask nothing can be cached): the Chinese words of each sentence."""
    prompts = [lm_sequence(vocab, s) for s in sentences]
    out: list[list[str] | None] = [None] * len(prompts)
    with eval_mode(model), torch_threads(1):
        for length in sorted({len(p) for p in prompts}):
            rows = [i for i, p in enumerate(prompts) if len(p) == length]
            seq = torch.tensor([prompts[i] for i in rows])           # (n, length)
            for _ in range(length + extra):
                token = model(seq)[:, -1].argmax(-1)                 # the last position's guess: (n,)
                seq = torch.cat([seq, token[:, None]], dim=1)
                if bool((seq[:, length:] == EOS).any(-1).all()):
                    break
            for i, ids in zip(rows, seq[:, length:].tolist()):
                out[i] = vocab.decode(ids)
    return out


def short_run(train_pairs, test_pairs, seed: int = 0, *, causal: bool = True, rotary: bool = False,
              epochs: int = 3, warmup: int = 30) -> dict:
    """A short training run (3 epochs, 2 layers) of the stack with or without the causal mask, with sinusoidal or
    rotary positions, on next-token prediction; then held-out scores both ways: as in training (the whole true
    sequence fed in) and by generating, rerunning the sequence at each step. {"teacher_forced", "generated",
    "loss"}."""
    model, vocab, history = train_decoder_only(train_pairs, seed=seed, epochs=epochs, warmup=warmup, num_layers=2,
                                               causal=causal, rotary=rotary)
    outputs = generate_without_mask(model, vocab, [en for en, _ in test_pairs])
    right = sum(out == tokenize_chinese(zh) for out, (_, zh) in zip(outputs, test_pairs))
    return {"teacher_forced": teacher_forced_accuracy(model, vocab, test_pairs), "generated": right / len(test_pairs),
            "loss": history["loss"][-1], "seconds": history["seconds"]}


# ---- the generation loop, step by step, and sampling -------------------------------------------------------

def generation_steps(model: DecoderOnlyTransformer, vocab: Vocab, sentence: str, extra: int = 8) -> list[dict]:
    """Greedy continuation of `sentence <sep>`, one dict per step: {"context": the tokens the model reads,
    "probabilities": (V,) its next-token distribution, "chosen": the token appended}."""
    prompt = torch.tensor([lm_sequence(vocab, sentence)])
    out = generate(model, prompt, prompt.size(1) + extra, eos_id=EOS)
    tokens = [vocab.tokens[i] for i in out.tokens[0].tolist()]
    steps = []
    for step in range(out.steps):
        context = tokens[:prompt.size(1) + step]
        steps.append({"context": context, "probabilities": torch.softmax(out.logits[0, step], -1),
                      "chosen": tokens[prompt.size(1) + step]})
    return steps


def sampling_variety(model: DecoderOnlyTransformer, vocab: Vocab, sentence: str, reference: str,
                     settings: dict[str, dict], num_samples: int = 30, seed: int = 0) -> dict[str, dict]:
    """Draw `num_samples` continuations of `sentence <sep>` under each setting ({name: dict(temperature=...,
    top_k=..., top_p=...)}), each from a generator seeded with `seed`. Returns {name: {"distinct": number of
    different outputs, "right": how many equal `reference`, "counts": {output: count}}}."""
    prompt = torch.tensor([lm_sequence(vocab, sentence)]).repeat(check_positive_int("num_samples", num_samples), 1)
    reference = join_chinese(tokenize_chinese(reference))
    results = {}
    for name, options in settings.items():
        out = generate(model, prompt, prompt.size(1) + 8, eos_id=EOS, sample=True,
                       generator=torch.Generator().manual_seed(seed), **options)
        texts = [join_chinese(vocab.decode(row[prompt.size(1):])) for row in out.tokens.tolist()]
        counts = {t: texts.count(t) for t in dict.fromkeys(texts)}
        results[name] = {"distinct": len(counts), "right": counts.get(reference, 0), "counts": counts}
    return results


def comparison(translator, model: DecoderOnlyTransformer, vocab: Vocab, lm_history: dict, test_pairs) -> list[dict]:
    """The side-by-side table: for the encoder-decoder translator (lesson 07's `train_translator`, scored by
    `capstone.evaluate`, which training already ran on the held-out pairs) and the decoder-only model, held-out
    exact match, parameters and training seconds."""
    from ...capstone import evaluate
    ours = exact_match(model, vocab, test_pairs)
    theirs = translator.history.get("test") or evaluate(translator, test_pairs)
    if theirs["total"] != len(test_pairs):
        theirs = evaluate(translator, test_pairs)
    return [{"model": _("encoder-decoder (lesson 07)"), "accuracy": theirs["accuracy"], "correct": theirs["correct"],
             "total": theirs["total"], "parameters": count_parameters(translator.model),
             "seconds": translator.history["seconds"], "steps": translator.history["steps"]},
            {"model": _("decoder-only (GPT-style)"), "accuracy": ours["accuracy"], "correct": ours["correct"],
             "total": ours["total"], "parameters": count_parameters(model), "seconds": lm_history["seconds"],
             "steps": lm_history["steps"]}]


def first_step_distribution(model: DecoderOnlyTransformer, vocab: Vocab, sentence: str, temperature: float = 1.0,
                            top_k: int | None = None, top_p: float | None = None) -> dict:
    """The distribution of the first Chinese token after `sentence <sep>`: {"model": softmax(logits), "sampled":
    what sampling draws from after temperature, top-k and top-p (0 for removed tokens), "kept": tokens left}."""
    with eval_mode(model):
        logits = model(torch.tensor([lm_sequence(vocab, sentence)]))[0, -1]          # (V,)
    scaled = logits / temperature
    if top_k is not None:
        scaled = top_k_filter(scaled, top_k)
    if top_p is not None:
        scaled = top_p_filter(scaled, top_p)
    sampled = torch.softmax(scaled, dim=-1)
    return {"model": torch.softmax(logits, dim=-1), "sampled": sampled, "kept": int((sampled > 0).sum())}


def fixed_offset_scores(d: int = 16, offset: int = 3, starts: Sequence[int] = range(0, 61), seed: int = 0) -> dict:
    """One query word and one key word `offset` positions apart, slid along the sentence: their score at each start
    with RoPE (rotate q and k) and with the paper's added code (x + PE, then project). {"starts", "rope",
    "sinusoidal"}: RoPE's score is the same everywhere, the added code's is not."""
    g = torch.Generator().manual_seed(seed)
    x_q, x_k = torch.randn(d, generator=g, dtype=torch.float64), torch.randn(d, generator=g, dtype=torch.float64)
    w_q, w_k = torch.randn(d, d, generator=g, dtype=torch.float64), torch.randn(d, d, generator=g, dtype=torch.float64)
    starts = list(starts)
    pe = sinusoidal_encoding(max(starts) + offset + 1, d).double()
    rope, added = [], []
    for m in starts:                                                     # key at m, query at m + offset
        q = apply_rotary((x_q @ w_q)[None], torch.tensor([m + offset]))[0]
        k = apply_rotary((x_k @ w_k)[None], torch.tensor([m]))[0]
        rope.append((q @ k).item() / math.sqrt(d))
        added.append(((x_q + pe[m + offset]) @ w_q @ ((x_k + pe[m]) @ w_k)).item() / math.sqrt(d))
    return {"starts": starts, "rope": rope, "sinusoidal": added}
