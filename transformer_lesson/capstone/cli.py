"""The terminal command: `python -m transformer_lesson translate "I am a student"`.

The first call trains the capstone translator (10-15 seconds on a laptop CPU) and keeps it in the
user's cache folder, `$XDG_CACHE_HOME/transformer_lesson/` or `~/.cache/transformer_lesson/`; later
calls load it in a fraction of a second. `--model PATH` uses (or creates) another file, `--retrain`
trains afresh. The translation is printed with the beam's alternatives and their scores.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import unicodedata
from pathlib import Path

from .. import __version__
from .files import file_lock
from .training import train_translator
from .translator import Translator

EXIT_UNKNOWN_WORDS = 2


def _positive_int(text: str) -> int:
    """argparse type of --beam: a positive integer (the translator bounds it by its vocabulary)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer such as 4, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer such as 4 (1 = greedy), got {value}")
    return value


def _alpha(text: str) -> float:
    """argparse type of --length-penalty: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a number >= 0 such as 0.6 (0 turns it off), got {text!r}")
    return value


def default_model_path() -> Path:
    """`$XDG_CACHE_HOME/transformer_lesson/translator-<version>.pt`, or under `~/.cache` without XDG_CACHE_HOME."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "transformer_lesson" / f"translator-{__version__}.pt"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m transformer_lesson",
        description="Transformer Principles (Transformer 原理): the course's English-to-Chinese translator.",
        epilog='example: python -m transformer_lesson translate "I am a student" "Do you like tea?"')
    parser.add_argument("--version", action="version", version=f"transformer_lesson {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    translate = commands.add_parser(
        "translate", help="translate English sentences into Chinese",
        description="Translate English sentences with the course's Transformer. The first run trains it "
                    f"(10-15 s on a CPU) and caches it at {default_model_path()}; later runs reuse it.",
        epilog="The model knows only the corpus's small vocabulary (subjects, be-sentences, a few verbs, "
               "objects, times and places); capitals and final punctuation are fine, "
               "e.g. \"Do you like tea?\". Unknown words end with exit status 2.")
    translate.add_argument("sentences", nargs="+", metavar="SENTENCE", help="English sentence(s), quoted")
    translate.add_argument("--beam", type=_positive_int, default=4, metavar="N",
                           help="beam width (default 4, as in the paper; 1 = greedy decoding)")
    translate.add_argument("--length-penalty", type=_alpha, default=0.6, metavar="ALPHA",
                           help="GNMT length penalty alpha: score = log P / ((5 + length) / 6)^alpha (default 0.6)")
    translate.add_argument("--model", type=Path, metavar="PATH",
                           help="translator file to use; trained and saved there if it does not exist "
                                f"(default: {default_model_path()})")
    translate.add_argument("--retrain", action="store_true", help="train a new model even if the file exists")
    translate.add_argument("--seed", type=int, default=0, help="seed used when training (default 0)")
    translate.add_argument("--quiet", action="store_true", help="no progress bar or status messages")
    return parser


def _say(message: str, quiet: bool) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def _load_if_present(path: Path, explicit: bool, quiet: bool):
    """The translator at `path`, or None if there is none (or, for the cache file, an unreadable one)."""
    if not path.exists():
        return None
    try:
        translator = Translator.load(path)
    except ValueError as error:
        if explicit:                          # never overwrite a file the user named
            raise
        _say(f"the cached model is unreadable ({error}); training a new one", quiet)
        return None
    _say(f"using the model in {path}", quiet)
    return translator


def get_translator(path: Path | None, retrain: bool, seed: int, quiet: bool):
    """Load the translator at `path` (default: the cache file), training and saving one if needed.

    A lock file next to `path` makes a second run wait while a first one trains, then load its model,
    instead of training a second copy. A model that cannot be saved is still returned (and used).
    """
    explicit = path is not None
    path = path if explicit else default_model_path()
    if not retrain and (translator := _load_if_present(path, explicit, quiet)) is not None:
        return translator
    waiting = lambda: _say(f"another run is training the model for {path}; waiting for it", quiet)  # noqa: E731
    with file_lock(path, on_wait=waiting) as locked:
        if not retrain and locked and (translator := _load_if_present(path, explicit, quiet)) is not None:
            return translator                 # the run we waited for has saved it
        _say(f"training the translator (10-15 s on a CPU); it will be saved to {path}", quiet)
        translator = train_translator(seed=seed, progress=not quiet)
        test = translator.history.get("test")
        if test:
            _say(f"held-out exact match (greedy): {test['accuracy']:.1%} of {test['total']} sentences", quiet)
        try:
            translator.save(path)
        except OSError as error:
            _say(f"warning: the model was not cached: {error}; the next run will train it again", quiet=False)
    return translator


def _width(text: str) -> int:
    """Terminal columns: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def run_translate(args) -> int:
    try:
        translator = get_translator(args.model, args.retrain, args.seed, args.quiet)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    assert isinstance(translator, Translator)
    problems = []
    for sentence in args.sentences:                  # check every sentence before translating any
        try:
            translator.source_words(sentence)
        except ValueError as error:
            problems.append(f"error: {sentence!r}: {error}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return EXIT_UNKNOWN_WORDS
    if args.beam > len(translator.tgt_vocab):
        print(f"error: expected --beam of at most {len(translator.tgt_vocab)} (the Chinese vocabulary size), "
              f"got {args.beam}", file=sys.stderr)
        return 1
    for i, sentence in enumerate(args.sentences):
        options = translator.alternatives(sentence, beam_size=args.beam, length_penalty=args.length_penalty)
        best = options[0][0]
        if i:
            print()
        print(sentence)
        print(f"  -> {best}")
        if args.beam == 1:
            print("  greedy decoding (score = log P):")
        else:
            print(f"  beam search, beam {args.beam}, best first; "
                  f"score = log P / ((5 + length) / 6)^{args.length_penalty:g}:")
        width = max(_width(text) for text, _, _ in options)
        for rank, (text, score, log_prob) in enumerate(options, start=1):
            pad = " " * (width - _width(text))
            print(f"    {rank}. {text}{pad}  score {score:8.3f}   log P {log_prob:8.3f}   "
                  f"P {math.exp(log_prob):6.1%}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "translate":
        try:
            return run_translate(args)
        except BrokenPipeError:
            # the reader went away (`... | head -1`): stop quietly, as other command-line tools do
            _silence_stdout()
            return 0
    return 2  # pragma: no cover - argparse rejects other commands


def _silence_stdout() -> None:
    """Point stdout at the null device, so Python's final flush does not raise BrokenPipeError again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):   # not a real file (e.g. captured by a test)
        pass


if __name__ == "__main__":
    sys.exit(main())
