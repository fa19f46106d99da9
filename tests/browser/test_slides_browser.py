"""The slides in a real browser (`make test-slides`): headless Chromium opens an English and a Chinese deck from
disk with every network request refused, as in a classroom without one, and walks every slide.

Checks: no request leaves the machine, no console error, no slide's content runs past the 1280x720 canvas,
the formulas are typeset (MathJax, local), the Chinese text is drawn with a font that has Chinese glyphs,
the speaker view (`s`) opens, a Predict prompt's answer waits for the next key press. Screenshots of a few slides go to tests/artifacts/slides/.

The decks need reveal.js from npm, which `make test-slides` (and `make slides`) installs once into
.cache/slides-npm; under plain `make test` this module is skipped and says so.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

import lab_driver as ld

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("slides", ROOT / "tools" / "slides.py")
slides = importlib.util.module_from_spec(_spec)
sys.modules["slides"] = slides
_spec.loader.exec_module(slides)

EN = ROOT / "notebooks" / "04_residual_layernorm.ipynb"
ZH = ROOT / "zh" / "notebooks" / "03_multi_head_attention.ipynb"
SHOTS = ROOT / "tests" / "artifacts" / "slides"
ENV = "TL_SLIDES_BROWSER"

if os.environ.get(ENV) != "1":
    pytest.skip(f"the slides' browser check runs in `make test-slides` ({ENV}=1), which installs reveal.js from npm "
                "first", allow_module_level=True)

# Every slide's content height on the canvas, walking the deck as a teacher would (each horizontal slide and
# each of its sub-slides); fragments are laid out even before they are shown, so they count.
JS_WALK = r"""() => {
  const out = [];
  const H = Reveal.getConfig().height;
  Reveal.getHorizontalSlides().forEach((hs, h) => {
    const vs = hs.querySelectorAll(':scope > section');
    (vs.length ? Array.from(vs) : [hs]).forEach((s, v) => {
      Reveal.slide(h, v);
      const scale = Reveal.getScale();
      const top = s.getBoundingClientRect().top;
      let bottom = top;
      s.querySelectorAll('.jp-Cell').forEach(c => { bottom = Math.max(bottom, c.getBoundingClientRect().bottom); });
      out.push({h, v, height: (bottom - top) / scale, limit: H});
    });
  });
  Reveal.slide(0, 0);
  return out;
}"""


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    assets = slides.DEFAULT_ASSETS
    if not (assets / "reveal.js" / "dist" / "reveal.js").exists():
        pytest.fail(f"{ENV}=1 but {assets} holds no reveal.js: run `make test-slides` (it installs reveal.js and "
                    "MathJax with npm first)", pytrace=False)
    out = tmp_path_factory.mktemp("slides")
    built = slides.build([EN, ZH], out, assets)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return {"en": built[0][0], "zh": built[1][0]}


class Offline:
    """A page that refuses every request that is not a local file, and records it and every console error."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1280, "height": 720})
        self.refused: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.new_page()

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file:", "data:", "about:", "blob:")):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()

    def new_page(self):
        page = self.context.new_page()
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        return page

    def open(self, deck: Path, query: str = ""):
        self.page.goto(deck.as_uri() + query)
        self.page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=30_000)
        return self.page

    def close(self):
        self.context.close()


@pytest.fixture
def offline(browser):
    o = Offline(browser)
    yield o
    o.close()


def _overflowing(page) -> list[str]:
    return [f"slide {r['h'] + 1}.{r['v'] + 1}: {r['height']:.0f} px of {r['limit']}"
            for r in page.evaluate(JS_WALK) if r["height"] > r["limit"]]


def _shot(page, h: int, v: int, name: str) -> Path:
    page.evaluate(f"Reveal.slide({h}, {v}, 99)")     # with its fragments shown
    page.wait_for_timeout(300)
    path = SHOTS / name
    page.screenshot(path=str(path))
    return path


@pytest.mark.parametrize("edition", ["en", "zh"])
def test_every_slide_fits_and_nothing_is_fetched(decks, offline, edition):
    page = offline.open(decks[edition])
    assert page.evaluate("Reveal.getTotalSlides()") > 20
    assert _overflowing(page) == []
    if edition == "en":
        page.wait_for_function("document.querySelectorAll('mjx-container').length > 10", timeout=30_000)
        shots = [(0, 0, "en-04-title.png"), (1, 0, "en-04-layernorm-formula.png"), (2, 1, "en-04-residual-jacobian.png")]
    else:
        shots = [(0, 0, "zh-03-title.png"), (8, 1, "zh-03-figure.png"), (13, 0, "zh-03-glossary.png")]
    for h, v, name in shots:
        _shot(page, h, v, name)
    assert offline.refused == [], "the deck asked the network for " + ", ".join(offline.refused)
    assert offline.errors == []


def test_the_chinese_deck_draws_chinese_with_a_chinese_font(decks, offline, cjk_families):
    page = offline.open(decks["zh"])
    for h, v in ((0, 0), (13, 0)):               # the title and the glossary
        page.evaluate(f"Reveal.slide({h}, {v})")
        page.wait_for_timeout(300)
        checked, problems = ld.tofu(page, ".reveal .slides section.present", cjk_families, limit=20)
        assert checked > 0 and problems == [], problems


def test_the_speaker_view_opens_offline(decks, offline):
    page = offline.open(decks["zh"])
    with offline.context.expect_page() as popup:
        page.keyboard.press("s")
    speaker = popup.value
    speaker.wait_for_function("document.querySelector('.speaker-controls-time') !== null", timeout=15_000)
    page.keyboard.press("ArrowRight")
    speaker.wait_for_timeout(1000)
    speaker.set_viewport_size({"width": 1280, "height": 720})
    speaker.screenshot(path=str(SHOTS / "zh-03-speaker-view.png"))
    assert offline.refused == [] and offline.errors == []


def test_negative_control_the_walk_sees_overflow_and_the_route_sees_a_cdn(decks, offline, tmp_path):
    """The same checks on a deck made wrong on purpose: text too large to fit, and a script from a CDN."""
    page = offline.open(decks["en"])
    page.add_style_tag(content=".reveal .slides .jp-RenderedHTMLCommon { font-size: 60px !important; }")
    assert len(_overflowing(page)) > 5
    html = decks["en"].read_text(encoding="utf-8").replace(
        "</head>", '<script src="https://unpkg.com/reveal.js@4.0.2/dist/reveal.js"></script></head>', 1)
    bad = decks["en"].with_name("cdn.slides.html")
    bad.write_text(html, encoding="utf-8")
    offline.open(bad)
    assert any("unpkg.com" in url for url in offline.refused)


def test_a_predict_prompt_shows_its_answer_on_the_next_key_press(decks, offline):
    """The cells answering a Predict are fragments: the arrow key first shows them, on the same slide."""
    page = offline.open(decks["zh"])
    first = page.evaluate("""() => { const f = document.querySelector('.reveal .slides .fragment');
                                      const s = f.closest('section'); const i = Reveal.getIndices(s);
                                      Reveal.slide(i.h, i.v, -1); return i; }""")
    page.wait_for_timeout(300)
    hidden = "document.querySelectorAll('section.present .fragment:not(.visible)').length"
    before = page.evaluate(hidden)
    assert before > 0 and "先猜一猜" in page.inner_text("section.present")
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    assert page.evaluate("Reveal.getIndices()")["h"] == first["h"]
    assert page.evaluate(hidden) == before - 1
