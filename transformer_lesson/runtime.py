"""Runtime helpers that lessons and the capstone share: the thread count, eval mode, parameter counts."""
from __future__ import annotations

import contextlib

import torch
from torch import nn

from ._validate import check_positive_int

__all__ = ["torch_threads", "eval_mode", "count_parameters"]


@contextlib.contextmanager
def torch_threads(threads: int | None):
    """Run a block with `torch.set_num_threads(threads)`, restoring the previous setting afterwards.

    None leaves PyTorch's setting alone. A model this small gains nothing from a second thread, and when
    other programs keep the cores busy, threads that wait for each other make every step far slower.
    """
    if threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(check_positive_int("threads", threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def eval_mode(model: nn.Module):
    """Run a block with `model` in eval mode (no dropout) and without gradients; restore its mode afterwards."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected an nn.Module, got {type(model).__name__}")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


def count_parameters(model: nn.Module) -> int:
    """The number of numbers a model learns: the sizes of all its parameters added up (a matrix that several
    layers share, as with `Transformer(share_embeddings=True)`, counts once)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected an nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters())
