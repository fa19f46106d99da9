"""Multi-head attention (多头注意力).

Project queries, keys and values h times into smaller subspaces (d_k = d_model / h), attend in each
head in parallel, concatenate the heads and mix them with one more projection:

    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O,   head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)

The h heads together cost about as much as one full-width head: the projections are the same size.

When a decoder generates one token at a time, the keys and values of earlier positions never change: a
`KVCache` keeps them, so each step projects only the newest position (the KV cache, 键值缓存).
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn

from ._validate import check_module_dtype, check_positive_int, check_probability, check_tensor, shape_str
from .attention import scaled_dot_product_attention
from .positional import apply_rotary

__all__ = ["MultiHeadAttention", "KVCache", "capture_attention"]


class KVCache:
    """The keys and values one attention module has computed so far, `(B, h, T_past, d_k)` each.

    `append(k, v)` adds the newest positions along the time axis (dim 2) and returns all of them.
    """

    def __init__(self):
        self.keys: torch.Tensor | None = None
        self.values: torch.Tensor | None = None

    def __len__(self) -> int:
        return 0 if self.keys is None else self.keys.size(2)

    def append(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_tensor("k", k, shape="(B, h, T_new, d_k)", ndim=4, floating=True)
        if v.shape != k.shape:
            raise ValueError(f"expected v of the shape of k {shape_str(k.shape)}, got {shape_str(v.shape)}")
        if self.keys is None:
            self.keys, self.values = k, v
        else:
            past = self.keys.shape
            if (k.size(0), k.size(1), k.size(3)) != (past[0], past[1], past[3]):
                raise ValueError(f"expected new keys of shape (B, h, T_new, d_k) = ({past[0]}, {past[1]}, T_new, "
                                 f"{past[3]}) as in the cache, got {shape_str(k.shape)}; use a fresh KVCache "
                                 "for a new batch")
            self.keys = torch.cat([self.keys, k], dim=2)                # (B, h, T_past + T_new, d_k)
            self.values = torch.cat([self.values, v], dim=2)
        return self.keys, self.values

    def __repr__(self) -> str:
        shape = "empty" if self.keys is None else shape_str(self.keys.shape)
        return f"KVCache({shape})"


class MultiHeadAttention(nn.Module):
    """h heads of scaled dot-product attention over `(B, T, d_model)` inputs.

    `need_weights=True` returns `(output, weights)`, the weights of every head `(B, h, T_q, T_k)`; to get
    the weights of every attention module inside a whole model's call, use `capture_attention(model)`.
    `rotary=True` rotates each head's queries and keys by their positions (RoPE; self-attention only).
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 rotary: bool = False):
        super().__init__()
        d_model = check_positive_int("d_model", d_model)
        num_heads = check_positive_int("num_heads", num_heads)
        if d_model % num_heads:
            raise ValueError(f"expected d_model divisible by num_heads, got d_model={d_model} and "
                             f"num_heads={num_heads} ({d_model} / {num_heads} is not a whole number)")
        self.d_model, self.num_heads, self.d_k = d_model, num_heads, d_model // num_heads
        self.dropout = check_probability("dropout", dropout)
        self.rotary = bool(rotary)
        if self.rotary and self.d_k % 2:
            raise ValueError(f"expected an even d_k = d_model / num_heads for rotary=True (it rotates pairs of "
                             f"features), got d_k={self.d_k}")
        self.w_q = nn.Linear(d_model, d_model, bias=bias)  # all h query projections side by side
        self.w_k = nn.Linear(d_model, d_model, bias=bias)
        self.w_v = nn.Linear(d_model, d_model, bias=bias)
        self.w_o = nn.Linear(d_model, d_model, bias=bias)  # mixes the concatenated heads
        self._captures: list[list[torch.Tensor]] = []                 # filled by capture_attention

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, d_model) -> (B, h, T, d_k): head i takes features i*d_k .. (i+1)*d_k."""
        B, T, _ = x.shape
        return x.view(B, T, self.num_heads, self.d_k).transpose(1, 2)

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, h, T, d_k) -> (B, T, d_model): the heads concatenated feature-wise."""
        B, _, T, _ = x.shape
        return x.transpose(1, 2).reshape(B, T, self.d_model)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                mask: torch.Tensor | None = None, need_weights: bool = False, cache: KVCache | None = None):
        """Attend from `query (B, T_q, d_model)` to `key`/`value (B, T_k, d_model)`; returns `(B, T_q, d_model)`,
        or `(output, weights (B, h, T_q, T_k))` with `need_weights=True`.

        `mask` (True = may attend) broadcasts to `(B, h, T_q, T_k)`; a `(B, T_q, T_k)` mask is applied to every head.
        With a `cache`, `key`/`value` hold only the new positions; their keys and values join the cache and
        the queries attend to all of them (then T_k = cached + new positions).
        """
        self._check_inputs(query, key, value)
        if cache is not None and not isinstance(cache, KVCache):
            raise TypeError(f"expected cache to be a KVCache or None, got {type(cache).__name__}")
        if mask is not None and isinstance(mask, torch.Tensor) and mask.dim() == 3:
            mask = mask.unsqueeze(1)                                   # (B, T_q, T_k) -> (B, 1, T_q, T_k)
        q = self.split_heads(self.w_q(query))                          # (B, h, T_q, d_k)
        k = self.split_heads(self.w_k(key))                            # (B, h, T_new, d_k)
        v = self.split_heads(self.w_v(value))                          # (B, h, T_new, d_k)
        if self.rotary:
            if query is not key:
                raise ValueError("expected self-attention (query is key) with rotary=True: RoPE rotates a query "
                                 "and a key by positions in the same sequence; pass one tensor as query, key and value")
            past = len(cache) if cache is not None else 0
            positions = torch.arange(past, past + q.size(2), device=q.device)
            q, k = apply_rotary(q, positions), apply_rotary(k, positions)
        if cache is not None:
            k, v = cache.append(k, v)                                  # (B, h, T_past + T_new, d_k)
        heads, weights = scaled_dot_product_attention(
            q, k, v, mask, dropout_p=self.dropout if self.training else 0.0)  # (B, h, T_q, d_k)
        for sink in self._captures:
            sink.append(weights.detach())                              # (B, h, T_q, T_k)
        out = self.w_o(self.merge_heads(heads))                        # (B, T_q, d_model)
        return (out, weights) if need_weights else out

    def _check_inputs(self, query, key, value) -> None:
        d = self.d_model
        check_tensor("query", query, shape="(B, T_q, d_model)", ndim=3, floating=True)
        check_tensor("key", key, shape="(B, T_k, d_model)", ndim=3, floating=True)
        check_tensor("value", value, shape="(B, T_k, d_model)", ndim=3, floating=True)
        for name, x, shape in (("query", query, "(B, T_q, d_model)"), ("key", key, "(B, T_k, d_model)"),
                               ("value", value, "(B, T_k, d_model)")):
            if x.size(-1) != d:
                raise ValueError(f"expected {name} of shape {shape} with d_model={d}, got {shape_str(x.shape)}")
        if key.shape[:2] != value.shape[:2]:
            raise ValueError(f"expected value of shape (B, T_k, d_model) = {shape_str(key.shape)} as in key, "
                             f"got {shape_str(value.shape)}")
        if query.size(0) != key.size(0):
            raise ValueError(f"expected key with batch size B={query.size(0)} as in query, got {shape_str(key.shape)}")
        for name, x in (("query", query), ("key", key), ("value", value)):
            check_module_dtype(name, x, self)

    @classmethod
    def from_torch(cls, m: nn.MultiheadAttention) -> "MultiHeadAttention":
        """Copy the weights of a `torch.nn.MultiheadAttention(batch_first=True)` into a new module."""
        if not isinstance(m, nn.MultiheadAttention):
            raise TypeError(f"expected a torch.nn.MultiheadAttention, got {type(m).__name__}")
        if not m.batch_first:
            raise ValueError("expected nn.MultiheadAttention(batch_first=True): this course's tensors are "
                             "(B, T, d_model); got batch_first=False, which means (T, B, d_model)")
        if m.bias_k is not None or m.add_zero_attn:
            raise ValueError("nn.MultiheadAttention with add_bias_kv or add_zero_attn has no counterpart here")
        if not m._qkv_same_embed_dim:
            raise ValueError(f"expected kdim == vdim == embed_dim={m.embed_dim}, got kdim={m.kdim}, vdim={m.vdim}")
        bias = m.in_proj_bias is not None
        new = cls(m.embed_dim, m.num_heads, dropout=m.dropout, bias=bias)
        w_q, w_k, w_v = m.in_proj_weight.detach().chunk(3)            # rows [W_q; W_k; W_v], nn.Linear layout
        with torch.no_grad():
            for layer, w in ((new.w_q, w_q), (new.w_k, w_k), (new.w_v, w_v)):
                layer.weight.copy_(w)
            new.w_o.weight.copy_(m.out_proj.weight)
            if bias:
                for layer, b in zip((new.w_q, new.w_k, new.w_v), m.in_proj_bias.detach().chunk(3)):
                    layer.bias.copy_(b)
                new.w_o.bias.copy_(m.out_proj.bias)
        return new.to(m.in_proj_weight.device, m.in_proj_weight.dtype)

    def extra_repr(self) -> str:
        rotary = ", rotary=True" if self.rotary else ""
        return f"d_model={self.d_model}, num_heads={self.num_heads}, d_k={self.d_k}{rotary}"


@contextmanager
def capture_attention(model: nn.Module):
    """Collect the attention weights of every `MultiHeadAttention` inside `model` during a block:

        with capture_attention(model) as weights:
            model(src, tgt_in)
        weights["encoder.layers.0.self_attn"]     # [(B, h, S, S)], one tensor per call, in call order

    Yields a dict from each attention module's name (as in `model.named_modules()`) to a list of the
    weights of its calls in the block (detached); the modules stop recording when the block ends.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected model to be an nn.Module, got {type(model).__name__}")
    modules = [(name, m) for name, m in model.named_modules() if isinstance(m, MultiHeadAttention)]
    if not modules:
        raise ValueError(f"expected a model containing MultiHeadAttention modules, got a {type(model).__name__} "
                         "without any")
    captured: dict[str, list[torch.Tensor]] = {name: [] for name, _ in modules}
    for name, m in modules:
        m._captures.append(captured[name])
    try:
        yield captured
    finally:
        for name, m in modules:
            m._captures.remove(captured[name])
