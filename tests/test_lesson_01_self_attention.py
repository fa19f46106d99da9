"""Lesson 01, self-attention (自注意力): the experiments behind claims C2, C3 and C5, and the lesson's widgets."""

import pytest
import torch
import torch.nn.functional as F

from transformer_lesson import scaled_dot_product_attention
from transformer_lesson.lessons.lesson01_self_attention import experiments, plots, widgets

SENTENCE = "I am a student".split()


pytestmark = pytest.mark.usefixtures("chinese_font")  # tests/conftest.py


def test_toy_embeddings_give_a_word_the_same_vector_in_every_sentence():
    a = experiments.toy_embeddings("I am a student".split())
    b = experiments.toy_embeddings("you are a student".split())
    assert a.shape == (4, 8)
    torch.testing.assert_close(a[2:], b[2:], rtol=0, atol=0)          # "a", "student"
    assert not torch.allclose(a[0], b[0])                              # "I" is not "you"


def test_toy_self_attention_equals_torch_sdpa_on_the_projected_inputs():
    x = experiments.toy_embeddings(SENTENCE)
    W_q, W_k, W_v = experiments.toy_projections(8, 8)
    out, weights = experiments.self_attention(x, W_q, W_k, W_v)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(x @ W_q, x @ W_k, x @ W_v))
    torch.testing.assert_close(weights.sum(-1), torch.ones(4))


def test_the_same_word_attends_differently_in_two_sentences():
    c2 = experiments.same_word_in_two_sentences("I am a student", "you are a student", "student")
    assert c2["row_difference"] > 0.05
    assert c2["output_difference"] > 0.1


def test_same_word_experiment_names_a_missing_word():
    with pytest.raises(ValueError, match="expected the word 'teacher'"):
        experiments.same_word_in_two_sentences("I am a student", "you are a student", "teacher")


def test_replacing_one_word_moves_every_output_without_a_mask():
    moved = experiments.change_one_word("I am a student", position=0, new_word="you")
    assert len(moved) == 4 and min(moved) > 1e-3


def test_with_a_causal_mask_replacing_the_last_word_leaves_every_earlier_output_exactly_unchanged():
    for seed in range(5):
        moved = experiments.change_one_word("I am a student", position=3, new_word="teacher", causal=True, seed=seed)
        assert moved[:3] == [0.0, 0.0, 0.0] and moved[3] > 1e-3


def test_replacing_the_first_word_under_a_causal_mask_moves_every_output():
    moved = experiments.change_one_word("I am a student", position=0, new_word="you", causal=True)
    assert min(moved) > 1e-3


def test_change_one_word_names_a_position_outside_the_sentence():
    with pytest.raises(ValueError, match=r"expected position to be one of 0..3"):
        experiments.change_one_word("I am a student", position=4, new_word="you")


def test_permuting_the_tokens_permutes_the_outputs_and_nothing_else():
    result = experiments.permutation_check(SENTENCE)
    assert result["permutations"] == 23                                # every order but the original
    assert result["max_output_error"] < 1e-5
    assert result["max_weights_error"] < 1e-5


def test_permutation_check_would_catch_an_order_dependent_layer():
    # with positions added, attention is no longer blind to order: the check must report it
    assert experiments.permutation_check(SENTENCE, perms=[(1, 0, 2, 3)], add_positions=True)["max_output_error"] > 0.05


def test_dot_product_variance_grows_like_d_k_and_scaling_brings_it_back_to_one():
    for row in experiments.softmax_saturation((4, 64, 256)):
        assert row["score_var_unscaled"] == pytest.approx(row["d_k"], rel=0.15)
        assert row["score_var_scaled"] == pytest.approx(1.0, rel=0.15)


def test_without_scaling_the_softmax_gives_ever_more_weight_to_one_key_as_d_k_grows():
    top = [r["top_weight_unscaled"] for r in experiments.softmax_saturation((4, 16, 64, 256))]
    assert all(a < b for a, b in zip(top, top[1:]))
    assert top[-1] > 0.9                                               # nearly one-hot


def test_without_scaling_the_softmax_gradient_shrinks_as_d_k_grows():
    grad = [r["grad_unscaled"] for r in experiments.softmax_gradient((4, 16, 64, 256))]
    assert all(a > b for a, b in zip(grad, grad[1:]))
    assert grad[-1] < 0.5 * grad[0]


def test_with_scaling_top_weight_and_gradient_stay_roughly_constant():
    d_ks = (1, 4, 16, 64, 256, 512)
    top = [r["top_weight_scaled"] for r in experiments.softmax_saturation(d_ks)]
    grad = [r["grad_scaled"] for r in experiments.softmax_gradient(d_ks)]
    assert max(top) / min(top) < 1.2 and max(top) < 0.3, top
    assert max(grad) / min(grad) < 1.1, grad


def test_gradient_size_is_the_mean_frobenius_norm_of_the_softmax_jacobian():
    for d_k in (4, 64):
        scores = experiments.random_scores(d_k, n_keys=16, n_queries=3)
        for name, s in (("unscaled", scores), ("scaled", scores / d_k ** 0.5)):
            norms = [torch.autograd.functional.jacobian(lambda z: torch.softmax(z, -1), row).norm() for row in s]
            got = experiments.softmax_gradient((d_k,), n_keys=16, n_queries=3)[0][f"grad_{name}"]
            assert got == pytest.approx(torch.stack(norms).mean().item(), rel=1e-5)


def test_softmax_saturation_and_softmax_gradient_use_the_same_scores():
    a = experiments.random_scores(16, n_keys=8, n_queries=5, seed=3)
    torch.testing.assert_close(a, experiments.random_scores(16, n_keys=8, n_queries=5, seed=3), rtol=0, atol=0)
    top = experiments.softmax_saturation((16,), n_keys=8, n_queries=5, seed=3)[0]["top_weight_unscaled"]
    assert top == pytest.approx(torch.softmax(a, -1).max(-1).values.mean().item())


def test_a_fully_masked_row_is_nan_with_a_naive_softmax_and_zero_in_the_course():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(3, 4, generator=g) for _ in range(3))
    mask = torch.ones(3, 3, dtype=torch.bool)
    mask[0] = False
    naive = torch.softmax((q @ k.T / 2).masked_fill(~mask, float("-inf")), dim=-1)
    assert torch.isnan(naive[0]).all() and not torch.isnan(naive[1:]).any()
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert torch.all(weights[0] == 0) and torch.all(out[0] == 0)


def test_query_dropdown_shows_the_chosen_query_row():
    x = experiments.toy_embeddings(SENTENCE)
    _, weights = experiments.self_attention(x, *experiments.toy_projections())
    w = widgets.attention_row_widget(weights, SENTENCE)
    assert w.summary["query"] == "student" and w.renders == 1
    w.controls["query"].value = 1
    assert w.summary["query"] == "am" and "“am”" in w.caption
    assert w.summary["weights"] == pytest.approx(weights[1].tolist())
    assert w.summary["top_key"] == SENTENCE[int(weights[1].argmax())]
    assert w.renders == 2 and w.last_render_seconds > 0
    assert w.image.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_query_widget_refuses_weights_that_do_not_match_the_tokens():
    with pytest.raises(ValueError, match=r"expected weights of shape \(T, T\) = \(4, 4\)"):
        widgets.attention_row_widget(torch.ones(3, 3) / 3, SENTENCE)


def test_d_k_slider_shows_saturation_without_scaling_only():
    w = widgets.d_k_scaling_widget(value=4, n_queries=200)
    small = dict(w.summary)
    w.controls["d_k"].value = 256
    large = w.summary
    assert large["d_k"] == 256 and "d_k = 256" in w.caption
    assert large["top_weight_unscaled"] > 0.9 > 0.5 > small["top_weight_unscaled"]
    assert large["top_weight_scaled"] == pytest.approx(small["top_weight_scaled"], rel=0.15)
    assert w.last_render_seconds > 0


def test_attention_row_bars_draws_one_bar_per_key_and_checks_the_labels():
    fig = plots.attention_row_bars(torch.tensor([0.1, 0.2, 0.7]), ["a", "b", "c"])
    assert len(fig.axes[0].patches) == 3
    with pytest.raises(ValueError, match="expected 3 key tokens"):
        plots.attention_row_bars(torch.tensor([0.1, 0.2, 0.7]), ["a", "b"])


def test_saturation_curves_draw_both_settings_and_refuse_unknown_quantities():
    fig = plots.saturation_curves(experiments.softmax_gradient((4, 16), n_queries=50), "grad", mark_d_k=16)
    assert len(fig.axes[0].lines) == 3                                 # without, with, the d_k marker
    rows = experiments.softmax_saturation((4, 16), n_queries=50)
    fig = plots.saturation_curves(rows, "top_weight", legend=False)
    assert len(fig.axes[0].lines) == 4 and fig.axes[0].get_legend() is None   # + "all equal", "all on one key"
    with pytest.raises(ValueError, match=r"expected quantity to be one of \['grad', 'top_weight'\]"):
        plots.saturation_curves(rows, "variance")


def test_experiments_name_what_they_expected_on_bad_input():
    with pytest.raises(ValueError, match="expected a non-empty list of words"):
        experiments.toy_embeddings("I am a student")                   # a string, not a list of words
    with pytest.raises(ValueError, match="expected d_model to be a positive integer"):
        experiments.toy_projections(0)
    with pytest.raises(ValueError, match=r"expected each permutation to reorder positions 0..3 .* got \(0, 0, 1, 2\)"):
        experiments.permutation_check(SENTENCE, perms=[(0, 0, 1, 2)])
    with pytest.raises(ValueError, match="expected d_k to be a positive integer"):
        experiments.softmax_saturation((0, 4))
