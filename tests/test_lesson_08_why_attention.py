"""Lesson 08 (why attention): sequential steps and work of attention against a GRU (C1), how the gradient
from a distant token fades, and key-value recall at growing distance, attention against a GRU with the same
parameter budget (C11), plus the plots and the distance widget."""
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from transformer_lesson.lessons.lesson08_why_attention import experiments, plots, widgets


pytestmark = pytest.mark.usefixtures("chinese_font")  # tests/conftest.py


@pytest.fixture(scope="module")
def recall():
    """The C11 experiment with the notebook's seed, trained once for this module (a few seconds).
    The claim itself, over 10 seeds: tests/test_claims.py::test_C11_attention_recalls_at_every_distance..."""
    return experiments.long_range_recall(seed=0)


def test_a_loop_of_gru_cells_is_what_nn_gru_computes():
    torch.manual_seed(0)
    gru, cell = nn.GRU(8, 8, batch_first=True), nn.GRUCell(8, 8)
    cell.load_state_dict({name.replace("_l0", ""): w for name, w in gru.state_dict().items()})
    x, h, states = torch.randn(2, 5, 8), torch.zeros(2, 8), []
    with torch.no_grad():
        for t in range(5):
            h = cell(x[:, t], h)
            states.append(h)
        torch.testing.assert_close(torch.stack(states, 1), gru(x)[0])


def test_attention_has_a_constant_critical_path_and_the_gru_one_that_grows_with_length():
    rows = experiments.depth_and_work(lengths=(8, 16, 32, 64), d_model=16, num_heads=2)
    assert len({r["attention_depth"] for r in rows}) == 1
    gru_depths = [r["gru_depth"] for r in rows]
    assert all(r["gru_depth"] > r["length"] for r in rows)
    steps = [(b - a) / (rb["length"] - ra["length"]) for a, b, ra, rb in zip(gru_depths, gru_depths[1:], rows, rows[1:])]
    assert len(set(steps)) == 1 and steps[0] >= 1                 # the same number of operations per time step


def test_flop_counts_follow_the_complexity_formulas():
    d = 16
    for r in experiments.depth_and_work(lengths=(8, 32), d_model=d, num_heads=2):
        T = r["length"]
        assert r["attention_flops"] == 8 * T * d * d + 4 * T * T * d
        assert r["gru_flops"] == 12 * T * d * d


def test_attention_does_fewer_flops_than_the_gru_below_t_equals_d_and_more_above():
    d = 16
    short, equal, long = experiments.depth_and_work(lengths=(8, 16, 64), d_model=d, num_heads=2)
    assert short["attention_flops"] < short["gru_flops"]
    assert equal["attention_flops"] == equal["gru_flops"]                # the formulas cross at T = d
    assert long["attention_flops"] == 2 * long["gru_flops"]                 # T = 4d: twice the GRU's work


def test_critical_path_length_counts_a_chain_and_needs_a_graph():
    x = torch.ones(3, requires_grad=True)
    y = x
    for _ in range(5):
        y = y * 2
    assert experiments.critical_path_length(y) == 6               # five multiplications and the leaf's accumulator
    with pytest.raises(ValueError, match="requires_grad=True"):
        experiments.critical_path_length(torch.ones(3))


def test_timings_are_positive_and_leave_the_thread_setting_alone():
    before = torch.get_num_threads()
    rows = experiments.time_attention_vs_gru(lengths=(4, 8), d_model=8, num_heads=2, batch_size=2, repeats=1)
    assert [r["length"] for r in rows] == [4, 8]
    assert all(r["attention_ms"] > 0 and r["gru_ms"] > 0 for r in rows)
    assert torch.get_num_threads() == before


def test_the_gradient_from_a_distant_token_fades_in_a_gru_but_not_in_attention():
    reach = experiments.gradient_reach(length=128)
    assert max(reach["attention"]) / min(reach["attention"]) < 3
    at = reach["distances"].index
    assert reach["gru"][at(64)] < 1e-6 * reach["gru"][at(1)]
    assert all(a >= b for a, b in zip(reach["gru"], reach["gru"][1:]))   # smaller with every step back
    with pytest.raises(ValueError, match="distances in 1..127"):
        experiments.gradient_reach(length=128, distances=(128,))


def test_recall_batch_asks_about_one_of_its_distinct_keys():
    tokens, answers, asked = experiments.recall_batch(64, 6, torch.Generator().manual_seed(0))
    K, M = len(experiments.RECALL_KEYS), len(experiments.RECALL_VALUES)
    assert tokens.shape == (64, 7)
    keys, values = tokens[:, :-1] // M, tokens[:, :-1] % M
    assert all(len(set(row.tolist())) == 6 for row in keys)       # distinct keys in every sequence
    assert torch.equal(tokens[:, -1] - K * M, keys[torch.arange(64), asked])
    assert torch.equal(answers, values[torch.arange(64), asked])
    _, _, first = experiments.recall_batch(8, 3, torch.Generator().manual_seed(0), asked="first")
    assert first.tolist() == [0] * 8
    with pytest.raises(ValueError, match="num_pairs in 1..16"):
        experiments.recall_batch(2, 17, torch.Generator())


def test_recall_tokens_read_like_the_notebook():
    M = len(experiments.RECALL_VALUES)
    K = len(experiments.RECALL_KEYS)
    assert experiments.recall_tokens([2 * M + 7, 0 * M + 2, K * M + 0]) == ["c7", "a2", "?a"]


def test_the_gru_gets_the_same_parameter_budget_as_the_attention_model():
    attention = experiments.RecallAttention(d_model=32, num_heads=2, d_ff=64)
    hidden = experiments.matched_gru_hidden_size(experiments.count_parameters(attention), d_model=32)
    gru = experiments.RecallGRU(d_model=32, hidden_size=hidden)
    n_a, n_g = experiments.count_parameters(attention), experiments.count_parameters(gru)
    assert abs(n_g - n_a) / n_a < 0.02
    for h in (hidden - 1, hidden + 1):                               # and no other size comes closer
        assert abs(experiments.count_parameters(experiments.RecallGRU(32, h)) - n_a) >= abs(n_g - n_a)


def test_long_range_recall_reports_its_setting_and_restores_the_thread_count(recall):
    assert recall["chance"] == pytest.approx(0.1)
    assert recall["steps"] == 300 and recall["gru_hidden_size"] == 39
    assert set(recall["seconds"]) == {"attention", "gru"} and min(recall["seconds"].values()) > 0
    assert isinstance(recall["models"]["attention"], experiments.RecallAttention)
    before = torch.get_num_threads()
    experiments.long_range_recall(steps=1, max_pairs=2, num_examples=10, threads=1)
    assert torch.get_num_threads() == before


def test_train_recall_gives_two_copies_of_a_model_the_same_batches():
    torch.manual_seed(0)
    first = experiments.RecallGRU(d_model=8, hidden_size=8)
    second = experiments.RecallGRU(d_model=8, hidden_size=8)
    second.load_state_dict(first.state_dict())
    losses = [experiments.train_recall(m, steps=5, batch_size=4, max_pairs=3, seed=7) for m in (first, second)]
    assert losses[0] == losses[1]
    for a, b in zip(first.parameters(), second.parameters()):
        assert torch.equal(a, b)
    third = experiments.RecallGRU(d_model=8, hidden_size=8)
    third.load_state_dict(second.state_dict())
    assert experiments.train_recall(third, steps=5, batch_size=4, max_pairs=3, seed=8) != losses[0]   # other data


def test_recall_accuracy_of_the_trained_attention_model_is_reproducible(recall):
    model = recall["models"]["attention"]
    i = recall["distances"].index(10)
    assert experiments.recall_accuracy(model, 10) == recall["attention"][i]


def test_lesson_08_plots_draw_without_error(recall):
    rows = experiments.depth_and_work(lengths=(8, 16), d_model=8, num_heads=2)
    timings = [{"length": 8, "attention_ms": 0.1, "gru_ms": 0.2}, {"length": 16, "attention_ms": 0.3, "gru_ms": 0.4}]
    reach = experiments.gradient_reach(length=16, distances=(1, 2, 15), d_model=8, num_heads=2)
    for fig in (plots.depth_and_work_plot(rows), plots.timing_plot(timings), plots.gradient_reach_plot(reach),
                plots.accuracy_vs_distance(recall, mark=5)):
        assert isinstance(fig, Figure)
    assert len(plots.depth_and_work_plot(rows).axes) == 2


def test_recall_distance_widget_follows_the_slider(recall):
    w = widgets.recall_distance_widget(recall, distance=12)
    assert w.summary["distance"] == 12 and "Distance 12" in w.caption
    assert w.summary["attention_accuracy"] == recall["attention"][11]
    w.controls["distance"].value = 3
    assert w.summary["distance"] == 3 and "Distance 3" in w.caption
    assert w.summary["gru_accuracy"] == recall["gru"][2]
    assert w.summary["weight_on_answer"] > 0.5                      # the lookup head finds the asked pair
    assert w.summary["answer_attention"] == w.summary["right_answer"]
    assert w.renders == 2 and w.last_render_seconds > 0
    assert w.image.value[:8] == b"\x89PNG\r\n\x1a\n"
