"""Lesson 09 checkers: one decoding step with a KV cache (键值缓存) and rotary position embedding (RoPE, 旋转位置编码).

The KV-cache checker drives the learner's step function through a whole sequence, feeding back the cache it
returned, and compares every step with full causal attention; a mistake is named by replaying the same
sequence with that mistake. The RoPE checker compares with `positional.apply_rotary` (interleaved pairs).
"""
from __future__ import annotations

import math

import torch

from ..i18n import N_, translator
from ..positional import apply_rotary
from ._core import Check, checker, join_hints, randn, sandbox, shape_str

__all__ = ["check_kv_cache_step", "check_rotary"]

_ = translator("lesson09")


# ---- one decoding step with a KV cache --------------------------------------------------------------------

def _code(position: int, d_model: int) -> torch.Tensor:
    """The sinusoidal code of one position (any integer, negative too), by the formula: (d_model,) float64."""
    angle = position / 10000.0 ** (torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    return torch.stack([angle.sin(), angle.cos()], dim=-1).flatten()[:d_model]


def _replay(x_new, W_q, W_k, W_v, *, offset: int = 0, positions: str = "cache", attend: str = "all",
            scale: str = "sqrt", softmax: str = "keys"):
    """(outputs, keys): every step's output `(B, 1, d_v)` and key `(B, 1, d_k)` of single-head attention with a KV
    cache, run from an empty cache; the keyword arguments replay one known mistake from the first step on."""
    B, T, d_model = x_new.shape
    keys, values, outputs = [], [], []
    for t in range(T):
        position = {"cache": t + offset, "zero": 0, "none": None}[positions]
        x = x_new[:, t:t + 1].double() + (0.0 if position is None else _code(position, d_model))
        q, k, v = x @ W_q.double(), x @ W_k.double(), x @ W_v.double()          # (B, 1, d) each
        past_k, past_v = torch.cat([*keys, k[:, :0]], dim=1), torch.cat([*values, v[:, :0]], dim=1)
        keys.append(k)
        values.append(v)
        K, V = {"all": (torch.cat(keys, 1), torch.cat(values, 1)), "before_append": (past_k, past_v),
                "newest": (k, v), "first_row": (keys[0], values[0])}[attend]    # what the new query attends to
        scores = q @ K.transpose(1, 2) / {"sqrt": math.sqrt(k.size(-1)), "none": 1.0, "d_k": k.size(-1)}[scale]
        weights = torch.softmax(scores, dim=-1 if softmax == "keys" else 1)    # (B, 1, T_k)
        outputs.append(weights @ V)                                             # an empty cache gives zeros
    return outputs, keys


_STEP_MISTAKES = [
    (dict(offset=1), N_("位置 (positions) off by one: the new token's position is the number of tokens already in "
                        "the cache, cache['k'].size(1) (positions count from 0); yours is one more.")),
    (dict(offset=-1), N_("位置 (positions) off by one: the new token's position is cache['k'].size(1), the number of "
                         "cached tokens; yours is one less (the last cached token's position).")),
    (dict(positions="zero"), N_("位置 (positions): every step adds the code of position 0. A step sees one token, "
                                "but that token sits at position cache['k'].size(1), not at 0.")),
    (dict(positions="none"), N_("位置 (positions): no positional code is added; add the code of the new token's "
                                "position (cache['k'].size(1)) before projecting.")),
    (dict(attend="before_append"), N_("键值缓存 (KV cache): you attend before appending the new key and value, so "
                                      "the new token cannot see itself (and the first step sees nothing). Append "
                                      "first, then attend over the whole cache.")),
    (dict(attend="newest"), N_("键值缓存 (KV cache): you attend only to the newest key and value; attend over every "
                               "cached position, cache['k'] and cache['v'] after appending.")),
    (dict(attend="first_row"), N_("掩码 (mask): you masked with the first row of a causal mask, so the new token "
                                  "sees only position 0. The newest query is the last position: every cached key is "
                                  "in its past, so a cached step needs no mask at all.")),
    (dict(scale="none"), N_("缩放 (scaling): divide the scores by sqrt(d_k).")),
    (dict(scale="d_k"), N_("缩放 (scaling): divide by sqrt(d_k), not by d_k.")),
    (dict(softmax="query"), N_("softmax over the wrong axis: with one query the scores are (B, 1, T); softmax goes "
                               "over the keys, dim=-1 (over dim=1 every weight is 1).")),
]


def _empty_cache(B: int, d_k: int, d_v: int) -> dict:
    return {"k": torch.zeros(B, 0, d_k), "v": torch.zeros(B, 0, d_v)}


@checker
def check_kv_cache_step(fn) -> None:
    """Check `fn(x_new, cache, W_q, W_k, W_v) -> (output, cache)`, one step of single-head causal self-attention.

    x_new `(B, 1, d_model)`: the newest token's embedding; cache {"k": (B, T_past, d_k), "v": (B, T_past, d_v)}.
    Add the sinusoidal code of position T_past, project, append k and v along the time axis (dim 1), attend
    with softmax(q K^T / sqrt(d_k)) V. Run step after step from an empty cache, it equals full causal attention.
    """
    c = Check(_("键值缓存 (KV cache) decoding step"))
    c.callable(fn, _("your step function"), "check_kv_cache_step(attention_step)")
    B, T, d_model, d_k, d_v = 2, 6, 8, 6, 5
    with sandbox():
        x_new = randn(B, T, d_model, seed=91)
        W_q, W_k, W_v = (randn(d_model, d, seed=92 + i, scale=0.6) for i, d in enumerate((d_k, d_k, d_v)))
        reference, ref_keys = _replay(x_new, W_q, W_k, W_v)
        replays = {_(hint): _replay(x_new, W_q, W_k, W_v, **kw) for kw, hint in _STEP_MISTAKES}
        cache = _empty_cache(B, d_k, d_v)
        for t in range(T):
            on = _("step {step} (x_new {shape}, a cache of {t} position(s), d_k={d_k}, d_v={d_v})",
                   step=t + 1, shape=shape_str((B, 1, d_model)), t=t, d_k=d_k, d_v=d_v)
            result = c.call(fn, x_new[:, t:t + 1], cache, W_q, W_k, W_v, on=on, advice=_crash_advice)
            if not isinstance(result, (tuple, list)) or len(result) != 2 or not isinstance(result[1], dict):
                c.fail(_("expected a pair (output, cache) with the cache a dict {{'k': ..., 'v': ...}} on {on}, got "
                         "{kind}. End with `return output, cache`.", on=on, kind=type(result).__name__))
            output, cache = result
            if "k" not in cache or "v" not in cache:
                c.fail(_("expected the returned cache to hold 'k' and 'v', got the keys {keys} on {on}.",
                         keys=sorted(cache), on=on))
            _check_cache_shapes(c, cache, on, B, t + 1, d_model, d_k, d_v)
            output = c.tensor(output, _("output"), on, (B, 1, d_v), "(B, 1, d_v)", shape_hints={
                (B, t + 1, d_v): _("you return an output for every cached position; a step returns the newest "
                                   "token's output only, (B, 1, d_v)."),
                (B, 1, d_k): _("your output is weights @ keys; it is weights @ values (cache['v'])."),
            })
            c.numbers(cache["k"], torch.cat(ref_keys[:t + 1], dim=1), _("cached keys"), on, [
                (hint, lambda keys=keys: torch.cat(keys[:t + 1], dim=1))
                for hint, (_outs, keys) in replays.items() if len(keys) > t
            ] + [(_("键值缓存 (KV cache): the cache holds queries under 'k'; it keeps the keys x W_k (queries are "
                    "never cached: only the newest position asks)."),
                  lambda: torch.cat([(x_new[:, j:j + 1].double() + _code(j, d_model)) @ W_q.double()
                                     for j in range(t + 1)], dim=1))],
                fallback=_("cache['k'] = torch.cat([cache['k'], k_new], dim=1), k_new = (x_new + PE[position]) @ W_k."))
            c.numbers(output, reference[t], _("output"), on, [(hint, lambda outs=outs: outs[t])
                                                              for hint, (outs, _keys) in replays.items()],
                      fallback=_("scores = q @ cache['k'].transpose(1, 2) / sqrt(d_k); output = softmax(scores, "
                                 "dim=-1) @ cache['v']."))
    c.passed()


def _crash_advice(error: Exception) -> str:
    """What a torch.cat that does not fit says about the cache (the checker's empty cache is (B, 0, d))."""
    text = str(error)
    if "except in dimension 2" in text or "except in dimension -1" in text:
        return _("the cache grows along the feature axis: torch.cat(..., dim=-1) glues each new vector onto the last "
                 "one. A cache is (B, T, d): append along the time axis, dim=1 (in the package's (B, h, T, d_k) "
                 "cache, dim=2).")
    if "except in dimension 0" in text:
        return _("the cache grows along the batch axis (dim=0): each step would look like a new sentence. Append "
                 "along the time axis, dim=1.")
    if "except in dimension 1" in text:
        return _("the time axis is right, but the feature sizes do not fit: are keys and values swapped? cache['k'] "
                 "holds keys (d_k features), cache['v'] values (d_v features), and d_k != d_v here.")
    if "cannot be multiplied" in text or "must match the size" in text:
        return _("check which cached tensor you multiply: scores = q @ cache['k'].transpose(1, 2), "
                 "output = weights @ cache['v'].")
    return ""


def _check_cache_shapes(c: Check, cache: dict, on: str, B: int, T: int, d_model: int, d_k: int, d_v: int) -> None:
    for name, d in (("k", d_k), ("v", d_v)):
        value = cache[name]
        hints = {
            (B, 1, T * d): _("the cache grows along the feature axis: torch.cat(..., dim=-1) glues each new vector "
                             "onto the end of the last one. A cache is (B, T, d): append along the time axis, dim=1 "
                             "(in the package's (B, h, T, d_k) cache, dim=2)."),
            (B * T, 1, d): _("the cache grows along the batch axis (dim=0): each step looks like a new sentence. "
                             "Append along the time axis, dim=1."),
            (B, T, d_model): _("your cache holds the inputs x (B, T, d_model), not the keys and values x W_k, x W_v: "
                               "each step then projects every earlier position again, the recomputation a KV cache "
                               "exists to avoid. Store k and v themselves."),
            (B, 1, d): _("the cache does not grow: it holds only the newest position. Append to it, "
                         "torch.cat([cache[...], new], dim=1), instead of replacing it."),
            (B, T, d_k if name == "v" else d_v): _("cache['k'] and cache['v'] are swapped: keys have d_k={d_k} "
                                                   "features, values d_v={d_v}.", d_k=d_k, d_v=d_v),
        }
        if T == 1:
            hints.pop((B, 1, d), None)
        c.tensor(value, f"cache['{name}']", on, (B, T, d), f"(B, T_past + 1, {'d_k' if name == 'k' else 'd_v'})",
                 shape_hints=hints)


# ---- RoPE applied to queries and keys ---------------------------------------------------------------------

def _rotate(x, positions, *, layout: str = "interleave", exponent: str = "2i/d", sign: float = 1.0,
            swap: bool = False, concat: bool = False) -> torch.Tensor:
    """Reference RoPE (float64) and its known-wrong variants."""
    x = x.double()
    d = x.size(-1)
    i = torch.arange(d // 2, dtype=torch.float64)
    power = {"2i/d": 2 * i / d, "i/d": i / d, "4i/d": 4 * i / d, "same": torch.zeros_like(i)}[exponent]
    angle = positions.double()[:, None] / 10000.0 ** power                      # (T, d/2)
    cos, sin = angle.cos(), sign * angle.sin()
    if swap:
        cos, sin = sin, cos
    if layout == "half":                                                        # rotate_half: (i, i + d/2)
        a, b = x[..., : d // 2], x[..., d // 2:]
        return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)
    a, b = x[..., 0::2], x[..., 1::2]
    first, second = a * cos - b * sin, a * sin + b * cos
    return torch.cat([first, second], dim=-1) if concat else torch.stack([first, second], dim=-1).flatten(-2)


_ROPE_MISTAKES = [
    (dict(layout="half"), N_("旋转位置编码 (RoPE): you rotate dimension i together with dimension i + d/2 (the "
                             "'rotate_half' layout of GPT-NeoX and Hugging Face's LLaMA code). That is a valid RoPE "
                             "too, but not this course's convention: here, as in the RoPE paper (Su et al. 2021) and "
                             "lesson 02's sin/cos pairs, each pair is two neighbours, (2i, 2i+1): x[..., 0::2] with "
                             "x[..., 1::2]. Weights trained with one layout give wrong scores with the other.")),
    (dict(exponent="same"), N_("旋转位置编码 (RoPE): every pair turns by the same angle (the position itself). "
                               "Pair i turns at its own frequency w_i = 10000^(-2i/d), as in lesson 02.")),
    (dict(exponent="i/d"), N_("旋转位置编码 (RoPE): the wrong frequency — w_i = 10000^(-i/d); it is "
                              "10000^(-2i/d) (i counts pairs).")),
    (dict(exponent="4i/d"), N_("旋转位置编码 (RoPE): the wrong frequency — you doubled 2i again "
                               "(torch.arange(0, d, 2) already holds 2i): w_i = 10000^(-2i/d).")),
    (dict(sign=-1.0), N_("旋转位置编码 (RoPE): you rotate the other way (by -pos * w_i): the first of each pair "
                         "becomes a cos - b sin, the second a sin + b cos.")),
    (dict(swap=True), N_("旋转位置编码 (RoPE): cos and sin are swapped: (a, b) -> (a cos - b sin, a sin + b cos).")),
    (dict(concat=True), N_("旋转位置编码 (RoPE): the pairs are rotated right but put back in the wrong place: "
                           "[all firsts | all seconds]. Each rotated pair goes back to dimensions 2i and 2i+1 "
                           "(torch.stack(..., dim=-1).flatten(-2)).")),
]


@checker
def check_rotary(fn) -> None:
    """Check `fn(q, k, v, positions) -> (q, k, v)`: the tensors attention uses with RoPE.

    q, k `(..., T, d)`, v `(..., T, d_v)`, positions `(T,)`. Each (2i, 2i+1) pair of q and k is rotated by the
    angle positions[t] * 10000^(-2i/d); v is returned unchanged. Scores q_m . k_n then depend on m - n only.
    """
    c = Check(_("旋转位置编码 (RoPE)"))
    c.callable(fn, _("your RoPE function"), "check_rotary(rope)")
    B, h, T, d, d_v = 2, 2, 5, 8, 6
    with sandbox():
        q, k, v = randn(B, h, T, d, seed=71), randn(B, h, T, d, seed=72), randn(B, h, T, d_v, seed=73)
        for positions in (torch.arange(3, 3 + T), torch.arange(T)):
            on = _("q, k {q_shape}, v {v_shape}, positions {positions}", q_shape=shape_str(q.shape),
                   v_shape=shape_str(v.shape), positions=positions.tolist())
            result = c.call(fn, q, k, v, positions, on=on)
            if not isinstance(result, (tuple, list)) or len(result) != 3:
                c.fail(_("expected three tensors (q, k, v) on {on}, got {kind}. End with `return q, k, v`.",
                         on=on, kind=type(result).__name__))
            q_r, k_r, v_r = (c.tensor(t, name, on, shape, desc) for t, name, shape, desc in
                             zip(result, ("q", "k", "v"), (q.shape, k.shape, v.shape),
                                 ("(B, h, T, d)", "(B, h, T, d)", "(B, h, T, d_v)")))
            _check_values(c, v, v_r, positions, on)
            for name, x, x_r, other in (("q", q, q_r, _("keys")), ("k", k, k_r, _("queries"))):
                if torch.allclose(x_r.double(), x.double()) and not torch.equal(positions, torch.zeros_like(positions)):
                    c.fail(_("{name} comes back unchanged on {on}: RoPE rotates the queries and the keys, both (you "
                             "rotated only the {other}, or neither). A score compares a rotated query with a "
                             "rotated key.", name=name, on=on, other=other))
                variants = [(_(hint), lambda kw=kw, x=x: _rotate(x, positions, **kw)) for kw, hint in _ROPE_MISTAKES]
                variants += [(_("位置 (positions): you used torch.arange(T) instead of the positions given; with a KV "
                                "cache the new tokens' positions start at len(cache), not 0."),
                              lambda x=x: _rotate(x, torch.arange(T))),
                             (_("位置 (positions) off by one: rotate by the positions given, not positions + 1."),
                              lambda x=x: _rotate(x, positions + 1))]
                c.numbers(x_r, apply_rotary(x.double(), positions), _("rotated {name}", name=name), on, variants,
                          match_atol=1e-4,
                          fallback=_("a, b = x[..., 0::2], x[..., 1::2]; angle = positions[:, None] * 10000 ** "
                                     "(-torch.arange(0, d, 2) / d); pairs (a cos - b sin, a sin + b cos), put back "
                                     "at 2i, 2i+1."))
        _offset_only(c, fn, q, k, v)
    c.passed()


def _check_values(c: Check, v, v_r, positions, on) -> None:
    if torch.allclose(v_r.double(), v.double()):
        return
    hints = []
    if v.size(-1) % 2 == 0 and torch.allclose(v_r.double(), _rotate(v, positions), atol=1e-4):
        hints.append(_("you rotated the values too. RoPE rotates only queries and keys: their dot product is what "
                       "should depend on the offset. Values carry the content that attention mixes; return v as it is."))
    c.fail(_("v changed on {on}.", on=on) + (_("\nLikely mistake: {hint}", hint=join_hints(hints)) if hints else
                                             _(" RoPE leaves the values alone: return v unchanged.")))


def _offset_only(c: Check, fn, q, k, v) -> None:
    """The property itself: shifting every position by 9 leaves the scores q_m . k_n unchanged."""
    T = q.size(-2)
    scores = []
    for start in (0, 9):
        q_r, k_r, _v = c.call(fn, q, k, v, torch.arange(start, start + T),
                              on=_("positions {start}..{end}", start=start, end=start + T - 1))
        scores.append(q_r.double() @ k_r.double().transpose(-2, -1))            # (B, h, T, T)
    c.numbers(scores[1], scores[0], _("scores after shifting every position by 9"), _("the same q, k"),
              fallback=_("a rotation by m w against a rotation by n w leaves the angle (m - n) w between them."),
              atol=1e-4, rtol=1e-4)
