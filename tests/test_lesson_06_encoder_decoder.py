"""Lesson 06 (encoder and decoder): the decoder cannot look ahead (C10), cross-attention's shape, the output
scores the target vocabulary, the first-word entropy, the paper's parameter counts per component, the model
equals nn.Transformer with copied weights, and the widget."""
import math

import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from transformer_lesson import Transformer, causal_mask, sinusoidal_encoding
from transformer_lesson.lessons.lesson06_encoder_decoder import experiments, plots, widgets
from transformer_lesson.capstone.data import build_vocabs, load_corpus, tokenize_chinese, tokenize_english


pytestmark = pytest.mark.usefixtures("chinese_font")  # tests/conftest.py


@pytest.fixture(scope="module")
def vocabs():
    return build_vocabs(load_corpus("train"))


def lesson_model(vocabs, seed=0, **kw):
    src_vocab, tgt_vocab = vocabs
    torch.manual_seed(seed)
    args = dict(d_model=32, num_heads=4, num_encoder_layers=2, num_decoder_layers=2, d_ff=64, dropout=0.0)
    args.update(kw)
    return Transformer(len(src_vocab), len(tgt_vocab), **args).eval()


def library_sentence(vocabs):
    src_vocab, tgt_vocab = vocabs
    src = torch.tensor([src_vocab.encode(tokenize_english("they study Chinese in the library today"))])
    tgt_in = torch.tensor([tgt_vocab.encode(tokenize_chinese("他们 今天 在 图书馆 学习 中文"), add_bos=True)])
    return src, tgt_in


@pytest.mark.parametrize("seed", [0, 1])
def test_changing_a_future_target_token_leaves_every_earlier_output_exactly_unchanged(vocabs, seed):
    model = lesson_model(vocabs, seed)
    src, tgt_in = library_sentence(vocabs)
    school = vocabs[1]["学校"]
    for position in range(1, tgt_in.size(1)):
        effect = experiments.future_token_effect(model, src, tgt_in, position, school)
        assert effect["earlier_max"] == 0.0                        # exactly, not approximately
        assert effect["later_min"] > 0.0                           # the changed position and later ones move
        assert effect["changes"][:position] == [0.0] * position


def test_without_the_causal_mask_earlier_outputs_change(vocabs):
    model = lesson_model(vocabs)
    src, tgt_in = library_sentence(vocabs)
    effect = experiments.future_token_effect(model, src, tgt_in, 4, vocabs[1]["学校"], causal=False)
    assert min(effect["changes"][:4]) > 1e-3


def test_future_token_effect_rejects_an_unchanged_token_and_a_bad_position(vocabs):
    model = lesson_model(vocabs)
    src, tgt_in = library_sentence(vocabs)
    with pytest.raises(ValueError, match="differ"):
        experiments.future_token_effect(model, src, tgt_in, 4, int(tgt_in[0, 4]))
    with pytest.raises(ValueError, match="position in 0..6"):
        experiments.future_token_effect(model, src, tgt_in, 7, vocabs[1]["学校"])


def test_future_token_effect_leaves_the_model_in_its_mode(vocabs):
    model = lesson_model(vocabs).train()
    src, tgt_in = library_sentence(vocabs)
    experiments.future_token_effect(model, src, tgt_in, 3, vocabs[1]["学校"])
    assert model.training


def test_decoder_logits_equal_the_model_forward_pass(vocabs):
    model = lesson_model(vocabs)
    src, tgt_in = library_sentence(vocabs)
    with torch.no_grad():
        torch.testing.assert_close(experiments.decoder_logits(model, src, tgt_in), model(src, tgt_in))


def test_the_encoder_input_is_embedding_times_sqrt_d_model_plus_positional_encoding(vocabs):
    model = lesson_model(vocabs)
    src, _ = library_sentence(vocabs)
    with torch.no_grad():
        x = model.src_embed(src) * math.sqrt(32) + sinusoidal_encoding(src.size(1), 32)
        torch.testing.assert_close(model.encoder(x, model.source_mask(src)), model.encode(src))


def test_cross_attention_weights_are_L_h_T_S_and_each_row_sums_to_one(vocabs):
    model = lesson_model(vocabs)
    src, tgt_in = library_sentence(vocabs)
    weights = experiments.cross_attention_weights(model, src, tgt_in)
    assert weights.shape == (2, 4, tgt_in.size(1), src.size(1))
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 4, tgt_in.size(1)))
    assert weights[-1].mean(0).max() < 0.35                       # untrained: nearly uniform, as the notebook says


def test_the_output_scores_every_token_of_the_target_vocabulary_not_the_source_one(vocabs):
    model = lesson_model(vocabs)
    src, tgt_in = library_sentence(vocabs)
    logits = experiments.decoder_logits(model, src, tgt_in)
    assert len(vocabs[0]) != len(vocabs[1])                         # so a generator sized by the source would show
    assert logits.shape == (1, tgt_in.size(1), len(vocabs[1]))


def test_first_word_entropy_is_that_of_the_distribution_and_at_most_log_V(vocabs):
    model = lesson_model(vocabs)
    src, tgt_in = library_sentence(vocabs)
    result = experiments.first_word_entropy(model, src, tgt_in)
    probs = experiments.decoder_logits(model, src, tgt_in)[0, 0].softmax(-1)
    assert result["log_V"] == pytest.approx(math.log(len(vocabs[1])))
    assert result["entropy"] == pytest.approx(torch.distributions.Categorical(probs=probs).entropy().item(), rel=1e-5)
    assert 0 < result["entropy"] <= result["log_V"]
    assert result["largest"] == pytest.approx(probs.max().item())


PAPER = {"base": dict(d_model=512, num_heads=8, d_ff=2048), "big": dict(d_model=1024, num_heads=16, d_ff=4096)}


@pytest.mark.parametrize("size, total", [("base", 63_119_496), ("big", 214_282_376)])
def test_the_papers_models_counted_per_component_equal_the_formula(size, total):
    """Built on the meta device (shapes, no memory), with one shared vocabulary of 37,000 tokens."""
    with torch.device("meta"):
        model = Transformer(37_000, 37_000, share_embeddings=True, **PAPER[size])
    counted = experiments.parameters_by_component(model)
    formula = experiments.parameter_formula(37_000, PAPER[size]["d_model"], PAPER[size]["d_ff"], 6)
    assert counted == formula                                         # every component, not only the total
    assert sum(counted.values()) == total == sum(p.numel() for p in model.parameters())


def test_parameters_by_component_adds_up_to_every_parameter_of_any_course_model(vocabs):
    model = lesson_model(vocabs, norm_first=True)                     # unshared, with final LayerNorms
    counted = experiments.parameters_by_component(model)
    assert sum(counted.values()) == sum(p.numel() for p in model.parameters())
    V_src, V_tgt = len(vocabs[0]), len(vocabs[1])
    assert counted["source embedding"] == V_src * 32 and counted["target embedding"] == V_tgt * 32
    assert counted["output weight"] == V_tgt * 32 and counted["encoder final LayerNorm"] == 2 * 32
    with pytest.raises(TypeError, match="course's Transformer"):
        experiments.parameters_by_component(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="d_ff"):
        experiments.parameter_formula(100, 32, 0, 2)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("norm_first", [False, True])
def test_copying_nn_transformer_weights_gives_the_same_logits(vocabs, norm_first):
    torch.manual_seed(1)
    theirs = nn.Transformer(32, 4, 2, 2, 64, dropout=0.0, batch_first=True, norm_first=norm_first).eval()
    with torch.no_grad():                                          # non-trivial final norms, so a missed copy shows
        for norm in (theirs.encoder.norm, theirs.decoder.norm):
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.uniform_(-0.5, 0.5)
    ours = lesson_model(vocabs, norm_first=norm_first, final_norm=True)
    src, tgt_in = library_sentence(vocabs)
    T = tgt_in.size(1)
    with torch.no_grad():
        x = ours.positional(ours.src_embed(src) * math.sqrt(32))
        y = ours.positional(ours.tgt_embed(tgt_in) * math.sqrt(32))
        expected = ours.generator(theirs(x, y, tgt_mask=~causal_mask(T)))
        assert not torch.allclose(ours(src, tgt_in), expected, atol=1e-3)
        copied = experiments.copy_nn_transformer_weights(ours, theirs)
        torch.testing.assert_close(ours(src, tgt_in), expected)
    assert copied == [("encoder.layers.0", "encoder.layers.0"), ("encoder.layers.1", "encoder.layers.1"),
                      ("encoder.norm", "encoder.norm"), ("decoder.layers.0", "decoder.layers.0"),
                      ("decoder.layers.1", "decoder.layers.1"), ("decoder.norm", "decoder.norm")]


def test_copying_needs_final_norms_and_matching_depths(vocabs):
    theirs = nn.Transformer(32, 4, 2, 2, 64, dropout=0.0, batch_first=True)
    with pytest.raises(ValueError, match="final_norm=True"):
        experiments.copy_nn_transformer_weights(lesson_model(vocabs), theirs)
    with pytest.raises(ValueError, match="same number of encoder layers"):
        experiments.copy_nn_transformer_weights(lesson_model(vocabs, num_encoder_layers=3, final_norm=True), theirs)
    with pytest.raises(TypeError, match="torch.nn.Transformer"):
        experiments.copy_nn_transformer_weights(lesson_model(vocabs, final_norm=True), nn.Linear(2, 2))


def test_next_token_bars_adds_the_target_when_it_is_not_among_the_likeliest():
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    fig = plots.next_token_bars(probs, ["a", "b", "c", "d"], target="d", k=2)
    assert isinstance(fig, Figure)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["a", "b", "d"]                                 # likeliest first (on top), then the target
    with pytest.raises(ValueError, match="one probability per vocabulary token"):
        plots.next_token_bars(probs, ["a", "b"])


def test_future_token_widget_shows_which_outputs_change_for_the_chosen_position(vocabs):
    model = lesson_model(vocabs)
    src, tgt_in = library_sentence(vocabs)
    tokens = ["<bos>"] + "他们 今天 在 图书馆 学习 中文".split()
    w = widgets.future_token_widget(model, src, tgt_in, tokens, vocabs[1]["学校"], "学校", position=4)
    assert w.summary["unchanged_with_mask"] == [0, 1, 2, 3]
    assert w.summary["changed_without_mask_before"] == [0, 1, 2, 3]
    assert "图书馆 → 学校" in w.caption
    w.controls["position"].value = 2
    assert w.summary["position"] == 2
    assert w.summary["unchanged_with_mask"] == [0, 1]
    assert "在 → 学校" not in w.caption and "今天 → 学校" in w.caption
    assert w.renders == 2 and w.last_render_seconds > 0
    assert w.image.value[:8] == b"\x89PNG\r\n\x1a\n"
