"""exercises/ is generated from solutions/, carries nbgrader metadata, and fails only kindly.

- `make exercises` (tools/make_exercises.py) regenerated now gives exactly the committed exercises/;
- every lesson with an exercise (01-07, 09) has a solution and an exercise notebook;
- every solution notebook has 2-4 exercises, each with difficulty, time, what it builds toward, a
  collapsible hint, a solution cell and an auto-graded checker cell;
- an exercise notebook, run top to bottom untouched, fails only in its checker cells, each with the
  checker's "not implemented yet" AssertionError.
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))
LESSONS = ["01_self_attention", "02_positional_encoding", "03_multi_head_attention", "04_residual_layernorm",
           "05_feed_forward", "06_encoder_decoder", "07_training_and_generation", "09_from_translator_to_chatgpt"]


def _make_exercises_module():
    spec = importlib.util.spec_from_file_location("make_exercises", ROOT / "tools" / "make_exercises.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _check_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and _nbgrader(c).get("grade")]


def test_there_is_one_solution_and_one_exercise_notebook_per_lesson_with_an_exercise():
    assert [p.stem for p in SOLUTIONS] == LESSONS
    assert [p.stem for p in EXERCISES] == LESSONS


def _cells(path: Path) -> list[tuple]:
    nb = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, c.metadata.get("nbgrader"), c.metadata.get("editable"), c.get("outputs"))
            for c in nb.cells]


def test_exercises_are_up_to_date_with_solutions(tmp_path):
    written = _make_exercises_module().make_exercises(ROOT / "solutions", tmp_path)
    assert [p.name for p in written] == [p.name for p in EXERCISES]
    stale = [p.name for p in written if _cells(p) != _cells(ROOT / "exercises" / p.name)]
    assert not stale, f"exercises/ is out of date for {stale}: run `make exercises` (never edit exercises/ by hand)"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_each_exercise_has_badges_a_hint_a_solution_cell_and_a_graded_check(path):
    nb = nbformat.read(path, as_version=4)
    tasks = [c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## Exercise ")]
    assert 2 <= len(tasks) <= 4
    for cell in tasks:
        for words in ("**Difficulty**", "**Time** about", "min", "**Builds toward**",
                      "<details><summary>Hint</summary>", "</details>"):
            assert words in cell.source, (cell.source[:60], words)
        following = nb.cells[nb.cells.index(cell) + 1: nb.cells.index(cell) + 3]
        solution, check = following
        assert _nbgrader(solution) == {**_nbgrader(solution), "solution": True, "grade": False, "locked": False,
                                       "schema_version": 3}
        assert "### BEGIN SOLUTION" in solution.source and "### END SOLUTION" in solution.source
        meta = _nbgrader(check)
        assert meta["grade"] and meta["locked"] and not meta["solution"] and meta["points"] >= 1
        assert re.fullmatch(r"checks\.check_\w+\(\w+\)", check.source), check.source
        points = int(re.search(r"\*\*Points\*\* (\d+)", cell.source).group(1))
        assert points == meta["points"]
    ids = [_nbgrader(c)["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_notebooks_are_stored_with_each_check_passing(path):
    nb = nbformat.read(path, as_version=4)
    for cell in _check_cells(nb):
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert text.startswith("✓ ") and text.count("\n") == 1, (cell.source, text)


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.stem)
def test_exercise_notebooks_hold_no_solution_code_and_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    solution = nbformat.read(ROOT / "solutions" / path.name, as_version=4)
    assert len(nb.cells) == len(solution.cells)
    for cell, original in zip(nb.cells, solution.cells):
        assert "BEGIN SOLUTION" not in cell.source and "END SOLUTION" not in cell.source
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        if _nbgrader(cell).get("solution"):
            assert "# YOUR CODE HERE" in cell.source and "raise NotImplementedError()" in cell.source
            kept = original.source.split("### BEGIN SOLUTION")[0]
            assert cell.source.startswith(kept.rstrip(" "))      # the signature and docstring stay
        else:
            assert cell.source == original.source


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.stem)
def test_an_untouched_exercise_notebook_fails_only_with_not_implemented_yet(path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = {i: o for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
              for o in cell.outputs if o.output_type == "error"}
    checks = {i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and _nbgrader(cell).get("grade")}
    assert set(errors) == checks, {i: (nb.cells[i].source[:60], o.ename, o.evalue[:200]) for i, o in errors.items()}
    for i, error in errors.items():
        assert error.ename == "AssertionError", (nb.cells[i].source, error.ename, error.evalue)
        assert "not implemented yet" in error.evalue, error.evalue
        assert "crashed" not in error.evalue
