"""The `Translator`: a trained model with its two vocabularies, English text in, Chinese text out.

It translates (greedy or beam search), lists the beam's alternatives with their scores, and saves to and
loads from one file: the weights, the `TranslatorConfig` that made them, the vocabularies and the
training record, with a checksum. A file is read with `torch.load(weights_only=True)` (no code runs),
its sizes are bounded before anything is built, and every weight must be finite. `evaluate` measures
exact-match accuracy on held-out pairs.
"""
from __future__ import annotations

import difflib
import io
from os import PathLike
from pathlib import Path
from typing import Sequence

import torch

from .._validate import check_number, check_positive_int
from ..decoding import beam_search, greedy_decode
from ..i18n import translator
from ..model import Transformer
from ..runtime import torch_threads
from .config import TranslatorConfig
from .data import BOS, EOS, PAD, SPECIALS, Vocab, check_pairs, join_chinese, tokenize_chinese, tokenize_english
from .files import atomic_write, tensors_checksum, why_not_written

__all__ = ["Translator", "evaluate", "FILE_FORMAT", "FILE_VERSION", "MAX_VOCABULARY"]

FILE_FORMAT = "transformer_lesson.translator"
FILE_VERSION = 3   # 2: a checksum of the weights, configuration and vocabularies; 3: the TranslatorConfig fields
MAX_VOCABULARY = 1_000_000   # tokens a file's vocabulary may hold (checked before anything is built)

_ = translator("capstone")


def _check_beam(beam_size, length_penalty, vocab_size: int | None = None) -> tuple[int, float]:
    beam_size = check_positive_int("beam_size", beam_size, maximum=vocab_size,
                                   because="(the Chinese vocabulary size: a wider beam only keeps more bad guesses)")
    alpha = check_number("length_penalty", length_penalty, minimum=0.0, example="0.6 (0 turns it off)")
    return beam_size, alpha


class Translator:
    """A trained model with its two vocabularies: English text in, Chinese text out.

        translator.translate("I am a student")                  -> "我是学生"
        translator.translate("Do you like tea?", beam_size=4)   -> "你喜欢茶吗"
        translator.alternatives("I am a student")               -> [("我是学生", score, log_prob), ...]

    `history` holds the training record for plots: per-step "loss" and "lr", per-epoch "epoch_loss",
    the training "seconds", and "test" (the held-out evaluation) when there was one.
    """

    def __init__(self, model: Transformer, src_vocab: Vocab, tgt_vocab: Vocab,
                 config: TranslatorConfig | None = None, history: dict | None = None):
        if not isinstance(model, Transformer):
            raise TypeError(f"expected model to be a transformer_lesson.Transformer, got {type(model).__name__}")
        for name, vocab in (("src_vocab", src_vocab), ("tgt_vocab", tgt_vocab)):
            if not isinstance(vocab, Vocab):
                raise TypeError(f"expected {name} to be a transformer_lesson.capstone.data.Vocab, got {type(vocab).__name__}")
        if model.src_embed.num_embeddings != len(src_vocab) or model.tgt_embed.num_embeddings != len(tgt_vocab):
            raise ValueError(f"expected vocabularies of the model's sizes ({model.src_embed.num_embeddings} English, "
                             f"{model.tgt_embed.num_embeddings} Chinese), got {len(src_vocab)} and {len(tgt_vocab)}")
        self.model = model.eval()
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        if config is not None and not isinstance(config, TranslatorConfig):
            raise TypeError(f"expected config to be a TranslatorConfig or None, got {type(config).__name__}")
        self.config = config
        self.history = dict(history or {})

    def __repr__(self) -> str:
        c = self.config
        size = "" if c is None else (f"d_model={c.d_model}, num_heads={c.num_heads}, num_layers={c.num_layers}, "
                                     f"d_ff={c.d_ff}")
        return _("Translator({english} English / {chinese} Chinese tokens{size})", english=len(self.src_vocab),
                 chinese=len(self.tgt_vocab), size=", " + size if size else "")

    # text -> ids ----------------------------------------------------------------------------------
    def source_words(self, sentence: str) -> list[str]:
        """The English words the model reads: lower case, no punctuation. Unknown words raise ValueError."""
        words = tokenize_english(sentence)
        if not words:
            raise ValueError(_("expected an English sentence with at least one word, got {sentence!r}",
                               sentence=sentence))
        unknown = self.src_vocab.unknown(words)
        if unknown:
            raise ValueError(self._unknown_message(unknown))
        limit = self.model.positional.max_len
        if len(words) > limit:
            raise ValueError(_("expected a sentence of at most {limit} words (this translator reads at most "
                               "{limit} positions), got {n} words; split it into shorter sentences",
                               limit=limit, n=len(words)))
        return words

    def _unknown_message(self, unknown: list[str]) -> str:
        known = [t for t in self.src_vocab.tokens[4:]]
        shown = []
        for word in unknown:
            close = difflib.get_close_matches(word, known, n=1)
            shown.append(f"{word!r}" + (_(" (did you mean {word!r}?)", word=close[0]) if close else ""))
        examples = ", ".join(repr(w) for w in known[:10])
        return _("unknown English word(s): {unknown}; the model knows {n} words, e.g. {examples}{more}",
                 unknown=", ".join(shown), n=len(known), examples=examples, more=", ..." if len(known) > 10 else "")

    def encode_source(self, sentence: str) -> torch.Tensor:
        """An English sentence -> source ids `(1, S)`, ready for `model.encode`."""
        return torch.tensor([self.src_vocab.encode(self.source_words(sentence))], dtype=torch.long)

    # generation -----------------------------------------------------------------------------------
    def alternatives(self, sentence: str, beam_size: int = 4,
                     length_penalty: float = 0.6) -> list[tuple[str, float, float]]:
        """The beam's finished translations, best first: `[(chinese, score, log_prob), ...]`.

        `log_prob` is log P(translation | sentence), including the final <eos>; `score` is log_prob divided
        by the length penalty ((5 + length) / 6) ** length_penalty. With beam_size=1, greedy decoding's one
        answer (its score is its log-probability).
        """
        return [(join_chinese(tokens), score, lp) for tokens, score, lp in
                self._search(sentence, beam_size, length_penalty)]

    def _search(self, sentence, beam_size, length_penalty):
        beam_size, alpha = _check_beam(beam_size, length_penalty, len(self.tgt_vocab))
        src = self.encode_source(sentence)                                       # (1, S)
        with torch_threads(1):                   # one sentence: a second thread only waits (see torch_threads)
            if beam_size == 1:
                hyps = greedy_decode(self.model, src, bos_id=BOS, eos_id=EOS)
            else:
                hyps = beam_search(self.model, src[0], beam_size=beam_size, length_penalty_alpha=alpha,
                                   bos_id=BOS, eos_id=EOS)
        return [(self.tgt_vocab.decode(h.tokens), h.score, h.log_prob) for h in hyps]

    def translate_tokens(self, sentence: str, beam_size: int = 1, length_penalty: float = 0.6) -> list[str]:
        """The translation as Chinese words: ['我', '是', '学生']."""
        return self._search(sentence, beam_size, length_penalty)[0][0]

    def translate(self, sentence: str, beam_size: int = 1, length_penalty: float = 0.6) -> str:
        """English sentence -> Chinese text, "I am a student" -> "我是学生". beam_size=1 is greedy decoding."""
        return join_chinese(self.translate_tokens(sentence, beam_size, length_penalty))

    # files ----------------------------------------------------------------------------------------
    def state(self) -> dict:
        """Everything needed to rebuild this translator, as plain Python types and tensors, with a checksum."""
        if self.config is None:
            raise ValueError("this translator has no TranslatorConfig, so a file could not say how to rebuild it; "
                             "build it with Translator(model, src_vocab, tgt_vocab, config)")
        weights = self.model.state_dict()
        src_vocab, tgt_vocab, config = self.src_vocab.to_dict(), self.tgt_vocab.to_dict(), self.config.to_dict()
        return {"format": FILE_FORMAT, "version": FILE_VERSION, "config": config,
                "state_dict": weights, "src_vocab": src_vocab, "tgt_vocab": tgt_vocab,
                "history": dict(self.history),
                "checksum": tensors_checksum(weights, [config, src_vocab, tgt_vocab])}

    def save(self, path: str | PathLike) -> Path:
        """Write the translator to `path` (one `torch.save` file: weights, configuration, vocabularies, history).

        The file is written next to `path` under a temporary name and renamed into place once complete, so
        a save cut short leaves any earlier file intact. Any failure raises OSError, saying why.
        """
        if not isinstance(path, (str, PathLike)):
            raise TypeError(f"expected path to be a str or pathlib.Path, got {type(path).__name__}")
        buffer = io.BytesIO()
        torch.save(self.state(), buffer)                      # in memory first: the file is written in one go
        try:
            return atomic_write(path, buffer.getvalue())
        except OSError as error:
            failure = OSError(f"could not save the translator to {path}: {why_not_written(error, Path(path))}; "
                              "nothing was written (an earlier file there is unchanged)")
            failure.errno = error.errno
            raise failure from error

    @classmethod
    def load(cls, path: str | PathLike) -> "Translator":
        """Read a file written by `save`, with `torch.load(path, weights_only=True)` (no code is run).

        Before building anything, the file's sizes are bounded and checked against its weights; then the
        checksum and the finiteness of every weight are verified. Any problem raises one ValueError
        naming the file.
        """
        if not isinstance(path, (str, PathLike)):
            raise TypeError(f"expected path to be a str or pathlib.Path, got {type(path).__name__}")
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no translator file at {path}; train one with train_translator() "
                                    "and save it with translator.save(path)")

        def bad(reason: str) -> ValueError:
            return ValueError(f"not a transformer_lesson translator file: {path} ({reason})")
        if path.is_dir():
            raise bad("it is a folder; expected a file written by Translator.save")
        if not path.is_file():
            raise bad("it is a device or pipe, not a regular file; expected a file written by Translator.save")
        try:
            with open(path, "rb") as file:
                head = file.read(4)
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:                      # zip, pickle, EOF, ...: every way a file can be wrong
            raise bad(_why_unreadable(error, head if "head" in locals() else b"")) from None
        if not isinstance(state, dict) or state.get("format") != FILE_FORMAT:
            raise bad(f"no '{FILE_FORMAT}' marker; expected a file written by Translator.save")
        if state.get("version") != FILE_VERSION:
            raise bad(f"format version {state.get('version')!r}, this package reads version {FILE_VERSION}; "
                      "retrain it")
        try:
            _check_stored(state)
            return cls.from_state(state)
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as error:
            reason = str(error).strip().splitlines()[0][:300] if str(error).strip() else type(error).__name__
            raise bad(f"damaged contents: {reason}") from None

    @classmethod
    def from_state(cls, state: dict) -> "Translator":
        """The inverse of `state()`."""
        src_vocab, tgt_vocab = Vocab.from_dict(state["src_vocab"]), Vocab.from_dict(state["tgt_vocab"])
        config = TranslatorConfig.from_dict(state["config"])
        model = config.build_model(len(src_vocab), len(tgt_vocab))
        model.load_state_dict(state["state_dict"])
        return cls(model, src_vocab, tgt_vocab, config, state.get("history") or {})


def _why_unreadable(error: Exception, head: bytes) -> str:
    """Why torch.load refused a file, in words; never torch's advice to load untrusted files unsafely."""
    text = str(error).strip()
    if "weights_only" in text or "Unsupported global" in text or "WeightsUnpickler" in text:
        return ("it holds Python objects other than tensors and plain data, which a translator file never does; "
                "it was not loaded, since such objects can run code. Use a file written by Translator.save, "
                "or train a new one")
    if isinstance(error, OSError):
        return f"it cannot be read: {error.strerror or error}"
    if head[:4] != b"PK\x03\x04":
        looks = "it looks like text" if head and all(32 <= b < 127 or b in (9, 10, 13) for b in head) else \
            "it is empty" if not head else "its first bytes are not a zip archive's"
        return f"{looks}; a file written by torch.save is a zip archive"
    first = text.splitlines()[0][:200] if text else type(error).__name__
    return f"the zip archive is damaged: {first}"


def _check_stored(state: dict) -> None:
    """Raise ValueError unless the stored configuration is valid (sizes bounded) and agrees with the stored
    weights, the checksum matches and every weight is finite. Nothing is built before this passes."""
    weights, config = state.get("state_dict"), state.get("config")
    if not isinstance(weights, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                for k, v in weights.items()):
        raise ValueError("expected 'state_dict' to map names to tensors")
    config = TranslatorConfig.from_dict(config).to_dict()   # every value checked and bounded
    for name in ("src_vocab", "tgt_vocab"):
        tokens = (state.get(name) or {}).get("tokens") if isinstance(state.get(name), dict) else None
        if not isinstance(tokens, list) or len(tokens) > MAX_VOCABULARY:
            raise ValueError(f"expected '{name}' to hold a list of at most {MAX_VOCABULARY:,} tokens")
    found = {
        "d_model": _dim(weights, "src_embed.weight", 1),
        "src vocabulary": _dim(weights, "src_embed.weight", 0),
        "tgt vocabulary": _dim(weights, "tgt_embed.weight", 0),
        "num_layers": len({k.split(".")[2] for k in weights if k.startswith("encoder.layers.")}),
        "d_ff": _dim(weights, "encoder.layers.0.feed_forward.linear1.weight", 0),
    }
    specials = len(SPECIALS)
    stated = {"d_model": config["d_model"], "src vocabulary": specials + len(state["src_vocab"]["tokens"]),
              "tgt vocabulary": specials + len(state["tgt_vocab"]["tokens"]), "num_layers": config["num_layers"],
              "d_ff": config["d_ff"]}
    for what, value in stated.items():
        if found[what] != value:
            raise ValueError(f"the configuration says {what} = {value}, the stored weights have {found[what]}")
    checksum = tensors_checksum(weights, [config, state["src_vocab"], state["tgt_vocab"]])
    if state.get("checksum") != checksum:
        raise ValueError("the checksum of the weights does not match: the file was changed or damaged after "
                         "it was saved; save or train it again")
    for name, tensor in weights.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"the weights hold NaN or infinite values (first in {name}): the model that was "
                             "saved had diverged; train it again")


def _dim(weights: dict, name: str, axis: int) -> int | None:
    tensor = weights.get(name)
    return int(tensor.shape[axis]) if isinstance(tensor, torch.Tensor) and tensor.dim() > axis else None


def _decode_all(model, sources: list[list[int]], beam_size: int, alpha: float,
                batch_size: int) -> list[tuple[list[int], float]]:
    """(token ids, log-probability) of the best translation of every source, greedy in batches or by beam."""
    outputs: list[tuple[list[int], float]] = []
    if beam_size == 1:
        for start in range(0, len(sources), batch_size):
            rows = sources[start:start + batch_size]
            src = torch.full((len(rows), max(map(len, rows))), PAD, dtype=torch.long)   # (B, S)
            for i, row in enumerate(rows):
                src[i, :len(row)] = torch.tensor(row)
            outputs += [(h.tokens, h.log_prob) for h in greedy_decode(model, src, bos_id=BOS, eos_id=EOS)]
    else:
        for row in sources:
            best = beam_search(model, torch.tensor(row), beam_size=beam_size, length_penalty_alpha=alpha,
                               bos_id=BOS, eos_id=EOS)[0]
            outputs.append((best.tokens, best.log_prob))
    return outputs


def evaluate(translator: Translator, pairs: Sequence[tuple[str, str]], beam_size: int = 1,
             length_penalty: float = 0.6, batch_size: int = 256, threads: int | None = 1) -> dict:
    """Exact-match accuracy of `translator` on `(english, chinese)` pairs.

    A translation counts only if it equals the reference exactly (spaces ignored, as written Chinese
    has none). Returns {"accuracy", "correct", "total", "mean_log_prob", "mistakes"}, where
    `mean_log_prob` averages log P(output | sentence) and `mistakes` lists (english, expected, got).
    beam_size=1 decodes greedily, whole batches at once; a wider beam decodes one sentence at a time.
    English words the model has never seen become <unk> here instead of raising. `threads`: PyTorch
    threads while decoding (see `torch_threads`; None keeps the current setting).
    """
    if not isinstance(translator, Translator):
        raise TypeError(f"expected translator to be a Translator, got {type(translator).__name__}")
    pairs = check_pairs("pairs", pairs)
    beam_size, alpha = _check_beam(beam_size, length_penalty, len(translator.tgt_vocab))
    batch_size = check_positive_int("batch_size", batch_size)
    model, src_vocab, tgt_vocab = translator.model, translator.src_vocab, translator.tgt_vocab
    sources = [src_vocab.encode(tokenize_english(en)) or [PAD] for en, _ in pairs]
    with torch_threads(threads):
        outputs = _decode_all(model, sources, beam_size, alpha, batch_size)
    correct, mistakes = 0, []
    for (english, chinese), (ids, _lp) in zip(pairs, outputs):
        got = join_chinese(tgt_vocab.decode(ids))
        expected = join_chinese(tokenize_chinese(chinese))
        if got == expected:
            correct += 1
        else:
            mistakes.append((english, expected, got))
    return {"accuracy": correct / len(pairs), "correct": correct, "total": len(pairs),
            "mean_log_prob": sum(lp for _, lp in outputs) / len(outputs), "mistakes": mistakes}
