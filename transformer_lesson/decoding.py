"""Generation (生成): turning next-token distributions into a whole sentence.

Greedy decoding takes the most likely token at every step. Beam search keeps the `beam_size` likeliest
partial sentences and ranks finished ones by log-probability divided by the GNMT length penalty

    lp(Y) = ((5 + |Y|) / 6) ** alpha,   score(Y) = log P(Y | X) / lp(Y)

so that longer sentences are not punished merely for having more factors below 1. Sampling draws
each token from softmax(logits / temperature), optionally only among the k likeliest tokens (top-k) or
the fewest likeliest tokens whose probabilities add up to at least p (top-p, nucleus sampling).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ._validate import check_number, check_positive_int, check_tensor, check_token_id, shape_str
from .runtime import eval_mode

__all__ = ["Hypothesis", "greedy_decode", "beam_search", "sample_decode", "length_penalty", "top_k_filter",
           "top_p_filter"]


@dataclass
class Hypothesis:
    """One generated sentence: token ids (no `<bos>`, no `<eos>`), its total log-probability and its score."""
    tokens: list[int]
    log_prob: float
    score: float = field(default=0.0)
    finished: bool = True


def length_penalty(length: int, alpha: float) -> float:
    """GNMT's length penalty ((5 + length) / 6) ** alpha; alpha = 0 turns it off."""
    return ((5.0 + length) / 6.0) ** alpha


def _prepare(model, src, max_len, bos_id, eos_id):
    from .model import Transformer
    if not isinstance(model, Transformer):
        raise TypeError(f"expected a transformer_lesson.Transformer, got {type(model).__name__}")
    check_tensor("src", src, shape="(S,) or (B, S)", ndim=(1, 2), integer=True)
    src = src.unsqueeze(0) if src.dim() == 1 else src
    if src.size(1) > model.positional.max_len:
        raise ValueError(f"expected a source of at most {model.positional.max_len} tokens (the model's positional "
                         f"max_len), got {shape_str(src.shape)}; split it into shorter sentences")
    for name, token in (("bos_id", bos_id), ("eos_id", eos_id)):
        check_token_id(name, token, model.tgt_vocab_size, vocab="the target vocabulary")
    limit = model.positional.max_len - 1
    max_len = min(2 * src.size(1) + 10, limit) if max_len is None else check_positive_int("max_len", max_len)
    if max_len > limit:
        raise ValueError(f"expected max_len of at most {limit} (the model's positional max_len - 1), got {max_len}")
    return src, max_len


def _next_log_probs(model, ys, memory, src_mask, temperature: float = 1.0) -> torch.Tensor:
    """(N, t) prefixes -> (N, V) log-probabilities of the next token."""
    hidden = model.decode(ys, memory, src_mask)[:, -1]          # (N, t, d) -> (N, d): the last position only
    return torch.log_softmax(model.generator(hidden) / temperature, dim=-1)


def _run_decode(model, src, max_len, bos_id, eos_id, choose) -> list[Hypothesis]:
    src, max_len = _prepare(model, src, max_len, bos_id, eos_id)
    with eval_mode(model):
        src_mask = model.source_mask(src)
        memory = model.encode(src, src_mask)
        B = src.size(0)
        ys = torch.full((B, 1), bos_id, dtype=torch.long, device=src.device)
        log_prob = torch.zeros(B, dtype=torch.float64)
        done = torch.zeros(B, dtype=torch.bool)
        for _ in range(max_len):
            log_p = _next_log_probs(model, ys, memory, src_mask)  # (B, V)
            token = choose(log_p)                                  # (B,)
            token = torch.where(done, torch.full_like(token, eos_id), token)
            log_prob += torch.where(done, 0.0, log_p.gather(1, token[:, None]).squeeze(1).double())
            ys = torch.cat([ys, token[:, None]], dim=1)            # (B, t) -> (B, t + 1)
            done |= token == eos_id
            if done.all():
                break
    results = []
    for row, lp, fin in zip(ys[:, 1:].tolist(), log_prob.tolist(), done.tolist()):
        tokens = row[: row.index(eos_id)] if eos_id in row else row
        results.append(Hypothesis(tokens, lp, lp, fin))
    return results


def greedy_decode(model, src: torch.Tensor, max_len: int | None = None, bos_id: int = 1,
                  eos_id: int = 2) -> list[Hypothesis]:
    """Most likely token at every step, for a batch of sources `(B, S)` (or one `(S,)`); one Hypothesis each."""
    return _run_decode(model, src, max_len, bos_id, eos_id, lambda log_p: log_p.argmax(dim=-1))


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the k largest logits of each row `(..., V)`, set the others to -inf (ties at the k-th all kept)."""
    check_tensor("logits", logits, shape="(..., V)", min_ndim=1, floating=True)
    k = check_positive_int("k", k, maximum=logits.size(-1), because="(the vocabulary size)")
    kth = logits.topk(k, dim=-1).values[..., -1:]                # (..., 1): the k-th largest logit
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Keep the fewest likeliest tokens whose probabilities add up to at least p (nucleus); -inf elsewhere.

    A token is kept when the tokens ranked above it hold less than p of the probability, so the top token
    is always kept and the last token kept is the one that carries the sum to p or beyond.
    """
    check_tensor("logits", logits, shape="(..., V)", min_ndim=1, floating=True)
    p = check_number("p", p, positive=True, example="0.9")
    if p > 1:
        raise ValueError(f"expected p in (0, 1] (a share of the probability), got {p}")
    probs, order = torch.softmax(logits, dim=-1).sort(dim=-1, descending=True)   # (..., V) each
    above = probs.cumsum(dim=-1) - probs                         # probability held by the tokens ranked above
    keep_sorted = above < p                                      # (..., V) in ranked order
    keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)  # back to vocabulary order
    return logits.masked_fill(~keep, float("-inf"))


def sample_decode(model, src: torch.Tensor, temperature: float = 1.0, max_len: int | None = None,
                  bos_id: int = 1, eos_id: int = 2, generator: torch.Generator | None = None,
                  top_k: int | None = None, top_p: float | None = None) -> list[Hypothesis]:
    """Draw each token from softmax(logits / temperature): low temperature -> greedy, high -> random.

    `top_k` and `top_p` first keep only the k likeliest tokens / the nucleus holding probability p.
    """
    temperature = check_number("temperature", temperature, positive=True, example="1.0")

    def choose(log_p):
        logits = log_p / temperature                              # log_p is already normalised; rescale it
        if top_k is not None:
            logits = top_k_filter(logits, top_k)
        if top_p is not None:
            logits = top_p_filter(logits, top_p)
        return torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator).squeeze(1)
    return _run_decode(model, src, max_len, bos_id, eos_id, choose)


def beam_search(model, src: torch.Tensor, beam_size: int = 4, max_len: int | None = None,
                length_penalty_alpha: float = 0.6, bos_id: int = 1, eos_id: int = 2,
                trace: list | None = None) -> list[Hypothesis]:
    """Beam search for one source sentence `(S,)` or `(1, S)`; returns hypotheses best first (at most beam_size).

    The search stops when no live hypothesis can still beat the best finished one, or at `max_len`.
    Pass an empty list as `trace` to watch it (lesson 07 draws it as a tree): each step appends the
    candidates it ranked, best first, as dicts {"parent": the index of the live beam it extends among the
    previous step's "kept" candidates (0 at the first step), "token": id, "log_prob": total log-probability,
    "status": "kept" | "finished" | "pruned"}, a finished one also with its "score". The search is the same.
    """
    if trace is not None and not isinstance(trace, list):
        raise TypeError(f"expected trace to be a list (the search appends one entry per step) or None, "
                        f"got {type(trace).__name__}")
    src, max_len = _prepare(model, src, max_len, bos_id, eos_id)
    beam_size = check_positive_int("beam_size", beam_size, maximum=model.tgt_vocab_size,
                                   because="(the target vocabulary size: a wider beam only keeps more bad guesses)")
    alpha = check_number("length_penalty_alpha", length_penalty_alpha, minimum=0.0,
                         example="0.6 (0 turns it off, the paper uses 0.6)")
    if src.size(0) != 1:
        raise ValueError(f"expected one source sentence, shape (S,) or (1, S), got batch of {src.size(0)}; "
                         "call beam_search once per sentence")
    with eval_mode(model):
        src_mask = model.source_mask(src)
        memory = model.encode(src, src_mask)                      # (1, S, d)
        ys = torch.full((1, 1), bos_id, dtype=torch.long, device=src.device)
        beam_lp = torch.zeros(1, dtype=torch.float64)             # total log-probability of each live beam
        finished: list[Hypothesis] = []
        for step in range(1, max_len + 1):
            n = ys.size(0)
            log_p = _next_log_probs(model, ys, memory.expand(n, -1, -1), src_mask.expand(n, -1, -1, -1))
            total = beam_lp[:, None] + log_p.double()             # (n, V): every one-token extension
            V = total.size(1)
            top_lp, top_idx = total.flatten().topk(min(2 * beam_size, total.numel()))
            keep_rows, keep_lp, ranked = [], [], []
            for rank, (lp, idx) in enumerate(zip(top_lp.tolist(), top_idx.tolist())):
                row, token = divmod(idx, V)
                ranked.append({"parent": row, "token": token, "log_prob": lp, "status": "pruned"})
                if token == eos_id:                               # a finished sentence: score it,
                    if rank >= beam_size:                         # if it ranks among the beam's best
                        continue
                    tokens = ys[row, 1:].tolist()
                    finished.append(Hypothesis(tokens, lp, lp / length_penalty(step, alpha), True))
                    ranked[-1].update(status="finished", score=finished[-1].score)
                elif len(keep_rows) < beam_size:
                    keep_rows.append((row, token))
                    keep_lp.append(lp)
                    ranked[-1]["status"] = "kept"
            if trace is not None:
                trace.append(ranked)
            if not keep_rows:
                break
            rows = torch.tensor([r for r, _ in keep_rows])
            tokens = torch.tensor([[t] for _, t in keep_rows])
            ys = torch.cat([ys[rows], tokens], dim=1)             # (n', t + 1)
            beam_lp = torch.tensor(keep_lp, dtype=torch.float64)
            if finished:
                best = max(h.score for h in finished)
                # a live beam's log-probability can only fall; its best possible score uses the longest length
                if best >= beam_lp.max().item() / length_penalty(max_len, alpha):
                    break
        else:                                                     # max_len reached: live beams count too, cut short
            finished += [Hypothesis(row[1:], lp, lp / length_penalty(max_len, alpha), False)
                         for row, lp in zip(ys.tolist(), beam_lp.tolist())]
    finished.sort(key=lambda h: h.score, reverse=True)
    return finished[:beam_size]
