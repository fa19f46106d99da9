"""The website's build script and its publishing workflow, without building (`make test-site` builds and opens
every page in a browser): both editions hold the same pages, links are rewritten for the site, the workflow
publishes what `make site` builds, and the repository URL comes from pyproject.toml alone."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import build_site  # noqa: E402

yaml = pytest.importorskip("yaml")


def test_both_editions_hold_the_same_pages_so_the_language_switch_always_lands():
    en, zh = build_site.pages("en"), build_site.pages("zh")
    assert set(en) == set(zh)
    for d in ("notebooks", "exercises", "solutions"):
        assert {p for p in en if p.startswith(d + "/")} == {f"{d}/{p.name}" for p in (ROOT / d).glob("*.ipynb")}
        assert {v for v in zh.values() if v.startswith(f"zh/{d}/")} == {
            f"zh/{d}/{p.name}" for p in (ROOT / "zh" / d).glob("*.ipynb")}
    assert en["index.md"] == "README.md" and zh["index.md"] == "README.zh.md"
    assert en["docs/teaching.md"] == "docs/teaching.md" and zh["docs/teaching.md"] == "docs/teaching.zh.md"


def test_links_are_rewritten_for_the_site():
    repo = build_site.project_urls()["Repository"].rstrip("/")
    pm = build_site._page_map()
    fix = build_site.rewrite_links
    # the other edition: a plain link into the other Sphinx build, relative to the page
    assert fix("[中文](README.zh.md)", "README.md", "index.md", "en", pm, repo) == '<a href="../zh/index.html">中文</a>'
    assert (fix("[English](teaching.md)", "docs/teaching.zh.md", "docs/teaching.md", "zh", pm, repo)
            == '<a href="../../en/docs/teaching.html">English</a>')
    # the same edition: relative to the staged page, anchors kept
    assert fix("[guide](docs/teaching.zh.md#x)", "README.zh.md", "index.md", "zh", pm, repo) == "[guide](docs/teaching.md#x)"
    assert fix("[home](../README.zh.md)", "docs/teaching.zh.md", "docs/teaching.md", "zh", pm, repo) == "[home](../index.md)"
    assert fix("[terms](terminology.md)", "docs/teaching.md", "docs/teaching.md", "en", pm, repo) == "[terms](terminology.md)"
    # no page on the site: the file in the repository; other sites and anchors untouched; images untouched
    assert fix("[MIT](LICENSE)", "README.md", "index.md", "en", pm, repo) == f"[MIT]({repo}/blob/main/LICENSE)"
    for same in ("[x](https://mybinder.org)", "[x](#linux)", "![x](y.png)"):
        assert fix(same, "README.md", "index.md", "en", pm, repo) == same


def test_the_urls_come_from_pyproject_and_are_checked(tmp_path):
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    repo = re.search(r'^Repository = "([^"]+)"', text, re.M).group(1)
    assert build_site.project_urls()["Repository"] == repo
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    with pytest.raises(build_site.SiteError, match=r"\[project.urls\] has no Repository or Homepage"):
        build_site.project_urls(tmp_path)


def test_the_site_needs_its_extra_and_the_font_package_not_torch():
    reqs = build_site.requirements()
    names = {re.split(r"[<>=!~ ;\[]", r, maxsplit=1)[0].lower() for r in reqs}
    assert {"sphinx", "myst-nb", "sphinx-book-theme", "fonttools", "brotli", "pylopdf-fonts-zh-cn"} <= names
    assert "torch" not in names


def test_the_build_output_is_ignored_by_git():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "_site/" in ignored and "build/" in ignored


def test_the_pages_workflow_builds_with_make_site_and_deploys_its_output():
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8"))
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "push" in on and "workflow_dispatch" in on
    assert {"pages": "write", "id-token": "write"}.items() <= wf["permissions"].items()
    build = wf["jobs"]["build"]["steps"]
    runs = [s.get("run", "") for s in build]
    assert any(re.search(r"(^|\s)make site(\s|$)", r) for r in runs), runs
    assert not any("torch" in r for r in runs), "the site needs no torch"
    upload = [s for s in build if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert upload and upload[0]["with"]["path"] == "_site"
    deploy = wf["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in deploy["steps"])
