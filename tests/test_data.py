"""The capstone corpus (grammar.py) and the data pipeline (data.py)."""
import json

import pytest
import torch

from transformer_lesson.capstone import data, grammar
from transformer_lesson.capstone.data import (BOS, EOS, PAD, UNK, TranslationDataset, Vocab, build_vocabs, join_chinese,
                                     load_corpus, load_pairs, tokenize_chinese, tokenize_english)

ALL = grammar.all_pairs()
TRANSLATION = {p.english: p.chinese for p in ALL}
TRAIN, TEST = load_corpus("train"), load_corpus("test")
VERB_CHINESE = {v.chinese for v in grammar.VERBS}
TIME_CHINESE = {t.chinese for t in grammar.TIMES if t}


# --- the grammar ---------------------------------------------------------------------------------

@pytest.mark.parametrize("english, chinese", [
    ("I am a student", "我 是 学生"),
    ("we are students", "我们 是 学生"),
    ("they are doctors", "他们 是 医生"),
    ("I am an engineer", "我 是 工程师"),
    ("she is not a nurse", "她 不 是 护士"),
    ("is she a nurse?", "她 是 护士 吗"),
    ("they study Chinese in the library today", "他们 今天 在 图书馆 学习 中文"),
    ("he does not drink tea at school", "他 在 学校 不 喝 茶"),
    ("he does not drink tea at school today", "他 今天 在 学校 不 喝 茶"),
    ("does he read books every day?", "他 每天 读 书 吗"),
    ("do you like tea?", "你 喜欢 茶 吗"),
    ("she reads books at home every day", "她 每天 在 家 读 书"),
])
def test_course_examples_translate_exactly(english, chinese):
    assert TRANSLATION[english] == chinese


def test_every_sentence_is_enumerated_once():
    englishes = [p.english for p in ALL]
    assert len(englishes) == len(set(englishes))
    assert len(ALL) == len(TRAIN) + len(TEST)
    assert set(TRAIN) | set(TEST) == {(p.english, p.chinese) for p in ALL}


def test_showcase_sentence_is_in_the_training_split():
    assert ("I am a student", "我 是 学生") in TRAIN
    assert ("do you like tea?", "你 喜欢 茶 吗") in TRAIN + TEST
    assert all((en, zh) in TRAIN for en, zh in grammar.SHOWCASE.items())
    for seed in range(5):                                      # whatever the split, the showcase trains
        train, _ = grammar.split(ALL, seed=seed, test_fraction=0.5)
        assert set(grammar.SHOWCASE) <= {p.english for p in train}


def test_time_comes_before_place_and_both_before_the_verb():
    checked = 0
    for p in ALL:
        _, _, _, time, place = p.meaning if p.stratum != "be" else (None,) * 5
        if not (time and place):
            continue
        assert p.english.rstrip("?").endswith(f"{place} {time}"), p          # English: ... place time
        zh = p.chinese.split()
        time_at = next(i for i, w in enumerate(zh) if w in TIME_CHINESE)
        verb_at = next(i for i, w in enumerate(zh) if w in VERB_CHINESE)
        assert 0 < time_at < zh.index("在") < verb_at, p                     # Chinese: time place verb
        checked += 1
    assert checked > 100


def test_third_person_singular_takes_s():
    assert TRANSLATION["she reads books"] == "她 读 书"
    assert TRANSLATION["he studies math"] == "他 学习 数学"
    assert "he read books" not in TRANSLATION and "she study math" not in TRANSLATION
    assert "does she read books?" in TRANSLATION and "does she reads books?" not in TRANSLATION
    for p in ALL:
        words = p.english.split()
        if p.form == "statement" and words[0] in ("he", "she") and p.stratum != "be":
            assert words[1] in {v.third_singular for v in grammar.VERBS}, p


def test_negation_goes_right_before_the_verb_after_time_and_place():
    negatives = [p for p in ALL if p.form == "negative"]
    assert negatives
    for p in negatives:
        zh = p.chinese.split()
        assert zh.count("不") == 1 and zh[zh.index("不") + 1] in VERB_CHINESE | {"是"}, p
        assert " not " in p.english, p
    assert "he does not drink tea every day" not in TRANSLATION   # "not every day" is another construction


def test_questions_end_with_ma_and_start_with_the_auxiliary():
    questions = [p for p in ALL if p.form == "question"]
    assert len(questions) * 3 > len(ALL) * 0.9
    for p in ALL:
        is_question = p.english.endswith("?")
        assert is_question == (p.form == "question") == p.chinese.endswith(" 吗"), p
        if is_question:
            assert p.english.split()[0] in {"am", "is", "are", "do", "does"}, p


def test_articles_are_dropped_and_plural_subjects_take_plural_nouns():
    nouns = {n.singular: n for n in grammar.NOUNS}
    for p in ALL:
        if p.stratum != "be":
            continue
        _, subject, noun = p.meaning
        en = tokenize_english(p.english)
        if subject in ("we", "they"):
            assert nouns[noun].plural in en and not {"a", "an"} & set(en), p
        else:
            assert en[-2:] == [nouns[noun].article, noun] and en[-2] == ("an" if noun == "engineer" else "a"), p
        if p.form == "statement":
            assert p.chinese.split()[1:] == ["是", nouns[noun].chinese], p              # no article, no plural
    assert TRANSLATION["we are not teachers"] == "我们 不 是 老师"


def test_test_split_holds_meanings_never_seen_in_training():
    train_english = {en for en, _ in TRAIN}
    assert not any(en in train_english for en, _ in TEST)
    by_english = {p.english: p for p in ALL}
    train_meanings = {by_english[en].meaning for en, _ in TRAIN}
    test_meanings = {by_english[en].meaning for en, _ in TEST}
    assert not train_meanings & test_meanings
    assert {by_english[en].stratum for en, _ in TEST} == {by_english[en].stratum for en, _ in TRAIN}


def test_every_test_token_occurs_in_training():
    source, target = build_vocabs(TRAIN)
    for en, zh in TEST:
        assert source.unknown(tokenize_english(en)) == [], en
        assert target.unknown(tokenize_chinese(zh)) == [], zh


@pytest.mark.parametrize("seed, test_fraction", [(1, 0.3), (5, 0.5), (2, 0.8)])
def test_every_test_word_keeps_a_training_example_whatever_the_split(seed, test_fraction):
    train, test = grammar.split(ALL, seed=seed, test_fraction=test_fraction)
    seen = {t for p in train for t in tokenize_english(p.english) + tokenize_chinese(p.chinese)}
    assert len(test) > len(ALL) * test_fraction * 0.8
    assert all(set(tokenize_english(p.english) + tokenize_chinese(p.chinese)) <= seen for p in test)


def test_corpus_size_and_sentence_lengths_stay_small():
    assert 2000 <= len(TRAIN) <= 6000 and 200 <= len(TEST) <= 500
    assert max(len(tokenize_english(en)) for en, _ in TRAIN + TEST) <= 12
    assert max(len(tokenize_chinese(zh)) for _, zh in TRAIN + TEST) <= 12
    source, target = build_vocabs(TRAIN)
    assert len(source) <= 80 and len(target) <= 60


def test_generation_is_deterministic_and_the_seed_chooses_the_split():
    assert grammar.generate() == grammar.generate()
    assert grammar.generate(seed=1)[1] != grammar.generate(seed=0)[1]


def test_shipped_files_equal_a_fresh_generation():
    train, test = grammar.generate()
    assert (grammar.DATASET_DIR / grammar.TRAIN_FILE).read_bytes() == grammar.format_tsv(train)
    assert (grammar.DATASET_DIR / grammar.TEST_FILE).read_bytes() == grammar.format_tsv(test)
    assert (TRAIN, TEST) == (train, test)


def test_grammar_check_command_detects_stale_files(tmp_path, capsys):
    assert grammar.main(["--out", str(tmp_path)]) == 0
    assert grammar.main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / grammar.TEST_FILE).write_text("I am a student\t我 是 学生\n", encoding="utf-8")
    assert grammar.main(["--check", "--out", str(tmp_path)]) == 1
    assert grammar.TEST_FILE in capsys.readouterr().err


# --- loading -------------------------------------------------------------------------------------

def test_load_pairs_reads_any_tsv_and_skips_blank_lines(tmp_path):
    path = tmp_path / "mine.tsv"
    path.write_bytes("\ufeffHello\t你好\r\n\r\n  \nthank you \t 谢谢\n".encode("utf-8"))
    assert load_pairs(path) == [("Hello", "你好"), ("thank you", "谢谢")]
    assert load_pairs(str(path)) == load_pairs(path)


def test_load_pairs_missing_file_names_the_path(tmp_path):
    missing = tmp_path / "nowhere.tsv"
    with pytest.raises(FileNotFoundError, match="nowhere.tsv"):
        load_pairs(missing)


@pytest.mark.parametrize("bad_line, reason", [
    ("no tab here", "no tab"),
    ("one\ttwo\tthree", "2 tabs"),
    ("\t我", "empty English side"),
    ("hello\t  ", "empty Chinese side"),
])
def test_load_pairs_malformed_line_names_file_line_number_and_line(tmp_path, bad_line, reason):
    path = tmp_path / "broken.tsv"
    path.write_text(f"I am a student\t我 是 学生\n\n{bad_line}\n", encoding="utf-8")
    with pytest.raises(ValueError) as error:
        load_pairs(path)
    message = str(error.value)
    assert "broken.tsv" in message and "line 3" in message and reason in message
    assert repr(bad_line) in message


def test_load_pairs_rejects_non_paths_and_non_utf8(tmp_path):
    with pytest.raises(TypeError, match="str or pathlib.Path"):
        load_pairs(42)
    path = tmp_path / "latin1.tsv"
    path.write_bytes("café\tkāfēi\n".encode("utf-16"))
    with pytest.raises(ValueError, match="UTF-8"):
        load_pairs(path)


def test_load_corpus_bad_split_lists_the_valid_ones():
    with pytest.raises(ValueError, match="'train', 'test'.*'dev'"):
        load_corpus("dev")


# --- tokenising ----------------------------------------------------------------------------------

@pytest.mark.parametrize("sentence, tokens", [
    ("Do you like tea?", ["do", "you", "like", "tea"]),
    ("do you like tea", ["do", "you", "like", "tea"]),
    ("I am a student.", ["i", "am", "a", "student"]),
    ("  They study CHINESE , today! ", ["they", "study", "chinese", "today"]),
    ("He doesn’t drink tea", ["he", "does", "not", "drink", "tea"]),
    ("I'm a nurse", ["i", "am", "a", "nurse"]),
    ("", []),
])
def test_tokenize_english_lowercases_and_drops_punctuation(sentence, tokens):
    assert tokenize_english(sentence) == tokens


def test_tokenize_chinese_splits_words_and_segments_unspaced_text_with_a_vocab():
    assert tokenize_chinese("他们 今天 在 图书馆 学习 中文") == ["他们", "今天", "在", "图书馆", "学习", "中文"]
    _, target = build_vocabs(TRAIN)
    assert tokenize_chinese("他们今天在图书馆学习中文", target) == ["他们", "今天", "在", "图书馆", "学习", "中文"]
    assert tokenize_chinese("我是学生", ["我", "是", "学生"]) == ["我", "是", "学生"]
    assert tokenize_chinese("我是猫", target) == ["我", "是", "猫"]     # unknown characters stay single
    assert join_chinese(["我", "是", "学生"]) == "我是学生"


@pytest.mark.parametrize("call, error", [
    (lambda: tokenize_english(["do"]), TypeError),
    (lambda: tokenize_chinese(None), TypeError),
    (lambda: tokenize_chinese("我是", vocab="我是"), TypeError),
    (lambda: join_chinese("我是学生"), TypeError),
    (lambda: join_chinese(["我", 1]), TypeError),
])
def test_tokenizers_reject_the_wrong_types(call, error):
    with pytest.raises(error, match="expected"):
        call()


# --- the vocabulary ------------------------------------------------------------------------------

def test_vocab_specials_have_fixed_ids():
    vocab = Vocab.build([["我", "是", "学生"]])
    assert (PAD, BOS, EOS, UNK) == (0, 1, 2, 3)
    assert vocab.tokens[:4] == ("<pad>", "<bos>", "<eos>", "<unk>")
    assert len(vocab) == 7 and "学生" in vocab and "老师" not in vocab


def test_vocab_encode_decode_round_trip():
    vocab = Vocab.build([["我", "是", "学生"], ["我", "是", "老师"]])
    ids = vocab.encode(["我", "是", "学生"], add_bos=True, add_eos=True)
    assert ids[0] == BOS and ids[-1] == EOS and len(ids) == 5
    assert vocab.decode(ids) == ["我", "是", "学生"]
    assert vocab.decode(torch.tensor(ids + [PAD, PAD])) == ["我", "是", "学生"]
    assert vocab.decode(ids, strip_special=False) == ["<bos>", "我", "是", "学生", "<eos>"]
    assert vocab.encode(["我", "是", "猫"])[-1] == UNK
    assert vocab.unknown(["我", "猫", "狗", "猫"]) == ["猫", "狗"]


def test_vocab_is_ordered_by_frequency_then_alphabet_and_honours_min_freq():
    vocab = Vocab.build([["b", "a", "c"], ["c", "a"], ["c"]])
    assert vocab.tokens[4:] == ("c", "a", "b")
    assert Vocab.build([["b", "a", "c"], ["c", "a"], ["c"]], min_freq=2).tokens[4:] == ("c", "a")


def test_vocab_to_dict_is_plain_python_and_round_trips():
    source, _ = build_vocabs(TRAIN)
    state = source.to_dict()
    assert json.loads(json.dumps(state)) == state
    assert Vocab.from_dict(state) == source
    with pytest.raises(ValueError, match="special tokens"):
        Vocab.from_dict({"specials": ["<s>", "</s>"], "tokens": ["a"]})


@pytest.mark.parametrize("call, error, match", [
    (lambda v: v.encode("我 是"), TypeError, "tokenize it first"),
    (lambda v: v.decode([0, 99]), ValueError, "got 99"),
    (lambda v: v.decode([1.0]), TypeError, "float"),
    (lambda v: Vocab.build(["我 是 学生"]), TypeError, "tokenize it first"),
    (lambda v: Vocab.build([["a"]], min_freq=0), ValueError, "min_freq"),
    (lambda v: Vocab(["a", "a"]), ValueError, "duplicates"),
    (lambda v: Vocab(["<pad>", "a"]), ValueError, "special tokens"),
])
def test_vocab_rejects_bad_input_with_a_clear_message(call, error, match):
    with pytest.raises(error, match=match):
        call(Vocab.build([["我", "是"]]))


# --- batches -------------------------------------------------------------------------------------

def test_batches_are_padded_with_bos_and_eos_in_place():
    pairs = [("I am a student", "我 是 学生"), ("they study Chinese in the library today", "他们 今天 在 图书馆 学习 中文")]
    source, target = build_vocabs(pairs)
    (batch,) = TranslationDataset(pairs, source, target).batches(batch_size=8, shuffle=False)
    assert batch.src.shape == (2, 7) and batch.tgt_in.shape == (2, 7) and batch.tgt_out.shape == (2, 7)
    assert batch.src.dtype == torch.long
    assert batch.src[0].tolist() == source.encode(["i", "am", "a", "student"]) + [PAD] * 3
    assert batch.tgt_in[0].tolist() == [BOS] + target.encode(["我", "是", "学生"]) + [PAD] * 3
    assert batch.tgt_out[0].tolist() == target.encode(["我", "是", "学生"]) + [EOS] + [PAD] * 3
    assert batch.tgt_in[1, 0] == BOS and batch.tgt_out[1, -1] == EOS and (batch.tgt_out[1] != PAD).all()
    assert torch.equal(batch.tgt_in[:, 1:][batch.tgt_in[:, 1:] != PAD], batch.tgt_out[batch.tgt_out > EOS])


def test_batches_cover_every_pair_once_and_trim_padding():
    source, target = build_vocabs(TRAIN)
    dataset = TranslationDataset(TRAIN, source, target)
    batches = list(dataset.batches(100, generator=torch.Generator().manual_seed(0)))
    assert [len(b.src) for b in batches] == [100] * (len(TRAIN) // 100) + [len(TRAIN) % 100]
    rows = sorted(tuple(r.tolist()) for b in batches for r in b.src)
    full = sorted(tuple(r.tolist()) for r in dataset.src)
    trimmed = [tuple(v for v in r if v != PAD) for r in rows]
    assert trimmed == [tuple(v for v in r if v != PAD) for r in full]
    assert all((b.src[:, -1] != PAD).any() and (b.tgt_out[:, -1] != PAD).any() for b in batches)


def test_a_batch_of_short_sentences_is_cut_to_its_longest():
    pairs = [("I am a student", "我 是 学生"), ("they study Chinese in the library today", "他们 今天 在 图书馆 学习 中文")]
    dataset = TranslationDataset(pairs, *build_vocabs(pairs))
    assert dataset.src.shape == (2, 7) and dataset.tgt_in.shape == (2, 7)
    short = dataset.batch([0])
    assert short.src.shape == (1, 4) and short.tgt_in.shape == (1, 4) and short.tgt_out.shape == (1, 4)


def test_shuffled_batches_follow_the_generator():
    source, target = build_vocabs(TRAIN)
    dataset = TranslationDataset(TRAIN, source, target)
    first = [b.src for b in dataset.batches(64, generator=torch.Generator().manual_seed(3))]
    again = [b.src for b in dataset.batches(64, generator=torch.Generator().manual_seed(3))]
    other = [b.src for b in dataset.batches(64, generator=torch.Generator().manual_seed(4))]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(first[0], other[0])


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(batch_size=2.5), TypeError, "batch_size"),
    (dict(batch_size=2, generator=0), TypeError, "torch.Generator"),
])
def test_batches_reject_bad_arguments(kwargs, error, match):
    source, target = build_vocabs(TRAIN[:5])
    with pytest.raises(error, match=match):
        list(TranslationDataset(TRAIN[:5], source, target).batches(**kwargs))


def test_a_dataset_rejects_pairs_that_are_not_pairs():
    source, target = build_vocabs(TRAIN[:5])
    with pytest.raises(TypeError, match="load_pairs"):
        TranslationDataset("corpus.tsv", source, target)
    with pytest.raises(TypeError, match=r"pairs\[1\]"):
        TranslationDataset([("a", "b"), ("a",)], source, target)
    with pytest.raises(ValueError, match="at least one"):
        TranslationDataset([], source, target)
    with pytest.raises(TypeError, match="src_vocab"):
        TranslationDataset(TRAIN[:5], {"a": 1}, target)


def test_public_names_are_exported():
    assert {"load_pairs", "load_corpus", "check_pairs", "Vocab", "TranslationDataset"} <= set(data.__all__)
