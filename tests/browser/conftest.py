"""Fixtures for the real-browser test: one JupyterLab server and one headless Chromium per session.

No browser on this machine: the tests skip and say how to install one; under CI (CI=true) they fail.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

import lab_driver as ld

TIMINGS: list[tuple[str, dict[str, float]]] = []


def unavailable(reason: str):
    """Skip on a learner's machine; fail under CI, where the browser test must run."""
    if ld.in_ci():
        pytest.fail(f"CI=true and the browser test cannot run: {reason}", pytrace=False)
    pytest.skip(f"browser test skipped: {reason}")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = ld.find_chromium()
    if path is None:
        unavailable("no Chromium found (looked at $CHROMIUM, and for chromium, chromium-browser and "
                    f"google-chrome on PATH); {ld.INSTALL_HINT}")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path, tmp_path_factory):
    try:
        import playwright.sync_api  # noqa: F401  (installed? lab_driver.launched_chromium drives it)
    except ImportError as e:
        unavailable(f"the Python package playwright is not installed ({e}); run `make test`, "
                    f"or `pip install -e '.[test]'`; {ld.INSTALL_HINT}")
    env = dict(os.environ)  # the system's fonts, as on a learner's machine (no font of the test's own)
    start = time.monotonic()
    with ld.launched_chromium(chromium_path, env, unavailable) as b:
        TIMINGS.append((f"(Chromium {b.version} start)", {"total": time.monotonic() - start}))
        yield b


@pytest.fixture(scope="session")
def browser_context(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context
    context.close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    try:
        import jupyterlab  # noqa: F401
    except ImportError as e:
        unavailable(f"JupyterLab is not installed ({e}); run `make test`")
    shutil.rmtree(ld.ARTIFACTS, ignore_errors=True)  # screenshots of this session only
    start = time.monotonic()
    server = ld.LabServer(tmp_path_factory.mktemp("jupyterlab"))
    TIMINGS.append(("(JupyterLab server start)", {"total": time.monotonic() - start}))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def cjk_families() -> set[str]:
    """Families of the system's fonts that cover Chinese: a Chinese learner's machine has one, and so must this."""
    families = ld.cjk_families()
    if not families:
        unavailable("no font with Chinese glyphs is installed (fontconfig: `fc-list :lang=zh` is empty), so "
                    "JupyterLab would show Chinese text as tofu boxes; install one: Debian/Ubuntu "
                    "`sudo apt-get install fonts-noto-cjk`, Fedora `sudo dnf install google-noto-sans-cjk-fonts`")
    return families


@pytest.fixture
def timings():
    return TIMINGS


def pytest_terminal_summary(terminalreporter):
    if not TIMINGS:
        return
    tr = terminalreporter
    tr.section("JupyterLab browser test: seconds per notebook")
    lines = []
    for name, t in TIMINGS:
        parts = "  ".join(f"{k} {v:6.1f}" for k, v in t.items() if k != "total")
        lines.append(f"{t['total']:7.1f} s  {name}  {parts}")
    total = sum(t["total"] for _, t in TIMINGS)
    lines.append(f"{total:7.1f} s  in all (browser and server start, every notebook)")
    for line in lines:
        tr.write_line(line)
    try:
        ld.ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ld.ARTIFACTS / "timings.txt").write_text("\n".join(lines) + "\n")
    except OSError:
        pass
