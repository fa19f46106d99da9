"""The install cell at the top of every notebook, and the Binder / Colab links: generated from one URL.

    python tools/first_cell.py            # list what differs from the generated text (exit 1 if anything does)
    python tools/first_cell.py --write    # write it: notebooks, solutions (both editions), READMEs, teacher guides

The repository URL lives in one place, `[project.urls] Repository` in pyproject.toml (a fork changes that
line, then runs `--write` and `make exercises`). From it this tool writes:

- the **install cell**, the first code cell of every lesson and solution of both editions (the exercises get
  it from their solutions through `make exercises`, unlocked: it carries no nbgrader metadata). In a kernel
  where `transformer_lesson` imports, it does nothing and prints nothing; elsewhere (Colab, VS Code, a
  JupyterHub without the course) it says what it does and installs the course: `pip install -e <root>` when
  the notebook's folder lies inside a copy of the repository (a parent folder holds a pyproject.toml naming
  transformer-lesson), else `pip install "transformer-lesson @ git+<URL>"`; on Linux without torch it adds
  PyTorch's CPU index, as the Makefile does, so pip never pulls a multi-GB CUDA build; it never passes `-U`
  (Colab's own torch and ipywidgets stay). The next cell then imports the course without a restart;
- the **launch links** under each lesson's title (notebooks/, zh/notebooks/): Binder and Colab, each
  opening that lesson;
- the **badges** at the top of README.md and README.zh.md (the tour of each edition) and the Binder link
  in docs/teaching.md / docs/teaching.zh.md.

tests/test_first_cell.py fails when any of these differs from what this tool generates.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/course_urls.py, also when loaded by path
from course_urls import CourseUrlError, repository_url  # noqa: E402  (the one reader of [project.urls])

ROOT = Path(__file__).resolve().parents[1]
# Folders whose notebooks carry the install cell (exercises/ get it from solutions/ via make exercises).
EXECUTED_FOLDERS = ("notebooks", "solutions", "zh/notebooks", "zh/solutions")
LESSON_FOLDERS = ("notebooks", "zh/notebooks")
BRANCH = "main"
MARK = "def install_course("  # how the install cell is recognised
CPU_INDEX = "https://download.pytorch.org/whl/cpu"

# The cell, in each language: the code is the same token for token (tests/test_zh_edition.py); only the
# comments and the printed strings differ.
_CELL = '''\
# {what}
def install_course(url="{url}"):
    import importlib.util, pathlib, shlex, site, subprocess, sys
    if importlib.util.find_spec("transformer_lesson"):
        return
    here = pathlib.Path.cwd().resolve()  # {local}
    root = next((d for d in (here, *here.parents) if (d / "pyproject.toml").is_file()
                 and 'name = "transformer-lesson"' in (d / "pyproject.toml").read_text(encoding="utf-8")), None)
    source = ["-e", str(root)] if root else [f"transformer-lesson @ git+{{url}}"]
    command = [sys.executable, "-m", "pip", "install", *source]
    # {cpu}
    if sys.platform.startswith("linux") and not importlib.util.find_spec("torch"):
        command += ["--extra-index-url", "{cpu_index}"]
    print(f"{installing[0]}"
          "{installing[1]}")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"{failed[0]}"
                           f"{failed[1]}")
    site.addsitedir(str(root) if root else site.getusersitepackages())  # {importable}
    importlib.invalidate_caches()
    print("{done}")


install_course()'''

_WORDS = {
    "en": {
        "what": "Makes this kernel ready: installs the course if it is missing (Colab, VS Code, a hub), else does nothing.",
        "local": "in a copy of the course? then install that copy",
        "cpu": "Linux without torch: CPU PyTorch, not a multi-GB CUDA build",
        "installing": ("Installing the course (transformer_lesson) from {root or url};",
                       " a few minutes if PyTorch must be downloaded ..."),
        "failed": ("pip could not install the course:\\n{result.stderr[-2000:]}\\n",
                   "Check the internet connection, or run in a terminal:\\n{shlex.join(command)}"),
        "importable": "importable now, without a restart",
        "done": "Installed. Run the next cell.",
    },
    "zh": {
        "what": "让当前内核可以运行本课程：缺少课程程序包时安装它（Colab、VS Code、JupyterHub），已安装时什么也不做。",
        "local": "notebook 在课程仓库的副本里？那就安装这个副本",
        "cpu": "Linux 上还没有 torch 时：装 CPU 版 PyTorch，不装好几 GB 的 CUDA 版",
        "installing": ("正在安装课程程序包（transformer_lesson），来源：{root or url}。",
                       "如果要下载 PyTorch，需要几分钟……"),
        "failed": ("pip 没能安装课程：\\n{result.stderr[-2000:]}\\n",
                   "请检查网络连接，或者在终端里运行：\\n{shlex.join(command)}"),
        "importable": "现在就能导入，不必重启内核",
        "done": "安装完成，请运行下一个单元格。",
    },
}

_LINKS = {"en": "**Run it online:** [Binder]({binder}) · [Colab]({colab})",
          "zh": "**在线运行：** [Binder]({binder}) · [Colab]({colab})"}
LINKS_LINE = re.compile(r"^\*\*(Run it online:|在线运行：)\*\* \[Binder\]\(.*$", re.M)

_BADGES = {"en": "[![Binder](https://mybinder.org/badge_logo.svg)]({binder}) "
                 "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab})",
           "zh": "[![在 Binder 上运行](https://mybinder.org/badge_logo.svg)]({binder}) "
                 "[![在 Colab 中打开](https://colab.research.google.com/assets/colab-badge.svg)]({colab})"}
BADGES_START, BADGES_END = "<!-- badges: tools/first_cell.py -->", "<!-- /badges -->"
READMES = {"README.md": "en", "README.zh.md": "zh"}
TEACHING = ("docs/teaching.md", "docs/teaching.zh.md")
# Any Binder or Colab link to a GitHub repository, wherever it is written: its owner/name must be ours.
LAUNCH_URL = re.compile(r"(https://mybinder\.org/v2/gh/|https://colab\.research\.google\.com/github/)"
                        r"([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)/")


# FirstCellError: pyproject.toml does not name the repository as this tool needs it.
FirstCellError = CourseUrlError


def slug(url: str) -> str:
    """https://github.com/OWNER/NAME -> OWNER/NAME."""
    return urlsplit(url).path.strip("/").removesuffix(".git")


def binder_url(notebook: str, url: str) -> str:
    return f"https://mybinder.org/v2/gh/{slug(url)}/HEAD?urlpath=lab/tree/{notebook}"


def colab_url(notebook: str, url: str) -> str:
    return f"https://colab.research.google.com/github/{slug(url)}/blob/{BRANCH}/{notebook}"


def language(path: Path) -> str:
    """'zh' for a notebook under zh/, else 'en'."""
    rel = Path(path).resolve().relative_to(ROOT) if Path(path).is_absolute() else Path(path)
    return "zh" if rel.parts[:1] == ("zh",) else "en"


def install_cell(lang: str = "en", url: str | None = None) -> str:
    """The install cell's source in language `lang` ('en' or 'zh')."""
    if lang not in _WORDS:
        raise ValueError(f"expected lang 'en' or 'zh', got {lang!r}")
    return _CELL.format(url=url or repository_url(), cpu_index=CPU_INDEX, **_WORDS[lang])


def links_line(notebook: str, lang: str = "en", url: str | None = None) -> str:
    """The markdown line under a lesson's title: Binder and Colab, opening `notebook` (a repository path)."""
    url = url or repository_url()
    return _LINKS[lang].format(binder=binder_url(notebook, url), colab=colab_url(notebook, url))


def readme_badges(lang: str = "en", url: str | None = None) -> str:
    url = url or repository_url()
    tour = "zh/notebooks/00_tour.ipynb" if lang == "zh" else "notebooks/00_tour.ipynb"
    return f"{BADGES_START}\n{_BADGES[lang].format(binder=binder_url(tour, url), colab=colab_url(tour, url))}\n{BADGES_END}"


def is_install_cell(cell) -> bool:
    return cell.cell_type == "code" and MARK in cell.source


# ---- what every file should hold -------------------------------------------------------------------------

def with_first_cell(nb, rel: str, url: str):
    """`nb` with the generated install cell first among its code cells (and, for a lesson, the links line under
    its title). Changes `nb` in place; returns it."""
    lang = language(Path(rel))
    source = install_cell(lang, url)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    installs = [i for i in code if is_install_cell(nb.cells[i])]
    if installs == code[:1]:                      # in place: keep its stored run (count, no output)
        cell = nb.cells[code[0]]
        cell.source = source
        for key in ("nbgrader", "editable", "deletable"):
            cell.metadata.pop(key, None)
    else:
        nb.cells = [c for c in nb.cells if not is_install_cell(c)]
        first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
        cell = nbformat.v4.new_code_cell(source)
        cell["id"] = "install-course"
        nb.cells.insert(first_code, cell)
    if Path(rel).parent.as_posix() in LESSON_FOLDERS and nb.cells and nb.cells[0].cell_type == "markdown":
        head = nb.cells[0]
        line = links_line(Path(rel).as_posix(), lang, url)
        text = LINKS_LINE.sub("", head.source)
        text = re.sub(r"\n{3,}", "\n\n", text)
        title, _, rest = text.partition("\n")
        head.source = f"{title}\n\n{line}\n\n{rest.lstrip(chr(10))}".rstrip("\n")
    return nb


def _same_cell(a, b) -> bool:
    return a.cell_type == b.cell_type and a.source == b.source


def notebook_paths() -> list[Path]:
    return [p for folder in EXECUTED_FOLDERS for p in sorted((ROOT / folder).glob("*.ipynb"))]


def notebook_problems(path: Path, url: str) -> list[str]:
    rel = path.relative_to(ROOT).as_posix()
    nb = nbformat.read(path, as_version=4)
    want = with_first_cell(nbformat.from_dict(nb), rel, url)
    install = [i for i, c in enumerate(nb.cells) if is_install_cell(c)]
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    found = []
    if not install:
        found.append(f"{rel}: no install cell")
    elif install[0] != code[0] or len(install) > 1:
        found.append(f"{rel}: the install cell must be the first code cell, once")
    elif nb.cells[install[0]].source != install_cell(language(Path(rel)), url):
        found.append(f"{rel}: the install cell differs from the generated one")
    elif any(k in nb.cells[install[0]].metadata for k in ("nbgrader", "editable", "deletable")):
        found.append(f"{rel}: the install cell must not be locked (no nbgrader/editable/deletable metadata)")
    if nb.cells[:1] and want.cells[:1] and nb.cells[0].source != want.cells[0].source:
        found.append(f"{rel}: the Binder/Colab links under the title differ from the generated ones")
    return found


def text_problems(url: str) -> list[str]:
    found = []
    for name, lang in READMES.items():
        text = (ROOT / name).read_text(encoding="utf-8")
        if readme_badges(lang, url) not in text:
            found.append(f"{name}: the badges differ from the generated ones:\n{readme_badges(lang, url)}")
    for name in (*READMES, *TEACHING):
        path = ROOT / name
        if path.exists():
            found += [f"{name}: a Binder/Colab link to {m.group(2)}, not {slug(url)}"
                      for m in LAUNCH_URL.finditer(path.read_text(encoding="utf-8")) if m.group(2) != slug(url)]
    return found


def problems(url: str | None = None) -> list[str]:
    url = url or repository_url()
    return [p for path in notebook_paths() for p in notebook_problems(path, url)] + text_problems(url)


def write(url: str | None = None) -> list[str]:
    """Write the generated cells, links and badges; return the paths changed."""
    url = url or repository_url()
    changed = []
    for path in notebook_paths():
        rel = path.relative_to(ROOT).as_posix()
        nb = nbformat.read(path, as_version=4)
        before = nbformat.writes(nb)
        if nbformat.writes(with_first_cell(nb, rel, url)) != before:
            nbformat.write(nb, path)
            changed.append(rel)
    for name, lang in READMES.items():
        path = ROOT / name
        text = path.read_text(encoding="utf-8")
        block = re.compile(re.escape(BADGES_START) + r".*?" + re.escape(BADGES_END), re.S)
        if block.search(text):
            new = block.sub(lambda _: readme_badges(lang, url), text)
        else:  # first time: under the title
            new = re.sub(r"^(# [^\n]*\n)", lambda m: m.group(1) + "\n" + readme_badges(lang, url) + "\n",
                         text, count=1, flags=re.M)
        new = LAUNCH_URL.sub(lambda m: m.group(1) + slug(url) + "/", new)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(name)
    for name in TEACHING:
        path = ROOT / name
        if path.exists():
            text = path.read_text(encoding="utf-8")
            new = LAUNCH_URL.sub(lambda m: m.group(1) + slug(url) + "/", text)
            if new != text:
                path.write_text(new, encoding="utf-8")
                changed.append(name)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="write the generated cells, links and badges")
    args = parser.parse_args(argv)
    try:
        if args.write:
            changed = write()
            print("updated:", ", ".join(changed) if changed else "nothing (all up to date)")
            if any(p.startswith(("solutions", "zh/solutions")) for p in changed):
                print("now run `make exercises` (the exercises get the install cell from their solutions)")
        found = problems()
    except FirstCellError as error:
        print(error, file=sys.stderr)
        return 2
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
