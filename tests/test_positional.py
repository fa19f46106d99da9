"""Sinusoidal positional encoding: the paper's formula, and the properties the lessons rely on."""
import math

import pytest
import torch

from transformer_lesson.positional import (PositionalEncoding, apply_rotary, rotary_angles, shift_matrix,
                                          sinusoidal_encoding)


def test_values_match_the_formula_computed_by_hand():
    pe = sinusoidal_encoding(50, 8)
    # pos 1, dims 0/1: sin(1), cos(1); dims 2/3: frequency 1 / 10000^(2/8) = 0.1
    assert pe[1, 0].item() == pytest.approx(math.sin(1.0), abs=1e-6)
    assert pe[1, 1].item() == pytest.approx(math.cos(1.0), abs=1e-6)
    assert pe[1, 2].item() == pytest.approx(math.sin(0.1), abs=1e-6)
    assert pe[3, 5].item() == pytest.approx(math.cos(3 / 10000 ** (4 / 8)), abs=1e-6)
    assert pe[49, 6].item() == pytest.approx(math.sin(49 / 10000 ** (6 / 8)), abs=1e-6)


def test_position_zero_is_sin0_cos0_interleaved():
    assert sinusoidal_encoding(1, 6)[0].tolist() == [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]


def test_odd_width_is_supported_with_sin_on_the_last_dimension():
    pe = sinusoidal_encoding(10, 5)
    assert pe.shape == (10, 5)
    assert pe[7, 4].item() == pytest.approx(math.sin(7 / 10000 ** (4 / 5)), abs=1e-6)


def test_codes_are_bounded_and_unique_per_position():
    pe = sinusoidal_encoding(200, 32)
    assert pe.abs().max() <= 1.0
    assert torch.cdist(pe, pe).add(torch.eye(200) * 10).min() > 1e-3


def test_shifting_by_k_is_the_same_linear_map_for_every_position():
    pe = sinusoidal_encoding(100, 16)
    for k in (1, 3, 10):
        M = shift_matrix(k, 16)
        torch.testing.assert_close(pe[:-k] @ M, pe[k:], atol=1e-5, rtol=0)


def test_the_shift_map_is_a_rotation_so_it_preserves_length():
    M = shift_matrix(5, 8).double()
    torch.testing.assert_close(M @ M.T, torch.eye(8, dtype=torch.float64), atol=1e-6, rtol=0)


def test_module_adds_the_table_to_every_sequence_in_the_batch():
    pe = PositionalEncoding(8, max_len=20)
    x = torch.zeros(3, 6, 8)
    torch.testing.assert_close(pe(x), sinusoidal_encoding(20, 8)[:6].expand(3, 6, 8))


# ---- rotary position embedding (RoPE) --------------------------------------------------------------------

def test_rotary_rotates_each_pair_by_position_times_its_frequency():
    x = torch.tensor([[1.0, 0.0, 1.0, 0.0]]).repeat(3, 1)                 # (T=3, d=4)
    out = apply_rotary(x, torch.arange(3))
    for pos in range(3):
        for i, w in enumerate((1.0, 10000 ** (-2 / 4))):
            assert out[pos, 2 * i].item() == pytest.approx(math.cos(pos * w), abs=1e-6)
            assert out[pos, 2 * i + 1].item() == pytest.approx(math.sin(pos * w), abs=1e-6)


def test_rotary_keeps_lengths_and_position_zero():
    x = torch.randn(2, 4, 6, 8, generator=torch.Generator().manual_seed(0))
    out = apply_rotary(x, torch.arange(6))
    assert torch.allclose(out.norm(dim=-1), x.norm(dim=-1), atol=1e-5)    # a rotation keeps lengths
    assert torch.equal(out[..., 0, :], x[..., 0, :])                      # position 0: angle 0


def test_a_rotary_score_depends_only_on_the_offset():
    g = torch.Generator().manual_seed(1)
    q, k = torch.randn(16, dtype=torch.float64, generator=g), torch.randn(16, dtype=torch.float64, generator=g)

    def score(m, n):
        qm = apply_rotary(q[None], torch.tensor([m]))[0]
        kn = apply_rotary(k[None], torch.tensor([n]))[0]
        return (qm @ kn).item()
    for m, n in [(3, 1), (10, 2), (7, 7), (0, 5)]:
        for shift in (1, 5, 100):
            assert score(m + shift, n + shift) == pytest.approx(score(m, n), abs=1e-9)
    assert abs(score(3, 1) - score(3, 2)) > 1e-3                          # ... and it does depend on the offset


def test_rotary_uses_the_frequencies_of_the_sinusoidal_code():
    angles = rotary_angles(torch.arange(5), 8)
    pe = sinusoidal_encoding(5, 8).double()
    assert torch.allclose(angles.sin(), pe[:, 0::2], atol=1e-6)
    assert torch.allclose(angles.cos(), pe[:, 1::2], atol=1e-6)


def test_rotary_refuses_an_odd_width_and_mismatched_positions():
    with pytest.raises(ValueError, match="even width"):
        apply_rotary(torch.randn(3, 5), torch.arange(3))
    with pytest.raises(ValueError, match=r"positions of shape \(T,\) with T=3"):
        apply_rotary(torch.randn(3, 4), torch.arange(4))
