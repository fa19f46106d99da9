"""Lesson 07, training and generation (训练与生成): the experiments, plots and widgets the notebook uses.

The functions behind the notebook's claims, on one module-scoped model: the default training stopped after 2
epochs (a few seconds), an unsure model on which beam search and greedy often disagree (C12, second half).
Also: the one training step shown in the notebook is the one training uses; the layer and head weights of
C6; the memory baseline of the seed's "perfect memory" sentence; the figures and the decoding widget
(an empty translation is labelled). The claims about the fully trained translator (alignment, head diversity,
beam and greedy agreeing, new correct translations) are checked over 10 seeds in tests/test_claims.py.
"""
import math

import pytest
import torch
from matplotlib.figure import Figure

from transformer_lesson import train_translator
from transformer_lesson.lessons.lesson07_training_and_generation import experiments, plots, widgets
from transformer_lesson.capstone.config import TranslatorConfig
from transformer_lesson.capstone.data import TranslationDataset, build_vocabs, load_corpus
from transformer_lesson.capstone.training import (label_smoothing_floor, length_bucketed_batches, make_criterion,
                                                  make_optimizer, make_scheduler, small_embeddings, training_steps)

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


# ---- the training step shown in the notebook ----------------------------------------------------------

def test_the_training_loop_takes_exactly_the_steps_written_out_by_hand():
    """`training_steps` calls `train_step`; the losses must be those of the loop written out in full (as it was
    before the step was factored out), bit for bit, so showing the step changed no result."""
    pairs = load_corpus("train")[:96]
    src_vocab, tgt_vocab = build_vocabs(pairs)
    dataset = TranslationDataset(pairs, src_vocab, tgt_vocab)
    config = TranslatorConfig(d_model=16, num_heads=2, num_layers=1, d_ff=32, batch_size=32, warmup=4)

    def fresh():
        torch.manual_seed(0)
        model = config.build_model(len(src_vocab), len(tgt_vocab))
        small_embeddings(model, 0.02)
        return model

    shown = [info.loss for info in training_steps(fresh(), dataset, epochs=2, batch_size=32, lr_factor=1.0,
                                                  warmup=4, seed=0)]
    model = fresh()
    criterion, optimizer = make_criterion(0.1), make_optimizer(model)
    scheduler, order = make_scheduler(optimizer, model.d_model, 4, 1.0), torch.Generator().manual_seed(0)
    model.train()
    by_hand = []
    for _ in range(2):
        for rows in length_bucketed_batches(dataset, 32, order):
            src, tgt_in, tgt_out = dataset.batch(rows)
            logits = model(src, tgt_in)
            loss = criterion(logits.reshape(-1, logits.size(-1)), tgt_out.reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            by_hand.append(loss.item())
    assert len(shown) == 6 and shown == by_hand


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


def test_head_diversity_names_each_row_by_its_module_in_the_model(translator):
    result = experiments.head_diversity(translator, ["I am a student"])
    modules = [row["module"] for row in result["modules"]]
    assert modules[:2] == ["encoder.layers.0.self_attn", "encoder.layers.1.self_attn"]
    assert "decoder.layers.0.cross_attn" in modules and len(set(modules)) == len(modules)


def test_layer_heads_labels_queries_and_keys_by_the_kind_of_attention(translator):
    translation = translator.translate_tokens(REORDERED)
    english, produced, read = REORDERED.lower().split(), translation + ["<eos>"], ["<bos>"] + translation
    h = translator.config.num_heads
    for module, queries, keys in (("encoder.layers.1.self_attn", english, english),
                                  ("decoder.layers.0.self_attn", produced, read),
                                  ("decoder.layers.1.cross_attn", produced, english)):
        heads = experiments.layer_heads(translator, REORDERED, module)
        assert heads["queries"] == queries and heads["keys"] == keys
        assert heads["weights"].shape == (h, len(queries), len(keys))
        torch.testing.assert_close(heads["weights"].sum(-1), torch.ones(h, len(queries)))
    with pytest.raises(ValueError, match="attention modules"):
        experiments.layer_heads(translator, REORDERED, "decoder 1 cross")      # the label, not the module


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
    assert result["disagree"] == len(result["differ"]) >= result["beam_higher"] + result["beam_lower"]


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


# ---- the seed's "perfect memory" sentence ------------------------------------------------------------------

MEMORY = [(["you", "are", "a", "student"], "你是学生"), (["are", "you", "a", "student"], "你是学生吗"),
          (["he", "drinks", "tea"], "他喝茶")]


def test_the_nearest_training_pair_shares_the_most_words_then_their_order():
    assert experiments.nearest_training_pair(["he", "drinks", "tea", "today"], MEMORY)[1] == "他喝茶"
    assert experiments.nearest_training_pair(["are", "you", "a", "nurse"], MEMORY)[1] == "你是学生吗"  # the question
    assert experiments.nearest_training_pair(["you", "are", "a", "nurse"], MEMORY)[1] == "你是学生"
    assert experiments.nearest_training_pair(["we", "like", "rice"], MEMORY) == MEMORY[2]    # none shared: fewest apart
    assert experiments.nearest_training_pair(["a", "b"], MEMORY[:2]) == MEMORY[0]                # all equal: the first


def test_recall_from_memory_counts_exact_recalls_distances_and_unknown_words():
    train = [("you are a student", "你 是 学生"), ("he drinks tea", "他 喝 茶")]
    test = [("you are a student", "你 是 学生"), ("he drinks tea today", "他 今天 喝 茶"), ("I like jazz", "我 喜欢 爵士")]
    memory = experiments.recall_from_memory(train, test)
    assert memory["total"] == 3 and memory["memory_correct"] == 1          # only the sentence it has stored
    assert memory["unshared"] == {0: 1, 1: 1, 6: 1}
    assert memory["unknown_words"] == ["i", "jazz", "like", "today"]
    assert memory["rows"][1] == ("he drinks tea today", "他今天喝茶", "he drinks tea", "他喝茶")
    with pytest.raises(TypeError, match="test_pairs"):
        experiments.recall_from_memory(train, "he drinks tea")


def test_the_memory_gets_no_held_out_sentence_of_the_corpus_right():
    memory = experiments.recall_from_memory(load_corpus("train"), load_corpus("test"))
    assert memory["memory_correct"] == 0 and memory["unknown_words"] == []
    assert sum(memory["unshared"].values()) == memory["total"] == 340 and max(memory["unshared"]) <= 2


def test_new_translations_tells_sentences_seen_in_training_from_new_ones(translator, test_pairs):
    pairs = test_pairs[:30]
    fresh = experiments.new_translations(translator, load_corpus("train"), pairs)
    assert fresh["outputs"] == [translator.translate(english) for english, _ in pairs]
    right = sum(out == zh.replace(" ", "") for out, (_, zh) in zip(fresh["outputs"], pairs))
    assert fresh["correct"] == right and fresh["new_and_correct"] <= right
    seen = experiments.new_translations(translator, pairs, pairs)          # trained on exactly these sentences
    assert seen["new_and_correct"] == 0 and seen["seen"] >= seen["correct"] == right


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


def test_an_empty_translation_gets_a_label_in_the_bars_and_the_caption(translator, monkeypatch):
    choices = {"beam": [("", -0.1, -0.2), ("乙", -0.5, -0.7)], "greedy": ("", -0.2),
               "samples": [("", -0.2)], "sample_counts": {"": 1},
               "beam_size": 2, "length_penalty": 0.6, "temperature": 1.0}
    labels = [t.get_text() for t in plots.decoding_bars(choices).axes[0].get_yticklabels()]
    assert labels[0] == plots.EMPTY_TRANSLATION == "(empty: <eos> at once)" and "" not in labels
    monkeypatch.setattr(experiments, "decoding_choices", lambda *args, **kwargs: choices)
    w = widgets.decoding_widget(translator, ["I am a student"])
    assert "greedy: (empty: &lt;eos&gt; at once)" in w.caption and w.summary["greedy"] == ""


def test_attention_heads_draws_one_panel_per_head_and_checks_the_shape():
    fig = plots.attention_heads(torch.full((3, 2, 4), 0.25), ["我", "<eos>"], list("abcd"))
    assert len(fig.axes) == 3
    with pytest.raises(ValueError, match=r"\(h, T_q, T_k\)"):
        plots.attention_heads(torch.full((3, 4, 2), 0.5), ["我", "<eos>"], list("abcd"))
    both = plots.heads_of_layers({"a": {"weights": torch.full((2, 2, 4), 0.25), "queries": ["x", "y"],
                                        "keys": list("abcd")},
                                  "b": {"weights": torch.full((2, 3, 3), 1 / 3), "queries": list("xyz"),
                                        "keys": list("xyz")}})
    assert len(both.axes) == 4
