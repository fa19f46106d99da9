"""Input checks shared by every public function and class of the package.

One small helper, so every error reads the same way and says what was expected and what came:

    expected key of shape (B, T_k, d_k) with d_k=64 as in query, got (2, 7, 32)

A learner who passes the wrong thing should read one plain sentence, never a matmul error from
deep inside torch.
"""
from __future__ import annotations

import numbers
from typing import Iterable, Sequence

import torch

__all__ = [
    "shape_str",
    "check_tensor",
    "check_last_dim",
    "check_positive_int",
    "check_probability",
    "check_choice",
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


def check_positive_int(name: str, value) -> int:
    """Return `value` as an int if it is a positive integer (not a bool), else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"expected {name} to be a positive integer, got {value!r} ({type(value).__name__})")
    if value <= 0:
        raise ValueError(f"expected {name} to be a positive integer, got {value}")
    return int(value)


def check_probability(name: str, value) -> float:
    """Return `value` if it is a number in [0, 1), as a dropout rate must be."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"expected {name} to be a number in [0, 1), got {value!r} ({type(value).__name__})")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"expected {name} to be a number in [0, 1), got {value}")
    return float(value)


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
    if broadcast != torch.Size(target):
        raise ValueError(
            f"expected mask broadcastable to the attention scores {shape} = {shape_str(target)}, "
            f"got {shape_str(mask.shape)}")
    return mask
