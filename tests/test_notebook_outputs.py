"""What the stored notebooks promise: outputs nbval compares are outputs any correct CPU reproduces.

nbval compares every stored output with a fresh run, except cells marked `# NBVAL_IGNORE_OUTPUT`. Such a
mark must never hide a wrong result, so each one says why on the next line, and a cell whose printed
numbers come from training still checks its claim with an assert (the claim's rate over many seeds is
in tests/test_claims.py). `make test-portability` runs nbval itself under several CPU profiles.
"""
from __future__ import annotations

import re
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
def test_every_output_left_uncompared_says_why_on_the_next_line(path):
    for index, cell in _code_cells(path):
        lines = cell.source.splitlines()
        if not _ignored(cell):
            continue
        at = next(i for i, line in enumerate(lines) if line.strip() == MARKER)
        reason = lines[at + 1] if at + 1 < len(lines) else ""
        assert reason.startswith("# ("), (
            f"{path.name} cell {index}: `{MARKER}` must be followed by a comment line `# (why ...)` "
            f"saying why its output differs between runs or CPUs; got {reason!r}")


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
