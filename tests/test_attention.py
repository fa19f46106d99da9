"""Scaled dot-product attention equals PyTorch's, with the same mask meaning (True = may attend)."""
import math

import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from transformer_lesson import causal_mask, padding_mask, scaled_dot_product_attention


def qkv(B=2, T_q=5, T_k=7, d_k=8, d_v=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, T_q, d_k, generator=g), torch.randn(B, T_k, d_k, generator=g),
            torch.randn(B, T_k, d_v, generator=g))


def test_output_equals_torch_sdpa_without_mask():
    q, k, v = qkv()
    out, _ = scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))


def test_weights_are_softmax_of_scaled_scores_over_keys():
    q, k, v = qkv()
    _, w = scaled_dot_product_attention(q, k, v)
    expected = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.size(-1)), dim=-1)
    torch.testing.assert_close(w, expected)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 5))


def test_causal_mask_output_equals_torch_sdpa_is_causal():
    q, k, v = qkv(T_q=6, T_k=6)
    out, w = scaled_dot_product_attention(q, k, v, causal_mask(6))
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True))
    assert torch.all(w.triu(1) == 0)


def test_broadcast_padding_mask_equals_torch_sdpa_with_same_boolean_mask():
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 3, 5, 4, generator=g) for _ in range(3))  # (B, h, T, d_k)
    tokens = torch.tensor([[5, 6, 7, 0, 0], [4, 3, 2, 8, 0]])
    mask = padding_mask(tokens, pad_id=0)                                 # (B, 1, 1, T)
    assert mask.shape == (2, 1, 1, 5)
    out, w = scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    assert torch.all(w[0, :, :, 3:] == 0) and torch.all(w[1, :, :, 4:] == 0)


def test_a_query_whose_keys_are_all_masked_gets_zero_weights_and_zero_output_like_torch_on_cpu():
    q, k, v = qkv(B=1, T_q=3, T_k=4)
    mask = torch.ones(1, 3, 4, dtype=torch.bool)
    mask[0, 1] = False                                                     # query 1 may attend to nothing
    out, w = scaled_dot_product_attention(q, k, v, mask)
    assert not torch.isnan(out).any()
    assert torch.all(w[0, 1] == 0) and torch.all(out[0, 1] == 0)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))


def test_gradients_flow_and_are_finite_with_a_fully_masked_row():
    q, k, v = (t.requires_grad_() for t in qkv(B=1, T_q=3, T_k=4))
    mask = torch.ones(1, 3, 4, dtype=torch.bool)
    mask[0, 0] = False
    out, _ = scaled_dot_product_attention(q, k, v, mask)
    out.sum().backward()
    assert all(torch.isfinite(t.grad).all() for t in (q, k, v))


def test_causal_mask_is_true_on_and_below_the_diagonal():
    m = causal_mask(4)
    assert m.dtype == torch.bool
    assert m.tolist() == [[True, False, False, False], [True, True, False, False],
                          [True, True, True, False], [True, True, True, True]]


@settings(max_examples=30, deadline=None)
@given(B=st.integers(1, 3), T_q=st.integers(1, 6), T_k=st.integers(1, 6), d_k=st.integers(1, 9), d_v=st.integers(1, 9))
def test_any_shapes_match_torch_sdpa(B, T_q, T_k, d_k, d_v):
    q, k, v = qkv(B, T_q, T_k, d_k, d_v, seed=B * 100 + T_q * 10 + T_k)
    out, w = scaled_dot_product_attention(q, k, v)
    assert out.shape == (B, T_q, d_v) and w.shape == (B, T_q, T_k)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v), atol=1e-5, rtol=1e-4)
