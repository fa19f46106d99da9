"""Each lesson states how long it takes, and the statement is the measure of tools/reading_time.py."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("reading_time", ROOT / "tools" / "reading_time.py")
reading_time = importlib.util.module_from_spec(_spec)
sys.modules["reading_time"] = reading_time  # dataclasses look their module up there
_spec.loader.exec_module(reading_time)


def test_every_lesson_states_the_time_its_text_measures():
    assert reading_time.lessons(), "no lessons found"
    assert reading_time.problems() == []


def test_every_chinese_lesson_states_the_time_its_own_text_measures():
    assert reading_time.lessons("zh"), "no Chinese lessons found"
    assert reading_time.problems(("zh",)) == []


def test_the_measure_counts_prose_code_figures_and_prompts(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 01 · A (注意)\n\n" + "word " * 260 + "\n\n**Predict (先猜一猜):** what?"),
        nbformat.v4.new_code_cell("x = 1\n# a comment\n\ny = 2"),
    ]
    nb.cells[1].outputs = [nbformat.v4.new_output("display_data", data={"image/png": "", "text/plain": ""})]
    path = tmp_path / "01_a.ipynb"
    nbformat.write(nb, path)
    e = reading_time.estimate(path)
    assert (e.words, e.hanzi, e.code_lines, e.figures, e.predicts) == (264, 6, 2, 1, 1)  # "01", "A", 260 words, "Predict", "what?"
    assert abs(e.minutes - (264 / 130 + 6 / 250 + 2 / 10 + 0.5 + 1.0)) < 1e-9
    assert e.rounded == 5


def test_a_wrong_statement_is_reported_with_the_line_to_write(monkeypatch, tmp_path):
    lesson = tmp_path / "notebooks" / "01_a.ipynb"
    lesson.parent.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 01 · A (注意)\n\n*About 90 minutes (reading and running it).*\n\n"
                                              + "word " * 2600)]
    nbformat.write(nb, lesson)
    monkeypatch.setattr(reading_time, "ROOT", tmp_path)
    [problem] = reading_time.problems()
    assert "states 90" in problem and "*About 20 minutes (reading and running it)" in problem
