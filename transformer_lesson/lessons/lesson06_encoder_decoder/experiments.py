"""Lesson 06, the encoder and the decoder (编码器和解码器): the experiments behind its claims.

Each function is seeded, runs in a few seconds on a CPU, and returns plain numbers that the notebook
prints and asserts and the tests assert too.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..._validate import check_positive_int
from ...model import DecoderLayer, EncoderLayer, Transformer
from ...multihead import capture_attention
from ...positional import sinusoidal_encoding
from ...runtime import eval_mode

__all__ = ["decoder_logits", "future_token_effect", "cross_attention_weights", "copy_nn_transformer_weights",
           "embedding_scale", "first_word_entropy", "parameters_by_component", "parameter_formula"]


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


def embedding_scale(model: Transformer, src: torch.Tensor, tgt_in: torch.Tensor) -> dict:
    """Why x sqrt(d_model), on a model whose one matrix W (V, d_model) embeds tokens and scores them: the mean
    length of W's rows, as stored and times sqrt(d_model), beside a positional-encoding row's; and the entropy of
    the first-word distribution with W as the output weight, and with rows sqrt(d_model) times longer instead."""
    if not model.share_embeddings:
        raise ValueError("expected a Transformer built with share_embeddings=True (one matrix for the embeddings "
                         "and the output layer), got one with separate matrices")
    W = model.src_embed.weight.detach()                                   # (V, d): also generator.weight
    scale = math.sqrt(model.d_model)
    pe = sinusoidal_encoding(src.size(1), model.d_model)                  # (S, d): the codes added to the source
    with eval_mode(model):
        hidden = model.decode(tgt_in, model.encode(src), model.source_mask(src))[0, 0]  # (d,): the vector after <bos>

    def entropy(weight):                                                  # of softmax(weight @ hidden + bias)
        log_p = (weight @ hidden + model.generator.bias.detach()).log_softmax(-1)      # (V,)
        return -(log_p.exp() * log_p).sum().item()

    return {"row": W.norm(dim=-1).mean().item(), "row_scaled": (W * scale).norm(dim=-1).mean().item(),
            "pe_row": pe.norm(dim=-1).mean().item(), "hidden": hidden.norm().item(),
            "entropy": entropy(W), "entropy_long_rows": entropy(W * scale), "log_V": math.log(W.size(0))}


def first_word_entropy(model: Transformer, src: torch.Tensor, tgt_in: torch.Tensor) -> dict:
    """How spread out the model's first-word distribution is: its entropy H = -sum p log p (nats), next to
    log V, the entropy of the uniform distribution over the V target tokens (the largest possible)."""
    with eval_mode(model):
        probs = decoder_logits(model, src, tgt_in)[0, 0].softmax(-1)      # (V,): P(first word | <bos>, source)
    entropy = -(probs * probs.log()).sum().item()
    return {"entropy": entropy, "log_V": math.log(probs.numel()), "largest": probs.max().item()}


# The paper's parameter table (Table 3): count a model's parameters per component, and the same by formula.

SUBLAYERS = {"self_attn": "self-attention", "cross_attn": "cross-attention", "feed_forward": "feed-forward",
             "residual_attn": "LayerNorms", "residual_self": "LayerNorms", "residual_cross": "LayerNorms",
             "residual_ffn": "LayerNorms"}
OUTSIDE_THE_LAYERS = {"src_embed": "source embedding", "tgt_embed": "target embedding",
                      "generator.weight": "output weight", "generator.bias": "output bias",
                      "encoder.norm": "encoder final LayerNorm", "decoder.norm": "decoder final LayerNorm"}


def parameters_by_component(model: Transformer) -> dict[str, int]:
    """The numbers a course `Transformer` learns, added up per component. A matrix shared by several layers
    is counted once: `named_parameters()` lists it once, under its first name (`src_embed.weight`)."""
    if not isinstance(model, Transformer):
        raise TypeError(f"expected the course's Transformer, got {type(model).__name__}")
    labels = dict(OUTSIDE_THE_LAYERS)
    if model.share_embeddings:                       # src_embed.weight is also tgt_embed's and the generator's
        labels["src_embed"] = "shared embedding matrix"
    counts: dict[str, int] = {}
    for name, p in model.named_parameters():         # e.g. "encoder.layers.3.self_attn.w_q.weight"
        parts = name.split(".")
        if parts[1] == "layers":                     # one row for the same sub-layer of all N layers
            key = f"{parts[0]} {SUBLAYERS[parts[3]]}"
        else:                                        # embeddings, the output layer, final LayerNorms
            key = next(label for prefix, label in labels.items() if name.startswith(prefix))
        counts[key] = counts.get(key, 0) + p.numel()
    return counts


def parameter_formula(vocab_size: int, d_model: int, d_ff: int, num_layers: int) -> dict[str, int]:
    """The same counts by formula, for the paper's design: Post-LN, N layers on each side, and one shared
    vocabulary whose (V, d_model) matrix embeds source and target tokens and is the output layer's weight."""
    for name, value in (("vocab_size", vocab_size), ("d_model", d_model), ("d_ff", d_ff), ("num_layers", num_layers)):
        check_positive_int(name, value)
    V, d, N = vocab_size, d_model, num_layers
    attention = 4 * (d * d + d)             # W_q, W_k, W_v, W_o: each d x d weights and d biases
    ffn = d * d_ff + d_ff + d_ff * d + d    # W_1, b_1, W_2, b_2
    layer_norm = 2 * d                      # a gain and a bias per coordinate
    return {"shared embedding matrix": V * d,             # one matrix for three uses
            "encoder self-attention": N * attention,
            "encoder feed-forward": N * ffn,
            "encoder LayerNorms": N * 2 * layer_norm,     # two sub-layers per encoder layer
            "decoder self-attention": N * attention,
            "decoder cross-attention": N * attention,
            "decoder feed-forward": N * ffn,
            "decoder LayerNorms": N * 3 * layer_norm,     # three sub-layers per decoder layer
            "output bias": V}                             # ours; the paper's code has none
