"""Lesson 07, training and generation (训练与生成): the experiments, plots and widgets the notebook uses.

Claims pinned here, as in the notebook: label smoothing puts a floor under the loss (the entropy of the
smoothed target); the cross-attention of a trained model is an alignment that crosses itself on a sentence
with reordering; the trained model's heads attend in different patterns (C6, second half); beam search's
translation is never less likely than greedy's on the held-out split (C12, second half).

One model, module-scoped: the default training stopped after 2 epochs (a few seconds), for the functions'
logic and the widgets. The claims about the fully trained translator (alignment, head diversity, beam never
below greedy) are checked over 10 seeds in tests/test_claims.py.
"""
import math

import pytest
import torch
from matplotlib.figure import Figure

from transformer_lesson import train_translator
from transformer_lesson.lessons.lesson07_training_and_generation import experiments, plots, widgets
from transformer_lesson.capstone.data import load_corpus
from transformer_lesson.capstone.training import label_smoothing_floor

REORDERED = "they study Chinese in the library today"          # 他们 今天 在 图书馆 学习 中文


pytestmark = pytest.mark.usefixtures("chinese_font")  # tests/conftest.py


@pytest.fixture(scope="module")
def translator():
    return train_translator(seed=0, progress=False, epochs=2)


@pytest.fixture(scope="module")
def test_pairs():
    return load_corpus("test")


# ---- label smoothing ---------------------------------------------------------------------------------

def test_no_prediction_goes_below_the_label_smoothing_floor():
    V, eps = 7, 0.1
    g = torch.Generator().manual_seed(0)
    logits, target = 5 * torch.randn(200, V, generator=g), torch.randint(1, V, (200,), generator=g)
    losses = torch.nn.functional.cross_entropy(logits, target, label_smoothing=eps, reduction="none")
    assert losses.min().item() > label_smoothing_floor(V, eps)


def test_training_history_stays_above_the_floor(translator):
    floor = label_smoothing_floor(len(translator.tgt_vocab), translator.config.label_smoothing)
    assert min(translator.history["loss"]) > floor


# ---- cross-attention as alignment --------------------------------------------------------------------

def test_cross_attention_map_has_one_row_per_produced_token_and_one_column_per_english_word(translator):
    m = experiments.cross_attention_map(translator, REORDERED)
    L, h = translator.config.num_layers, translator.config.num_heads
    assert m["source"] == REORDERED.lower().split()
    assert m["target"][-1] == "<eos>" and m["translation"] == translator.translate(REORDERED)
    assert m["weights"].shape == (L, h, len(m["target"]), len(m["source"]))
    torch.testing.assert_close(m["weights"].sum(-1), torch.ones(L, h, len(m["target"])))


def test_cross_attention_map_rejects_unknown_words_and_non_translators(translator):
    with pytest.raises(ValueError, match="xylophone"):
        experiments.cross_attention_map(translator, "I like xylophone")
    with pytest.raises(TypeError, match="Translator"):
        experiments.cross_attention_map(translator.model, REORDERED)


# ---- heads (C6, second half) ---------------------------------------------------------------------------

def test_head_diversity_matrices_are_symmetric_with_a_zero_diagonal(translator):
    result = experiments.head_diversity(translator, ["I am a student", REORDERED])
    h = translator.config.num_heads
    assert len(result["modules"]) == 3 * translator.config.num_layers   # encoder self, decoder self + cross
    for row in result["modules"]:
        d = torch.tensor(row["distances"])
        assert d.shape == (h, h)
        torch.testing.assert_close(d, d.T)
        assert d.diagonal().abs().max() < 1e-12 and 0.0 <= d.min() and d.max() <= 1.0


def test_head_diversity_is_zero_for_heads_with_the_same_weights(translator):
    copy = experiments.untrained_copy(translator, seed=1)
    attn = copy.model.encoder.layers[0].self_attn
    d_k = attn.d_k
    with torch.no_grad():
        for layer in (attn.w_q, attn.w_k):                          # every head gets head 0's projections
            for i in range(1, attn.num_heads):
                layer.weight[i * d_k:(i + 1) * d_k] = layer.weight[:d_k]
                layer.bias[i * d_k:(i + 1) * d_k] = layer.bias[:d_k]
    result = experiments.head_diversity(copy, ["I am a student"])
    assert result["modules"][0]["name"] == "encoder 1 self" and result["modules"][0]["mean"] < 1e-6
    assert result["modules"][1]["mean"] > 0.01                       # the other layers still differ


def test_untrained_copy_has_the_same_shape_new_weights_and_leaves_the_random_state_alone(translator):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    copy = experiments.untrained_copy(translator, seed=0)
    assert torch.equal(torch.rand(3), expected)
    assert copy.src_vocab is translator.src_vocab and copy.config == translator.config
    ours, theirs = copy.model.state_dict(), translator.model.state_dict()
    assert ours.keys() == theirs.keys()
    assert not torch.equal(ours["generator.weight"], theirs["generator.weight"])


# ---- beam search against greedy (C12, second half) ------------------------------------------------------

def test_on_an_undertrained_model_beam_search_is_likelier_far_more_often_than_not(translator, test_pairs):
    result = experiments.beam_vs_greedy(translator, test_pairs, beam_size=4, length_penalty=0.0)
    assert result["total"] == len(test_pairs) == result["beam_higher"] + result["same"] + result["beam_lower"]
    assert result["beam_higher"] > 10 * result["beam_lower"] and result["largest_gain"] > 0
    for english, _, greedy, greedy_lp, beam, beam_lp in result["differ"]:
        assert greedy != beam
    assert len(result["differ"]) >= result["beam_higher"]


def test_beam_vs_greedy_log_probs_are_those_of_translator_alternatives(translator, test_pairs):
    pairs = test_pairs[:6]
    result = experiments.beam_vs_greedy(translator, pairs, beam_size=3)
    for (english, _), greedy_lp, beam_lp in zip(pairs, result["greedy_log_probs"], result["beam_log_probs"]):
        assert math.isclose(greedy_lp, translator.alternatives(english, beam_size=1)[0][2], abs_tol=1e-4)
        assert math.isclose(beam_lp, translator.alternatives(english, 3, 0.0)[0][2], abs_tol=1e-4)


def test_a_beam_of_width_one_is_greedy(translator, test_pairs):
    result = experiments.beam_vs_greedy(translator, test_pairs[:40], beam_size=1)
    assert result["same"] == 40 and result["differ"] == []


def test_beam_vs_greedy_counts_exact_matches_against_the_references(translator):
    pairs = [("I am a student", "我 是 学生"), ("I am a student", "你 是 老师")]
    result = experiments.beam_vs_greedy(translator, pairs)
    right = int(translator.translate("I am a student") == "我是学生")
    assert result["greedy_correct"] == right and result["total"] == 2


# ---- decoding choices and the widgets ----------------------------------------------------------------------

def test_decoding_choices_are_seeded_and_cold_samples_are_greedy(translator):
    a = experiments.decoding_choices(translator, "she is not a doctor", temperature=1.5, seed=3)
    b = experiments.decoding_choices(translator, "she is not a doctor", temperature=1.5, seed=3)
    assert a["samples"] == b["samples"] and len(a["samples"]) == 8
    cold = experiments.decoding_choices(translator, "she is not a doctor", temperature=1e-4)
    assert set(cold["sample_counts"]) == {cold["greedy"][0]}           # almost no temperature: argmax, as greedy
    assert cold["beam"][0][0] == translator.translate("she is not a doctor", beam_size=4)


def test_decoding_choices_cache_recomputes_only_what_changed(translator):
    cache = {}
    experiments.decoding_choices(translator, "I am a student", 4, 0.6, 1.0, cache=cache)
    assert len(cache) == 3                                             # greedy, beam, samples
    experiments.decoding_choices(translator, "I am a student", 4, 0.6, 2.0, cache=cache)
    assert len(cache) == 4                                             # only new samples
    experiments.decoding_choices(translator, "I am a student", 4, 0.6, 1.0, cache=cache)
    assert len(cache) == 4


def test_decoding_widget_caption_follows_the_sliders(translator):
    w = widgets.decoding_widget(translator, ["she is not a doctor", "I am a student"], temperature=0.1)
    cold = w.summary["distinct_samples"]
    assert w.last_render_seconds > 0 and "temperature 0.10" in w.caption
    w.controls["temperature"].value = 3.98
    assert w.summary["distinct_samples"] > cold and "temperature 3.98" in w.caption
    w.controls["beam_size"].value = 1
    assert w.summary["beam"] == w.summary["greedy"] and "beam width 1" in w.caption
    w.controls["sentence"].value = "I am a student"
    assert w.summary["greedy"] == translator.translate("I am a student")
    assert w.renders == 4


def test_decoding_widget_switches_between_models(translator):
    other = experiments.untrained_copy(translator, seed=0)
    w = widgets.decoding_widget({"trained": translator, "untrained": other}, ["I am a student"])
    trained_greedy = w.summary["greedy"]
    w.controls["model"].value = "untrained"
    assert w.summary["model"] == "untrained" and w.summary["greedy"] == other.translate("I am a student")
    assert trained_greedy == translator.translate("I am a student")


def test_cross_attention_widget_shows_the_mean_of_heads_then_one_head(translator):
    m = experiments.cross_attention_map(translator, REORDERED)
    w = widgets.cross_attention_widget(m)
    torch.testing.assert_close(torch.tensor(w.summary["weights"], dtype=torch.float64), m["weights"][-1].mean(0).double())
    assert "mean of heads" in w.caption and w.last_render_seconds > 0
    w.controls["head"].value = 2
    torch.testing.assert_close(torch.tensor(w.summary["weights"], dtype=torch.float64), m["weights"][-1, 2].double())
    assert "head 2" in w.caption and "今天 → " in w.caption
    w.controls["layer"].value = 0
    assert w.summary["layer"] == 0 and "layer 1" in w.caption


# ---- plots ------------------------------------------------------------------------------------------------

def test_training_curves_draw_loss_and_learning_rate(translator):
    fig = plots.training_curves(translator.history, floor=0.5, warmup=translator.config.warmup)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    with pytest.raises(ValueError, match="one per step"):
        plots.training_curves({"loss": [1.0, 0.5], "lr": [0.1]})


def test_lr_schedule_plot_draws_one_line_per_schedule():
    fig = plots.lr_schedule_plot({"a": [0.1, 0.2, 0.1], "b": [0.2, 0.1, 0.05]}, warmups={"a": 2})
    assert len(fig.axes[0].get_legend().get_texts()) == 2


def test_next_token_panels_one_panel_per_step_and_shape_check(translator):
    from transformer_lesson.capstone.pipeline import trace_translation
    trace = trace_translation(translator, "Do you like tea?")
    chosen = trace.target_tokens + ["<eos>"]
    fig = plots.next_token_panels(trace.probabilities[0], translator.tgt_vocab.tokens, chosen, k=3)
    assert len(fig.axes) == len(chosen)
    with pytest.raises(ValueError, match=r"\(T, V\)"):
        plots.next_token_panels(trace.probabilities[0], translator.tgt_vocab.tokens, chosen[:-1])


def test_cross_attention_heatmap_checks_its_labels():
    fig = plots.cross_attention_heatmap(torch.full((2, 3), 1 / 3), ["a", "b", "c"], ["我", "<eos>"])
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["我", "<eos>"]
    with pytest.raises(ValueError, match=r"\(T, S\)"):
        plots.cross_attention_heatmap(torch.ones(3, 2), ["a", "b", "c"], ["我", "<eos>"])


def test_decoding_bars_always_show_greedy_and_highlight_the_beams_choice():
    choices = {"beam": [("甲", -0.1, -0.2), ("乙", -0.5, -0.7)], "greedy": ("丙" * 14, -30.0),
               "samples": [(f"样{i}", -1.0 - i) for i in range(8)], "sample_counts": {f"样{i}": 1 for i in range(8)},
               "beam_size": 2, "length_penalty": 0.6, "temperature": 1.0}
    fig = plots.decoding_bars(choices, max_rows=5)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == 5 and labels[-1] == "丙丙丙丙丙丙丙丙丙丙…" and labels[0] == "甲"
    assert fig.axes[0].patches[0].get_facecolor() != fig.axes[0].patches[1].get_facecolor()
