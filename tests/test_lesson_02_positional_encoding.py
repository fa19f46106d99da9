"""Lesson 02, positional encoding (位置编码): the experiments behind claim C4 (and its limit: similarity is not
monotone in the offset), a shift matrix as a query projection, the end of lesson 01's order blindness, and
the lesson's figures and widget."""
import math

import numpy as np
import pytest
import torch

from transformer_lesson.lessons.lesson02_positional_encoding import experiments, plots, widgets
from transformer_lesson.positional import shift_matrix, sinusoidal_encoding


pytestmark = pytest.mark.usefixtures("chinese_font")  # tests/conftest.py


def test_dot_product_of_two_codes_depends_only_on_their_offset():
    rows = experiments.pe_dot_product_vs_offset(max_len=64, d_model=16, offsets=range(12))
    for row in rows:
        assert row["spread"] < 1e-5                                    # the same for every start position
        assert row["dot_min"] == pytest.approx(row["formula"], abs=1e-5)
    assert rows[0]["formula"] == pytest.approx(8.0)                    # |PE(p)|^2 = d_model / 2
    assert all(r["formula"] < rows[0]["formula"] for r in rows[1:])    # any offset is less similar than none


def test_offset_experiment_refuses_an_odd_width():
    with pytest.raises(ValueError, match="expected an even d_model"):
        experiments.pe_dot_product_vs_offset(d_model=7)


def test_shifting_by_k_is_one_rotation_for_every_position():
    for row in experiments.pe_shift_check(max_len=100, d_model=16, offsets=(1, 5, 20, 64)):
        assert row["max_error"] < 1e-5
        assert row["orthogonality_error"] < 1e-5
        assert row["determinant"] == pytest.approx(1.0, abs=1e-5)


def test_codes_are_bounded_and_unique():
    result = experiments.pe_codes_unique_and_bounded(max_len=200, d_model=32)
    assert result["max_abs"] <= 1.0
    assert result["min_distance"] > 0.1
    assert result["norm"] == pytest.approx(4.0, abs=1e-5)              # sqrt(d_model / 2): all on one sphere
    i, j = result["closest_pair"]
    assert i != j


def test_adding_positions_breaks_the_permutation_symmetry_of_attention():
    tokens = "I am a student".split()
    without = experiments.permutation_check(tokens)
    with_pe = experiments.permutation_check(tokens, add_positions=True)
    assert without["max_output_error"] < 1e-5
    assert with_pe["min_output_error"] > 0.05                           # every reordering changes the outputs


def test_position_widget_redraws_with_the_new_length_and_width():
    w = widgets.positional_encoding_widget(max_len=20, d_model=16)
    assert w.summary["shape"] == (20, 16)
    w.controls["max_len"].value = 120
    w.controls["d_model"].value = 64
    assert w.summary["shape"] == (120, 64) and "120 positions × 64 dimensions" in w.caption
    assert w.summary["slowest_wavelength"] == pytest.approx(2 * math.pi * 10000 ** (62 / 64))
    assert -1.0 <= w.summary["min"] and w.summary["max"] <= 1.0
    assert w.renders == 3 and w.last_render_seconds > 0


def test_waves_plot_draws_each_dimension_as_a_continuous_wave_with_the_tables_values_as_dots_on_it():
    table = sinusoidal_encoding(40, 16)
    fig = plots.positional_waves(table, dims=(0, 1, 6))
    lines = fig.axes[0].get_lines()
    assert len(lines) == 6                                             # a curve and its dots per dimension
    curves, dots = lines[0::2], lines[1::2]
    for d, curve, dot in zip((0, 1, 6), curves, dots):
        np.testing.assert_allclose(dot.get_xdata(), np.arange(40))
        np.testing.assert_allclose(dot.get_ydata(), table[:, d].numpy(), atol=1e-6)
        x, y = curve.get_xdata(), curve.get_ydata()
        assert len(x) > 10 * 40                                        # a fine grid, not just the 40 positions
        np.testing.assert_allclose(np.interp(np.arange(40), x, y), table[:, d].numpy(), atol=1e-5)  # dots lie on it
    assert "wavelength 6.3" in curves[0].get_label() and "cos" in curves[1].get_label()
    assert not dots[0].get_label().startswith("dim")                   # one legend entry per dimension


def test_waves_plot_refuses_a_dimension_outside_the_table():
    with pytest.raises(ValueError, match=r"expected dimensions in 0..15 \(d_model=16\), got 16"):
        plots.positional_waves(sinusoidal_encoding(10, 16), dims=(0, 16))


def test_similarity_of_two_codes_is_not_monotone_in_their_offset():
    for d_model, first in ((16, 3), (64, 5), (512, 43)):
        result = experiments.pe_similarity_by_offset(d_model=d_model, max_offset=100)
        similarity = np.array(result["similarity"])
        freqs = 1.0 / 10000.0 ** (np.arange(0, d_model, 2) / d_model)
        formula = np.cos(np.outer(np.arange(101), freqs)).sum(-1) / (d_model / 2)
        np.testing.assert_allclose(similarity, formula, atol=1e-6)     # PE(0).PE(k) / |PE|^2 = mean_i cos(w_i k)
        assert similarity[0] == pytest.approx(1.0)
        assert result["first_rise"] == first and similarity[first + 1] > similarity[first]
        assert all(similarity[k] > similarity[k + 1] for k in range(first))   # falls steadily before it
    sixteen = experiments.pe_similarity_by_offset(d_model=16, max_offset=10)["similarity"]
    assert sixteen[6] > sixteen[2]                                     # the notebook's example: 6 apart beats 2 apart


def test_similarity_experiment_refuses_an_odd_width():
    with pytest.raises(ValueError, match="expected an even d_model"):
        experiments.pe_similarity_by_offset(d_model=9)


def test_similarity_plot_draws_one_curve_per_width_and_marks_its_first_rise():
    results = [experiments.pe_similarity_by_offset(d, 50) for d in (16, 64)]
    fig = plots.similarity_vs_offset(results)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 4
    np.testing.assert_allclose(lines[0].get_ydata(), results[0]["similarity"])
    np.testing.assert_allclose(lines[1].get_xdata(), [3, 4])           # d_model 16 rises from k = 3 to 4


def test_dot_product_plot_curves_coincide_for_different_start_positions():
    fig = plots.dot_product_vs_offset(sinusoidal_encoding(60, 16), start_positions=(0, 10, 20))
    a, b, c = (line.get_ydata() for line in fig.axes[0].get_lines())
    np.testing.assert_allclose(b, a[: len(b)], atol=1e-5)
    np.testing.assert_allclose(c, a[: len(c)], atol=1e-5)


def test_position_experiments_refuse_offsets_outside_the_table():
    with pytest.raises(ValueError, match=r"expected offsets that are whole numbers in 0..9 \(max_len=10\), got 10"):
        experiments.pe_shift_check(max_len=10, offsets=(1, 10))
    with pytest.raises(ValueError, match="got -1"):
        experiments.pe_dot_product_vs_offset(max_len=10, offsets=(-1,))


def test_a_shift_matrix_as_query_projection_makes_every_query_pick_the_key_k_away():
    pe = sinusoidal_encoding(64, 16)
    for k in (1, 3, -3, 10):
        scores = (pe @ shift_matrix(k, 16)) @ pe.T                    # query p, key q
        queries = torch.arange(max(0, -k), 64 - max(0, k))
        top2 = scores[queries].topk(2, dim=-1)
        assert torch.equal(top2.indices[:, 0], queries + k)          # ahead for k > 0, behind for k < 0
        assert (top2.values[:, 0] - top2.values[:, 1]).min() > 0.1   # a clear winner, far above rounding
