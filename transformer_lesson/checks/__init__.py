"""Exercise checkers (练习检查器): run a learner's code, and if it is wrong, say which mistake it is.

Every exercise notebook ends an exercise with one call, e.g. `check_layer_norm(LayerNorm)`.
A checker works in stages, and stops at the first stage that fails:

1. does it run?  A crash is reported as an `AssertionError` that names the input it crashed on;
   `raise NotImplementedError()` (the exercise's stub) gets a kind "not implemented yet".
2. right type, shape and dtype?  A wrong shape often already tells the mistake (keys and queries swapped).
   A layer must also give the same output twice in eval mode (dropout left on is named), and the encoder and
   decoder layers are watched while they run: one LayerNorm serving two sub-layers, or a cross-attention
   fed its queries from the encoder's memory, is named before any number is compared.
3. right numbers?  Compared with the package's reference implementation, on inputs chosen so that
   mistakes show: d_v != d_k, T_q != T_k, small-variance inputs where eps matters, non-trivial
   LayerNorm weights, several heads.
4. if not, which known mistake?  Each known-wrong variant (softmax over the query axis, no 1/sqrt(d_k),
   a mask inverted, ...) is computed on the same inputs; the first one the learner's numbers match
   is named, in plain words, with the Chinese term.

A correct implementation prints one short line (`✓ ... all checks passed`) and returns None. Any correct
way of writing it passes: einsum or @, `-1e9` or `-inf`, the exp/log form of PE, `torch.var_mean` or
`F.layer_norm`, float32 or float64.

Checkers leave the caller's random state alone (they seed and restore it) and run without gradients.

The learner's code always runs on copies of the checker's tensors: code that changes its input in place
(`query /= math.sqrt(d_k)`, `x -= mean`) is told so, by name, instead of being blamed for another
mistake. Each call has a time limit (`TIME_LIMIT` seconds; a pure-Python infinite loop is stopped and
named), the decoding checkers limit how often and how far `step_fn` may be called, and anything
unexpected the learner's code does becomes an AssertionError saying what it was.

Layout: `_core` holds the machinery every checker shares; `lessonNN_<topic>` holds lesson NN's checkers.
"""
from ._core import NOT_IMPLEMENTED
from .lesson01_self_attention import check_causal_mask, check_scaled_dot_product_attention
from .lesson02_positional_encoding import check_positional_encoding, check_shift_matrix
from .lesson03_multi_head_attention import check_multi_head_attention, check_split_heads
from .lesson04_residual_layernorm import check_layer_norm, check_residual_connection
from .lesson05_feed_forward import check_feed_forward, check_ffn_parameter_count
from .lesson06_encoder_decoder import check_decoder_layer, check_encoder_layer
from .lesson07_training_and_generation import check_beam_search, check_greedy_decode, check_label_smoothing_loss
from .lesson09_from_translator_to_chatgpt import check_kv_cache_step, check_rotary
from .lesson09_sampling import check_top_k_filter, check_top_p_filter

__all__ = [
    # lesson 01: self-attention
    "check_scaled_dot_product_attention", "check_causal_mask",
    # lesson 02: positional encoding
    "check_positional_encoding", "check_shift_matrix",
    # lesson 03: multi-head attention
    "check_split_heads", "check_multi_head_attention",
    # lesson 04: residual connections and LayerNorm
    "check_layer_norm", "check_residual_connection",
    # lesson 05: feed-forward network
    "check_feed_forward", "check_ffn_parameter_count",
    # lesson 06: encoder and decoder layers
    "check_encoder_layer", "check_decoder_layer",
    # lesson 07: training and generation
    "check_label_smoothing_loss", "check_greedy_decode", "check_beam_search",
    # lesson 09: from the translator to ChatGPT
    "check_kv_cache_step", "check_top_k_filter", "check_top_p_filter", "check_rotary",
    "NOT_IMPLEMENTED",
]

TIME_LIMIT = 10.0
"""Seconds one call of the learner's code may take before it is stopped as a likely infinite loop.
A correct solution takes milliseconds; the limit is generous for a busy laptop. Set it here
(`checks.TIME_LIMIT = 5`): the core reads it from this package at every call."""
