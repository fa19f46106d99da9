"""Multi-head attention equals nn.MultiheadAttention with the same weights: outputs, weights, gradients."""
import pytest
import torch
from torch import nn

from transformer_lesson import MultiHeadAttention, causal_mask, padding_mask
from transformer_lesson.multihead import KVCache
from transformer_lesson.positional import apply_rotary


def pair(d_model=16, num_heads=4, bias=True, seed=0):
    torch.manual_seed(seed)
    theirs = nn.MultiheadAttention(d_model, num_heads, batch_first=True, bias=bias).eval()
    return MultiHeadAttention.from_torch(theirs).eval(), theirs


def inputs(B=2, T_q=5, T_k=7, d=16, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, T_q, d, generator=g), torch.randn(B, T_k, d, generator=g)


@pytest.mark.parametrize("bias", [True, False])
def test_self_attention_output_and_per_head_weights_equal_torch(bias):
    ours, theirs = pair(bias=bias)
    x, _ = inputs()
    expected, expected_w = theirs(x, x, x, average_attn_weights=False)
    out, weights = ours(x, x, x, need_weights=True)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(weights, expected_w)
    assert weights.shape == (2, 4, 5, 5)


def test_cross_attention_with_different_lengths_equals_torch():
    ours, theirs = pair()
    x, memory = inputs()
    torch.testing.assert_close(ours(x, memory, memory), theirs(x, memory, memory)[0])


def test_causal_mask_equals_torch_with_the_inverted_mask():
    ours, theirs = pair()
    x, _ = inputs(T_q=6)
    allowed = causal_mask(6)
    expected = theirs(x, x, x, attn_mask=~allowed)[0]  # torch: True = NOT allowed
    torch.testing.assert_close(ours(x, x, x, allowed), expected)


def test_padding_mask_equals_torch_key_padding_mask():
    ours, theirs = pair()
    x, memory = inputs(T_k=4)
    src = torch.tensor([[3, 4, 0, 0], [5, 6, 7, 0]])
    expected = theirs(x, memory, memory, key_padding_mask=src == 0)[0]
    torch.testing.assert_close(ours(x, memory, memory, padding_mask(src, 0)), expected)


def test_three_dimensional_mask_applies_to_every_head():
    ours, theirs = pair()
    x, _ = inputs(T_q=5)
    allowed = torch.rand(2, 5, 5, generator=torch.Generator().manual_seed(3)) > 0.3
    allowed |= torch.eye(5, dtype=torch.bool)
    expected = theirs(x, x, x, attn_mask=(~allowed).repeat_interleave(4, dim=0))[0]
    torch.testing.assert_close(ours(x, x, x, allowed), expected)


def test_gradients_equal_torch():
    ours, theirs = pair()
    ours.train(); theirs.train()
    x, _ = inputs()
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours(x1, x1, x1).pow(2).sum().backward()
    theirs(x2, x2, x2)[0].pow(2).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    q_grad_theirs = theirs.in_proj_weight.grad[:16]
    torch.testing.assert_close(ours.w_q.weight.grad, q_grad_theirs)
    torch.testing.assert_close(ours.w_o.weight.grad, theirs.out_proj.weight.grad)


def test_parameter_count_equals_one_full_width_head():
    mha = MultiHeadAttention(64, 8)
    one_head = MultiHeadAttention(64, 1)
    assert sum(p.numel() for p in mha.parameters()) == sum(p.numel() for p in one_head.parameters()) == 4 * (64 * 64 + 64)


def test_split_then_merge_heads_is_the_identity():
    mha = MultiHeadAttention(12, 3)
    x = torch.randn(2, 5, 12)
    assert mha.split_heads(x).shape == (2, 3, 5, 4)
    torch.testing.assert_close(mha.merge_heads(mha.split_heads(x)), x)


def test_need_weights_returns_the_weights_of_this_call():
    torch.manual_seed(0)
    mha = MultiHeadAttention(8, 2).eval()
    x = torch.randn(1, 5, 8)
    out, weights = mha(x, x, x, need_weights=True)
    torch.testing.assert_close(out, mha(x, x, x))
    assert weights.shape == (1, 2, 5, 5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(1, 2, 5))


def test_capture_attention_collects_every_call_of_every_module_and_stops_after_the_block():
    from transformer_lesson import Transformer, capture_attention
    torch.manual_seed(0)
    model = Transformer(7, 9, d_model=8, num_heads=2, num_encoder_layers=2, num_decoder_layers=1, d_ff=16,
                        dropout=0.0).eval()
    src, tgt = torch.tensor([[1, 2, 3]]), torch.tensor([[1, 4, 5, 6]])
    with capture_attention(model) as weights:
        model(src, tgt)
        model(src, tgt[:, :2])
    assert set(weights) == {"encoder.layers.0.self_attn", "encoder.layers.1.self_attn",
                            "decoder.layers.0.self_attn", "decoder.layers.0.cross_attn"}
    assert [w.shape for w in weights["decoder.layers.0.cross_attn"]] == [(1, 2, 4, 3), (1, 2, 2, 3)]
    model(src, tgt)                                                   # after the block: nothing recorded
    assert len(weights["encoder.layers.0.self_attn"]) == 2
    with pytest.raises(ValueError, match="without any"):
        with capture_attention(torch.nn.Linear(2, 2)):
            pass


# ---- the KV cache and rotary queries/keys ----------------------------------------------------------------



@pytest.mark.parametrize("rotary", [False, True])
def test_one_position_at_a_time_with_a_cache_equals_full_causal_attention(rotary):
    torch.manual_seed(0)
    mha = MultiHeadAttention(16, 4, rotary=rotary).eval()
    x = torch.randn(2, 7, 16)
    full = mha(x, x, x, causal_mask(7))
    cache = KVCache()
    steps = []
    for t in range(7):
        token = x[:, t:t + 1]
        steps.append(mha(token, token, token, cache=cache))           # no mask: the cache holds only the past
    assert len(cache) == 7 and cache.keys.shape == (2, 4, 7, 4)
    assert (torch.cat(steps, dim=1) - full).abs().max().item() < 1e-5


def test_a_prompt_then_steps_with_a_cache_equals_full_causal_attention():
    torch.manual_seed(1)
    mha = MultiHeadAttention(16, 2, rotary=True).eval()
    x = torch.randn(1, 6, 16)
    cache = KVCache()
    prompt = x[:, :4]
    first = mha(prompt, prompt, prompt, causal_mask(4), cache=cache)
    rest = [mha(token, token, token, cache=cache) for token in (x[:, 4:5], x[:, 5:6])]
    full = mha(x, x, x, causal_mask(6))
    assert (torch.cat([first] + rest, dim=1) - full).abs().max().item() < 1e-5


def test_rotary_self_attention_scores_do_not_change_when_the_sequence_shifts():
    """Prefix the sequence with a cached past: the new tokens' scores among themselves stay the same."""
    torch.manual_seed(2)
    mha = MultiHeadAttention(16, 2, rotary=True).eval()
    x = torch.randn(1, 3, 16)
    _, alone = mha(x, x, x, need_weights=True)
    q = mha.split_heads(mha.w_q(x))
    k = mha.split_heads(mha.w_k(x))
    for shift in (5, 40):
        positions = torch.arange(shift, shift + 3)
        scores = apply_rotary(q, positions) @ apply_rotary(k, positions).transpose(-2, -1) / 8 ** 0.5
        assert (torch.softmax(scores, -1) - alone).abs().max().item() < 1e-5


def test_a_cache_refuses_a_batch_of_another_shape():
    cache = KVCache()
    cache.append(torch.zeros(2, 4, 3, 8), torch.zeros(2, 4, 3, 8))
    with pytest.raises(ValueError, match="use a fresh KVCache"):
        cache.append(torch.zeros(1, 4, 1, 8), torch.zeros(1, 4, 1, 8))


def test_rotary_needs_self_attention_and_an_even_head_width():
    with pytest.raises(ValueError, match="even d_k"):
        MultiHeadAttention(12, 4, rotary=True)
    mha = MultiHeadAttention(8, 2, rotary=True)
    with pytest.raises(ValueError, match="self-attention"):
        mha(torch.randn(1, 2, 8), torch.randn(1, 3, 8), torch.randn(1, 3, 8))
