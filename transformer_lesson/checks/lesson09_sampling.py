"""Lesson 09 checkers: top-k and top-p (nucleus, 核采样) filtering of next-token logits.

A filter returns logits of the same shape with the tokens it removes set to -inf (a very negative number such
as -1e9 or torch.finfo(dtype).min counts as -inf), so that softmax gives them probability 0 and the kept tokens
keep their ratios. The references are `decoding.top_k_filter` and `decoding.top_p_filter`.
"""
from __future__ import annotations

import torch

from ..decoding import top_k_filter, top_p_filter
from ..i18n import N_, translator
from ._core import Check, checker, randn, sandbox, shape_str

__all__ = ["check_top_k_filter", "check_top_p_filter"]

_ = translator("lesson09")

REMOVED = -1e8          # anything at or below this counts as -inf


def _canonical(x: torch.Tensor) -> torch.Tensor:
    """float64, with every removed token (-inf, -1e9, finfo.min ...) as -inf."""
    x = x.detach().double()
    return x.masked_fill(x <= REMOVED, float("-inf"))


def _keep(logits: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    return logits.double().masked_fill(~keep, float("-inf"))


def _top_k_variants(logits: torch.Tensor, k: int) -> list:
    x, V = logits.double(), logits.size(-1)
    kth = lambda n: x.topk(max(min(n, V), 1), dim=-1).values[..., -1:]          # (..., 1): the n-th largest
    keep = x >= kth(k)
    probs = torch.softmax(x, dim=-1)
    return [
        (_("top-k keeps k + 1 tokens: the k-th largest logit is topk(logits, k).values[..., -1]; keep the logits >= "
           "it (k tokens, not k + 1)."), lambda: _keep(x, x >= kth(k + 1))),
        (_("top-k keeps one token too few (k - 1): keep the logits >= the k-th largest, not > it."),
         lambda: _keep(x, x > kth(k)) if k > 1 else torch.full_like(x, float("-inf"))),
        (_("top-k: you set the removed logits to 0. A logit of 0 still gets probability exp(0) / Σ exp; set them to "
           "-inf (float('-inf')) so that softmax gives them 0."), lambda: x.masked_fill(~keep, 0.0)),
        (_("top-k: you return probabilities (softmax after filtering). The filter returns logits, with -inf for the "
           "removed tokens; the sampler applies softmax once, at the end."), lambda: torch.softmax(_keep(x, keep), -1)),
        (_("top-k: you filtered after the softmax and set the removed probabilities to 0. Filter the logits (-inf for "
           "removed tokens) and leave the softmax to the sampler."), lambda: probs.masked_fill(~keep, 0.0)),
        (_("top-k: you kept the k smallest logits (topk(..., largest=False)); keep the k largest."),
         lambda: _keep(x, x <= -((-x).topk(min(k, V), dim=-1).values[..., -1:]))),
        (_("top-k: you took the k largest along dim 0 (over the rows); each row is one distribution: use dim=-1."),
         lambda: _keep(x, x >= x.topk(min(k, x.size(0)), dim=0).values[-1:])),
        (_("top-k: your output is in ranked order (as sort/topk return it); keep every token at its own place in the "
           "vocabulary, with -inf where it is removed."),
         lambda: x.sort(dim=-1, descending=True).values.masked_fill(
             torch.arange(V) >= k, float("-inf"))),
    ]


@checker
def check_top_k_filter(fn) -> None:
    """Check `fn(logits, k) -> (..., V)` logits: the k largest of each row kept, the others -inf."""
    c = Check(_("top-k 采样 (top-k filtering)"))
    c.callable(fn, _("your top-k function"), "check_top_k_filter(top_k_filter)")
    with sandbox():
        logits = randn(3, 10, seed=61, scale=2.0)
        for k in (3, 1, 10, 5):
            on = _("logits {shape}, k={k}", shape=shape_str(logits.shape), k=k)
            out = c.call(fn, logits, k, on=on)
            out = c.tensor(out, _("the filtered logits"), on, tuple(logits.shape), "(B, V)", shape_hints={
                (3, k): _("you returned only the k largest values (what topk returns); return a tensor of the "
                          "logits' shape, each kept logit at its place and -inf elsewhere."),
            })
            c.numbers(_canonical(out), top_k_filter(logits.double(), k), _("filtered logits"), on,
                      _top_k_variants(logits, k),
                      fallback=_("kth = logits.topk(k, dim=-1).values[..., -1:]; logits.masked_fill(logits < kth, "
                                 "float('-inf'))."))
        one = randn(12, seed=62)
        on = _("one row of logits {shape}, k=4", shape=shape_str(one.shape))
        out = c.tensor(c.call(fn, one, 4, on=on), _("the filtered logits"), on, (12,), "(V,)")
        c.numbers(_canonical(out), top_k_filter(one.double(), 4), _("filtered logits"), on, _top_k_variants(one, 4),
                  fallback=_("use dim=-1 everywhere, so that a single row (V,) works too."))
    c.passed()


def _nucleus(x: torch.Tensor, p: float, *, rule: str = "ok", sort: bool = True, scatter: bool = True,
             on_logits: bool = False, descending: bool = True) -> torch.Tensor:
    """Top-p filtering (float64) and its known-wrong variants; returns logits with -inf for removed tokens."""
    x = x.double()
    weights = x if on_logits else torch.softmax(x, dim=-1)
    if sort:
        ranked, order = weights.sort(dim=-1, descending=descending)
    else:
        ranked, order = weights, torch.arange(x.size(-1)).expand_as(x)
    total = ranked.cumsum(dim=-1)
    keep_sorted = {"ok": total - ranked < p,                         # the tokens above hold less than p
                   "too_few": total < p,                             # drops the token that carries the sum to p
                   "too_many": total - ranked < p}[rule]
    if rule == "too_many":                                           # and one more after it
        keep_sorted = torch.cat([keep_sorted[..., :1], keep_sorted[..., :-1]], dim=-1) | keep_sorted
    if not scatter:                                                  # the ranked mask used in vocabulary order
        return x.masked_fill(~keep_sorted, float("-inf"))
    keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
    return x.masked_fill(~keep, float("-inf"))


_NUCLEUS_MISTAKES = [
    (dict(rule="too_few"), N_("top-p keeps one token too few: you kept the tokens whose running sum is below p, so "
                              "the token that carries the sum to p is dropped (and when the top token alone holds p "
                              "or more, nothing is kept). Keep a token when the tokens ranked above it hold less than "
                              "p: cumsum - probs < p.")),
    (dict(rule="too_many"), N_("top-p keeps one token too many: the nucleus ends with the token that carries the sum "
                               "to p or beyond; the next one is left out (keep cumsum - probs < p).")),
    (dict(sort=False), N_("top-p: you summed the probabilities in vocabulary order. Sort them from the likeliest "
                          "down first (probs.sort(descending=True)), then take the running sum.")),
    (dict(scatter=False), N_("top-p: you applied the mask made in ranked order to the logits in vocabulary order. "
                             "Map it back: keep = torch.zeros_like(mask).scatter(-1, order, mask).")),
    (dict(on_logits=True), N_("top-p: you summed the logits. The nucleus is about probability: softmax first, then "
                              "sort and take the running sum.")),
    (dict(descending=False), N_("top-p: you sorted from the least likely up; the nucleus holds the likeliest tokens "
                                "(sort(descending=True)).")),
]


@checker
def check_top_p_filter(fn) -> None:
    """Check `fn(logits, p) -> (..., V)` logits: the fewest likeliest tokens whose probabilities add up to at
    least p kept (the nucleus), the others -inf."""
    c = Check(_("核采样 (top-p / nucleus filtering)"))
    c.callable(fn, _("your top-p function"), "check_top_p_filter(top_p_filter)")
    with sandbox():
        logits = randn(4, 12, seed=63, scale=1.5)
        logits[3] = torch.tensor([4.0, 0.5, -0.4, 0.3, -0.1, 0.2, -0.3, 0.0, 0.4, -0.2, 0.1, -0.5])  # top holds > 0.8
        for p in (0.9, 0.5, 0.8, 1.0):
            on = _("logits {shape}, p={p}", shape=shape_str(logits.shape), p=p)
            out = c.call(fn, logits, p, on=on)
            out = c.tensor(out, _("the filtered logits"), on, tuple(logits.shape), "(B, V)")
            x = logits.double()
            variants = [(_(hint), lambda kw=kw: _nucleus(logits, p, **kw)) for kw, hint in _NUCLEUS_MISTAKES] + [
                (_("top-p: you set the removed logits to 0; set them to -inf, so softmax gives them probability 0."),
                 lambda: x.masked_fill(top_p_filter(x, p) == float("-inf"), 0.0)),
                (_("top-p: you return probabilities (softmax after filtering); return logits with -inf for the "
                   "removed tokens and leave the softmax to the sampler."),
                 lambda: torch.softmax(top_p_filter(x, p), -1)),
                (_("top-p: you filtered the probabilities (0 for removed tokens) instead of the logits; return logits "
                   "with -inf for the removed tokens."),
                 lambda: torch.softmax(x, -1).masked_fill(top_p_filter(x, p) == float("-inf"), 0.0)),
            ]
            c.numbers(_canonical(out), top_p_filter(x, p), _("filtered logits"), on, variants,
                      fallback=_("probs, order = softmax(logits).sort(descending=True); keep the ranked tokens with "
                                 "cumsum - probs < p; scatter the mask back; -inf for the others."))
    c.passed()
