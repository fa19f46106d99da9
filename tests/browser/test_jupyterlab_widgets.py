"""Every notebook, in JupyterLab, in a real browser: it runs clean and every widget responds.

For each notebook in notebooks/ and solutions/ (one test each), headless Chromium opens it in a
JupyterLab served from a temporary copy of the repository, clears the stored outputs, runs
Kernel > "Restart Kernel and Run All Cells...", waits until every input prompt shows a number, and
asserts:
- no error output (a traceback on stderr, or an `error` output in the saved notebook);
- every cell that builds a widget shows it (a rendered `.jupyter-widgets` view, not an error);
- in every widget cell, moving each slider (ArrowRight on the noUiSlider handle), picking another
  dropdown entry or pressing another toggle button changes what the widget shows (the PNG bytes or
  the caption text).
Screenshots of each widget cell before and after go to tests/artifacts/browser/<notebook>/, with
steps.json (what was moved), timings.txt and the server's jupyterlab.log; seconds per notebook are
printed at the end of the pytest run.

Every notebook of the Chinese edition (zh/) is also opened as stored (no run) and its Chinese text
(markdown, code comments, outputs) must be drawn in a font that has Chinese glyphs, not as tofu boxes;
in the Chinese notebooks the run-all test opens, the widgets' captions are checked the same way after
their controls moved. `make test` opens a subset in the run-all test (TL_BROWSER_NOTEBOOKS, see the
Makefile); `make test-browser` opens every notebook.

No Chromium: skipped with a note on how to install it (`apt-get install chromium`); under CI=true: fails.
TL_BROWSER_RUN_TIMEOUT (seconds, default 420) bounds one notebook's run-all.
"""
from __future__ import annotations

import json
import os
import re
import time
import urllib.error

import pytest

import lab_driver as ld

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
except ImportError:  # the `browser` fixture skips (or fails under CI) with the reason
    PlaywrightTimeoutError = TimeoutError

NOTEBOOKS = ld.notebooks()
CHINESE = ld.chinese_notebooks()
RUN_TIMEOUT = float(os.environ.get("TL_BROWSER_RUN_TIMEOUT", "420"))  # seconds for one notebook's run-all
WIDGET_TIMEOUT = 30.0  # seconds for a widget to render, or to redraw after a control moves

# Scoped to the notebook in the (only) open tab.
NB = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"

JS_RUN_STATE = """(nb) => {
  const root = document.querySelector(nb);
  if (!root) return null;
  const cells = [...root.querySelectorAll('.jp-Cell')];
  const prompts = cells.map(c => c.classList.contains('jp-CodeCell')
      ? ((c.querySelector('.jp-InputPrompt') || {}).innerText || '').trim() : null);
  // an error output renders as stderr text; a warning on stderr has no traceback and no "XxxError:" line
  const errors = [...root.querySelectorAll('.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]')]
    .map(e => e.innerText)
    .filter(t => /Traceback|^\\s*\\w+(Error|Exception)\\b/m.test(t));
  const ind = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
  const dialog = document.querySelector('.jp-Dialog');
  return {prompts, errors, status: ind ? ind.getAttribute('data-status') : null,
          dialog: dialog ? dialog.innerText : null};
}"""

# What a widget cell shows: a hash of every image's bytes, and the text of HTML / output widgets
# (not the controls' own readouts, which change with the control whatever the kernel does).
JS_SHOWN = """async (el) => {
  const outs = el.classList.contains('jp-Cell') ? [el.querySelector('.jp-Cell-outputWrapper')]
                                                : [...el.querySelectorAll('.jp-Cell-outputWrapper')];
  const all = (sel) => outs.filter(Boolean).flatMap(o => [...o.querySelectorAll(sel)]);
  const imgs = [];
  for (const img of all('img')) {
    let h = 2166136261 >>> 0;
    try {
      const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
      for (let i = 0; i < bytes.length; i++) { h ^= bytes[i]; h = Math.imul(h, 16777619) >>> 0; }
      imgs.push(bytes.length + ':' + h.toString(16));
    } catch (e) { imgs.push('src:' + img.src); }
  }
  const texts = all('.widget-html, .widget-htmlmath, .widget-output').map(e => e.innerText.trim());
  return {imgs, texts};
}"""

JS_IMAGES_LOADED = """(cell) => [...cell.querySelectorAll('.jp-Cell-outputWrapper img')]
  .every(img => img.complete && img.naturalWidth > 0)"""


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "__", path.removesuffix(".ipynb"))


def _click_menu(page, menu: str, item: str) -> None:
    """Click `menu` in the menu bar, then the entry whose label starts with `item`."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(rf"^{re.escape(menu)}$")).click()
    page.locator(".lm-Menu-content .lm-Menu-itemLabel", has_text=re.compile(rf"^{re.escape(item)}")).first.click()


def _wait_run_all(page, code_cells: list[int], timeout: float) -> dict:
    """Poll the prompts until the run ends: every non-empty code cell numbered, or an error shown."""
    deadline = time.monotonic() + timeout
    started = False
    state = None
    while time.monotonic() < deadline:
        state = page.evaluate(JS_RUN_STATE, NB)
        assert not state["dialog"], f"a dialog interrupted the run (the kernel died?): {state['dialog']!r}"
        prompts = state["prompts"]
        busy = any("*" in (prompts[i] or "") for i in code_cells)
        numbered = [bool(re.fullmatch(r"\[\d+\]:?", prompts[i] or "")) for i in code_cells]
        started = started or busy or any(numbered)
        if started and not busy and state["status"] != "busy" and (all(numbered) or state["errors"]):
            return state
        page.wait_for_timeout(250)
    raise AssertionError(f"run-all did not finish within {timeout:.0f} s; input prompts of the code cells: "
                         f"{[state['prompts'][i] for i in code_cells] if state else None}, "
                         f"kernel status {state and state['status']!r}")


def _wait_kernel_idle(lab, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    kernels = []
    while time.monotonic() < deadline:
        try:
            kernels = lab.api("GET", "/api/kernels") or []
        except urllib.error.HTTPError:  # jupyter_server answers 500 while a kernel is half started
            kernels = []
        if kernels and all(k.get("execution_state") == "idle" for k in kernels):
            return
        time.sleep(0.2)
    raise AssertionError(f"the notebook's kernel was not idle within {timeout:.0f} s: {kernels}")


def _wait_changed(page, scope, before: dict, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.wait_for_timeout(200)
        now = scope.evaluate(JS_SHOWN)
        if now != before:
            page.wait_for_timeout(150)  # let a redraw in flight land, then read the settled view
            return scope.evaluate(JS_SHOWN)
    return before


def _move_controls(page, cell, label: str) -> list[str]:
    """Move every slider and change every dropdown in `cell`; each must change what the widget shows.

    What it shows: the cell's images and HTML / output widgets; for a cell that shows only controls
    (their figure drawn by another cell), those of the whole notebook.
    """
    moved, failures = [], []
    own = cell.evaluate(JS_SHOWN)
    scope = cell if own["imgs"] or own["texts"] else page.locator(NB)
    handles = cell.locator(".jp-Cell-outputWrapper .widget-slider .noUi-handle")
    selects = cell.locator(".jp-Cell-outputWrapper .widget-dropdown select")
    for k in range(handles.count()):
        handle = handles.nth(k)
        name = handle.locator("xpath=ancestor::*[contains(@class,'widget-slider')][1]//label").first
        name = (name.inner_text().strip() if name.count() else "") or f"slider {k}"
        readout = handle.locator("xpath=ancestor::*[contains(@class,'widget-slider')][1]").locator(
            ".widget-readout").first
        shown0 = readout.inner_text().strip() if readout.count() else ""
        before = scope.evaluate(JS_SHOWN)
        value0 = handle.get_attribute("aria-valuenow")
        handle.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(100)
        if handle.get_attribute("aria-valuenow") == value0:  # already at its maximum
            page.keyboard.press("ArrowLeft")
            page.keyboard.press("ArrowLeft")
        after = _wait_changed(page, scope, before, WIDGET_TIMEOUT)
        value1 = handle.get_attribute("aria-valuenow")
        shown1 = readout.inner_text().strip() if readout.count() else ""
        step = f"{label}: slider {name!r} {shown0 or value0} -> {shown1 or value1}"
        if value1 == value0:
            failures.append(f"{step}: the slider did not move")
        elif after == before:
            failures.append(f"{step}: neither the image nor the caption changed within {WIDGET_TIMEOUT:.0f} s")
        moved.append(step)
    for k in range(selects.count()):
        select = selects.nth(k)
        options = select.evaluate("s => [...s.options].map(o => o.value)")
        current = select.evaluate("s => s.value")
        if len(options) < 2:
            continue
        target = options[(options.index(current) + 1) % len(options)]
        before = scope.evaluate(JS_SHOWN)
        select.select_option(target)
        after = _wait_changed(page, scope, before, WIDGET_TIMEOUT)
        step = f"{label}: dropdown option {current!r} -> {target!r}"
        if after == before:
            failures.append(f"{step}: neither the image nor the caption changed within {WIDGET_TIMEOUT:.0f} s")
        moved.append(step)
    toggles = cell.locator(".jp-Cell-outputWrapper .widget-toggle-buttons")
    for k in range(toggles.count()):
        group = toggles.nth(k)
        others = group.locator("button:not(.mod-active)")
        if not others.count():
            continue
        current = group.locator("button.mod-active").first
        current = current.inner_text().strip() if current.count() else None
        target = others.first
        target_text = target.inner_text().strip()
        before = scope.evaluate(JS_SHOWN)
        target.click()
        after = _wait_changed(page, scope, before, WIDGET_TIMEOUT)
        step = f"{label}: toggle button {current!r} -> {target_text!r}"
        if after == before:
            failures.append(f"{step}: neither the image nor the caption changed within {WIDGET_TIMEOUT:.0f} s")
        moved.append(step)
    assert not failures, "widget did not respond:\n" + "\n".join(failures)
    return moved


def _open(page, lab, notebook: str, cells: int) -> None:
    page.goto(lab.url(notebook, "w-" + _slug(notebook)))
    page.wait_for_function(
        """([nb, n]) => document.querySelectorAll(nb + ' .jp-Cell').length === n""", arg=[NB, cells],
        timeout=120_000)


@pytest.mark.parametrize("notebook", CHINESE)
def test_a_chinese_notebook_shows_its_chinese_in_a_chinese_font(notebook, browser_context, lab, cjk_families,
                                                               timings):
    start = time.monotonic()
    page = browser_context.new_page()
    page.set_default_timeout(60_000)
    try:
        _open(page, lab, notebook, len(lab.saved_notebook(notebook)["cells"]))
        page.wait_for_timeout(500)  # markdown and outputs render after the cells appear
        checked, problems = ld.tofu(page, NB, cjk_families)
        assert checked >= 5, f"{notebook}: only {checked} elements with Chinese text were found"
        assert not problems, f"{notebook}: Chinese text drawn without Chinese glyphs (tofu):\n" + "\n".join(problems)
    except BaseException:
        out_dir = ld.ARTIFACTS / _slug(notebook)
        out_dir.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out_dir / "tofu-failure.png"))
        raise
    finally:
        timings.append((notebook + " (fonts)", {"total": time.monotonic() - start}))
        page.close()
        lab.shutdown_kernels(wait=False)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_runs_clean_and_its_widgets_respond_in_jupyterlab(notebook, browser_context, lab, timings,
                                                                   request):
    # the browser first: with no Chromium the test skips before a server starts.
    t = {}
    start = time.monotonic()
    out_dir = ld.ARTIFACTS / _slug(notebook)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.png"):
        old.unlink()
    nb_json = lab.saved_notebook(notebook)
    cells = nb_json["cells"]
    code_cells = [i for i, c in enumerate(cells) if c["cell_type"] == "code"
                  and "".join(c.get("source", "")).strip()]
    expected_widgets = ld.widget_cells(nb_json)

    page = browser_context.new_page()  # one context for all notebooks: its cache spares reloading JupyterLab
    page.set_default_timeout(60_000)
    try:
        # ---- open; wait for every cell and an idle kernel ----
        _open(page, lab, notebook, len(cells))
        t["load"] = time.monotonic() - start
        opened = page.wait_for_function(
            """() => { const d = document.querySelector('.jp-Dialog');  // e.g. "Select Kernel"
                       if (d) return 'dialog: ' + d.innerText;
                       const i = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) '
                                                        + '.jp-Notebook-ExecutionIndicator');
                       return i && i.getAttribute('data-status') === 'idle' && 'idle'; }""",
            timeout=120_000).json_value()
        assert opened == "idle", f"{notebook}: a dialog came up on opening the notebook: {opened!r}"
        lab.wait_for_shutdowns()  # the previous notebook's kernel
        _wait_kernel_idle(lab, timeout=120)  # restarting a kernel that is still starting makes the server stumble
        t["kernel"] = time.monotonic() - start - t["load"]

        # ---- clear the stored outputs, then Kernel > Restart Kernel and Run All Cells... ----
        t0 = time.monotonic()
        _click_menu(page, "Edit", "Clear Outputs of All Cells")
        page.wait_for_function("""(nb) => [...document.querySelectorAll(nb + ' .jp-CodeCell .jp-InputPrompt')]
                                   .every(p => !/\\d/.test(p.innerText))""", arg=NB)
        _click_menu(page, "Kernel", "Restart Kernel and Run All Cells")
        dialog = page.locator(".jp-Dialog")
        dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
        dialog.wait_for(state="detached")
        state = _wait_run_all(page, code_cells, RUN_TIMEOUT)
        t["run_all"] = time.monotonic() - t0

        # ---- no error output ----
        assert not state["errors"], f"{notebook}: error output in the browser:\n" + "\n\n".join(state["errors"])
        counts = [state["prompts"][i] for i in code_cells]
        assert all(re.fullmatch(r"\[\d+\]:?", p) for p in counts), f"{notebook}: cells left unrun: {counts}"
        path = lab.root / notebook
        mtime = path.stat().st_mtime_ns
        _click_menu(page, "File", "Save Notebook")
        deadline = time.monotonic() + 30
        while path.stat().st_mtime_ns == mtime:  # then the file holds this run's outputs
            assert time.monotonic() < deadline, f"{notebook}: File > Save Notebook did not write it within 30 s"
            page.wait_for_timeout(100)
        saved = lab.saved_notebook(notebook)
        errors = [f"cell {i}: {o.get('ename')}: {o.get('evalue')}" for i, c in enumerate(saved["cells"])
                  for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, f"{notebook}: error outputs in the saved notebook: {errors}"
        numbers = [saved["cells"][i].get("execution_count") for i in code_cells]
        assert numbers == list(range(1, len(code_cells) + 1)), \
            f"{notebook}: expected execution counts 1..{len(code_cells)} from a fresh kernel, got {numbers}"

        # ---- every widget rendered; every widget cell responds ----
        t0 = time.monotonic()
        dom_cells = page.locator(f"{NB} .jp-Cell")
        widget_cells = sorted(set(expected_widgets) | set(page.evaluate(
            """(nb) => [...document.querySelectorAll(nb + ' .jp-Cell')].flatMap(
                   (c, i) => c.querySelector('.jp-Cell-outputWrapper .jupyter-widgets') ? [i] : [])""", NB)))
        steps = []
        for i in widget_cells:
            cell = dom_cells.nth(i)
            label = f"cell {i}"
            try:
                cell.locator(".jp-Cell-outputWrapper .jupyter-widgets").first.wait_for(timeout=WIDGET_TIMEOUT * 1000)
                rendered = True
            except PlaywrightTimeoutError:
                rendered = False
            assert rendered, (f"{notebook}: {label} builds a widget ({expected_widgets.get(i)}) but none rendered "
                              f"within {WIDGET_TIMEOUT:.0f} s; its output: "
                              f"{cell.locator('.jp-Cell-outputWrapper').inner_text()[:500]!r}")
            page.wait_for_function(JS_IMAGES_LOADED, arg=cell.element_handle(), timeout=WIDGET_TIMEOUT * 1000)
            text = cell.locator(".jp-Cell-outputWrapper").inner_text()
            broken = "Error displaying widget" in text or cell.locator(".jupyter-widgets-error-widget").count()
            assert not broken, f"{notebook}: {label}: the widget failed to render: {text[:500]!r}"
            has_controls = cell.locator(".jp-Cell-outputWrapper .widget-slider .noUi-handle, "
                                        ".jp-Cell-outputWrapper .widget-dropdown select, "
                                        ".jp-Cell-outputWrapper .widget-toggle-buttons").count()
            if not has_controls:
                assert i not in expected_widgets, (f"{notebook}: {label} builds a widget ({expected_widgets[i]}) "
                                                   "but shows no slider, dropdown or toggle buttons to move")
                continue  # e.g. a progress bar: rendered, nothing to move
            cell.screenshot(path=str(out_dir / f"cell{i:02d}-before.png"))
            steps += _move_controls(page, cell, label)
            page.wait_for_function(JS_IMAGES_LOADED, arg=cell.element_handle(), timeout=WIDGET_TIMEOUT * 1000)
            cell.screenshot(path=str(out_dir / f"cell{i:02d}-after.png"))
        t["widgets"] = time.monotonic() - t0
        if notebook.startswith("zh/"):  # the captions the controls produced, in Chinese: a real font, no tofu
            checked, problems = ld.tofu(page, NB, request.getfixturevalue("cjk_families"), limit=120)
            assert not problems, f"{notebook}: Chinese text drawn without Chinese glyphs (tofu):\n" + "\n".join(problems)
        (out_dir / "steps.json").write_text(json.dumps({"widget_cells": widget_cells, "steps": steps}, indent=1))
    except BaseException:
        try:
            page.screenshot(path=str(out_dir / "failure.png"))
        except Exception:
            pass
        raise
    finally:
        t["total"] = time.monotonic() - start
        timings.append((notebook, t))
        page.close()
        lab.shutdown_kernels(wait=False)


def test_the_tofu_check_fails_when_chromium_has_no_chinese_font(browser, chromium_path, cjk_families, tmp_path):
    """The check can fail: a Chromium whose fontconfig knows only DejaVu draws 中文 as tofu, and it is reported."""
    no_cjk = ld.env_without_cjk_font(tmp_path)
    if no_cjk is None:
        pytest.skip("no DejaVu font folder to build a font set without Chinese from")
    html = "<div class='jp-Notebook'><p>编码器与解码器 greedy: 我是学生</p><p>plain English</p></div>"
    results = {}
    for name, env in (("system", dict(os.environ)), ("no Chinese font", no_cjk)):
        # a second Chromium from the session's Playwright (a second Playwright cannot start in this thread)
        other = browser.browser_type.launch(executable_path=chromium_path, headless=True, args=ld.CHROMIUM_ARGS, env=env)
        try:
            page = other.new_page()
            page.set_content(html)
            results[name] = ld.tofu(page, ".jp-Notebook", cjk_families)
        finally:
            other.close()
    assert results["system"] == (1, [])
    checked, problems = results["no Chinese font"]
    assert checked == 1 and len(problems) == 1 and "11 Chinese characters" in problems[0], problems
