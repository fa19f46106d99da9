"""LayerNorm from scratch equals nn.LayerNorm; the residual wrapper has both placements; the FFN is per position."""
import torch
from torch import nn

from transformer_lesson import LayerNorm, PositionwiseFeedForward, ResidualConnection


def test_layer_norm_equals_torch_with_trained_looking_parameters():
    torch.manual_seed(0)
    theirs = nn.LayerNorm(10)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.uniform_(-1, 1)
    ours = LayerNorm(10)
    ours.load_state_dict(theirs.state_dict())          # same parameter names: state dicts load either way
    x = torch.randn(3, 4, 10) * 5 + 2
    torch.testing.assert_close(ours(x), theirs(x))
    theirs.load_state_dict(ours.state_dict())


def test_layer_norm_eps_matters_for_inputs_with_tiny_variance_as_in_torch():
    x = torch.randn(2, 8) * 1e-3
    torch.testing.assert_close(LayerNorm(8, eps=1e-2)(x), nn.LayerNorm(8, eps=1e-2)(x))


def test_layer_norm_output_has_mean_zero_and_variance_one_per_token():
    y = LayerNorm(16)(torch.randn(4, 7, 16) * 3 + 1)
    torch.testing.assert_close(y.mean(-1), torch.zeros(4, 7), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(-1, unbiased=False), torch.ones(4, 7), atol=1e-3, rtol=0)


def test_post_ln_normalises_the_sum_and_pre_ln_keeps_the_residual_path():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8) * 4
    sub = nn.Linear(8, 8)
    post = ResidualConnection(8, norm_first=False)
    pre = ResidualConnection(8, norm_first=True)
    torch.testing.assert_close(post(x, sub), post.norm(x + sub(x)))
    torch.testing.assert_close(pre(x, sub), x + sub(pre.norm(x)))


def test_feed_forward_is_linear2_relu_linear1():
    torch.manual_seed(0)
    ffn = PositionwiseFeedForward(8, 32)
    x = torch.randn(2, 5, 8)
    torch.testing.assert_close(ffn(x), ffn.linear2(torch.relu(ffn.linear1(x))))


def test_changing_one_token_changes_only_that_positions_ffn_output():
    torch.manual_seed(0)
    ffn = PositionwiseFeedForward(8, 32, activation="gelu")
    x = torch.randn(1, 6, 8)
    y = x.clone()
    y[0, 2] += 1.0
    changed = (ffn(x) - ffn(y)).abs().amax(-1)[0] > 0
    assert changed.tolist() == [False, False, True, False, False, False]


def test_feed_forward_equals_a_1x1_convolution_with_the_same_weights():
    torch.manual_seed(0)
    ffn = PositionwiseFeedForward(8, 16)
    conv1, conv2 = nn.Conv1d(8, 16, 1), nn.Conv1d(16, 8, 1)
    with torch.no_grad():
        conv1.weight.copy_(ffn.linear1.weight[:, :, None]); conv1.bias.copy_(ffn.linear1.bias)
        conv2.weight.copy_(ffn.linear2.weight[:, :, None]); conv2.bias.copy_(ffn.linear2.bias)
    x = torch.randn(2, 5, 8)
    conv_out = conv2(torch.relu(conv1(x.transpose(1, 2)))).transpose(1, 2)  # Conv1d wants (B, C, T)
    torch.testing.assert_close(ffn(x), conv_out)
