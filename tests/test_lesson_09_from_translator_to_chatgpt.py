"""Lesson 09's experiments, figures, widgets, picture and benchmark (the trained claims are in tests/test_claims.py)."""
from __future__ import annotations

import pytest
import torch
from matplotlib.figure import Figure

from transformer_lesson.capstone.data import EOS, PAD, load_corpus
from transformer_lesson.decoder_only import generate
from transformer_lesson.lessons.lesson09_from_translator_to_chatgpt import bench, diagrams, experiments, plots, widgets

PAIRS = [("I am a student", "我 是 学生"), ("you are a teacher", "你 是 老师"), ("do you like tea?", "你 喜欢 茶 吗"),
         ("they study Chinese in the library today", "他们 今天 在 图书馆 学习 中文")]


@pytest.fixture(scope="module")
def vocab():
    return experiments.lm_vocabulary(PAIRS)


@pytest.fixture(scope="module")
def model(vocab):
    return experiments.build_decoder_only(len(vocab), seed=0, d_model=16, num_heads=2, num_layers=2, d_ff=32).eval()


def test_one_vocabulary_holds_both_languages_and_the_separator(vocab):
    assert vocab.tokens[:5] == ("<pad>", "<bos>", "<eos>", "<unk>", experiments.SEP)
    assert "student" in vocab and "学生" in vocab


def test_a_pair_becomes_one_sequence_and_only_the_chinese_part_is_scored(vocab):
    inputs, targets = experiments.lm_batch(vocab, PAIRS[:2])
    seq = experiments.lm_sequence(vocab, *PAIRS[0])                 # i am a student <sep> 我 是 学生 <eos>
    assert [vocab.tokens[i] for i in seq] == ["i", "am", "a", "student", "<sep>", "我", "是", "学生", "<eos>"]
    assert inputs[0].tolist() == seq[:-1]
    assert [vocab.tokens[i] for i in targets[0].tolist()] == ["<pad>"] * 4 + ["我", "是", "学生", "<eos>"]
    assert (targets[:, :4] == PAD).all() and (targets[0] != PAD).sum() == 4


def test_continuing_the_prompt_with_and_without_the_cache_agrees(model, vocab):
    prompts = torch.tensor([experiments.lm_sequence(vocab, en) for en in ("I am a student", "you are a teacher")])
    result = experiments.kv_cache_agreement(model, prompts, 6)
    assert result["same_tokens"] and result["max_logit_difference"] < 1e-5 and result["steps"] >= 1


def test_generating_by_reruns_without_a_cache_equals_cached_greedy_generation(model, vocab):
    sentences = [en for en, _ in PAIRS]
    by_reruns = experiments.generate_without_mask(model, vocab, sentences)
    assert by_reruns == experiments.continue_prompts(model, vocab, sentences)


def test_exact_match_and_translate_report_words_the_model_does_not_know(model, vocab):
    result = experiments.exact_match(model, vocab, PAIRS)
    assert result["total"] == 4 and result["correct"] + len(result["mistakes"]) == 4
    with pytest.raises(ValueError, match="unknown English word"):
        experiments.translate(model, vocab, "I am a astronaut")


def test_rope_scores_do_not_move_when_every_position_shifts_and_added_codes_do():
    assert max(experiments.rope_shift_check()["differences"].values()) < 1e-12
    assert min(experiments.sinusoidal_shift_check()["differences"].values()) > 1.0
    scores = experiments.fixed_offset_scores(starts=range(0, 40))
    assert max(scores["rope"]) - min(scores["rope"]) < 1e-10
    assert max(scores["sinusoidal"]) - min(scores["sinusoidal"]) > 1.0


def test_the_memory_comparison_counts_what_no_training_sentence_holds(model, vocab):
    result = experiments.memory_vs_model(model, vocab, PAIRS[:3], PAIRS[3:])
    assert result["total"] == 1 and result["test_in_training"] == 0 and result["memory_correct"] == 0
    assert len(result["outputs"]) == 1 and len(result["recalled"]) == 1


def test_the_first_step_distribution_keeps_what_top_k_and_top_p_allow(model, vocab):
    full = experiments.first_step_distribution(model, vocab, "I am a student")
    assert full["kept"] == len(vocab)
    assert experiments.first_step_distribution(model, vocab, "I am a student", top_k=3)["kept"] == 3
    nucleus = experiments.first_step_distribution(model, vocab, "I am a student", top_p=0.5)
    ranked = full["model"].sort(descending=True).values
    assert nucleus["kept"] == int((ranked.cumsum(0) - ranked < 0.5).sum())
    cold = experiments.first_step_distribution(model, vocab, "I am a student", temperature=0.05)
    assert cold["sampled"].max() > full["model"].max()


def test_sampling_is_seeded_and_a_low_temperature_gives_the_greedy_answer(model, vocab):
    settings = {"cold": dict(temperature=0.01), "hot": dict(temperature=3.0)}
    a = experiments.sampling_variety(model, vocab, "I am a student", "我 是 学生", settings, num_samples=12)
    b = experiments.sampling_variety(model, vocab, "I am a student", "我 是 学生", settings, num_samples=12)
    assert a == b
    greedy = experiments.continue_prompts(model, vocab, ["I am a student"])[0]
    assert a["cold"]["counts"] == {"".join(greedy): 12}
    assert a["hot"]["distinct"] > 1


def test_the_generation_steps_append_each_chosen_token(model, vocab):
    steps = experiments.generation_steps(model, vocab, "I am a student")
    for before, after in zip(steps, steps[1:]):
        assert after["context"] == before["context"] + [before["chosen"]]
        assert before["chosen"] == vocab.tokens[int(before["probabilities"].argmax())]
    assert steps[0]["context"][-1] == experiments.SEP


def test_the_benchmark_times_both_ways_and_the_cache_advantage_grows_with_length():
    rows = experiments.kv_cache_benchmark(lengths=(8, 512), repeats=5, d_model=32, num_layers=2)
    assert [r["length"] for r in rows] == [8, 512] and all(r["cached"] > 0 and r["full"] > 0 for r in rows)
    assert rows[-1]["ratio"] > 2 * rows[0]["ratio"], rows            # generous: measured 10-30x on a busy machine
    text = bench.table(rows)
    assert "length" in text and "advantage grew" in text
    assert bench.main(["--lengths", "4", "16", "--repeats", "1", "--d-model", "16", "--layers", "1"]) == 0
    with pytest.raises(SystemExit):
        bench.main(["--lengths", "16", "4"])


def test_the_plots_return_figures(model, vocab, chinese_font):
    rows = [{"length": n, "cached": 1e-3, "full": n * 1e-4, "ratio": n / 10} for n in (8, 64)]
    assert isinstance(plots.kv_cache_costs(rows), Figure)
    assert isinstance(plots.loss_curves({"a": [3.0, 2.0, 1.0] * 10, "b": [2.0] * 30}), Figure)
    assert isinstance(plots.fixed_offset_plot(experiments.fixed_offset_scores(starts=range(5))), Figure)
    fig = Figure()
    plots.sampling_panels(fig, experiments.first_step_distribution(model, vocab, "I am a student"), vocab.tokens,
                          {"我是学生": 3, "我": 1}, "我是学生")
    assert len(fig.axes) == 2


def test_the_generation_widget_steps_through_the_loop(model, vocab, chinese_font):
    w = widgets.generation_widget(model, vocab, ["I am a student", "you are a teacher"])
    first = w.summary["context"]
    w.controls["step"].value = 1
    assert w.summary["context"] == first + [w.summary["context"][-1]] and "appends" in w.caption
    w.controls["step"].value = w.controls["step"].max                # the last step of the longest run
    assert w.summary["step"] == w.summary["steps"] - 1
    w.controls["sentence"].value = "you are a teacher"
    assert w.summary["context"][:3] == ["you", "are", "a"] and w.summary["step"] == w.summary["steps"] - 1


def test_the_sampling_widget_reports_what_its_filters_keep(model, vocab, chinese_font):
    w = widgets.sampling_widget(model, vocab, {"I am a student": "我 是 学生"}, num_samples=10)
    assert w.summary["kept"] == len(vocab)
    w.controls["top_k"].value = 2
    assert w.summary["kept"] == 2 and "top-k 2" in w.caption
    w.controls["top_k"].value = 0
    w.controls["top_p"].value = 0.05
    assert w.summary["kept"] == 1 and w.summary["distinct"] >= 1


def test_the_opening_picture_shows_no_mask_and_the_causal_mask():
    fig = diagrams.three_families()
    marks = [t.get_text() for t in fig.axes[0].texts if t.get_text() in ("✓", "×")]
    assert marks.count("✓") == 16 + 10 and marks.count("×") == 6
    text = " ".join(t.get_text() for t in fig.axes[0].texts)
    for words in ("BERT", "GPT", "Encoder-only", "Decoder-only", "Encoder-decoder", "causal mask", "cross-attention"):
        assert words in text, words


def test_the_corpus_sequences_fit_the_models_positions():
    vocab = experiments.lm_vocabulary(load_corpus("train"))
    inputs, _ = experiments.lm_batch(vocab, load_corpus("train") + load_corpus("test"))
    longest_prompt = max(len(experiments.lm_sequence(vocab, en)) for en, _ in load_corpus("test"))
    assert inputs.size(1) <= 64 and longest_prompt + longest_prompt + 8 <= 64       # build_decoder_only: max_len 64
    assert EOS not in inputs[:, 0].tolist()
    assert isinstance(generate, object)
