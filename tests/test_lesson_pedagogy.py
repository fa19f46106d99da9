"""What every lesson gives a learner beyond its code: a picture first, prompts to think, the seed judged.

Every lesson notebook (notebooks/01-08) and the tour (00):
- opens with its picture: a code cell drawing one of the lesson's `diagrams` comes before section 1
  (in the tour, before its first section) and stores the figure;
- asks the learner to predict: at least two `**Predict (先猜一猜):**` prompts, each followed at once by the
  code cell that answers it (lessons only);
- asks conceptual questions: at least two `**Think (想一想):**` questions in `## Exercise 练习`, each with
  its answer folded in `<details>` (lessons only);
- marks optional material: a section about deeper material is headed `## N · Deeper (选读): ...`, and
  lesson 01's first hour keeps its heavy words (Jacobian, Frobenius, nats) inside such sections;
- quotes the seed where it tests it: each `**The seed says (原文):**` block holds a 「quote」, an English
  gloss in italics and a `**Verdict (结论): holds ...**` line (holds / holds when / partly holds /
  does not hold); every lesson 01-08 judges at least one sentence; docs/seed_claims.md lists exactly the
  quotes the notebooks hold, with their lesson and verdict.

Each rule is a function returning its problems; the tests at the bottom break a well-formed synthetic
lesson once per rule and check that the rule complains.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
LESSONS = [p for p in NOTEBOOKS if re.match(r"0[1-9]_", p.name)]
SEED_TABLE = ROOT / "docs" / "seed_claims.md"

PREDICT = "**Predict (先猜一猜):**"
THINK = "**Think (想一想):**"
SEED = "**The seed says (原文):**"
VERDICT = re.compile(r"\*\*Verdict \(结论\): (holds when|holds|partly holds|does not hold)\b")
QUOTE = re.compile(r"「([^」]+)」")
DEEPER = re.compile(r"## \d+ · Deeper \(选读\): \S.*")
HEAVY_WORDS = ("Jacobian", "Frobenius", "nats")
DIAGRAM_CALL = re.compile(r"\bdiagrams\.\w+\(")


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _sections(nb) -> list[tuple[str, list]]:
    """(heading, cells) for each `##` section; the cells before the first one under ''."""
    found: list[tuple[str, list]] = [("", [])]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heading = next((line for line in cell.source.splitlines() if line.startswith("## ")), None)
            if heading:
                found.append((heading.strip(), []))
        found[-1][1].append(cell)
    return found


# ---- the rules ------------------------------------------------------------------------------------------

def opens_with_picture(nb) -> list[str]:
    before = _sections(nb)[0][1]
    for cell in before:
        if cell.cell_type == "code" and DIAGRAM_CALL.search(cell.source):
            if any("image/png" in out.get("data", {}) for out in cell.get("outputs", [])):
                return []
            return ["the opening diagram cell stores no figure: re-run the notebook"]
    return ["no opening picture: a code cell calling `diagrams.<name>()` must come before the first section"]


def predicts_then_runs(nb) -> list[str]:
    problems, count = [], 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and PREDICT in cell.source:
            count += 1
            following = nb.cells[index + 1] if index + 1 < len(nb.cells) else None
            if following is None or following.cell_type != "code":
                problems.append(f"cell {index}: a Predict prompt must be followed at once by the cell that answers it")
    if count < 2:
        problems.append(f"{count} `{PREDICT}` prompts; a lesson asks at least two")
    return problems


def thinks_with_answers(nb) -> list[str]:
    exercise = [cells for heading, cells in _sections(nb) if heading == "## Exercise 练习"]
    text = "\n".join(c.source for c in (exercise[0] if exercise else []) if c.cell_type == "markdown")
    questions = text.split(THINK)[1:]
    problems = [f"Think question {i + 1} has no folded answer (`<details>` ... `</details>`)"
                for i, q in enumerate(questions) if not ("<details>" in q and "</details>" in q)]
    if len(questions) < 2:
        problems.append(f"{len(questions)} `{THINK}` questions in `## Exercise 练习`; a lesson asks at least two")
    return problems


def deeper_marked(nb, heavy: bool = False) -> list[str]:
    problems = []
    for heading, cells in _sections(nb):
        deeper = bool(DEEPER.fullmatch(heading))
        if "deeper" in heading.lower() and not deeper:
            problems.append(f"{heading!r}: an optional section is headed `## N · Deeper (选读): Title`")
        if heavy and not deeper:
            text = "\n".join(c.source for c in cells)
            words = [w for w in HEAVY_WORDS if re.search(rf"\b{w}\b", text)]
            if words:
                problems.append(f"{heading or 'the introduction'!r} uses {words} outside a Deeper (选读) section")
    return problems


def seed_quotes(nb) -> list[tuple[str, str]]:
    """(quote, verdict) of every seed block in the notebook."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown" or SEED not in cell.source:
            continue
        for block in cell.source.split(SEED)[1:]:
            quote, verdict = QUOTE.search(block), VERDICT.search(block)
            found.append((quote.group(1) if quote else "", verdict.group(1) if verdict else ""))
    return found


def seed_judged(nb) -> list[str]:
    problems = []
    for cell in nb.cells:
        if cell.cell_type != "markdown" or SEED not in cell.source:
            continue
        for block in cell.source.split(SEED)[1:]:
            if not QUOTE.search(block):
                problems.append(f"a seed block without a 「quote」: {block[:60]!r}")
            if not re.search(r"\n>\s*\*[^*\s][^*]*\*", block):
                problems.append(f"a seed block without its English gloss in italics: {block[:60]!r}")
            if not VERDICT.search(block):
                problems.append(f"a seed block without `**Verdict (结论): holds / holds when / partly holds / "
                                f"does not hold`: {block[:60]!r}")
    if not seed_quotes(nb):
        problems.append(f"no `{SEED}` block: each lesson judges at least one sentence of the seed")
    return problems


def seed_table() -> list[tuple[str, str, str]]:
    """(quote, lesson number, verdict) rows of docs/seed_claims.md."""
    rows = []
    for line in SEED_TABLE.read_text(encoding="utf-8").splitlines():
        quote = QUOTE.search(line)
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if quote and len(cells) >= 4:
            lesson = re.search(r"\b(\d\d)\b", cells[2])
            verdict = re.match(r"\*?\*?(holds when|holds|partly holds|does not hold)\b", cells[3])
            rows.append((quote.group(1), lesson.group(1) if lesson else "", verdict.group(1) if verdict else ""))
    return rows


# ---- the stored notebooks -------------------------------------------------------------------------------

def _ids(path: Path) -> str:
    return path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_a_lesson_opens_with_its_picture(path):
    assert not opens_with_picture(_read(path)), f"{path.name}: {opens_with_picture(_read(path))}"


@pytest.mark.parametrize("path", LESSONS, ids=_ids)
def test_a_lesson_asks_the_learner_to_predict_before_running(path):
    assert not predicts_then_runs(_read(path)), f"{path.name}: {predicts_then_runs(_read(path))}"


@pytest.mark.parametrize("path", LESSONS, ids=_ids)
def test_a_lesson_asks_conceptual_questions_with_folded_answers(path):
    assert not thinks_with_answers(_read(path)), f"{path.name}: {thinks_with_answers(_read(path))}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_optional_material_is_marked_deeper(path):
    problems = deeper_marked(_read(path), heavy=path.name.startswith("01_"))
    assert not problems, f"{path.name}: {problems}"


@pytest.mark.parametrize("path", LESSONS, ids=_ids)
def test_a_lesson_quotes_and_judges_the_seed(path):
    assert not seed_judged(_read(path)), f"{path.name}: {seed_judged(_read(path))}"


def test_the_seed_table_lists_exactly_the_quotes_the_lessons_judge():
    in_notebooks = {(quote, path.name[:2], verdict) for path in NOTEBOOKS for quote, verdict in seed_quotes(_read(path))}
    in_table = set(seed_table())
    assert in_table, f"{SEED_TABLE.name} lists no quote"
    assert in_notebooks - in_table == set(), f"judged in a lesson but not in {SEED_TABLE.name}"
    assert in_table - in_notebooks == set(), f"in {SEED_TABLE.name} but not judged so in its lesson"


# ---- every rule can fail --------------------------------------------------------------------------------

def _md(source):
    return nbformat.v4.new_markdown_cell(source)


def _code(source, png=False):
    cell = nbformat.v4.new_code_cell(source)
    if png:
        cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "", "text/plain": "<Figure>"})]
    return cell


SEED_BLOCK = (f"> {SEED} 「残差连接可以缓解梯度消失」\n> *\"Residual connections relieve vanishing gradients.\"*\n>\n"
              "> **Verdict (结论): holds.** The gradient reaches the first layer.")


def _lesson():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _md("# 01 · Self-attention (自注意力)"),
        _code("setup()"),
        _code("diagrams.qkv_lookup()", png=True),
        _md("## 1 · Scores"),
        _md(f"{PREDICT} which word scores highest?"),
        _code("print(scores)"),
        _md(f"## 2 · Masks\n\n{SEED_BLOCK}"),
        _md(f"{PREDICT} what does the mask do?"),
        _code("print(masked)"),
        _md("## 3 · Deeper (选读): the Jacobian"),
        _md("## Exercise 练习\n\n" + "".join(f"{THINK} why {i}?\n\n<details><summary>Answer (答案)</summary>\n"
                                           f"because.\n</details>\n\n" for i in range(2))),
    ]
    return nb


RULES = {
    "picture": opens_with_picture,
    "predict": predicts_then_runs,
    "think": thinks_with_answers,
    "deeper": lambda nb: deeper_marked(nb, heavy=True),
    "seed": seed_judged,
}


def _complaints(nb) -> set[str]:
    return {name for name, rule in RULES.items() if rule(nb)}


def test_the_synthetic_lesson_passes_every_rule():
    assert _complaints(_lesson()) == set(), {name: rule(_lesson()) for name, rule in RULES.items()}
    assert seed_quotes(_lesson()) == [("残差连接可以缓解梯度消失", "holds")]


def _replace(index, source):
    def breaks(nb):
        nb.cells[index].source = source
        return nb
    breaks.__name__ = f"cell_{index}_becomes_{re.sub(r'[^a-z]+', '_', source.lower())[:30]}"
    return breaks


def _picture_without_output(nb):
    nb.cells[2].outputs = []
    return nb


def _predict_without_run(nb):
    nb.cells.insert(8, _md("The answer is below."))
    return nb


@pytest.mark.parametrize("rule, breaks", [
    ("picture", _replace(2, "print('no picture')")), ("picture", _picture_without_output),
    ("predict", _replace(7, "What does the mask do?")), ("predict", _predict_without_run),
    ("think", _replace(10, f"## Exercise 练习\n\n{THINK} why?\n\n{THINK} and why?")),
    ("think", _replace(10, f"## Exercise 练习\n\n{THINK} why?")),
    ("deeper", _replace(9, "## 3 · Deeper: the Jacobian")), ("deeper", _replace(3, "## 1 · Scores and their Jacobian")),
    ("seed", _replace(6, "## 2 · Masks")), ("seed", _replace(6, SEED_BLOCK.replace("**Verdict (结论): holds.**", "So."))),
    ("seed", _replace(6, SEED_BLOCK.replace("「残差连接可以缓解梯度消失」", "residuals help"))),
    ("seed", _replace(6, SEED_BLOCK.replace('> *"Residual connections relieve vanishing gradients."*\n', ""))),
], ids=lambda v: v if isinstance(v, str) else v.__name__.lstrip("_"))
def test_each_rule_can_fail(rule, breaks):
    assert rule in _complaints(breaks(_lesson()))
