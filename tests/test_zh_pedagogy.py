"""The Chinese lessons keep the English lessons' shape: the same sections, prompts, questions and seed verdicts.

For every lesson in zh/notebooks/ (beside its English twin in notebooks/):
- title `# NN · 中文 (English)` in the first cell; the same number of numbered sections `## N · ...`, with
  the optional ones headed `## N · 选读 (Deeper): ...` exactly where the English has `Deeper (选读)`;
- the ending: `## 小结 (Recap)`, `## 术语表 (Glossary)` (a `| 中文 | English |` table), `## 练习 (Exercise)`
  (pointing at `zh/exercises/` when the lesson has an exercise notebook), then
  `## 下一课：NN · 中文 (English)` or, for the last lesson, `## 课程结束 (The end of the course)`;
- as many `**先猜一猜 (Predict):**` prompts as the English `Predict`, each followed at once by a code cell,
  and as many `**想一想 (Think):**` questions, each with its answer folded in `<details>`;
- the same seed quotes in the same order, each `**原文 (The seed says):**` block with its 「quote」 and
  `**结论 (Verdict): 成立 / 有条件成立 / 部分成立 / 不成立**`, the verdict the English block gives;
- the time line under the title, `*约 N 分钟（阅读并运行）…*`.
Each zh exercise notebook is titled `# 练习 NN · ...` and gives each exercise the badges
`**难度** … **用时** 约 N 分钟 … **分值** P`, with the English exercise's points.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from test_lesson_pedagogy import DEEPER, PREDICT, THINK, opens_with_picture, seed_quotes
from test_notebook_conventions import _headings as markdown_headings

ROOT = Path(__file__).resolve().parents[1]
ZH_LESSONS = sorted((ROOT / "zh" / "notebooks").glob("0[1-9]_*.ipynb"))
ZH_NOTEBOOKS = sorted((ROOT / "zh" / "notebooks").glob("*.ipynb"))
ZH_SOLUTIONS = sorted((ROOT / "zh" / "solutions").glob("*.ipynb"))

ZH_PREDICT = "**先猜一猜 (Predict):**"
ZH_THINK = "**想一想 (Think):**"
ZH_SEED = "**原文 (The seed says):**"
ZH_VERDICT = re.compile(r"\*\*结论 \(Verdict\)[:：]\s*(有条件成立|部分成立|不成立|成立)")
VERDICTS = {"holds": "成立", "holds when": "有条件成立", "partly holds": "部分成立", "does not hold": "不成立"}
QUOTE = re.compile(r"「([^」]+)」")
TITLE = re.compile(r"# (\d\d) · [^\s(].*[\u4e00-\u9fff].* \([A-Za-z][^()]*\)")
SECTION = re.compile(r"## (\d+) · \S.*")
ZH_DEEPER = re.compile(r"## \d+ · 选读 \(Deeper\): \S.*")
ENDING = ["## 小结 (Recap)", "## 术语表 (Glossary)", "## 练习 (Exercise)"]
NEXT = re.compile(r"## 下一课：(\d\d) · \S.* \([A-Za-z][^()]*\)")
LAST = "## 课程结束 (The end of the course)"
GLOSSARY_TABLE = "| 中文 | English |"
TIME_LINE = re.compile(r"^\*约 \d+ 分钟（阅读并运行）", re.M)
BADGES = re.compile(r"\*\*难度\*\* .*\*\*用时\*\* 约 \d+ 分钟 .*\*\*分值\*\* (\d+)")
EN_POINTS = re.compile(r"\*\*Difficulty\*\* .*\*\*Points\*\* (\d+)")


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _english(path: Path):
    return _read(ROOT / path.parent.name / path.name)


def _headings(nb, prefix: str) -> list[str]:
    """The markdown headings that start with `prefix` ("# ", "## "), outside fenced code."""
    return [line for _, line in markdown_headings(nb) if line.startswith(prefix)]


def _markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _prompts_followed_by_code(nb, marker: str) -> tuple[int, list[int]]:
    count, bad = 0, []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and marker in cell.source:
            count += 1
            after = nb.cells[index + 1] if index + 1 < len(nb.cells) else None
            if after is None or after.cell_type != "code":
                bad.append(index)
    return count, bad


def zh_seed_quotes(nb) -> list[tuple[str, str]]:
    found = []
    for block in _markdown(nb).split(ZH_SEED)[1:]:
        quote, verdict = QUOTE.search(block), ZH_VERDICT.search(block)
        found.append((quote.group(1) if quote else "", verdict.group(1) if verdict else ""))
    return found


def _ids(path: Path) -> str:
    return path.name


@pytest.mark.parametrize("path", ZH_NOTEBOOKS, ids=_ids)
def test_a_chinese_lesson_opens_with_its_picture(path):
    assert not opens_with_picture(_read(path))


@pytest.mark.parametrize("path", ZH_LESSONS, ids=_ids)
def test_a_chinese_lesson_has_its_title_and_the_english_sections(path):
    nb, en = _read(path), _english(path)
    titles = _headings(nb, "# ")
    assert len(titles) == 1 and TITLE.fullmatch(titles[0]) and titles[0][2:4] == path.name[:2], titles
    assert nb.cells[0].cell_type == "markdown" and titles[0] in nb.cells[0].source
    assert TIME_LINE.search(nb.cells[0].source), "no `*约 N 分钟（阅读并运行）…*` line under the title"
    sections = [h for h in _headings(nb, "## ") if SECTION.fullmatch(h)]
    en_sections = [h for h in _headings(en, "## ") if SECTION.fullmatch(h)]
    assert [int(SECTION.fullmatch(h).group(1)) for h in sections] == list(range(1, len(en_sections) + 1))
    deeper = [i for i, h in enumerate(sections, start=1) if ZH_DEEPER.fullmatch(h)]
    en_deeper = [i for i, h in enumerate(en_sections, start=1) if DEEPER.fullmatch(h)]
    assert deeper == en_deeper, f"选读 (Deeper) sections {deeper}, English Deeper sections {en_deeper}"


@pytest.mark.parametrize("path", ZH_LESSONS, ids=_ids)
def test_a_chinese_lesson_ends_with_recap_glossary_exercise_and_next(path):
    nb = _read(path)
    level2 = _headings(nb, "## ")
    assert ENDING[0] in level2, f"no `{ENDING[0]}` section; headings: {level2}"
    tail = level2[level2.index(ENDING[0]):]
    assert tail[:-1] == ENDING, f"the lesson must end with {ENDING} and a pointer onward; got {tail}"
    numbers = sorted(p.name[:2] for p in ZH_LESSONS)
    later = [n for n in numbers if n > path.name[:2]]
    if later:
        match = NEXT.fullmatch(tail[-1])
        assert match and match.group(1) == later[0], f"expected `## 下一课：{later[0]} · 中文 (English)`, got {tail[-1]!r}"
    else:
        assert tail[-1] == LAST
    text = _markdown(nb)
    glossary = text.split(ENDING[1], 1)[1].split(ENDING[2], 1)[0]
    assert GLOSSARY_TABLE in glossary, f"`{ENDING[1]}` must hold a `{GLOSSARY_TABLE}` table"
    exercise = text.split(ENDING[2], 1)[1]
    if (ROOT / "zh" / "exercises" / path.name).exists():
        assert "zh/exercises/" in exercise, f"`{ENDING[2]}` must point at zh/exercises/{path.name}"


@pytest.mark.parametrize("path", ZH_LESSONS, ids=_ids)
def test_a_chinese_lesson_asks_the_same_predictions_and_questions(path):
    nb, en = _read(path), _english(path)
    count, bad = _prompts_followed_by_code(nb, ZH_PREDICT)
    en_count, _ = _prompts_followed_by_code(en, PREDICT)
    assert count == en_count, f"{count} `{ZH_PREDICT}` prompts, the English lesson has {en_count}"
    assert not bad, f"cells {bad}: a prompt must be followed at once by the code cell that answers it"
    exercise = _markdown(nb).split(ENDING[2], 1)[-1]
    questions = exercise.split(ZH_THINK)[1:]
    en_questions = _markdown(en).split("## Exercise 练习", 1)[-1].split(THINK)[1:]
    assert len(questions) == len(en_questions), f"{len(questions)} `{ZH_THINK}` questions, English {len(en_questions)}"
    assert all("<details>" in q and "</details>" in q for q in questions), "each question folds its answer"


@pytest.mark.parametrize("path", ZH_LESSONS, ids=_ids)
def test_a_chinese_lesson_judges_the_same_seed_sentences_the_same_way(path):
    nb, en = _read(path), _english(path)
    expected = [(quote, VERDICTS[verdict]) for quote, verdict in seed_quotes(en)]
    assert zh_seed_quotes(nb) == expected


@pytest.mark.parametrize("path", ZH_SOLUTIONS, ids=_ids)
def test_a_chinese_exercise_has_its_title_and_the_english_badges(path):
    nb, en = _read(path), _english(path)
    assert nb.cells[0].source.startswith(f"# 练习 {path.name[:2]} · "), nb.cells[0].source[:80]
    points = [int(m.group(1)) for m in BADGES.finditer(_markdown(nb))]
    en_points = [int(m.group(1)) for m in EN_POINTS.finditer(_markdown(en))]
    assert points == en_points and points, f"badges' points {points}, English {en_points}"


SOFT_BREAK = re.compile(r"[\u4e00-\u9fff，。、；：？！）」”][*_`]*\n(?:> ?)?[ \t]*[*_`]*[\u4e00-\u9fff（「“]")


def soft_breaks(nb) -> list[str]:
    """Line breaks inside a Chinese sentence: markdown renders them as a space between two characters."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        text = re.sub(r"```.*?```", "", cell.source, flags=re.S)
        found += [f"cell {index}: {m.group(0)!r}" for m in SOFT_BREAK.finditer(text)]
    return found


@pytest.mark.parametrize("path", ZH_NOTEBOOKS + ZH_SOLUTIONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_chinese_paragraphs_have_no_line_break_inside_a_sentence(path):
    found = soft_breaks(_read(path))
    assert not found, f"{len(found)} breaks render as stray spaces (join the lines): {found[:5]}"
