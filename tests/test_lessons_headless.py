"""Every lesson run top to bottom in a fresh kernel of this environment (nbclient, headless): no error, and
every widget the lesson shows carries its first view as image/png and its caption as text, every progress
bar its final state.

`make test-widgets-7` runs this under ipywidgets 7.7 (what Colab ships), where JupyterLab 4 cannot draw
widgets, so this kernel-side run is the check. `make test` leaves it out (marker `executes_notebooks`):
its nbval run already executes every notebook under ipywidgets 8.x. TL_HEADLESS_NOTEBOOKS (comma-separated
globs relative to the repository, default notebooks/*.ipynb) chooses the notebooks.
"""
from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

import nbformat
import pytest

from test_notebook_conventions import _shows_widget
from test_notebook_outputs import PROGRESS

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
GLOBS = os.environ.get("TL_HEADLESS_NOTEBOOKS", "notebooks/*.ipynb").split(",")
NOTEBOOKS = sorted({p for pattern in GLOBS for p in ROOT.glob(pattern.strip())})
PROBE = "import sys, ipywidgets\nprint(sys.prefix, ipywidgets.__version__)"

pytestmark = [pytest.mark.executes_notebooks, pytest.mark.widgets]


def widget_output_problems(index: int, cell) -> list[str]:
    """What a static view of this executed cell would miss: a widget without its PNG or caption, a bar
    not at its final state, or a widget cell that showed no widget at all."""
    problems, views = [], 0
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if WIDGET_VIEW not in data:
            continue
        views += 1
        text = data.get("text/plain", "")
        bar = PROGRESS.search(text)
        if bar:
            if bar[1] != bar[2]:
                problems.append(f"cell {index}: a progress bar stored at {bar[1]}/{bar[2]}")
            continue
        png = data.get("image/png", "")
        if not png or not base64.b64decode(png).startswith(b"\x89PNG"):
            problems.append(f"cell {index}: a widget without its first view as image/png")
        if not text or text.startswith(("FigureWidget(", "VBox(", "HBox(")):
            problems.append(f"cell {index}: a widget whose text is {text[:40]!r}, not its caption")
    if views == 0:
        problems.append(f"cell {index}: a widget cell that showed no widget")
    return problems


def run(path: Path):
    """The notebook executed in a fresh kernel from its own folder, with a last cell that reports the kernel."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    widget_cells = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and _shows_widget(cell)]
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    NotebookClient(nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb, widget_cells


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_lesson_runs_headless_and_every_widget_keeps_its_first_view(path):
    import ipywidgets

    nb, widget_cells = run(path)                      # a cell that raises fails here (CellExecutionError)
    probe = "".join(out.get("text", "") for out in nb.cells[-1].outputs).split()
    assert probe == [sys.prefix, ipywidgets.__version__], f"the kernel was not this environment's: {probe}"
    problems = [p for i in widget_cells for p in widget_output_problems(i, nb.cells[i])]
    assert not problems, f"{path.name}: {problems}"


def test_the_selection_is_not_empty():
    assert NOTEBOOKS, f"TL_HEADLESS_NOTEBOOKS={GLOBS} matches no notebook"


def test_the_output_check_can_fail():
    cell = nbformat.v4.new_code_cell("w")
    assert widget_output_problems(3, cell) == ["cell 3: a widget cell that showed no widget"]
    bare = {WIDGET_VIEW: {"model_id": "x"}, "text/plain": "FigureWidget(children=(HBox(..."}
    cell.outputs = [nbformat.v4.new_output("display_data", bare)]
    assert widget_output_problems(3, cell) == ["cell 3: a widget without its first view as image/png",
                                               "cell 3: a widget whose text is 'FigureWidget(children=(HBox(...', "
                                               "not its caption"]
    cell.outputs = [nbformat.v4.new_output("display_data", {WIDGET_VIEW: {}, "text/plain": "training: 0/400 [00:00"})]
    assert widget_output_problems(3, cell) == ["cell 3: a progress bar stored at 0/400"]
    good = {WIDGET_VIEW: {}, "text/plain": "3 points", "image/png": base64.b64encode(b"\x89PNG...").decode()}
    cell.outputs = [nbformat.v4.new_output("display_data", good)]
    assert widget_output_problems(3, cell) == []
