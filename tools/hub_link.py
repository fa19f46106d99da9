"""The nbgitpuller link a teacher hands out: one click clones the course into a student's home on a
JupyterHub (or pulls the teacher's later changes without overwriting the student's edits) and opens a notebook.

    python tools/hub_link.py https://hub.example.edu                       # opens the tour
    python tools/hub_link.py https://hub.example.edu zh/notebooks/00_tour.ipynb
    python tools/hub_link.py https://hub.example.edu exercises/01_self_attention.ipynb --branch main

The repository URL comes from the one place that names it: `[project.urls] Repository` in pyproject.toml
(a fork changes it there). The folder the clone lands in is the repository's name, as nbgitpuller names it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/course_urls.py, also when loaded by path
from course_urls import repository_url  # noqa: E402  (the one reader of [project.urls]; a fork changes it there)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NOTEBOOK = "notebooks/00_tour.ipynb"


def clone_folder(repo: str) -> str:
    """The folder nbgitpuller clones `repo` into (its `targetpath` default): the last part of the URL."""
    return repo.rstrip("/").split("/")[-1]  # as nbgitpuller's UIHandler does (a trailing .git stays)


def pull_link(hub: str, notebook: str = DEFAULT_NOTEBOOK, *, repo: str | None = None, branch: str = "main",
              app: str = "lab") -> str:
    """The nbgitpuller link: `hub`/hub/user-redirect/git-pull?repo=...&branch=...&urlpath=lab/tree/<folder>/<notebook>.

    `hub` is the hub's address (https://hub.example.edu, or with a path prefix); `notebook` a path inside
    the repository; `repo` defaults to the repository URL in pyproject.toml.
    """
    parts = urlsplit(hub)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"hub must be the hub's address, like https://hub.example.edu; got {hub!r}.")
    if notebook.startswith("/") or ".." in Path(notebook).parts:
        raise ValueError(f"notebook must be a path inside the repository, like {DEFAULT_NOTEBOOK}; got {notebook!r}.")
    if not notebook.endswith(".ipynb") and not notebook.endswith("/") and "." in Path(notebook).name:
        raise ValueError(f"notebook must be a notebook (.ipynb) or a folder inside the repository; got {notebook!r}.")
    repo = repo or repository_url()
    if app not in ("lab", "tree"):
        raise ValueError(f"app must be 'lab' (JupyterLab) or 'tree' (Notebook 7); got {app!r}.")
    urlpath = f"{app}/tree/{clone_folder(repo)}/{notebook}"
    query = urlencode({"repo": repo, "branch": branch, "urlpath": urlpath}, quote_via=quote, safe="")
    return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("hub", help="the hub's address, e.g. https://hub.example.edu")
    parser.add_argument("notebook", nargs="?", default=DEFAULT_NOTEBOOK,
                        help=f"the notebook to open, a path in the repository (default {DEFAULT_NOTEBOOK})")
    parser.add_argument("--branch", default="main", help="the branch to pull (default main)")
    parser.add_argument("--repo", default=None, help="override the repository URL of pyproject.toml")
    args = parser.parse_args(argv)
    try:
        print(pull_link(args.hub, args.notebook, repo=args.repo, branch=args.branch))
    except ValueError as error:
        print(f"hub_link: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
