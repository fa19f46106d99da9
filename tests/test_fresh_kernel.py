"""A fresh environment with only a kernel runs a lesson top to bottom through its install cell.

`make test-fresh-kernel` (slow: it installs the course and its dependencies, torch included; not part of
`make test`). What a learner meets in Colab, VS Code or on a hub without the course:

1. a new venv gets only ipykernel and nbclient (no torch, no course, no JupyterLab);
2. a copy of the repository (its tracked and new files, as a fresh clone has them) is put in a temporary
   folder, and lesson 01 runs there through that venv's kernel with nbclient, top to bottom: the first cell
   says it installs the checkout and does (`pip install -e <copy>`, torch from PyTorch's CPU index as in the
   Makefile), and every later cell runs in the same kernel, without a restart and without an error;
3. a new kernel runs the first cell again: it prints nothing (the course is there now).
It prints each step's time. pip may use PyPI and the local caches; the torch version is the Makefile's
TORCH (the CPU wheel wins over PyPI's CUDA one, as in `make lab`); PIP_RETRIES=0 skips an unreachable index
at once, as the Makefile does.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSON = "notebooks/01_self_attention.ipynb"
pytestmark = [pytest.mark.fresh_kernel, pytest.mark.timeout(3600)]

RUN = r'''
import json, sys, time
import nbformat
from nbclient import NotebookClient

path, out, only_first = sys.argv[1], sys.argv[2], sys.argv[3] == "first"
nb = nbformat.read(path, as_version=4)
if only_first:
    nb.cells = [next(c for c in nb.cells if c.cell_type == "code")]
start = time.time()
NotebookClient(nb, timeout=1800, kernel_name="python3", allow_errors=True,
               resources={"metadata": {"path": str(__import__("pathlib").Path(path).parent)}}).execute()
nbformat.write(nb, out)
print(json.dumps({"seconds": round(time.time() - start, 1)}))
'''


def _torch_requirement() -> str:
    match = re.search(r"^TORCH\s*\?=\s*(\S+)", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    assert match, "Makefile: no `TORCH ?= torch==...` line"
    return match.group(1)


def _copy_of_the_repository(dest: Path) -> Path:
    """The repository's tracked files as they are now, and the package's new files (what a clone of the next
    commit holds; other untracked folders, build output or caches, are left out)."""
    def listed(*args):
        return subprocess.run(["git", "ls-files", "-z", *args], cwd=ROOT, check=True,
                              capture_output=True).stdout.decode().split("\0")
    files = listed() + listed("-o", "--exclude-standard", "transformer_lesson")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def _outputs(cell) -> str:
    return "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", []))  # nbformat joins


def _errors(nb) -> list[str]:
    return [f"cell {i}: {o['ename']}: {o['evalue'][:300]}" for i, c in enumerate(nb["cells"])
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


def test_a_fresh_kernel_runs_a_lesson_through_its_install_cell(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is needed to list the repository's files")
    timings = {}
    env = {**os.environ, "PIP_RETRIES": "0", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)  # nothing of this checkout may leak in (each python below runs outside it)
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(_torch_requirement() + "\n", encoding="utf-8")
    env["PIP_CONSTRAINT"] = str(constraints)

    start = time.time()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run([python, "-m", "pip", "install", "-q", "ipykernel", "nbclient"], check=True, env=env)
    bare = subprocess.run([python, "-c", "import importlib.util as u; print([m for m in ('transformer_lesson', "
                           "'torch', 'jupyterlab') if u.find_spec(m)])"], check=True, env=env,
                          capture_output=True, text=True, cwd=tmp_path).stdout.strip()
    assert bare == "[]", f"the fresh venv should hold only a kernel, found {bare}"
    timings["venv with only ipykernel + nbclient"] = time.time() - start

    repo = _copy_of_the_repository(tmp_path / "course")
    notebook = repo / LESSON
    (tmp_path / "run.py").write_text(RUN, encoding="utf-8")

    def run(which: str) -> dict:
        out = tmp_path / f"{which}.ipynb"
        done = subprocess.run([python, tmp_path / "run.py", notebook, out, which], env=env, cwd=notebook.parent,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
        timings[f"nbclient: {which}"] = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
        return nbformat.read(out, as_version=4)

    # 2. the whole lesson, the first cell installing the copy
    ran = run("all")
    code = [c for c in ran["cells"] if c["cell_type"] == "code"]
    first = _outputs(code[0])
    assert f"Installing the course (transformer_lesson) from {repo}" in first, first
    assert "Installed. Run the next cell." in first, first
    timing = code[0].metadata.get("execution", {})
    if timing:  # nbclient's timestamps: the install cell's own share of the run
        from datetime import datetime
        stamp = lambda key: datetime.fromisoformat(timing[key].replace("Z", "+00:00"))  # noqa: E731
        timings["  of which the install cell"] = (stamp("shell.execute_reply") - stamp("iopub.execute_input")).total_seconds()
    assert not _errors(ran), _errors(ran)
    assert all(c.get("execution_count") for c in code), "a code cell did not run"
    installed = subprocess.run([python, "-c", "import torch, transformer_lesson, importlib.util as u; "
                                "print(transformer_lesson.__file__, torch.__version__, torch.version.cuda, "
                                "u.find_spec('jupyterlab') is None)"], check=True, env=env, capture_output=True,
                               text=True, cwd=tmp_path).stdout.split()
    assert installed[0].startswith(str(repo)), f"not the editable copy: {installed[0]}"
    assert installed[2] == "None", f"torch {installed[1]} is a CUDA build ({installed[2]}); expected the CPU one"
    assert installed[3] == "True", "JupyterLab was installed: it is the `lab` extra, not a runtime dependency"

    artifacts = ROOT / "tests" / "artifacts" / "fresh_kernel"
    artifacts.mkdir(parents=True, exist_ok=True)
    nbformat.write(ran, artifacts / Path(LESSON).name)  # the run as the learner saw it (not committed)

    # 3. the first cell again, in a new kernel: nothing to do, nothing printed
    again = run("first")
    assert _outputs(again["cells"][0]) == "" and not _errors(again), again["cells"][0].get("outputs")

    timings["total"] = time.time() - start
    print("\nfresh-kernel install test (torch " + installed[1] + "):")
    for step, seconds in timings.items():
        print(f"  {step:40} {seconds:7.1f} s")
