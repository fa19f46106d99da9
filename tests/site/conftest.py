"""Fixtures for the website test (`make test-site`): the built site served on 127.0.0.1, and a headless Chromium
whose fontconfig has no font with Chinese glyphs (so Chinese is drawn by the site's web font or not at all).

Out of `make test` (it needs `make site` first): without TL_SITE_TEST=1 the tests skip and say so.
"""
from __future__ import annotations

import functools
import http.server
import os
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
import lab_driver as ld  # noqa: E402  (the browser helpers: Chromium, the tofu check, a font set without Chinese)

REPO = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("TL_SITE_DIR", REPO / "_site")).resolve()


def pytest_collection_modifyitems(config, items):
    if os.environ.get("TL_SITE_TEST") == "1":
        return
    skip = pytest.mark.skip(reason="the website test needs the built site: run `make test-site` "
                                   "(it runs `make site`, then these tests with TL_SITE_TEST=1)")
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _fresh_artifacts():
    """Screenshots of this session only (tests/artifacts/site/)."""
    import shutil
    shutil.rmtree(ld.ARTIFACTS.parent / "site", ignore_errors=True)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_url():
    """http://127.0.0.1:<port>/ serving the built site (static files, as GitHub Pages would)."""
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site at {SITE}: run `make site` (or `make test-site`, which builds it first)",
                    pytrace=False)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def no_cjk_env(tmp_path_factory):
    env = ld.env_without_cjk_font(tmp_path_factory.mktemp("fontconfig"))
    if env is None:
        pytest.fail("no DejaVu font folder (/usr/share/fonts/truetype/dejavu) to build a font set without Chinese "
                    "from: install fonts-dejavu-core", pytrace=False)
    assert not ld.cjk_families(env), "the test's font set still has a font with Chinese glyphs"
    return env


@pytest.fixture(scope="session")
def browser(no_cjk_env):
    """Headless Chromium (Debian's, driven by Playwright's Python package) without any Chinese system font."""
    path = ld.find_chromium()
    if path is None:
        pytest.fail(f"no Chromium found; {ld.INSTALL_HINT}", pytrace=False)
    try:
        import playwright.sync_api  # noqa: F401  (installed? lab_driver.launched_chromium drives it)
    except ImportError as e:
        pytest.fail(f"the Python package playwright is not installed ({e}); run `make test-site`", pytrace=False)
    with ld.launched_chromium(path, no_cjk_env, lambda message: pytest.fail(message, pytrace=False)) as b:
        yield b


@pytest.fixture(scope="session")
def context(browser):
    ctx = browser.new_context(viewport={"width": 1300, "height": 900})
    yield ctx
    ctx.close()
