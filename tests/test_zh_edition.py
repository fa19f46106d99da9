"""The Chinese edition (zh/) runs the English edition's code: one source of code, two languages of prose.

For every notebook of notebooks/, solutions/ and exercises/ there is one of the same name under zh/, and
- its code cells are the English code cells in the same order, token for token, once comments and string
  literals are set aside (they are the reader's language: comments, printed labels, docstrings, the install
  cell's messages), and the setup cell's `setup(lang="zh")` is read as `setup()`; cell tags and nbgrader metadata are the same;
- every compared code cell prints the same numbers in both editions (a data string translated by
  mistake, "I am a student" -> "我是学生", changes the ids, the shapes or the results and fails here);
- every multi-digit or decimal number of an English lesson's prose appears in its Chinese prose;
- zh/exercises/ is what `make exercises` generates from zh/solutions/ (not stale).
"""
from __future__ import annotations

import importlib.util
import io
import re
import tokenize
from collections import Counter
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parents[1]
ZH = ROOT / "zh"
FOLDERS = ("notebooks", "solutions", "exercises")
PAIRS = [(ROOT / folder / p.name, ZH / folder / p.name)
         for folder in FOLDERS for p in sorted((ROOT / folder).glob("*.ipynb"))]
MARKER = "# NBVAL_IGNORE_OUTPUT"
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
PROSE_NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?(?![\w])")
SETUP_LANG = [(tokenize.NAME, "lang"), (tokenize.OP, "="), (tokenize.STRING, "STR")]


def _ids(pair) -> str:
    return f"{pair[0].parent.name}/{pair[0].name}"


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def code_tokens(source: str) -> list[tuple[int, str]]:
    """The cell's Python tokens with comments and layout dropped and each run of string literals one STR."""
    python = TransformerManager().transform_cell(source)
    tokens: list[tuple[int, str]] = []
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING,
            tokenize.ENDMARKER)
    for tok in tokenize.generate_tokens(io.StringIO(python).readline):
        if tok.type in skip:
            continue
        if tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_START", -1):
            if tokens and tokens[-1] == (tokenize.STRING, "STR"):
                continue
            tokens.append((tokenize.STRING, "STR"))
        elif tok.type in (getattr(tokenize, "FSTRING_MIDDLE", -1), getattr(tokenize, "FSTRING_END", -1)):
            continue  # Python 3.12+: an f-string's parts (its {fields} stay tokens of their own)
        else:
            tokens.append((tok.type, tok.string))
    return tokens


def without_setup_lang(tokens: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """`setup(lang="zh")` read as `setup()`: the one call the Chinese edition adds."""
    out = list(tokens)
    for i in range(len(out) - 4):
        if out[i] == (tokenize.NAME, "setup") and out[i + 1] == (tokenize.OP, "(") and out[i + 2:i + 5] == SETUP_LANG:
            del out[i + 2:i + 5]
            break
    return out


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def printed_numbers(cell) -> Counter:
    text = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            text.append(out.get("text", ""))
        elif "data" in out:
            data = out["data"]
            text.append(data.get("text/plain", "") if "application/vnd.jupyter.widget-view+json" not in data else "")
        elif out.get("output_type") == "error":
            text.append(out.get("ename", ""))
    return Counter(NUMBER.findall("".join(text)))


def prose_numbers(nb) -> set[str]:
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    text = re.sub(r"\]\([^)]*\)", "]", text)                        # link targets (file names, anchors)
    text = re.sub(r"About \d+ minutes \(reading and running it\)(, plus about \d+ minutes for the exercise)?"
                  r"|约 \d+ 分钟（阅读并运行）(，另加约 \d+ 分钟做练习)?", "", text)  # the time: each edition measures its own
    return {n for n in PROSE_NUMBER.findall(text) if len(n.replace(",", "").replace(".", "")) >= 2}


def test_every_english_notebook_has_its_chinese_twin_and_no_chinese_notebook_is_orphaned():
    assert len(PAIRS) >= 25
    missing = [str(zh.relative_to(ROOT)) for _, zh in PAIRS if not zh.exists()]
    assert not missing, f"no Chinese edition of: {missing}"
    orphans = [str(p.relative_to(ROOT)) for folder in FOLDERS for p in sorted((ZH / folder).glob("*.ipynb"))
               if not (ROOT / folder / p.name).exists()]
    assert not orphans, f"Chinese notebooks without an English one: {orphans}"


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_the_chinese_code_cells_are_the_english_ones(pair):
    en, zh = (_read(p) for p in pair)
    en_code, zh_code = code_cells(en), code_cells(zh)
    assert len(zh_code) == len(en_code), f"{len(zh_code)} code cells in Chinese, {len(en_code)} in English"
    for number, (e, z) in enumerate(zip(en_code, zh_code), start=1):
        assert without_setup_lang(code_tokens(z.source)) == code_tokens(e.source), (
            f"code cell {number} differs beyond comments and strings:\n--- English\n{e.source}\n--- Chinese\n{z.source}")
        for key in ("tags", "nbgrader"):
            assert z.metadata.get(key) == e.metadata.get(key), f"code cell {number}: metadata {key!r} differs"
        assert (z.source.splitlines()[:1] == [MARKER]) == (e.source.splitlines()[:1] == [MARKER]), (
            f"code cell {number}: `{MARKER}` in one edition only")


@pytest.mark.parametrize("pair", [p for p in PAIRS if p[0].parent.name != "exercises"], ids=_ids)
def test_the_chinese_setup_cell_chooses_chinese(pair):
    setup_cell = code_cells(_read(pair[1]))[1].source  # the second code cell: the first is the install cell
    assert re.search(r"\bsetup\(lang=\"zh\"\)", setup_cell), (
        f"the setup cell (second code cell) must call setup(lang=\"zh\"):\n{setup_cell}")


@pytest.mark.parametrize("pair", [p for p in PAIRS if p[0].parent.name != "exercises"], ids=_ids)
def test_every_compared_cell_prints_the_same_numbers_in_both_editions(pair):
    en, zh = (_read(p) for p in pair)
    for number, (e, z) in enumerate(zip(code_cells(en), code_cells(zh)), start=1):
        if e.source.startswith(MARKER):
            continue  # not compared by nbval either: training or timing numbers, or a widget
        assert printed_numbers(z) == printed_numbers(e), (
            f"code cell {number} prints other numbers in Chinese:\n{z.source[:300]}")


@pytest.mark.parametrize("pair", [p for p in PAIRS if p[0].parent.name == "notebooks"], ids=_ids)
def test_the_chinese_prose_keeps_every_number_of_the_english(pair):
    en, zh = (_read(p) for p in pair)
    lost = sorted(prose_numbers(en) - prose_numbers(zh))
    assert not lost, f"numbers of the English lesson missing from the Chinese one: {lost}"


def test_the_chinese_exercises_are_generated_from_the_chinese_solutions(tmp_path):
    spec = importlib.util.spec_from_file_location("make_exercises", ROOT / "tools" / "make_exercises.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.make_exercises(ZH / "solutions", tmp_path)
    assert written
    stale = [p.name for p in written
             if [(c.cell_type, c.source, c.metadata) for c in _read(p).cells]
             != [(c.cell_type, c.source, c.metadata) for c in _read(ZH / "exercises" / p.name).cells]]
    assert not stale, f"zh/exercises is stale (run `make exercises`): {stale}"


def test_the_token_comparison_sets_aside_comments_and_strings_only():
    a = 'print(f"{n} pairs", x)  # a comment\nsetup()\n'
    b = 'print(f"{n} 个句对", x)  # 注释\nsetup(lang="zh")\n'
    assert without_setup_lang(code_tokens(b)) == code_tokens(a)
    assert code_tokens('y = f(x, 2)') != code_tokens('y = f(x, 3)')               # a number
    assert code_tokens('y = f(x)') != code_tokens('y = g(x)')                      # a call
    assert code_tokens('"a" "b"\nz = 1') == code_tokens('"中文"\nz = 1')            # concatenated strings


@pytest.mark.parametrize("pair", [p for p in PAIRS if p[0].parent.name != "exercises"], ids=_ids)
def test_an_uncompared_chinese_cell_says_why_in_chinese(pair):
    for number, cell in enumerate(code_cells(_read(pair[1])), start=1):
        lines = cell.source.splitlines()
        if lines[:1] == [MARKER]:
            assert len(lines) > 1 and lines[1].startswith("# （") and re.search(r"[\u4e00-\u9fff]", lines[1]), (
                f"code cell {number}: `{MARKER}` must be followed by the reason in Chinese, `# （…）`")
