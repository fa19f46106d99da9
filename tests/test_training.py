"""Training the capstone translator, the Translator's files and errors, and the command line."""
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import transformer_lesson
from transformer_lesson import Translator, greedy_decode, train_translator
from transformer_lesson.capstone.cli import default_model_path, main as cli_main
from transformer_lesson.capstone.bench import TorchTransformerModel
from transformer_lesson.capstone.data import PAD, TranslationDataset, build_vocabs, load_corpus
from transformer_lesson.capstone.training import (label_smoothing_floor, length_bucketed_batches, make_criterion,
                                                  make_optimizer, make_scheduler, warmup_learning_rate)
from transformer_lesson.capstone.translator import evaluate
from transformer_lesson.runtime import torch_threads

REPO = Path(__file__).resolve().parents[1]

# A tiny corpus with the course's shapes: be-sentences, negation, a question, a reordered time phrase.
TINY_PAIRS = [
    ("I am a student", "我 是 学生"),
    ("I am not a student", "我 不 是 学生"),
    ("you are a teacher", "你 是 老师"),
    ("are you a teacher?", "你 是 老师 吗"),
    ("he drinks tea", "他 喝 茶"),
    ("he drinks tea today", "他 今天 喝 茶"),
    ("she eats apples", "她 吃 苹果"),
    ("do you like tea?", "你 喜欢 茶 吗"),
]
TINY = dict(d_model=16, num_heads=2, num_layers=1, d_ff=32, dropout=0.0, epochs=40, batch_size=8,
            lr_factor=1.0, warmup=10)


def train_tiny(seed=0, **overrides):
    return train_translator(seed=seed, progress=False, pairs=TINY_PAIRS, **{**TINY, **overrides})


@pytest.fixture(scope="module")
def tiny():
    return train_tiny()


@pytest.fixture(scope="module")
def tiny_file(tiny, tmp_path_factory):
    return tiny.save(tmp_path_factory.mktemp("model") / "tiny.pt")


def test_training_lowers_the_loss(tiny):
    loss = tiny.history["loss"]
    assert len(loss) == TINY["epochs"] == tiny.history["steps"]          # one batch per epoch
    assert sum(loss[-4:]) / 4 < 0.5 * sum(loss[:4]) / 4
    assert len(tiny.history["epoch_loss"]) == TINY["epochs"]
    assert all(math.isfinite(x) for x in loss)


def test_tiny_model_learns_its_training_sentences(tiny):
    result = evaluate(tiny, TINY_PAIRS)
    assert result["total"] == len(TINY_PAIRS)
    assert result["accuracy"] >= 0.75, result["mistakes"]
    assert result["correct"] == round(result["accuracy"] * len(TINY_PAIRS))
    assert len(result["mistakes"]) == len(TINY_PAIRS) - result["correct"]
    assert result["mean_log_prob"] <= 0


def test_evaluate_counts_a_wrong_reference_as_a_mistake(tiny):
    got = tiny.translate_tokens("I am a student")
    wrong = " ".join(got + ["吗"])
    result = evaluate(tiny, [("I am a student", wrong), ("I am a student", " ".join(got))])
    assert result["correct"] == 1                       # spaces in the reference do not matter
    assert result["mistakes"] == [("I am a student", "".join(got) + "吗", "".join(got))]


def test_training_is_deterministic_for_a_seed():
    a, b, c = train_tiny(seed=3, epochs=5), train_tiny(seed=3, epochs=5), train_tiny(seed=4, epochs=5)
    assert a.history["loss"] == b.history["loss"]
    for (name, p), q in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(p, q), name
    assert a.history["loss"] != c.history["loss"]


def test_training_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_tiny(epochs=1)
    assert torch.equal(torch.rand(3), expected)


def test_history_records_steps_and_learning_rates(tiny):
    h = tiny.history
    assert len(h["lr"]) == len(h["loss"])
    peak = max(range(len(h["lr"])), key=h["lr"].__getitem__)
    assert peak == TINY["warmup"] - 1                    # the lr of step `warmup` (1-based) is the largest
    assert h["seconds"] > 0 and h["stopped_early"] is False


def test_thread_setting_is_restored_after_training():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    train_tiny(epochs=1, threads=1)
    assert torch.get_num_threads() == before


def test_time_budget_stops_training_early():
    translator = train_tiny(epochs=10_000, time_budget=0.2)
    assert translator.history["stopped_early"] is True
    assert translator.history["steps"] < 10_000


def test_length_bucketed_batches_cover_every_pair_once_with_little_padding():
    pairs = load_corpus("train")
    src_vocab, tgt_vocab = build_vocabs(pairs)
    dataset = TranslationDataset(pairs, src_vocab, tgt_vocab)
    batches = length_bucketed_batches(dataset, 64, torch.Generator().manual_seed(0))
    rows = torch.cat(batches)
    assert sorted(rows.tolist()) == list(range(len(pairs)))
    real = sum(int(dataset.src_lengths[b].sum()) for b in batches)
    padded = sum(len(b) * int(dataset.src_lengths[b].max()) for b in batches)
    assert real / padded > 0.9                                          # sorted pools: under 10% padding
    again = length_bucketed_batches(dataset, 64, torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(batches, again))


def test_torch_baseline_of_the_benchmark_trains_and_decodes():
    torch.manual_seed(0)
    model = TorchTransformerModel(20, 12, d_model=16, num_heads=2, num_layers=1, d_ff=32, dropout=0.0)
    src = torch.tensor([[4, 5, 6, 0], [7, 8, 0, 0]])
    tgt = torch.tensor([[1, 4, 5], [1, 6, 0]])
    assert model(src, tgt).shape == (2, 3, 12)
    assert isinstance(model.encoder, torch.nn.TransformerEncoder) and isinstance(model.decoder, torch.nn.TransformerDecoder)
    # padding in the source changes nothing for the real tokens, as in the course model
    alone = model(src[1:, :2], tgt[1:])
    assert torch.allclose(model(src, tgt)[1], alone[0], atol=1e-5)
    hyps = greedy_decode(model, src, max_len=5)
    assert len(hyps) == 2


def test_learning_rate_rises_then_falls_with_peak_at_warmup():
    rates = [warmup_learning_rate(step, d_model=64, warmup=100, factor=2.0) for step in range(1, 1001)]
    peak = max(range(len(rates)), key=rates.__getitem__) + 1
    assert peak == 100
    assert all(a < b for a, b in zip(rates[:99], rates[1:100]))       # linear rise
    assert all(a > b for a, b in zip(rates[99:-1], rates[100:]))       # 1 / sqrt(step) decay
    assert rates[99] == pytest.approx(2.0 * 64 ** -0.5 * 100 ** -0.5)
    assert rates[399] == pytest.approx(rates[99] / 2)                  # 4x the steps, half the rate


def test_scheduler_follows_the_formula():
    model = torch.nn.Linear(2, 2)
    model.d_model = 64
    optimizer = make_optimizer(model)
    scheduler = make_scheduler(optimizer, d_model=64, warmup=10, factor=1.0)
    seen = []
    for _ in range(30):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert seen == pytest.approx([warmup_learning_rate(s, 64, 10) for s in range(1, 31)])


def test_optimizer_and_loss_use_the_papers_settings():
    optimizer = make_optimizer(torch.nn.Linear(2, 2))
    assert optimizer.param_groups[0]["betas"] == (0.9, 0.98)
    assert optimizer.param_groups[0]["eps"] == 1e-9
    criterion = make_criterion()
    assert criterion.label_smoothing == 0.1 and criterion.ignore_index == PAD


def test_label_smoothing_floor_is_the_loss_of_the_best_possible_prediction():
    V, eps = 44, 0.1
    target = torch.tensor([5])
    best = torch.full((1, V), eps / V)
    best[0, 5] += 1 - eps
    loss = make_criterion(eps)(best.log(), target)            # logits = log of the smoothed target itself
    assert label_smoothing_floor(V, eps) == pytest.approx(loss.item(), rel=1e-5)
    assert label_smoothing_floor(V, 0.0) == 0.0


def test_label_smoothing_is_recorded_in_the_config(tiny):
    assert tiny.config.label_smoothing == 0.1


def test_translate_joins_chinese_and_accepts_capitals_and_punctuation(tiny):
    assert tiny.translate("I am a student") == "我是学生"
    assert tiny.translate("  i AM a Student. ") == tiny.translate("I am a student")
    assert tiny.translate_tokens("I am a student") == ["我", "是", "学生"]
    assert tiny.translate("Do you like tea?") == tiny.translate("do you like tea")


def test_unknown_words_are_named(tiny):
    with pytest.raises(ValueError, match=r"unknown English word\(s\): 'xylophone'.*knows \d+ words"):
        tiny.translate("I am a xylophone")
    with pytest.raises(ValueError, match=r"'studnet' \(did you mean 'student'\?\)"):
        tiny.translate("I am a studnet")
    with pytest.raises(ValueError, match="at least one word"):
        tiny.translate("?!")


def test_alternatives_are_sorted_and_start_with_the_beam_translation(tiny):
    options = tiny.alternatives("I am a student", beam_size=3)
    assert 1 <= len(options) <= 3
    scores = [score for _, score, _ in options]
    assert scores == sorted(scores, reverse=True)
    assert options[0][0] == tiny.translate("I am a student", beam_size=3)
    assert all(log_prob <= 0 for _, _, log_prob in options)


def test_save_and_load_round_trip_translates_the_same(tiny, tiny_file):
    loaded = Translator.load(tiny_file)
    for english, _ in TINY_PAIRS:
        assert loaded.translate(english) == tiny.translate(english)
    for english, _ in TINY_PAIRS[:3]:
        assert loaded.alternatives(english) == tiny.alternatives(english)
    assert loaded.history["loss"] == tiny.history["loss"]
    assert loaded.config == tiny.config
    for (name, p), q in zip(tiny.model.state_dict().items(), loaded.model.state_dict().values()):
        assert torch.equal(p, q), name


def test_load_missing_file_names_it(tmp_path):
    missing = tmp_path / "nowhere.pt"
    with pytest.raises(FileNotFoundError, match="nowhere.pt"):
        Translator.load(missing)


@pytest.mark.parametrize("content", [b"", b"not a model at all", b"PK\x03\x04 broken zip"])
def test_load_corrupt_file_says_so(tmp_path, content):
    path = tmp_path / "corrupt.pt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a transformer_lesson translator file: .*corrupt.pt"):
        Translator.load(path)


def test_load_unrelated_torch_file_says_so(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not a transformer_lesson translator file"):
        Translator.load(path)


def test_train_translator_is_exported_from_the_top_level():
    assert transformer_lesson.train_translator is train_translator
    assert transformer_lesson.Translator is Translator


def run_cli(*args):
    """`python -m transformer_lesson ...` in a fresh interpreter, as a learner would type it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "transformer_lesson", *args], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=300)


def test_cli_help_describes_translate():
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    assert "translate" in result.stdout


def test_cli_translate_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["translate", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--beam", "--model", "--retrain", "--length-penalty"):
        assert option in out


def test_cli_translates_with_a_saved_model(tiny, tiny_file):
    result = run_cli("translate", "--model", str(tiny_file), "I am a student", "Do you like tea?")
    assert result.returncode == 0, result.stderr
    assert "我是学生" in result.stdout
    assert tiny.translate("Do you like tea?", beam_size=4) in result.stdout
    assert "score" in result.stdout and "log P" in result.stdout


def test_cli_unknown_word_exits_with_status_2(tiny_file, capsys):
    assert cli_main(["translate", "--model", str(tiny_file), "I am a xylophone"]) == 2
    assert "xylophone" in capsys.readouterr().err


def test_cli_corrupt_model_file_is_an_error_not_overwritten(tmp_path, capsys):
    path = tmp_path / "broken.pt"
    path.write_bytes(b"garbage")
    assert cli_main(["translate", "--model", str(path), "I am a student"]) == 1
    assert "not a transformer_lesson translator file" in capsys.readouterr().err
    assert path.read_bytes() == b"garbage"


def test_cli_default_model_lives_in_the_cache_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = default_model_path()
    assert path.parent == tmp_path / "transformer_lesson"
    assert path.name == f"translator-{transformer_lesson.__version__}.pt"


# ---------------------------------------------------------------------------------------------------
# SLOW (about 10-15 s): the capstone's acceptance criterion, with the default settings.
# ---------------------------------------------------------------------------------------------------

def test_SLOW_default_training_reaches_98_percent_on_the_held_out_split():
    start = time.perf_counter()
    translator = train_translator(seed=0, progress=False)
    test = evaluate(translator, load_corpus("test"))
    assert test["accuracy"] >= 0.98, test["mistakes"]
    assert translator.history["test"]["accuracy"] == test["accuracy"]
    # word order matters: the same words make a statement or a question
    assert translator.translate("I am a student") == "我是学生"
    assert translator.translate("Am I a student?") == "我是学生吗"
    assert translator.translate("you are a nurse") == "你是护士"          # held out, in every form
    assert translator.translate("Are you a nurse?") == "你是护士吗"
    assert translator.translate("Do you like tea?") == "你喜欢茶吗"
    reordered = translator.translate("They study Chinese in the library today", beam_size=4)
    assert reordered == "他们今天在图书馆学习中文"                     # time and place move before the verb
    print(f"default training: {translator.history['seconds']:.1f} s, held-out exact match "
          f"{test['accuracy']:.1%}, {time.perf_counter() - start:.1f} s with evaluation")
