"""The capstone's parallel corpus (平行语料): a small English→Chinese grammar, written out in full.

Every sentence is built from a handful of slots, and each slot has an English and a Chinese side:

    English:  subject  verb  object  [place]  [time]          "they study Chinese in the library today"
    Chinese:  subject  [time]  [place]  verb  object          他们 今天 在 图书馆 学习 中文

Time and place phrases end the English sentence but come *before* the verb in Chinese (time before
place), negation goes right before the verb (他 在 学校 不 喝 茶), a yes/no question moves "do/does/is"
to the front in English but only adds 吗 at the end in Chinese, "a/an" and the English plural -s have
no Chinese counterpart. So translation is not word-for-word, and the cross-attention has real
reordering to learn.

The grammar is small enough to enumerate: `all_pairs()` lists every sentence it can make, in a fixed
order. `split()` then holds out whole *meanings* for the test split: a meaning (subject, verb, object,
time, place) or (subject, noun) goes to the test split with all its forms (statement, negative,
question), so a test sentence is never seen in training in any form, while every word is.

Run `python -m transformer_lesson.capstone.grammar` to regenerate `datasets/en_zh_{train,test}.tsv`;
`--check` verifies that the shipped files equal a fresh generation, byte for byte.

Conventions (the English side of the TSV is written the way a person writes it, so it reads
naturally and matches the lessons' examples):
- English: lower case except "I", "Chinese" and "English"; no final full stop; questions end in "?".
  The model never sees case or punctuation: `data.tokenize_english` lower-cases and drops
  punctuation, so "Do you like tea?" and "do you like tea" are the same input. A question is already
  marked by its first word (am/is/are/do/does), so the "?" carries no extra information here.
- Chinese: words separated by one space ("我 是 学生"); `data.join_chinese` joins them ("我是学生").
  Negation is its own word, 不, before 是 or the verb ("我 不 是 学生" → "我不是学生").
- "you" is singular (你); "we"/"they" take plural nouns in English ("they are doctors"), none in Chinese.
- "like" describes a state, so it takes no time or place phrase ("I like tea today" is odd English).
- A negative sentence takes "today" but not "every day": "he does not drink tea every day" means
  "not every day" (他 不是 每天 都 喝 茶), a different construction from the one this grammar teaches.
"""
from __future__ import annotations

import argparse
import hashlib
import math
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .data import tokenize_chinese, tokenize_english

__all__ = [
    "Pair", "SUBJECTS", "NOUNS", "VERBS", "TIMES", "PLACES", "FORMS", "SHOWCASE",
    "be_sentence", "verb_sentence", "all_pairs", "split", "generate", "format_tsv", "write_corpus",
    "DATASET_DIR", "TRAIN_FILE", "TEST_FILE",
]

# --------------------------------------------------------------------------------------------------
# The lexicon: every word the grammar uses, English next to Chinese.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """A subject pronoun with the forms of "be" and "do" it takes."""
    english: str
    chinese: str
    be: str             # am / is / are
    do: str             # do / does
    plural: bool        # "we"/"they" take plural nouns: "we are students"

    @property
    def third_singular(self) -> bool:
        """he/she: "does", and the verb takes -s ("she reads")."""
        return self.do == "does"


@dataclass(frozen=True)
class Noun:
    """A profession, for "be" sentences: "she is a nurse" → 她 是 护士."""
    singular: str
    plural: str
    chinese: str

    @property
    def article(self) -> str:
        return "an" if self.singular[0] in "aeiou" else "a"


@dataclass(frozen=True)
class Verb:
    """A verb, its third-person singular form, its Chinese, and the objects that make sense with it."""
    base: str
    third_singular: str
    chinese: str
    objects: tuple[str, ...]
    takes_time_and_place: bool = True


@dataclass(frozen=True)
class Phrase:
    """A time or place phrase: English words and Chinese words (space-separated)."""
    english: str
    chinese: str


SUBJECTS = (
    Subject("I", "我", be="am", do="do", plural=False),
    Subject("you", "你", be="are", do="do", plural=False),
    Subject("he", "他", be="is", do="does", plural=False),
    Subject("she", "她", be="is", do="does", plural=False),
    Subject("we", "我们", be="are", do="do", plural=True),
    Subject("they", "他们", be="are", do="do", plural=True),
)

NOUNS = (
    Noun("student", "students", "学生"),
    Noun("teacher", "teachers", "老师"),
    Noun("doctor", "doctors", "医生"),
    Noun("engineer", "engineers", "工程师"),
    Noun("nurse", "nurses", "护士"),
    Noun("worker", "workers", "工人"),
    Noun("farmer", "farmers", "农民"),
)

OBJECTS = {                     # English object → Chinese
    "apples": "苹果", "rice": "米饭", "noodles": "面条", "bread": "面包",
    "tea": "茶", "water": "水", "milk": "牛奶", "coffee": "咖啡",
    "books": "书", "newspapers": "报纸",
    "Chinese": "中文", "English": "英文", "math": "数学",
}

VERBS = (
    Verb("like", "likes", "喜欢", tuple(OBJECTS), takes_time_and_place=False),
    Verb("eat", "eats", "吃", ("apples", "rice", "noodles", "bread")),
    Verb("drink", "drinks", "喝", ("tea", "water", "milk", "coffee")),
    Verb("read", "reads", "读", ("books", "newspapers")),
    Verb("study", "studies", "学习", ("Chinese", "English", "math")),
)

EVERY_DAY = Phrase("every day", "每天")
TIMES = (None, EVERY_DAY, Phrase("today", "今天"))
PLACES = (None, Phrase("at home", "在 家"), Phrase("at school", "在 学校"), Phrase("in the library", "在 图书馆"))

FORMS = ("statement", "negative", "question")

# The course's own examples (COURSE.md and the lessons). Their meanings always stay in training,
# so the lessons' demonstrations translate sentences the model has been taught.
SHOWCASE = {
    "I am a student": "我 是 学生",
    "we are students": "我们 是 学生",
    "they are doctors": "他们 是 医生",
    "is she a nurse?": "她 是 护士 吗",
    "they study Chinese in the library today": "他们 今天 在 图书馆 学习 中文",
    "he does not drink tea at school": "他 在 学校 不 喝 茶",
    "does he read books every day?": "他 每天 读 书 吗",
    "do you like tea?": "你 喜欢 茶 吗",
}

# --------------------------------------------------------------------------------------------------
# Building sentences.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """One sentence pair and what it says.

    `meaning` identifies the content regardless of form: the statement, the negative and the
    question of one meaning share it, and `split` keeps them on the same side.
    `stratum` is the sentence family ("be", or the verb) that the split samples from evenly.
    """
    english: str
    chinese: str
    form: str
    meaning: tuple[str, ...]

    @property
    def stratum(self) -> str:
        return self.meaning[0]


def _words(*parts: str | None) -> str:
    """Join the non-empty parts with single spaces."""
    return " ".join(p for p in parts if p)


def be_sentence(subject: Subject, noun: Noun, form: str) -> Pair:
    """ "she is a nurse" → 她 是 护士; "we are not students" → 我们 不 是 学生; "is she a nurse?" → 她 是 护士 吗."""
    complement = noun.plural if subject.plural else f"{noun.article} {noun.singular}"   # a/an: no Chinese
    if form == "statement":
        english, chinese = _words(subject.english, subject.be, complement), _words(subject.chinese, "是", noun.chinese)
    elif form == "negative":
        english = _words(subject.english, subject.be, "not", complement)
        chinese = _words(subject.chinese, "不", "是", noun.chinese)
    elif form == "question":
        english = _words(subject.be, subject.english, complement) + "?"
        chinese = _words(subject.chinese, "是", noun.chinese, "吗")
    else:
        raise ValueError(f"expected form to be one of {', '.join(map(repr, FORMS))}, got {form!r}")
    return Pair(english, chinese, form, ("be", subject.english, noun.singular))


def verb_sentence(subject: Subject, verb: Verb, obj: str, time: Phrase | None, place: Phrase | None,
                  form: str) -> Pair:
    """ "he does not drink tea at school" → 他 在 学校 不 喝 茶: time and place move before the verb."""
    english_object, chinese_object = obj, OBJECTS[obj]
    english_tail = _words(english_object, place and place.english, time and time.english)   # object, place, time
    chinese_front = _words(time and time.chinese, place and place.chinese)                 # time before place
    if form == "statement":
        english_verb = verb.third_singular if subject.third_singular else verb.base          # "she reads"
        english = _words(subject.english, english_verb, english_tail)
        chinese = _words(subject.chinese, chinese_front, verb.chinese, chinese_object)
    elif form == "negative":
        english = _words(subject.english, subject.do, "not", verb.base, english_tail)
        chinese = _words(subject.chinese, chinese_front, "不", verb.chinese, chinese_object)  # 不 right before the verb
    elif form == "question":
        english = _words(subject.do, subject.english, verb.base, english_tail) + "?"
        chinese = _words(subject.chinese, chinese_front, verb.chinese, chinese_object, "吗")
    else:
        raise ValueError(f"expected form to be one of {', '.join(map(repr, FORMS))}, got {form!r}")
    meaning = ("verb:" + verb.base, subject.english, obj, time.english if time else "", place.english if place else "")
    return Pair(english, chinese, form, meaning)


def all_pairs() -> list[Pair]:
    """Every sentence the grammar can make, in a fixed order ("I am a student" first)."""
    pairs = []
    for subject in SUBJECTS:
        for noun in NOUNS:
            for form in FORMS:
                pairs.append(be_sentence(subject, noun, form))
    for verb in VERBS:
        times = TIMES if verb.takes_time_and_place else (None,)
        places = PLACES if verb.takes_time_and_place else (None,)
        for subject in SUBJECTS:
            for obj in verb.objects:
                for time in times:
                    for place in places:
                        for form in FORMS:
                            if form == "negative" and time is EVERY_DAY:
                                continue    # "not every day" is another construction (see the module docstring)
                            pairs.append(verb_sentence(subject, verb, obj, time, place, form))
    return pairs


# --------------------------------------------------------------------------------------------------
# The held-out split.
# --------------------------------------------------------------------------------------------------


def _rank(seed: int, meaning: tuple[str, ...]) -> str:
    """A seeded, machine-independent pseudo-random key (unlike `random.shuffle`, whose algorithm
    Python does not promise to keep): the SHA-256 of the seed and the meaning."""
    return hashlib.sha256(f"{seed}|{'|'.join(meaning)}".encode("utf-8")).hexdigest()


def _tokens(pair: Pair) -> set[str]:
    return set(tokenize_english(pair.english)) | set(tokenize_chinese(pair.chinese))


def split(pairs: list[Pair], seed: int = 0, test_fraction: float = 0.12) -> tuple[list[Pair], list[Pair]]:
    """Split into (train, test) by meaning.

    Within each family ("be", and each verb) the meanings are ranked by a seeded hash, and the first
    `test_fraction` of them go to the test split with all their forms. A meaning is passed over if
    holding it out would take the last training example of some word away, so every test word is
    also a training word; the showcase sentences' meanings always stay in training.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"expected seed to be an int, got {seed!r} ({type(seed).__name__})")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ValueError(f"expected test_fraction to be a number in (0, 1), got {test_fraction!r}")
    keep_in_train = {p.meaning for p in pairs if p.english in SHOWCASE}
    by_meaning: dict[tuple[str, ...], list[Pair]] = {}
    for p in pairs:
        by_meaning.setdefault(p.meaning, []).append(p)
    strata: dict[str, list[tuple[str, ...]]] = {}
    for meaning in by_meaning:
        strata.setdefault(meaning[0], []).append(meaning)
    uses = Counter(t for p in pairs for t in _tokens(p))       # in how many training pairs each word still is

    held_out = set()
    for meanings in strata.values():
        n_test = math.floor(len(meanings) * test_fraction + 0.5)
        candidates = sorted((m for m in meanings if m not in keep_in_train), key=lambda m: _rank(seed, m))
        for meaning in candidates:
            if n_test == 0:
                break
            lost = Counter(t for p in by_meaning[meaning] for t in _tokens(p))
            if all(uses[t] > n for t, n in lost.items()):     # every word keeps a training example
                held_out.add(meaning)
                uses.subtract(lost)
                n_test -= 1
    train = [p for p in pairs if p.meaning not in held_out]
    test = [p for p in pairs if p.meaning in held_out]
    return train, test


def generate(seed: int = 0, test_fraction: float = 0.12) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The corpus as (train, test) lists of (english, chinese) string pairs, exactly as in the TSV files."""
    train, test = split(all_pairs(), seed=seed, test_fraction=test_fraction)
    return [(p.english, p.chinese) for p in train], [(p.english, p.chinese) for p in test]


# --------------------------------------------------------------------------------------------------
# Writing the files.
# --------------------------------------------------------------------------------------------------

DATASET_DIR = Path(__file__).resolve().parent / "datasets"
TRAIN_FILE = "en_zh_train.tsv"
TEST_FILE = "en_zh_test.tsv"


def format_tsv(pairs: list[tuple[str, str]]) -> bytes:
    """`english<TAB>chinese` lines, "\\n" line endings, UTF-8 without a byte-order mark."""
    return "".join(f"{en}\t{zh}\n" for en, zh in pairs).encode("utf-8")


def write_corpus(directory: str | Path = DATASET_DIR, seed: int = 0) -> dict[str, int]:
    """Write the train and test TSV files into `directory`; return the number of pairs in each."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    train, test = generate(seed=seed)
    (directory / TRAIN_FILE).write_bytes(format_tsv(train))
    (directory / TEST_FILE).write_bytes(format_tsv(test))
    return {TRAIN_FILE: len(train), TEST_FILE: len(test)}


def _summary(train: list[tuple[str, str]], test: list[tuple[str, str]]) -> str:
    en_words = {t for en, _ in train + test for t in tokenize_english(en)}
    zh_words = {t for _, zh in train + test for t in tokenize_chinese(zh)}
    en_max = max(len(tokenize_english(en)) for en, _ in train + test)
    zh_max = max(len(tokenize_chinese(zh)) for _, zh in train + test)
    return (f"{len(train)} train pairs, {len(test)} test pairs; "
            f"{len(en_words)} English words (longest sentence {en_max} tokens), "
            f"{len(zh_words)} Chinese words (longest {zh_max} tokens)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m transformer_lesson.capstone.grammar",
        description="Regenerate the English→Chinese corpus (datasets/en_zh_train.tsv, en_zh_test.tsv).")
    parser.add_argument("--out", type=Path, default=DATASET_DIR, help="folder to write to (default: the package's)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out split (default 0, the shipped one)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the files in --out differ from a fresh generation")
    args = parser.parse_args(argv)

    train, test = generate(seed=args.seed)
    if args.check:
        stale = [name for name, pairs in ((TRAIN_FILE, train), (TEST_FILE, test))
                 if not (args.out / name).is_file() or (args.out / name).read_bytes() != format_tsv(pairs)]
        if stale:
            print(f"out of date in {args.out}: {', '.join(stale)}; "
                  "run `python -m transformer_lesson.capstone.grammar` to regenerate", file=sys.stderr)
            return 1
        print(f"{args.out}: up to date ({_summary(train, test)})")
        return 0
    counts = write_corpus(args.out, seed=args.seed)
    for name, n in counts.items():
        print(f"wrote {n:5d} pairs to {args.out / name}")
    print(_summary(train, test))
    return 0


if __name__ == "__main__":
    sys.exit(main())
