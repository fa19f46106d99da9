"""Lesson 04: LayerNorm from scratch, residual connections keep gradients alive (C7) but do not stop them from
exploding, and what LayerNorm and its placement do for training (C8). The claims over many seeds are in
tests/test_claims.py."""
import math

import pytest
import torch
from torch import nn

from transformer_lesson import LayerNorm
from transformer_lesson.lessons.lesson04_residual_layernorm import experiments, plots, widgets



pytestmark = pytest.mark.usefixtures("chinese_font")  # tests/conftest.py


# ---- LayerNorm from scratch -------------------------------------------------------------------------------

def _layer_norm_by_hand(x, weight, bias, eps=1e-5):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)             # biased: divides by d
    return weight * (x - mean) / torch.sqrt(var + eps) + bias   # eps inside the square root


def test_layer_norm_by_hand_equals_torch_and_the_package_with_state_dicts_loaded_both_ways():
    g = torch.Generator().manual_seed(0)
    theirs = nn.LayerNorm(8)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5, generator=g)
        theirs.bias.uniform_(-1.0, 1.0, generator=g)
    ours = LayerNorm(8)
    ours.load_state_dict(theirs.state_dict())
    back = nn.LayerNorm(8)
    back.load_state_dict(ours.state_dict())
    x = torch.randn(4, 8, generator=g) * 3 + 2
    by_hand = _layer_norm_by_hand(x, theirs.weight, theirs.bias)
    for module in (theirs, ours, back):
        torch.testing.assert_close(module(x), by_hand, atol=1e-5, rtol=1e-5)


def test_the_unbiased_variance_and_eps_outside_the_sqrt_both_differ_from_torch():
    x = torch.randn(4, 8, generator=torch.Generator().manual_seed(0))
    reference = nn.LayerNorm(8)
    mean = x.mean(-1, keepdim=True)
    unbiased = (x - mean) / torch.sqrt(x.var(-1, keepdim=True) + 1e-5)
    assert (unbiased - reference(x)).abs().max() > 0.05
    quiet = x * 1e-3
    q_mean, q_var = quiet.mean(-1, keepdim=True), quiet.var(-1, keepdim=True, correction=0)
    assert ((quiet - q_mean) / (q_var.sqrt() + 1e-5) - reference(quiet)).abs().max() > 0.05
    torch.testing.assert_close((quiet - q_mean) / (q_var + 1e-5).sqrt(), reference(quiet), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("scale, shift", [(10.0, 0.0), (0.5, -3.0), (100.0, 7.0)])
def test_layer_norm_ignores_a_tokens_scale_and_shift(scale, shift):
    x = torch.randn(4, 8, generator=torch.Generator().manual_seed(1)) * 2
    ln = nn.LayerNorm(8)
    assert (ln(scale * x + shift) - ln(x)).abs().max() < 1e-3


def test_eps_damps_layer_norm_when_the_variance_is_comparable_to_it():
    x = torch.randn(4, 8, generator=torch.Generator().manual_seed(1))
    assert LayerNorm(8)(x * 1e-3).std(-1, correction=0).max() < 0.9


# ---- C7: residual connections keep gradients alive; exploding gradients ---------------------------------

# The claims over 30 seeds: tests/test_claims.py::test_C7_residuals_keep_gradients_alive and
# ::test_C7_residuals_do_not_stop_exploding_gradients.


def test_the_plain_stacks_gradient_ratio_shrinks_with_depth_and_the_residual_one_does_not():
    shallow, deep = experiments.gradient_flow(8), experiments.gradient_flow(32)
    assert deep["plain_first_over_last"] < 1e-3 * shallow["plain_first_over_last"]
    assert deep["residual_first_over_last"] < 5 * shallow["residual_first_over_last"]


def test_gradient_norms_per_layer_is_seeded_and_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = experiments.gradient_norms_per_layer(6, "residual", seed=3)
    assert torch.equal(torch.get_rng_state(), before)
    assert experiments.gradient_norms_per_layer(6, "residual", seed=3) == first
    assert experiments.gradient_norms_per_layer(6, "residual", seed=4) != first


def test_a_larger_gain_turns_the_plain_stacks_vanishing_gradient_into_an_exploding_one():
    assert experiments.gradient_flow(16, seed=0)["plain_first_over_last"] < 1e-2            # vanishes
    assert experiments.gradient_flow(16, gain=4.0, seed=0)["plain_first_over_last"] > 10   # explodes


def test_the_pre_ln_stack_normalises_each_blocks_input():
    # every block of the Pre-LN stack sees LayerNorm(h), an input of the same size whatever came below it
    flow = experiments.gradient_flow(32, stacks=experiments.STACKS, gain=6.0, seed=0)
    assert set(experiments.STACKS) <= set(flow)
    assert flow["pre-ln_first_over_last"] < 0.2 * flow["residual_first_over_last"]


def test_an_unknown_stack_or_a_bad_gain_is_rejected_with_the_choices_listed():
    with pytest.raises(ValueError, match="expected stack to be one of 'plain', 'residual', 'pre-ln', got 'dense'"):
        experiments.gradient_norms_per_layer(4, "dense")
    with pytest.raises(ValueError, match="expected gain to be a positive number"):
        experiments.gradient_norms_per_layer(4, "plain", gain=0.0)


# ---- C8: LayerNorm and its placement in training --------------------------------------------------------
# The claims over 15 seeds: tests/test_claims.py::test_C8_layer_norm_and_its_placement and
# ::test_C8_layer_norm_and_generalisation.

def test_train_tiny_encoder_is_deterministic_and_leaves_the_global_random_state_alone():
    torch.manual_seed(7)
    before = torch.get_rng_state()
    a = experiments.train_tiny_encoder("pre", 1, steps=5, seed=0)
    assert torch.equal(torch.get_rng_state(), before)
    b = experiments.train_tiny_encoder("pre", 1, steps=5, seed=0)
    assert a["losses"] == b["losses"] and len(a["losses"]) == 5
    assert a["held_out_loss"] == b["held_out_loss"]
    assert a["chance_loss"] == pytest.approx(math.log(9))


def test_warm_up_changes_only_the_learning_rate_of_the_first_steps():
    plain = experiments.train_tiny_encoder("post", 1, steps=4, seed=0)
    warm = experiments.train_tiny_encoder("post", 1, steps=4, warmup=3, seed=0)
    assert warm["losses"][0] == plain["losses"][0]          # the loss before the first update is the same
    assert warm["losses"][1:] != plain["losses"][1:]        # smaller first steps: other weights after them


def test_a_fixed_training_set_repeats_its_sequences_and_is_learned_by_heart():
    small = experiments.train_tiny_encoder("pre", 1, steps=150, train_set=4, seed=0)
    assert small["train_set"] == 4
    assert small["final_loss"] < 0.1 < small["held_out_loss"]    # 4 sequences: memorised, not generalised
    with pytest.raises(ValueError, match="expected train_set to be a positive integer"):
        experiments.train_tiny_encoder("pre", 1, steps=1, train_set=-3)


def test_held_out_loss_is_measured_on_sequences_of_their_own_generator():
    model = experiments.TinySequenceModel("pre", 1)
    torch.manual_seed(0)
    first = experiments.held_out_loss(model, 6, 10, seed=0)
    torch.manual_seed(1)                                      # the global random state plays no part
    assert experiments.held_out_loss(model, 6, 10, seed=0) == first
    assert experiments.held_out_loss(model, 6, 10, seed=1) != first


def test_steps_to_threshold_is_the_first_step_whose_running_mean_is_below_it():
    losses = [2.0] * 10 + [0.0] * 10
    assert experiments.steps_to_threshold(losses, 1.0, window=10) == 16   # mean of steps 7-16 = 0.8
    assert experiments.steps_to_threshold(losses, 1.0, window=1) == 11
    assert experiments.steps_to_threshold(losses, 0.5, window=4) == 14    # steps 10-13: mean 0.5, not below
    assert experiments.steps_to_threshold([0.0] * 5, 1.0, window=10) is None   # fewer steps than the window


def test_steps_to_threshold_rejects_a_bad_threshold_or_window():
    with pytest.raises(ValueError, match="expected threshold to be a positive number"):
        experiments.steps_to_threshold([1.0], -1.0)
    with pytest.raises(ValueError, match="expected window to be a positive integer"):
        experiments.steps_to_threshold([1.0], 1.0, window=0)


def test_median_steps_counts_never_as_later_than_any_step():
    assert experiments.median_steps([30, None, 10]) == 30
    assert experiments.median_steps([30, None, None]) is None
    assert experiments.median_steps([10, 20]) == 15
    assert experiments.median_steps([10, None]) is None
    with pytest.raises(ValueError, match="at least one run"):
        experiments.median_steps([])


def test_tiny_sequence_model_puts_layer_norms_where_its_norm_argument_says():
    count = {norm: sum(isinstance(m, LayerNorm) for m in experiments.TinySequenceModel(norm, 3).modules())
             for norm in ("post", "pre", "none")}
    assert count == {"post": 6, "pre": 7, "none": 0}          # Pre-LN adds one after the stack
    logits = experiments.TinySequenceModel("none", 2)(torch.randint(1, 10, (3, 6)))
    assert logits.shape == (3, 6, 10)


def test_an_unknown_norm_placement_is_rejected_with_the_choices_listed():
    with pytest.raises(ValueError, match="expected norm to be one of 'post', 'pre', 'none', got 'after'"):
        experiments.train_tiny_encoder("after", 1, steps=1)


def test_reverse_task_targets_are_the_inputs_reversed():
    x, y = experiments.reverse_task_batch(4, 6, 10, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (4, 6) and x.min() >= 1 and x.max() <= 9
    assert torch.equal(y, x.flip(1))


# ---- plots and widgets ----------------------------------------------------------------------------------

def test_token_statistics_bars_draws_mean_and_std_panels_and_rejects_mismatched_shapes():
    x = torch.randn(4, 8)
    fig = plots.token_statistics_bars(x, nn.LayerNorm(8)(x), ["我", "是", "学生", "。"])
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="expected before and after of shape"):
        plots.token_statistics_bars(x, x[:3], ["我", "是", "学生", "。"])


def test_layer_norm_widget_output_stays_put_when_scaled_and_shifted_until_eps_matters():
    x = torch.randn(8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    w = widgets.layer_norm_widget(x, token="是")
    first = w.caption
    assert w.summary["max_change"] == 0.0 and w.last_render_seconds > 0
    w.controls["scale"].value = 10.0
    w.controls["shift"].value = 5.0
    assert w.caption != first and "10·x + 5" in w.caption
    assert w.summary["std_in"] > 5 and w.summary["max_change"] < 1e-3
    assert abs(w.summary["std_out"] - 1) < 1e-3
    w.controls["scale"].value = 0.001
    assert w.summary["std_out"] < 0.99 and "close to eps" in w.caption
    assert w.renders == 4


def test_steps_to_threshold_plot_draws_a_dot_per_seed_and_a_median_per_row():
    fig = plots.steps_to_threshold_plot({"a": [10, 20, None], "b": [None, None, 50]}, budget=100)
    ax = fig.axes[0]
    dots = sum(len(c.get_offsets()) for c in ax.collections)
    assert dots == 6
    labels = [t.get_text() for t in ax.texts]
    assert "median 20" in labels and "median: never" in labels
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    with pytest.raises(ValueError, match="expected budget to be a positive integer"):
        plots.steps_to_threshold_plot({"a": [10]}, budget=0)


def test_seed_loss_curves_draws_one_line_per_seed_and_one_legend_entry_per_group():
    fig = plots.seed_loss_curves({"with": [[2.0] * 20, [1.0] * 20], "without": [[1.5] * 20]}, smooth=5,
                                 thresholds=(1.0,), chance=2.2)
    ax = fig.axes[0]
    runs = [line for line in ax.lines if len(line.get_xdata()) == 16]   # 20 steps, mean of 5: 16 points
    assert len(runs) == 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["with", "without", "chance (2.20)"]


def test_residual_depth_widget_redraws_for_the_chosen_depth():
    w = widgets.residual_depth_widget(depth=32)
    assert w.summary["depth"] == 32 and "32 layers" in w.caption
    deep_ratio = w.summary["plain_first_over_last"]
    w.controls["depth"].value = 8
    assert w.summary["depth"] == 8 and "8 layers" in w.caption
    assert w.summary["plain_first_over_last"] > 1e3 * deep_ratio    # fewer layers, far less vanishing
    assert w.summary["residual_spread"] < 5
    assert w.last_render_seconds > 0
    w.controls["gain"].value = 3.0                                   # larger weights: the plain gradient grows
    assert w.summary["gain"] == 3.0 and "weights × 3" in w.caption
    assert w.summary["plain_first_over_last"] > 1 and w.summary["pre-ln_first_over_last"] < 10
