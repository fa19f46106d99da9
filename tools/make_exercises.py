"""Generate exercises/ from solutions/: the one source of every exercise is its solution notebook.

    make exercises                                   # the documented command
    python tools/make_exercises.py [SRC_DIR] [DEST_DIR]   # the same (defaults: solutions exercises)

For each `SRC_DIR/*.ipynb`, nbgrader's `ClearSolutions` replaces every region between the
`### BEGIN SOLUTION` and `### END SOLUTION` markers with `# YOUR CODE HERE` + `raise NotImplementedError()`,
`LockCells` marks the checker cells read-only, and nbconvert's `ClearOutputPreprocessor` drops outputs
and execution counts (and run timestamps). The nbgrader cell metadata stays, so a teacher can still
collect and auto-grade the exercise notebooks. No nbgrader course directory is needed.
The install cell (tools/first_cell.py), the first code cell of every solution, carries no nbgrader
metadata: it comes over as it is, not locked, so a learner in Colab or VS Code can run it (or delete it).

nbgrader is a development dependency (the `test` extra of pyproject.toml), not part of a learner's
install: learners only open exercises/, which is committed.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearOutputPreprocessor

ROOT = Path(__file__).resolve().parents[1]


def make_exercise(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return the exercise version of one solution notebook (the input is not changed)."""
    from nbgrader.preprocessors import ClearSolutions, LockCells

    nb = nbformat.from_dict(notebook)  # a deep copy
    resources: dict = {}
    for preprocessor in (ClearSolutions(), LockCells(), ClearOutputPreprocessor()):
        nb, resources = preprocessor.preprocess(nb, resources)
    nb.metadata.pop("widgets", None)            # no stored widget state without outputs
    for cell in nb.cells:
        cell.metadata.pop("execution", None)      # nbclient's run timestamps
    return nb


def make_exercises(src: Path = ROOT / "solutions", dest: Path = ROOT / "exercises") -> list[Path]:
    """Write `dest/NAME.ipynb` for every `src/NAME.ipynb`; return the written paths."""
    src, dest = Path(src), Path(dest)
    sources = sorted(src.glob("*.ipynb"))
    if not sources:
        raise SystemExit(f"expected solution notebooks in {src}, found none")
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sources:
        exercise = make_exercise(nbformat.read(path, as_version=4))
        out = dest / path.name
        nbformat.write(exercise, out)
        written.append(out)
    return written


def main(argv: list[str]) -> int:
    if len(argv) > 2:
        print(__doc__)
        return 2
    src = Path(argv[0]) if argv else ROOT / "solutions"
    dest = Path(argv[1]) if len(argv) > 1 else ROOT / "exercises"
    for path in make_exercises(src, dest):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
