"""Training (训练) the capstone translator, and the `Translator` that uses it.

One training step, with teacher forcing: the encoder reads the English ids `src (B, S)`, the decoder
reads the Chinese sentence shifted right, `tgt_in = <bos> y_1 ... y_n`, and at every position the model
predicts the next token, `tgt_out = y_1 ... y_n <eos>`. The loss is the cross-entropy of those
predictions, averaged over the real (non-padding) target tokens.

Two ingredients come from the paper ("Attention Is All You Need", section 5.3 and 5.4):

**Label smoothing (标签平滑), epsilon = 0.1.** The target distribution is not one-hot: each of the V
tokens gets eps / V and the right token gets 1 - eps on top.

    loss = (1 - eps) * CE(one-hot) + eps * CE(uniform)
    nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=0.1)

The model can no longer drive the loss to zero by pushing one logit to infinity; it stays a little
unsure. Perplexity gets worse, accuracy (and BLEU, in the paper) better. `ignore_index=PAD` drops the
padding positions from the average. Because of the smoothing, the lowest reachable loss is not 0 but
the entropy of the smoothed target (`label_smoothing_floor`), about 0.69 nats for the corpus's 44
Chinese tokens: a loss curve that levels off near it has little left to learn.

**Learning-rate warm-up (学习率预热).** Adam(beta1=0.9, beta2=0.98, eps=1e-9) with

    lr(step) = factor * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5)

The rate grows linearly for `warmup` steps, peaks at factor * (d_model * warmup)^-0.5, then decays as
1/sqrt(step). Early on, Adam's running averages rest on a handful of gradients, and a Post-LN stack
has large gradients near its output (Xiong et al. 2020); small first steps keep training stable. The
paper used factor 1 and warmup 4000 for 100 000 steps of a 512-wide model. Our 64-wide model trains
for 400 steps, so its warm-up is 100 steps, and factor 0.2 puts the peak at
0.2 * 64^-0.5 * 100^-0.5 = 0.0025 (factor 1 would give 0.0125, less reliable in our trials; 0.025
never learned the task).

**Small embeddings at the start.** The model multiplies token embeddings by sqrt(d_model) = 8 before
adding the positional encoding. With the usual initialisation, token identity then outweighs position
several times over (two tokens differ by a vector of length about 11, positions 0 and 1 by about 1.5).
Almost all of this corpus can be translated from the bag of words alone; only "you are a nurse"
against "are you a nurse?" needs word order, and a model that starts blind to order takes many epochs to
notice it, translating "I am a student" as 我是学生吗 meanwhile. `train_translator` therefore starts
the embeddings small (normal, std `embed_init_std` = 0.02: 8 * 0.02 = 0.16 per coordinate against the
encoding's 0.7), so position is visible from the first step; the weights grow as they need to.

**No dropout.** The paper drops 10% of activations to keep a large model from memorising 4.5 million
sentence pairs. This corpus comes from a noise-free grammar and the held-out sentences recombine words
the model has seen, so memorising is not the danger here; in our trials dropout 0.1 only made the
statement/question distinction come and go from one epoch to the next. `dropout=0.1`
restores the paper's setting.

`train_translator()` does all of this on the shipped corpus in well under half a minute of CPU time and
returns a `Translator`; `evaluate()` measures exact-match accuracy on held-out pairs.
"""
from __future__ import annotations

import contextlib
import difflib
import io
import math
import time
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Iterator, Sequence

import torch
from torch import nn

from ._files import atomic_write, tensors_checksum, why_not_written
from ._validate import check_number, check_positive_int, check_probability
from .data import (EOS, PAD, BOS, SPECIALS, TranslationDataset, Vocab, build_vocabs, join_chinese, load_corpus,
                   tokenize_chinese, tokenize_english)
from .decoding import beam_search, greedy_decode
from .model import Transformer

__all__ = [
    "DEFAULTS", "Translator", "train_translator", "evaluate",
    "warmup_learning_rate", "label_smoothing_floor", "make_criterion", "make_optimizer", "make_scheduler",
    "StepInfo", "training_steps", "length_bucketed_batches", "small_embeddings", "warm_up_torch", "torch_threads",
]

FILE_FORMAT = "transformer_lesson.translator"
FILE_VERSION = 2   # 2: with a checksum of the weights, configuration and vocabularies

# The largest sizes a translator file may ask for: checked before anything is built, so a damaged or
# hostile file cannot make `load` allocate for minutes. Generous: the course's model uses 64, 4, 2, 128, 64.
FILE_LIMITS = dict(d_model=4096, num_heads=64, num_layers=48, d_ff=16384, max_len=8192, vocab=1_000_000)

# The defaults of `train_translator`, in one place so the notebook, the benchmark and the tests agree.
DEFAULTS = dict(
    d_model=64, num_heads=4, num_layers=2, d_ff=128, dropout=0.0,
    epochs=10, batch_size=64, lr_factor=0.2, warmup=100, label_smoothing=0.1, embed_init_std=0.02,
)


# --------------------------------------------------------------------------------------------------
# The paper's optimiser, schedule and loss.
# --------------------------------------------------------------------------------------------------


def warmup_learning_rate(step: int, d_model: int, warmup: int, factor: float = 1.0) -> float:
    """lr = factor * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5), the paper's schedule.

    Rises linearly for `warmup` steps, peaks at step = warmup, then decays as 1 / sqrt(step).
    Step 0 counts as step 1 (the formula is undefined at 0).
    """
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"expected step to be a non-negative integer, got {step!r}")
    d_model, warmup = check_positive_int("d_model", d_model), check_positive_int("warmup", warmup)
    step = max(step, 1)
    return factor * d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5)


def make_criterion(label_smoothing: float = 0.1) -> nn.CrossEntropyLoss:
    """Cross-entropy over the target vocabulary with label smoothing; padding positions are ignored."""
    return nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=check_probability("label_smoothing",
                                                                                   label_smoothing))


def label_smoothing_floor(vocab_size: int, label_smoothing: float = 0.1) -> float:
    """The lowest loss a model can reach with label smoothing: the entropy of the smoothed target.

    H = -(1 - eps + eps/V) ln(1 - eps + eps/V) - (V - 1) (eps/V) ln(eps/V); 0 without smoothing.
    """
    V, eps = check_positive_int("vocab_size", vocab_size), check_probability("label_smoothing", label_smoothing)
    if eps == 0 or V == 1:
        return 0.0
    right, other = 1 - eps + eps / V, eps / V
    return -right * math.log(right) - (V - 1) * other * math.log(other)


def make_optimizer(model: nn.Module) -> torch.optim.Adam:
    """Adam with the paper's betas (0.9, 0.98) and eps 1e-9; the scheduler sets the rate (base lr 1)."""
    return torch.optim.Adam(model.parameters(), lr=1.0, betas=(0.9, 0.98), eps=1e-9)


def make_scheduler(optimizer, d_model: int, warmup: int, factor: float = 1.0) -> torch.optim.lr_scheduler.LambdaLR:
    """A LambdaLR that multiplies the base rate 1 by `warmup_learning_rate(step + 1, ...)`.

    LambdaLR counts from 0 before the first step, so the first update uses step 1's rate.
    """
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda i: warmup_learning_rate(i + 1, d_model, warmup, factor))


# --------------------------------------------------------------------------------------------------
# Running PyTorch on a small CPU.
# --------------------------------------------------------------------------------------------------


def warm_up_torch() -> None:
    """Pay PyTorch's one-off start-up costs now, so they are not counted as training time.

    The first optimiser a process builds imports `torch._dynamo` (PyTorch's compiler), which takes a
    second or more; building a throwaway Adam here does that once.
    """
    torch.optim.Adam([nn.Parameter(torch.zeros(1))])


@contextlib.contextmanager
def torch_threads(threads: int | None):
    """Run a block with `torch.set_num_threads(threads)`, restoring the previous setting afterwards.

    None leaves PyTorch's setting alone. A model this small gains nothing from a second thread, and when
    other programs keep the cores busy, threads that wait for each other make every step far slower.
    """
    if threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(check_positive_int("threads", threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# --------------------------------------------------------------------------------------------------
# Batches and the training loop.
# --------------------------------------------------------------------------------------------------


def small_embeddings(model: nn.Module, std: float = 0.02) -> None:
    """Re-initialise the source and target embeddings as normal(0, std), so that, scaled by
    sqrt(d_model), they do not drown the positional encoding at the start of training."""
    if isinstance(std, bool) or not isinstance(std, (int, float)) or std <= 0:
        raise ValueError(f"expected embed_init_std to be a positive number such as 0.02, or None, got {std!r}")
    with torch.no_grad():
        for embedding in (model.src_embed, model.tgt_embed):
            nn.init.normal_(embedding.weight, mean=0.0, std=float(std))


def length_bucketed_batches(dataset: TranslationDataset, batch_size: int,
                            generator: torch.Generator | None = None) -> list[torch.Tensor]:
    """One epoch of row indices, `batch_size` at a time, each batch holding sentences of similar length.

    Shuffle, then stably sort by (source length, target length) inside pools of 8 batches, cut the pools
    into batches, and shuffle the batches. Less padding means less wasted computation, while each
    batch still mixes sentence types; the random order keeps the batches different every epoch.
    """
    batch_size = check_positive_int("batch_size", batch_size)
    n = len(dataset)
    order = torch.randperm(n, generator=generator)
    key = dataset.src_lengths * 1000 + dataset.tgt_lengths           # (N,): sort by source, then target
    pool = 8 * batch_size
    batches = []
    for start in range(0, n, pool):
        chunk = order[start:start + pool]
        chunk = chunk[torch.sort(key[chunk], stable=True).indices]
        batches.extend(chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size))
    shuffled = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in shuffled]


@dataclass
class StepInfo:
    """What one optimiser step did: 1-based `step`, 0-based `epoch`, the batch's `loss` and the `lr` used."""
    step: int
    epoch: int
    loss: float
    lr: float
    tokens: int


def training_steps(model: nn.Module, dataset: TranslationDataset, *, epochs: int, batch_size: int,
                   lr_factor: float, warmup: int, label_smoothing: float = 0.1, seed: int = 0,
                   bucket: bool = True) -> Iterator[StepInfo]:
    """Train `model` one step at a time, yielding a `StepInfo` after each step (the caller may stop early).

    `model(src, tgt_in)` must return logits `(B, T, V)`; `model.d_model` sets the schedule's scale.
    The batch order depends only on `seed`, so two models trained with the same arguments see the same
    batches in the same order (the benchmark relies on this).
    """
    epochs, batch_size = check_positive_int("epochs", epochs), check_positive_int("batch_size", batch_size)
    criterion = make_criterion(label_smoothing)
    optimizer = make_optimizer(model)
    scheduler = make_scheduler(optimizer, model.d_model, warmup, lr_factor)
    order = torch.Generator().manual_seed(seed)
    model.train()
    step = 0
    for epoch in range(epochs):
        if bucket:
            index_batches = length_bucketed_batches(dataset, batch_size, order)
        else:
            perm = torch.randperm(len(dataset), generator=order)
            index_batches = [perm[i:i + batch_size] for i in range(0, len(dataset), batch_size)]
        for rows in index_batches:
            src, tgt_in, tgt_out = dataset.batch(rows)                   # (B, S), (B, T), (B, T)
            logits = model(src, tgt_in)                                  # (B, T, V)
            loss = criterion(logits.reshape(-1, logits.size(-1)), tgt_out.reshape(-1))  # (B*T, V) vs (B*T,)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            scheduler.step()
            step += 1
            yield StepInfo(step, epoch, loss.item(), lr, int((tgt_out != PAD).sum()))


# --------------------------------------------------------------------------------------------------
# The translator.
# --------------------------------------------------------------------------------------------------


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

    def __init__(self, model: Transformer, src_vocab: Vocab, tgt_vocab: Vocab, config: dict | None = None,
                 history: dict | None = None):
        if not isinstance(model, Transformer):
            raise TypeError(f"expected model to be a transformer_lesson.Transformer, got {type(model).__name__}")
        for name, vocab in (("src_vocab", src_vocab), ("tgt_vocab", tgt_vocab)):
            if not isinstance(vocab, Vocab):
                raise TypeError(f"expected {name} to be a transformer_lesson.data.Vocab, got {type(vocab).__name__}")
        if model.src_embed.num_embeddings != len(src_vocab) or model.tgt_embed.num_embeddings != len(tgt_vocab):
            raise ValueError(f"expected vocabularies of the model's sizes ({model.src_embed.num_embeddings} English, "
                             f"{model.tgt_embed.num_embeddings} Chinese), got {len(src_vocab)} and {len(tgt_vocab)}")
        self.model = model.eval()
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        self.config = dict(config or {})
        self.history = dict(history or {})

    def __repr__(self) -> str:
        c = self.config
        size = ", ".join(f"{k}={c[k]}" for k in ("d_model", "num_heads", "num_layers", "d_ff") if k in c)
        return (f"Translator({len(self.src_vocab)} English / {len(self.tgt_vocab)} Chinese tokens"
                f"{', ' + size if size else ''})")

    # text -> ids ----------------------------------------------------------------------------------
    def source_words(self, sentence: str) -> list[str]:
        """The English words the model reads: lower case, no punctuation. Unknown words raise ValueError."""
        words = tokenize_english(sentence)
        if not words:
            raise ValueError(f"expected an English sentence with at least one word, got {sentence!r}")
        unknown = self.src_vocab.unknown(words)
        if unknown:
            raise ValueError(self._unknown_message(unknown))
        limit = self.model.positional.max_len
        if len(words) > limit:
            raise ValueError(f"expected a sentence of at most {limit} words (this translator reads at most "
                             f"{limit} positions), got {len(words)} words; split it into shorter sentences")
        return words

    def _unknown_message(self, unknown: list[str]) -> str:
        known = [t for t in self.src_vocab.tokens[4:]]
        shown = []
        for word in unknown:
            close = difflib.get_close_matches(word, known, n=1)
            shown.append(f"{word!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        examples = ", ".join(repr(w) for w in known[:10])
        return (f"unknown English word(s): {', '.join(shown)}; the model knows {len(known)} words, "
                f"e.g. {examples}{', ...' if len(known) > 10 else ''}")

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
        weights = self.model.state_dict()
        src_vocab, tgt_vocab = self.src_vocab.to_dict(), self.tgt_vocab.to_dict()
        return {"format": FILE_FORMAT, "version": FILE_VERSION, "config": dict(self.config),
                "state_dict": weights, "src_vocab": src_vocab, "tgt_vocab": tgt_vocab,
                "history": dict(self.history),
                "checksum": tensors_checksum(weights, [dict(self.config), src_vocab, tgt_vocab])}

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
        config = dict(state["config"])
        model = _build_model(len(src_vocab), len(tgt_vocab), **_model_kwargs(config))
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
    """Raise ValueError unless the stored sizes are within FILE_LIMITS and agree with the stored weights,
    the checksum matches and every weight is finite. Nothing is built before this passes."""
    weights, config = state.get("state_dict"), state.get("config")
    if not isinstance(weights, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                for k, v in weights.items()):
        raise ValueError("expected 'state_dict' to map names to tensors")
    if not isinstance(config, dict):
        raise ValueError("expected 'config' to be a dict")
    for key in _MODEL_KEYS:
        if key == "dropout":
            check_probability("dropout", config.get("dropout", 0.0))
        elif key in config or key != "max_len":
            check_positive_int(key, config.get(key), maximum=FILE_LIMITS[key], because="(a limit of the file format)")
    for name in ("src_vocab", "tgt_vocab"):
        tokens = (state.get(name) or {}).get("tokens") if isinstance(state.get(name), dict) else None
        if not isinstance(tokens, list) or len(tokens) > FILE_LIMITS["vocab"]:
            raise ValueError(f"expected '{name}' to hold a list of at most {FILE_LIMITS['vocab']:,} tokens")
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


_MODEL_KEYS = ("d_model", "num_heads", "num_layers", "d_ff", "dropout", "max_len")


def _model_kwargs(config: dict) -> dict:
    return {k: config[k] for k in _MODEL_KEYS if k in config}


def _build_model(src_vocab_size: int, tgt_vocab_size: int, d_model: int, num_heads: int, num_layers: int,
                 d_ff: int, dropout: float, max_len: int = 64) -> Transformer:
    """The course's Transformer (Post-LN, as in the paper), the same number of layers on both sides."""
    return Transformer(src_vocab_size, tgt_vocab_size, d_model=d_model, num_heads=num_heads,
                       num_encoder_layers=num_layers, num_decoder_layers=num_layers, d_ff=d_ff,
                       dropout=dropout, max_len=max_len, pad_id=PAD)


# --------------------------------------------------------------------------------------------------
# Evaluation.
# --------------------------------------------------------------------------------------------------


def _check_pairs(name: str, pairs) -> list[tuple[str, str]]:
    if isinstance(pairs, (str, PathLike)) or not isinstance(pairs, (list, tuple)):
        raise TypeError(f"expected {name} to be a list of (english, chinese) pairs, got {type(pairs).__name__}; "
                        "read a TSV file with transformer_lesson.data.load_pairs(path)")
    if not pairs:
        raise ValueError(f"expected {name} to hold at least one (english, chinese) pair, got none")
    for i, pair in enumerate(pairs):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(s, str) for s in pair)):
            raise TypeError(f"expected {name}[{i}] to be an (english, chinese) pair of str, got {pair!r}")
    return list(pairs)


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
    pairs = _check_pairs("pairs", pairs)
    beam_size, alpha = _check_beam(beam_size, length_penalty, len(translator.tgt_vocab))
    batch_size = check_positive_int("batch_size", batch_size)
    model, src_vocab, tgt_vocab = translator.model, translator.src_vocab, translator.tgt_vocab
    sources = [src_vocab.encode(tokenize_english(en)) or [PAD] for en, _ in pairs]
    with torch_threads(threads):
        outputs = _decode_all(model, sources, beam_size, alpha, batch_size)
    correct, mistakes = 0, []
    for (english, chinese), (ids, _) in zip(pairs, outputs):
        got = join_chinese(tgt_vocab.decode(ids))
        expected = join_chinese(tokenize_chinese(chinese))
        if got == expected:
            correct += 1
        else:
            mistakes.append((english, expected, got))
    return {"accuracy": correct / len(pairs), "correct": correct, "total": len(pairs),
            "mean_log_prob": sum(lp for _, lp in outputs) / len(outputs), "mistakes": mistakes}


# --------------------------------------------------------------------------------------------------
# Training a translator.
# --------------------------------------------------------------------------------------------------


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc="training", unit="step", leave=True)


def train_translator(seed: int = 0, progress: bool = True, pairs: Sequence[tuple[str, str]] | None = None,
                     test_pairs: Sequence[tuple[str, str]] | None = None, *,
                     d_model: int = DEFAULTS["d_model"], num_heads: int = DEFAULTS["num_heads"],
                     num_layers: int = DEFAULTS["num_layers"], d_ff: int = DEFAULTS["d_ff"],
                     dropout: float = DEFAULTS["dropout"], epochs: int = DEFAULTS["epochs"],
                     batch_size: int = DEFAULTS["batch_size"], lr_factor: float = DEFAULTS["lr_factor"],
                     warmup: int = DEFAULTS["warmup"], label_smoothing: float = DEFAULTS["label_smoothing"],
                     embed_init_std: float | None = DEFAULTS["embed_init_std"], bucket: bool = True,
                     time_budget: float | None = None, threads: int | None = 1) -> Translator:
    """Train an English→Chinese Transformer built from the course's own modules; return a `Translator`.

    `pairs`: training pairs (english, chinese); by default the shipped corpus, `load_corpus("train")`,
    and then `test_pairs` defaults to `load_corpus("test")`. With test pairs, the held-out greedy
    exact-match result is stored in `translator.history["test"]` (see `evaluate`).

    The model: `num_layers` encoder and `num_layers` decoder layers (Post-LN, as in the paper), width
    `d_model`, `num_heads` heads, feed-forward width `d_ff`, `dropout`. Training: `epochs` passes over the
    pairs in batches of `batch_size` sentences of similar length, Adam(0.9, 0.98, eps 1e-9), the warm-up
    schedule lr = lr_factor * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5), cross-entropy with
    label smoothing `label_smoothing` (the module docstring explains both). Embeddings start as
    normal(0, `embed_init_std`) (None keeps the model's Xavier initialisation; see the module docstring).

    Deterministic for a given `seed` (and thread count): the seed fixes the initial weights, the batch
    order and dropout, and the global random state is restored afterwards. `progress` shows a tqdm
    bar with the loss. `time_budget` (seconds) stops training early once it is spent.

    `threads`: PyTorch threads while training (restored afterwards; None keeps the current setting).
    One thread is as fast as two for a model this small on a quiet machine, and many times faster when
    other programs compete for the cores (on a busy 2-core machine: 16 s against 274 s).
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"expected seed to be an int, got {seed!r}")
    if pairs is None:
        pairs = load_corpus("train")
        if test_pairs is None:
            test_pairs = load_corpus("test")
    pairs = _check_pairs("pairs", pairs)
    if test_pairs is not None:
        test_pairs = _check_pairs("test_pairs", test_pairs)
    if time_budget is not None and (isinstance(time_budget, bool) or not isinstance(time_budget, (int, float))
                                    or time_budget <= 0):
        raise ValueError(f"expected time_budget to be a positive number of seconds or None, got {time_budget!r}")
    epochs, batch_size = check_positive_int("epochs", epochs), check_positive_int("batch_size", batch_size)
    warmup = check_positive_int("warmup", warmup)

    src_vocab, tgt_vocab = build_vocabs(pairs)
    dataset = TranslationDataset(pairs, src_vocab, tgt_vocab)
    longest = max(dataset.src.size(1), dataset.tgt_in.size(1))
    config = dict(d_model=d_model, num_heads=num_heads, num_layers=num_layers, d_ff=d_ff, dropout=dropout,
                  max_len=max(64, 2 * longest + 16), seed=seed, epochs=epochs, batch_size=batch_size,
                  lr_factor=lr_factor, warmup=warmup, label_smoothing=label_smoothing,
                  embed_init_std=embed_init_std, bucket=bucket, threads=threads, train_pairs=len(pairs))
    history: dict = {"loss": [], "lr": [], "epoch_loss": [], "epoch_seconds": []}

    with torch.random.fork_rng(devices=[]), torch_threads(threads):  # seed here, leave the caller's RNG alone
        torch.manual_seed(seed)
        model = _build_model(len(src_vocab), len(tgt_vocab), **_model_kwargs(config))
        if embed_init_std is not None:
            small_embeddings(model, embed_init_std)
        warm_up_torch()
        steps_per_epoch = math.ceil(len(dataset) / batch_size)
        bar = _progress_bar(epochs * steps_per_epoch, progress)
        start, cpu_start = time.perf_counter(), time.process_time()
        epoch_sum, epoch_tokens, current_epoch, stopped = 0.0, 0, 0, False

        def close_epoch():
            history["epoch_loss"].append(epoch_sum / max(epoch_tokens, 1))
            history["epoch_seconds"].append(time.perf_counter() - start)

        try:
            for info in training_steps(model, dataset, epochs=epochs, batch_size=batch_size, lr_factor=lr_factor,
                                       warmup=warmup, label_smoothing=label_smoothing, seed=seed, bucket=bucket):
                if info.epoch != current_epoch:
                    close_epoch()
                    current_epoch, epoch_sum, epoch_tokens = info.epoch, 0.0, 0
                history["loss"].append(info.loss)
                history["lr"].append(info.lr)
                epoch_sum += info.loss * info.tokens
                epoch_tokens += info.tokens
                if bar is not None:
                    bar.update(1)
                    if info.step % 10 == 0 or info.step == 1:
                        bar.set_postfix(epoch=info.epoch + 1, loss=f"{info.loss:.3f}", lr=f"{info.lr:.2e}",
                                        refresh=False)
                if time_budget is not None and time.perf_counter() - start > time_budget:
                    stopped = True
                    break
            close_epoch()
            history["seconds"] = time.perf_counter() - start
            history["cpu_seconds"] = time.process_time() - cpu_start  # all threads together
            history["steps"] = len(history["loss"])
            history["stopped_early"] = stopped
            if test_pairs is not None:
                result = evaluate(Translator(model, src_vocab, tgt_vocab), test_pairs, threads=threads)
                history["test"] = {k: v for k, v in result.items() if k != "mistakes"}
                history["test"]["mistakes"] = [list(m) for m in result["mistakes"][:20]]
            if bar is not None:
                postfix = {"loss": f"{history['loss'][-1]:.3f}", "time": f"{history['seconds']:.1f}s"}
                if "test" in history:
                    postfix["test_acc"] = f"{history['test']['accuracy']:.1%}"
                bar.set_postfix(postfix, refresh=True)
        finally:
            if bar is not None:
                bar.close()
    return Translator(model, src_vocab, tgt_vocab, config, history)
