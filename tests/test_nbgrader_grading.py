"""nbgrader grades the course's notebooks: a solution gets full marks, an untouched exercise zero.

A throw-away nbgrader course in tmp_path (offline, its own sqlite gradebook): the solution notebook of
lesson 01 is the assignment's source; `generate_assignment` releases it (and must produce the same cells
as our exercises/); two students submit, one the solution and one the untouched exercise from exercises/;
`autograde` runs both and the gradebook holds their scores.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "01_self_attention.ipynb"


@pytest.fixture
def course(tmp_path, monkeypatch):
    pytest.importorskip("nbgrader")
    # nbgrader's gradebook runs the `alembic` command: make the venv's scripts findable without activating it
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    (tmp_path / "source" / "ps01").mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / NOTEBOOK, tmp_path / "source" / "ps01" / NOTEBOOK)
    for student, folder in (("alice", "solutions"), ("bob", "exercises")):
        submitted = tmp_path / "submitted" / student / "ps01"
        submitted.mkdir(parents=True)
        shutil.copy(ROOT / folder / NOTEBOOK, submitted / NOTEBOOK)
    return tmp_path


def _api(root: Path):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.course_id = "transformer-lesson"
    config.Exchange.root = str(root / "exchange")
    config.ExecutePreprocessor.timeout = 300
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


# nbgrader's own gradebook code trips SQLAlchemy's autoflush warnings; not ours to fix
@pytest.mark.filterwarnings("ignore:Object of type .* not in session")
def test_autograde_gives_a_solution_full_marks_and_an_untouched_exercise_zero(course):
    from nbgrader.api import Gradebook

    api = _api(course)
    result = api.generate_assignment("ps01")
    assert result["success"], result.get("log", "") + result.get("error", "")

    released = nbformat.read(course / "release" / "ps01" / NOTEBOOK, as_version=4)
    ours = nbformat.read(ROOT / "exercises" / NOTEBOOK, as_version=4)
    assert [c.source for c in released.cells] == [c.source for c in ours.cells]

    for student in ("alice", "bob"):
        result = api.autograde("ps01", student)
        assert result["success"], result.get("log", "") + result.get("error", "")

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        solution = gradebook.find_submission("ps01", "alice")
        exercise = gradebook.find_submission("ps01", "bob")
        assert solution.max_score == 4.0                      # exercise 1.1: 3 points, exercise 1.2: 1 point
        assert solution.score == solution.max_score
        assert exercise.score == 0.0
        assert exercise.max_score == solution.max_score
