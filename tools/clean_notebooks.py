"""Strip what changes on every run and carries no lesson from stored notebooks (`make notebooks` runs it).

- `metadata.execution` of every cell (iopub timestamps that nbclient records): a re-run would change
  every cell of a notebook's diff without changing what a learner sees.
- Random widget model ids: ipywidgets names every model with a fresh uuid4, stored in the widget-view
  outputs (`model_id`), as the keys of the notebook's saved widget state, and in the references between
  models (`"IPY_MODEL_<id>"`). Each id is renamed, consistently everywhere in the file, to
  `widget_id(notebook name, n)`: n counts the models in order of first appearance (cells and outputs
  top to bottom, then each model's references depth-first; models no view reaches come last, ordered
  by their content). The same outputs therefore store the same ids, and the state, whose keys are
  written sorted, keeps the order in which the models appear.
- Split streams: a kernel under load flushes one cell's printing in several `stream` outputs; consecutive
  outputs of the same stream (stdout, stderr) are joined into one, as an unloaded run stores them (nbval
  joins them too before comparing), so the stored form does not depend on the machine's load.
- Key order: the file is written by nbformat (keys sorted, one-space indent), so a notebook saved by
  another tool is rewritten in the same canonical form.

A second run changes nothing. The result is checked with `nbformat.validate` before it is written, and
JupyterLab restores the saved widgets from the renamed state as before (ids are opaque strings to it).

Usage: python tools/clean_notebooks.py NOTEBOOK.ipynb [...]   (rewrites each file only if it changed)
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import nbformat

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
REF_PREFIX = "IPY_MODEL_"


def widget_id(notebook_name: str, n: int) -> str:
    """The n-th (from 1) widget model id of a notebook: 32 hex digits, like a uuid4's `.hex`.

    24 digits from the notebook's file name (so two notebooks never share an id), then n in 8 digits (so
    sorting the ids sorts the models by first appearance).
    """
    prefix = hashlib.sha256(f"transformer-lesson widgets {notebook_name}".encode()).hexdigest()[:24]
    return f"{prefix}{n:08x}"


def widget_state(nb) -> dict:
    """The saved widget state {model id: model}, or {} when the notebook stores none."""
    return nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


def _model_id_fields(value):
    """Every string stored under a `model_id` key in `value` (widget views, also inside Output widgets)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "model_id" and isinstance(item, str):
                yield item
            else:
                yield from _model_id_fields(item)
    elif isinstance(value, list):
        for item in value:
            yield from _model_id_fields(item)


def _ids_in(value, known: set[str]):
    """Model ids `value` refers to, in order: `model_id` fields and "IPY_MODEL_<id>" strings (keys sorted)."""
    if isinstance(value, dict):
        for key in sorted(value):
            item = value[key]
            if key == "model_id" and isinstance(item, str):
                yield item
            else:
                yield from _ids_in(item, known)
    elif isinstance(value, list):
        for item in value:
            yield from _ids_in(item, known)
    elif isinstance(value, str) and value.startswith(REF_PREFIX) and value[len(REF_PREFIX):] in known:
        yield value[len(REF_PREFIX):]


def widget_order(nb) -> list[str]:
    """Every widget model id of the notebook, in order of first appearance (see the module docstring)."""
    state = widget_state(nb)
    known = set(state)
    known.update(_model_id_fields([cell.get("outputs", []) for cell in nb.cells]), _model_id_fields(state))
    order: list[str] = []
    seen: set[str] = set()

    def visit(model_id: str) -> None:
        if model_id in seen:
            return
        seen.add(model_id)
        order.append(model_id)
        for ref in _ids_in(state.get(model_id, {}), known):
            visit(ref)

    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for model_id in _ids_in(out, known):
                visit(model_id)

    # Models no output reaches (not expected in these lessons): by their content, with every id
    # masked (already numbered ones by their number), so the order does not depend on the random ids.
    def content(model_id: str) -> str:
        text = json.dumps(state[model_id], sort_keys=True)
        return re.sub("|".join(map(re.escape, sorted(known, key=len, reverse=True))),
                      lambda m: str(order.index(m.group())) if m.group() in seen else "?", text)

    while rest := [m for m in known if m not in seen]:
        stored = [m for m in rest if m in state]
        visit(min(stored, key=lambda m: (content(m), m)) if stored else min(rest))
    return order


def _rename(value, mapping: dict[str, str], pattern: re.Pattern):
    """`value` with every old id replaced by its new one, in dict keys and in strings."""
    if isinstance(value, dict):
        return {_rename(k, mapping, pattern): _rename(v, mapping, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, mapping, pattern) for v in value]
    if isinstance(value, str) and pattern.search(value):
        return pattern.sub(lambda m: mapping[m.group()], value)
    return value


def stable_widget_ids(nb, notebook_name: str) -> None:
    """Rename every widget model id of `nb` in place to `widget_id(notebook_name, n)`."""
    order = widget_order(nb)
    mapping = {old: widget_id(notebook_name, n) for n, old in enumerate(order, start=1)}
    mapping = {old: new for old, new in mapping.items() if old != new}
    if not mapping:
        return
    # An id counts only as a whole word (never inside a longer run of letters and digits).
    pattern = re.compile(r"(?<![0-9A-Za-z])(?:" + "|".join(
        re.escape(old) for old in sorted(mapping, key=len, reverse=True)) + r")(?![0-9A-Za-z])")
    for cell in nb.cells:
        if "outputs" in cell:
            cell.outputs = nbformat.from_dict(_rename(cell.outputs, mapping, pattern))
    if "widgets" in nb.metadata:
        nb.metadata.widgets = nbformat.from_dict(_rename(nb.metadata.widgets, mapping, pattern))


def joined_streams(outputs: list) -> list:
    """Consecutive `stream` outputs of the same name joined into one (their text concatenated)."""
    joined: list = []
    for output in outputs:
        if (output.get("output_type") == "stream" and joined and joined[-1].get("output_type") == "stream"
                and joined[-1].get("name") == output.get("name")):
            joined[-1]["text"] = joined[-1]["text"] + output["text"]
        else:
            joined.append(output)
    return joined


def cleaned(text: str, notebook_name: str) -> str:
    """The cleaned form of a notebook's JSON text."""
    nb = nbformat.reads(text, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = joined_streams(cell.outputs)
    stable_widget_ids(nb, notebook_name)
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"  # what nbformat.write stores: keys sorted, a final newline


def clean(path: Path) -> bool:
    """Clean one notebook file in place; return True if the file changed."""
    text = path.read_text(encoding="utf-8")
    new = cleaned(text, path.name)
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    for name in paths:
        path = Path(name)
        if path.suffix != ".ipynb" or not path.is_file():
            print(f"expected an existing .ipynb file, got {name!r}", file=sys.stderr)
            return 2
        if clean(path):
            print(f"cleaned {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
