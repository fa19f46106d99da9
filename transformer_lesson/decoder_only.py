"""Decoder-only language model (仅解码器模型, GPT-style): the course's self-attention block under a causal mask.

The three families of Transformer are one block, `EncoderLayer`, under different masks:

    encoder-only (BERT):         no mask: every position sees every position      -> understanding
    decoder-only (GPT):          causal mask: position t sees positions 0..t     -> next-token prediction
    encoder-decoder (the paper): an encoder stack, and a causal stack with cross-attention (`model.Transformer`)

A decoder-only model learns p(x_t | x_<t) at every position and generates by appending the token it chose
and running again. One `KVCache` per layer keeps the keys and values of the positions already seen, so
each new step computes only the newest position (the KV cache, 键值缓存).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ._validate import check_number, check_positive_int, check_tensor, check_token_id, shape_str
from .decoding import top_k_filter, top_p_filter
from .model import EncoderLayer
from .multihead import KVCache
from .positional import sinusoidal_encoding
from .residual import LayerNorm
from .runtime import eval_mode

__all__ = ["DecoderOnlyTransformer", "causal_mask_with_past", "Generation", "generate", "next_token_logits",
           "choose_next_token"]


def causal_mask_with_past(T: int, past: int = 0, device=None) -> torch.Tensor:
    """(T, past + T) boolean mask for T new positions after `past` cached ones: new position i (absolute
    past + i) may attend to keys 0 .. past + i. With past = 0 it is the usual lower-triangular mask."""
    T, past = check_positive_int("T", T), int(past)
    if past < 0:
        raise ValueError(f"expected past to be the number of cached positions (>= 0), got {past}")
    return torch.ones(T, past + T, dtype=torch.bool, device=device).tril(diagonal=past)   # key j <= past + i


class DecoderOnlyTransformer(nn.Module):
    """Token ids `(B, T)` in, next-token logits `(B, T, V)` out: embedding * sqrt(d_model) + positions,
    `num_layers` `EncoderLayer` blocks with a causal mask, a linear LM head (语言模型输出层).

    `rotary=True` gives no additive positional code: each block's attention rotates its queries and keys
    instead (RoPE). `causal=False` builds the same stack without the mask, an encoder-only (BERT-style)
    model: every output then depends on the whole sequence, and it cannot generate.
    """

    def __init__(self, vocab_size: int, d_model: int = 64, num_heads: int = 4, num_layers: int = 2, d_ff: int = 128,
                 dropout: float = 0.0, max_len: int = 256, norm_first: bool = False, activation: str = "relu",
                 rotary: bool = False, causal: bool = True):
        super().__init__()
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.d_model = check_positive_int("d_model", d_model)
        self.max_len = check_positive_int("max_len", max_len)
        num_layers = check_positive_int("num_layers", num_layers)
        for name, flag in (("rotary", rotary), ("causal", causal), ("norm_first", norm_first)):
            if not isinstance(flag, bool):
                raise TypeError(f"expected {name} to be True or False, got {flag!r}")
        self.rotary, self.causal = rotary, causal
        self.embed = nn.Embedding(vocab_size, d_model)
        self.dropout = nn.Dropout(dropout)
        # the sinusoidal code of lesson 02, unless RoPE rotates queries and keys inside attention instead
        self.register_buffer("pe", None if rotary else sinusoidal_encoding(max_len, d_model), persistent=False)
        self.layers = nn.ModuleList(EncoderLayer(d_model, num_heads, d_ff, dropout, norm_first, activation,
                                                 rotary=rotary) for _ in range(num_layers))
        self.norm = LayerNorm(d_model) if norm_first else None         # Pre-LN stacks end with one more norm
        self.lm_head = nn.Linear(d_model, vocab_size)                  # hidden state -> a logit per token
        for p in self.parameters():                                    # Xavier, as model.Transformer
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def new_cache(self) -> list[KVCache]:
        """One empty `KVCache` per layer, for `forward(tokens, cache)` one step at a time."""
        return [KVCache() for _ in self.layers]

    def forward(self, tokens: torch.Tensor, cache: list[KVCache] | None = None) -> torch.Tensor:
        """Logits `(B, T, V)`: row t scores every token as the next one after tokens[:, :t + 1].

        With `cache` (from `new_cache()`), `tokens` are only the new positions: they take positions
        len(cache) .. len(cache) + T - 1, attend to everything cached and to each other causally, and
        their keys and values join the cache.
        """
        check_tensor("tokens", tokens, shape="(B, T)", ndim=2, integer=True)
        B, T = tokens.shape
        if T == 0:
            raise ValueError(f"expected tokens of shape (B, T) with at least one token, got {shape_str(tokens.shape)}")
        tokens = tokens.long()
        if tokens.min() < 0 or tokens.max() >= self.vocab_size:
            raise ValueError(f"expected token ids in 0..{self.vocab_size - 1}, got ids from {int(tokens.min())} "
                             f"to {int(tokens.max())}")
        past = self._check_cache(cache, B)
        if past + T > self.max_len:
            raise ValueError(f"expected at most max_len={self.max_len} positions, got {past} cached + {T} new; "
                             "build the model with a larger max_len")
        x = self.embed(tokens) * math.sqrt(self.d_model)               # (B, T) -> (B, T, d_model)
        if self.pe is not None:
            x = x + self.pe[past:past + T].to(x.dtype)                 # positions past .. past + T - 1
        x = self.dropout(x)
        mask = causal_mask_with_past(T, past, tokens.device) if self.causal and T > 1 else None  # (T, past + T)
        for i, layer in enumerate(self.layers):
            x = layer(x, mask, cache=None if cache is None else cache[i])
        if self.norm is not None:
            x = self.norm(x)
        return self.lm_head(x)                                         # (B, T, V)

    def _check_cache(self, cache, B: int) -> int:
        if cache is None:
            return 0
        if not self.causal:
            raise ValueError("expected no cache for causal=False: an encoder-only model's earlier outputs change "
                             "when a token is added, so there is nothing to keep")
        if not isinstance(cache, (list, tuple)) or len(cache) != len(self.layers) \
                or not all(isinstance(c, KVCache) for c in cache):
            raise TypeError(f"expected cache to be a list of {len(self.layers)} KVCache (one per layer, from "
                            f"model.new_cache()), got {type(cache).__name__}")
        past = len(cache[0])
        if past and cache[0].keys.size(0) != B:
            raise ValueError(f"expected tokens with batch size {cache[0].keys.size(0)} as in the cache, got {B}")
        return past

    def extra_repr(self) -> str:
        kind = "decoder-only (causal)" if self.causal else "encoder-only (no mask)"
        return f"{kind}, vocab_size={self.vocab_size}, positions={'rotary' if self.rotary else 'sinusoidal'}"


# ---- generation: each new token appended to the input, then run again ---------------------------------------

@dataclass
class Generation:
    """`tokens (B, T0 + n)`: the prompt and the n tokens generated; `logits (B, n, V)`: the logits each step
    chose from (before temperature and filtering); `steps`: n."""
    tokens: torch.Tensor
    logits: torch.Tensor

    @property
    def steps(self) -> int:
        return self.logits.size(1)


def choose_next_token(logits: torch.Tensor, *, sample: bool = False, temperature: float = 1.0,
                      top_k: int | None = None, top_p: float | None = None,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """`(B, V)` logits -> `(B,)` token ids: the likeliest (greedy), or with `sample=True` a draw from
    softmax(logits / temperature), first cut to the top-k tokens and/or the top-p nucleus."""
    check_tensor("logits", logits, shape="(B, V)", ndim=2, floating=True)
    if not sample:
        return logits.argmax(dim=-1)
    temperature = check_number("temperature", temperature, positive=True, example="1.0")
    logits = logits / temperature                                  # < 1 sharpens, > 1 flattens
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    return torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator).squeeze(1)


def next_token_logits(model: DecoderOnlyTransformer, tokens: torch.Tensor) -> torch.Tensor:
    """`(B, T)` -> `(B, V)`: the logits of the token after each sequence, by running the whole sequence."""
    with eval_mode(model):
        return model(tokens)[:, -1]


def generate(model: DecoderOnlyTransformer, prompt: torch.Tensor, max_new_tokens: int, *, use_cache: bool = True,
             eos_id: int | None = None, sample: bool = False, temperature: float = 1.0, top_k: int | None = None,
             top_p: float | None = None, generator: torch.Generator | None = None) -> Generation:
    """Continue `prompt (B, T0)` (or `(T0,)`) by up to `max_new_tokens` tokens, one at a time.

    Each step turns the last position's logits into a token (`choose_next_token`: greedy, or sampled with
    temperature / top-k / top-p) and appends it. `use_cache=True` runs the prompt once (prefill) and then
    only the newest token per step, reading every earlier key and value from the layers' `KVCache`;
    `use_cache=False` runs the whole sequence again at every step. Both give the same tokens. A row that
    produced `eos_id` is finished (later positions repeat eos_id); generation stops when all rows are.
    """
    if not isinstance(model, DecoderOnlyTransformer):
        raise TypeError(f"expected a DecoderOnlyTransformer, got {type(model).__name__}")
    if not model.causal:
        raise ValueError("expected a causal (decoder-only) model: an encoder-only model (causal=False) sees the "
                         "future during training, so it never learned to predict the next token")
    check_tensor("prompt", prompt, shape="(T0,) or (B, T0)", ndim=(1, 2), integer=True)
    prompt = (prompt.unsqueeze(0) if prompt.dim() == 1 else prompt).long()
    max_new_tokens = check_positive_int("max_new_tokens", max_new_tokens)
    if prompt.size(1) + max_new_tokens > model.max_len and not model.rotary:
        raise ValueError(f"expected prompt length + max_new_tokens <= max_len={model.max_len}, got "
                         f"{prompt.size(1)} + {max_new_tokens}")
    if eos_id is not None:
        eos_id = check_token_id("eos_id", eos_id, model.vocab_size)
    choose = dict(sample=sample, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator)
    tokens, chosen_from = prompt, []
    done = torch.zeros(prompt.size(0), dtype=torch.bool)
    with eval_mode(model):
        cache = model.new_cache() if use_cache else None
        logits = model(prompt, cache)[:, -1]                       # prefill: the whole prompt once -> (B, V)
        for step in range(max_new_tokens):
            chosen_from.append(logits)
            token = choose_next_token(logits, **choose)            # (B,)
            if eos_id is not None:
                token = torch.where(done, torch.full_like(token, eos_id), token)
                done |= token == eos_id
            tokens = torch.cat([tokens, token[:, None]], dim=1)    # the new token joins the input
            if bool(done.all()) or step == max_new_tokens - 1:
                break
            if use_cache:
                logits = model(token[:, None], cache)[:, -1]       # only the newest position: (B, 1) -> (B, V)
            else:
                logits = model(tokens)[:, -1]                      # every position again: (B, T) -> (B, V)
    return Generation(tokens, torch.stack(chosen_from, dim=1))
