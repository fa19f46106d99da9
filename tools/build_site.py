"""Build the course website (`make site`): both editions, from the notebooks' stored outputs, as static files.

    python tools/build_site.py [--out _site]

What it does, in order:
1. stages each edition as a Sphinx source tree with the same page paths, under build/site/src/<en|zh>/:
   index.md (README.md / README.zh.md), notebooks/, exercises/, solutions/ (notebooks/ ... or zh/notebooks/ ...),
   docs/teaching.md (docs/teaching.md / docs/teaching.zh.md), docs/claims.md, docs/terminology.md. Links
   between the pages are rewritten for the staged paths; a link to the other edition goes to ../<other>/,
   a link to a file that is no page (LICENSE, CONTRIBUTING.md) to the repository. A widget output shows its stored first view (image/png) with its text caption below (static_view);
2. runs Sphinx (myst-nb, sphinx-book-theme; site/conf.py) on both, in parallel, and copies the pages into <out>/en and <out>/zh;
   nothing executes (nb_execution_mode = "off"): pages show the outputs stored in the notebooks;
3. copies MathJax 3 (from the django-static-mathjax package) to <out>/_mathjax, so no page needs a CDN;
4. subsets Noto Sans SC (from the pylopdf-fonts-zh-cn package) to the CJK characters the built pages use and
   writes it as <out>/_fonts/NotoSansSC-subset.woff2 (site/_static/cjk-font.css uses it for Chinese text);
5. writes <out>/index.html (to the English home page) and <out>/.nojekyll.

The site needs no server beyond static files and works from file:// too. The course package is not imported.
"""
from __future__ import annotations

import argparse
import html
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/course_urls.py, also when loaded by path
import course_urls  # noqa: E402  (the one reader of [project.urls])
from widget_outputs import widget_first_view  # noqa: E402  (shared with tools/slides.py)

REPO = Path(__file__).resolve().parents[1]
STAGE = REPO / "build" / "site"
FONT_NAME = "NotoSansSC-subset.woff2"

# The two editions. Every page exists in both under the same path; "dirs" maps a staged folder to the repository's.
EDITIONS = {
    "en": {
        "title": "Transformer Principles",
        "sphinx_language": "en",
        "html_lang": "en",
        "path_in_repo": "",
        "other": "zh",
        "switch_label": "English",
        "switch_title": "This page in English",
        "readme": "README.md",
        "docs": {"docs/teaching.md": "docs/teaching.md", "docs/claims.md": "docs/claims.md",
                 "docs/terminology.md": "docs/terminology.md"},
        "dirs": {"notebooks": "notebooks", "exercises": "exercises", "solutions": "solutions"},
        "captions": {"notebooks": "Lessons", "exercises": "Exercises", "solutions": "Solutions",
                     "docs": "For teachers and contributors"},
    },
    "zh": {
        "title": "Transformer 原理",
        "sphinx_language": "zh_CN",
        "html_lang": "zh-CN",
        "path_in_repo": "zh",
        "other": "en",
        "switch_label": "中文",
        "switch_title": "本页的中文版",
        "readme": "README.zh.md",
        "docs": {"docs/teaching.md": "docs/teaching.zh.md", "docs/claims.md": "docs/claims.md",
                 "docs/terminology.md": "docs/terminology.md"},
        "dirs": {"notebooks": "zh/notebooks", "exercises": "zh/exercises", "solutions": "zh/solutions"},
        "captions": {"notebooks": "课程", "exercises": "练习", "solutions": "参考答案",
                     "docs": "教师与贡献者"},
    },
}

# Characters drawn with the site's Chinese font (the same ranges as unicode-range in site/_static/cjk-font.css).
CJK = re.compile("[\u2e80-\u2fff\u3000-\u303f\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
                 "\uf900-\ufaff\ufe10-\ufe1f\ufe30-\ufe4f\uff00-\uffef]")


class SiteError(RuntimeError):
    """A missing input or tool, said with what to do about it."""


def project_urls(repo: Path = REPO) -> dict[str, str]:
    """pyproject.toml's [project.urls]: Repository (the course's repository, for the launch buttons and
    the links to files that are no page) and Homepage (this website)."""
    urls = course_urls.project_urls(repo / "pyproject.toml")
    missing = [k for k in ("Repository", "Homepage") if not urls.get(k)]
    if missing:
        raise SiteError(f"pyproject.toml: [project.urls] has no {' or '.join(missing)}; expected e.g. "
                        'Repository = "https://github.com/<owner>/<repo>" and Homepage = "<the website\'s URL>"')
    return urls


def requirements(repo: Path = REPO) -> list[str]:
    """What building the site needs (`make site` installs it; the course package and torch are not needed):
    pyproject.toml's `site` extra and the Chinese font package of the runtime dependencies."""
    text = (repo / "pyproject.toml").read_text(encoding="utf-8")
    try:
        import tomllib  # novermin (Python 3.11+)
    except ImportError:  # Python 3.10: the lists hold one quoted requirement per line
        def listed(name):
            block = re.search(rf"^{name} = \[(.*?)^\]", text, re.M | re.S)
            return re.findall(r'^\s*"([^"]+)"', block.group(1), re.M) if block else []
        site, deps = listed("site"), listed("dependencies")
    else:
        project = tomllib.loads(text)["project"]
        site, deps = project.get("optional-dependencies", {}).get("site", []), project.get("dependencies", [])
    font = [d for d in deps if d.startswith("pylopdf-fonts-zh-cn")]
    if not site or not font:
        raise SiteError("pyproject.toml: expected a `site` extra ([project.optional-dependencies] site = [...]) and "
                        "pylopdf-fonts-zh-cn among the dependencies")
    return site + font


def pages(lang: str, repo: Path = REPO) -> dict[str, str]:
    """{staged path: repository path} of every page of one edition."""
    ed = EDITIONS[lang]
    found = {"index.md": ed["readme"], **ed["docs"]}
    for staged_dir, repo_dir in ed["dirs"].items():
        notebooks = sorted((repo / repo_dir).glob("*.ipynb"))
        if not notebooks:
            raise SiteError(f"no notebook in {repo_dir}/: the site shows every lesson, exercise and solution; "
                            "run it from a complete checkout of the course")
        found.update({f"{staged_dir}/{p.name}": f"{repo_dir}/{p.name}" for p in notebooks})
    return found


_LINK = re.compile(r"(?<!!)\[([^\]\n]+)\]\(([^)\s]+)\)")


def rewrite_links(markdown: str, source: str, staged: str, lang: str, page_map: dict, repo_url: str) -> str:
    """Links of a markdown page (at repository path `source`, staged at `staged`) made to work on the site."""
    here_repo, here_staged = posixpath.dirname(source), posixpath.dirname(staged)

    def fix(m: re.Match) -> str:
        text, target = m.group(1), m.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            return m.group(0)  # another site, mail, or an anchor on this page
        path, _, anchor = target.partition("#")
        repo_path = posixpath.normpath(posixpath.join(here_repo, path))
        hit = page_map.get((lang, repo_path)) or page_map.get(repo_path)
        if hit is None:  # a file of the repository that is no page
            return f"[{text}]({repo_url.rstrip('/')}/blob/main/{repo_path}{'#' + anchor if anchor else ''})"
        page_lang, page = hit
        frag = f"#{anchor}" if anchor else ""
        if page_lang == lang:
            return f"[{text}]({posixpath.relpath(page, here_staged or '.')}{frag})"
        up = "../" * (staged.count("/") + 1)
        html = re.sub(r"\.(md|ipynb)$", ".html", page)
        return f'<a href="{up}{page_lang}/{html}{frag}">{text}</a>'  # the other edition: another Sphinx build

    return _LINK.sub(fix, markdown)


def _page_map() -> dict:
    """(edition, repository path) and repository path -> (edition, staged path). A page shared by both editions
    (docs/claims.md, docs/terminology.md) is found under the edition that links to it."""
    out: dict = {}
    for lang in EDITIONS:
        for staged, source in pages(lang).items():
            out[(lang, source)] = (lang, staged)
    for lang in EDITIONS:
        for staged, source in pages(lang).items():
            shared = all(source in pages(other).values() for other in EDITIONS)
            if not shared:
                out[source] = (lang, staged)
    return out


def stage(lang: str, dst: Path, repo_url: str) -> None:
    """Write one edition's Sphinx source tree: its notebooks as pages show them (static_view) and its markdown
    pages with links rewritten, the home page ending with the navigation. A file is rewritten only when its
    content changed, so Sphinx rebuilds only those pages."""
    ed = EDITIONS[lang]
    page_map = _page_map()
    wanted = pages(lang)
    if dst.exists():  # a page that no longer exists must not linger in the site
        for old in dst.rglob("*"):
            if old.is_file() and old.relative_to(dst).as_posix() not in wanted:
                old.unlink()
    for staged, source in wanted.items():
        out = dst / staged
        out.parent.mkdir(parents=True, exist_ok=True)
        src = REPO / source
        if not src.is_file():
            raise SiteError(f"{source} is missing: the site's {lang} edition shows it as {staged}")
        if staged.endswith(".ipynb"):
            view = json.dumps(static_view(json.loads(src.read_text(encoding="utf-8"))), ensure_ascii=False)
            if not out.exists() or out.read_text(encoding="utf-8") != view:  # unchanged: Sphinx keeps its page
                out.write_text(view, encoding="utf-8")
            continue
        text = rewrite_links(src.read_text(encoding="utf-8"), source, staged, lang, page_map, repo_url)
        if staged == "index.md":
            for folder, caption in ed["captions"].items():
                entries = ([p.removesuffix(".md") for p in ed["docs"]] if folder == "docs" else
                           [p.removesuffix(".ipynb") for p in wanted if p.startswith(folder + "/")])
                text += f"\n\n```{{toctree}}\n:hidden:\n:caption: {caption}\n\n" + "\n".join(entries) + "\n```\n"
        if not out.exists() or out.read_text(encoding="utf-8") != text:
            out.write_text(text, encoding="utf-8")




def static_view(nb: dict) -> dict:
    """The notebook as a page shows it (the staged copy; the repository's notebook is not touched): a widget output
    that stores its first view as image/png shows that image, and its text/plain caption below it as text (the live
    widget draws the caption as HTML under the figure; without a kernel there is no live widget). The caption is
    also the image's alt text."""
    for cell in nb.get("cells", []):
        outputs, caption_alt = [], None
        for out in cell.get("outputs", []):
            view = widget_first_view(out)
            if view is None:
                outputs.append(out)
                continue
            image, caption = view
            outputs.append(image)
            if caption:
                outputs.append({"output_type": "display_data", "metadata": {}, "data": {
                    "text/html": f'<p class="tl-widget-caption">{html.escape(caption)}</p>'}})
                caption_alt = caption_alt or caption
        if "outputs" in cell:
            cell["outputs"] = outputs
        if caption_alt:
            cell.setdefault("metadata", {}).setdefault("mystnb", {}).setdefault("image", {})["alt"] = caption_alt
    return nb


def sphinx(lang: str, src: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "TL_SITE_LANG": lang, "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-c", str(REPO / "site"),
           "-d", str(STAGE / "doctrees" / lang), str(src), str(out)]
    log = open(STAGE / f"sphinx-{lang}.log", "w")
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)


def copy_mathjax(out: Path) -> None:
    """MathJax 3 (TeX input, CommonHTML output with its woff fonts, the TeX extensions it loads on demand and its
    menu) from the django-static-mathjax package, a plain copy of MathJax's files (Django is not needed)."""
    try:
        import mathjax
    except ImportError as e:
        raise SiteError(f"django-static-mathjax (MathJax's files) is not installed ({e}); run `make site`, or "
                        "`pip install -e '.[site]'`") from e
    root = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (root / "tex-chtml.js").is_file():
        raise SiteError(f"{root}/tex-chtml.js is missing: reinstall it with "
                        "`pip install --force-reinstall django-static-mathjax`")
    dst = out / "_mathjax"
    shutil.rmtree(dst, ignore_errors=True)
    for part in ("tex-chtml.js", "input/tex/extensions", "output/chtml/fonts/woff-v2", "ui", "a11y"):
        src = root / part
        (dst / part).parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst / part)
        else:
            shutil.copy2(src, dst / part)


def subset_font(out: Path) -> tuple[int, int]:
    """Noto Sans SC cut down to the CJK characters of the built pages (text, titles, search index, the theme's
    translated words); returns (characters, bytes)."""
    try:
        import pylopdf_fonts_zh_cn
        from fontTools import subset
        import brotli  # noqa: F401  (fontTools needs it for woff2)
    except ImportError as e:
        raise SiteError(f"{e}; the site's Chinese font needs pylopdf-fonts-zh-cn, fonttools and brotli: "
                        "run `make site`, or `pip install -e '.[site]'`") from e
    chars: set[str] = set()
    for lang in EDITIONS:
        for path in (out / lang).rglob("*"):
            if path.suffix in {".html", ".js"} and path.is_file():
                chars.update(CJK.findall(path.read_text(encoding="utf-8", errors="ignore")))
    font = Path(pylopdf_fonts_zh_cn.sans_path())
    dst = out / "_fonts" / FONT_NAME
    dst.parent.mkdir(parents=True, exist_ok=True)
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]  # vertical forms, full-width punctuation alternates
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    f = subset.load_font(str(font), options)
    s = subset.Subsetter(options)
    s.populate(text="".join(sorted(chars)))
    s.subset(f)
    subset.save_font(f, str(dst), options)
    (out / "_fonts" / "OFL.txt").write_text(
        "Noto Sans SC (c) Google LLC, Adobe, licensed under the SIL Open Font License 1.1 "
        "(https://openfontlicense.org); subset by tools/build_site.py from the pylopdf-fonts-zh-cn package.\n",
        encoding="utf-8")
    return len(chars), dst.stat().st_size


HOME = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0; url=en/index.html">
<title>Transformer Principles · Transformer 原理</title>
<link rel="canonical" href="en/index.html"><link rel="icon" href="en/_static/favicon.svg"></head>
<body><p><a href="en/index.html">Transformer Principles (English)</a> ·
<a href="zh/index.html" lang="zh-CN">Transformer 原理（中文）</a></p></body></html>
"""


def build(out: Path) -> None:
    start = time.monotonic()
    urls = project_urls()
    STAGE.mkdir(parents=True, exist_ok=True)
    for lang in EDITIONS:
        stage(lang, STAGE / "src" / lang, urls["Repository"])
    out.mkdir(parents=True, exist_ok=True)
    # Sphinx writes into build/site/html/<lang> (myst-nb keeps its image files next to that, in
    # build/site/html/jupyter_execute), then each edition is copied into <out>/<lang>.
    procs = {lang: sphinx(lang, STAGE / "src" / lang, STAGE / "html" / lang) for lang in EDITIONS}
    failed = []
    for lang, proc in procs.items():
        rc = proc.wait()
        log = (STAGE / f"sphinx-{lang}.log").read_text(errors="replace")
        warnings = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
        if rc:
            failed.append(f"Sphinx ({lang}) exited with {rc}:\n{log[-4000:]}")
        elif warnings:
            print(f"Sphinx ({lang}): {len(warnings)} warnings (build/site/sphinx-{lang}.log):", *warnings[:20],
                  sep="\n  ")
    if failed:
        raise SiteError("\n\n".join(failed))
    for lang in EDITIONS:
        shutil.rmtree(out / lang, ignore_errors=True)
        shutil.copytree(STAGE / "html" / lang, out / lang, ignore=shutil.ignore_patterns(".buildinfo", ".doctrees"))
        for staged, source in pages(lang).items():  # the download button gives the course's own notebook
            if staged.endswith(".ipynb") and (out / lang / "_sources" / staged).is_file():
                shutil.copyfile(REPO / source, out / lang / "_sources" / staged)
    copy_mathjax(out)
    count, size = subset_font(out)
    (out / "index.html").write_text(HOME, encoding="utf-8")
    (out / ".nojekyll").write_text("", encoding="utf-8")
    n_pages = sum(1 for lang in EDITIONS for _ in pages(lang))
    print(f"site: {n_pages} pages (English and Chinese) in {out.relative_to(REPO) if out.is_relative_to(REPO) else out}/; "
          f"Chinese font subset {count} characters, {size / 1024:.0f} KiB; built in {time.monotonic() - start:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "_site", help="output folder (default: _site)")
    parser.add_argument("--requirements", action="store_true",
                        help="print what building the site needs (for pip install) and exit")
    args = parser.parse_args(argv)
    try:
        if args.requirements:
            print(" ".join(requirements()))
            return 0
        build(args.out.resolve())
    except SiteError as e:
        print(f"make site: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
