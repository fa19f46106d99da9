"""Exercise checkers (练习检查器): run a learner's code, and if it is wrong, say which mistake it is.

Every exercise notebook ends an exercise with one call, e.g. `check_layer_norm(LayerNorm)`.
A checker works in stages, and stops at the first stage that fails:

1. does it run?  A crash is reported as an `AssertionError` that names the input it crashed on;
   `raise NotImplementedError()` (the exercise's stub) gets a kind "not implemented yet".
2. right type, shape and dtype?  A wrong shape often already tells the mistake (keys and queries swapped).
3. right numbers?  Compared with the package's reference implementation, on inputs chosen so that
   mistakes show: d_v != d_k, T_q != T_k, small-variance inputs where eps matters, non-trivial
   LayerNorm weights, several heads.
4. if not, which known mistake?  Each known-wrong variant (softmax over the query axis, no 1/sqrt(d_k),
   a mask inverted, ...) is computed on the same inputs; the first one the learner's numbers match
   is named, in plain words, with the Chinese term.

A correct implementation prints one short line (`✓ ... all checks passed`) and returns None. Any correct
way of writing it passes: einsum or @, `-1e9` or `-inf`, the exp/log form of PE, `torch.var_mean` or
`F.layer_norm`, float32 or float64.

Checkers leave the caller's random state alone (they seed and restore it) and run without gradients.

The learner's code always runs on copies of the checker's tensors: code that changes its input in place
(`query /= math.sqrt(d_k)`, `x -= mean`) is told so, by name, instead of being blamed for another
mistake. Each call has a time limit (`TIME_LIMIT` seconds; a pure-Python infinite loop is stopped and
named), the decoding checkers limit how often and how far `step_fn` may be called, and anything
unexpected the learner's code does becomes an AssertionError saying what it was.
"""
from __future__ import annotations

import ctypes
import functools
import inspect
import math
import numbers
import threading
from contextlib import contextmanager
from typing import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    # lesson 01: self-attention
    "check_scaled_dot_product_attention", "check_causal_mask",
    # lesson 02: positional encoding
    "check_positional_encoding", "check_shift_matrix",
    # lesson 03: multi-head attention
    "check_split_heads", "check_multi_head_attention",
    # lesson 04: residual connections and LayerNorm
    "check_layer_norm", "check_residual_connection",
    # lesson 05: feed-forward network
    "check_feed_forward", "check_ffn_parameter_count",
    # lesson 06: encoder and decoder layers
    "check_encoder_layer", "check_decoder_layer",
    # lesson 07: training and generation
    "check_label_smoothing_loss", "check_greedy_decode", "check_beam_search",
    "NOT_IMPLEMENTED",
]

NOT_IMPLEMENTED = "not implemented yet"
"""The phrase every checker uses when the learner's code still raises NotImplementedError."""

TIME_LIMIT = 10.0
"""Seconds one call of the learner's code may take before it is stopped as a likely infinite loop.
A correct solution takes milliseconds; the limit is generous for a busy laptop."""

_LOW_PRECISION = (torch.float16, torch.bfloat16)


# ---------------------------------------------------------------------------------------------------
# The staged-checking machinery shared by every checker.
# ---------------------------------------------------------------------------------------------------

def _shape(shape) -> str:
    dims = tuple(int(d) for d in shape)
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


def _same(actual, expected, atol: float, rtol: float) -> bool:
    """Same shape and numbers (bool tensors compare as 0/1)."""
    if not isinstance(actual, torch.Tensor) or not isinstance(expected, torch.Tensor):
        return False
    if actual.shape != expected.shape:
        return False
    if actual.numel() == 0:
        return True
    a, e = actual.detach().double().cpu(), expected.detach().double().cpu()
    return bool(torch.allclose(a, e, atol=atol, rtol=rtol))


def _max_diff(actual: torch.Tensor, expected: torch.Tensor) -> float:
    diff = (actual.detach().double().cpu() - expected.detach().double().cpu()).abs()
    diff = torch.nan_to_num(diff, nan=float("inf"))
    return float(diff.max()) if diff.numel() else 0.0


@contextmanager
def _sandbox(seed: int = 0):
    """Seed torch for the learner's constructors, restore the caller's random state, no gradients."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        with torch.no_grad():
            yield


class _Check:
    """One checker run: knows its title and raises AssertionErrors that start with it."""

    def __init__(self, title: str):
        self.title = title
        _RUNNING.append(self)

    def fail(self, message: str):
        raise AssertionError(f"{self.title}: {message}")

    def callable(self, obj, what: str, example: str):
        if not callable(obj):
            self.fail(f"expected {what}, got {type(obj).__name__}. Call it like this: {example}")

    def a_class(self, cls, example: str):
        if isinstance(cls, nn.Module):
            self.fail(f"pass the class itself, not an instance of it: {example}")
        if not isinstance(cls, type):
            self.fail(f"expected a class (an nn.Module subclass), got {type(cls).__name__}. "
                      f"Call it like this: {example}")

    def module(self, obj, example: str) -> None:
        """The learner's class must build an nn.Module (so it has parameters, .eval(), hooks)."""
        if not isinstance(obj, nn.Module):
            self.fail(f"expected your class to build an nn.Module, got a {type(obj).__name__} object that is not "
                      f"one; derive it from nn.Module and call super().__init__() first: {example}")

    def call(self, fn, *args, on: str, advice: str = "", **kwargs):
        """Run learner code on copies of the tensors given, with a time limit; translate NotImplementedError,
        crashes, runaway loops and in-place changes of the inputs into readable AssertionErrors."""
        copies = [_copy(a) for a in args]
        kwcopies = {k: _copy(v) for k, v in kwargs.items()}
        try:
            result = _time_limited(lambda: fn(*copies, **kwcopies), TIME_LIMIT)
        except NotImplementedError:
            raise AssertionError(
                f"{self.title}: {NOT_IMPLEMENTED}. Replace `raise NotImplementedError()` with your code, "
                "run that cell, then run this check again.") from None
        except _Stopped as stop:
            raise AssertionError(f"{self.title}: {stop.describe(on)}") from None
        except Exception as error:  # the learner's code crashed: say on which input, keep the traceback
            extra = f"\nHint: {advice}" if advice else ""
            raise AssertionError(f"{self.title}: your code crashed on {on}:\n    {type(error).__name__}: "
                                 f"{error}{extra}\n(the traceback above shows the line)") from error
        names = _argument_names(fn, len(args), list(kwargs))
        for name, original, copy in zip(names, list(args) + list(kwargs.values()),
                                        copies + list(kwcopies.values())):
            if isinstance(original, torch.Tensor) and not _unchanged(original, copy):
                self.fail(f"原地修改 (in-place change): your code changed its input `{name}` in place on {on}, "
                          f"e.g. with `{name} /= ...`, `{name} -= ...`, `{name} += ...` or a method ending in _ "
                          f"such as `{name}.masked_fill_(...)`; the caller's tensor is then different afterwards. "
                          f"Make a new tensor instead: `{name} = {name} / ...`.")
        return result

    def tensor(self, value, name: str, on: str, shape: Sequence[int], described: str,
               kind: str = "float", shape_hints: dict | None = None) -> torch.Tensor:
        """Stage 2: a tensor of the right shape and kind (float / bool)."""
        if not isinstance(value, torch.Tensor):
            self.fail(f"expected {name} to be a torch.Tensor {described}, got {type(value).__name__} (on {on})")
        if tuple(value.shape) != tuple(shape):
            hint = (shape_hints or {}).get(tuple(value.shape))
            wanted = described if described == _shape(shape) else f"{described} = {_shape(shape)}"
            self.fail(f"expected {name} of shape {wanted} on {on}, got {_shape(value.shape)}"
                      + (f".\nLikely mistake: {hint}" if hint else ""))
        if kind == "float" and not value.is_floating_point():
            self.fail(f"expected {name} to hold floating-point numbers, got dtype {value.dtype} (on {on})")
        if kind == "bool" and value.dtype != torch.bool:
            self.fail(f"expected {name} to be a boolean tensor (dtype torch.bool), got dtype {value.dtype} (on {on})")
        return value

    def numbers(self, actual: torch.Tensor, expected: torch.Tensor, name: str, on: str,
                variants: Iterable[tuple[str, Callable[[], torch.Tensor]]] = (), fallback: str = "",
                atol: float = 1e-5, rtol: float = 1e-4, match_atol: float | None = None) -> None:
        """Stages 3 and 4: compare with the reference; if different, name the known mistake it matches.

        A variant matches within `match_atol` (looser than the pass tolerance: the variants lie far apart,
        and a learner's float32 arithmetic may differ from the float64 variant a little).
        """
        if _same(actual, expected, atol, rtol):
            return
        variants = list(variants)
        m_atol = max(atol, 1e-4) if match_atol is None else match_atol
        if (isinstance(actual, torch.Tensor) and actual.dtype in _LOW_PRECISION
                and isinstance(expected, torch.Tensor) and expected.dtype not in _LOW_PRECISION):
            self._low_precision(actual, expected, name, on, variants)
        if actual.is_floating_point() and not torch.isfinite(actual).all() and torch.isfinite(expected).all():
            bad = "NaN" if torch.isnan(actual).any() else "inf"
            hint = _match(actual, variants, m_atol, rtol)
            self.fail(f"{name} contains {bad} on {on}, where every value should be finite."
                      + (f"\nLikely mistake: {hint}" if hint else
                         "\nA NaN usually comes from a softmax over a row that is all -inf, or from 0/0."))
        hint = _match(actual, variants, m_atol, rtol)
        diff = _max_diff(actual, expected)
        if hint:
            self.fail(f"wrong {name} on {on} (largest difference {diff:.3g}).\nLikely mistake: {hint}")
        self.fail(f"wrong {name} on {on} (largest difference {diff:.3g}); it matches none of the usual "
                  f"mistakes." + (f" Things to check: {fallback}" if fallback else ""))

    def _low_precision(self, actual, expected, name, on, variants) -> None:
        """A float16/bfloat16 result where float32 was expected: name the dtype, whatever else is wrong."""
        fix = ("Compute in the inputs' dtype: remove the .half() / .to(torch.float16) / dtype=torch.float16 "
               "(float16 keeps only about 3 significant digits).")
        if actual.shape == expected.shape and _same(actual, expected, 2e-2, 2e-2):
            self.fail(f"{name} has dtype {actual.dtype} on {on}, but the inputs are torch.float32 and so must the "
                      f"result be; its numbers are right to {actual.dtype} precision. {fix}")
        hint = _match(actual, variants, 2e-2, 2e-2)
        self.fail(f"wrong {name} on {on}, and it has dtype {actual.dtype} where the inputs are torch.float32. {fix}"
                  + (f"\nLikely mistake as well: {hint}" if hint else ""))

    def expected(self, compute: Callable, what: str):
        """Compute a reference value that uses the learner's own submodules; their errors are theirs to see."""
        try:
            return _time_limited(compute, TIME_LIMIT)
        except _Stopped as stop:
            raise AssertionError(f"{self.title}: {stop.describe(what)}") from None
        except Exception as error:
            raise AssertionError(f"{self.title}: {what} crashed:\n    {type(error).__name__}: {error}\n"
                                 "(the traceback above shows the line)") from error

    def passed(self) -> None:
        print(f"✓ {self.title}: all checks passed")


# ---------------------------------------------------------------------------------------------------
# Running learner code safely: copies, time limits, runaway loops, internal errors.
# ---------------------------------------------------------------------------------------------------

def _copy(value):
    """A tensor is cloned (so the learner's code cannot change the checker's own); anything else is passed as is."""
    return value.detach().clone() if isinstance(value, torch.Tensor) else value


def _unchanged(original: torch.Tensor, copy) -> bool:
    return (isinstance(copy, torch.Tensor) and copy.shape == original.shape and copy.dtype == original.dtype
            and bool(torch.equal(torch.nan_to_num(copy), torch.nan_to_num(original))))


def _argument_names(fn, n_positional: int, keywords: list) -> list[str]:
    """The learner's own parameter names for the arguments given (e.g. query, key), else "argument 1", ..."""
    try:
        target = fn.forward if isinstance(fn, nn.Module) else fn
        params = [p.name for p in inspect.signature(target).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = [params[i] if i < len(params) else f"argument {i + 1}" for i in range(n_positional)]
    return names + list(keywords)


class _Stopped(BaseException):
    """Raised inside the learner's code to stop it (BaseException: a learner's `except Exception` cannot swallow it)."""

    def describe(self, on: str) -> str:
        return self.args[0].format(on=on) if self.args else f"your code was stopped on {on}"


class _TimeLimit(_Stopped):
    seconds = TIME_LIMIT

    def describe(self, on: str) -> str:
        return (f"your code ran for more than {self.seconds:g} s on {on} and was stopped. A correct solution takes "
                "a few milliseconds, so this is most likely an infinite loop: a `while` whose condition never "
                "becomes False, or a loop that never reaches its `break` (its counter or list never changes).")


def _time_limited(compute: Callable, seconds: float | None):
    """Run `compute()`, stopping it after `seconds` with _TimeLimit.

    A watchdog thread raises the exception inside this thread (CPython's PyThreadState_SetAsyncExc), which
    works in Jupyter on Linux, macOS and Windows, in any thread, without touching signal handlers. It stops a
    Python loop at its next step; a single long C call (one huge matmul) finishes first. Once the call is
    over, a pending exception is cleared, so the kernel is left as it was.
    """
    set_async = getattr(getattr(ctypes, "pythonapi", None), "PyThreadState_SetAsyncExc", None)
    if not seconds or set_async is None:                     # not CPython: no limit
        return compute()
    thread_id, lock, state = threading.get_ident(), threading.Lock(), {"inside": True, "fired": False}

    class Stop(_TimeLimit):
        pass
    Stop.seconds = seconds

    def fire():
        with lock:
            if state["inside"]:
                state["fired"] = True
                set_async(ctypes.c_ulong(thread_id), ctypes.py_object(Stop))
    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    try:
        timer.start()
        try:
            return compute()
        finally:
            with lock:
                state["inside"] = False
            timer.cancel()
            if state["fired"]:
                set_async(ctypes.c_ulong(thread_id), None)     # clear it if it is still pending
                raise Stop()
    except _TimeLimit as stop:
        if state["fired"]:
            raise Stop() from None
        raise stop


class _Limited:
    """Wraps a step function: at most `max_calls` calls, prefixes of at most `max_prefix` tokens, else _Stopped."""

    def __init__(self, step_fn, max_calls: int, max_prefix: int, max_len: int):
        self.step_fn, self.max_calls, self.max_prefix, self.max_len = step_fn, max_calls, max_prefix, max_len
        self.count = 0

    def __call__(self, prefix):
        self.count += 1
        length = len(prefix) if isinstance(prefix, (list, tuple)) else (
            prefix.numel() if isinstance(prefix, torch.Tensor) else 0)
        if self.count > self.max_calls or length > self.max_prefix:
            what = (f"called step_fn {self.count} times" if self.count > self.max_calls
                    else f"called step_fn with a prefix of {length} tokens")
            raise _Stopped(f"your loop {what} on {{on}}, where max_len={self.max_len} allows at most "
                           f"{self.max_len} generated tokens, and was stopped before it used up the memory. Likely "
                           "mistake: the loop does not stop — it must end after max_len steps and when the chosen "
                           "token is eos_id (check the loop's condition and its `break`).")
        return self.step_fn(prefix)

    def __getattr__(self, name):
        return getattr(self.step_fn, name)


_RUNNING: list = []
THE_INPUTS = "the checker's inputs"


def _checker(check):
    """Turn any error a checker did not foresee into an AssertionError that says the learner's code caused it."""
    @functools.wraps(check)
    def run(*args, **kwargs):
        depth = len(_RUNNING)
        try:
            return check(*args, **kwargs)
        except AssertionError:
            raise
        except _Stopped as stop:
            title = _RUNNING[depth].title if len(_RUNNING) > depth else check.__name__
            raise AssertionError(f"{title}: {stop.describe(THE_INPUTS)}") from None
        except Exception as error:
            title = _RUNNING[depth].title if len(_RUNNING) > depth else check.__name__
            raise AssertionError(
                f"{title}: your code did something this check did not expect, and checking it failed with "
                f"{type(error).__name__}: {error}\nCompare your class or function with what the exercise asks "
                f"for (help({check.__name__}) lists the names and shapes it expects); the traceback above "
                "shows where.") from error
        finally:
            del _RUNNING[depth:]
    return run


def _match(actual, variants, atol, rtol) -> str | None:
    """The hints of the known-wrong variants whose output equals the learner's (None if none does)."""
    hints: list[str] = []
    for hint, compute in variants:
        if hint in hints:
            continue
        try:
            candidate = compute()
        except Exception:  # a variant that cannot run on these inputs cannot be the learner's mistake
            continue
        if isinstance(candidate, torch.Tensor) and isinstance(actual, torch.Tensor):
            if candidate.shape != actual.shape:
                continue
            if candidate.is_floating_point() and not torch.isfinite(candidate).all():
                # NaN in the same places and the rest equal: the same mistake
                if actual.is_floating_point() and torch.equal(torch.isnan(candidate), torch.isnan(actual)) and _same(
                        torch.nan_to_num(actual, nan=0.0), torch.nan_to_num(candidate, nan=0.0), atol, rtol):
                    hints.append(hint)
                continue
            if _same(actual, candidate, atol, rtol):
                hints.append(hint)
        elif candidate == actual:
            hints.append(hint)
    return _join_hints(hints)


def _join_hints(hints: Sequence[str]) -> str | None:
    if not hints:
        return None
    if len(hints) == 1:
        return hints[0]
    return "one of these (your result fits each of them):\n  - " + "\n  - ".join(hints)


def _randn(*shape, seed: int, scale: float = 1.0, shift: float = 0.0, dtype=torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64).mul(scale).add(shift).to(dtype)


def _random_mask(*shape, seed: int) -> torch.Tensor:
    """A boolean mask where every row has at least one True and one False (so an inverted mask is finite too)."""
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(*shape, generator=g) < 0.6
    mask[..., 0] = True
    mask[..., -1] = False
    return mask


def _randomize(module: nn.Module, seed: int, std: float = 0.3) -> None:
    """Overwrite every parameter with seeded random numbers: weights and biases of modules named norm* near
    1 and 0 (a non-trivial LayerNorm), everything else normal with standard deviation `std`."""
    g = torch.Generator().manual_seed(seed)
    for name, p in sorted(module.named_parameters(), key=lambda item: item[0]):
        noise = torch.randn(p.shape, generator=g, dtype=torch.float64).to(p.dtype)
        leaf = name.rsplit(".", 1)[-1]
        is_norm = any(part.startswith("norm") for part in name.split(".")[:-1]) or "layer_norm" in name
        if is_norm and leaf == "weight":
            p.copy_(1.0 + 0.4 * noise)
        elif is_norm and leaf == "bias":
            p.copy_(0.3 * noise)
        else:
            p.copy_(std * noise)


def _is_linear(module, in_features: int, out_features: int) -> bool:
    return isinstance(module, nn.Linear) and module.in_features == in_features and module.out_features == out_features


# ---------------------------------------------------------------------------------------------------
# Lesson 01: scaled dot-product attention (缩放点积注意力) and the causal mask (因果掩码)
# ---------------------------------------------------------------------------------------------------

def _attention(q, k, v, mask=None, *, scale: str = "sqrt_dk", softmax_dim: int = -1, mask_mode: str = "before"):
    """Reference attention and its known-wrong variants (scale, softmax axis, how the mask is used)."""
    d_k, d_v = q.size(-1), v.size(-1)
    scores = q @ k.transpose(-2, -1)                          # (..., T_q, d_k) @ (..., d_k, T_k) -> (..., T_q, T_k)
    divisor = {"sqrt_dk": math.sqrt(d_k), "none": 1.0, "dk": float(d_k), "sqrt_dv": math.sqrt(d_v),
               "times_sqrt_dk": 1.0 / math.sqrt(d_k), "after_softmax": 1.0}[scale]
    scores = scores / divisor
    if mask is not None and mask_mode in ("before", "inverted", "zero_fill"):
        keep = ~mask if mask_mode == "inverted" else mask
        scores = scores.masked_fill(~keep, 0.0 if mask_mode == "zero_fill" else float("-inf"))
    weights = torch.softmax(scores, dim=softmax_dim)
    if scale == "after_softmax":
        weights = weights / math.sqrt(d_k)
    if mask is not None and mask_mode == "after":
        weights = weights.masked_fill(~mask, 0.0)
    return weights @ v, weights


_ATTENTION_SCALE_HINTS = [
    ("自注意力 (self-attention): your weights sum to 1 over the query axis, not the key axis — each query's row "
     "must sum to 1, so use softmax(scores, dim=-1).", dict(softmax_dim=-2)),
    ("缩放 (scaling) is missing: the scores must be divided by sqrt(d_k) before the softmax, "
     "scores = query @ key.transpose(-2, -1) / sqrt(d_k).", dict(scale="none")),
    ("缩放 (scaling): you divided the scores by d_k; divide by its square root, sqrt(d_k) = math.sqrt(query.size(-1)).",
     dict(scale="dk")),
    ("缩放 (scaling): you scaled by sqrt(d_v), the size of the value vectors; the scale is sqrt(d_k), the size of the query "
     "and key vectors (query.size(-1)).", dict(scale="sqrt_dv")),
    ("缩放 (scaling): you multiplied the scores by sqrt(d_k); divide them by it.", dict(scale="times_sqrt_dk")),
    ("缩放 (scaling): you divided the weights by sqrt(d_k) after the softmax; scale the scores before the softmax, "
     "so that each row of weights still sums to 1.", dict(scale="after_softmax")),
]

_MASK_HINTS = [
    ("掩码 (mask): its meaning is inverted — in this course (as in F.scaled_dot_product_attention) True means "
     "'may attend', so fill the scores where the mask is False: scores.masked_fill(~mask, float('-inf')).",
     dict(mask_mode="inverted")),
    ("掩码 (mask): you masked after the softmax (setting weights to 0), so the remaining weights no longer sum "
     "to 1; fill the scores with -inf before the softmax instead.", dict(mask_mode="after")),
    ("掩码 (mask): you filled masked scores with 0, but exp(0) = 1 still gives those keys weight; fill them "
     "with float('-inf') (or a large negative number such as -1e9).", dict(mask_mode="zero_fill")),
    ("掩码 (mask): the mask is ignored — masked keys still get weight. Use it: "
     "scores.masked_fill(~mask, float('-inf')) before the softmax.", dict(mask_mode="ignored")),
]


@_checker
def check_scaled_dot_product_attention(fn) -> None:
    """Check `fn(query, key, value, mask=None) -> (output, weights)`.

    query `(..., T_q, d_k)`, key `(..., T_k, d_k)`, value `(..., T_k, d_v)`; mask boolean, True where a
    query may attend to a key, broadcastable to `(..., T_q, T_k)`. output `(..., T_q, d_v)`,
    weights `(..., T_q, T_k)` with each row summing to 1 over the keys.
    """
    c = _Check("缩放点积注意力 (scaled dot-product attention)")
    c.callable(fn, "your attention function", "check_scaled_dot_product_attention(scaled_dot_product_attention)")
    B, T_q, T_k, d_k, d_v = 2, 3, 7, 8, 5
    with _sandbox():
        q, k, v = _randn(B, T_q, d_k, seed=1), _randn(B, T_k, d_k, seed=2), _randn(B, T_k, d_v, seed=3)

        def run(on, *args, advice=""):
            result = c.call(fn, *args, on=on, advice=advice)
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                c.fail(f"expected a pair (output, weights) on {on}, got {type(result).__name__}"
                       + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
                       + ". End your function with `return output, weights`.")
            return result

        # Stage 1-2: no mask, T_q != T_k, d_v != d_k: shapes tell many mistakes apart.
        on = f"query {_shape(q.shape)}, key {_shape(k.shape)}, value {_shape(v.shape)}, no mask"
        output, weights = run(on, q, k, v)
        lead = (B,)
        if (isinstance(output, torch.Tensor) and isinstance(weights, torch.Tensor)
                and tuple(output.shape) == lead + (T_q, T_k) and tuple(weights.shape) == lead + (T_q, d_v)):
            c.fail(f"you returned (weights, output); return them in the order (output, weights) (on {on}).")
        weights = c.tensor(weights, "weights", on, lead + (T_q, T_k), "(B, T_q, T_k)", shape_hints={
            lead + (T_k, T_q): "your scores are key @ query^T; compute query @ key.transpose(-2, -1), so that "
                               "row i holds query i's score against every key.",
            lead + (T_q, T_q): "you compared the queries with themselves; compare them with the keys: "
                               "query @ key.transpose(-2, -1).",
        })
        output = c.tensor(output, "output", on, lead + (T_q, d_v), "(B, T_q, d_v)", shape_hints={
            lead + (T_q, d_k): "you multiplied the weights by the keys; the output is weights @ value.",
        })
        ref_out, ref_w = _attention(q, k, v)
        c.numbers(weights, ref_w, "weights", on, [
            (hint, lambda kw=kw: _attention(q, k, v, **kw)[1]) for hint, kw in _ATTENTION_SCALE_HINTS
        ] + [("自注意力 (self-attention): softmax over the batch axis (dim=0); it goes over the keys, dim=-1.",
              lambda: _attention(q, k, v, softmax_dim=0)[1])],
            fallback="scores = query @ key.transpose(-2, -1) / math.sqrt(d_k); weights = softmax(scores, dim=-1).")
        c.numbers(output, ref_out, "output", on, [
            ("the output should be weights @ value; yours matches unscaled weights @ value.",
             lambda: _attention(q, k, v, scale="none")[0]),
        ], fallback="output = weights @ value, with the same weights you return.")

        # Stage 3: a boolean mask, (B, T_q, T_k), every row with some keys allowed and some hidden.
        mask = _random_mask(B, T_q, T_k, seed=4)
        on = f"the same inputs with a boolean mask {_shape(mask.shape)} (True = may attend)"
        output, weights = run(on, q, k, v, mask)
        weights = c.tensor(weights, "weights", on, lead + (T_q, T_k), "(B, T_q, T_k)")
        output = c.tensor(output, "output", on, lead + (T_q, d_v), "(B, T_q, d_v)")
        ref_out, ref_w = _attention(q, k, v, mask)
        variants = [(hint, lambda kw=kw: _attention(q, k, v, mask, **kw)[1]) for hint, kw in _MASK_HINTS]
        c.numbers(weights, ref_w, "weights", on, variants,
                  fallback="scores.masked_fill(~mask, float('-inf')) before the softmax; masked keys get weight 0.")
        c.numbers(output, ref_out, "output", on, fallback="output = weights @ value.")

        # Stage 4: extra leading dimensions (B, h, T, d) and a mask that broadcasts, as multi-head attention needs.
        q4, k4, v4 = _randn(2, 3, 4, 6, seed=5), _randn(2, 3, 5, 6, seed=6), _randn(2, 3, 5, 4, seed=7)
        mask4 = _random_mask(4, 5, seed=8)
        on = (f"4-D inputs query {_shape(q4.shape)}, key {_shape(k4.shape)}, value {_shape(v4.shape)} "
              f"(B, h, T, d) with a mask {_shape(mask4.shape)} that broadcasts over B and h")
        output, weights = run(on, q4, k4, v4, mask4,
                              advice="use key.transpose(-2, -1) and softmax(..., dim=-1), which work for any number "
                                     "of leading dimensions (multi-head attention passes (B, h, T, d)).")
        weights = c.tensor(weights, "weights", on, (2, 3, 4, 5), "(B, h, T_q, T_k)", shape_hints={
            (2, 3, 5, 4): "transpose the last two axes of key, key.transpose(-2, -1), so any leading axes stay put.",
        })
        output = c.tensor(output, "output", on, (2, 3, 4, 4), "(B, h, T_q, d_v)")
        ref_out, ref_w = _attention(q4, k4, v4, mask4)
        c.numbers(weights, ref_w, "weights", on,
                  [(hint, lambda kw=kw: _attention(q4, k4, v4, mask4, **kw)[1])
                     for hint, kw in _ATTENTION_SCALE_HINTS + _MASK_HINTS],
                  fallback="use the last two axes only: key.transpose(-2, -1), softmax(dim=-1).")
        c.numbers(output, ref_out, "output", on)
    c.passed()


@_checker
def check_causal_mask(fn) -> None:
    """Check `fn(size) -> (size, size)` boolean tensor, True on and below the diagonal (t sees 0..t)."""
    c = _Check("因果掩码 (causal mask)")
    c.callable(fn, "your causal-mask function", "check_causal_mask(causal_mask)")
    for size in (4, 7, 1):
        on = f"size={size}"
        mask = c.call(fn, size, on=on)
        if isinstance(mask, torch.Tensor) and tuple(mask.shape) == (size, size) and mask.dtype != torch.bool:
            values = mask.detach().double()
            if torch.isinf(values).any() or (size > 1 and torch.equal(values, torch.zeros_like(values))):
                c.fail(f"you returned an additive float mask (0 and -inf, like nn.Transformer's "
                       f"generate_square_subsequent_mask) on {on}; this course's masks are boolean, True where "
                       "a position may attend: torch.ones(size, size, dtype=torch.bool).tril().")
            c.fail(f"the mask must be boolean (dtype torch.bool), got {mask.dtype} on {on}; make it with "
                   "dtype=torch.bool, or add .bool() at the end.")
        mask = c.tensor(mask, "the mask", on, (size, size), "(size, size)", kind="bool")
        ones = torch.ones(size, size, dtype=torch.bool)
        c.numbers(mask, ones.tril(), "mask", on, [
            ("因果掩码 (causal mask): yours hides the diagonal — a position must be allowed to attend to itself "
             "(position 0 would see nothing at all); use tril() (diagonal=0), not tril(-1).",
             lambda: ones.tril(-1)),
            ("因果掩码 (causal mask): True marks the positions to hide (nn.MultiheadAttention's convention); in this "
             "course True means 'may attend', so the mask is ones.tril() — or invert yours with ~.",
             lambda: ones.triu(1)),
            ("因果掩码 (causal mask): yours is the upper triangle, so each position sees the future and not the past; "
             "row t is the query: it may see columns 0..t, the lower triangle, tril().",
             lambda: ones.triu()),
            ("因果掩码 (causal mask): each position may also see the next one; use tril() (diagonal=0), not tril(1).",
             lambda: ones.tril(1)),
            ("因果掩码 (causal mask): everything is allowed, so every position sees the future; keep only the "
             "lower triangle, tril().", lambda: ones),
        ], fallback="row t (a query) may see columns 0..t: torch.ones(size, size, dtype=torch.bool).tril().")
    c.passed()


# ---------------------------------------------------------------------------------------------------
# Lesson 02: sinusoidal positional encoding (位置编码) and its shift matrix
# ---------------------------------------------------------------------------------------------------

def _pe(max_len: int, d_model: int, *, layout: str = "interleave", exponent: str = "2i/d", first: int = 0,
        divide: bool = True, length_in_exponent: bool = False) -> torch.Tensor:
    """Reference sinusoidal encoding (float64) and its known-wrong variants."""
    pos = torch.arange(first, first + max_len, dtype=torch.float64)[:, None]   # (max_len, 1)
    j = torch.arange(d_model, dtype=torch.float64)                             # dimension index
    pair = torch.div(j, 2, rounding_mode="floor")                              # i = j // 2
    size = max_len if length_in_exponent else d_model
    power = {"2i/d": 2 * pair / size, "j/d": j / size, "i/d": pair / size, "4i/d": 4 * pair / size}[exponent]
    freq = 10000.0 ** power                                                    # (d_model,)
    angle = pos / freq if divide else pos * freq                               # (max_len, d_model)
    even = (j % 2 == 0)
    if layout == "interleave":
        return torch.where(even, torch.sin(angle), torch.cos(angle))
    if layout == "swapped":
        return torch.where(even, torch.cos(angle), torch.sin(angle))
    if layout == "sin_only":
        return torch.sin(angle)
    if layout == "concat":                                                      # [sin of every pair | cos of every pair]
        a = angle[:, 0::2]
        return torch.cat([torch.sin(a), torch.cos(a)], dim=-1)
    raise ValueError(layout)


@_checker
def check_positional_encoding(fn) -> None:
    """Check `fn(max_len, d_model) -> (max_len, d_model)`.

    PE(pos, 2i) = sin(pos / 10000^(2i/d_model)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)).
    """
    c = _Check("位置编码 (positional encoding)")
    c.callable(fn, "your positional-encoding function", "check_positional_encoding(sinusoidal_encoding)")
    for max_len, d_model in ((20, 16), (9, 6)):
        on = f"max_len={max_len}, d_model={d_model}"
        pe = c.call(fn, max_len, d_model, on=on)
        pe = c.tensor(pe, "the encoding", on, (max_len, d_model), "(max_len, d_model)", shape_hints={
            (d_model, max_len): "your table is transposed: one row per position, (max_len, d_model).",
            (1, max_len, d_model): "return the table itself, (max_len, d_model), without a leading batch axis "
                                   "(no .unsqueeze(0)); adding it to (B, T, d_model) embeddings broadcasts anyway.",
        })

        def v(**kw):
            return lambda: _pe(max_len, d_model, **kw)
        c.numbers(pe, _pe(max_len, d_model), "encoding", on, [
            ("位置编码 (positional encoding): sin and cos are concatenated ([all sines | all cosines]); they must "
             "be interleaved: sin on even dimensions 0, 2, 4, ..., cos on odd dimensions 1, 3, 5, ... "
             "(pe[:, 0::2] = sin, pe[:, 1::2] = cos).", v(layout="concat")),
            ("位置编码 (positional encoding): sin and cos are swapped; sin goes on the even dimensions (0, 2, ...) "
             "and cos on the odd ones.", v(layout="swapped")),
            ("位置编码 (positional encoding): every dimension uses sin; the odd dimensions use cos.", v(layout="sin_only")),
            ("位置编码 (positional encoding): the wrong exponent — you used j/d_model with j the dimension index, so "
             "each sin/cos pair gets two different frequencies. Dimensions 2i and 2i+1 share one frequency: "
             "10000^(2i/d_model), with i = j // 2.", v(exponent="j/d")),
            ("位置编码 (positional encoding): the wrong exponent — you used 2j/d_model with j the dimension index "
             "(torch.arange(0, d_model, 2) already holds 2i; do not double it again). The exponent is 2i/d_model.",
             v(exponent="4i/d")),
            ("位置编码 (positional encoding): the wrong exponent — you used i/d_model; the exponent is 2i/d_model "
             "(i is the pair index, so 2i runs 0, 2, 4, ...).", v(exponent="i/d")),
            ("位置编码 (positional encoding): you multiplied the position by 10000^(2i/d_model); divide by it, "
             "pos / 10000^(2i/d_model) (in exp form: pos * exp(-2i * ln(10000) / d_model)).", v(divide=False)),
            ("位置编码 (positional encoding): your positions start at 1; they start at 0 "
             "(torch.arange(max_len)), so PE(0) = [0, 1, 0, 1, ...].", v(first=1)),
            ("位置编码 (positional encoding): the exponent divides by max_len; it divides by d_model, "
             "10000^(2i/d_model).", v(length_in_exponent=True)),
        ], fallback="PE(pos, 2i) = sin(pos / 10000^(2i/d_model)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)), "
                    "positions 0..max_len-1.", atol=1e-4, rtol=1e-4, match_atol=0.05)
    c.passed()


def _shift(k: int, d_model: int, *, transpose: bool = False, pair_exponent: str = "2i/d",
           layout: str = "interleave", use_k: bool = True) -> torch.Tensor:
    """Reference shift matrix M (PE[pos + k] = PE[pos] @ M) and its known-wrong variants, in float64."""
    M = torch.zeros(d_model, d_model, dtype=torch.float64)
    half = d_model // 2
    for i in range(half):
        power = (2 * i if pair_exponent == "2i/d" else i) / d_model
        angle = (k if use_k else 1) / 10000.0 ** power
        cos, sin = math.cos(angle), math.sin(angle)
        s, c = (2 * i, 2 * i + 1) if layout == "interleave" else (i, i + half)   # rows/cols of the sin and cos
        M[s, s], M[c, s] = cos, sin        # new sin = sin * cos(wk) + cos * sin(wk)
        M[s, c], M[c, c] = -sin, cos       # new cos = cos * cos(wk) - sin * sin(wk)
    return M.T.contiguous() if transpose else M


@_checker
def check_shift_matrix(fn) -> None:
    """Check `fn(k, d_model) -> (d_model, d_model)` matrix M with PE[pos + k] = PE[pos] @ M for every pos."""
    c = _Check("位置编码的平移矩阵 (shift matrix of the positional encoding)")
    c.callable(fn, "your shift-matrix function", "check_shift_matrix(shift_matrix)")
    for k, d_model in ((3, 8), (1, 8), (5, 4)):
        on = f"k={k}, d_model={d_model}"
        M = c.call(fn, k, d_model, on=on)
        M = c.tensor(M, "M", on, (d_model, d_model), "(d_model, d_model)")
        expected = _shift(k, d_model)
        c.numbers(M, expected, "M", on, [
            ("平移 (shift): your matrix moves k positions backwards — PE[pos] @ M gives PE[pos - k]. Transpose it: "
             "with row vectors on the left, the new sin of pair i is sin*cos(w k) + cos*sin(w k), so "
             "M[2i, 2i] = cos, M[2i+1, 2i] = sin, M[2i, 2i+1] = -sin, M[2i+1, 2i+1] = cos.",
             lambda: _shift(k, d_model, transpose=True)),
            ("平移 (shift): your matrix ignores k — it always moves one position; the angle of pair i is k * w_i.",
             lambda: _shift(k, d_model, use_k=False)),
            ("平移 (shift): the wrong frequency — pair i turns at w_i = 1 / 10000^(2i/d_model) (2i, not i).",
             lambda: _shift(k, d_model, pair_exponent="i/d")),
            ("平移 (shift): you rotate dimensions i and i + d_model/2 together (the concatenated layout); in the "
             "paper's layout each pair is a neighbour pair (2i, 2i+1).",
             lambda: _shift(k, d_model, layout="concat")),
            ("平移 (shift): you built the identity matrix; moving by k rotates each (sin, cos) pair by the angle k * w_i.",
             lambda: torch.eye(d_model, dtype=torch.float64)),
        ], fallback="one 2x2 rotation block per (sin, cos) pair, angle k / 10000^(2i/d_model), placed on "
                    "rows/columns 2i and 2i+1.", atol=1e-5, rtol=1e-4)
        table = _pe(40, d_model)                                 # the property itself, on 40 positions
        c.numbers(table[:-k] @ M.detach().double(), table[k:], "PE[pos] @ M", on + ", compared with PE[pos + k]",
                  atol=1e-5, rtol=1e-4)
    c.passed()


# ---------------------------------------------------------------------------------------------------
# Lesson 03: multi-head attention (多头注意力)
# ---------------------------------------------------------------------------------------------------

def _split(x: torch.Tensor, h: int, how: str = "ok") -> torch.Tensor:
    B, T, d = x.shape
    d_k = d // h
    if how == "ok":
        return x.view(B, T, h, d_k).transpose(1, 2)              # (B, T, d) -> (B, T, h, d_k) -> (B, h, T, d_k)
    if how == "view":
        return x.reshape(B, h, T, d_k)                           # the mistake: tokens and features mixed up
    if how == "interleave":
        return x.reshape(B, T, d_k, h).permute(0, 3, 1, 2)       # head i takes features i, i+h, i+2h, ...
    raise ValueError(how)


@_checker
def check_split_heads(fn) -> None:
    """Check `fn(x, num_heads)`: `(B, T, d_model) -> (B, num_heads, T, d_k)`, head i = features i*d_k .. (i+1)*d_k."""
    c = _Check("多头注意力 (multi-head attention), splitting the heads")
    c.callable(fn, "your split_heads function", "check_split_heads(split_heads)")
    for B, T, d, h in ((2, 5, 12, 3), (1, 4, 8, 4)):
        x = _randn(B, T, d, seed=10 + T)
        on = f"x of shape {_shape(x.shape)} with num_heads={h}"
        out = c.call(fn, x, h, on=on)
        out = c.tensor(out, "the result", on, (B, h, T, d // h), "(B, num_heads, T, d_k)", shape_hints={
            (B, T, h, d // h): "you reshaped to (B, T, h, d_k) but did not move the head axis forward: "
                               "add .transpose(1, 2) to get (B, h, T, d_k).",
            (B, h, d // h, T): "the last two axes are swapped: the result is (B, h, T, d_k).",
        })
        c.numbers(out, _split(x, h), "result", on, [
            ("多头注意力 (multi-head attention): heads split with view(B, h, T, d_k) and no transpose — that mixes "
             "tokens and features (the loss may still fall, but the heads are garbage). Split the last axis: "
             "x.view(B, T, h, d_k).transpose(1, 2).", lambda: _split(x, h, "view")),
            ("多头注意力 (multi-head attention): your heads take every h-th feature (interleaved); head i must take "
             "the contiguous block of features i*d_k .. (i+1)*d_k: x.view(B, T, h, d_k).transpose(1, 2).",
             lambda: _split(x, h, "interleave")),
        ], fallback="x.view(B, T, num_heads, d_k).transpose(1, 2).", atol=0.0, rtol=0.0)
    c.passed()


def _mha(m, h: int, query, key, value, mask=None, *, split: str = "ok", merge: str = "ok", scale: str = "sqrt_dk",
         out_proj: bool = True, value_proj: str = "w_v", self_only: bool = False, softmax_dim: int = -1,
         mask_mode: str = "before") -> torch.Tensor:
    """Reference multi-head attention with the learner's own projections, and its known-wrong variants."""
    B, T_q, d = query.shape
    d_k = d // h
    key_in, value_in = (query, query) if self_only else (key, value)
    q = _split(m.w_q(query), h, split)                                       # (B, h, T_q, d_k)
    k = _split(m.w_k(key_in), h, split)                                      # (B, h, T_k, d_k)
    v = _split((m.w_k if value_proj == "w_k" else m.w_v)(value_in), h, split)
    divisor = {"sqrt_dk": math.sqrt(d_k), "sqrt_dmodel": math.sqrt(d), "none": 1.0}[scale]
    scores = q @ k.transpose(-2, -1) / divisor                               # (B, h, T_q, T_k)
    if mask is not None and mask_mode in ("before", "inverted"):
        keep = mask if mask_mode == "before" else ~mask
        scores = scores.masked_fill(~keep, float("-inf"))
    heads = torch.softmax(scores, dim=softmax_dim) @ v                       # (B, h, T_q, d_k)
    if merge == "ok":
        concat = heads.transpose(1, 2).reshape(B, T_q, d)                    # (B, T_q, h, d_k) -> (B, T_q, d)
    else:
        concat = heads.reshape(B, T_q, d)                                    # the mistake: no transpose back
    return m.w_o(concat) if out_proj else concat


@_checker
def check_multi_head_attention(cls) -> None:
    """Check `cls(d_model, num_heads)` with nn.Linear `w_q, w_k, w_v, w_o` and `forward(query, key, value, mask=None)`.

    query `(B, T_q, d_model)`, key and value `(B, T_k, d_model)`; mask boolean (True = may attend),
    broadcastable to `(B, num_heads, T_q, T_k)`; returns `(B, T_q, d_model)`.
    """
    c = _Check("多头注意力 (multi-head attention)")
    c.a_class(cls, "check_multi_head_attention(MultiHeadAttention)")
    d, h = 12, 3
    with _sandbox():
        m = c.call(cls, d, h, on=f"MultiHeadAttention(d_model={d}, num_heads={h})")
        c.module(m, "class MultiHeadAttention(nn.Module).")
        for name in ("w_q", "w_k", "w_v", "w_o"):
            layer = getattr(m, name, None)
            if layer is None:
                c.fail(f"expected an attribute {name} (an nn.Linear(d_model, d_model)); yours has none. "
                       "Create it in __init__: self.w_q = nn.Linear(d_model, d_model), and the same for w_k, w_v, w_o.")
            if not _is_linear(layer, d, d):
                c.fail(f"expected {name} to be nn.Linear(d_model, d_model) = nn.Linear({d}, {d}) (all heads side by "
                       f"side in one layer), got {layer!r}")
        m.eval()
        _randomize(m, seed=20)

        def check(on, query, key, value, mask, variants):
            out = c.call(m, query, key, value, mask, on=on)
            out = c.tensor(out, "the output", on, query.shape, "(B, T_q, d_model)", shape_hints={
                tuple(key.shape): "the output must have one row per query: (B, T_q, d_model).",
                (query.size(0), h, query.size(1), d // h): "merge the heads back: "
                    "heads.transpose(1, 2).reshape(B, T_q, d_model), then apply w_o.",
            })
            c.numbers(out, _mha(m, h, query, key, value, mask), "output", on,
                      [(hint, lambda kw=kw: _mha(m, h, query, key, value, mask, **kw)) for hint, kw in variants],
                      fallback="split with view(B, T, h, d_k).transpose(1, 2); scores / sqrt(d_k); softmax over "
                               "the keys; merge with transpose(1, 2).reshape(B, T, d_model); then w_o.",
                      atol=1e-4, rtol=1e-4)

        common = [
            ("多头注意力 (multi-head attention): heads split with view(B, h, T, d_k) and no transpose — that mixes "
             "tokens and features. Split with .view(B, T, h, d_k).transpose(1, 2) and merge back with "
             ".transpose(1, 2).reshape(B, T, d_model).", dict(split="view", merge="no_transpose")),
            ("多头注意力 (multi-head attention): heads split with view(B, h, T, d_k) and no transpose — that mixes "
             "tokens and features. Split with .view(B, T, h, d_k).transpose(1, 2).", dict(split="view")),
            ("多头注意力 (multi-head attention): the heads are merged without transposing back — "
             "(B, h, T, d_k).reshape(B, T, d_model) mixes tokens; use heads.transpose(1, 2).reshape(B, T, d_model).",
             dict(merge="no_transpose")),
            ("多头注意力 (multi-head attention): your heads take every h-th feature; head i must take the contiguous "
             "features i*d_k .. (i+1)*d_k: .view(B, T, h, d_k).transpose(1, 2).", dict(split="interleave")),
            ("多头注意力 (multi-head attention): you scaled by sqrt(d_model); each head compares d_k = d_model / h "
             "numbers, so scale by sqrt(d_k).", dict(scale="sqrt_dmodel")),
            ("多头注意力 (multi-head attention): no scaling — divide each head's scores by sqrt(d_k).",
             dict(scale="none")),
            ("多头注意力 (multi-head attention): the output projection w_o is missing; concatenate the heads, then "
             "return self.w_o(concat).", dict(out_proj=False)),
            ("多头注意力 (multi-head attention): the values are projected with w_k; use w_v for the values.",
             dict(value_proj="w_k")),
            ("自注意力 (self-attention): your softmax runs over the query axis; use dim=-1 (the keys).",
             dict(softmax_dim=-2)),
        ]
        x = _randn(2, 5, d, seed=21)
        check(f"self-attention, query = key = value of shape {_shape(x.shape)}, no mask", x, x, x, None, common)

        query, key, value = _randn(2, 4, d, seed=22), _randn(2, 6, d, seed=23), _randn(2, 6, d, seed=24)
        on = (f"cross-attention, query {_shape(query.shape)}, key and value {_shape(key.shape)} "
              "(different tensors), no mask")
        check(on, query, key, value, None, common + [
            ("多头注意力 (multi-head attention): keys and values are computed from query; use the key and value "
             "arguments: self.w_k(key), self.w_v(value).", dict(self_only=True)),
        ])

        mask = _random_mask(2, 1, 4, 6, seed=25)
        on = f"the same cross-attention with a boolean mask {_shape(mask.shape)} (True = may attend)"
        check(on, query, key, value, mask, [
            ("掩码 (mask): its meaning is inverted — True means 'may attend', so fill where the mask is False: "
             "scores.masked_fill(~mask, float('-inf')).", dict(mask_mode="inverted")),
            ("掩码 (mask): the mask is ignored; pass it on to the attention of every head "
             "(it broadcasts over the head axis).", dict(mask_mode="ignored")),
        ] + common)
    c.passed()


# ---------------------------------------------------------------------------------------------------
# Lesson 04: LayerNorm (层归一化) and the residual connection (残差连接)
# ---------------------------------------------------------------------------------------------------

def _layer_norm(x, weight, bias, eps, *, dims=(-1,), unbiased: bool = False, eps_mode: str = "inside",
                affine: str = "ok", center: bool = True) -> torch.Tensor:
    """Reference LayerNorm (float64) and its known-wrong variants."""
    x = x.double()
    weight, bias = weight.double(), bias.double()
    mean = x.mean(dim=dims, keepdim=True) if center else torch.zeros_like(x)
    if center:
        var = x.var(dim=dims, keepdim=True, correction=1 if unbiased else 0)
    else:
        var = x.pow(2).mean(dim=dims, keepdim=True)                  # RMSNorm: no mean taken out
    if eps_mode == "inside":
        x_hat = (x - mean) / torch.sqrt(var + eps)
    elif eps_mode == "outside":
        x_hat = (x - mean) / (torch.sqrt(var) + eps)
    else:
        x_hat = (x - mean) / torch.sqrt(var)
    return {"ok": lambda: x_hat * weight + bias, "none": lambda: x_hat, "swapped": lambda: x_hat * bias + weight,
            "bias_first": lambda: (x_hat + bias) * weight, "weight_only": lambda: x_hat * weight}[affine]()


@_checker
def check_layer_norm(cls) -> None:
    """Check `cls(d_model, eps=1e-5)` with parameters `weight` (ones) and `bias` (zeros) of shape `(d_model,)`.

    forward(x): normalise each token over its last axis with the biased variance, eps inside the square
    root, then scale by weight and shift by bias.
    """
    c = _Check("层归一化 (LayerNorm)")
    c.a_class(cls, "check_layer_norm(LayerNorm)")
    d = 8
    with _sandbox():
        norm = c.call(cls, d, on=f"LayerNorm(d_model={d})")
        c.module(norm, "class LayerNorm(nn.Module).")
        params = dict(norm.named_parameters())
        for name, start, meaning in (("weight", 1.0, "γ starts as 'no scaling'"), ("bias", 0.0, "β starts as 'no shift'")):
            p = getattr(norm, name, None)
            if not isinstance(p, torch.Tensor):
                c.fail(f"expected a parameter `{name}` of shape ({d},); yours has none. In __init__: "
                       f"self.{name} = nn.Parameter(torch.{'ones' if start else 'zeros'}(d_model)).")
            if name not in params or params[name] is not p:
                c.fail(f"`{name}` must be an nn.Parameter (so the optimiser trains it): "
                       f"self.{name} = nn.Parameter(torch.{'ones' if start else 'zeros'}(d_model)).")
            if tuple(p.shape) != (d,):
                c.fail(f"expected `{name}` of shape (d_model,) = ({d},), got {_shape(p.shape)}: one number per feature.")
            if not torch.all(p == start):
                c.fail(f"`{name}` should start at {'ones' if start else 'zeros'} ({meaning}).")
        norm.eval()
        weight, bias = _randn(d, seed=31, scale=0.5, shift=1.0), _randn(d, seed=32, scale=0.3)
        norm.weight.copy_(weight)
        norm.bias.copy_(bias)

        def variants(x, eps):
            def v(**kw):
                return lambda: _layer_norm(x, weight, bias, eps, **kw)
            return [
                ("层归一化 (LayerNorm) over the wrong axis: normalise each token over its d_model features, "
                 "the last axis: mean(dim=-1, keepdim=True).", v(dims=(1,))),
                ("层归一化 (LayerNorm) over the wrong axis (the batch): normalise each token over its features, "
                 "dim=-1.", v(dims=(0,))),
                ("层归一化 (LayerNorm) over the wrong axes: you normalised over the whole sequence and its features; "
                 "LayerNorm takes each token on its own, dim=-1 only.", v(dims=(1, 2))),
                ("层归一化 (LayerNorm) uses the biased variance (divide by d_model, not d_model - 1): "
                 "x.var(dim=-1, unbiased=False, keepdim=True) or correction=0; torch.var's default is unbiased.",
                 v(unbiased=True)),
                ("层归一化 (LayerNorm): eps is outside the square root; it goes inside: "
                 "(x - mean) / torch.sqrt(var + eps).", v(eps_mode="outside")),
                ("层归一化 (LayerNorm): eps is missing; add it inside the square root, torch.sqrt(var + self.eps), "
                 "so a token with (almost) equal features does not blow up.", v(eps_mode="none")),
                ("层归一化 (LayerNorm): weight and bias are swapped: x_hat * weight + bias.", v(affine="swapped")),
                ("层归一化 (LayerNorm): the learned weight (γ) and bias (β) are not applied; return "
                 "x_hat * self.weight + self.bias.", v(affine="none")),
                ("层归一化 (LayerNorm): the bias (β) is not added: x_hat * self.weight + self.bias.",
                 v(affine="weight_only")),
                ("层归一化 (LayerNorm): you added the bias before scaling; scale first: x_hat * weight + bias.",
                 v(affine="bias_first")),
                ("层归一化 (LayerNorm): the mean is not subtracted (that is RMSNorm); subtract the per-token mean "
                 "before dividing.", v(center=False)),
            ]

        inputs = [
            ("x of shape (2, 5, 8) with mean about 1 and standard deviation 2",
             _randn(2, 5, d, seed=33, scale=2.0, shift=1.0)),
            ("a small-variance x of shape (2, 3, 8) (std 0.002, where eps matters)",
             _randn(2, 3, d, seed=34, scale=0.002, shift=0.01)),
        ]
        for on, x in inputs:
            on = on + ", with non-trivial weight and bias"
            out = c.call(norm, x, on=on)
            out = c.tensor(out, "the output", on, x.shape, "the same as x")
            c.numbers(out, _layer_norm(x, weight, bias, 1e-5), "output", on, variants(x, 1e-5),
                      fallback="mean and biased variance over dim=-1 (keepdim=True); (x - mean) / sqrt(var + eps); "
                               "* weight + bias.", atol=1e-4, rtol=1e-4)

        # eps is a constructor argument: a hard-coded 1e-5 shows on small-variance inputs with another eps.
        eps = 1e-3
        norm2 = c.call(cls, d, eps=eps, on=f"LayerNorm(d_model={d}, eps={eps})")
        norm2.eval()
        norm2.weight.copy_(weight)
        norm2.bias.copy_(bias)
        x = inputs[1][1]
        on = f"LayerNorm(d_model={d}, eps={eps}) on the small-variance x"
        out = c.tensor(c.call(norm2, x, on=on), "the output", on, x.shape, "the same as x")
        c.numbers(out, _layer_norm(x, weight, bias, eps), "output", on, [
            ("层归一化 (LayerNorm): your layer ignores its eps argument; store it in __init__ (self.eps = eps) and "
             "use self.eps in forward.", lambda: _layer_norm(x, weight, bias, 1e-5)),
        ] + variants(x, eps), atol=1e-4, rtol=1e-4)
    c.passed()


@_checker
def check_residual_connection(fn) -> None:
    """Check `fn(x, sublayer, norm, norm_first=False)`.

    Post-LN (norm_first=False, the paper): norm(x + sublayer(x)).
    Pre-LN  (norm_first=True):             x + sublayer(norm(x)).
    """
    c = _Check("残差连接 (residual connection)")
    c.callable(fn, "your residual-connection function", "check_residual_connection(residual_connection)")
    d = 8
    with _sandbox():
        linear = nn.Linear(d, d)
        _randomize(linear, seed=41, std=0.5)
        norm = nn.LayerNorm(d)
        with torch.no_grad():
            norm.weight.copy_(_randn(d, seed=43, scale=0.4, shift=1.0))
            norm.bias.copy_(_randn(d, seed=44, scale=0.3))

        def sublayer(h):
            return torch.tanh(linear(h))
        x = _randn(2, 5, d, seed=45, scale=1.5, shift=0.5)
        post = lambda: norm(x + sublayer(x))          # noqa: E731
        pre = lambda: x + sublayer(norm(x))           # noqa: E731
        for norm_first in (False, True):
            name = "Pre-LN (norm_first=True)" if norm_first else "Post-LN (norm_first=False)"
            on = f"{name}, x of shape {_shape(x.shape)}, sublayer = tanh(linear(.)), norm = an nn.LayerNorm"
            out = c.call(fn, x, sublayer, norm, norm_first=norm_first, on=on)
            out = c.tensor(out, "the output", on, x.shape, "the same as x")
            other = "Post-LN: norm(x + sublayer(x))" if norm_first else "Pre-LN: x + sublayer(norm(x))"
            want = "Pre-LN: x + sublayer(norm(x))" if norm_first else "Post-LN: norm(x + sublayer(x))"
            c.numbers(out, (pre if norm_first else post)(), "output", on, [
                (f"残差连接 (residual connection): you computed {other} for norm_first={norm_first}; "
                 f"it should be {want}.", post if norm_first else pre),
                ("残差连接 (residual connection): the input is not added back — the residual path is x + ...: "
                 + want + ".", (lambda: sublayer(norm(x))) if norm_first else (lambda: norm(sublayer(x)))),
                ("残差连接 (residual connection): Post-LN normalises the sum, norm(x + sublayer(x)); you normalised "
                 "the sublayer's output before adding it.", lambda: x + norm(sublayer(x))),
                ("残差连接 (residual connection): in Pre-LN the residual path carries x itself, un-normalised: "
                 "x + sublayer(norm(x)), not norm(x) + sublayer(norm(x)).", lambda: norm(x) + sublayer(norm(x))),
                ("残差连接 (residual connection): Pre-LN has no LayerNorm after the sum: x + sublayer(norm(x)).",
                 lambda: norm(x + sublayer(norm(x)))),
                ("残差连接 (residual connection): the LayerNorm is missing: " + want + ".",
                 lambda: x + sublayer(x)),
            ], fallback=want + ".", atol=1e-5, rtol=1e-4)
    c.passed()


# ---------------------------------------------------------------------------------------------------
# Lesson 05: the position-wise feed-forward network (位置感知前馈网络)
# ---------------------------------------------------------------------------------------------------

@_checker
def check_feed_forward(cls) -> None:
    """Check `cls(d_model, d_ff)` with nn.Linear `linear1` (d_model -> d_ff), `linear2` (d_ff -> d_model), `forward(x)`.

    FFN(x) = linear2(relu(linear1(x))), applied to every position of a `(..., d_model)` input.
    """
    c = _Check("位置感知前馈网络 (position-wise feed-forward network)")
    c.a_class(cls, "check_feed_forward(PositionwiseFeedForward)")
    d, d_ff = 8, 32
    with _sandbox():
        ffn = c.call(cls, d, d_ff, on=f"PositionwiseFeedForward(d_model={d}, d_ff={d_ff})")
        c.module(ffn, "class PositionwiseFeedForward(nn.Module).")
        for name, n_in, n_out, words in (("linear1", d, d_ff, "widens d_model -> d_ff"),
                                        ("linear2", d_ff, d, "narrows d_ff -> d_model")):
            layer = getattr(ffn, name, None)
            if layer is None:
                c.fail(f"expected an attribute {name}, an nn.Linear that {words}; yours has none.")
            if not _is_linear(layer, n_in, n_out):
                c.fail(f"expected {name} = nn.Linear({n_in}, {n_out}) (it {words}), got {layer!r}")
        ffn.eval()
        _randomize(ffn, seed=51, std=0.4)
        l1, l2 = ffn.linear1, ffn.linear2
        for x in (_randn(2, 5, d, seed=52), _randn(3, d, seed=53)):
            on = f"x of shape {_shape(x.shape)}"
            out = c.tensor(c.call(ffn, x, on=on), "the output", on, x.shape, "the same as x (..., d_model)")
            c.numbers(out, l2(torch.relu(l1(x))), "output", on, [
                ("位置感知前馈网络 (FFN): no activation between the two layers — without max(0, ·) the two linear "
                 "layers collapse into one; use linear2(torch.relu(linear1(x))).", lambda: l2(l1(x))),
                ("位置感知前馈网络 (FFN): the ReLU comes after linear2; it goes between the layers: "
                 "linear2(relu(linear1(x))).", lambda: torch.relu(l2(l1(x)))),
                ("位置感知前馈网络 (FFN): a ReLU after linear2 too; only one, between the layers.",
                 lambda: torch.relu(l2(torch.relu(l1(x))))),
                ("位置感知前馈网络 (FFN): you used GELU; the paper's FFN uses ReLU, max(0, ·).",
                 lambda: l2(F.gelu(l1(x)))),
                ("位置感知前馈网络 (FFN): you used tanh; the paper's FFN uses ReLU, max(0, ·).",
                 lambda: l2(torch.tanh(l1(x)))),
                ("位置感知前馈网络 (FFN): you used a sigmoid; the paper's FFN uses ReLU, max(0, ·).",
                 lambda: l2(torch.sigmoid(l1(x)))),
                ("位置感知前馈网络 (FFN): you added the input back (x + ...); the residual connection lives outside "
                 "the FFN (lesson 04), so return linear2(relu(linear1(x))) alone.", lambda: x + l2(torch.relu(l1(x)))),
            ], fallback="linear2(torch.relu(linear1(x))).", atol=1e-5, rtol=1e-4)
    c.passed()


@_checker
def check_ffn_parameter_count(fn) -> None:
    """Check `fn(d_model, d_ff) -> int`: the number of trainable parameters of one FFN block (weights and biases)."""
    c = _Check("位置感知前馈网络的参数量 (FFN parameter count)")
    c.callable(fn, "your counting function", "check_ffn_parameter_count(ffn_parameter_count)")
    for d, d_ff in ((8, 32), (6, 10), (512, 2048)):
        on = f"d_model={d}, d_ff={d_ff}"
        n = c.call(fn, d, d_ff, on=on)
        if isinstance(n, torch.Tensor) and n.numel() == 1:
            n = n.item()
        if isinstance(n, bool) or not isinstance(n, numbers.Real):
            c.fail(f"expected a number, got {type(n).__name__} on {on}")
        expected = 2 * d * d_ff + d_ff + d
        if n == expected:
            continue
        hints = {
            2 * d * d_ff: "you counted the two weight matrices but not the biases (d_ff in linear1, d_model in linear2).",
            2 * d * d_ff + d_ff: "linear2's bias (d_model numbers) is missing.",
            2 * d * d_ff + d: "linear1's bias (d_ff numbers) is missing.",
            d * d_ff + d_ff: "you counted only linear1; linear2 (d_ff x d_model weights + d_model biases) counts too.",
            d * d_ff: "you counted one weight matrix only; there are two, plus their biases.",
            2 * d * d_ff + 2 * d_ff: "linear2's bias has d_model numbers, not d_ff.",
            2 * d * d_ff + 2 * d: "linear1's bias has d_ff numbers, not d_model.",
        }
        hint = hints.get(n)
        c.fail(f"wrong count on {on}: got {n}, expected {expected:,}."
               + (f"\nLikely mistake: {hint}" if hint else " linear1 has d_model*d_ff weights + d_ff biases; "
                  "linear2 has d_ff*d_model weights + d_model biases."))
    c.passed()


# ---------------------------------------------------------------------------------------------------
# Lesson 06: encoder (编码器) and decoder (解码器) layers
# ---------------------------------------------------------------------------------------------------

def _modules(c: _Check, layer, names: Sequence[str], example: str) -> None:
    for name in names:
        if not isinstance(getattr(layer, name, None), nn.Module):
            c.fail(f"expected an attribute `{name}` (an nn.Module); yours has none. {example}")
        if name.endswith("attn") and isinstance(getattr(layer, name), nn.MultiheadAttention):
            c.fail(f"`{name}` is torch's nn.MultiheadAttention, which returns a pair (output, weights) and reads "
                   "a boolean mask the other way round (True = hidden); build it from the package instead: "
                   f"self.{name} = MultiHeadAttention(d_model, num_heads), which returns one tensor and takes "
                   "True = may attend.")


def _probe(c: _Check, layer, name: str, args: tuple, shape, call: str) -> None:
    """Call one submodule of the learner's layer as the layer should, and check it returns one tensor of `shape`."""
    on = f"your layer's {call}, x of shape {_shape(args[0].shape)}"
    out = c.call(getattr(layer, name), *args, on=on)
    if not isinstance(out, torch.Tensor):
        c.fail(f"{call} returned {type(out).__name__}"
               + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "")
               + f"; expected one tensor of shape (B, T, d_model) = {_shape(shape)}. Build `{name}` from the "
                 "package's classes (lesson 03-05), which return a single tensor.")
    if tuple(out.shape) != tuple(shape):
        c.fail(f"{call} returned shape {_shape(out.shape)}; expected (B, T, d_model) = {_shape(shape)}.")


@_checker
def check_encoder_layer(cls) -> None:
    """Check `cls(d_model, num_heads, d_ff)` with `self_attn`, `feed_forward`, `norm1`, `norm2`; `forward(x, mask=None)`.

    Post-LN, as in the paper:  x = norm1(x + self_attn(x, x, x, mask));  x = norm2(x + feed_forward(x)).
    """
    c = _Check("编码器层 (encoder layer)")
    c.a_class(cls, "check_encoder_layer(EncoderLayer)")
    d, h, d_ff = 12, 3, 24
    with _sandbox():
        layer = c.call(cls, d, h, d_ff, on=f"EncoderLayer(d_model={d}, num_heads={h}, d_ff={d_ff})")
        c.module(layer, "class EncoderLayer(nn.Module).")
        _modules(c, layer, ("self_attn", "feed_forward", "norm1", "norm2"),
                 "Build them in __init__ from the package: MultiHeadAttention, PositionwiseFeedForward, LayerNorm.")
        layer.eval()
        _randomize(layer, seed=61)
        sa, ff, n1, n2 = layer.self_attn, layer.feed_forward, layer.norm1, layer.norm2
        x = _randn(2, 5, d, seed=62)
        mask = torch.ones(2, 1, 1, 5, dtype=torch.bool)
        mask[1, ..., 3:] = False                                  # the second sentence ends with two pads
        _probe(c, layer, "self_attn", (x, x, x, mask), x.shape, "self_attn(x, x, x, mask)")
        for name in ("feed_forward", "norm1", "norm2"):
            _probe(c, layer, name, (x,), x.shape, f"{name}(x)")

        def post(x, mask):
            x = n1(x + sa(x, x, x, mask))
            return n2(x + ff(x))
        for m, on in ((None, f"x of shape {_shape(x.shape)}, no mask"),
                      (mask, f"x of shape {_shape(x.shape)} with a padding mask {_shape(mask.shape)}")):
            out = c.tensor(c.call(layer, x, m, on=on), "the output", on, x.shape, "(B, T, d_model)")
            expected = c.expected(lambda: post(x, m), "the reference built from your layer's own submodules")
            c.numbers(out, expected, "output", on, [
                ("编码器层 (encoder layer): your layer ignores the mask, so queries attend to padding; pass it on: "
                 "self.self_attn(x, x, x, mask).", lambda: post(x, None)),
                ("编码器层 (encoder layer): you built Pre-LN, x + sublayer(norm(x)); this exercise asks for the "
                 "paper's Post-LN: x = norm1(x + self_attn(x, x, x, mask)); x = norm2(x + feed_forward(x)).",
                 lambda: (lambda y: y + ff(n2(y)))(x + sa(n1(x), n1(x), n1(x), m))),
                ("残差连接 (residual connection) missing around the self-attention: norm1(x + self_attn(...)).",
                 lambda: (lambda y: n2(y + ff(y)))(n1(sa(x, x, x, m)))),
                ("残差连接 (residual connection) missing around the feed-forward network: norm2(x + feed_forward(x)).",
                 lambda: n2(ff(n1(x + sa(x, x, x, m))))),
                ("编码器层 (encoder layer): norm1 and norm2 are swapped; norm1 follows the attention, norm2 the FFN.",
                 lambda: (lambda y: n1(y + ff(y)))(n2(x + sa(x, x, x, m)))),
                ("编码器层 (encoder layer): the feed-forward network runs before the attention; attention first, "
                 "then the FFN.", lambda: (lambda y: n2(y + sa(y, y, y, m)))(n1(x + ff(x)))),
            ], fallback="x = norm1(x + self_attn(x, x, x, mask)); return norm2(x + feed_forward(x)).",
                atol=1e-4, rtol=1e-4)
    c.passed()


@_checker
def check_decoder_layer(cls) -> None:
    """Check `cls(d_model, num_heads, d_ff)` with `self_attn`, `cross_attn`, `feed_forward`, `norm1`, `norm2`, `norm3`.

    forward(x, memory, tgt_mask=None, memory_mask=None), Post-LN as in the paper:
        x = norm1(x + self_attn(x, x, x, tgt_mask))              # masked self-attention: only the past
        x = norm2(x + cross_attn(x, memory, memory, memory_mask)) # queries from the decoder, keys/values from the encoder
        x = norm3(x + feed_forward(x))
    """
    c = _Check("解码器层 (decoder layer)")
    c.a_class(cls, "check_decoder_layer(DecoderLayer)")
    d, h, d_ff = 12, 3, 24
    with _sandbox():
        layer = c.call(cls, d, h, d_ff, on=f"DecoderLayer(d_model={d}, num_heads={h}, d_ff={d_ff})")
        c.module(layer, "class DecoderLayer(nn.Module).")
        _modules(c, layer, ("self_attn", "cross_attn", "feed_forward", "norm1", "norm2", "norm3"),
                 "Build them in __init__ from the package: two MultiHeadAttention, a PositionwiseFeedForward, "
                 "three LayerNorm.")
        if layer.self_attn is layer.cross_attn:
            c.fail("self_attn and cross_attn are the same module; the layer needs two separate attention modules "
                   "with their own weights.")
        layer.eval()
        _randomize(layer, seed=71)
        sa, ca, ff = layer.self_attn, layer.cross_attn, layer.feed_forward
        n1, n2, n3 = layer.norm1, layer.norm2, layer.norm3
        T, S = 5, 7
        x, memory = _randn(2, T, d, seed=72), _randn(2, S, d, seed=73)
        tgt_mask = torch.ones(T, T, dtype=torch.bool).tril()
        memory_mask = torch.ones(2, 1, 1, S, dtype=torch.bool)
        memory_mask[1, ..., 4:] = False                                     # the second source ends with pads
        _probe(c, layer, "self_attn", (x, x, x, tgt_mask), x.shape, "self_attn(x, x, x, tgt_mask)")
        _probe(c, layer, "cross_attn", (x, memory, memory, memory_mask), x.shape,
               "cross_attn(x, memory, memory, memory_mask)")
        for name in ("feed_forward", "norm1", "norm2", "norm3"):
            _probe(c, layer, name, (x,), x.shape, f"{name}(x)")

        def layer_of(x, tm, mm, *, pre=False, cross=None, order="sc", norms=(None, None, None), res=(1, 1, 1)):
            a, b, f = norms[0] or n1, norms[1] or n2, norms[2] or n3
            cross = cross or (lambda y: ca(y, memory, memory, mm))
            subs = {"s": (lambda y: sa(y, y, y, tm)), "c": cross}
            steps = [(subs[order[0]], a, res[0]), (subs[order[1]], b, res[1]), (ff, f, res[2])]
            for sub, nrm, r in steps:
                x = (x + sub(nrm(x))) if pre else nrm(x * r + sub(x))
            return x

        cases = [(None, None, f"x {_shape(x.shape)} and memory {_shape(memory.shape)}, no masks"),
                 (tgt_mask, None, f"the same with a causal tgt_mask {_shape(tgt_mask.shape)}"),
                 (tgt_mask, memory_mask, f"the same with tgt_mask {_shape(tgt_mask.shape)} and a padding "
                                         f"memory_mask {_shape(memory_mask.shape)}")]
        for tm, mm, on in cases:
            out = c.call(layer, x, memory, tm, mm, on=on,
                         advice="tgt_mask (T, T) belongs to the self-attention, memory_mask (B, 1, 1, S) to the "
                                "cross-attention; did you swap them?")
            out = c.tensor(out, "the output", on, x.shape, "(B, T, d_model)", shape_hints={
                tuple(memory.shape): "交叉注意力 (cross-attention): the queries come from the decoder (x), the keys "
                                     "and values from the encoder's output: cross_attn(x, memory, memory, memory_mask).",
            })
            expected = c.expected(lambda: layer_of(x, tm, mm), "the reference built from your layer's own submodules")
            c.numbers(out, expected, "output", on, [
                ("交叉注意力 (cross-attention) ignores the encoder: you attend over x again; keys and values come from "
                 "memory: self.cross_attn(x, memory, memory, memory_mask).",
                 lambda: layer_of(x, tm, mm, cross=lambda y: ca(y, y, y, tm))),
                ("交叉注意力 (cross-attention) ignores the encoder: you attend over x again; keys and values come from "
                 "memory: self.cross_attn(x, memory, memory, memory_mask).",
                 lambda: layer_of(x, tm, mm, cross=lambda y: ca(y, y, y, None))),
                ("交叉注意力 (cross-attention) uses self_attn's weights; use the layer's own cross_attn module.",
                 lambda: layer_of(x, tm, mm, cross=lambda y: sa(y, memory, memory, mm))),
                ("解码器 (decoder): your layer ignores tgt_mask, so each position sees future target tokens; pass it "
                 "to the self-attention: self.self_attn(x, x, x, tgt_mask).", lambda: layer_of(x, None, mm)),
                ("解码器 (decoder): your layer ignores memory_mask, so queries attend to source padding; pass it "
                 "to the cross-attention: self.cross_attn(x, memory, memory, memory_mask).",
                 lambda: layer_of(x, tm, None)),
                ("解码器层 (decoder layer): you built Pre-LN, x + sublayer(norm(x)); this exercise asks for the "
                 "paper's Post-LN: x = norm(x + sublayer(x)) after each of the three sub-layers.",
                 lambda: layer_of(x, tm, mm, pre=True)),
                ("解码器层 (decoder layer): the cross-attention runs before the masked self-attention; the order is "
                 "self-attention, cross-attention, feed-forward.", lambda: layer_of(x, tm, mm, order="cs")),
                ("解码器层 (decoder layer): the cross-attention runs before the masked self-attention; the order is "
                 "self-attention, cross-attention, feed-forward.",
                 lambda: layer_of(x, tm, mm, order="cs", norms=(n2, n1, n3))),
                ("解码器层 (decoder layer): the LayerNorms are used in the wrong order: norm1 after the "
                 "self-attention, norm2 after the cross-attention, norm3 after the FFN.",
                 lambda: layer_of(x, tm, mm, norms=(n2, n1, n3))),
                ("解码器层 (decoder layer): the LayerNorms are used in the wrong order: norm1 after the "
                 "self-attention, norm2 after the cross-attention, norm3 after the FFN.",
                 lambda: layer_of(x, tm, mm, norms=(n1, n3, n2))),
                ("残差连接 (residual connection) missing around the self-attention: norm1(x + self_attn(...)).",
                 lambda: layer_of(x, tm, mm, res=(0, 1, 1))),
                ("残差连接 (residual connection) missing around the cross-attention: norm2(x + cross_attn(...)).",
                 lambda: layer_of(x, tm, mm, res=(1, 0, 1))),
                ("残差连接 (residual connection) missing around the feed-forward network: norm3(x + feed_forward(x)).",
                 lambda: layer_of(x, tm, mm, res=(1, 1, 0))),
            ], fallback="x = norm1(x + self_attn(x, x, x, tgt_mask)); x = norm2(x + cross_attn(x, memory, memory, "
                        "memory_mask)); return norm3(x + feed_forward(x)).", atol=1e-4, rtol=1e-4)
    c.passed()


# ---------------------------------------------------------------------------------------------------
# Lesson 07: label-smoothed loss (标签平滑), greedy decoding (贪心解码) and beam search (束搜索)
# ---------------------------------------------------------------------------------------------------

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


@_checker
def check_label_smoothing_loss(fn) -> None:
    """Check `fn(logits, target, smoothing, pad_id) -> scalar`.

    logits `(N, V)`, target `(N,)` token ids; the smoothed target gives 1 - smoothing to the right token
    plus smoothing / V to every token; positions whose target is pad_id are left out; the mean is over
    the other positions. Equal to `F.cross_entropy(logits, target, ignore_index=pad_id, label_smoothing=smoothing)`.
    """
    c = _Check("标签平滑 (label smoothing) cross-entropy")
    c.callable(fn, "your loss function", "check_label_smoothing_loss(label_smoothed_cross_entropy)")
    N, V, pad = 6, 7, 0
    logits = _randn(N, V, seed=81, scale=2.0)
    target = torch.tensor([3, 5, 0, 1, 6, 0])
    for eps in (0.1, 0.3, 0.0):
        on = f"logits {_shape(logits.shape)}, target {target.tolist()} with pad_id={pad}, smoothing={eps}"
        loss = c.call(fn, logits, target, eps, pad, on=on)
        if isinstance(loss, numbers.Real) and not isinstance(loss, bool):
            loss = torch.tensor(float(loss))
        loss = c.tensor(loss, "the loss (a single number)", on, (), "()", shape_hints={
            (N,): "损失 (loss): you returned one loss per position; average them over the non-pad positions.",
        })
        reference = F.cross_entropy(logits.double(), target, ignore_index=pad, label_smoothing=eps)

        def v(**kw):
            return lambda: _smoothed_ce(logits, target, eps, pad, **kw)
        c.numbers(loss, reference, "loss", on, [
            ("标签平滑 (label smoothing) is missing: this is plain cross-entropy; mix the one-hot target with the "
             "uniform distribution: (1 - smoothing) * one_hot + smoothing / V.", lambda: F.cross_entropy(
                 logits.double(), target, ignore_index=pad)),
            ("填充 (padding) is not ignored: positions whose target is pad_id must not count — leave them out of the "
             "sum and of the count you divide by.", v(ignore="none")),
            ("填充 (padding): you left the pad positions out of the sum but still divided by all N positions; "
             "divide by the number of non-pad positions.", v(ignore="divide_by_all")),
            ("损失 (loss): you summed it; average it over the non-pad positions.", v(reduce="sum")),
            ("标签平滑 (label smoothing): you gave smoothing / (V - 1) to the other tokens only; here (as in "
             "F.cross_entropy(label_smoothing=...)) smoothing / V goes to every token, the right one included: "
             "(1 - smoothing) * one_hot + smoothing / V.", v(spread="others")),
            ("标签平滑 (label smoothing): you left the pad token out of the smoothing (smoothing / (V - 2), as The "
             "Annotated Transformer does); here smoothing / V goes to every token: "
             "(1 - smoothing) * one_hot + smoothing / V.", v(spread="annotated")),
            ("交叉熵 (cross-entropy): you used probabilities (softmax); it needs log-probabilities: "
             "log_softmax(logits, dim=-1).",
             v(use_probs=True)),
            ("交叉熵 (cross-entropy): you computed KL(q || p), which differs from the cross-entropy by the entropy "
             "of the smoothed target q (a constant, so the gradients agree); return the cross-entropy "
             "-(q * log_p).sum(-1), averaged.",
             v(kl=True)),
            ("交叉熵 (cross-entropy): log_softmax over the wrong axis; normalise over the vocabulary, dim=-1.", v(dim=0)),
        ], fallback="q = (1 - smoothing) * one_hot(target, V) + smoothing / V; "
                    "loss_n = -(q * log_softmax(logits)).sum(-1); average over positions whose target is not pad_id.", atol=1e-5, rtol=1e-4)
    c.passed()


class _ToyLM:
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
            raise TypeError(f"step_fn expects the prefix as a list of token ids, got {type(prefix).__name__}") from None

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


def _greedy(step_fn, bos: int, eos: int, max_len: int, *, variant: str = "ok") -> list[int]:
    """Reference greedy decoding (tokens without <bos>/<eos>) and its known-wrong variants."""
    prefix = [bos]
    steps = max_len + {"one_short": -1, "one_long": 1}.get(variant, 0)
    for _ in range(steps):
        log_p = step_fn([bos] if variant == "no_feedback" else list(prefix))
        token = int(log_p.argmin() if variant == "argmin" else log_p.argmax())
        prefix.append(token)
        if token == eos and variant != "no_stop":
            break
    out = prefix if variant == "with_bos" else prefix[1:]
    if variant != "with_eos" and variant != "no_stop" and out and out[-1] == eos:
        out = out[:-1]
    return out


def _tokens_of(c: _Check, result, on: str) -> list[int]:
    if isinstance(result, torch.Tensor):
        if result.dim() != 1 or result.is_floating_point():
            c.fail(f"expected a list of token ids, got a tensor of shape {_shape(result.shape)} and dtype "
                   f"{result.dtype} on {on}")
        return [int(t) for t in result.tolist()]
    if not isinstance(result, (list, tuple)):
        c.fail(f"expected a list of token ids, got {type(result).__name__} on {on}")
    tokens = []
    for t in result:
        if isinstance(t, torch.Tensor) and t.numel() == 1:
            t = t.item()
        if isinstance(t, bool) or not isinstance(t, numbers.Integral):
            c.fail(f"expected a list of token ids (ints), found {t!r} ({type(t).__name__}) on {on}")
        tokens.append(int(t))
    return tokens


def _check_prefixes(c: _Check, lm: _ToyLM, on: str) -> None:
    if not lm.calls:
        c.fail(f"your function never called step_fn on {on}; call step_fn(prefix) to get the next token's "
               "log-probabilities.")
    for call in lm.calls:
        if call[:1] != [lm.bos]:
            c.fail(f"step_fn was called with the prefix {call} on {on}; give it the whole prefix, starting with "
                   f"<bos> (id {lm.bos}): the model needs to see <bos> first.")


def _tiny_transformer_case():
    """A small seeded (untrained) package Transformer wrapped as a step function, plus its source."""
    from .model import Transformer
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


_GREEDY_HINTS = [
    ("with_bos", "贪心解码 (greedy decoding): you returned <bos> at the start; return only the generated tokens."),
    ("with_eos", "贪心解码 (greedy decoding): you returned <eos> at the end; stop at <eos> and leave it out."),
    ("no_stop", "贪心解码 (greedy decoding) does not stop at <eos>: once the chosen token is eos_id, stop."),
    ("argmin", "贪心解码 (greedy decoding): you picked the least likely token; take the most likely, argmax()."),
    ("no_feedback", "贪心解码 (greedy decoding): every step sees the same prefix; append each chosen token to the "
                    "prefix before the next call of step_fn."),
    ("one_short", "贪心解码 (greedy decoding): one token too few — generate up to max_len tokens (an <eos> counts "
                  "as one of them)."),
    ("one_long", "贪心解码 (greedy decoding): one token too many — generate at most max_len tokens."),
]


@_checker
def check_greedy_decode(fn) -> None:
    """Check `fn(step_fn, bos_id, eos_id, max_len) -> list[int]`.

    `step_fn(prefix)` takes the tokens so far (a list starting with bos_id) and returns the next token's
    log-probabilities, a `(V,)` tensor. Greedy decoding appends the most likely token until it picks
    eos_id or has generated max_len tokens; it returns the tokens without <bos> and <eos>.
    """
    c = _Check("贪心解码 (greedy decoding)")
    c.callable(fn, "your greedy-decoding function", "check_greedy_decode(greedy_decode)")
    bos, eos = 1, 2
    with _sandbox():
        cases = [
            ("a toy model that ends with <eos> after a few tokens (max_len=10)",
             lambda: _ToyLM(7, bos, eos, seed=13, eos_boost=1.0, eos_offset=-3.0), 10),
            ("a toy model that never picks <eos> (max_len=6)",
             lambda: _ToyLM(7, bos, eos, seed=6, eos_offset=-50.0), 6),
        ]
        for on, make, max_len in cases:
            lm = make()
            limited = _Limited(lm, max_calls=4 * max_len + 20, max_prefix=max_len + 5, max_len=max_len)
            result = _tokens_of(c, c.call(fn, limited, bos, eos, max_len, on=on), on)
            _check_prefixes(c, lm, on)
            expected = _greedy(make(), bos, eos, max_len)
            if result != expected:
                hint = _join_hints([h for v, h in _GREEDY_HINTS
                                    if _greedy(make(), bos, eos, max_len, variant=v) == result])
                c.fail(f"wrong tokens on {on}: got {result}, expected {expected}."
                       + (f"\nLikely mistake: {hint}" if hint else
                          " At each step: log_p = step_fn(prefix); token = argmax; append it; stop at eos_id."))

        model, src, step_fn = _tiny_transformer_case()
        from .decoding import greedy_decode
        max_len = 8
        on = f"a small (untrained) transformer_lesson.Transformer, source {src[0].tolist()}, max_len={max_len}"
        limited = _Limited(step_fn, max_calls=4 * max_len + 20, max_prefix=max_len + 5, max_len=max_len)
        result = _tokens_of(c, c.call(fn, limited, bos, eos, max_len, on=on), on)
        expected = greedy_decode(model, src, max_len=max_len, bos_id=bos, eos_id=eos)[0].tokens
        if result != expected:
            c.fail(f"on {on} you got {result}, but transformer_lesson.greedy_decode gives {expected}.")
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
            _, lp, length = item
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


def _beam_cases(bos: int = 1, eos: int = 2):
    """The toy models of the beam-search checker. Tokens: 0 unused, 1 <bos>, 2 <eos>, 3 'a', 4 'b', 5 'c'."""
    a, b, c_ = 3, 4, 5
    flat = {a: 0.32, b: 0.30, c_: 0.28, eos: 0.10}
    trap = _ToyLM(6, bos, eos, table={
        (): {a: 0.50, b: 0.40, c_: 0.05, eos: 0.05},
        (b,): {eos: 0.90, a: 0.05, b: 0.03, c_: 0.02},
    }, default=flat)
    # alpha decides: stop at once (eos, p 0.52) or say "a a a a a" (p 0.46 * 0.98^5)
    chain = {(): {eos: 0.52, a: 0.46, b: 0.01, c_: 0.01}}
    for depth in range(1, 5):
        chain[(a,) * depth] = {a: 0.98, eos: 1e-4}
    chain[(a,) * 5] = {eos: 0.98, a: 1e-3}
    lengthy = _ToyLM(6, bos, eos, table=chain, default={eos: 1e-4})
    # the long sentence is likelier anyway; alpha=1 must keep it (multiplying by the penalty would not)
    better = {(): {eos: 0.40, a: 0.58, b: 0.01, c_: 0.01}}
    for depth in range(1, 5):
        better[(a,) * depth] = {a: 0.98, eos: 1e-4}
    better[(a,) * 5] = {eos: 0.98, a: 1e-3}
    longer = _ToyLM(6, bos, eos, table=better, default={eos: 1e-4})
    # the first hypothesis to finish is not the best one
    late = _ToyLM(6, bos, eos, table={
        (): {a: 0.70, eos: 0.25, b: 0.03, c_: 0.02},
        (a,): {eos: 0.90, b: 0.05, c_: 0.03, a: 0.02},
    }, default=flat)
    never = _ToyLM(6, bos, eos, table={(): {a: 0.5, b: 0.3, c_: 0.2 - 1e-4, eos: 1e-4},
                                       (a,): {b: 0.6, c_: 0.3, a: 0.1 - 1e-4, eos: 1e-4},
                                       (b,): {a: 0.9, c_: 0.1 - 1e-4, eos: 1e-4}},
                   default={a: 0.4, b: 0.35, c_: 0.25 - 1e-4, eos: 1e-4})
    return [
        ("the 'greedy trap' toy model (beam_size=2, alpha=0, max_len=6), where the best sentence starts with the "
         "second-likeliest token", trap, dict(max_len=6, beam_size=2, alpha=0.0)),
        ("the 'short or long' toy model with alpha=0 (beam_size=2, max_len=10)", lengthy,
         dict(max_len=10, beam_size=2, alpha=0.0)),
        ("the 'late finisher' toy model (beam_size=2, alpha=0, max_len=6), whose first finished sentence "
         "is not the best", late, dict(max_len=6, beam_size=2, alpha=0.0)),
        ("the 'long and likely' toy model with alpha=1 (beam_size=2, max_len=10)", longer,
         dict(max_len=10, beam_size=2, alpha=1.0)),
        ("the 'short or long' toy model with alpha=1 (beam_size=2, max_len=10)", lengthy,
         dict(max_len=10, beam_size=2, alpha=1.0)),
        ("the 'no <eos>' toy model (beam_size=3, alpha=0.6, max_len=4), which never ends a sentence", never,
         dict(max_len=4, beam_size=3, alpha=0.6)),
        ("a random toy model with beam_size=1 and alpha=0 (must equal greedy decoding, max_len=8)",
         _ToyLM(7, bos, eos, seed=9, eos_boost=0.8, eos_offset=-1.0), dict(max_len=8, beam_size=1, alpha=0.0)),
    ]


_BEAM_HINTS = [
    ("greedy", "束搜索 (beam search) returned what greedy decoding returns: keep the beam_size best extensions at "
               "each step, ranked by their total log-probability (the sum over the whole prefix), not just the best one."),
    ("no_penalty", "束搜索 (beam search) ignores the length penalty: rank finished sentences by "
                   "log P / ((5 + |Y|) / 6) ** alpha."),
    ("length_norm", "束搜索 (beam search): you divided by the length |Y|; the GNMT length penalty is "
                    "((5 + |Y|) / 6) ** alpha (with alpha=0 it is 1: no normalisation at all)."),
    ("penalty_multiplied", "束搜索 (beam search): you multiplied by the length penalty; divide: "
                           "log P / ((5 + |Y|) / 6) ** alpha."),
    ("first_finished", "束搜索 (beam search) returned the first sentence to finish; keep searching and return the "
                       "best-scoring finished sentence."),
    ("with_bos", "束搜索 (beam search): you returned <bos> at the start; return only the generated tokens."),
    ("with_eos", "束搜索 (beam search): you returned <eos> at the end; leave it out."),
    ("continue_after_eos", "束搜索 (beam search): a sentence that picked <eos> must leave the beam as finished, "
                           "not keep growing after <eos>."),
    ("no_fallback", "束搜索 (beam search): when no sentence reaches <eos> within max_len, return the best "
                    "unfinished one."),
]


@_checker
def check_beam_search(fn) -> None:
    """Check `fn(step_fn, bos_id, eos_id, max_len, beam_size, alpha) -> list[int]`, the best sentence found.

    `step_fn(prefix)` as in `check_greedy_decode`. Keep the beam_size best extensions by total
    log-probability at each step; an extension ending in <eos> is finished. Stop when no hypothesis is
    live or after max_len tokens (unfinished ones then count too). Return the tokens (no <bos>/<eos>) of
    the hypothesis with the best log P / ((5 + |Y|) / 6) ** alpha.
    """
    c = _Check("束搜索 (beam search)")
    c.callable(fn, "your beam-search function", "check_beam_search(beam_search)")
    bos, eos = 1, 2
    with _sandbox():
        for on, lm, kw in _beam_cases(bos, eos):
            lm.calls = []
            args = (lm, bos, eos, kw["max_len"], kw["beam_size"], kw["alpha"])
            limited = _Limited(lm, max_calls=20 * (kw["max_len"] + 2) * kw["beam_size"] + 100,
                               max_prefix=kw["max_len"] + 5, max_len=kw["max_len"])
            result = _tokens_of(c, c.call(fn, limited, *args[1:], on=on), on)
            _check_prefixes(c, lm, on)
            expected = _beam(*args)
            if result == expected:
                continue
            scored = f"got {result}, expected {expected}"
            hint = _join_hints([h for v, h in _BEAM_HINTS if _beam(*args, variant=v) == result])
            if hint is None and eos in result:
                hint = "a sentence that picked <eos> must leave the beam as finished; <eos> never appears inside."
            c.fail(f"wrong sentence on {on}: {scored}."
                   + (f"\nLikely mistake: {hint}" if hint else
                      " Each step: extend every live hypothesis by every token, keep the beam_size best by total "
                      "log-probability, move those ending in <eos> to the finished list; at the end return the best "
                      "log P / ((5 + |Y|) / 6) ** alpha."))
    c.passed()
