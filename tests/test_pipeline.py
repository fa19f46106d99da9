"""The six-step trace of a translation agrees with the model's own encode/decode/greedy path."""
import math

import pytest
import torch

from transformer_lesson import greedy_decode
from transformer_lesson.capstone.pipeline import trace_translation
from transformer_lesson.capstone.training import train_translator

PAIRS = [("I am a student", "我 是 学生"), ("you are a teacher", "你 是 老师"), ("he is a doctor", "他 是 医生"),
         ("she is a nurse", "她 是 护士"), ("I am a teacher", "我 是 老师"), ("you are a student", "你 是 学生")]


@pytest.fixture(scope="module")
def translator():
    return train_translator(seed=0, progress=False, pairs=PAIRS * 8, d_model=16, num_heads=2, num_layers=1,
                            d_ff=32, epochs=20, batch_size=16, warmup=20)


def test_trace_shapes_follow_the_six_steps(translator):
    trace = trace_translation(translator, "I am a student")
    S, d, T = 4, 16, len(trace.target_tokens) + 1
    assert trace.ids.shape == (1, S)
    for tensor in (trace.embedded, trace.with_positions, trace.memory):
        assert tensor.shape == (1, S, d)
    assert trace.decoder_states.shape == (1, T, d)
    assert trace.probabilities.shape == (1, T, len(translator.tgt_vocab))


def test_trace_agrees_with_the_translator_and_greedy_decoding(translator):
    trace = trace_translation(translator, "You are a teacher.")
    assert trace.translation == translator.translate("You are a teacher.")
    hyp = greedy_decode(translator.model, trace.ids)[0]
    assert sum(math.log(p) for p in trace.chosen_probabilities) == pytest.approx(hyp.log_prob, abs=1e-4)
    torch.testing.assert_close(trace.probabilities.sum(-1), torch.ones(1, len(trace.chosen_probabilities)))


def test_positional_step_adds_the_encoding_to_the_scaled_embeddings(translator):
    trace = trace_translation(translator, "I am a student")
    pe = translator.model.positional.pe[:4]
    torch.testing.assert_close(trace.with_positions[0] - trace.embedded[0], pe)


def test_table_lists_the_six_steps_and_the_translation(translator):
    table = trace_translation(translator, "I am a student").table()
    for name in ("词元嵌入", "位置编码", "编码器", "解码器", "输出分布", "生成"):
        assert name in table
    assert table.strip().endswith(translator.translate("I am a student"))


def test_bad_input_is_explained(translator):
    with pytest.raises(TypeError, match="transformer_lesson.Translator"):
        trace_translation(translator.model, "I am a student")
    with pytest.raises(ValueError, match="unknown English word"):
        trace_translation(translator, "I am a xylophone")
