"""Training (训练) the capstone translator: `train_translator` returns a `Translator` (translator.py).

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

`train_translator()` does all of this on the shipped corpus in about 10-15 seconds on an idle laptop CPU and
returns a `Translator`; `evaluate()` measures exact-match accuracy on held-out pairs.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Iterator, Sequence

import torch
from torch import nn

from .._validate import check_number, check_positive_int, check_probability
from ..i18n import translator
from ..runtime import torch_threads
from .config import TranslatorConfig
from .data import PAD, TranslationDataset, build_vocabs, check_pairs, load_corpus
from .translator import Translator, evaluate

__all__ = [
    "train_translator", "warmup_learning_rate", "label_smoothing_floor", "make_criterion", "make_optimizer",
    "make_scheduler", "StepInfo", "train_step", "training_steps", "length_bucketed_batches", "small_embeddings",
    "warm_up_torch",
]

_ = translator("capstone")


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


def warm_up_torch() -> None:
    """Pay PyTorch's one-off start-up costs now, so they are not counted as training time.

    The first optimiser a process builds imports `torch._dynamo` (PyTorch's compiler), which takes a
    second or more; building a throwaway Adam here does that once.
    """
    torch.optim.Adam([nn.Parameter(torch.zeros(1))])


# --------------------------------------------------------------------------------------------------
# Batches and the training loop.
# --------------------------------------------------------------------------------------------------


def small_embeddings(model: nn.Module, std: float = 0.02) -> None:
    """Re-initialise the source and target embeddings as normal(0, std), so that, scaled by
    sqrt(d_model), they do not drown the positional encoding at the start of training."""
    std = check_number("embed_init_std", std, positive=True, example="0.02")
    with torch.no_grad():
        for embedding in (model.src_embed, model.tgt_embed):
            nn.init.normal_(embedding.weight, mean=0.0, std=std)


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


def train_step(model: nn.Module, src: torch.Tensor, tgt_in: torch.Tensor, tgt_out: torch.Tensor, criterion,
               optimizer, scheduler) -> tuple[float, float]:
    """One optimiser step with teacher forcing on one batch; returns (the batch's loss, the learning rate used).

    The decoder reads `tgt_in` = <bos> y_1 ... y_n and is scored at every position on the next token,
    `tgt_out` = y_1 ... y_n <eos>; padding positions are left out of the loss by `criterion`."""
    logits = model(src, tgt_in)                                                  # (B, S), (B, T) -> (B, T, V)
    loss = criterion(logits.reshape(-1, logits.size(-1)), tgt_out.reshape(-1))  # (B*T, V) against (B*T,)
    optimizer.zero_grad(set_to_none=True)                                        # forget the last batch's gradients
    loss.backward()                                                              # gradients of this batch's loss
    lr = optimizer.param_groups[0]["lr"]                                         # the rate this step uses
    optimizer.step()                                                             # Adam moves every weight
    scheduler.step()                                                             # the next step's warm-up rate
    return loss.item(), lr


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
            loss, lr = train_step(model, src, tgt_in, tgt_out, criterion, optimizer, scheduler)
            step += 1
            yield StepInfo(step, epoch, loss, lr, int((tgt_out != PAD).sum()))


# --------------------------------------------------------------------------------------------------
# Training a translator.
# --------------------------------------------------------------------------------------------------


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm
    kwargs = dict(total=total, desc=_("training"), unit=_("step"), leave=True)
    try:
        from tqdm.notebook import tqdm as notebook_tqdm
    except ImportError:  # no ipywidgets: tqdm.auto already chose the text bar
        return tqdm(**kwargs)
    if not issubclass(tqdm, notebook_tqdm):
        return tqdm(**kwargs)
    from ..widget_compat import view_bundle

    class StoredBar(notebook_tqdm):
        """A notebook bar whose stored output ends as the bar's final state.

        A widget's text fallback is fixed when it is displayed ("0/400"), and that text is what a
        static view (GitHub, nbviewer, the website, VS Code) shows. The bar is displayed with a
        display id and its output is updated once more on close, so the saved notebook holds
        "400/400" next to the live widget.
        The bar is published as its raw bundle (`widget_compat.view_bundle`): ipywidgets 7 (Colab's)
        displays a widget from `_ipython_display_`, which drops the display id, so an update would
        add a second bar instead of replacing the first.
        """

        def __init__(self, **kw):
            from IPython.display import display
            super().__init__(display=False, **kw)
            self._handle = display(view_bundle(self.container), raw=True, display_id=True)
            self.displayed = True

        def close(self):
            super().close()
            if getattr(self, "_handle", None) is not None:
                self._handle.update(view_bundle(self.container), raw=True)
                self._handle = None

    return StoredBar(**kwargs)


def train_translator(seed: int = 0, progress: bool = True, pairs: Sequence[tuple[str, str]] | None = None,
                     test_pairs: Sequence[tuple[str, str]] | None = None, *, config: TranslatorConfig | None = None,
                     time_budget: float | None = None, threads: int | None = 1, **changes) -> Translator:
    """Train an English→Chinese Transformer built from the course's own modules; return a `Translator`.

    `pairs`: training pairs (english, chinese); by default the shipped corpus, `load_corpus("train")`,
    and then `test_pairs` defaults to `load_corpus("test")`. With test pairs, the held-out greedy
    exact-match result is stored in `translator.history["test"]` (see `evaluate`).

    What is trained and how: `config` (a `TranslatorConfig`, by default `DEFAULTS`), with `seed` and any
    other setting changed by keyword, e.g. `train_translator(seed=1, epochs=2)`. The model has
    `num_layers` encoder and decoder layers (Post-LN, as in the paper); training runs `epochs` passes in
    batches of similar-length sentences, Adam(0.9, 0.98, eps 1e-9), the warm-up schedule and label
    smoothing (the module docstring explains both).

    Deterministic for a given configuration on a given machine (another CPU rounds differently): the
    seed fixes the initial weights, the batch order and dropout, and the global random state is
    restored afterwards. `progress` shows a tqdm bar with the loss. `time_budget` (seconds) stops
    training early once it is spent.

    `threads`: PyTorch threads while training (restored afterwards; None keeps the current setting).
    One thread is as fast as two for a model this small on a quiet machine, and many times faster when
    other programs compete for the cores (on a busy 2-core machine: 16 s against 274 s).
    """
    if config is None:
        config = TranslatorConfig()
    if not isinstance(config, TranslatorConfig):
        raise TypeError(f"expected config to be a TranslatorConfig, got {type(config).__name__}")
    config = config.replace(seed=seed, **changes)
    if pairs is None:
        pairs = load_corpus("train")
        if test_pairs is None:
            test_pairs = load_corpus("test")
    pairs = check_pairs("pairs", pairs)
    if test_pairs is not None:
        test_pairs = check_pairs("test_pairs", test_pairs)
    if time_budget is not None:
        time_budget = check_number("time_budget", time_budget, positive=True, example="30 (seconds), or None")

    src_vocab, tgt_vocab = build_vocabs(pairs)
    dataset = TranslationDataset(pairs, src_vocab, tgt_vocab)
    longest = max(dataset.src.size(1), dataset.tgt_in.size(1))
    config = config.replace(max_len=max(config.max_len, 2 * longest + 16))   # room to read and to generate
    history: dict = {"loss": [], "lr": [], "epoch_loss": [], "epoch_seconds": [], "train_pairs": len(pairs)}

    with torch.random.fork_rng(devices=[]), torch_threads(threads):  # seed here, leave the caller's RNG alone
        torch.manual_seed(config.seed)
        model = config.build_model(len(src_vocab), len(tgt_vocab))
        if config.embed_init_std is not None:
            small_embeddings(model, config.embed_init_std)
        warm_up_torch()
        steps_per_epoch = math.ceil(len(dataset) / config.batch_size)
        bar = _progress_bar(config.epochs * steps_per_epoch, progress)
        start, cpu_start = time.perf_counter(), time.process_time()
        epoch_sum, epoch_tokens, current_epoch, stopped = 0.0, 0, 0, False

        def close_epoch():
            history["epoch_loss"].append(epoch_sum / max(epoch_tokens, 1))
            history["epoch_seconds"].append(time.perf_counter() - start)

        try:
            for info in training_steps(model, dataset, epochs=config.epochs, batch_size=config.batch_size,
                                       lr_factor=config.lr_factor, warmup=config.warmup,
                                       label_smoothing=config.label_smoothing, seed=config.seed,
                                       bucket=config.bucket):
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
                        bar.set_postfix({_("epoch"): info.epoch + 1, _("loss"): f"{info.loss:.3f}",
                                         _("lr"): f"{info.lr:.2e}"}, refresh=False)
                if time_budget is not None and time.perf_counter() - start > time_budget:
                    stopped = True
                    break
            close_epoch()
            history["seconds"] = time.perf_counter() - start
            history["cpu_seconds"] = time.process_time() - cpu_start  # all threads together
            history["steps"] = len(history["loss"])
            history["stopped_early"] = stopped
            if test_pairs is not None:
                result = evaluate(Translator(model, src_vocab, tgt_vocab, config), test_pairs, threads=threads)
                history["test"] = {k: v for k, v in result.items() if k != "mistakes"}
                history["test"]["mistakes"] = [list(m) for m in result["mistakes"][:20]]
            if bar is not None:
                postfix = {_("loss"): f"{history['loss'][-1]:.3f}", _("time"): f"{history['seconds']:.1f}s"}
                if "test" in history:
                    postfix[_("test_acc")] = f"{history['test']['accuracy']:.1%}"
                bar.set_postfix(postfix, refresh=True)
        finally:
            if bar is not None:
                bar.close()
    return Translator(model, src_vocab, tgt_vocab, config, history)
