"""Lesson 04 checkers: LayerNorm (层归一化) and the residual connection (残差连接).

LayerNorm(x) = (x - mean) / sqrt(var + eps) * weight + bias over the last axis (biased variance);
Post-LN norm(x + sublayer(x)), Pre-LN x + sublayer(norm(x)).
"""
from __future__ import annotations

import torch
from torch import nn

from ..i18n import translator
from ._core import Check, checker, randn, randomize, sandbox, shape_str

_ = translator("lesson04")


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


@checker
def check_layer_norm(cls) -> None:
    """Check `cls(d_model, eps=1e-5)` with parameters `weight` (ones) and `bias` (zeros) of shape `(d_model,)`.

    forward(x): normalise each token over its last axis with the biased variance, eps inside the square
    root, then scale by weight and shift by bias.
    """
    c = Check(_("层归一化 (LayerNorm)"))
    c.a_class(cls, "check_layer_norm(LayerNorm)")
    d = 8
    with sandbox():
        norm = c.build(cls, d, on=f"LayerNorm(d_model={d})")
        params = dict(norm.named_parameters())
        for name, start, meaning in (("weight", 1.0, _("γ starts as 'no scaling'")),
                                     ("bias", 0.0, _("β starts as 'no shift'"))):
            p = getattr(norm, name, None)
            if not isinstance(p, torch.Tensor):
                c.fail(_("expected a parameter `{name}` of shape ({d},); yours has none. In __init__: "
                         "self.{name} = nn.Parameter(torch.{fill}(d_model)).",
                         name=name, d=d, fill="ones" if start else "zeros"))
            if name not in params or params[name] is not p:
                c.fail(_("`{name}` must be an nn.Parameter (so the optimiser trains it): "
                         "self.{name} = nn.Parameter(torch.{fill}(d_model)).", name=name, fill="ones" if start else "zeros"))
            if tuple(p.shape) != (d,):
                c.fail(_("expected `{name}` of shape (d_model,) = ({d},), got {shape}: one number per feature.",
                         name=name, d=d, shape=shape_str(p.shape)))
            if not torch.all(p == start):
                c.fail(_("`{name}` should start at {fill} ({meaning}).", name=name, fill="ones" if start else "zeros",
                         meaning=meaning))
        norm.eval()
        weight, bias = randn(d, seed=31, scale=0.5, shift=1.0), randn(d, seed=32, scale=0.3)
        norm.weight.copy_(weight)
        norm.bias.copy_(bias)

        def variants(x, eps):
            def v(**kw):
                return lambda: _layer_norm(x, weight, bias, eps, **kw)
            return [
                (_("层归一化 (LayerNorm) over the wrong axis: normalise each token over its d_model features, "
                   "the last axis: mean(dim=-1, keepdim=True)."), v(dims=(1,))),
                (_("层归一化 (LayerNorm) over the wrong axis (the batch): normalise each token over its features, "
                   "dim=-1."), v(dims=(0,))),
                (_("层归一化 (LayerNorm) over the wrong axes: you normalised over the whole sequence and its features; "
                   "LayerNorm takes each token on its own, dim=-1 only."), v(dims=(1, 2))),
                (_("层归一化 (LayerNorm) uses the biased variance (divide by d_model, not d_model - 1): "
                   "x.var(dim=-1, unbiased=False, keepdim=True) or correction=0; torch.var's default is unbiased."),
                 v(unbiased=True)),
                (_("层归一化 (LayerNorm): eps is outside the square root; it goes inside: "
                   "(x - mean) / torch.sqrt(var + eps)."), v(eps_mode="outside")),
                (_("层归一化 (LayerNorm): eps is missing; add it inside the square root, torch.sqrt(var + self.eps), "
                   "so a token with (almost) equal features does not blow up."), v(eps_mode="none")),
                (_("层归一化 (LayerNorm): weight and bias are swapped: x_hat * weight + bias."), v(affine="swapped")),
                (_("层归一化 (LayerNorm): the learned weight (γ) and bias (β) are not applied; return "
                   "x_hat * self.weight + self.bias."), v(affine="none")),
                (_("层归一化 (LayerNorm): the bias (β) is not added: x_hat * self.weight + self.bias."),
                 v(affine="weight_only")),
                (_("层归一化 (LayerNorm): you added the bias before scaling; scale first: x_hat * weight + bias."),
                 v(affine="bias_first")),
                (_("层归一化 (LayerNorm): the mean is not subtracted (that is RMSNorm); subtract the per-token mean "
                   "before dividing."), v(center=False)),
            ]

        inputs = [
            (_("x of shape (2, 5, 8) with mean about 1 and standard deviation 2"),
             randn(2, 5, d, seed=33, scale=2.0, shift=1.0)),
            (_("a small-variance x of shape (2, 3, 8) (std 0.002, where eps matters)"),
             randn(2, 3, d, seed=34, scale=0.002, shift=0.01)),
        ]
        for on, x in inputs:
            on = _("{on}, with non-trivial weight and bias", on=on)
            out = c.call(norm, x, on=on)
            out = c.tensor(out, _("the output"), on, x.shape, _("the same as x"))
            c.repeatable(norm, x, first=out, on=on)
            c.numbers(out, _layer_norm(x, weight, bias, 1e-5), _("output"), on, variants(x, 1e-5),
                      fallback=_("mean and biased variance over dim=-1 (keepdim=True); (x - mean) / sqrt(var + eps); "
                                 "* weight + bias."), atol=1e-4, rtol=1e-4)

        # eps is a constructor argument: a hard-coded 1e-5 shows on small-variance inputs with another eps.
        eps = 1e-3
        norm2 = c.call(cls, d, eps=eps, on=f"LayerNorm(d_model={d}, eps={eps})")
        norm2.eval()
        norm2.weight.copy_(weight)
        norm2.bias.copy_(bias)
        x = inputs[1][1]
        on = _("LayerNorm(d_model={d}, eps={eps}) on the small-variance x", d=d, eps=eps)
        out = c.tensor(c.call(norm2, x, on=on), _("the output"), on, x.shape, _("the same as x"))
        c.numbers(out, _layer_norm(x, weight, bias, eps), _("output"), on, [
            (_("层归一化 (LayerNorm): your layer ignores its eps argument; store it in __init__ (self.eps = eps) and "
               "use self.eps in forward."), lambda: _layer_norm(x, weight, bias, 1e-5)),
        ] + variants(x, eps), atol=1e-4, rtol=1e-4)
    c.passed()


@checker
def check_residual_connection(fn) -> None:
    """Check `fn(x, sublayer, norm, norm_first=False)`.

    Post-LN (norm_first=False, the paper): norm(x + sublayer(x)).
    Pre-LN  (norm_first=True):             x + sublayer(norm(x)).
    """
    c = Check(_("残差连接 (residual connection)"))
    c.callable(fn, _("your residual-connection function"), "check_residual_connection(residual_connection)")
    d = 8
    with sandbox():
        linear = nn.Linear(d, d)
        randomize(linear, seed=41, std=0.5)
        norm = nn.LayerNorm(d)
        with torch.no_grad():
            norm.weight.copy_(randn(d, seed=43, scale=0.4, shift=1.0))
            norm.bias.copy_(randn(d, seed=44, scale=0.3))

        def sublayer(h):
            return torch.tanh(linear(h))
        x = randn(2, 5, d, seed=45, scale=1.5, shift=0.5)
        post = lambda: norm(x + sublayer(x))          # noqa: E731
        pre = lambda: x + sublayer(norm(x))           # noqa: E731
        for norm_first in (False, True):
            name = "Pre-LN (norm_first=True)" if norm_first else "Post-LN (norm_first=False)"
            on = _("{name}, x of shape {shape}, sublayer = tanh(linear(.)), norm = an nn.LayerNorm",
                   name=name, shape=shape_str(x.shape))
            out = c.call(fn, x, sublayer, norm, norm_first=norm_first, on=on)
            out = c.tensor(out, _("the output"), on, x.shape, _("the same as x"))
            other = "Post-LN: norm(x + sublayer(x))" if norm_first else "Pre-LN: x + sublayer(norm(x))"
            want = "Pre-LN: x + sublayer(norm(x))" if norm_first else "Post-LN: norm(x + sublayer(x))"
            c.numbers(out, (pre if norm_first else post)(), _("output"), on, [
                (_("残差连接 (residual connection): you computed {other} for norm_first={norm_first}; "
                   "it should be {want}.", other=other, norm_first=norm_first, want=want), post if norm_first else pre),
                (_("残差连接 (residual connection): the input is not added back — the residual path is x + ...: "
                   "{want}.", want=want), (lambda: sublayer(norm(x))) if norm_first else (lambda: norm(sublayer(x)))),
                (_("残差连接 (residual connection): Post-LN normalises the sum, norm(x + sublayer(x)); you normalised "
                   "the sublayer's output before adding it."), lambda: x + norm(sublayer(x))),
                (_("残差连接 (residual connection): in Pre-LN the residual path carries x itself, un-normalised: "
                   "x + sublayer(norm(x)), not norm(x) + sublayer(norm(x))."), lambda: norm(x) + sublayer(norm(x))),
                (_("残差连接 (residual connection): Pre-LN has no LayerNorm after the sum: x + sublayer(norm(x))."),
                 lambda: norm(x + sublayer(norm(x)))),
                (_("残差连接 (residual connection): the LayerNorm is missing: {want}.", want=want),
                 lambda: x + sublayer(x)),
            ], fallback=_("{want}.", want=want), atol=1e-5, rtol=1e-4)
    c.passed()
