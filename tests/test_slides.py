"""make slides: a lesson as a reveal.js deck that shows offline (tools/slides.py).

Builds two decks from the stored notebooks, an English lesson with formulas (04) and a Chinese lesson with a
widget (zh 03), and checks what a teacher in a classroom without a network needs: every script and style sheet
is a local file that exists, one horizontal slide per `#`/`##` heading, every stored figure (widgets' first
views included) shown as an <img>. The negative controls show the checks fail on nbconvert's stock deck (which
loads reveal.js and require.js from a CDN and renders widgets as widget views) and on a deck that lost a
slide or a figure.

The reveal.js and MathJax files come from `make slides`' npm cache (.cache/slides-npm) when it is there; a
fresh clone has none and a test may download nothing, so the build then copies a stand-in tree with the
same file names: what is asserted here (which files the deck loads, that they exist, its slides and
figures) does not depend on their content. tests/browser/test_slides_browser.py opens real decks in Chromium.
"""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("slides", ROOT / "tools" / "slides.py")
slides = importlib.util.module_from_spec(_spec)
sys.modules["slides"] = slides       # its dataclasses look their module up
_spec.loader.exec_module(slides)

EN = ROOT / "notebooks" / "04_residual_layernorm.ipynb"      # formulas (MathJax)
ZH = ROOT / "zh" / "notebooks" / "03_multi_head_attention.ipynb"   # a widget, Chinese text
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _stand_in_assets(root: Path) -> Path:
    """A node_modules tree with reveal.js's and MathJax's file names and placeholder content."""
    for package, files in (("reveal.js", slides.REVEAL_FILES), ("mathjax", slides.MATHJAX_FILES)):
        for rel in files:
            path = root / package / rel
            if "." in Path(rel).name:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("/* stand-in */\n")
            else:
                path.mkdir(parents=True, exist_ok=True)
                (path / "stand-in.txt").write_text("stand-in\n")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    assets = slides.DEFAULT_ASSETS
    if not (assets / "reveal.js" / "dist" / "reveal.js").exists():
        assets = _stand_in_assets(tmp_path_factory.mktemp("node_modules"))
    out = tmp_path_factory.mktemp("slides")
    results = slides.build([EN, ZH], out, assets)
    return out, {EN: results[0][0], ZH: results[1][0]}


def _sections_by_heading(nb) -> int:
    """Counted here independently of the tool: markdown lines `# ...` or `## ...` outside code fences."""
    n = 0
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        fence = False
        for line in cell.source.splitlines():
            if line.lstrip().startswith("```"):
                fence = not fence
            elif not fence and re.match(r"#{1,2} \S", line):
                n += 1
    return n


@pytest.mark.parametrize("nb_path", [EN, ZH], ids=["en-04", "zh-03"])
def test_a_lesson_becomes_a_deck_that_shows_offline(built, nb_path):
    out, decks = built
    deck = decks[nb_path]
    assert deck == slides.deck_path(nb_path, out) and deck.is_file()
    nb = nbformat.read(nb_path, as_version=4)
    html = deck.read_text(encoding="utf-8")

    # every script and style sheet is a relative path to a file next to the deck
    refs = re.findall(r'<script[^>]*\ssrc="([^"]+)"', html) + re.findall(r'<link[^>]*\shref="([^"]+)"', html)
    assert any(r.endswith("reveal.js/dist/reveal.js") for r in refs), refs
    for ref in refs:
        assert not re.match(r"^(https?:)?//", ref), f"{deck.name} loads {ref} from the network"
        assert (deck.parent / ref).resolve().is_file(), f"{deck.name} loads {ref}, which is not in {out}"
    assert not re.search(r"https?://(unpkg|cdnjs|cdn\.jsdelivr|fonts\.googleapis)", html)

    report = slides.check_deck(deck, nb)
    assert report.problems == []
    # one horizontal slide per '#'/'##' heading (the title and each section)
    sections = _sections_by_heading(nb)
    assert sections >= 8 and report.horizontal == sections
    assert report.vertical > report.horizontal     # long sections continue on sub-slides

    # every stored figure is an <img>; widgets show their stored first view, never a widget manager
    figures = slides.stored_figures(nb)
    imgs = {"".join(m.split()) for m in re.findall(r'<img[^>]*\ssrc="data:image/png;base64,([^"]+)"', html)}
    assert figures and all(f in imgs for f in figures)
    assert WIDGET_VIEW not in html and "widget-state+json" not in html


def test_the_chinese_deck_names_chinese_fonts_and_the_widget_caption(built):
    _, decks = built
    html = decks[ZH].read_text(encoding="utf-8")
    assert '<html lang="zh">' in html
    for family in ("Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei"):
        assert family in html
    nb = nbformat.read(ZH, as_version=4)
    widgets = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if WIDGET_VIEW in o.get("data", {})]
    assert widgets, "zh lesson 03 should hold a widget (the head selector)"
    for o in widgets:   # the widget's caption under its image
        assert html.count(o.data["text/plain"].strip()[:30]) >= 1


def test_the_english_deck_typesets_formulas_locally(built):
    _, decks = built
    html = decks[EN].read_text(encoding="utf-8")
    assert re.search(r'<script[^>]*\ssrc="\.\./_static/mathjax/es5/tex-chtml-full\.js"', html)
    assert "$\\mu$" in html or "\\mu" in html


def test_the_copied_style_sheets_fetch_no_font(built):
    out, _ = built
    assert slides.check_static(out) == []
    assert "Transformer 原理" in (out / "index.html").read_text(encoding="utf-8")


# ---- negative controls: the checks catch what they claim to ----------------------------------------------

def test_negative_control_nbconverts_stock_deck_fails_the_check(tmp_path):
    """nbconvert's own slides load reveal.js from unpkg and require.js from cdnjs, and render a widget as a
    widget view (its image only inside the widget state): the check names both."""
    from nbconvert import SlidesExporter

    nb = nbformat.read(ZH, as_version=4)
    deck = tmp_path / "zh" / "notebooks" / "stock.slides.html"
    deck.parent.mkdir(parents=True)
    body, _ = SlidesExporter().from_notebook_node(nb)
    deck.write_text(body, encoding="utf-8")
    problems = slides.check_deck(deck, nb).problems
    assert any("from the network" in p and "unpkg.com/reveal.js" in p for p in problems), problems
    assert any("require" in p and "from the network" in p for p in problems), problems
    assert any("is not shown as an <img>" in p for p in problems), problems


def test_negative_control_a_lost_slide_or_figure_fails_the_check(built, tmp_path):
    out, decks = built
    nb = nbformat.read(ZH, as_version=4)
    assert slides.check_deck(decks[ZH], nb).problems == []
    # the lesson gains a section the deck does not have
    longer = nbformat.from_dict(nb)
    longer.cells.append(nbformat.v4.new_markdown_cell("## One more section"))
    assert any("horizontal slides, expected" in p for p in slides.check_deck(decks[ZH], longer).problems)
    # a figure is missing from the deck
    html = decks[ZH].read_text(encoding="utf-8")
    first = slides.stored_figures(nb)[0]
    broken = decks[ZH].with_name("broken.slides.html")
    broken.write_text(html.replace(first, first[:-8] + "AAAAAAAA"), encoding="utf-8")
    assert any("stored figure 1 " in p for p in slides.check_deck(broken, nb).problems)
    # a script that is not there
    missing = decks[ZH].with_name("missing.slides.html")
    missing.write_text(html.replace("plugin/notes/notes.js", "plugin/notes/gone.js"), encoding="utf-8")
    assert any("gone.js does not exist" in p for p in slides.check_deck(missing, nb).problems)


# ---- the layout rules, on a small notebook --------------------------------------------------------------

def _types(nb) -> list[tuple[str, str]]:
    return [(c.metadata.slideshow["slide_type"], c.source.splitlines()[0] if c.source else "<outputs>")
            for c in nb.cells]


def test_layout_rules():
    png = slides.stored_figures(nbformat.read(ZH, as_version=4))[0]
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 99 · A lesson\n\n**Run it online:** [Binder](https://mybinder.org/v2/gh/x/y/HEAD) "
                                      "· [Colab](https://colab.research.google.com/github/x/y)\n\nIntro."),
        nbformat.v4.new_code_cell("def install_course(url='https://example.org'):\n    pass\ninstall_course()"),
        nbformat.v4.new_code_cell("%matplotlib inline\nfrom transformer_lesson.notebook import setup\nsetup()"),
        nbformat.v4.new_markdown_cell("## 1 · A section\n\nText."),
        nbformat.v4.new_code_cell("import math"),
        nbformat.v4.new_code_cell("x = 1\nprint(x)", outputs=[nbformat.v4.new_output("stream", text="1\n")]),
        nbformat.v4.new_code_cell("assert x == 1"),
        nbformat.v4.new_markdown_cell("### A subsection"),
        nbformat.v4.new_markdown_cell("**Predict (先猜一猜):** what is printed?"),
        nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\n# (a reason that spans\n#  two lines)\nprint(2)",
                                  outputs=[nbformat.v4.new_output("stream", text="2\n")]),
        nbformat.v4.new_markdown_cell("**Answer:** 2."),
        nbformat.v4.new_code_cell("w", outputs=[nbformat.v4.new_output(
            "execute_result", data={WIDGET_VIEW: {"model_id": "m"}, "image/png": png, "text/plain": "a caption"})]),
        nbformat.v4.new_markdown_cell("## Recap\n\n" + "\n".join(f"- point {i}, " + "words " * 30 for i in range(30))),
    ])
    prepared = slides.prepare(nb)
    types = _types(prepared)
    assert types[:10] == [
        ("slide", "# 99 · A lesson"), ("skip", "def install_course(url='https://example.org'):"),
        ("skip", "%matplotlib inline"), ("slide", "## 1 · A section"), ("skip", "import math"),
        ("-", "x = 1"), ("skip", "assert x == 1"), ("subslide", "### A subsection"),
        ("-", "**Predict (先猜一猜):** what is printed?"), ("fragment", "print(2)")]
    assert types[10] == ("fragment", "**Answer:** 2.")
    assert "mybinder" not in prepared.cells[0].source and "Intro." in prepared.cells[0].source
    # the widget: its PNG and its caption, no widget view
    widget = prepared.cells[11]
    assert [list(o.get("data", {"text": 1})) for o in widget.outputs] == [["image/png"], ["text"]]
    assert widget.outputs[1].text == "a caption\n"
    # the long recap list is cut into sub-slides, each within the budget
    recap = prepared.cells[12:]
    assert recap[0].metadata.slideshow["slide_type"] == "slide"
    pages = []
    for c in recap:
        if c.metadata.slideshow["slide_type"] in ("slide", "subslide"):
            pages.append(0.0)
        pages[-1] += slides.cell_height(c)
    assert len(pages) >= 3 and max(pages) <= slides.BUDGET, pages
    # the original is untouched
    assert "slideshow" not in nb.cells[0].metadata and WIDGET_VIEW in nb.cells[11].outputs[0].data


def test_bad_input_says_what_was_expected(tmp_path):
    with pytest.raises(slides.SlidesError, match="no such notebook.*Expected a lesson such as"):
        slides.export(ROOT / "notebooks" / "nope.ipynb", tmp_path)
    (tmp_path / "not_a_notebook.ipynb").write_text("{ not json")
    with pytest.raises(slides.SlidesError, match="not a readable notebook"):
        slides.export(tmp_path / "not_a_notebook.ipynb", tmp_path)
    with pytest.raises(slides.SlidesError, match="reveal.js .*Run `make slides`"):
        slides.copy_assets(tmp_path / "empty", tmp_path / "out")
