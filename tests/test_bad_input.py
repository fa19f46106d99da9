"""Bad input gets a clear error that says what was expected and what came, never a raw torch traceback."""

import pytest
import torch
from torch import nn

from transformer_lesson import (DecoderLayer, EncoderLayer, LayerNorm, MultiHeadAttention, PositionalEncoding,
                                PositionwiseFeedForward, ResidualConnection, Transformer, beam_search,
                                causal_mask, greedy_decode, padding_mask, scaled_dot_product_attention,
                                sinusoidal_encoding)


def raises(exc, *fragments):
    """pytest.raises that also checks every fragment appears in the message."""
    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(exc)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *args):
            handled = self.ctx.__exit__(*args)
            message = str(self.info.value)
            for fragment in fragments:
                assert fragment in message, f"{fragment!r} not in {message!r}"
            return handled
    return _Check()


q = torch.randn(2, 5, 64)


def test_mismatched_d_k_names_both_shapes():
    with raises(ValueError, "expected key of shape (..., T_k, d_k) with d_k=64 as in query, got (2, 7, 32)"):
        scaled_dot_product_attention(q, torch.randn(2, 7, 32), torch.randn(2, 7, 32))


def test_value_length_must_match_key_length():
    with raises(ValueError, "T_k=7 as in key", "got (2, 6, 64)"):
        scaled_dot_product_attention(q, torch.randn(2, 7, 64), torch.randn(2, 6, 64))


def test_non_tensor_inputs_name_the_type():
    with raises(TypeError, "expected query", "torch.Tensor", "got list"):
        scaled_dot_product_attention([[1.0]], torch.randn(1, 1), torch.randn(1, 1))
    with raises(TypeError, "floating-point", "torch.int64"):
        scaled_dot_product_attention(torch.ones(2, 3, dtype=torch.long), torch.ones(2, 3), torch.ones(2, 3))


def test_mask_of_the_wrong_shape_names_the_scores_shape():
    with raises(ValueError, "expected mask broadcastable to the attention scores", "(2, 5, 7)", "got (5, 5)"):
        scaled_dot_product_attention(q, torch.randn(2, 7, 64), torch.randn(2, 7, 64), torch.ones(5, 5, dtype=torch.bool))


def test_float_mask_is_refused_with_the_conversion_hint():
    with raises(TypeError, "boolean mask", "mask == 0"):
        scaled_dot_product_attention(q, q, q, torch.zeros(5, 5))


def test_d_model_not_divisible_by_num_heads():
    with raises(ValueError, "d_model divisible by num_heads", "d_model=10", "num_heads=3"):
        MultiHeadAttention(10, 3)


@pytest.mark.parametrize("make", [lambda: MultiHeadAttention(0, 1), lambda: LayerNorm(-3),
                                  lambda: PositionwiseFeedForward(8, 0), lambda: causal_mask(0),
                                  lambda: sinusoidal_encoding(0, 8), lambda: EncoderLayer(8, 2, -1)])
def test_non_positive_sizes_are_refused(make):
    with raises(ValueError, "positive integer"):
        make()


def test_sizes_must_be_integers():
    with raises(TypeError, "positive integer", "2.5"):
        MultiHeadAttention(8, 2.5)


def test_multihead_input_width_must_match_d_model():
    with raises(ValueError, "expected key of shape (B, T_k, d_model) with d_model=16, got (2, 4, 8)"):
        MultiHeadAttention(16, 4)(torch.randn(2, 3, 16), torch.randn(2, 4, 8), torch.randn(2, 4, 8))


def test_multihead_rejects_unbatched_input():
    with raises(ValueError, "expected query of shape (B, T_q, d_model) (3 dimensions), got (3, 16)"):
        MultiHeadAttention(16, 4)(torch.randn(3, 16), torch.randn(3, 16), torch.randn(3, 16))


def test_key_and_value_lengths_must_match_in_multihead():
    with raises(ValueError, "expected value of shape (B, T_k, d_model)", "got (2, 5, 16)"):
        MultiHeadAttention(16, 4)(torch.randn(2, 3, 16), torch.randn(2, 4, 16), torch.randn(2, 5, 16))


def test_layer_norm_width_mismatch():
    with raises(ValueError, "d_model=8", "got (2, 3, 6)"):
        LayerNorm(8)(torch.randn(2, 3, 6))


def test_layer_norm_eps_must_be_positive():
    with raises(ValueError, "eps"):
        LayerNorm(8, eps=0)


def test_feed_forward_width_mismatch_and_unknown_activation():
    with raises(ValueError, "d_model=8", "got (2, 4)"):
        PositionwiseFeedForward(8, 16)(torch.randn(2, 4))
    with raises(ValueError, "activation", "'relu'", "'gelu'", "'tanh'"):
        PositionwiseFeedForward(8, 16, activation="tanh")


def test_dropout_must_be_a_probability():
    with raises(ValueError, "dropout", "[0, 1)", "1.5"):
        ResidualConnection(8, dropout=1.5)


def test_norm_first_must_be_a_bool():
    with raises(TypeError, "norm_first"):
        ResidualConnection(8, norm_first="pre")


def test_sequence_longer_than_max_len():
    with raises(ValueError, "at most max_len=4", "got 6"):
        PositionalEncoding(8, max_len=4)(torch.zeros(1, 6, 8))


def test_positional_encoding_width_mismatch():
    with raises(ValueError, "d_model=8", "got (1, 3, 5)"):
        PositionalEncoding(8)(torch.zeros(1, 3, 5))


def test_encoder_and_decoder_layers_check_widths():
    with raises(ValueError, "expected x of shape (B, T, d_model) with d_model=16"):
        EncoderLayer(16, 4, 32)(torch.randn(2, 3, 8))
    with raises(ValueError, "expected memory of shape (B, S, d_model) with d_model=16"):
        DecoderLayer(16, 4, 32)(torch.randn(2, 3, 16), torch.randn(2, 5, 12))


def test_from_torch_checks_the_module_type_and_layout():
    with raises(TypeError, "nn.MultiheadAttention", "Linear"):
        MultiHeadAttention.from_torch(nn.Linear(2, 2))
    with raises(ValueError, "batch_first=True"):
        MultiHeadAttention.from_torch(nn.MultiheadAttention(8, 2))
    with raises(TypeError, "TransformerEncoderLayer"):
        EncoderLayer.from_torch(nn.TransformerDecoderLayer(8, 2, batch_first=True))


def test_padding_mask_wants_integer_token_ids():
    with raises(TypeError, "integer token ids", "torch.float32"):
        padding_mask(torch.zeros(2, 3), 0)
    with raises(ValueError, "(B, T)", "got (3,)"):
        padding_mask(torch.zeros(3, dtype=torch.long), 0)


def tiny_model():
    torch.manual_seed(0)
    return Transformer(10, 10, d_model=8, num_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=16, max_len=16)


def test_token_ids_outside_the_vocabulary():
    with raises(ValueError, "src token ids in 0..9", "got ids from 1 to 12"):
        tiny_model()(torch.tensor([[1, 12]]), torch.tensor([[1]]))


def test_decoding_checks_model_source_and_lengths():
    model = tiny_model()
    with raises(TypeError, "transformer_lesson.Transformer", "Linear"):
        greedy_decode(nn.Linear(2, 2), torch.tensor([[1]]))
    with raises(ValueError, "at most 15", "got 40"):
        greedy_decode(model, torch.tensor([[3, 4]]), max_len=40)
    with raises(ValueError, "one source sentence", "batch of 2"):
        beam_search(model, torch.tensor([[3, 4], [5, 6]]))
    with raises(ValueError, "positive integer"):
        beam_search(model, torch.tensor([3, 4]), beam_size=0)
