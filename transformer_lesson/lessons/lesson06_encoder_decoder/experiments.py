"""Lesson 06, the encoder and the decoder (编码器和解码器): the experiments behind its claims.

Each function is seeded, runs in a few seconds on a CPU, and returns plain numbers that the notebook
prints and asserts and the tests assert too.
"""
from __future__ import annotations

import torch
from torch import nn

from ...model import DecoderLayer, EncoderLayer, Transformer
from ...multihead import capture_attention
from ...runtime import eval_mode

__all__ = ["decoder_logits", "future_token_effect", "cross_attention_weights", "copy_nn_transformer_weights"]


def decoder_logits(model: Transformer, src: torch.Tensor, tgt_in: torch.Tensor, causal: bool = True) -> torch.Tensor:
    """Next-token logits `(B, T, V)` of `model` (in eval mode, no gradients) for source ids `(B, S)` and the
    target so far `(B, T)`. `causal=False` runs the same decoder without its causal mask, so that every
    target position may look at every other one: what the decoder would compute if it could see ahead.
    """
    with torch.no_grad():
        src_mask = model.source_mask(src)                                 # (B, 1, 1, S): True = real token
        memory = model.encode(src, src_mask)                              # (B, S, d_model)
        hidden = model.decode(tgt_in, memory, src_mask, causal=causal)    # (B, T, d_model)
        return model.generator(hidden)                                    # (B, T, V)


def future_token_effect(model: Transformer, src: torch.Tensor, tgt_in: torch.Tensor, position: int,
                        new_token: int, causal: bool = True) -> dict:
    """Claim C10: replace the target token at `position` by `new_token`; how much does each output change?

    Returns `changes`, the largest absolute change of the logits at every target position (batch row 0),
    the largest change before `position` (`earlier_max`) and the smallest from `position` on (`later_min`).
    With the causal mask, `earlier_max` is exactly 0: position t never sees positions after t.
    """
    T = tgt_in.size(1)
    if not 0 <= position < T:
        raise ValueError(f"expected position in 0..{T - 1} for a target of length {T}, got {position}")
    if int(tgt_in[0, position]) == new_token:
        raise ValueError(f"expected new_token to differ from the token already at position {position}, "
                         f"got the same id {new_token}")
    changed = tgt_in.clone()
    changed[:, position] = new_token
    with eval_mode(model):
        before = decoder_logits(model, src, tgt_in, causal)
        after = decoder_logits(model, src, changed, causal)
    changes = (after - before)[0].abs().amax(-1)                          # (T,): per position, largest change
    return {"position": position, "causal": causal, "changes": changes.tolist(),
            "earlier_max": changes[:position].max().item() if position else 0.0,
            "later_min": changes[position:].min().item()}


def cross_attention_weights(model: Transformer, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
    """The cross-attention weights of every decoder layer, `(L, h, T, S)` for batch row 0.

    Row t of head i in layer l: how target position t (a query from the decoder) spreads its attention
    over the S source positions (keys and values from the encoder's memory); each row sums to 1.
    """
    with eval_mode(model), capture_attention(model) as captured:
        decoder_logits(model, src, tgt_in)
    return torch.stack([captured[f"decoder.layers.{i}.cross_attn"][0][0]   # (h, T, S) of batch row 0
                        for i in range(len(model.decoder.layers))])


def copy_nn_transformer_weights(ours: Transformer, theirs: nn.Transformer) -> list[tuple[str, str]]:
    """Load the weights of a `torch.nn.Transformer(batch_first=True)` into the course's `Transformer`.

    Layer by layer with `EncoderLayer.from_torch` / `DecoderLayer.from_torch`, plus the final LayerNorm of
    each stack, which `nn.Transformer` always has (build `ours` with `final_norm=True`). Embeddings and the
    output layer are not part of `nn.Transformer` and stay as they are. Returns the `(ours, theirs)` pairs
    of module names that were copied.
    """
    if not isinstance(theirs, nn.Transformer):
        raise TypeError(f"expected a torch.nn.Transformer, got {type(theirs).__name__}")
    if ours.encoder.norm is None or ours.decoder.norm is None:
        raise ValueError("expected a Transformer built with final_norm=True: nn.Transformer ends each stack "
                         "with a LayerNorm (encoder.norm, decoder.norm)")
    for side in ("encoder", "decoder"):
        n_ours, n_theirs = len(getattr(ours, side).layers), len(getattr(theirs, side).layers)
        if n_ours != n_theirs:
            raise ValueError(f"expected the same number of {side} layers, got {n_ours} (ours) and {n_theirs} (theirs)")
    copied = []
    for side, layer_cls in (("encoder", EncoderLayer), ("decoder", DecoderLayer)):
        for i, (mine, their) in enumerate(zip(getattr(ours, side).layers, getattr(theirs, side).layers)):
            mine.load_state_dict(layer_cls.from_torch(their).state_dict())
            copied.append((f"{side}.layers.{i}", f"{side}.layers.{i}"))
        getattr(ours, side).norm.load_state_dict(getattr(theirs, side).norm.state_dict())
        copied.append((f"{side}.norm", f"{side}.norm"))
    return copied
