"""Assembling the Transformer: encoder (编码器) and decoder (解码器) layers, their stacks, and the whole model.

Encoder layer:  x -> self-attention -> add & norm -> feed-forward -> add & norm
Decoder layer:  y -> masked self-attention -> add & norm -> cross-attention over the encoder's output
                  -> add & norm -> feed-forward -> add & norm
Model: token embedding * sqrt(d_model) + positional encoding -> stacks -> linear to vocabulary logits;
`share_embeddings=True` makes both embeddings and that linear layer one matrix, as the paper does.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ._validate import check_module_dtype, check_positive_int, check_tensor, check_token_id, shape_str
from .attention import causal_mask, padding_mask
from .feedforward import ACTIVATIONS, PositionwiseFeedForward
from .multihead import KVCache, MultiHeadAttention
from .positional import PositionalEncoding
from .residual import LayerNorm, ResidualConnection

__all__ = ["EncoderLayer", "DecoderLayer", "Encoder", "Decoder", "Transformer"]


def _check_width(name: str, x, d_model: int, shape: str, module: nn.Module | None = None) -> None:
    check_tensor(name, x, shape=shape, ndim=3, floating=True)
    if x.size(-1) != d_model:
        raise ValueError(f"expected {name} of shape {shape} with d_model={d_model}, got {shape_str(x.shape)}")
    if module is not None:
        check_module_dtype(name, x, module)


def _torch_activation_name(layer: nn.Module) -> str:
    act = layer.activation
    for name, fn in ACTIVATIONS.items():
        if act is fn or isinstance(act, {"relu": nn.ReLU, "gelu": nn.GELU}[name]):
            return name
    raise ValueError(f"expected a layer with activation relu or gelu, got {act!r}")


def _copy_linear(ours: nn.Linear, theirs: nn.Linear) -> None:
    """Copy weight and bias; a torch layer built with bias=False gets a zero bias (the same function)."""
    with torch.no_grad():
        ours.weight.copy_(theirs.weight)
        ours.bias.copy_(theirs.bias if theirs.bias is not None else torch.zeros_like(ours.bias))


def _copy_layer_norm(ours: LayerNorm, theirs: nn.LayerNorm) -> None:
    if theirs.weight is None:
        raise ValueError("expected a layer whose LayerNorms have elementwise_affine=True (learned weight and "
                         "bias), got one without; this course's LayerNorm always has them")
    ours.eps = theirs.eps
    with torch.no_grad():
        ours.weight.copy_(theirs.weight)
        ours.bias.copy_(theirs.bias if theirs.bias is not None else torch.zeros_like(ours.bias))


class EncoderLayer(nn.Module):
    """Self-attention then a feed-forward network, each wrapped in a residual connection and LayerNorm."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0,
                 norm_first: bool = False, activation: str = "relu", rotary: bool = False):
        super().__init__()
        self.d_model = check_positive_int("d_model", d_model)
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout, rotary=rotary)  # rotary: RoPE (lesson 09)
        self.feed_forward = PositionwiseFeedForward(d_model, d_ff, dropout, activation)
        self.residual_attn = ResidualConnection(d_model, dropout, norm_first)
        self.residual_ffn = ResidualConnection(d_model, dropout, norm_first)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                cache: KVCache | None = None) -> torch.Tensor:
        """`cache`: the layer's KVCache when generating one step at a time (lesson 09's decoder-only model)."""
        _check_width("x", x, self.d_model, "(B, T, d_model)", self)
        x = self.residual_attn(x, lambda h: self.self_attn(h, h, h, mask, cache=cache))  # each token looks at the others
        return self.residual_ffn(x, self.feed_forward)                      # then each is transformed alone

    @classmethod
    def from_torch(cls, layer: nn.TransformerEncoderLayer) -> "EncoderLayer":
        """Copy a `nn.TransformerEncoderLayer(batch_first=True)`; outputs match in eval mode."""
        if not isinstance(layer, nn.TransformerEncoderLayer):
            raise TypeError(f"expected a torch.nn.TransformerEncoderLayer, got {type(layer).__name__}")
        attn = layer.self_attn
        new = cls(attn.embed_dim, attn.num_heads, layer.linear1.out_features, layer.dropout.p,
                  layer.norm_first, _torch_activation_name(layer))
        new.self_attn = MultiHeadAttention.from_torch(attn)
        _copy_linear(new.feed_forward.linear1, layer.linear1)
        _copy_linear(new.feed_forward.linear2, layer.linear2)
        _copy_layer_norm(new.residual_attn.norm, layer.norm1)
        _copy_layer_norm(new.residual_ffn.norm, layer.norm2)
        return new


class DecoderLayer(nn.Module):
    """Masked self-attention, cross-attention over the encoder's output, then a feed-forward network."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0,
                 norm_first: bool = False, activation: str = "relu"):
        super().__init__()
        self.d_model = check_positive_int("d_model", d_model)
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.feed_forward = PositionwiseFeedForward(d_model, d_ff, dropout, activation)
        self.residual_self = ResidualConnection(d_model, dropout, norm_first)
        self.residual_cross = ResidualConnection(d_model, dropout, norm_first)
        self.residual_ffn = ResidualConnection(d_model, dropout, norm_first)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, tgt_mask: torch.Tensor | None = None,
                memory_mask: torch.Tensor | None = None) -> torch.Tensor:
        _check_width("x", x, self.d_model, "(B, T, d_model)", self)
        _check_width("memory", memory, self.d_model, "(B, S, d_model)", self)
        x = self.residual_self(x, lambda h: self.self_attn(h, h, h, tgt_mask))                # sees only the past
        x = self.residual_cross(x, lambda h: self.cross_attn(h, memory, memory, memory_mask))  # looks at the source
        return self.residual_ffn(x, self.feed_forward)

    @classmethod
    def from_torch(cls, layer: nn.TransformerDecoderLayer) -> "DecoderLayer":
        """Copy a `nn.TransformerDecoderLayer(batch_first=True)`; outputs match in eval mode."""
        if not isinstance(layer, nn.TransformerDecoderLayer):
            raise TypeError(f"expected a torch.nn.TransformerDecoderLayer, got {type(layer).__name__}")
        attn = layer.self_attn
        new = cls(attn.embed_dim, attn.num_heads, layer.linear1.out_features, layer.dropout.p,
                  layer.norm_first, _torch_activation_name(layer))
        new.self_attn = MultiHeadAttention.from_torch(attn)
        new.cross_attn = MultiHeadAttention.from_torch(layer.multihead_attn)
        _copy_linear(new.feed_forward.linear1, layer.linear1)
        _copy_linear(new.feed_forward.linear2, layer.linear2)
        _copy_layer_norm(new.residual_self.norm, layer.norm1)
        _copy_layer_norm(new.residual_cross.norm, layer.norm2)
        _copy_layer_norm(new.residual_ffn.norm, layer.norm3)
        return new


class Encoder(nn.Module):
    """A stack of `num_layers` encoder layers. Pre-LN stacks end with one more LayerNorm (`final_norm`)."""

    def __init__(self, num_layers: int, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0,
                 norm_first: bool = False, activation: str = "relu", final_norm: bool | None = None):
        super().__init__()
        num_layers = check_positive_int("num_layers", num_layers)
        self.layers = nn.ModuleList(EncoderLayer(d_model, num_heads, d_ff, dropout, norm_first, activation)
                                    for _ in range(num_layers))
        self.norm = LayerNorm(d_model) if (norm_first if final_norm is None else final_norm) else None

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, mask)
        return x if self.norm is None else self.norm(x)


class Decoder(nn.Module):
    """A stack of `num_layers` decoder layers, each attending to the same encoder output (memory)."""

    def __init__(self, num_layers: int, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0,
                 norm_first: bool = False, activation: str = "relu", final_norm: bool | None = None):
        super().__init__()
        num_layers = check_positive_int("num_layers", num_layers)
        self.layers = nn.ModuleList(DecoderLayer(d_model, num_heads, d_ff, dropout, norm_first, activation)
                                    for _ in range(num_layers))
        self.norm = LayerNorm(d_model) if (norm_first if final_norm is None else final_norm) else None

    def forward(self, x: torch.Tensor, memory: torch.Tensor, tgt_mask: torch.Tensor | None = None,
                memory_mask: torch.Tensor | None = None) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, memory, tgt_mask, memory_mask)
        return x if self.norm is None else self.norm(x)


class Transformer(nn.Module):
    """The encoder-decoder Transformer: source tokens in, next-token logits over the target vocabulary out.

    `encode(src)` -> memory `(B, S, d_model)`; `decode(tgt, memory, memory_mask)` -> `(B, T, d_model)`;
    `generator(hidden)` -> logits `(B, T, V)`; `forward(src, tgt)` does all three.

    `share_embeddings=True` ties three matrices into one, as the paper does (section 3.4): the source
    embedding, the target embedding and the generator's weight are the same `(V, d_model)` parameter
    (the generator keeps its own bias). It needs one vocabulary for both languages (src_vocab_size ==
    tgt_vocab_size). The default, False, gives each its own matrix.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, d_model: int = 512, num_heads: int = 8,
                 num_encoder_layers: int = 6, num_decoder_layers: int = 6, d_ff: int = 2048,
                 dropout: float = 0.1, max_len: int = 256, norm_first: bool = False,
                 activation: str = "relu", final_norm: bool | None = None, pad_id: int = 0,
                 share_embeddings: bool = False):
        super().__init__()
        self.src_vocab_size = check_positive_int("src_vocab_size", src_vocab_size)
        self.tgt_vocab_size = check_positive_int("tgt_vocab_size", tgt_vocab_size)
        self.d_model = check_positive_int("d_model", d_model)
        self.pad_id = check_token_id("pad_id", pad_id, self.src_vocab_size, vocab="the source vocabulary")
        if not isinstance(share_embeddings, bool):
            raise TypeError(f"expected share_embeddings to be True or False, got {share_embeddings!r}")
        if share_embeddings and src_vocab_size != tgt_vocab_size:
            raise ValueError(f"expected one vocabulary shared by both languages for share_embeddings=True "
                             f"(src_vocab_size == tgt_vocab_size), got src_vocab_size={src_vocab_size} and "
                             f"tgt_vocab_size={tgt_vocab_size}; build one vocabulary over both languages, "
                             f"or use share_embeddings=False")
        self.share_embeddings = share_embeddings
        self.src_embed = nn.Embedding(src_vocab_size, d_model)
        self.tgt_embed = self.src_embed if share_embeddings else nn.Embedding(tgt_vocab_size, d_model)
        self.positional = PositionalEncoding(d_model, max_len, dropout)
        self.encoder, self.decoder = self.build_stacks(num_encoder_layers, num_decoder_layers, d_model, num_heads,
                                                       d_ff, dropout, norm_first, activation, final_norm)
        self.generator = nn.Linear(d_model, tgt_vocab_size)  # the output distribution's logits
        if share_embeddings:                                 # one (V, d_model) matrix: embeds ids, scores tokens
            self.generator.weight = self.src_embed.weight
        for p in self.parameters():                          # Xavier init, as nn.Transformer does
            if p.dim() > 1:                                  # (a shared matrix is listed, and drawn, once)
                nn.init.xavier_uniform_(p)

    def build_stacks(self, num_encoder_layers: int, num_decoder_layers: int, d_model: int, num_heads: int,
                     d_ff: int, dropout: float, norm_first: bool, activation: str, final_norm: bool | None):
        """The encoder and decoder stacks. A subclass may build others (the training benchmark puts
        `torch.nn.Transformer`'s here and overrides `encode` and `decode` to call them)."""
        return (Encoder(num_encoder_layers, d_model, num_heads, d_ff, dropout, norm_first, activation, final_norm),
                Decoder(num_decoder_layers, d_model, num_heads, d_ff, dropout, norm_first, activation, final_norm))

    def _embed(self, tokens: torch.Tensor, embedding: nn.Embedding, name: str) -> torch.Tensor:
        check_tensor(name, tokens, shape=f"(B, {name[0].upper()})", ndim=2, integer=True)
        tokens = tokens.long()                                # uint8 / int16 ids are fine; nn.Embedding wants int64
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= embedding.num_embeddings):
            raise ValueError(f"expected {name} token ids in 0..{embedding.num_embeddings - 1}, "
                             f"got ids from {int(tokens.min())} to {int(tokens.max())}")
        x = embedding(tokens) * math.sqrt(self.d_model)      # (B, T) -> (B, T, d_model), scaled as in the paper
        return self.positional(x)                             # + positional encoding, then dropout

    def source_mask(self, src: torch.Tensor) -> torch.Tensor:
        """(B, 1, 1, S): True for real source tokens, so no query attends to padding."""
        return padding_mask(src, self.pad_id)

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Source ids `(B, S)` -> memory `(B, S, d_model)`."""
        if src_mask is None:
            src_mask = self.source_mask(src)
        return self.encoder(self._embed(src, self.src_embed, "src"), src_mask)

    def decode(self, tgt: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor | None = None,
               causal: bool = True) -> torch.Tensor:
        """Target ids so far `(B, T)` and memory -> decoder states `(B, T, d_model)`.

        The causal mask stops position t from seeing t+1, t+2, ...; padding at the end of a target needs no
        mask of its own, because no earlier position can see it and the loss ignores its outputs.
        `causal=False` drops the mask (lesson 06 shows what goes wrong then); generation never does.
        """
        check_tensor("tgt", tgt, shape="(B, T)", ndim=2, integer=True)
        if tgt.size(1) == 0:
            raise ValueError(f"expected tgt of shape (B, T) with at least one token (start with <bos>), got "
                             f"{shape_str(tgt.shape)}")
        if not isinstance(causal, bool):
            raise TypeError(f"expected causal to be True or False, got {causal!r}")
        tgt_mask = causal_mask(tgt.size(-1), device=tgt.device) if causal else None
        return self.decoder(self._embed(tgt, self.tgt_embed, "tgt"), memory, tgt_mask, memory_mask)

    def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits `(B, T, V)` for the next token at every target position."""
        src_mask = self.source_mask(check_tensor("src", src, shape="(B, S)", ndim=2, integer=True))
        memory = self.encode(src, src_mask)
        return self.generator(self.decode(tgt, memory, src_mask))
