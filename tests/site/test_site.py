"""The built website (`make site`, then `make test-site`), every page in headless Chromium.

The site (_site/, or $TL_SITE_DIR) is served by http.server on 127.0.0.1, as static files, and opened in a Chromium
whose fontconfig has NO font with Chinese glyphs (a Linux machine or container without fonts-noto-cjk). Every
page must:
- load with no console error, no failed request or HTTP error, and nothing requested from anywhere but the
  site's own server (any other request is blocked and fails the test: no CDN, no web font service);
- show its title heading, and every image loaded (naturalWidth > 0); a notebook page shows one image per
  image output stored in its notebook (widget cells included: their first view is stored as a PNG);
- draw its Chinese characters with the site's web font (a Noto Sans SC subset), not as tofu boxes: Chromium
  reports the font it used for each sampled element (lab_driver.tofu);
- carry a language switch to an existing page, the same page in the other edition, whose switch leads back;
- on a notebook page, Binder and Colab launch buttons for that notebook in pyproject.toml's repository.
The font check's negative control opens a Chinese page with the web font withheld (HTTP 404) and must see tofu.
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "browser"))
sys.path.insert(0, str(REPO / "tools"))
import build_site  # noqa: E402
import lab_driver as ld  # noqa: E402

SITE = Path(os.environ.get("TL_SITE_DIR", REPO / "_site")).resolve()  # as in conftest.py



def _web_font_family() -> set[str]:
    """The family name inside the font subset the site serves (what Chromium reports for text drawn with it)."""
    path = SITE / "_fonts" / build_site.FONT_NAME
    if not path.is_file():
        return set()
    from fontTools.ttLib import TTFont
    return {TTFont(str(path))["name"].getDebugName(1)}


WEB_FONT_FAMILY = _web_font_family() if os.environ.get("TL_SITE_TEST") == "1" else set()
HAN = re.compile(r"[\u4e00-\u9fff]")


def site_pages() -> list[str]:
    """Every HTML page of the built site (not the files inside _static/, _sources/, _mathjax/ ...)."""
    if not SITE.is_dir():
        return []
    return sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")
                  if not any(part.startswith("_") for part in p.relative_to(SITE).parts))


PAGES = site_pages() if os.environ.get("TL_SITE_TEST") == "1" else []  # outside make test-site: nothing to list


def _notebook_of(page: str) -> Path | None:
    """The repository notebook a page shows ('zh/notebooks/01_x.html' -> zh/notebooks/01_x.ipynb)."""
    lang, _, rest = page.partition("/")
    if lang not in build_site.EDITIONS or not rest.endswith(".html"):
        return None
    source = build_site.pages(lang).get(rest.removesuffix(".html") + ".ipynb")
    return REPO / source if source else None


def _stored_images(notebook: Path) -> int:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    return sum(1 for cell in nb["cells"] for out in cell.get("outputs", [])
               if any(m in out.get("data", {}) for m in ("image/png", "image/jpeg", "image/svg+xml")))


def _widget_cells_with_png(notebook: Path) -> int:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    return sum(1 for cell in nb["cells"] if any(
        ld.WIDGET_MIME in out.get("data", {}) and "image/png" in out.get("data", {}) for out in cell.get("outputs", [])))


class Watch:
    """Everything a page does that a static site must not: console errors, page errors, failed or refused requests,
    and any request that leaves the site's server (blocked)."""

    def __init__(self, page, site_url: str):
        self.problems: list[str] = []
        origin = urlparse(site_url).netloc
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console error: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} ({r.failure})"))
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))

        def route(r):
            url = urlparse(r.request.url)
            if url.scheme in ("data", "blob") or url.netloc == origin:
                r.continue_()
            else:
                self.problems.append(f"request outside the site (blocked): {r.request.url}")
                r.abort()

        page.route("**/*", route)


def _settle(page) -> None:
    """Wait for the web fonts and MathJax's typesetting."""
    page.wait_for_load_state("load")
    page.evaluate("""async () => {
        if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
        await document.fonts.ready;
        await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    }""")


JS_IMAGES = """() => [...document.images].map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0,
                                                   output: !!i.closest('.cell_output')}))"""


def test_the_site_is_built_with_both_editions():
    assert PAGES, f"no page in {SITE}: run `make site`"
    assert WEB_FONT_FAMILY == {"Noto Sans SC"}, f"the site's Chinese font: {WEB_FONT_FAMILY or 'missing'}"
    for lang in build_site.EDITIONS:
        expected = {f"{lang}/{p.rsplit('.', 1)[0]}.html" for p in build_site.pages(lang)}
        missing = sorted(expected - set(PAGES))
        assert not missing, f"pages missing from the built site: {missing}"


@pytest.mark.parametrize("page_path", PAGES)
def test_page(page_path, context, site_url):
    page = context.new_page()
    watch = Watch(page, site_url)
    try:
        page.goto(urljoin(site_url, page_path), wait_until="load")
        if page_path == "index.html":  # the site's root sends the reader to the English home page
            page.wait_for_url(re.compile(r"/en/index\.html$"), timeout=10_000)
            # a request the redirect cut short (its favicon) is no failure
            watch.problems = [p for p in watch.problems if "ERR_ABORTED" not in p]
        _settle(page)

        # ---- a title heading ----
        h1 = [t.strip() for t in page.locator("main h1, article h1").all_inner_texts() if t.strip()]
        assert h1, f"{page_path}: no <h1> with text"

        # ---- every image loaded; a notebook page shows every stored image ----
        images = page.evaluate(JS_IMAGES)
        broken = [i["src"] for i in images if not i["ok"]]
        assert not broken, f"{page_path}: images that did not load: {broken}"
        notebook = _notebook_of(page.url.split(site_url, 1)[-1])
        if notebook is not None:
            shown, stored = sum(i["output"] for i in images), _stored_images(notebook)
            assert shown == stored, (f"{page_path}: {shown} images in cell outputs, but "
                                     f"{notebook.relative_to(REPO)} stores {stored} image outputs")
            nb = build_site.static_view(json.loads(notebook.read_text(encoding="utf-8")))
            captions = [o["data"]["text/html"] for c in nb["cells"] for o in c.get("outputs", [])
                        if "tl-widget-caption" in o.get("data", {}).get("text/html", "")]
            assert page.locator(".cell_output .tl-widget-caption").count() == len(captions), \
                f"{page_path}: the widget captions stored in {notebook.relative_to(REPO)} are not all shown"

        # ---- Chinese text drawn by the site's web font (this Chromium has no Chinese system font) ----
        text = page.locator("body").inner_text()
        if HAN.search(text):
            checked, problems = ld.tofu(page, "body", WEB_FONT_FAMILY, limit=40)
            assert checked >= 1, f"{page_path}: no element with Chinese text found to check"
            assert not problems, (f"{page_path}: Chinese drawn without the site's web font (tofu):\n"
                                  + "\n".join(problems[:10]))
        elif page.url.split(site_url, 1)[-1].startswith("zh/") and "/genindex" not in page.url:
            pytest.fail(f"{page_path}: a page of the Chinese edition without Chinese text")

        # ---- the language switch: the same page in the other edition, whose switch leads back ----
        here = page.url.split(site_url, 1)[-1]
        switch = page.locator("a.tl-lang-switch").first
        target = urljoin(page.url, switch.get_attribute("href"))
        rel = target.split(site_url, 1)[-1]
        assert (SITE / rel).is_file(), f"{page_path}: the language switch leads to {rel}, which does not exist"
        other, _, rest = rel.partition("/")
        assert other != here.split("/")[0] and rest == here.partition("/")[2], \
            f"{page_path}: the language switch leads to {rel}, not to the same page in the other edition"
        back = re.search(r'class="tl-lang-switch[^"]*" href="([^"]+)"', (SITE / rel).read_text(encoding="utf-8"))
        assert back and urljoin(target, back.group(1)) == page.url, f"{rel}: its language switch does not lead back"

        # ---- the download button gives the repository's notebook, as it is ----
        if notebook is not None:
            download = page.locator('a[href*="_sources/"][href$=".ipynb"]').first.get_attribute("href")
            assert (SITE / urljoin(here, download)).read_bytes() == notebook.read_bytes(), \
                f"{page_path}: its download button does not give {notebook.relative_to(REPO)} as it is"

        # ---- launch buttons on a notebook page: Binder and Colab, for this notebook, in the course's repository ----
        if notebook is not None:
            repo_url = build_site.project_urls()["Repository"].rstrip("/")
            owner_repo = "/".join(urlparse(repo_url).path.strip("/").split("/")[:2])
            path = notebook.relative_to(REPO).as_posix()
            hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
            binder = [h for h in hrefs if h.startswith(f"https://mybinder.org/v2/gh/{owner_repo}/")]
            colab = [h for h in hrefs if h.startswith(f"https://colab.research.google.com/github/{owner_repo}/")]
            assert binder and path in binder[0], f"{page_path}: no Binder button for {path} ({binder})"
            assert colab and colab[0].endswith("/" + path), f"{page_path}: no Colab button for {path} ({colab})"

        page.wait_for_timeout(100)  # a late console error or request
        assert not watch.problems, f"{page_path}:\n" + "\n".join(watch.problems[:20])
    except BaseException:
        out = ld.ARTIFACTS.parent / "site"
        out.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out / (re.sub(r"[^A-Za-z0-9_.-]+", "__", page_path) + "-failure.png")))
        raise
    finally:
        page.close()


def test_every_widget_cell_shows_its_figure_on_the_site():
    """Across the site, the widget cells' stored first views are there to be counted (test_page checks each page
    shows every stored image): a site without any would not test what it should."""
    counts = {nb: _widget_cells_with_png(nb) for page in PAGES if (nb := _notebook_of(page))}
    assert sum(counts.values()) >= 10, f"widget cells with a stored PNG per notebook: {counts}"


def test_the_language_switch_works_from_file_urls(context):
    """Opened from the disk (file://, no server), the switch leads to the other edition's page and back."""
    page = context.new_page()
    try:
        start = (SITE / "en" / "notebooks" / "01_self_attention.html").as_uri()
        page.goto(start)
        page.locator("a.tl-lang-switch").first.click()
        page.wait_for_url("**/zh/notebooks/01_self_attention.html")
        assert HAN.search(page.locator("main h1").first.inner_text())
        page.locator("a.tl-lang-switch").first.click()
        page.wait_for_url(start)
    finally:
        page.close()


def test_the_font_check_fails_without_the_web_font(context, site_url):
    """Negative control: the same Chinese page with the web font withheld (404) is drawn as tofu, and reported."""
    results = {}
    for name, withhold in (("with the web font", False), ("font withheld", True)):
        page = context.new_page()
        try:
            if withhold:
                page.route(f"**/{build_site.FONT_NAME}", lambda r: r.fulfill(status=404, body="withheld"))
            page.goto(urljoin(site_url, "zh/notebooks/06_encoder_decoder.html"))
            _settle(page)
            results[name] = ld.tofu(page, "body", WEB_FONT_FAMILY, limit=20)
        finally:
            page.close()
    checked, problems = results["with the web font"]
    assert checked >= 10 and not problems, problems
    checked, problems = results["font withheld"]
    assert checked >= 10 and len(problems) == checked, problems
    assert all("DejaVu" in p or "no font" in p for p in problems), problems[:3]


def _first_widget_image(notebook: Path) -> int:
    """Index, among the notebook's image outputs, of the first widget cell's stored first view."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    k = 0
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if any(m in data for m in ("image/png", "image/jpeg", "image/svg+xml")):
                if ld.WIDGET_MIME in data:
                    return k
                k += 1
    raise AssertionError(f"{notebook}: no widget output with a stored PNG")


@pytest.mark.parametrize("page_path", ["en/notebooks/06_encoder_decoder.html", "zh/notebooks/06_encoder_decoder.html",
                                       "en/notebooks/02_positional_encoding.html", "zh/index.html"])
def test_screenshots(page_path, context, site_url):
    """Screenshots to look at (tests/artifacts/site/): a lesson's first widget cell, shown by its stored PNG, in
    each edition, a page with math, and the Chinese home page; the widget's figure is on screen and loaded."""
    out = ld.ARTIFACTS.parent / "site"
    out.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "__", page_path.removesuffix(".html"))
    page = context.new_page()
    try:
        page.goto(urljoin(site_url, page_path))
        _settle(page)
        page.screenshot(path=str(out / f"{name}.png"))
        notebook = _notebook_of(page_path)
        if notebook is not None and _widget_cells_with_png(notebook):
            img = page.locator(".cell_output img").nth(_first_widget_image(notebook))
            img.scroll_into_view_if_needed()
            page.evaluate("() => window.scrollBy(0, -120)")
            assert img.evaluate("i => i.complete && i.naturalWidth > 0")
            box = img.bounding_box()
            assert box and box["width"] > 200 and box["height"] > 100, box
            page.screenshot(path=str(out / f"{name}-widget.png"))
    finally:
        page.close()
