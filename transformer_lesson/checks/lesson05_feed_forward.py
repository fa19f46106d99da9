"""Lesson 05 checkers: the position-wise feed-forward network (位置感知前馈网络) and its parameter count.

FFN(x) = linear2(relu(linear1(x))): 2 * d_model * d_ff + d_ff + d_model parameters.
"""
from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F

from ..i18n import translator
from ._core import Check, checker, is_linear, randn, randomize, sandbox, shape_str

_ = translator("lesson05")


@checker
def check_feed_forward(cls) -> None:
    """Check `cls(d_model, d_ff)` with nn.Linear `linear1` (d_model -> d_ff), `linear2` (d_ff -> d_model), `forward(x)`.

    FFN(x) = linear2(relu(linear1(x))), applied to every position of a `(..., d_model)` input.
    """
    c = Check(_("位置感知前馈网络 (position-wise feed-forward network)"))
    c.a_class(cls, "check_feed_forward(PositionwiseFeedForward)")
    d, d_ff = 8, 32
    with sandbox():
        ffn = c.build(cls, d, d_ff, on=f"PositionwiseFeedForward(d_model={d}, d_ff={d_ff})")
        for name, n_in, n_out, words in (("linear1", d, d_ff, _("widens d_model -> d_ff")),
                                        ("linear2", d_ff, d, _("narrows d_ff -> d_model"))):
            layer = getattr(ffn, name, None)
            if layer is None:
                c.fail(_("expected an attribute {name}, an nn.Linear that {words}; yours has none.",
                         name=name, words=words))
            if not is_linear(layer, n_in, n_out):
                c.fail(_("expected {name} = nn.Linear({n_in}, {n_out}) (it {words}), got {layer!r}",
                         name=name, n_in=n_in, n_out=n_out, words=words, layer=layer))
        ffn.eval()
        randomize(ffn, seed=51, std=0.4)
        l1, l2 = ffn.linear1, ffn.linear2
        for x in (randn(2, 5, d, seed=52), randn(3, d, seed=53)):
            on = _("x of shape {shape}", shape=shape_str(x.shape))
            out = c.tensor(c.call(ffn, x, on=on), _("the output"), on, x.shape, _("the same as x (..., d_model)"))
            c.repeatable(ffn, x, first=out, on=on)
            c.numbers(out, l2(torch.relu(l1(x))), _("output"), on, [
                (_("位置感知前馈网络 (FFN): no activation between the two layers — without max(0, ·) the two linear "
                   "layers collapse into one; use linear2(torch.relu(linear1(x)))."), lambda: l2(l1(x))),
                (_("位置感知前馈网络 (FFN): the ReLU comes after linear2; it goes between the layers: "
                   "linear2(relu(linear1(x)))."), lambda: torch.relu(l2(l1(x)))),
                (_("位置感知前馈网络 (FFN): a ReLU after linear2 too; only one, between the layers."),
                 lambda: torch.relu(l2(torch.relu(l1(x))))),
                (_("位置感知前馈网络 (FFN): you used GELU; the paper's FFN uses ReLU, max(0, ·)."),
                 lambda: l2(F.gelu(l1(x)))),
                (_("位置感知前馈网络 (FFN): you used tanh; the paper's FFN uses ReLU, max(0, ·)."),
                 lambda: l2(torch.tanh(l1(x)))),
                (_("位置感知前馈网络 (FFN): you used a sigmoid; the paper's FFN uses ReLU, max(0, ·)."),
                 lambda: l2(torch.sigmoid(l1(x)))),
                (_("位置感知前馈网络 (FFN): you added the input back (x + ...); the residual connection lives outside "
                   "the FFN (lesson 04), so return linear2(relu(linear1(x))) alone."),
                 lambda: x + l2(torch.relu(l1(x)))),
            ], fallback=_("linear2(torch.relu(linear1(x)))."), atol=1e-5, rtol=1e-4)
    c.passed()


@checker
def check_ffn_parameter_count(fn) -> None:
    """Check `fn(d_model, d_ff) -> int`: the number of trainable parameters of one FFN block (weights and biases)."""
    c = Check(_("位置感知前馈网络的参数量 (FFN parameter count)"))
    c.callable(fn, _("your counting function"), "check_ffn_parameter_count(ffn_parameter_count)")
    for d, d_ff in ((8, 32), (6, 10), (512, 2048)):
        on = f"d_model={d}, d_ff={d_ff}"
        n = c.call(fn, d, d_ff, on=on)
        if isinstance(n, torch.Tensor) and n.numel() == 1:
            n = n.item()
        if isinstance(n, bool) or not isinstance(n, numbers.Real):
            c.fail(_("expected a number, got {kind} on {on}", kind=type(n).__name__, on=on))
        expected = 2 * d * d_ff + d_ff + d
        if n == expected:
            continue
        hints = {
            2 * d * d_ff: _("you counted the two weight matrices but not the biases (d_ff in linear1, d_model in "
                            "linear2)."),
            2 * d * d_ff + d_ff: _("linear2's bias (d_model numbers) is missing."),
            2 * d * d_ff + d: _("linear1's bias (d_ff numbers) is missing."),
            d * d_ff + d_ff: _("you counted only linear1; linear2 (d_ff x d_model weights + d_model biases) counts "
                               "too."),
            d * d_ff: _("you counted one weight matrix only; there are two, plus their biases."),
            2 * d * d_ff + 2 * d_ff: _("linear2's bias has d_model numbers, not d_ff."),
            2 * d * d_ff + 2 * d: _("linear1's bias has d_ff numbers, not d_model."),
        }
        hint = hints.get(n)
        c.fail(_("wrong count on {on}: got {n}, expected {expected:,}.", on=on, n=n, expected=expected)
               + (_("\nLikely mistake: {hint}", hint=hint) if hint else
                  _(" linear1 has d_model*d_ff weights + d_ff biases; linear2 has d_ff*d_model weights + d_model "
                    "biases.")))
    c.passed()
