"""Lesson 07: the stand-in models the decoding checkers drive (贪心解码 and 束搜索 test benches).

`ToyLM` is a step function whose next-token distribution is a table or a seeded hash of the prefix, so the
best answer of greedy decoding and beam search is known; `beam_cases` lists the beam-search traps; a small
untrained package Transformer shows the learner's loop agrees with `transformer_lesson.greedy_decode`.
"""
from __future__ import annotations

import torch

from ..i18n import translator
from ..model import Transformer

_ = translator("lesson07")

__all__ = ["ToyLM", "beam_cases", "tiny_transformer_case"]


class ToyLM:
    """A stand-in language model for the decoding checkers: `step_fn(prefix) -> (V,) log-probabilities`.

    Either a table `{prefix_without_bos: {token: probability}}` with a default distribution for every other
    prefix, or (table=None) a seeded random distribution for each prefix. It records every prefix it was given.
    """

    def __init__(self, V: int, bos: int, eos: int, table: dict | None = None, default: dict | None = None,
                 seed: int = 0, eos_boost: float = 0.0, eos_offset: float = 0.0):
        self.V, self.bos, self.eos, self.table, self.default = V, bos, eos, table, default
        self.seed, self.eos_boost, self.eos_offset = seed, eos_boost, eos_offset
        self.calls: list[list[int]] = []

    def _tokens(self, prefix) -> list[int]:
        if isinstance(prefix, torch.Tensor):
            prefix = prefix.reshape(-1).tolist()
        try:
            return [int(t) for t in prefix]
        except TypeError:
            raise TypeError(_("step_fn expects the prefix as a list of token ids, got {kind}",
                              kind=type(prefix).__name__)) from None

    def __call__(self, prefix) -> torch.Tensor:
        tokens = self._tokens(prefix)
        self.calls.append(tokens)
        body = tuple(tokens[1:]) if tokens[:1] == [self.bos] else tuple(tokens)
        if self.table is not None:
            probs = dict(self.table.get(body, self.default))
            rest = [t for t in range(self.V) if t not in probs and t != self.bos]
            left = max(1.0 - sum(probs.values()), 0.0)
            p = torch.full((self.V,), 1e-12, dtype=torch.float64)
            for t, value in probs.items():
                p[t] = value
            for t in rest:
                p[t] = max(left / len(rest), 1e-12)
            return torch.log(p / p.sum())
        h = self.seed + 17
        for t in tokens:
            h = (h * 1000003 + t + 1) % (2 ** 61 - 1)
        g = torch.Generator().manual_seed(h)
        logits = torch.randn(self.V, generator=g, dtype=torch.float64) * 2.0
        logits[self.bos] = -1e4
        logits[self.eos] += self.eos_boost * (len(tokens) - 1) + self.eos_offset
        return torch.log_softmax(logits, dim=-1)


def tiny_transformer_case():
    """A small seeded (untrained) package Transformer wrapped as a step function, plus its source."""
    torch.manual_seed(2)
    model = Transformer(12, 12, d_model=16, num_heads=2, num_encoder_layers=1, num_decoder_layers=1,
                        d_ff=32, dropout=0.0, max_len=32).eval()
    src = torch.tensor([[4, 5, 6, 7, 8]])
    src_mask = model.source_mask(src)
    memory = model.encode(src, src_mask)

    def step_fn(prefix) -> torch.Tensor:
        tokens = torch.as_tensor(prefix, dtype=torch.long).reshape(1, -1)       # (1, t)
        hidden = model.decode(tokens, memory, src_mask)[:, -1]                   # (1, d_model): the last position
        return torch.log_softmax(model.generator(hidden), dim=-1)[0]            # (V,)
    return model, src, step_fn


def beam_cases(bos: int = 1, eos: int = 2):
    """The toy models of the beam-search checker. Tokens: 0 unused, 1 <bos>, 2 <eos>, 3 'a', 4 'b', 5 'c'."""
    a, b, c_ = 3, 4, 5
    flat = {a: 0.32, b: 0.30, c_: 0.28, eos: 0.10}
    trap = ToyLM(6, bos, eos, table={
        (): {a: 0.50, b: 0.40, c_: 0.05, eos: 0.05},
        (b,): {eos: 0.90, a: 0.05, b: 0.03, c_: 0.02},
    }, default=flat)
    # alpha decides: stop at once (eos, p 0.52) or say "a a a a a" (p 0.46 * 0.98^5)
    chain = {(): {eos: 0.52, a: 0.46, b: 0.01, c_: 0.01}}
    for depth in range(1, 5):
        chain[(a,) * depth] = {a: 0.98, eos: 1e-4}
    chain[(a,) * 5] = {eos: 0.98, a: 1e-3}
    lengthy = ToyLM(6, bos, eos, table=chain, default={eos: 1e-4})
    # the long sentence is likelier anyway; alpha=1 must keep it (multiplying by the penalty would not)
    better = {(): {eos: 0.40, a: 0.58, b: 0.01, c_: 0.01}}
    for depth in range(1, 5):
        better[(a,) * depth] = {a: 0.98, eos: 1e-4}
    better[(a,) * 5] = {eos: 0.98, a: 1e-3}
    longer = ToyLM(6, bos, eos, table=better, default={eos: 1e-4})
    # the first hypothesis to finish is not the best one
    late = ToyLM(6, bos, eos, table={
        (): {a: 0.70, eos: 0.25, b: 0.03, c_: 0.02},
        (a,): {eos: 0.90, b: 0.05, c_: 0.03, a: 0.02},
    }, default=flat)
    never = ToyLM(6, bos, eos, table={(): {a: 0.5, b: 0.3, c_: 0.2 - 1e-4, eos: 1e-4},
                                       (a,): {b: 0.6, c_: 0.3, a: 0.1 - 1e-4, eos: 1e-4},
                                       (b,): {a: 0.9, c_: 0.1 - 1e-4, eos: 1e-4}},
                   default={a: 0.4, b: 0.35, c_: 0.25 - 1e-4, eos: 1e-4})
    return [
        (_("the 'greedy trap' toy model (beam_size=2, alpha=0, max_len=6), where the best sentence starts with the "
           "second-likeliest token"), trap, dict(max_len=6, beam_size=2, alpha=0.0)),
        (_("the 'short or long' toy model with alpha=0 (beam_size=2, max_len=10)"), lengthy,
         dict(max_len=10, beam_size=2, alpha=0.0)),
        (_("the 'late finisher' toy model (beam_size=2, alpha=0, max_len=6), whose first finished sentence "
           "is not the best"), late, dict(max_len=6, beam_size=2, alpha=0.0)),
        (_("the 'long and likely' toy model with alpha=1 (beam_size=2, max_len=10)"), longer,
         dict(max_len=10, beam_size=2, alpha=1.0)),
        (_("the 'short or long' toy model with alpha=1 (beam_size=2, max_len=10)"), lengthy,
         dict(max_len=10, beam_size=2, alpha=1.0)),
        (_("the 'no <eos>' toy model (beam_size=3, alpha=0.6, max_len=4), which never ends a sentence"), never,
         dict(max_len=4, beam_size=3, alpha=0.6)),
        (_("a random toy model with beam_size=1 and alpha=0 (must equal greedy decoding, max_len=8)"),
         ToyLM(7, bos, eos, seed=9, eos_boost=0.8, eos_offset=-1.0), dict(max_len=8, beam_size=1, alpha=0.0)),
    ]
