"""Fault injection: nothing a learner does loses their work or gets a wrong diagnosis (issue 11).

Full disks, read-only folders, a folder or a file in the way, saves killed halfway, concurrent saves and
loads, flipped bytes, NaN weights, hostile configurations, learner code that changes its inputs in place
or never stops, float16, and every value that used to pass unchecked. The whole module runs in a few
seconds: faults are simulated (monkeypatching, a file-size limit in a child process), never waited for.
"""
from __future__ import annotations

import errno
import io
import math
import os
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import transformer_lesson
from transformer_lesson import (EncoderLayer, LayerNorm, MultiHeadAttention, PositionalEncoding,
                                PositionwiseFeedForward, Transformer, Translator, beam_search, checks,
                                greedy_decode, padding_mask, scaled_dot_product_attention, sinusoidal_encoding,
                                train_translator)
from transformer_lesson.capstone import files as _files
from transformer_lesson.capstone import cli
from transformer_lesson.capstone.cli import main as cli_main
from transformer_lesson.capstone.data import load_pairs

REPO = Path(__file__).resolve().parents[1]
PAIRS = [("I am a student", "我 是 学生"), ("you are a teacher", "你 是 老师"), ("he drinks tea", "他 喝 茶"),
         ("do you like tea?", "你 喜欢 茶 吗")]


@pytest.fixture(scope="module")
def tiny():
    return train_translator(seed=0, progress=False, pairs=PAIRS, d_model=16, num_heads=2, num_layers=1, d_ff=32,
                            epochs=30, batch_size=4, lr_factor=1.0, warmup=10)


@pytest.fixture
def fake_training(tiny, monkeypatch):
    """The CLI's training, replaced by the tiny translator (counting the calls), so a test takes milliseconds."""
    calls = []

    def train(seed=0, progress=True, **kwargs):
        calls.append(seed)
        time.sleep(0.3)                                  # long enough for a second run to arrive meanwhile
        return tiny
    monkeypatch.setattr(cli, "train_translator", train)
    return calls


def not_cached_line(err: str) -> str:
    lines = [line for line in err.splitlines() if "not cached" in line]
    assert len(lines) == 1, err
    return lines[0]


# 1. saving fails: the CLI keeps the translation, Translator.save says why -------------------------------------

def test_cli_keeps_the_translation_when_a_file_is_in_place_of_the_folder(tmp_path, fake_training, capsys):
    (tmp_path / "f").touch()
    assert cli_main(["translate", "--quiet", "--model", str(tmp_path / "f" / "m.pt"), "I am a student"]) == 0
    out, err = capsys.readouterr()
    assert "我是学生" in out
    assert "is a file, not a folder" in not_cached_line(err)


def test_cli_keeps_the_translation_when_the_cache_file_is_a_folder(tmp_path, monkeypatch, fake_training, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    (tmp_path / "transformer_lesson" / f"translator-{transformer_lesson.__version__}.pt").mkdir(parents=True)
    assert cli_main(["translate", "--quiet", "I am a student"]) == 0
    out, err = capsys.readouterr()
    assert "我是学生" in out
    assert "is a folder" in not_cached_line(err)


def read_only(monkeypatch):
    """Tests run as root, which chmod cannot stop: refuse every new file instead, as a read-only folder does."""
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(_files.tempfile, "mkstemp", refuse)
    monkeypatch.setattr(_files.os, "open", refuse)


def test_cli_keeps_the_translation_when_the_cache_folder_is_read_only(tmp_path, monkeypatch, fake_training, capsys):
    read_only(monkeypatch)
    assert cli_main(["translate", "--quiet", "--model", str(tmp_path / "m.pt"), "I am a student"]) == 0
    out, err = capsys.readouterr()
    assert "我是学生" in out
    assert "no permission to write in" in not_cached_line(err)


@pytest.mark.parametrize("where, reason", [("folder", "is a folder"), ("empty", "empty path"),
                                           ("file_parent", "is a file, not a folder")])
def test_save_to_an_impossible_path_says_why(tiny, tmp_path, where, reason):
    (tmp_path / "f").touch()
    path = {"folder": tmp_path, "empty": "", "file_parent": tmp_path / "f" / "m.pt"}[where]
    with pytest.raises(OSError, match=f"could not save the translator to .*{reason}"):
        tiny.save(path)


def test_save_in_a_read_only_folder_says_why(tiny, tmp_path, monkeypatch):
    read_only(monkeypatch)
    with pytest.raises(OSError, match="no permission to write in"):
        tiny.save(tmp_path / "m.pt")


# 2. saving is atomic and locked ---------------------------------------------------------------------------------

def test_a_full_disk_leaves_the_earlier_file_and_no_temporary_file(tiny, tmp_path, monkeypatch):
    path = tiny.save(tmp_path / "m.pt")
    before = path.read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(_files.os, "fsync", full)
    with pytest.raises(OSError, match="the disk is full; nothing was written"):
        tiny.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
@pytest.mark.parametrize("killed", [True, False], ids=["killed_by_SIGXFSZ", "EFBIG_error"])
def test_a_save_cut_short_by_a_file_size_limit_keeps_the_earlier_model(tiny, tmp_path, killed):
    path = tiny.save(tmp_path / "m.pt")
    script = textwrap.dedent(f"""
        import resource, signal, sys
        from transformer_lesson import Translator
        t = Translator.load({str(path)!r})
        if not {killed}:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)       # then write() fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        try:
            t.save({str(path)!r})
        except OSError as error:
            print(error)
            sys.exit(3)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=60)
    if killed:
        assert result.returncode != 0
    else:
        assert result.returncode == 3 and "file-size limit" in result.stdout, result.stdout + result.stderr
    assert Translator.load(path).translate("I am a student") == tiny.translate("I am a student")


def test_loads_while_another_thread_saves_never_see_half_a_file(tiny, tmp_path):
    path = tiny.save(tmp_path / "m.pt")
    stop, failures, loads = threading.Event(), [], 0

    def keep_saving():
        while not stop.is_set():
            tiny.save(path)
    saver = threading.Thread(target=keep_saving)
    saver.start()
    try:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            try:
                Translator.load(path)
            except Exception as error:                        # noqa: BLE001 - any failure is the fault
                failures.append(error)
            loads += 1
    finally:
        stop.set()
        saver.join()
    assert loads > 5 and not failures, failures[:3]


def test_two_cli_runs_on_an_empty_cache_train_once(tmp_path, fake_training, capsys):
    path = tmp_path / "cache" / "m.pt"
    results = []
    runs = [threading.Thread(target=lambda: results.append(
        cli_main(["translate", "--quiet", "--model", str(path), "I am a student"]))) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert results == [0, 0]
    assert len(fake_training) == 1
    assert capsys.readouterr().out.count("我是学生") >= 2


# 3. damaged checkpoints do not load --------------------------------------------------------------------------

def flip_a_byte_in_the_weights(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        info = max((i for i in archive.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.file_size // 2] ^= 0x10
    path.write_bytes(bytes(data))


def test_a_flipped_byte_in_the_weights_is_caught(tiny, tmp_path):
    path = tiny.save(tmp_path / "m.pt")
    flip_a_byte_in_the_weights(path)
    with pytest.raises(ValueError, match=r"m\.pt .*checksum of the weights does not match"):
        Translator.load(path)


def resave(tiny, path, change):
    state = tiny.state()
    change(state)
    torch.save(state, path)
    return path


def test_nan_weights_are_refused(tiny, tmp_path):
    with torch.no_grad():
        model = tiny.model
        saved = model.generator.weight.clone()
        model.generator.weight[0, 0] = float("nan")
        try:
            path = tiny.save(tmp_path / "m.pt")
        finally:
            model.generator.weight.copy_(saved)
    with pytest.raises(ValueError, match=r"m\.pt .*NaN or infinite values \(first in generator.weight\)"):
        Translator.load(path)


@pytest.mark.parametrize("key, value, message", [
    ("num_layers", 10 ** 6, "num_layers to be a positive integer of at most 48"),
    ("d_model", 10 ** 9, "d_model to be a positive integer of at most 4096"),
    ("num_layers", 3, "the configuration says num_layers = 3, the stored weights have 1"),
    ("d_ff", "128", "expected d_ff to be a positive integer"),
])
def test_a_hostile_config_is_refused_before_anything_is_built(tiny, tmp_path, key, value, message):
    path = resave(tiny, tmp_path / "m.pt", lambda state: state["config"].__setitem__(key, value))
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"m\.pt \(damaged contents: .*" + message):
        Translator.load(path)
    assert time.perf_counter() - start < 5


# 4-7. the checkers ------------------------------------------------------------------------------------------

def attention_dividing_query_in_place(query, key, value, mask=None):
    query /= math.sqrt(query.size(-1))                        # right numbers, but the caller's query changes
    scores = query @ key.transpose(-2, -1)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.softmax(-1)
    return weights @ value, weights


class LayerNormInPlace(nn.Module):
    def __init__(self, d_model, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight, self.bias = nn.Parameter(torch.ones(d_model)), nn.Parameter(torch.zeros(d_model))

    def forward(self, x):
        x -= x.mean(-1, keepdim=True)
        return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight + self.bias


def residual_in_place(x, sublayer, norm, norm_first=False):
    if norm_first:
        x += sublayer(norm(x))
        return x
    x += sublayer(x)
    return norm(x)


class EncoderLayerInPlace(nn.Module):
    def __init__(self, d_model, num_heads, d_ff):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads)
        self.feed_forward = PositionwiseFeedForward(d_model, d_ff)
        self.norm1, self.norm2 = LayerNorm(d_model), LayerNorm(d_model)

    def forward(self, x, mask=None):
        x += self.self_attn(x, x, x, mask)
        x = self.norm1(x)
        return self.norm2(x + self.feed_forward(x))


@pytest.mark.parametrize("check, learner, name", [
    (checks.check_scaled_dot_product_attention, attention_dividing_query_in_place, "query"),
    (checks.check_layer_norm, LayerNormInPlace, "x"),
    (checks.check_residual_connection, residual_in_place, "x"),
    (checks.check_encoder_layer, EncoderLayerInPlace, "x"),
])
def test_learner_code_changing_its_input_in_place_is_told_so(check, learner, name):
    with pytest.raises(AssertionError, match=f"in-place change.*changed its input `{name}` in place"):
        check(learner)


class NotAModule:
    def __init__(self, *args):
        pass


@pytest.mark.parametrize("check", [checks.check_encoder_layer, checks.check_decoder_layer])
def test_a_class_not_derived_from_nn_module_is_told_so(check):
    with pytest.raises(AssertionError, match="expected your class to build an nn.Module.*derive it from nn.Module"):
        check(NotAModule)


class EncoderLayerWithTorchAttention(EncoderLayerInPlace):
    def __init__(self, d_model, num_heads, d_ff):
        super().__init__(d_model, num_heads, d_ff)
        self.self_attn = nn.MultiheadAttention(d_model, num_heads, batch_first=True)


def test_torch_multihead_attention_as_self_attn_is_named():
    with pytest.raises(AssertionError, match="`self_attn` is torch's nn.MultiheadAttention, which returns a pair"):
        checks.check_encoder_layer(EncoderLayerWithTorchAttention)


class EncoderLayerWithTupleAttention(EncoderLayerInPlace):
    def __init__(self, d_model, num_heads, d_ff):
        super().__init__(d_model, num_heads, d_ff)
        inner = self.self_attn
        self.self_attn = type("Pair", (nn.Module,), {"forward": lambda s, *a: (inner(*a), None)})()


def test_a_submodule_returning_a_pair_is_named_not_a_crash():
    with pytest.raises(AssertionError, match=r"self_attn\(x, x, x, mask\) returned tuple of length 2"):
        checks.check_encoder_layer(EncoderLayerWithTupleAttention)


def greedy_ignoring_eos_and_max_len(step_fn, bos_id, eos_id, max_len):
    prefix = [bos_id]
    while True:
        prefix.append(int(step_fn(prefix).argmax()))


def beam_that_never_ends(step_fn, bos_id, eos_id, max_len, beam_size, alpha):
    beams = [[bos_id]]
    while True:
        beams = [b + [int(step_fn(b).argmax())] for b in beams]


@pytest.mark.parametrize("check, learner", [(checks.check_greedy_decode, greedy_ignoring_eos_and_max_len),
                                            (checks.check_beam_search, beam_that_never_ends)])
def test_a_decoding_loop_that_never_stops_is_stopped_and_named(check, learner):
    start = time.perf_counter()
    with pytest.raises(AssertionError, match="and was stopped before it used up the memory.*the loop does not stop"):
        check(learner)
    assert time.perf_counter() - start < 2


def attention_that_spins_forever(query, key, value, mask=None):
    seen = 0
    while seen >= 0:
        seen += 1


def test_an_infinite_loop_is_stopped_by_the_time_limit(monkeypatch):
    monkeypatch.setattr(checks, "TIME_LIMIT", 0.5)
    start = time.perf_counter()
    with pytest.raises(AssertionError, match="ran for more than 0.5 s .* most likely an infinite loop"):
        checks.check_scaled_dot_product_attention(attention_that_spins_forever)
    assert time.perf_counter() - start < 3
    time.sleep(0.6)                                            # no stray exception arrives afterwards
    checks.check_causal_mask(transformer_lesson.causal_mask)


def attention_in_float16(query, key, value, mask=None):
    scores = (query.half() @ key.half().transpose(-2, -1)) / math.sqrt(query.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.float().softmax(-1).half()
    return weights @ value.half(), weights


def test_a_float16_result_names_its_dtype():
    with pytest.raises(AssertionError, match="weights has dtype torch.float16 .* right to torch.float16 precision"):
        checks.check_scaled_dot_product_attention(attention_in_float16)


# 8. float16 numbers -----------------------------------------------------------------------------------------

def test_layer_norm_of_large_float16_values_matches_torch():
    x = (torch.randn(2, 3, 64) * 300).half()
    ours, theirs = LayerNorm(64)(x), nn.LayerNorm(64)(x.float())
    assert ours.dtype == torch.float16
    assert torch.allclose(ours.float(), theirs, atol=1e-2) and ours.abs().sum() > 0


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_positional_encoding_and_layer_norm_keep_the_input_dtype(dtype):
    x = torch.randn(1, 5, 8).to(dtype)
    assert PositionalEncoding(8)(x).dtype == dtype
    assert LayerNorm(8)(x).dtype == dtype


# 9. values that used to pass unchecked ------------------------------------------------------------------------

def tiny_model(**kwargs):
    torch.manual_seed(0)
    return Transformer(10, 10, d_model=8, num_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=16,
                       max_len=16, **kwargs)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -0.5])
def test_length_penalty_must_be_a_finite_number(tiny, bad):
    with pytest.raises(ValueError, match=f"expected length_penalty to be a number >= 0 .* got {bad!r}"):
        tiny.alternatives("I am a student", length_penalty=bad)
    with pytest.raises(ValueError, match="expected length_penalty_alpha to be a number >= 0"):
        beam_search(tiny_model(), torch.tensor([3, 4]), length_penalty_alpha=bad)


@pytest.mark.parametrize("bad", ["nan", "inf", "-1"])
def test_cli_length_penalty_must_be_a_finite_number(bad, capsys):
    with pytest.raises(SystemExit):
        cli_main(["translate", "--length-penalty", bad, "I am a student"])
    assert "--length-penalty: expected a number >= 0" in capsys.readouterr().err


@pytest.mark.parametrize("make, message", [
    (lambda: sinusoidal_encoding(4, 8, base=0), "expected base to be a positive number such as 10000, got 0"),
    (lambda: sinusoidal_encoding(4, 8, base=-10.0), "got -10.0"),
    (lambda: LayerNorm(8, eps=float("inf")), "expected eps to be a positive number such as 1e-5, got inf"),
    (lambda: scaled_dot_product_attention(torch.ones(1, 2, 4), torch.ones(1, 2, 4), torch.ones(1, 2, 4),
                                          dropout_p=-0.1), "expected dropout_p to be a number in [0, 1), got -0.1"),
    (lambda: tiny_model(pad_id=-1), "expected pad_id to be a token id in 0..9"),
    (lambda: tiny_model(pad_id=10), "got 10"),
    (lambda: greedy_decode(tiny_model(), torch.tensor([[3, 4]]), eos_id=None), "expected eos_id to be an integer"),
    (lambda: beam_search(tiny_model(), torch.tensor([3, 4]), beam_size=10 ** 6),
     "beam_size to be a positive integer of at most 10 (the target vocabulary size"),
])
def test_unchecked_values_now_get_a_clear_error(make, message):
    with pytest.raises((ValueError, TypeError)) as info:
        make()
    assert message in str(info.value)


@pytest.mark.parametrize("make", [
    lambda: scaled_dot_product_attention(torch.ones(1, 2, 4), torch.ones(1, 2, 4), torch.ones(1, 2, 4),
                                         dropout_p="0.1"),
    lambda: tiny_model(pad_id=None),
])
def test_values_of_the_wrong_type_get_a_type_error(make):
    with pytest.raises(TypeError, match="expected"):
        make()


def test_cli_beam_wider_than_the_vocabulary_is_refused(tiny, tmp_path, capsys):
    path = tiny.save(tmp_path / "m.pt")
    assert cli_main(["translate", "--model", str(path), "--beam", "1000000", "I am a student"]) == 1
    assert "expected --beam of at most" in capsys.readouterr().err


# 10. no raw torch errors --------------------------------------------------------------------------------------

def test_mixed_dtypes_and_batches_in_attention_are_named():
    q = torch.randn(2, 3, 4)
    with pytest.raises(TypeError, match=r"expected key with the same dtype as query \(torch.float32\), got torch.float64"):
        scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(ValueError, match=r"expected key .* leading \(batch\) dimensions of query, \(2,\), got \(3, 3, 4\)"):
        scaled_dot_product_attention(q, torch.randn(3, 3, 4), torch.randn(3, 3, 4))


@pytest.mark.parametrize("dtype", [torch.float16, torch.float64])
def test_input_of_another_dtype_than_the_module_is_named(dtype):
    x = torch.randn(2, 3, 8, dtype=dtype)
    with pytest.raises(TypeError, match=f"expected query of dtype torch.float32, .*got {dtype}"):
        MultiHeadAttention(8, 2)(x, x, x)
    with pytest.raises(TypeError, match=f"expected x of dtype torch.float32, .*got {dtype}"):
        PositionwiseFeedForward(8, 16)(x)


def test_uint8_token_ids_work():
    model = tiny_model().eval()
    src, tgt = torch.tensor([[3, 4, 5]]), torch.tensor([[1, 6]])
    assert torch.equal(model(src.to(torch.uint8), tgt.to(torch.uint8)), model(src, tgt))


def test_from_torch_copies_a_layer_built_without_bias():
    torch.manual_seed(0)
    theirs = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, bias=False).eval()
    ours = EncoderLayer.from_torch(theirs).eval()
    x = torch.randn(2, 5, 8)
    assert torch.allclose(ours(x), theirs(x), atol=1e-5)


# 11. sentences longer than the model reads ------------------------------------------------------------------

def test_a_too_long_sentence_is_one_clear_error(tiny, tmp_path, capsys):
    long = " ".join(["I am a student"] * 30)
    with pytest.raises(ValueError, match=r"expected a sentence of at most \d+ words .* got 120 words; split it"):
        tiny.translate(long)
    path = tiny.save(tmp_path / "m.pt")
    assert cli_main(["translate", "--model", str(path), long]) == 2
    err = capsys.readouterr().err
    assert "split it into shorter sentences" in err and "Traceback" not in err


# 12. messages that misled ----------------------------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFO")
def test_load_pairs_calls_a_device_or_pipe_what_it_is(tmp_path):
    fifo = tmp_path / "pipe.tsv"
    os.mkfifo(fifo)
    for path in (fifo, Path(os.devnull)):
        with pytest.raises(ValueError, match="got a device or pipe, not a regular file"):
            load_pairs(path)


def test_a_target_of_length_zero_is_named():
    model = tiny_model()
    memory = model.encode(torch.tensor([[3, 4]]))
    with pytest.raises(ValueError, match=r"expected tgt of shape \(B, T\) with at least one token .* got \(1, 0\)"):
        model.decode(torch.zeros(1, 0, dtype=torch.long), memory)


def test_numpy_integer_pad_id_is_accepted():
    tokens = torch.tensor([[3, 0]])
    assert torch.equal(padding_mask(tokens, np.int64(0)), padding_mask(tokens, 0))


def test_loading_a_text_file_says_it_is_text(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("hello, this is not a model\n")
    with pytest.raises(ValueError, match=r"notes\.pt \(it looks like text; a file written by torch.save is a zip"):
        Translator.load(path)


class Evil:
    def __reduce__(self):
        return (print, ("this would run",))


def test_an_untrusted_file_is_refused_without_advising_weights_only_false(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "transformer_lesson.translator", "payload": Evil()}, path)
    with pytest.raises(ValueError) as info:
        Translator.load(path)
    assert "can run code" in str(info.value) and "weights_only" not in str(info.value)


def test_cli_beam_zero_shows_the_translate_usage(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["translate", "--beam", "0", "I am a student"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: python -m transformer_lesson translate" in err
    assert "argument --beam: expected a positive integer such as 4 (1 = greedy), got 0" in err


class ClosedPipe(io.StringIO):
    def write(self, text):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


def test_cli_output_piped_into_head_ends_quietly(tiny, tmp_path, monkeypatch):
    path = tiny.save(tmp_path / "m.pt")
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert cli_main(["translate", "--quiet", "--model", str(path), "I am a student"]) == 0


# 13. ambiguous masks ----------------------------------------------------------------------------------------

def test_a_2d_mask_that_could_be_per_sentence_is_refused_with_both_fixes():
    B = T = 3
    q = torch.randn(B, T, 4)
    pads = torch.tensor([[True, True, False], [True, False, False], [True, True, True]])   # (B, T_k)
    with pytest.raises(ValueError, match=r"ambiguous.*B = T_q = 3.*mask\[None\].*mask\[:, None, :\]"):
        scaled_dot_product_attention(q, q, q, pads)
    per_sentence, _ = scaled_dot_product_attention(q, q, q, pads[:, None, :])
    one_by_one = torch.cat([scaled_dot_product_attention(q[i:i + 1], q[i:i + 1], q[i:i + 1], pads[i])[0]
                            for i in range(B)])
    assert torch.allclose(per_sentence, one_by_one, atol=1e-6)


def test_a_causal_mask_with_batch_equal_to_length_is_still_accepted():
    q = torch.randn(4, 4, 8)
    scaled_dot_product_attention(q, q, q, transformer_lesson.causal_mask(4))
    MultiHeadAttention(8, 2)(q, q, q, transformer_lesson.causal_mask(4))
