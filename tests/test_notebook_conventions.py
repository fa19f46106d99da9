"""The house style of the stored notebooks, which their (removed) generator scripts used to enforce.

Every notebook in notebooks/ and solutions/:
- install, then setup: the first code cell, with only markdown before it, is the install cell (it defines
  and calls `install_course()`; tests/test_first_cell.py checks it is the text tools/first_cell.py
  generates), and the second calls `setup()` imported from `transformer_lesson.notebook`;
- widget cells marked: a code cell that shows a widget (a stored widget view, or a `*_widget(...)` /
  `FigureWidget(...)` call) starts with `# NBVAL_IGNORE_OUTPUT` and, on the next line, `# (why ...)`;
- every other code cell compared: it ran (execution counts 1, 2, 3, ... top to bottom, as from a fresh
  kernel), carries no nbval skip or tag, and leaves its output uncompared only for one of the reasons in
  UNCOMPARED_REASONS (tests/test_notebook_outputs.py then asks the training cells for an assert).

Every lesson notebook (notebooks/01-08; 00 is the tour):
- title: one `# NN · Title (中文)` heading, in the first cell, NN the file's number;
- numbered sections: every `##` heading before the recap is `## N · Title`, N = 1, 2, 3, ... (a
  bracketed Chinese term or claim is common but optional);
- the end: after the last section, `## Recap`, `## Glossary 术语表` (a `| English | 中文 |` table),
  `## Exercise 练习` (pointing at `exercises/` when the lesson has an exercise notebook), then
  `## Next: NN · Title (中文)` naming the next lesson, or `## The end of the course`; no code after them.

Each rule is a function returning its problems; the tests at the bottom break a well-formed synthetic
lesson once per rule and check that the rule complains.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXECUTED = NOTEBOOKS + sorted((ROOT / "solutions").glob("*.ipynb"))
LESSONS = [p for p in NOTEBOOKS if re.match(r"0[1-9]_", p.name)]

MARKER = "# NBVAL_IGNORE_OUTPUT"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_BUILDER = re.compile(r"(_widget|FigureWidget)$")
NBVAL_SKIPS = ("# NBVAL_SKIP", "# NBVAL_RAISES_EXCEPTION")
NBVAL_TAGS = ("nbval-skip", "nbval-ignore-output", "raises-exception", "nbval-raises-exception")
# Why a code cell without a widget may leave its output uncompared (the line after the marker starts so).
UNCOMPARED_REASONS = (
    "# (printed numbers come from training",  # last digits differ from CPU to CPU; the cell asserts its claim
    "# (timings differ",  # a clock reading; no claim rests on it
)
TITLE = re.compile(r"# (\d\d) · \S.* \([^()]*[\u4e00-\u9fff][^()]*\)")
SECTION = re.compile(r"## (\d+) · \S.*")
NEXT = re.compile(r"## Next: (\d\d) · \S.* (\([^()]*[\u4e00-\u9fff][^()]*\))")
ENDING = ["## Recap", "## Glossary 术语表", "## Exercise 练习"]
LAST_LESSON_END = "## The end of the course"
GLOSSARY_TABLE = "| English | 中文 |"


# ---- reading a notebook ---------------------------------------------------------------------------------

def _python(source: str) -> str:
    """Cell source with IPython magics and shell escapes blanked out, for the parser."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _headings(nb) -> list[tuple[int, str]]:
    """(cell index, line) of every markdown heading, outside fenced code blocks."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        fenced = False
        for line in cell.source.splitlines():
            if line.lstrip().startswith(("```", "~~~")):
                fenced = not fenced
            elif not fenced and re.match(r"#{1,6} ", line):
                found.append((index, line.rstrip()))
    return found


def _section_text(nb, heading: str) -> str:
    """The markdown after `heading` up to the next heading of level 1 or 2."""
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    after = text.split(heading + "\n", 1)[1] if heading + "\n" in text else ""
    return re.split(r"^#{1,2} ", after, maxsplit=1, flags=re.M)[0]


def _shows_widget(cell) -> bool:
    if any(WIDGET_VIEW in out.get("data", {}) for out in cell.get("outputs", [])):
        return True
    try:
        tree = ast.parse(_python(cell.source))
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if WIDGET_BUILDER.search(name):
                return True
    return False


# ---- the rules: each returns a list of problems ---------------------------------------------------------

def _defines_and_calls(tree, name: str) -> bool:
    return (any(isinstance(n, ast.FunctionDef) and n.name == name for n in tree.body)
            and any(isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Name)
                    and n.value.func.id == name for n in tree.body))


def setup_first(nb) -> list[str]:
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    if len(code) < 2:
        return ["fewer than two code cells: expected the install cell, then the setup cell"]
    problems = [f"cell {i} ({c.cell_type}) comes before the install cell" for i, c in enumerate(nb.cells[:code[0]])
                if c.cell_type != "markdown"]
    try:
        install = ast.parse(_python(nb.cells[code[0]].source))
        tree = ast.parse(_python(nb.cells[code[1]].source))
    except SyntaxError as error:
        return problems + [f"the install or the setup cell does not parse: {error}"]
    if not _defines_and_calls(install, "install_course"):
        problems.append(f"cell {code[0]} (first code cell) must be the install cell (python tools/first_cell.py --write)")
    first = code[1]
    imported = any(isinstance(n, ast.ImportFrom) and n.module == "transformer_lesson.notebook"
                   and any(a.name == "setup" and a.asname is None for a in n.names) for n in ast.walk(tree))
    called = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "setup"
                 for n in ast.walk(tree))
    if not (imported and called):
        problems.append(f"cell {first} (second code cell) must `from transformer_lesson.notebook import setup` "
                        "and call `setup()`")
    return problems


def widget_cells_marked(nb) -> list[str]:
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not _shows_widget(cell):
            continue
        lines = cell.source.splitlines()
        if not lines or lines[0].strip() != MARKER:
            problems.append(f"cell {index} shows a widget: its first line must be `{MARKER}`")
        elif len(lines) < 2 or not lines[1].startswith("# ("):
            problems.append(f"cell {index}: `{MARKER}` must be followed by a `# (why ...)` line")
    return problems


def other_cells_compared(nb) -> list[str]:
    problems = []
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    counts = [c.execution_count for _, c in code]
    if counts != list(range(1, len(code) + 1)):
        problems.append(f"execution counts {counts}: store the notebook as run top to bottom from a fresh "
                        "kernel (make notebook NB=...)")
    for index, cell in code:
        lines = cell.source.splitlines()
        skips = [line.strip() for line in lines if line.strip().startswith(NBVAL_SKIPS)]
        tags = [t for t in cell.metadata.get("tags", []) if t in NBVAL_TAGS]
        if skips or tags:
            problems.append(f"cell {index} is not compared as it should be ({', '.join(skips + tags)})")
        if _shows_widget(cell) or not any(line.strip() == MARKER for line in lines):
            continue
        at = next(i for i, line in enumerate(lines) if line.strip() == MARKER)
        reason = lines[at + 1] if at + 1 < len(lines) else ""
        if not reason.startswith(UNCOMPARED_REASONS):
            problems.append(f"cell {index} shows no widget but its output is not compared ({reason!r}); "
                            f"allowed reasons start with {UNCOMPARED_REASONS}")
    return problems


def title_first(nb, number: str) -> list[str]:
    titles = [(i, line) for i, line in _headings(nb) if line.startswith("# ")]
    if not titles or titles[0][0] != 0 or not TITLE.fullmatch(titles[0][1]) \
            or TITLE.fullmatch(titles[0][1]).group(1) != number:
        return [f"the first cell must hold the title `# {number} · Title (中文)`; headings: {titles}"]
    if len(titles) > 1:
        return [f"one `# ` title only; also: {titles[1:]}"]
    return []


def numbered_sections(nb) -> list[str]:
    sections = [line for _, line in _headings(nb) if line.startswith("## ")]
    body = sections[:sections.index(ENDING[0])] if ENDING[0] in sections else sections
    problems = []
    for expected, line in enumerate(body, start=1):
        match = SECTION.fullmatch(line)
        if not match or int(match.group(1)) != expected:
            problems.append(f"section {expected}: expected `## {expected} · Title`, got {line!r}")
    if not body:
        problems.append("no numbered `## N · Title` section")
    return problems


def recap_glossary_exercise_at_the_end(nb, number: str, lessons: list[str], exercises: set[str]) -> list[str]:
    headings = _headings(nb)
    sections = [line for _, line in headings if line.startswith("## ")]
    if ENDING[0] not in sections:
        return [f"no `{ENDING[0]}` section"]
    tail = sections[sections.index(ENDING[0]):]
    problems = []
    later = [n for n in lessons if n > number]
    if later:
        match = NEXT.fullmatch(tail[-1]) if len(tail) == len(ENDING) + 1 else None
        if not match or match.group(1) != later[0]:
            problems.append(f"the last section must be `## Next: {later[0]} · Title (中文)`, got {tail[-1]!r}")
    elif tail[-1] != LAST_LESSON_END:
        problems.append(f"the last lesson ends with `{LAST_LESSON_END}`, got {tail[-1]!r}")
    if tail[:-1] != ENDING:
        problems.append(f"the lesson must end with the sections {ENDING} and a pointer onward; got {tail}")
    recap_cell = next(i for i, line in headings if line == ENDING[0])
    code_after = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and i > recap_cell]
    if code_after:
        problems.append(f"code cells {code_after} come after `{ENDING[0]}`")
    if GLOSSARY_TABLE not in _section_text(nb, ENDING[1]):
        problems.append(f"`{ENDING[1]}` must hold a `{GLOSSARY_TABLE}` table")
    exercise = _section_text(nb, ENDING[2])
    if number in exercises and "`exercises/`" not in exercise:
        problems.append(f"`{ENDING[2]}` must point at the lesson's exercise notebook in `exercises/`")
    elif not exercise.strip():
        problems.append(f"`{ENDING[2]}` is empty")
    return problems


# ---- the stored notebooks -------------------------------------------------------------------------------

def _lesson_numbers() -> list[str]:
    return [p.name[:2] for p in LESSONS]


def _exercise_numbers() -> set[str]:
    return {p.name[:2] for p in (ROOT / "exercises").glob("*.ipynb")}


def _ids(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _read(path: Path):
    return nbformat.read(path, as_version=4)


@pytest.mark.parametrize("path", EXECUTED, ids=_ids)
def test_the_install_cell_then_the_setup_cell_come_first(path):
    assert not setup_first(_read(path)), f"{path.name}: {setup_first(_read(path))}"


@pytest.mark.parametrize("path", EXECUTED, ids=_ids)
def test_every_widget_cell_is_marked_for_nbval_with_a_reason(path):
    assert not widget_cells_marked(_read(path)), f"{path.name}: {widget_cells_marked(_read(path))}"


@pytest.mark.parametrize("path", EXECUTED, ids=_ids)
def test_every_other_code_cell_is_compared(path):
    assert not other_cells_compared(_read(path)), f"{path.name}: {other_cells_compared(_read(path))}"


def test_there_are_lessons_to_check():
    assert [p.name[:2] for p in LESSONS] == [f"{n:02d}" for n in range(1, len(LESSONS) + 1)]
    assert len(LESSONS) >= 8


@pytest.mark.parametrize("path", LESSONS, ids=_ids)
def test_a_lesson_starts_with_its_numbered_title(path):
    assert not title_first(_read(path), path.name[:2]), f"{path.name}: {title_first(_read(path), path.name[:2])}"


@pytest.mark.parametrize("path", LESSONS, ids=_ids)
def test_a_lesson_numbers_its_sections(path):
    assert not numbered_sections(_read(path)), f"{path.name}: {numbered_sections(_read(path))}"


@pytest.mark.parametrize("path", LESSONS, ids=_ids)
def test_a_lesson_ends_with_recap_glossary_exercise_and_next(path):
    problems = recap_glossary_exercise_at_the_end(_read(path), path.name[:2], _lesson_numbers(),
                                                  _exercise_numbers())
    assert not problems, f"{path.name}: {problems}"


@pytest.mark.parametrize("path", LESSONS[:-1], ids=_ids)
def test_next_names_the_next_lesson_by_its_chinese_term(path):
    nb = _read(path)
    match = NEXT.fullmatch([line for _, line in _headings(nb)][-1])
    assert match is not None, f"{path.name}: a lesson before the last ends with 'Next: NN · Title (中文)'"
    following = next(p for p in LESSONS if p.name.startswith(match.group(1)))
    title = _headings(_read(following))[0][1]
    assert title.endswith(" " + match.group(2)), f"{path.name}: {match.group(0)!r} vs {following.name}: {title!r}"


# ---- every rule can fail: a well-formed synthetic lesson, broken once per rule --------------------------

def _cell(kind: str, source: str, **fields):
    cell = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
    cell.update(fields)
    return cell


def _lesson():
    """Lesson 01 of a two-lesson course, following every rule."""
    widget = _cell("code", f"{MARKER}\n# (a live widget)\nwidgets.attention_row_widget(w, t)", execution_count=4)
    widget.outputs = [nbformat.v4.new_output("execute_result", execution_count=4, data={
        WIDGET_VIEW: {"model_id": "0" * 32, "version_major": 2, "version_minor": 0}, "text/plain": "FigureWidget()"})]
    trained = _cell("code", f"{MARKER}\n# (printed numbers come from training: ...)\nloss = train()\nassert loss < 1",
                    execution_count=5)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _cell("md", "# 01 · Self-attention (自注意力)\n\nIntro."),
        _cell("code", "# Makes this kernel ready\ndef install_course():\n    pass\n\n\ninstall_course()",
              execution_count=1),
        _cell("code", "%matplotlib inline\nfrom transformer_lesson.notebook import setup\nsetup()", execution_count=2),
        _cell("md", "## 1 · Scores (注意力分数)\n\n### Play: a query"),
        _cell("code", "print(1)", execution_count=3),
        _cell("md", "## 2 · Masks (C3)"),
        widget,
        trained,
        _cell("md", "## Recap\n\n- one\n\n## Glossary 术语表\n\n| English | 中文 |\n|---|---|\n| a | 甲 |\n\n"
                    "## Exercise 练习\n\nThe exercise notebook for this lesson, in `exercises/`, asks ...\n\n"
                    "## Next: 02 · Positional encoding (位置编码)\n\nLesson 02 ..."),
    ]
    return nb


RULES = {
    "setup": setup_first,
    "widget": widget_cells_marked,
    "compared": other_cells_compared,
    "title": lambda nb: title_first(nb, "01"),
    "sections": numbered_sections,
    "ending": lambda nb: recap_glossary_exercise_at_the_end(nb, "01", ["01", "02"], {"01"}),
}


def _complaints(nb) -> set[str]:
    return {name for name, rule in RULES.items() if rule(nb)}


def _ending(nb, old: str, new: str):
    nb.cells[-1].source = nb.cells[-1].source.replace(old, new)
    return nb


def test_the_synthetic_lesson_passes_every_rule():
    assert _complaints(_lesson()) == set(), {name: rule(_lesson()) for name, rule in RULES.items()}


def _setup_not_first(nb):
    nb.cells.insert(1, _cell("code", "import torch", execution_count=1))
    return nb


def _no_setup_call(nb):
    nb.cells[2].source = "from transformer_lesson.notebook import setup"
    return nb


def _no_install_cell(nb):
    del nb.cells[1]
    return nb


def _install_cell_not_called(nb):
    nb.cells[1].source = "def install_course():\n    pass"
    return nb


def _setup_before_install(nb):
    nb.cells[1], nb.cells[2] = nb.cells[2], nb.cells[1]
    return nb


def _unmarked_widget(nb):
    nb.cells[6].source = "widgets.attention_row_widget(w, t)"
    return nb


def _marker_without_reason(nb):
    nb.cells[6].source = f"{MARKER}\nwidgets.attention_row_widget(w, t)"
    return nb


def _widget_call_without_stored_view(nb):
    nb.cells[6].outputs = []
    nb.cells[6].source = "explorer = widgets.d_k_scaling_widget()\nexplorer"
    return nb


def _ignored_without_known_reason(nb):
    nb.cells[4].source = f"{MARKER}\n# (it looked different)\nprint(1)"
    return nb


def _skipped(nb):
    nb.cells[4].source = "# NBVAL_SKIP\nprint(1)"
    return nb


def _tagged(nb):
    nb.cells[4].metadata["tags"] = ["nbval-ignore-output"]
    return nb


def _not_executed(nb):
    nb.cells[4].execution_count = None
    return nb


def _title_of_another_lesson(nb):
    nb.cells[0].source = "# 02 · Self-attention (自注意力)"
    return nb


def _title_without_chinese(nb):
    nb.cells[0].source = "# 01 · Self-attention"
    return nb


def _unnumbered_section(nb):
    nb.cells[5].source = "## Masks"
    return nb


def _section_numbers_skip(nb):
    nb.cells[5].source = "## 3 · Masks"
    return nb


def _no_recap(nb):
    return _ending(nb, "## Recap", "## Summary")


def _glossary_without_table(nb):
    return _ending(nb, "| English | 中文 |", "| en | zh |")


def _exercise_without_pointer(nb):
    return _ending(nb, "in `exercises/`", "somewhere")


def _next_names_the_wrong_lesson(nb):
    return _ending(nb, "## Next: 02", "## Next: 03")


def _code_after_recap(nb):
    nb.cells.append(_cell("code", "print(2)", execution_count=6))
    return nb


@pytest.mark.parametrize("rule, breaks", [
    ("setup", _setup_not_first), ("setup", _no_setup_call), ("setup", _no_install_cell),
    ("setup", _install_cell_not_called), ("setup", _setup_before_install),
    ("widget", _unmarked_widget), ("widget", _marker_without_reason), ("widget", _widget_call_without_stored_view),
    ("compared", _ignored_without_known_reason), ("compared", _skipped), ("compared", _tagged),
    ("compared", _not_executed),
    ("title", _title_of_another_lesson), ("title", _title_without_chinese),
    ("sections", _unnumbered_section), ("sections", _section_numbers_skip),
    ("ending", _no_recap), ("ending", _glossary_without_table), ("ending", _exercise_without_pointer),
    ("ending", _next_names_the_wrong_lesson), ("ending", _code_after_recap),
], ids=lambda v: v if isinstance(v, str) else v.__name__.lstrip("_"))
def test_each_rule_can_fail(rule, breaks):
    assert rule in _complaints(breaks(_lesson()))


def test_the_last_lesson_ends_the_course():
    nb = _ending(_lesson(), "## Next: 02 · Positional encoding (位置编码)", LAST_LESSON_END)
    assert not recap_glossary_exercise_at_the_end(nb, "01", ["01"], {"01"})
    assert recap_glossary_exercise_at_the_end(_lesson(), "01", ["01"], {"01"})
