"""Input checks shared by every public function and class of the package.

One small helper, so every error reads the same way and says what was expected and what came:

    expected key of shape (B, T_k, d_k) with d_k=64 as in query, got (2, 7, 32)

A learner who passes the wrong thing should read one plain sentence, never a matmul error from
deep inside torch.
"""
from __future__ import annotations

import math
import numbers
from typing import Iterable, Sequence

import torch

__all__ = [
    "shape_str",
    "check_tensor",
    "check_last_dim",
    "check_positive_int",
    "check_number",
    "check_probability",
    "check_choice",
    "check_token_id",
    "check_same_dtype",
    "check_module_dtype",
    "check_same_batch",
    "check_mask",
]


def shape_str(shape: Iterable[int]) -> str:
    """`torch.Size([2, 7, 32])` -> `(2, 7, 32)`, the way shapes are written in the lessons."""
    dims = tuple(int(d) for d in shape)
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


def check_tensor(name: str, value, *, shape: str | None = None, ndim: int | Sequence[int] | None = None,
                 min_ndim: int | None = None, floating: bool = False, integer: bool = False) -> torch.Tensor:
    """Return `value` if it is a tensor of the expected rank and kind, else raise a readable error.

    `shape` is the human description used in the message, e.g. "(B, T, d_model)".
    """
    what = f"{name} of shape {shape}" if shape else name
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"expected {what} to be a torch.Tensor, got {type(value).__name__}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if value.dim() not in allowed:
            dims = " or ".join(str(d) for d in allowed)
            raise ValueError(f"expected {what} ({dims} dimensions), got {shape_str(value.shape)}")
    if min_ndim is not None and value.dim() < min_ndim:
        raise ValueError(f"expected {what} (at least {min_ndim} dimensions), got {shape_str(value.shape)}")
    if floating and not value.is_floating_point():
        raise TypeError(f"expected {what} to hold floating-point numbers, got dtype {value.dtype}")
    if integer and (value.is_floating_point() or value.is_complex() or value.dtype == torch.bool):
        raise TypeError(f"expected {what} to hold integer token ids, got dtype {value.dtype}")
    return value


def check_last_dim(name: str, value: torch.Tensor, size: int, *, shape: str, because: str = "") -> None:
    """Raise if the last dimension of `value` is not `size`. `because` explains where `size` comes from."""
    if value.size(-1) != size:
        why = f" {because}" if because else ""
        raise ValueError(f"expected {name} of shape {shape}{why}, got {shape_str(value.shape)}")


def check_positive_int(name: str, value, *, maximum: int | None = None, because: str = "") -> int:
    """Return `value` as an int if it is a positive integer (not a bool) no larger than `maximum`, else raise.

    `because` says where the upper bound comes from, e.g. "(the target vocabulary size)".
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"expected {name} to be a positive integer, got {value!r} ({type(value).__name__})")
    if value <= 0:
        raise ValueError(f"expected {name} to be a positive integer, got {value}")
    if maximum is not None and value > maximum:
        why = f" {because}" if because else ""
        raise ValueError(f"expected {name} to be a positive integer of at most {maximum}{why}, got {value}")
    return int(value)


def check_number(name: str, value, *, minimum: float | None = None, positive: bool = False,
                 example: str = "") -> float:
    """Return `value` as a float if it is a finite real number (>= `minimum`, or > 0 if `positive`), else raise.

    NaN and infinity are refused: they pass every `<` test silently and then poison every result.
    """
    want = ("a positive number" if positive else f"a number >= {minimum:g}" if minimum is not None
            else "a finite number") + (f" such as {example}" if example else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"expected {name} to be {want}, got {value!r} ({type(value).__name__})")
    if not math.isfinite(value) or (positive and value <= 0) or (minimum is not None and value < minimum):
        raise ValueError(f"expected {name} to be {want}, got {value!r}")
    return float(value)


def check_probability(name: str, value) -> float:
    """Return `value` if it is a number in [0, 1), as a dropout rate must be."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"expected {name} to be a number in [0, 1), got {value!r} ({type(value).__name__})")
    if not 0.0 <= value < 1.0:                        # also refuses NaN, for which every comparison is False
        raise ValueError(f"expected {name} to be a number in [0, 1), got {value}")
    return float(value)


def check_token_id(name: str, value, vocab_size: int, *, vocab: str = "the vocabulary") -> int:
    """Return `value` as an int if it is a token id of a vocabulary of `vocab_size` tokens (numpy ints welcome)."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"expected {name} to be an integer token id in 0..{vocab_size - 1} ({vocab}), "
                        f"got {value!r} ({type(value).__name__})")
    if not 0 <= value < vocab_size:
        raise ValueError(f"expected {name} to be a token id in 0..{vocab_size - 1} ({vocab} has {vocab_size} "
                         f"tokens), got {value}")
    return int(value)


def check_same_dtype(name: str, value: torch.Tensor, like_name: str, like: torch.Tensor) -> None:
    """Raise if `value` and `like` hold different dtypes (torch would fail deep inside a matmul)."""
    if value.dtype != like.dtype:
        raise TypeError(f"expected {name} with the same dtype as {like_name} ({like.dtype}), got {value.dtype}; "
                        f"convert one of them, e.g. {name}.to({like_name}.dtype)")


def check_module_dtype(name: str, value: torch.Tensor, module: torch.nn.Module) -> None:
    """Raise if `value`'s dtype is not the dtype of `module`'s weights (nn.Linear needs them equal)."""
    weight = next(module.parameters(), None)
    if weight is not None and value.dtype != weight.dtype:
        kind = {torch.float64: ".double()", torch.float16: ".half()", torch.bfloat16: ".bfloat16()"}.get(
            value.dtype, f".to({value.dtype})")
        raise TypeError(f"expected {name} of dtype {weight.dtype}, the dtype of the module's weights, got "
                        f"{value.dtype}; convert the input with {name}.to({weight.dtype}) or the module with "
                        f"module{kind}")


def check_same_batch(name: str, value: torch.Tensor, like_name: str, like: torch.Tensor, *, shape: str) -> None:
    """Raise unless the leading (batch) dimensions of `value` and `like`, all but the last two, broadcast."""
    lead, like_lead = value.shape[:-2], like.shape[:-2]
    try:
        torch.broadcast_shapes(lead, like_lead)
    except RuntimeError:
        raise ValueError(f"expected {name} of shape {shape} with the leading (batch) dimensions of {like_name}, "
                         f"{shape_str(like_lead)}, got {shape_str(value.shape)}") from None


def check_choice(name: str, value, choices: Sequence) -> None:
    """Raise if `value` is not one of `choices`, listing them."""
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"expected {name} to be one of {options}, got {value!r}")


def check_mask(mask, scores_shape: Sequence[int], *, shape: str = "(..., T_q, T_k)") -> torch.Tensor:
    """A mask must be boolean (True where a query may attend to a key) and broadcast to the scores."""
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"expected mask to be a boolean torch.Tensor, got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise TypeError(
            f"expected a boolean mask (True where a query may attend to a key), got dtype {mask.dtype}; "
            "an additive float mask (0 / -inf) converts with `mask == 0`")
    target = tuple(scores_shape)
    try:
        broadcast = torch.broadcast_shapes(mask.shape, target)
    except RuntimeError:
        broadcast = None
    padding = "(B, " + "1, " * (len(target) - 2) + "T_k)"
    if broadcast != torch.Size(target):
        hint = ""
        if mask.dim() == 2 and len(target) >= 3 and mask.size(0) == target[0] != target[-2]:
            hint = (f"; a (B, T_k) padding mask must be shaped {padding} to broadcast, "
                    f"e.g. mask[:, {', '.join(['None'] * (len(target) - 2))}, :]")
        raise ValueError(
            f"expected mask broadcastable to the attention scores {shape} = {shape_str(target)}, "
            f"got {shape_str(mask.shape)}{hint}")
    if _ambiguous_2d_mask(mask, target):
        B = target[0]
        raise ValueError(
            f"expected an unambiguous mask: a 2-D mask {shape_str(mask.shape)} is read as (T_q, T_k), the same for "
            f"every sentence, but here the batch size B = T_q = {B}, so it could also be a (B, T_k) padding "
            f"mask. Say which: mask[None] for (1, T_q, T_k), or mask[:, {', '.join(['None'] * (len(target) - 2))}, :] "
            f"for a padding mask {padding}")
    return mask


def _ambiguous_2d_mask(mask: torch.Tensor, target: tuple) -> bool:
    """A 2-D mask whose rows could be queries or sentences, and where the two readings differ.

    A causal mask (ones.tril()) is always (T_q, T_k); a mask whose rows are all equal means the same either way.
    """
    if mask.dim() != 2 or len(target) < 3 or target[0] <= 1 or not (mask.size(0) == target[0] == target[-2]):
        return False
    if bool((mask == mask[:1]).all()):
        return False
    if mask.size(0) == mask.size(1) and torch.equal(mask, torch.ones_like(mask).tril()):
        return False
    return True
