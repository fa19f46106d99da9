"""Lesson 03, multi-head attention (多头注意力): the experiments, plots and widget the notebook uses.

Claims pinned here, as in the notebook: the parameter count does not depend on the number of heads (C6,
first half); heads split with `view` and no transpose give different numbers yet still train; torch's
boolean masks mean the opposite of ours; trained heads specialise in different offsets (C6, second half).
"""
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from transformer_lesson import MultiHeadAttention, causal_mask, drawing
from transformer_lesson.lessons.lesson03_multi_head_attention import experiments, plots, widgets


pytestmark = pytest.mark.usefixtures("chinese_font")  # tests/conftest.py


def test_parameter_count_is_the_same_for_every_number_of_heads():
    rows = experiments.parameter_count_by_heads(512, (1, 2, 4, 8, 16, 32))
    assert {row["total"] for row in rows} == {4 * 512 * 512 + 4 * 512}
    for row in rows:
        assert row["d_k"] * row["num_heads"] == 512
        assert row["per_head_qkv"] * row["num_heads"] == row["all_heads_qkv"]  # h small heads = one wide head
        assert row["all_heads_qkv"] + row["w_o"] == row["total"]


def test_parameter_count_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    experiments.parameter_count_by_heads(64, (1, 8))
    torch.testing.assert_close(torch.rand(3), expected)


def test_wrong_split_module_differs_from_the_right_one_with_the_same_weights():
    torch.manual_seed(0)
    right = MultiHeadAttention(16, 4)
    wrong = experiments.WrongSplitMultiHeadAttention(16, 4)
    wrong.load_state_dict(right.state_dict())
    x = torch.randn(2, 6, 16)
    assert wrong(x, x, x).shape == right(x, x, x).shape == (2, 6, 16)   # shapes cannot catch the bug
    assert not torch.allclose(wrong(x, x, x), right(x, x, x), atol=1e-3)


def test_wrong_split_still_trains_so_a_falling_loss_proves_nothing():
    result = experiments.wrong_split_still_trains(steps=100, seed=0)
    assert result["wrong_losses"][-1] < 0.5 * result["wrong_losses"][0]
    assert result["right_losses"][-1] < 0.5 * result["right_losses"][0]
    assert result["same_weights_difference"] > 1e-2


def test_with_the_wrong_split_the_first_output_never_sees_the_last_token():
    result = experiments.wrong_split_still_trains(steps=1, seed=0)
    assert result["wrong_first_sees_last"] == 0.0
    assert result["right_first_sees_last"] > 1e-3


def test_torch_boolean_mask_means_not_allowed_so_our_mask_must_be_inverted():
    torch.manual_seed(0)
    theirs = nn.MultiheadAttention(12, 3, batch_first=True).eval()
    ours = MultiHeadAttention.from_torch(theirs).eval()
    x = torch.randn(1, 4, 12)
    allowed = causal_mask(4)
    expected = ours(x, x, x, allowed)
    torch.testing.assert_close(theirs(x, x, x, attn_mask=~allowed)[0], expected)
    unchanged, weights = theirs(x, x, x, attn_mask=allowed)
    assert torch.isnan(unchanged[0, -1]).all()                     # the last word may see nothing: NaN
    assert weights[0, 0, 0] == 0 and weights[0, 0, 1:].sum() > 0.99  # the first word sees only the future


def test_offset_profile_finds_a_previous_word_pattern():
    T = 5
    previous = torch.zeros(T, T)
    previous[0, 0] = 1.0
    previous[torch.arange(1, T), torch.arange(T - 1)] = 1.0          # each word looks one to the left
    profile = experiments.offset_profile(previous)
    assert profile.shape == (1, 2 * T - 1)
    assert profile.sum().item() == pytest.approx(1.0)                # all of the head's attention, by offset
    assert profile[0, T - 2].item() == pytest.approx(0.8)            # offset -1: 4 of the 5 words
    assert experiments.dominant_offsets(previous[None]) == [(-1, pytest.approx(0.8))]


# Heads specialise (C6) over 15 seeds: tests/test_claims.py::test_C6_trained_heads_split_the_work_and_sharpen.


def test_offset_batch_answers_each_position_with_the_word_that_many_places_away():
    ids, answers = experiments.offset_batch(8, 6, (-2, -1, 1, 2), torch.Generator().manual_seed(0))
    assert ids.shape == (8, 6) and answers.shape == (8, 6, 4)
    for j, o in enumerate((-2, -1, 1, 2)):
        for t in range(6):
            if 0 <= t + o < 6:
                assert torch.equal(answers[:, t, j], ids[:, t + o])
            else:
                assert (answers[:, t, j] == -100).all()                  # no word there: ignored by the loss


def test_offset_reader_gives_logits_per_offset_and_every_heads_weights():
    torch.manual_seed(0)
    model = experiments.OffsetReader(T=6, num_offsets=4, d_model=16, num_heads=4)
    ids = torch.randint(len(experiments.OFFSET_TASK_WORDS), (3, 6))
    logits, weights = model(ids)
    assert logits.shape == (3, 6, 4, len(experiments.OFFSET_TASK_WORDS))
    assert weights.shape == (3, 4, 6, 6)


def test_imitate_lowers_the_loss_and_the_same_seed_gives_the_same_batches():
    torch.manual_seed(0)
    teacher, student = MultiHeadAttention(8, 2), MultiHeadAttention(8, 2)
    twin = MultiHeadAttention(8, 2)
    twin.load_state_dict(student.state_dict())
    losses = experiments.imitate(student, teacher, steps=30, batch_size=8, T=4, lr=1e-2, seed=5)
    assert len(losses) == 30 and losses[-1] < losses[0]
    assert experiments.imitate(twin, teacher, steps=30, batch_size=8, T=4, lr=1e-2, seed=5) == losses


def test_train_offset_heads_rejects_words_outside_its_vocabulary():
    with pytest.raises(ValueError, match="OFFSET_TASK_WORDS"):
        experiments.train_offset_heads(sentence=("他们", "跑步"), steps=1)


def test_head_attention_grid_draws_one_panel_per_head():
    w = torch.softmax(torch.randn(3, 4, 4), -1)
    fig = plots.head_attention_grid(w, list("我是学生"))
    assert isinstance(fig, Figure) and len(fig.axes) == 3 + 1                   # three heads and a colour bar
    assert len(plots.head_attention_grid(w, list("我是学生"), colorbar=False).axes) == 3
    with pytest.raises(ValueError, match=r"\(h, T, T\)"):
        plots.head_attention_grid(w[0], list("我是学生"))


def test_mark_offset_outlines_one_cell_per_query_that_has_such_a_key():
    fig, ax = drawing.new_figure()
    plots.mark_offset(ax, -2, 5)
    xs, ys = ax.lines[-1].get_data()
    corners = [(x, y) for x, y in zip(xs, ys) if x == x]             # drop the NaN separators
    assert len(corners) == 3 * 5                                      # queries 2, 3, 4: five corners each
    assert (-0.5, 1.5) in corners and (2.5, 4.5) in corners           # cells (2, 0) ... (4, 2)


def test_head_selector_widget_follows_the_chosen_head_and_model():
    T = 5
    eye = torch.eye(T)
    previous = torch.roll(eye, -1, dims=1)     # row t has its 1 at column t-1 (wrapping at the start)
    nxt = torch.roll(eye, 1, dims=1)           # row t has its 1 at column t+1
    w = widgets.head_selector_widget({"trained": torch.stack([previous, nxt]),
                                      "untrained": torch.full((2, T, T), 1.0 / T)}, list("他们今天在"))
    assert w.summary["dominant_offset"] == -1 and "left" in w.caption
    w.controls["head"].value = 1
    assert w.summary["dominant_offset"] == 1 and "right" in w.caption
    w.controls["model"].value = "untrained"
    assert w.summary["model"] == "untrained" and w.summary["weight"] == pytest.approx(1.0 / T)
    assert w.renders == 3 and 0 < w.last_render_seconds < 5
    assert w.image.value[:4] == b"\x89PNG"


def test_head_selector_widget_rejects_weights_that_do_not_match_the_tokens():
    with pytest.raises(ValueError, match=r"\(h, T, T\) with T=3"):
        widgets.head_selector_widget({"a": torch.rand(2, 4, 4)}, ["a", "b", "c"])
