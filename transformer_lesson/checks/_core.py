"""The checkers' common core: staged checks, safe runs of learner code, and the inputs they run on.

`Check` runs one checker's stages (runs? type and shape? numbers? which known mistake?); `checker` turns
anything unforeseen into an AssertionError; learner code runs on copies, under a time limit read from the
package (`checks.TIME_LIMIT`) at each call, and `StepLimit` bounds a decoding loop's calls of step_fn.
"""
from __future__ import annotations

import ctypes
import functools
import importlib
import inspect
import threading
from contextlib import contextmanager
from typing import Callable, Iterable, Sequence

import torch
from torch import nn

from .._validate import shape_str
from ..i18n import N_, translator

_ = translator("common")

__all__ = [
    "NOT_IMPLEMENTED", "Check", "StepLimit", "checker", "time_limit", "sandbox",
    "join_hints", "randn", "random_mask", "randomize", "is_linear", "shape_str",
]

NOT_IMPLEMENTED = N_("not implemented yet")
"""The phrase every checker uses when the learner's code still raises NotImplementedError."""


def time_limit() -> float:
    """The package's `TIME_LIMIT`, read at each call, so `checks.TIME_LIMIT = 5` takes effect at once."""
    return importlib.import_module(__package__).TIME_LIMIT


_LOW_PRECISION = (torch.float16, torch.bfloat16)


# ---------------------------------------------------------------------------------------------------
# The staged-checking machinery shared by every checker.
# ---------------------------------------------------------------------------------------------------

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
def sandbox(seed: int = 0):
    """Seed torch for the learner's constructors, restore the caller's random state, no gradients."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        with torch.no_grad():
            yield


def titled(title: str, message: str) -> str:
    """A checker's message after its title ("title: message"; "标题：消息" in Chinese)."""
    return _("{title}: {message}", title=title, message=message)


class Check:
    """One checker run: knows its title and raises AssertionErrors that start with it."""

    def __init__(self, title: str):
        self.title = title
        _RUNNING.append(self)

    def fail(self, message: str):
        raise AssertionError(titled(self.title, message))  # the title and message come translated

    def callable(self, obj, what: str, example: str):
        if not callable(obj):
            self.fail(_("expected {what}, got {kind}. Call it like this: {example}",
                        what=what, kind=type(obj).__name__, example=example))

    def a_class(self, cls, example: str):
        if isinstance(cls, nn.Module):
            self.fail(_("pass the class itself, not an instance of it: {example}", example=example))
        if not isinstance(cls, type):
            self.fail(_("expected a class (an nn.Module subclass), got {kind}. Call it like this: {example}",
                        kind=type(cls).__name__, example=example))

    def build(self, cls, *args, on: str):
        """Construct the learner's class, `on` naming the call ("LayerNorm(d_model=8)"), and check it is an nn.Module."""
        obj = self.call(cls, *args, on=on)
        self.module(obj, f"class {on.split('(')[0]}(nn.Module).")
        return obj

    def module(self, obj, example: str) -> None:
        """The learner's class must build an nn.Module (so it has parameters, .eval(), hooks)."""
        if not isinstance(obj, nn.Module):
            self.fail(_("expected your class to build an nn.Module, got a {kind} object that is not one; derive "
                        "it from nn.Module and call super().__init__() first: {example}",
                        kind=type(obj).__name__, example=example))

    def call(self, fn, *args, on: str, advice: str | Callable[[Exception], str] = "", **kwargs):
        """Run learner code on copies of the tensors given, with a time limit; translate NotImplementedError,
        crashes, runaway loops and in-place changes of the inputs into readable AssertionErrors (`advice`, a
        text or a function of the error, is added to a crash's message)."""
        copies = [_copy(a) for a in args]
        kwcopies = {k: _copy(v) for k, v in kwargs.items()}
        try:
            result = _time_limited(lambda: fn(*copies, **kwcopies), time_limit())
        except NotImplementedError:
            raise AssertionError(titled(self.title, _(
                "{not_implemented}. Replace `raise NotImplementedError()` with your code, run that cell, then "
                "run this check again.", not_implemented=_(NOT_IMPLEMENTED)))) from None
        except _Stopped as stop:
            raise AssertionError(titled(self.title, stop.describe(on))) from None
        except Exception as error:  # the learner's code crashed: say on which input, keep the traceback
            if callable(advice):                     # advice(error) reads what the learner's code did
                try:
                    advice = advice(error)
                except Exception:  # a diagnosis that fails must not hide the learner's own error
                    advice = ""
            extra = _("\nHint: {advice}", advice=advice) if advice else ""
            raise AssertionError(titled(self.title, _(
                "your code crashed on {on}:\n    {kind}: {error}{extra}\n(the traceback above shows the line)",
                on=on, kind=type(error).__name__, error=error, extra=extra))) from error
        names = _argument_names(fn, len(args), list(kwargs))
        for name, original, copy in zip(names, list(args) + list(kwargs.values()),
                                        copies + list(kwcopies.values())):
            if isinstance(original, torch.Tensor) and not _unchanged(original, copy):
                self.fail(_("原地修改 (in-place change): your code changed its input `{name}` in place on {on}, "
                            "e.g. with `{name} /= ...`, `{name} -= ...`, `{name} += ...` or a method ending in _ "
                            "such as `{name}.masked_fill_(...)`; the caller's tensor is then different afterwards. "
                            "Make a new tensor instead: `{name} = {name} / ...`.", name=name, on=on))
        return result

    def tensor(self, value, name: str, on: str, shape: Sequence[int], described: str,
               kind: str = "float", shape_hints: dict | None = None) -> torch.Tensor:
        """Stage 2: a tensor of the right shape and kind (float / bool)."""
        if not isinstance(value, torch.Tensor):
            self.fail(_("expected {name} to be a torch.Tensor {described}, got {kind} (on {on})",
                        name=name, described=described, kind=type(value).__name__, on=on))
        if tuple(value.shape) != tuple(shape):
            hint = (shape_hints or {}).get(tuple(value.shape))
            hint = hint(value) if callable(hint) else hint         # a hint may look at the numbers too
            wanted = described if described == shape_str(shape) else f"{described} = {shape_str(shape)}"
            self.fail(_("expected {name} of shape {wanted} on {on}, got {shape}",
                        name=name, wanted=wanted, on=on, shape=shape_str(value.shape))
                      + (_(".\nLikely mistake: {hint}", hint=hint) if hint else ""))
        if kind == "float" and not value.is_floating_point():
            self.fail(_("expected {name} to hold floating-point numbers, got dtype {dtype} (on {on})",
                        name=name, dtype=value.dtype, on=on))
        if kind == "bool" and value.dtype != torch.bool:
            self.fail(_("expected {name} to be a boolean tensor (dtype torch.bool), got dtype {dtype} (on {on})",
                        name=name, dtype=value.dtype, on=on))
        return value

    def repeatable(self, module, *args, first: torch.Tensor, on: str) -> None:
        """Stage 2b: a module in eval mode gives the same output twice on the same input (no dropout left on)."""
        again = self.call(module, *args, on=on)
        if (isinstance(again, torch.Tensor) and again.shape == first.shape
                and not torch.equal(torch.nan_to_num(again), torch.nan_to_num(first))):
            self.fail(_("the output changes between two calls on the same input in eval mode ({on}), so something "
                        "random is still switched on: most likely dropout left on in eval. F.dropout(x, p) drops at "
                        "random even after .eval(), because its `training` argument defaults to True (and "
                        "training=True keeps it on for good). Use an nn.Dropout module (self.dropout = nn.Dropout(p) "
                        "in __init__, self.dropout(x) in forward), which .eval() switches off, or "
                        "F.dropout(x, p, training=self.training).", on=on))

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
            self.fail(_("{name} contains {bad} on {on}, where every value should be finite.", name=name, bad=bad, on=on)
                      + (_("\nLikely mistake: {hint}", hint=hint) if hint else
                         _("\nA NaN usually comes from a softmax over a row that is all -inf, or from 0/0.")))
        hint = _match(actual, variants, m_atol, rtol)
        diff = _max_diff(actual, expected)
        if hint:
            self.fail(_("wrong {name} on {on} (largest difference {diff:.3g}).\nLikely mistake: {hint}",
                        name=name, on=on, diff=diff, hint=hint))
        self.fail(_("wrong {name} on {on} (largest difference {diff:.3g}); it matches none of the usual mistakes.",
                    name=name, on=on, diff=diff)
                  + (_(" Things to check: {fallback}", fallback=fallback) if fallback else ""))

    def _low_precision(self, actual, expected, name, on, variants) -> None:
        """A float16/bfloat16 result where float32 was expected: name the dtype, whatever else is wrong."""
        fix = _("Compute in the inputs' dtype: remove the .half() / .to(torch.float16) / dtype=torch.float16 "
                "(float16 keeps only about 3 significant digits).")
        if actual.shape == expected.shape and _same(actual, expected, 2e-2, 2e-2):
            self.fail(_("{name} has dtype {dtype} on {on}, but the inputs are torch.float32 and so must the "
                        "result be; its numbers are right to {dtype} precision. {fix}",
                        name=name, dtype=actual.dtype, on=on, fix=fix))
        hint = _match(actual, variants, 2e-2, 2e-2)
        self.fail(_("wrong {name} on {on}, and it has dtype {dtype} where the inputs are torch.float32. {fix}",
                    name=name, on=on, dtype=actual.dtype, fix=fix)
                  + (_("\nLikely mistake as well: {hint}", hint=hint) if hint else ""))

    def expected(self, compute: Callable, what: str):
        """Compute a reference value that uses the learner's own submodules; their errors are theirs to see."""
        try:
            return _time_limited(compute, time_limit())
        except _Stopped as stop:
            raise AssertionError(titled(self.title, stop.describe(what))) from None
        except Exception as error:
            raise AssertionError(titled(self.title, _(
                "{what} crashed:\n    {kind}: {error}\n(the traceback above shows the line)",
                what=what, kind=type(error).__name__, error=error))) from error

    def passed(self) -> None:
        print(_("✓ {title}: all checks passed", title=self.title))


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
    names = [params[i] if i < len(params) else _("argument {number}", number=i + 1) for i in range(n_positional)]
    return names + list(keywords)


class _Stopped(BaseException):
    """Raised inside the learner's code to stop it (BaseException: a learner's `except Exception` cannot swallow it)."""

    def describe(self, on: str) -> str:
        return self.args[0].format(on=on) if self.args else _("your code was stopped on {on}", on=on)


class _TimeLimit(_Stopped):
    seconds = 0.0                                  # set by _time_limited to the limit in force

    def describe(self, on: str) -> str:
        return _("your code ran for more than {seconds:g} s on {on} and was stopped. A correct solution takes "
                 "a few milliseconds, so this is most likely an infinite loop: a `while` whose condition never "
                 "becomes False, or a loop that never reaches its `break` (its counter or list never changes).",
                 seconds=self.seconds, on=on)


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


class StepLimit:
    """Wraps a step function: at most `max_calls` calls, prefixes of at most `max_prefix` tokens, else _Stopped."""

    def __init__(self, step_fn, max_calls: int, max_prefix: int, max_len: int):
        self.step_fn, self.max_calls, self.max_prefix, self.max_len = step_fn, max_calls, max_prefix, max_len
        self.count = 0

    def __call__(self, prefix):
        self.count += 1
        length = len(prefix) if isinstance(prefix, (list, tuple)) else (
            prefix.numel() if isinstance(prefix, torch.Tensor) else 0)
        if self.count > self.max_calls or length > self.max_prefix:
            what = (_("called step_fn {count} times", count=self.count) if self.count > self.max_calls
                    else _("called step_fn with a prefix of {length} tokens", length=length))
            raise _Stopped(_("your loop {what} on {{on}}, where max_len={max_len} allows at most {max_len} generated "
                             "tokens, and was stopped before it used up the memory. Likely mistake: the loop does "
                             "not stop — it must end after max_len steps and when the chosen token is eos_id (check "
                             "the loop's condition and its `break`).", what=what, max_len=self.max_len))
        return self.step_fn(prefix)

    def __getattr__(self, name):
        return getattr(self.step_fn, name)


_RUNNING: list = []
THE_INPUTS = N_("the checker's inputs")


def checker(check):
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
            raise AssertionError(titled(title, stop.describe(_(THE_INPUTS)))) from None
        except Exception as error:
            title = _RUNNING[depth].title if len(_RUNNING) > depth else check.__name__
            raise AssertionError(titled(title, _(
                "your code did something this check did not expect, and checking it failed with {kind}: {error}\n"
                "Compare your class or function with what the exercise asks for (help({checker}) lists the names "
                "and shapes it expects); the traceback above shows where.",
                kind=type(error).__name__, error=error, checker=check.__name__))) from error
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
    return join_hints(hints)


def join_hints(hints: Sequence[str]) -> str | None:
    """The one hint, or a list of all the hints a result fits; None if there is none."""
    if not hints:
        return None
    if len(hints) == 1:
        return hints[0]
    return _("one of these (your result fits each of them):") + "\n  - " + "\n  - ".join(hints)


# ---------------------------------------------------------------------------------------------------
# The checkers' inputs: seeded tensors, masks and parameters.
# ---------------------------------------------------------------------------------------------------

def randn(*shape, seed: int, scale: float = 1.0, shift: float = 0.0, dtype=torch.float32) -> torch.Tensor:
    """Seeded normal numbers times `scale` plus `shift`, drawn in float64 and returned as `dtype`."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64).mul(scale).add(shift).to(dtype)


def random_mask(*shape, seed: int) -> torch.Tensor:
    """A boolean mask where every row has at least one True and one False (so an inverted mask is finite too)."""
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(*shape, generator=g) < 0.6
    mask[..., 0] = True
    mask[..., -1] = False
    return mask


def randomize(module: nn.Module, seed: int, std: float = 0.3) -> None:
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


def is_linear(module, in_features: int, out_features: int) -> bool:
    """Whether `module` is an nn.Linear(in_features, out_features)."""
    return isinstance(module, nn.Linear) and module.in_features == in_features and module.out_features == out_features
