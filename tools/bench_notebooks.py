"""How long does each notebook take, and how fast do its widgets redraw?

    python tools/bench_notebooks.py                     # every notebook in notebooks/
    python tools/bench_notebooks.py notebooks/01_*.ipynb

For each notebook: run it from a fresh kernel (nbclient, like nbval) and time the whole execution;
then, in the same kernel, find every `FigureWidget` it made, move each control through a few values,
and time each redraw (rendering to PNG included). Prints one table; nothing is written.
Targets from the course's issues: a lesson <= 30 s (07, with training, <= 90 s); a redraw <= 150 ms.
"""
from __future__ import annotations

import argparse
import glob
import json
import statistics
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

PROBE = r'''
import gc, json, time, statistics
from transformer_lesson.drawing import FigureWidget
def _is_figure_widget(o):
    try:
        return isinstance(o, FigureWidget)
    except ReferenceError:   # a dead weak proxy
        return False
_widgets = [o for o in gc.get_objects() if _is_figure_widget(o)]
_times = []
for _w in _widgets:
    for _name, _c in _w.controls.items():
        _start = _c.value
        _options = list(getattr(_c, "options", []) or [])
        if _options:
            _values = [(o[1] if isinstance(o, tuple) else o) for o in _options]
        elif hasattr(_c, "min") and hasattr(_c, "max"):
            _step = getattr(_c, "step", 1) or 1
            _values = [min(_c.max, _c.min + k * _step) for k in range(1, 6)]
        else:
            continue
        for _v in _values[:5]:
            if _v == _c.value:
                continue
            _c.value = _v
            _times.append(_w.last_render_seconds)
        _c.value = _start
print("BENCH_JSON" + json.dumps({"widgets": len(_widgets), "redraws": _times}))
'''


def bench(path: str) -> dict:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(Path(path).parent)}})
    with client.setup_kernel():
        start = time.perf_counter()
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
        seconds = time.perf_counter() - start
        probe = nbformat.v4.new_code_cell(PROBE)
        nb.cells.append(probe)
        client.execute_cell(probe, len(nb.cells) - 1)
    text = "".join(o.get("text", "") for o in probe.outputs if o.get("output_type") == "stream")
    data = json.loads(text.split("BENCH_JSON", 1)[1].splitlines()[0])
    return {"notebook": path, "seconds": seconds, **data}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to time (default: notebooks/*.ipynb)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(glob.glob("notebooks/*.ipynb"))
    print(f"{'notebook':42s} {'run (s)':>8s} {'widgets':>8s} {'redraws':>8s} {'median ms':>10s} {'max ms':>8s}")
    total = 0.0
    for path in paths:
        r = bench(path)
        total += r["seconds"]
        times = [t * 1e3 for t in r["redraws"]]
        med = f"{statistics.median(times):10.0f}" if times else f"{'-':>10s}"
        top = f"{max(times):8.0f}" if times else f"{'-':>8s}"
        print(f"{Path(path).name:42s} {r['seconds']:8.1f} {r['widgets']:8d} {len(times):8d} {med} {top}", flush=True)
    print(f"{'all':42s} {total:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
