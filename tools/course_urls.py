"""The course's addresses, read from the one place that names them: pyproject.toml's [project.urls].

`Repository` is the course's GitHub repository: the install cell at the top of every notebook, the Binder and
Colab links (tools/first_cell.py), the website's launch buttons (tools/build_site.py) and the hub's nbgitpuller
link (tools/hub_link.py) all point at it. `Homepage` is the website. A fork changes both there, then runs
`python tools/first_cell.py --write`.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


class CourseUrlError(ValueError):
    """pyproject.toml does not name the course's repository as the tools need it."""


def project_urls(pyproject: Path = PYPROJECT) -> dict[str, str]:
    """pyproject.toml's [project.urls] table (empty when there is none)."""
    text = Path(pyproject).read_text(encoding="utf-8")
    try:
        import tomllib  # novermin (Python 3.11+)
    except ImportError:  # Python 3.10: the [project.urls] table holds only `Key = "value"` lines
        section = re.search(r"^\[project\.urls\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
        return dict(re.findall(r'^\s*(\w+)\s*=\s*"([^"]*)"', section.group(1), re.M)) if section else {}
    return tomllib.loads(text).get("project", {}).get("urls", {})


def repository_url(pyproject: Path = PYPROJECT) -> str:
    """`[project.urls] Repository`: https://github.com/OWNER/NAME (Binder and Colab open GitHub repositories)."""
    url = project_urls(pyproject).get("Repository", "")
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.netloc != "github.com" or len(parts.path.strip("/").split("/")) != 2:
        raise CourseUrlError(f"{pyproject}: expected [project.urls] Repository = \"https://github.com/OWNER/NAME\" "
                             f"(Binder and Colab open GitHub repositories), found {url!r}; set it to the course's "
                             "repository, then run python tools/first_cell.py --write")
    return url.rstrip("/")
