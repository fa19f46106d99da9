"""Lesson 05, the position-wise feed-forward network (位置感知前馈网络): experiments, plots and widget.

Claims pinned here, as in the notebook: changing one token changes only that position's FFN output
(C9), while self-attention changes them all; the FFN equals a 1x1 convolution; without its ReLU the two
layers are one linear layer; in the paper's base model the FFN holds about 2/3 of an encoder layer's
parameters and most of its FLOPs below 2 d_model tokens.
"""
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from transformer_lesson.lessons.lesson05_feed_forward import experiments, plots, widgets


pytestmark = pytest.mark.usefixtures("chinese_font")  # tests/conftest.py


def test_changing_one_token_changes_only_that_positions_ffn_output():
    result = experiments.ffn_locality(("I", "am", "a", "student"), position=3, replacement="teacher")
    assert result["changed_tokens"] == ["I", "am", "a", "teacher"]
    assert result["ffn_change"][:3] == [0.0, 0.0, 0.0]
    assert result["ffn_change"][3] > 1e-2


def test_changing_one_token_changes_every_self_attention_output():
    result = experiments.ffn_locality(position=1, replacement="was")
    assert min(result["attention_change"]) > 1e-3
    assert [c > 0 for c in result["ffn_change"]] == [False, True, False, False]


def test_ffn_locality_rejects_a_position_outside_the_sentence():
    with pytest.raises(ValueError, match="position in 0..3"):
        experiments.ffn_locality(position=4)


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_ffn_equals_a_1x1_convolution(activation):
    assert experiments.ffn_conv1x1_difference(activation=activation, seed=1) < 1e-5


def test_base_model_parameter_split_matches_the_formulas_and_torch():
    encoder, decoder = experiments.layer_parameter_split(512, 8, 2048)
    d, d_ff = 512, 2048
    assert encoder["attention"] == 4 * d * d + 4 * d == 1_050_624
    assert encoder["ffn"] == 2 * d * d_ff + d_ff + d == 2_099_712
    assert encoder["layer_norm"] == 2 * 2 * d
    assert encoder["total"] == encoder["torch_total"] == 3_152_384
    assert encoder["ffn_share"] == pytest.approx(2 / 3, abs=0.01)
    assert decoder["attention_blocks"] == 2 and decoder["total"] == decoder["torch_total"]
    assert decoder["ffn_share"] == pytest.approx(1 / 2, abs=0.01)


def test_seeded_feed_forward_gives_relu_and_gelu_the_same_weights_and_keeps_the_global_seed():
    torch.manual_seed(7)
    expected = torch.rand(2)
    torch.manual_seed(7)
    relu = experiments.seeded_feed_forward(8, 32, "relu", seed=3)
    gelu = experiments.seeded_feed_forward(8, 32, "gelu", seed=3)
    torch.testing.assert_close(torch.rand(2), expected)
    assert torch.equal(relu.linear1.weight, gelu.linear1.weight)
    assert relu.activation_name == "relu" and gelu.activation_name == "gelu"


def test_hidden_activation_stats_counts_zeros_and_negatives():
    stats = experiments.hidden_activation_stats(torch.tensor([[0.0, 1.0], [-0.5, 0.0]]))
    assert stats["zero_fraction"] == 0.5 and stats["negative_fraction"] == 0.25
    assert stats["shape"] == (2, 2) and stats["min"] == -0.5 and stats["max"] == 1.0


def test_ffn_hidden_widget_shows_relu_zeros_and_gelu_negatives():
    tokens = ["他们", "今天", "在", "图书馆", "学习", "中文"]
    w = widgets.ffn_hidden_widget(experiments.toy_embeddings(tokens, 16), tokens, d_ff=64)
    assert w.summary["shape"] == (6, 64)
    assert 0.3 < w.summary["zero_fraction"] < 0.7 and w.summary["negative_fraction"] == 0.0
    assert "exactly 0" in w.caption
    w.controls["d_ff"].value = 128
    assert w.summary["shape"] == (6, 128)
    w.controls["activation"].value = "gelu"
    assert w.summary["zero_fraction"] == 0.0 and 0.3 < w.summary["negative_fraction"] < 0.7
    assert "GELU" in w.caption
    assert w.renders == 3 and 0 < w.last_render_seconds < 5


def test_ffn_hidden_widget_rejects_inputs_that_do_not_match_the_tokens():
    with pytest.raises(ValueError, match=r"\(T, d_model\) with T=2"):
        widgets.ffn_hidden_widget(torch.randn(3, 8), ["a", "b"])


def test_lesson_05_plots_return_figures():
    tokens = ["I", "am", "a", "student"]
    fig = plots.hidden_activation_heatmap(torch.relu(torch.randn(4, 16)), tokens)
    assert isinstance(fig, Figure)
    fig = plots.change_per_position_bars({"FFN": [0, 0, 0, 1.0], "attention": [0.3, 0.2, 0.1, 0.4]}, tokens)
    assert isinstance(fig, Figure)
    fig = plots.parameter_split_bars(experiments.layer_parameter_split(16, 2, 64))
    assert isinstance(fig, Figure)
    with pytest.raises(ValueError, match="4 changes"):
        plots.change_per_position_bars({"FFN": [0, 1.0]}, tokens)


def test_affine_gap_is_rounding_for_a_linear_layer_and_large_for_the_relu_ffn():
    torch.manual_seed(0)
    a, b = torch.randn(5, 16), torch.randn(5, 16)
    assert experiments.affine_gap(nn.Linear(16, 16), a, b) < 1e-5
    ffn = experiments.seeded_feed_forward(16, 64, "relu", seed=0)
    assert experiments.affine_gap(ffn, a, b) > 0.05
    assert experiments.affine_gap(torch.relu, torch.tensor([1.0]), torch.tensor([-1.0])) == 1.0   # 1 + 0 - 0 - 0


def test_without_its_activation_the_ffn_collapses_into_one_linear_layer():
    ffn = experiments.seeded_feed_forward(16, 64, "relu", seed=2)
    W1, b1 = ffn.linear1.weight.T, ffn.linear1.bias
    W2, b2 = ffn.linear2.weight.T, ffn.linear2.bias
    x = torch.randn(3, 7, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        two_layers = (x @ W1 + b1) @ W2 + b2
        one_layer = x @ (W1 @ W2) + (b1 @ W2 + b2)
        torch.testing.assert_close(two_layers, one_layer, atol=1e-5, rtol=0)
        assert (ffn(x) - two_layers).abs().max() > 0.05                   # the ReLU is what tells them apart


def test_flop_counts_follow_the_formulas_and_the_ffn_leads_below_twice_d_model_tokens():
    d, d_ff = 512, 2048
    rows = experiments.layer_flops(d, 8, d_ff, lengths=(16, 1023, 1024, 1025, 4096))
    for r in rows:
        T = r["length"]
        assert r["attention"] == 8 * T * d * d + 4 * T * T * d       # four projections, scores, weighted sum
        assert r["ffn"] == 4 * T * d * d_ff                           # two products, widen and narrow
    shares = {r["length"]: r["ffn_share"] for r in rows}
    assert shares[16] == pytest.approx(2 / 3, abs=0.01)
    assert shares[1023] > 0.5 and shares[1024] == 0.5 and shares[1025] < 0.5
    small = experiments.layer_flops(16, 2, 64, lengths=(8,))[0]       # the formula holds at any size
    assert small["attention"] == 8 * 8 * 16 * 16 + 4 * 8 * 8 * 16 and small["ffn"] == 4 * 8 * 16 * 64


def test_flop_count_leaves_the_global_random_state_alone_and_refuses_a_bad_length():
    torch.manual_seed(3)
    expected = torch.rand(2)
    torch.manual_seed(3)
    experiments.layer_flops(lengths=(4,))
    torch.testing.assert_close(torch.rand(2), expected)
    with pytest.raises((ValueError, TypeError), match="length"):
        experiments.layer_flops(lengths=(0,))


def test_flop_split_bars_draw_one_bar_per_length_split_into_shares():
    rows = experiments.layer_flops(16, 2, 64, lengths=(4, 32, 256))
    fig = plots.flop_split_bars(rows)
    assert isinstance(fig, Figure)
    widths = [patch.get_width() for patch in fig.axes[0].patches]
    assert len(widths) == 6
    for n, r in enumerate(rows):                                                # per length: attention, then FFN
        assert widths[2 * n] + widths[2 * n + 1] == pytest.approx(1.0)
        assert widths[2 * n + 1] == pytest.approx(r["ffn_share"])
