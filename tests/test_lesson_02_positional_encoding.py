"""Lesson 02, positional encoding (位置编码): the experiments behind claim C4, the end of lesson 01's order
blindness, and the lesson's widget."""
import math

import numpy as np
import pytest

from transformer_lesson.lessons.lesson02_positional_encoding import experiments, plots, widgets
from transformer_lesson.positional import sinusoidal_encoding


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


def test_waves_plot_one_curve_per_dimension_labelled_with_its_wavelength():
    fig = plots.positional_waves(sinusoidal_encoding(40, 16), dims=(0, 1, 6))
    lines = fig.axes[0].get_lines()
    assert len(lines) == 3
    np.testing.assert_allclose(lines[2].get_ydata(), sinusoidal_encoding(40, 16)[:, 6].numpy())
    assert "wavelength 6.3" in lines[0].get_label() and "cos" in lines[1].get_label()


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
