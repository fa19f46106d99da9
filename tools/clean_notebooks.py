"""Strip what changes on every run and carries no lesson from stored notebooks (`make notebooks` runs it).

- `metadata.execution` of every cell (iopub timestamps that nbclient records): a re-run would change
  every cell of a notebook's diff without changing what a learner sees.

Usage: python tools/clean_notebooks.py NOTEBOOK.ipynb [...]   (rewrites each file only if it changed)
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def clean(path: Path) -> bool:
    """Remove execution timestamps; return True if the file changed."""
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if "execution" in cell.metadata:
            del cell.metadata["execution"]
            changed = True
    if changed:
        nbformat.write(nb, path)
    return changed


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
