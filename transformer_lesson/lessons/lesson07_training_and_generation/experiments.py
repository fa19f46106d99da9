"""Lesson 07, training and generation (训练与生成): the experiments behind its claims.

Each function is seeded, runs in a few seconds on a CPU, and returns plain numbers that the notebook
prints and asserts and the tests assert too.
"""
from __future__ import annotations

from typing import Sequence

import torch

from ..._validate import check_positive_int
from ...capstone import Translator, trace_translation
from ...capstone.data import BOS, EOS, check_pairs, join_chinese, tokenize_chinese, tokenize_english
from ...capstone.training import small_embeddings
from ...decoding import greedy_decode, sample_decode
from ...i18n import translator
from ...runtime import torch_threads

__all__ = ["cross_attention_map", "untrained_copy", "head_diversity", "layer_heads", "beam_vs_greedy",
           "nearest_training_pair",
           "recall_from_memory", "new_translations", "decoding_choices"]

_ = translator("lesson07")


def _check_translator(translator) -> None:
    if not isinstance(translator, Translator):
        raise TypeError(f"expected a transformer_lesson.Translator, got {type(translator).__name__}")


def cross_attention_map(translator, sentence: str) -> dict:
    """Translate `sentence` greedily and read every decoder layer's cross-attention weights.

    Runs `capstone.trace_translation`, which returns every attention module's weights of its decoder pass
    over `<bos> y_1 ... y_n`; each layer's cross-attention is `(1, h, T, S)`. Row t is the query that
    *produces* output token t (y_1 ... y_n, then <eos>); column s is English word s. Returns {"source":
    English words, "target": produced tokens incl. "<eos>", "weights": (L, h, T, S) tensor, "translation": str}.
    """
    _check_translator(translator)
    trace = trace_translation(translator, sentence)
    weights = torch.stack([trace.attention[f"decoder.layers.{i}.cross_attn"][0]
                           for i in range(len(translator.model.decoder.layers))])       # (L, h, T, S)
    target = trace.target_tokens + ["<eos>"]
    if weights.shape[-2:] != (len(target), len(trace.words)):
        raise RuntimeError(f"expected cross-attention weights of shape (L, h, {len(target)}, {len(trace.words)}), "
                           f"got {tuple(weights.shape)}")
    return {"source": list(trace.words), "target": target, "weights": weights, "translation": trace.translation}


def untrained_copy(translator, seed: int = 0):
    """A `Translator` with the same vocabularies and sizes as `translator` but freshly initialised weights,
    initialised as `train_translator` initialises them before its first step (small embeddings included)."""
    _check_translator(translator)
    with torch.random.fork_rng(devices=[]):             # the caller's random state is left alone
        torch.manual_seed(seed)
        config = translator.config
        model = config.build_model(len(translator.src_vocab), len(translator.tgt_vocab))
        if config.embed_init_std is not None:
            small_embeddings(model, config.embed_init_std)
    return Translator(model, translator.src_vocab, translator.tgt_vocab, translator.config)


def _attention_modules(model) -> list[tuple[str, str]]:
    """(label, module name) of every attention module, encoder first: ("encoder 1 self", "encoder.layers.0.self_attn")."""
    mods = [(_("encoder {n} self", n=i + 1), f"encoder.layers.{i}.self_attn") for i in range(len(model.encoder.layers))]
    for i in range(len(model.decoder.layers)):
        mods += [(_("decoder {n} self", n=i + 1), f"decoder.layers.{i}.self_attn"),
                 (_("decoder {n} cross", n=i + 1), f"decoder.layers.{i}.cross_attn")]
    return mods


def head_diversity(translator, sentences: Sequence[str]) -> dict:
    """Claim C6, second half: how differently the heads of each attention layer look at the same sentences.

    Each sentence is translated (`capstone.trace_translation`), which returns every attention module's
    weights `(1, h, T_q, T_k)`. For two heads i, j the distance is the total variation between
    their rows, 0.5 * sum_k |a_ik - b_jk| (0: the same distribution, 1: no overlap), averaged over the
    query rows, then over the sentences. Returns {"modules": [{"name", "module" (its name in the model, a
    key of `trace.attention`), "distances" (h x h list), "mean", "min"} ...], "mean": mean over all pairs of
    heads, "min": the closest pair anywhere}.
    """
    _check_translator(translator)
    if isinstance(sentences, str) or not sentences:
        raise ValueError("expected a non-empty list of English sentences")
    modules = _attention_modules(translator.model)
    h = translator.model.encoder.layers[0].self_attn.num_heads
    totals = [torch.zeros(h, h, dtype=torch.float64) for _ in modules]
    with torch_threads(1):
        for sentence in sentences:
            attention = trace_translation(translator, sentence).attention
            for total, (_, module) in zip(totals, modules):
                w = attention[module][0].double()                            # (h, T_q, T_k)
                diff = (w[:, None] - w[None, :]).abs().sum(-1) / 2           # (h, h, T_q): TV per query row
                total += diff.mean(-1)
    rows, pairs = [], torch.triu_indices(h, h, offset=1)
    for total, (name, module) in zip(totals, modules):
        d = total / len(sentences)
        off = d[pairs[0], pairs[1]]
        rows.append({"name": name, "module": module, "distances": d.tolist(), "mean": off.mean().item(),
                     "min": off.min().item()})
    return {"modules": rows, "num_heads": h, "sentences": len(sentences),
            "mean": sum(r["mean"] for r in rows) / len(rows), "min": min(r["min"] for r in rows)}


def layer_heads(translator, sentence: str, module: str) -> dict:
    """Every head's weights in one attention module (a row's "module" in `head_diversity`) on `sentence`.

    Returns {"weights": (h, T_q, T_k), "queries": tokens, "keys": tokens, "translation": str}. In the encoder
    queries and keys are English words; a decoder query is labelled by the token it produces (as in
    `cross_attention_map`), its keys are the tokens the decoder reads (<bos> first) in self-attention and
    the English words in cross-attention."""
    _check_translator(translator)
    trace = trace_translation(translator, sentence)
    if module not in trace.attention:
        raise ValueError(f"expected one of the attention modules {sorted(trace.attention)}, got {module!r}")
    english, produced, read = list(trace.words), trace.target_tokens + ["<eos>"], ["<bos>"] + trace.target_tokens
    if module.startswith("encoder"):
        queries, keys = english, english
    else:
        queries, keys = produced, (english if module.endswith("cross_attn") else read)
    return {"weights": trace.attention[module][0], "queries": queries, "keys": keys,
            "translation": trace.translation}


def _greedy_by_length(translator, sentences: Sequence[str]) -> list[tuple[str, float]]:
    """Greedy translations and their log-probabilities, decoding sentences of equal length together (no padding)."""
    ids = [translator.encode_source(sentence)[0] for sentence in sentences]     # each (S,)
    by_length: dict[int, list[int]] = {}
    for i, row in enumerate(ids):
        by_length.setdefault(row.numel(), []).append(i)
    results: list = [None] * len(ids)
    for rows in by_length.values():
        src = torch.stack([ids[i] for i in rows])                                  # (B, S), all real words
        for i, hyp in zip(rows, greedy_decode(translator.model, src, bos_id=BOS, eos_id=EOS)):
            results[i] = (join_chinese(translator.tgt_vocab.decode(hyp.tokens)), hyp.log_prob)
    return results


def beam_vs_greedy(translator, pairs: Sequence[tuple[str, str]], beam_size: int = 4, length_penalty: float = 0.0,
                   tol: float = 1e-4) -> dict:
    """Claim C12, second half: beam search's translation against greedy decoding's, sentence by sentence.

    Both translate every English sentence of `pairs`; their log-probabilities log P(y | x) (with <eos>) are
    compared, `tol` absorbing float rounding between the two searches. With `length_penalty` 0 beam search
    ranks by log-probability itself. Returns counts ("beam_higher", "same", "beam_lower"), "differ": the
    sentences whose two translations differ, as (english, reference, greedy, greedy_lp, beam, beam_lp), and
    (from `_beam_summary`) exact-match counts against the references and the largest gain.
    """
    _check_translator(translator)
    if isinstance(pairs, str) or not pairs:
        raise ValueError("expected a non-empty list of (english, chinese) pairs")
    english = [en for en, _ in pairs]
    with torch_threads(1):
        greedy = _greedy_by_length(translator, english)                             # [(translation, log P)]
        beam = [translator.alternatives(en, beam_size, length_penalty)[0] for en in english]  # [(.., score, log P)]
    counts, differ = {"beam_higher": 0, "same": 0, "beam_lower": 0}, []
    for (en, zh), (greedy_text, greedy_lp), (beam_text, _, beam_lp) in zip(pairs, greedy, beam):
        if beam_lp > greedy_lp + tol:
            counts["beam_higher"] += 1                       # beam search found a likelier translation
        elif beam_lp < greedy_lp - tol:
            counts["beam_lower"] += 1                        # greedy's path fell out of the beam
        else:
            counts["same"] += 1
        if greedy_text != beam_text:
            differ.append((en, _reference(zh), greedy_text, greedy_lp, beam_text, beam_lp))
    return _beam_summary(pairs, greedy, beam, counts, differ, beam_size, length_penalty)


def _reference(chinese: str) -> str:
    """A corpus translation written as the translator writes its own: "我 是 学生" -> "我是学生"."""
    return join_chinese(tokenize_chinese(chinese))


def _beam_summary(pairs, greedy, beam, counts, differ, beam_size, length_penalty) -> dict:
    """`beam_vs_greedy`'s bookkeeping: the counts, plus exact matches, the largest gain and every log P."""
    references = [_reference(zh) for _, zh in pairs]
    greedy_lps, beam_lps = [lp for _, lp in greedy], [lp for _, _, lp in beam]
    return {"total": len(pairs), "beam_size": beam_size, "length_penalty": length_penalty, **counts,
            "disagree": len(differ), "largest_gain": max(0.0, *(b - g for b, g in zip(beam_lps, greedy_lps))),
            "greedy_correct": sum(text == ref for (text, _), ref in zip(greedy, references)),
            "beam_correct": sum(text == ref for (text, _, _), ref in zip(beam, references)),
            "differ": differ, "greedy_log_probs": greedy_lps, "beam_log_probs": beam_lps}


def nearest_training_pair(words: list[str], memory: list[tuple[list[str], str]]) -> tuple[list[str], str]:
    """The (english words, chinese) pair of `memory` whose English is closest to `words`: the most words in
    common, then the fewest words found in only one of the two, then the most words in the same position
    (a statement and its question share every word, not their order); among equals, the first."""
    bag = set(words)

    def closeness(pair):
        other = pair[0]
        return (len(bag & set(other)), -len(bag ^ set(other)), sum(a == b for a, b in zip(words, other)))
    return max(memory, key=closeness)


def recall_from_memory(train_pairs: Sequence[tuple[str, str]], test_pairs: Sequence[tuple[str, str]]) -> dict:
    """A "perfect memory" as a translator: for each held-out English sentence, recall the stored translation
    of the nearest training sentence (`nearest_training_pair`). No training, no randomness: the same counts
    on every machine. Returns {"total", "memory_correct": recalled translations equal to the reference,
    "unshared": {number of words in only one of the two sentences: count}, "unknown_words": held-out English
    words that never occur in training, "rows": [(english, reference, nearest english, recalled)]}."""
    train_pairs, test_pairs = check_pairs("train_pairs", train_pairs), check_pairs("test_pairs", test_pairs)
    memory = [(tokenize_english(en), _reference(zh)) for en, zh in train_pairs]
    known = {word for words, _ in memory for word in words}
    rows, unshared, unknown = [], {}, set()
    for english, chinese in test_pairs:
        words = tokenize_english(english)
        nearest, recalled = nearest_training_pair(words, memory)
        apart = len(set(words) ^ set(nearest))
        unshared[apart] = unshared.get(apart, 0) + 1
        unknown |= set(words) - known
        rows.append((english, _reference(chinese), " ".join(nearest), recalled))
    return {"total": len(rows), "memory_correct": sum(ref == recalled for _, ref, _, recalled in rows),
            "unshared": dict(sorted(unshared.items())), "unknown_words": sorted(unknown), "rows": rows}


def new_translations(translator, train_pairs: Sequence[tuple[str, str]],
                     test_pairs: Sequence[tuple[str, str]]) -> dict:
    """The model's greedy translations of the held-out English sentences, against its training data.

    Returns {"total", "correct": equal to the reference, "seen": outputs that are the Chinese side of some
    training pair (what a memory could have repeated), "new_and_correct": right and found nowhere in
    training, "outputs": the translations}."""
    _check_translator(translator)
    train_pairs, test_pairs = check_pairs("train_pairs", train_pairs), check_pairs("test_pairs", test_pairs)
    seen = {_reference(zh) for _, zh in train_pairs}
    with torch_threads(1):
        outputs = [text for text, _ in _greedy_by_length(translator, [en for en, _ in test_pairs])]
    right = [text == _reference(zh) for text, (_, zh) in zip(outputs, test_pairs)]
    return {"total": len(outputs), "correct": sum(right), "seen": sum(text in seen for text in outputs),
            "new_and_correct": sum(ok and text not in seen for ok, text in zip(right, outputs)), "outputs": outputs}


def decoding_choices(translator, sentence: str, beam_size: int = 4, length_penalty: float = 0.6,
                     temperature: float = 1.0, num_samples: int = 8, seed: int = 0, cache: dict | None = None) -> dict:
    """Greedy, beam search and sampling on one sentence, for the decoding widget.

    Returns {"greedy": (text, log_prob), "beam": [(text, score, log_prob), ...] best first,
    "samples": [(text, log_prob), ...] (`num_samples` draws from softmax(logits / temperature), the
    log-probabilities under the model itself, at temperature 1; a sample stops at <eos> or after as many
    tokens as the English sentence has words plus 6), "sample_counts": {text: count}}.
    The samples come from a generator seeded with `seed`, so the same arguments give the same samples.
    `cache`: a dict to keep results in, so that moving one slider recomputes only what depends on it.
    """
    _check_translator(translator)
    num_samples = check_positive_int("num_samples", num_samples)
    cache = {} if cache is None else cache
    key = (id(translator), sentence)

    def cached(part, compute):
        if (key, part) not in cache:
            cache[key, part] = compute()
        return cache[key, part]

    def sample():
        src = translator.encode_source(sentence).repeat(num_samples, 1)       # (1, S) -> (n, S)
        generator = torch.Generator().manual_seed(seed)
        hyps = sample_decode(translator.model, src, temperature, max_len=src.size(1) + 6, bos_id=BOS, eos_id=EOS,
                             generator=generator)                             # at most 6 tokens more than English
        return [(join_chinese(translator.tgt_vocab.decode(h.tokens)), h.log_prob) for h in hyps]

    with torch_threads(1):
        greedy, _, greedy_lp = cached("greedy", lambda: translator.alternatives(sentence, beam_size=1)[0])
        beam = cached(("beam", beam_size, length_penalty),
                      lambda: translator.alternatives(sentence, beam_size=beam_size, length_penalty=length_penalty))
        samples = cached(("samples", temperature, num_samples, seed), sample)
    counts: dict[str, int] = {}
    for text, _ in samples:
        counts[text] = counts.get(text, 0) + 1
    return {"sentence": sentence, "greedy": (greedy, greedy_lp), "beam": beam, "samples": samples,
            "sample_counts": counts, "beam_size": beam_size, "length_penalty": length_penalty,
            "temperature": temperature}
