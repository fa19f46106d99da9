"""Lesson 07 checkers: the label-smoothed loss (标签平滑), greedy decoding (贪心解码) and beam search (束搜索).

The decoding checkers drive the learner's loop with toy language models whose best answer is known, and
with a small package Transformer.
"""
from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F

from ..decoding import greedy_decode
from ..i18n import N_, translator
from ._core import Check, StepLimit, checker, join_hints, randn, sandbox, shape_str
from .lesson07_toy_models import ToyLM, beam_cases, tiny_transformer_case

_ = translator("lesson07")


def _smoothed_ce(logits, target, eps, pad_id, *, spread: str = "all", ignore: str = "ok", reduce: str = "mean",
                 use_probs: bool = False, kl: bool = False, dim: int = -1) -> torch.Tensor:
    """Reference label-smoothed cross-entropy (float64) and its known-wrong variants."""
    logits = logits.double()
    N, V = logits.shape
    log_p = torch.softmax(logits, dim=dim) if use_probs else torch.log_softmax(logits, dim=dim)
    one_hot = F.one_hot(target, V).double()
    if spread == "all":                       # PyTorch's label_smoothing: eps/V to every class, target included
        q = (1 - eps) * one_hot + eps / V
    elif spread == "others":                  # eps/(V-1) to the other classes only
        q = (1 - eps) * one_hot + eps / (V - 1) * (1 - one_hot)
    else:                                     # The Annotated Transformer: eps/(V-2), nothing on the pad class
        q = (1 - eps) * one_hot + eps / (V - 2) * (1 - one_hot)
        q[:, pad_id] = 0.0
    loss = -(q * log_p).sum(-1)               # (N,)
    if kl:
        loss = loss + (q * torch.log(q.clamp_min(1e-300))).sum(-1)
    real = (target != pad_id).double()
    if ignore == "ok":
        loss = loss * real
        total = loss.sum()
        return total if reduce == "sum" else total / real.sum()
    if ignore == "divide_by_all":
        return (loss * real).sum() / N
    return loss.sum() if reduce == "sum" else loss.mean()     # pads counted like real tokens


@checker
def check_label_smoothing_loss(fn) -> None:
    """Check `fn(logits, target, smoothing, pad_id) -> scalar`.

    logits `(N, V)`, target `(N,)` token ids; the smoothed target gives 1 - smoothing to the right token
    plus smoothing / V to every token; positions whose target is pad_id are left out; the mean is over
    the other positions. Equal to `F.cross_entropy(logits, target, ignore_index=pad_id, label_smoothing=smoothing)`.
    """
    c = Check(_("标签平滑 (label smoothing) cross-entropy"))
    c.callable(fn, _("your loss function"), "check_label_smoothing_loss(label_smoothed_cross_entropy)")
    N, V, pad = 6, 7, 0
    logits = randn(N, V, seed=81, scale=2.0)
    target = torch.tensor([3, 5, 0, 1, 6, 0])
    for eps in (0.1, 0.3, 0.0):
        on = _("logits {logits_shape}, target {target} with pad_id={pad}, smoothing={eps}",
               logits_shape=shape_str(logits.shape), target=target.tolist(), pad=pad, eps=eps)
        loss = c.call(fn, logits, target, eps, pad, on=on)
        if isinstance(loss, numbers.Real) and not isinstance(loss, bool):
            loss = torch.tensor(float(loss))
        loss = c.tensor(loss, _("the loss (a single number)"), on, (), "()", shape_hints={
            (N,): _("损失 (loss): you returned one loss per position; average them over the non-pad positions."),
        })
        reference = F.cross_entropy(logits.double(), target, ignore_index=pad, label_smoothing=eps)

        def v(**kw):
            return lambda: _smoothed_ce(logits, target, eps, pad, **kw)
        c.numbers(loss, reference, _("loss"), on, [
            (_("标签平滑 (label smoothing) is missing: this is plain cross-entropy; mix the one-hot target with the "
               "uniform distribution: (1 - smoothing) * one_hot + smoothing / V."), lambda: F.cross_entropy(
                 logits.double(), target, ignore_index=pad)),
            (_("填充 (padding) is not ignored: positions whose target is pad_id must not count — leave them out of "
               "the sum and of the count you divide by."), v(ignore="none")),
            (_("填充 (padding): you left the pad positions out of the sum but still divided by all N positions; "
               "divide by the number of non-pad positions."), v(ignore="divide_by_all")),
            (_("损失 (loss): you summed it; average it over the non-pad positions."), v(reduce="sum")),
            (_("标签平滑 (label smoothing): you gave smoothing / (V - 1) to the other tokens only; here (as in "
               "F.cross_entropy(label_smoothing=...)) smoothing / V goes to every token, the right one included: "
               "(1 - smoothing) * one_hot + smoothing / V."), v(spread="others")),
            (_("标签平滑 (label smoothing): you left the pad token out of the smoothing (smoothing / (V - 2), as The "
               "Annotated Transformer does); here smoothing / V goes to every token: "
               "(1 - smoothing) * one_hot + smoothing / V."), v(spread="annotated")),
            (_("交叉熵 (cross-entropy): you used probabilities (softmax); it needs log-probabilities: "
               "log_softmax(logits, dim=-1)."),
             v(use_probs=True)),
            (_("交叉熵 (cross-entropy): you computed KL(q || p), which differs from the cross-entropy by the entropy "
               "of the smoothed target q (a constant, so the gradients agree); return the cross-entropy "
               "-(q * log_p).sum(-1), averaged."),
             v(kl=True)),
            (_("交叉熵 (cross-entropy): log_softmax over the wrong axis; normalise over the vocabulary, dim=-1."),
             v(dim=0)),
        ], fallback=_("q = (1 - smoothing) * one_hot(target, V) + smoothing / V; "
                      "loss_n = -(q * log_softmax(logits)).sum(-1); average over positions whose target is not "
                      "pad_id."), atol=1e-5, rtol=1e-4)
    c.passed()


def _greedy(step_fn, bos: int, eos: int, max_len: int, *, variant: str = "ok") -> list[int]:
    """Reference greedy decoding (tokens without <bos>/<eos>) and its known-wrong variants."""
    prefix = [bos]
    steps = max_len + {"one_short": -1, "one_long": 1}.get(variant, 0)
    for _step in range(steps):
        log_p = step_fn([bos] if variant == "no_feedback" else list(prefix))
        token = int(log_p.argmin() if variant == "argmin" else log_p.argmax())
        prefix.append(token)
        if token == eos and variant != "no_stop":
            break
    out = prefix if variant == "with_bos" else prefix[1:]
    if variant != "with_eos" and variant != "no_stop" and out and out[-1] == eos:
        out = out[:-1]
    return out


def _tokens_of(c: Check, result, on: str) -> list[int]:
    if isinstance(result, torch.Tensor):
        if result.dim() != 1 or result.is_floating_point():
            c.fail(_("expected a list of token ids, got a tensor of shape {shape} and dtype {dtype} on {on}",
                     shape=shape_str(result.shape), dtype=result.dtype, on=on))
        return [int(t) for t in result.tolist()]
    if not isinstance(result, (list, tuple)):
        c.fail(_("expected a list of token ids, got {kind} on {on}", kind=type(result).__name__, on=on))
    tokens = []
    for t in result:
        if isinstance(t, torch.Tensor) and t.numel() == 1:
            t = t.item()
        if isinstance(t, bool) or not isinstance(t, numbers.Integral):
            c.fail(_("expected a list of token ids (ints), found {token!r} ({kind}) on {on}",
                     token=t, kind=type(t).__name__, on=on))
        tokens.append(int(t))
    return tokens


def _check_prefixes(c: Check, lm: ToyLM, on: str) -> None:
    if not lm.calls:
        c.fail(_("your function never called step_fn on {on}; call step_fn(prefix) to get the next token's "
                 "log-probabilities.", on=on))
    for call in lm.calls:
        if call[:1] != [lm.bos]:
            c.fail(_("step_fn was called with the prefix {prefix} on {on}; give it the whole prefix, starting "
                     "with <bos> (id {bos}): the model needs to see <bos> first.", prefix=call, on=on, bos=lm.bos))


_GREEDY_HINTS = [
    ("with_bos", N_("贪心解码 (greedy decoding): you returned <bos> at the start; return only the generated tokens.")),
    ("with_eos", N_("贪心解码 (greedy decoding): you returned <eos> at the end; stop at <eos> and leave it out.")),
    ("no_stop", N_("贪心解码 (greedy decoding) does not stop at <eos>: once the chosen token is eos_id, stop.")),
    ("argmin", N_("贪心解码 (greedy decoding): you picked the least likely token; take the most likely, argmax().")),
    ("no_feedback", N_("贪心解码 (greedy decoding): every step sees the same prefix; append each chosen token to "
                       "the prefix before the next call of step_fn.")),
    ("one_short", N_("贪心解码 (greedy decoding): one token too few — generate up to max_len tokens (an <eos> "
                     "counts as one of them).")),
    ("one_long", N_("贪心解码 (greedy decoding): one token too many — generate at most max_len tokens.")),
]


@checker
def check_greedy_decode(fn) -> None:
    """Check `fn(step_fn, bos_id, eos_id, max_len) -> list[int]`.

    `step_fn(prefix)` takes the tokens so far (a list starting with bos_id) and returns the next token's
    log-probabilities, a `(V,)` tensor. Greedy decoding appends the most likely token until it picks
    eos_id or has generated max_len tokens; it returns the tokens without <bos> and <eos>.
    """
    c = Check(_("贪心解码 (greedy decoding)"))
    c.callable(fn, _("your greedy-decoding function"), "check_greedy_decode(greedy_decode)")
    bos, eos = 1, 2
    with sandbox():
        cases = [
            (_("a toy model that ends with <eos> after a few tokens (max_len=10)"),
             lambda: ToyLM(7, bos, eos, seed=13, eos_boost=1.0, eos_offset=-3.0), 10),
            (_("a toy model that never picks <eos> (max_len=6)"),
             lambda: ToyLM(7, bos, eos, seed=6, eos_offset=-50.0), 6),
        ]
        for on, make, max_len in cases:
            lm = make()
            limited = StepLimit(lm, max_calls=4 * max_len + 20, max_prefix=max_len + 5, max_len=max_len)
            result = _tokens_of(c, c.call(fn, limited, bos, eos, max_len, on=on), on)
            _check_prefixes(c, lm, on)
            expected = _greedy(make(), bos, eos, max_len)
            if result != expected:
                hint = join_hints([_(h) for v, h in _GREEDY_HINTS
                                   if _greedy(make(), bos, eos, max_len, variant=v) == result])
                wrong = _("wrong tokens on {on}: got {result}, expected {expected}.", on=on, result=result,
                          expected=expected)
                c.fail(wrong + (_("\nLikely mistake: {hint}", hint=hint) if hint else
                                _(" At each step: log_p = step_fn(prefix); token = argmax; append it; stop at "
                                  "eos_id.")))

        model, src, step_fn = tiny_transformer_case()
        max_len = 8
        on = _("a small (untrained) transformer_lesson.Transformer, source {source}, max_len={max_len}",
               source=src[0].tolist(), max_len=max_len)
        limited = StepLimit(step_fn, max_calls=4 * max_len + 20, max_prefix=max_len + 5, max_len=max_len)
        result = _tokens_of(c, c.call(fn, limited, bos, eos, max_len, on=on), on)
        expected = greedy_decode(model, src, max_len=max_len, bos_id=bos, eos_id=eos)[0].tokens
        if result != expected:
            c.fail(_("on {on} you got {result}, but transformer_lesson.greedy_decode gives {expected}.",
                     on=on, result=result, expected=expected))
    c.passed()


def _penalty(length: int, alpha: float) -> float:
    return ((5.0 + length) / 6.0) ** alpha


def _beam(step_fn, bos: int, eos: int, max_len: int, beam_size: int, alpha: float, *,
          variant: str = "ok") -> list[int]:
    """Reference beam search (the exercise's algorithm) and its known-wrong variants.

    Each step extends every live hypothesis by every token and keeps the beam_size best extensions by
    total log-probability; an extension ending in <eos> is finished and leaves the beam. The search
    ends when no hypothesis is live or max_len tokens were generated (live ones then count, unfinished).
    Best: the highest log P / ((5 + |Y|) / 6) ** alpha, |Y| = generated tokens including <eos>.
    """
    if variant == "greedy":
        return _greedy(step_fn, bos, eos, max_len)
    live: list[tuple[list[int], float]] = [([bos], 0.0)]
    finished: list[tuple[list[int], float, int]] = []
    for step in range(1, max_len + 1):
        candidates = []
        for seq, lp in live:
            log_p = step_fn(list(seq)).double()
            for t in range(log_p.numel()):
                candidates.append((seq + [t], lp + float(log_p[t])))
        candidates.sort(key=lambda item: item[1], reverse=True)
        live = []
        for seq, lp in candidates[:beam_size]:
            if seq[-1] == eos and variant != "continue_after_eos":
                finished.append((seq, lp, step))
            else:
                live.append((seq, lp))
        if variant == "first_finished" and finished:
            break
        if not live:
            break
    else:
        if variant != "no_fallback":
            finished += [(seq, lp, max_len) for seq, lp in live]
    if not finished:
        return []
    if variant == "first_finished":
        best = finished[0]
    else:
        def score(item):
            _seq, lp, length = item
            if variant == "no_penalty":
                return lp
            if variant == "length_norm":
                return lp / length
            if variant == "penalty_multiplied":
                return lp * _penalty(length, alpha)
            return lp / _penalty(length, alpha)
        best = max(finished, key=score)
    seq = best[0]
    if variant == "with_bos":
        return seq
    seq = seq[1:]
    if variant != "with_eos" and seq and seq[-1] == eos:
        seq = seq[:-1]
    return seq


_BEAM_HINTS = [
    ("greedy", N_("束搜索 (beam search) returned what greedy decoding returns: keep the beam_size best extensions "
                  "at each step, ranked by their total log-probability (the sum over the whole prefix), not just "
                  "the best one.")),
    ("no_penalty", N_("束搜索 (beam search) ignores the length penalty: rank finished sentences by "
                      "log P / ((5 + |Y|) / 6) ** alpha.")),
    ("length_norm", N_("束搜索 (beam search): you divided by the length |Y|; the GNMT length penalty is "
                       "((5 + |Y|) / 6) ** alpha (with alpha=0 it is 1: no normalisation at all).")),
    ("penalty_multiplied", N_("束搜索 (beam search): you multiplied by the length penalty; divide: "
                              "log P / ((5 + |Y|) / 6) ** alpha.")),
    ("first_finished", N_("束搜索 (beam search) returned the first sentence to finish; keep searching and return "
                          "the best-scoring finished sentence.")),
    ("with_bos", N_("束搜索 (beam search): you returned <bos> at the start; return only the generated tokens.")),
    ("with_eos", N_("束搜索 (beam search): you returned <eos> at the end; leave it out.")),
    ("continue_after_eos", N_("束搜索 (beam search): a sentence that picked <eos> must leave the beam as "
                              "finished, not keep growing after <eos>.")),
    ("no_fallback", N_("束搜索 (beam search): when no sentence reaches <eos> within max_len, return the best "
                       "unfinished one.")),
]


@checker
def check_beam_search(fn) -> None:
    """Check `fn(step_fn, bos_id, eos_id, max_len, beam_size, alpha) -> list[int]`, the best sentence found.

    `step_fn(prefix)` as in `check_greedy_decode`. Keep the beam_size best extensions by total
    log-probability at each step; an extension ending in <eos> is finished. Stop when no hypothesis is
    live or after max_len tokens (unfinished ones then count too). Return the tokens (no <bos>/<eos>) of
    the hypothesis with the best log P / ((5 + |Y|) / 6) ** alpha.
    """
    c = Check(_("束搜索 (beam search)"))
    c.callable(fn, _("your beam-search function"), "check_beam_search(beam_search)")
    bos, eos = 1, 2
    with sandbox():
        for on, lm, kw in beam_cases(bos, eos):
            lm.calls = []
            args = (lm, bos, eos, kw["max_len"], kw["beam_size"], kw["alpha"])
            limited = StepLimit(lm, max_calls=20 * (kw["max_len"] + 2) * kw["beam_size"] + 100,
                               max_prefix=kw["max_len"] + 5, max_len=kw["max_len"])
            result = _tokens_of(c, c.call(fn, limited, *args[1:], on=on), on)
            _check_prefixes(c, lm, on)
            expected = _beam(*args)
            if result == expected:
                continue
            hint = join_hints([_(h) for v, h in _BEAM_HINTS if _beam(*args, variant=v) == result])
            if hint is None and eos in result:
                hint = _("a sentence that picked <eos> must leave the beam as finished; <eos> never appears "
                         "inside.")
            wrong = _("wrong sentence on {on}: got {result}, expected {expected}.", on=on, result=result,
                      expected=expected)
            c.fail(wrong + (_("\nLikely mistake: {hint}", hint=hint) if hint else
                            _(" Each step: extend every live hypothesis by every token, keep the beam_size best by "
                              "total log-probability, move those ending in <eos> to the finished list; at the end "
                              "return the best log P / ((5 + |Y|) / 6) ** alpha.")))
    c.passed()
