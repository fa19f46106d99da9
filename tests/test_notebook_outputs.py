"""What the stored notebooks promise: outputs nbval compares are outputs any correct CPU reproduces.

nbval compares every stored output with a fresh run, except cells marked `# NBVAL_IGNORE_OUTPUT`. Such a
mark must never hide a wrong result, so each one says why on the next line (tests/test_notebook_conventions.py
checks the reasons), and a cell whose printed numbers come from training still checks its claim with an assert (the claim's rate over many seeds is
in tests/test_claims.py). `make test-portability` runs nbval itself under several CPU profiles.
"""
from __future__ import annotations

import importlib.util
import json
import re
import uuid
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
MARKER = "# NBVAL_IGNORE_OUTPUT"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _code_cells(path: Path):
    nb = nbformat.read(path, as_version=4)
    return [(i, cell) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]


def _ignored(cell) -> bool:
    return any(line.strip() == MARKER for line in cell.source.splitlines())


def _has_widget(cell) -> bool:
    return any(WIDGET_VIEW in out.get("data", {}) for out in cell.get("outputs", []))


def _printed_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif WIDGET_VIEW not in out.get("data", {}):
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join(parts)


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_cell_whose_training_numbers_are_not_compared_still_asserts_its_claim(path):
    for index, cell in _code_cells(path):
        if not _ignored(cell) or _has_widget(cell):
            continue
        reason = cell.source.splitlines()[1]
        if "timing" in reason or "progress bar" in reason:
            continue  # a clock reading: no claim rests on it (lesson 08 says so)
        assert re.search(r"^\s*(assert\b|torch\.testing\.assert_close)", cell.source, re.M), (
            f"{path.name} cell {index}: its output is not compared ({reason.strip()}), so it must check "
            "what it claims with an assert")


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_execution_timestamps_are_stored(path):
    stamped = [i for i, cell in _code_cells(path) if "execution" in cell.metadata]
    assert not stamped, (f"{path.name}: cells {stamped} store execution timestamps; "
                         "run `python tools/clean_notebooks.py` on it (make notebook does)")


# Formats whose text depends on float rounding, not on the mathematics: torch prints a tensor of exact
# ones as `tensor([1., 1.])` but `tensor([1.000, 1.000])` when one entry is 0.99999994.
EXACT_ONES = re.compile(r"tensor\(\[(1\., )+1\.\]\)")


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_compared_outputs_do_not_print_tensors_of_exact_ones(path):
    for index, cell in _code_cells(path):
        if _ignored(cell):
            continue
        text = _printed_text(cell)
        assert not EXACT_ONES.search(text), (
            f"{path.name} cell {index} prints a tensor of exact ones, which another CPU prints as "
            "1.000 (sums that come out 0.99999994); format the numbers yourself, e.g. f'{s:.3f}'")


def test_the_checks_above_can_fail():
    cell = nbformat.v4.new_code_cell(f"{MARKER}\nprint(trained_loss)")
    cell.outputs = [nbformat.v4.new_output("stream", text="0.283\n")]
    assert _ignored(cell) and not _has_widget(cell)
    assert not cell.source.splitlines()[1].startswith("# (")
    assert not re.search(r"^\s*assert\b", cell.source, re.M)
    shown = nbformat.v4.new_code_cell("print(weights.sum(-1))")
    shown.outputs = [nbformat.v4.new_output("stream", text="tensor([1., 1., 1.])\n")]
    assert EXACT_ONES.search(_printed_text(shown))


# ---- stable widget ids: tools/clean_notebooks.py -------------------------------------------------------

def _load_cleaner():
    spec = importlib.util.spec_from_file_location("clean_notebooks", ROOT / "tools" / "clean_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cleaner = _load_cleaner()
STATE = "application/vnd.jupyter.widget-state+json"
IDS = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


def _view_ids(nb) -> list[str]:
    return [out["data"][WIDGET_VIEW]["model_id"] for cell in nb.cells if cell.cell_type == "code"
            for out in cell.outputs if WIDGET_VIEW in out.get("data", {})]


def _references(model) -> list[str]:
    return re.findall(r'"IPY_MODEL_([^"]*)"', json.dumps(model))


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_widget_view_and_reference_is_in_the_stored_state(path):
    """JupyterLab draws a saved widget from the notebook's widget state: every id must resolve there."""
    nb = nbformat.read(path, as_version=4)
    state = cleaner.widget_state(nb)
    missing = [m for m in _view_ids(nb) if m not in state]
    assert not missing, f"{path.name}: widget views {missing} have no saved state"
    dangling = {m: r for m, model in state.items() for r in _references(model) if r not in state}
    assert not dangling, f"{path.name}: models refer to ids with no saved state: {dangling}"
    if _view_ids(nb):
        assert nb.metadata.widgets[STATE]["version_major"] == 2


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_widget_ids_are_the_deterministic_ones(path):
    """Ids are widget_id(notebook, 1..n) in order of first appearance, never a run's random uuid4."""
    nb = nbformat.read(path, as_version=4)
    order = cleaner.widget_order(nb)
    expected = [cleaner.widget_id(path.name, n) for n in range(1, len(order) + 1)]
    assert order == expected, (f"{path.name} stores random widget ids; run "
                               f"`python tools/clean_notebooks.py {path.relative_to(ROOT)}` (make notebook does)")
    assert set(IDS.findall(json.dumps(nb.metadata.get("widgets", {})))) <= set(expected)


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebooks_are_stored_as_the_cleaner_leaves_them(path):
    """Cleaning a stored notebook changes nothing: no timestamps, stable ids, keys sorted as nbformat writes."""
    text = path.read_text(encoding="utf-8")
    assert cleaner.cleaned(text, path.name) == text, (
        f"{path.name} is not in its cleaned form; run `python tools/clean_notebooks.py {path.relative_to(ROOT)}`")


@pytest.mark.parametrize("path", [p for p in EXECUTED if _view_ids(nbformat.read(p, as_version=4))],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_rerun_with_new_random_ids_stores_the_same_file(path):
    """What a re-execution does to the ids (fresh uuid4s for every model) is undone by the cleaner."""
    text = path.read_text(encoding="utf-8")
    fresh = {old: uuid.uuid4().hex for old in set(IDS.findall(text))}
    rerun = IDS.sub(lambda m: fresh[m.group()], text)
    assert rerun != text
    assert cleaner.cleaned(rerun, path.name) == text


def _widget_notebook(slider_id="a" * 32, box_id="b" * 32, layout_id="c" * 32):
    """A notebook with two cells: a Box (with a Layout) holding a slider, then the slider shown alone."""
    def model(name, module, state):
        return {"model_module": module, "model_module_version": "2.0.0", "model_name": name, "state": state}

    def view(model_id):
        return nbformat.v4.new_output("display_data", data={
            WIDGET_VIEW: {"model_id": model_id, "version_major": 2, "version_minor": 0}, "text/plain": "Box()"})

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("box", id="box"), nbformat.v4.new_code_cell("slider", id="slider")]
    nb.cells[0].outputs = [view(box_id)]
    nb.cells[1].outputs = [view(slider_id)]
    nb.cells[0].metadata["execution"] = {"iopub.status.busy": "2025-01-01T00:00:00.000000Z"}
    nb.metadata["widgets"] = {STATE: {"version_major": 2, "version_minor": 0, "state": {
        slider_id: model("IntSliderModel", "@jupyter-widgets/controls", {"value": 3, "layout": f"IPY_MODEL_{layout_id}"}),
        box_id: model("BoxModel", "@jupyter-widgets/controls",
                      {"children": [f"IPY_MODEL_{slider_id}"], "layout": f"IPY_MODEL_{layout_id}"}),
        layout_id: model("LayoutModel", "@jupyter-widgets/base", {"width": "50%"}),
    }}}
    return nb


def test_the_cleaner_gives_two_widgets_that_refer_to_each_other_consistent_ids(tmp_path):
    path = tmp_path / "tiny.ipynb"
    nbformat.write(_widget_notebook(), path)
    assert cleaner.clean(path)
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    box, slider, layout = (cleaner.widget_id("tiny.ipynb", n) for n in (1, 2, 3))  # box first: first shown
    assert _view_ids(nb) == [box, slider]
    state = cleaner.widget_state(nb)
    assert list(state) == sorted(state) == [box, slider, layout]
    assert state[box]["model_name"] == "BoxModel" and state[box]["state"]["children"] == [f"IPY_MODEL_{slider}"]
    assert state[box]["state"]["layout"] == state[slider]["state"]["layout"] == f"IPY_MODEL_{layout}"
    assert state[slider]["state"]["value"] == 3
    assert "execution" not in nb.cells[0].metadata
    assert not ({"a" * 32, "b" * 32, "c" * 32} & set(IDS.findall(path.read_text(encoding="utf-8"))))
    text = path.read_text(encoding="utf-8")
    assert not cleaner.clean(path) and path.read_text(encoding="utf-8") == text  # idempotent


def test_the_cleaner_ids_do_not_depend_on_the_random_ones(tmp_path):
    first, second = tmp_path / "a" / "tiny.ipynb", tmp_path / "b" / "tiny.ipynb"
    first.parent.mkdir(), second.parent.mkdir()
    nbformat.write(_widget_notebook(), first)
    nbformat.write(_widget_notebook("1" * 32, "9" * 32, "5" * 32), second)
    cleaner.clean(first), cleaner.clean(second)
    assert first.read_text(encoding="utf-8") == second.read_text(encoding="utf-8")


def test_the_cleaner_numbers_a_model_no_view_shows_and_sorts_keys(tmp_path):
    nb = _widget_notebook()
    cleaner.widget_state(nb)["d" * 32] = {"model_module": "@jupyter-widgets/base", "model_module_version": "2.0.0",
                                          "model_name": "LayoutModel", "state": {"width": "10%"}}
    path = tmp_path / "tiny.ipynb"
    path.write_text(json.dumps(nb, indent=2), encoding="utf-8")  # keys unsorted, as another tool may save
    assert cleaner.clean(path)
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    state = cleaner.widget_state(nbformat.reads(text, as_version=4))
    assert state[cleaner.widget_id("tiny.ipynb", 4)]["state"] == {"width": "10%"}


def test_the_widget_checks_above_can_fail(tmp_path):
    nb = _widget_notebook()
    assert cleaner.widget_order(nb) != [cleaner.widget_id("tiny.ipynb", n) for n in (1, 2, 3)]
    del cleaner.widget_state(nb)["c" * 32]
    assert [r for model in cleaner.widget_state(nb).values() for r in _references(model)
            if r not in cleaner.widget_state(nb)]
    text = nbformat.writes(_widget_notebook()) + "\n"
    assert cleaner.cleaned(text, "tiny.ipynb") != text



def test_split_prints_are_stored_as_one_stream_per_name():
    """A loaded kernel flushes one cell's prints in several stream outputs; the cleaner joins neighbours."""
    out = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("print(1); print(2)", outputs=[
        out("stream", name="stdout", text="1\n"), out("stream", name="stdout", text="2\n"),
        out("stream", name="stderr", text="w\n"), out("stream", name="stdout", text="3\n")])
    nb = nbformat.v4.new_notebook(cells=[cell])
    text = cleaner.cleaned(nbformat.writes(nb), "tiny.ipynb")
    stored = nbformat.reads(text, as_version=4).cells[0].outputs
    assert [(o.name, o.text) for o in stored] == [("stdout", "1\n2\n"), ("stderr", "w\n"), ("stdout", "3\n")]
    assert cleaner.cleaned(text, "tiny.ipynb") == text

LESSONS_BOTH_EDITIONS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "zh" / "notebooks").glob("*.ipynb"))
ALL_STORED = EXECUTED + sorted((ROOT / "zh").glob("*/*.ipynb"))
PROGRESS = re.compile(r"(\d+)/(\d+) \[")


def _progress_bars(cell) -> list[tuple[int, int]]:
    """(done, total) of every tqdm bar a cell's stored outputs show, as a static view shows them."""
    texts = [out.get("data", {}).get("text/plain", "") for out in cell.get("outputs", [])]
    texts += [out.get("text", "") for out in cell.get("outputs", [])]
    return [(int(m[1]), int(m[2])) for text in texts for m in PROGRESS.finditer(text)]


@pytest.mark.parametrize("path", ALL_STORED, ids=lambda p: str(p.relative_to(ROOT)))
def test_stored_progress_bars_show_their_final_state(path):
    """A static view shows a progress bar's stored text: it must read 400/400, not the 0/400 it was displayed with."""
    for index, cell in _code_cells(path):
        for done, total in _progress_bars(cell):
            assert done == total, f"{path.name} cell {index}: a progress bar stored at {done}/{total}"


def test_the_training_progress_bar_stores_its_final_state_in_a_notebook():
    """Runs the course's bar in a real kernel (nbclient) and reads the output the notebook would store."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from transformer_lesson.capstone.training import _progress_bar\n"
        "bar = _progress_bar(7, True)\nfor _ in range(7):\n    bar.update(1)\nbar.close()")]
    from nbclient import NotebookClient
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    outputs = nb.cells[0].outputs
    assert [WIDGET_VIEW in out.get("data", {}) for out in outputs] == [True], outputs   # still a live widget
    assert _progress_bars(nb.cells[0]) == [(7, 7)], outputs
    # negative control: the text a plain tqdm.notebook bar leaves behind is caught by the test above
    stale = nbformat.v4.new_code_cell()
    stale.outputs = [nbformat.v4.new_output("display_data", {"text/plain": "training:   0%|  | 0/400 [00:00<?, ?step/s]"})]
    assert _progress_bars(stale) == [(0, 400)]


@pytest.mark.parametrize("path", LESSONS_BOTH_EDITIONS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_stored_figure_widget_also_carries_its_first_view_as_a_png_for_static_renderers(path):
    """GitHub, nbviewer, a website and VS Code after saving cannot run a widget: the same output holds
    the widget's first view as an ordinary image/png (and its caption as text/plain)."""
    checked = 0
    for index, cell in _code_cells(path):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW not in data or "tqdm" in cell.source or "train_translator" in cell.source:
                continue                                     # progress bars are not figure widgets
            checked += 1
            assert data.get("image/png"), f"{path.name} cell {index}: a widget output without its PNG first view"
            assert not data.get("text/plain", "").startswith("FigureWidget("), (
                f"{path.name} cell {index}: the text fallback is the widget's repr, not its caption")
    widget_cells = [i for i, cell in _code_cells(path) if _has_widget(cell) and "train_translator" not in cell.source]
    assert checked >= len(widget_cells)


def test_a_figure_widget_offers_its_view_as_png_and_its_caption_as_text():
    from transformer_lesson.drawing import FigureWidget
    import ipywidgets as ipw

    def draw(fig, n):
        fig.add_subplot().plot(range(n))
        return f"<b>{n}</b> points"
    widget = FigureWidget(draw, {"n": ipw.IntSlider(value=3, min=1, max=5)}, width=2, height=2)
    bundle, metadata = widget._repr_mimebundle_()
    assert WIDGET_VIEW in bundle and bundle["text/plain"] == "3 points"
    import base64
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(b"\x89PNG")
    # twice the pixels, shown at the figure's size (2 in x 80 dpi = 160 px): sharp on a HiDPI screen
    assert metadata["image/png"] == {"width": 160, "height": 160}
