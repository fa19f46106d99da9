"""Helpers for the real-browser test: a throwaway JupyterLab server and the system Chromium.

Nothing here downloads a browser: Playwright's Python package drives Debian's `chromium`
(`apt-get install chromium`), found on PATH or named by the CHROMIUM environment variable.
"""
from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "browser"
NOTEBOOK_DIRS = ("notebooks", "solutions", "zh/notebooks", "zh/solutions")
# TL_BROWSER_NOTEBOOKS: comma-separated glob patterns (repository-relative) choosing which notebooks the
# run-all test opens; unset = every notebook of NOTEBOOK_DIRS (the full browser run, `make test-browser`).
SELECT_ENV = "TL_BROWSER_NOTEBOOKS"
TOKEN = "transformer-lesson-browser-test"

# Flags for a headless Chromium on a machine with no network beyond loopback (as root, in a sandbox):
# without the background-networking ones Chromium keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: `sudo apt-get install chromium`) or set CHROMIUM=/path/to/chromium "
    "(or Google Chrome); Playwright's Python package, which `make test` installs, drives that browser, "
    "so no `playwright install` is needed"
)

# Lab settings for a quiet, deterministic session: no news toast, no update check, no autosave
# (the test saves explicitly), and every cell kept in the DOM (no windowing) so cells can be found.
LAB_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
}

# Extensions that the test extra brings (nbgrader and what it needs) but a learner's `make lab` does not:
# off, so the browser sees the learner's JupyterLab and loads faster.
SERVER_EXTENSIONS_OFF = (
    "nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.assignment_list", "nbgrader.server_extensions.course_list",
    "notebook", "jupyter_lsp",
)
LAB_EXTENSIONS_OFF = ("@jupyter/nbgrader", "@jupyter-notebook/lab-extension")

# Excluded from the temporary copy of the repository.
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "artifacts", "__pycache__", ".ipynb_checkpoints", ".pytest_cache",
    ".hypothesis", "*.egg-info", "build", "dist",
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@contextlib.contextmanager
def launched_chromium(path: str, env: dict, unavailable):
    """Headless Chromium at `path` (driven by Playwright's Python package) with the course's arguments and the
    environment `env` (its fontconfig decides which fonts exist); closed and stopped on exit. A browser that does
    not start calls `unavailable(message)`, which skips or fails the test (it must raise)."""
    from playwright.sync_api import sync_playwright
    pw = sync_playwright().start()
    try:
        try:
            b = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS, env=env, timeout=60_000)
        except Exception as e:
            unavailable(f"Chromium at {path} did not start: {str(e).splitlines()[0]}; {INSTALL_HINT}")
            raise
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


def find_chromium() -> str | None:
    """Path of a Chromium-based browser: $CHROMIUM, else chromium, chromium-browser or google-chrome."""
    named = os.environ.get("CHROMIUM")
    if named:
        return named if Path(named).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    for path in ("/usr/bin/chromium", "/Applications/Chromium.app/Contents/MacOS/Chromium",
                 "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"):
        if Path(path).is_file():
            return path
    return None


def notebooks(repo: Path = REPO, select: str | None = None) -> list[str]:
    """Every notebook under NOTEBOOK_DIRS (or those matching `select` / $TL_BROWSER_NOTEBOOKS, comma-separated
    glob patterns), as repository-relative POSIX paths."""
    found = [p.relative_to(repo).as_posix() for d in NOTEBOOK_DIRS for p in sorted((repo / d).glob("*.ipynb"))]
    return _selected(found, os.environ.get(SELECT_ENV, "") if select is None else select)


def _selected(found: list[str], select: str) -> list[str]:
    """The paths matching any of the comma-separated glob patterns in `select`; all of them if it is empty."""
    import fnmatch

    patterns = [p.strip() for p in select.split(",") if p.strip()]
    return [nb for nb in found if any(fnmatch.fnmatch(nb, p) for p in patterns)] if patterns else found


FONTS_ENV = "TL_BROWSER_FONTS"  # glob patterns choosing the Chinese notebooks whose fonts are checked (unset: all)


def chinese_notebooks(repo: Path = REPO) -> list[str]:
    """Every notebook of the Chinese edition (zh/notebooks, zh/solutions, zh/exercises), or those matching
    $TL_BROWSER_FONTS (comma-separated glob patterns)."""
    found = [p.relative_to(repo).as_posix() for d in ("zh/notebooks", "zh/solutions", "zh/exercises")
             for p in sorted((repo / d).glob("*.ipynb"))]
    return _selected(found, os.environ.get(FONTS_ENV, ""))


# ---- Chinese text in a real font, not tofu ------------------------------------------------------------

HAN = re.compile(r"[\u4e00-\u9fff]")

# Marks up to `limit` elements whose own text holds Chinese characters, spread over the whole notebook
# (markdown, code, outputs, widget captions), and returns how many characters each holds.
JS_MARK_CJK = r"""([root, limit]) => {
  const han = /[\u4e00-\u9fff]/g;
  const found = [];
  for (const el of document.querySelectorAll(root + ' *')) {
    let own = '';
    for (const n of el.childNodes) if (n.nodeType === Node.TEXT_NODE) own += n.textContent;
    const count = (own.match(han) || []).length;
    if (count && el.getClientRects().length) found.push([el, count, own.trim().slice(0, 40)]);
  }
  const step = Math.max(1, Math.floor(found.length / limit));
  const picked = found.filter((_, i) => i % step === 0).slice(0, limit);
  picked.forEach(([el], i) => el.setAttribute('data-cjk-probe', String(i)));
  return {total: found.length, probes: picked.map(([_, count, text]) => ({count, text}))};
}"""


def cjk_families(env: dict | None = None) -> set[str]:
    """Font families fontconfig (as Chromium sees it, under `env`) says cover Chinese (`fc-list :lang=zh`)."""
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=60,
                             env=env).stdout
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return {name.strip() for line in out.splitlines() for name in line.split(",") if name.strip()}


def env_without_cjk_font(tmp: Path) -> dict | None:
    """Environment for a Chromium whose fontconfig knows only DejaVu: no font with Chinese glyphs, as on many Linux
    machines and containers (Chinese then comes out as tofu unless a page brings its own font). None when no DejaVu
    folder is found to build that font set from."""
    dejavu = [d for d in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu") if os.path.isdir(d)]
    if not dejavu:
        return None
    # the system's rules (generic families such as sans-serif -> DejaVu Sans; not the user's or the machine's own
    # configuration, which may add folders), but only DejaVu's folder of fonts
    conf_d = Path("/etc/fonts/conf.d")
    rules = "".join(f"  <include ignore_missing=\"yes\">{f}</include>\n" for f in sorted(conf_d.glob("*.conf"))
                    if not re.search(r"user|local", f.name)) if conf_d.is_dir() else ""
    conf = Path(tmp) / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
                    f"  <dir>{dejavu[0]}</dir>\n{rules}  <cachedir>{Path(tmp) / 'fontconfig-cache'}</cachedir>\n"
                    "</fontconfig>\n")
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


def tofu(page, root: str, families: set[str], limit: int = 60) -> tuple[int, list[str]]:
    """(elements checked, problems): each checked element's Chinese characters must be drawn by fonts that
    cover Chinese. Chromium reports the fonts it used for an element's text (DevTools' CSS domain); with no
    such font the characters come out as tofu boxes drawn by another font (e.g. "DejaVu Sans")."""
    page.evaluate("() => document.querySelectorAll('[data-cjk-probe]').forEach(e => e.removeAttribute('data-cjk-probe'))")
    # JupyterLab lets the browser skip laying out cells out of view (content-visibility), and text never laid
    # out has no fonts to report: lay out everything, unfold the folded answers and hints (their text is
    # checked too), then wait for two frames.
    page.add_style_tag(content=".jp-Notebook * { content-visibility: visible !important; }")
    page.evaluate("(root) => document.querySelectorAll(root + ' details').forEach(d => { d.open = true; })", root)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    marked = page.evaluate(JS_MARK_CJK, [root, limit])
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        problems, checked = [], 0
        for index, probe in enumerate(marked["probes"]):
            fonts = _platform_fonts(cdp, f'[data-cjk-probe="{index}"]')
            if fonts is None:
                continue  # re-rendered meanwhile (a kernel status, an output): its new element is not marked
            checked += 1
            covered = sum(f["glyphCount"] for f in fonts if f["familyName"] in families)
            if not fonts:
                problems.append(f"{probe['text']!r}: Chromium reports no font for it (not laid out?)")
            elif covered < probe["count"]:
                used = ", ".join(f"{f['familyName']} ({f['glyphCount']})" for f in fonts)
                problems.append(f"{probe['text']!r}: {probe['count']} Chinese characters, drawn with {used}")
        return checked, problems
    finally:
        cdp.detach()


def _platform_fonts(cdp, selector: str, attempts: int = 3) -> list[dict] | None:
    """The fonts Chromium used for the text of the element `selector` names; None if it is gone. The page
    may change between two DevTools calls (JupyterLab re-renders), so a stale node id is looked up again."""
    for attempt in range(attempts):
        doc = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": doc, "selector": selector})["nodeId"]
        if not node:
            return None
        try:
            return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        except Exception as error:  # playwright's Error: "Could not find node with given id"
            if "Could not find node" not in str(error) or attempt == attempts - 1:
                raise
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """`jupyter lab` on 127.0.0.1 over a temporary copy of the repository, with its own Jupyter dirs."""

    def __init__(self, workdir: Path, repo: Path = REPO, startup_timeout: float = 120.0):
        self.workdir = Path(workdir)
        self.root = self.workdir / "repo"
        shutil.copytree(repo, self.root, ignore=COPY_IGNORE)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / "jupyterlab.log"
        settings = self.workdir / "lab-settings"
        settings.mkdir()
        (settings / "overrides.json").write_text(json.dumps(LAB_OVERRIDES, indent=2))
        env = dict(os.environ)
        for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                         ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")):
            (self.workdir / sub).mkdir()
            env[var] = str(self.workdir / sub)
        config = self.workdir / "config"
        (config / "jupyter_server_config.json").write_text(json.dumps(
            {"ServerApp": {"jpserver_extensions": {name: False for name in SERVER_EXTENSIONS_OFF}}}))
        (config / "labconfig").mkdir()
        (config / "labconfig" / "page_config.json").write_text(json.dumps(
            {"disabledExtensions": {name: True for name in LAB_EXTENSIONS_OFF},
             "buildCheck": False, "buildAvailable": False}))  # no "is the build up to date?" per page load
        env.pop("JUPYTER_PATH", None)
        env.pop("JUPYTER_CONFIG_PATH", None)
        env["PYTHONUNBUFFERED"] = "1"
        cmd = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ip=127.0.0.1", f"--port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={self.root}",
            f"--LabApp.app_settings_dir={settings}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--ServerApp.terminals_enabled=False",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # jupyter refuses root without it (containers, CI)
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            self._wait_ready(startup_timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}; log:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status", timeout=2)
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.25)
        raise TimeoutError(f"jupyter lab did not answer within {timeout:.0f} s; log:\n{self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def api(self, method: str, path: str, timeout: float = 10):
        req = urllib.request.Request(self.base + path, method=method,
                                     headers={"Authorization": f"token {TOKEN}"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def url(self, notebook: str, workspace: str) -> str:
        """The notebook in a fresh, empty workspace (so no earlier tab or kernel is restored)."""
        return f"{self.base}/lab/workspaces/{workspace}/tree/{notebook}?token={TOKEN}"

    def saved_notebook(self, notebook: str, timeout: float = 10) -> dict:
        """The notebook's JSON as it is on disk (retried while a writer has it half written)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return json.loads((self.root / notebook).read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def shutdown_kernels(self, wait: bool = True) -> None:
        """End every session and its kernel. wait=False: the (graceful, ~2 s) shutdowns go on in a thread,
        overlapping the next notebook's page load; `wait_for_shutdowns()` joins it."""
        self.wait_for_shutdowns()
        try:
            urls = [f"/api/sessions/{s['id']}" for s in self.api("GET", "/api/sessions") or []]
            urls += [f"/api/kernels/{k['id']}" for k in self.api("GET", "/api/kernels") or []]
        except urllib.error.HTTPError:  # a kernel half started: 500; try once more
            time.sleep(1)
            urls = [f"/api/sessions/{s['id']}" for s in self.api("GET", "/api/sessions") or []]
            urls += [f"/api/kernels/{k['id']}" for k in self.api("GET", "/api/kernels") or []]

        def delete_all():
            for url in urls:
                try:
                    self.api("DELETE", url, timeout=30)
                except (urllib.error.URLError, OSError):
                    pass  # already gone with its session

        if wait:
            delete_all()
        else:
            self._shutdown_thread = threading.Thread(target=delete_all, daemon=True)
            self._shutdown_thread.start()

    def wait_for_shutdowns(self) -> None:
        thread, self._shutdown_thread = getattr(self, "_shutdown_thread", None), None
        if thread is not None:
            thread.join(timeout=60)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.shutdown_kernels(wait=True)
            except Exception:
                pass
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()
        try:  # kept with the screenshots, for a failure under CI
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.log_path, ARTIFACTS / "jupyterlab.log")
        except OSError:
            pass


# ---- which cells should show a widget -------------------------------------------------------------

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
STATE_MIME = "application/vnd.jupyter.widget-state+json"
CONTROL_MODEL = re.compile(r"Slider|Dropdown|ToggleButtons")
_BUILDER = re.compile(r"(_widget|FigureWidget)$")


def _builder_call(node: ast.AST) -> bool:
    """`x_widget(...)`, `widgets.x_widget(...)` or `FigureWidget(...)`."""
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
    return bool(_BUILDER.search(name))


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    src = "".join(src) if isinstance(src, list) else src
    # IPython magics and shell escapes are not Python; blank them out for the parser.
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in src.splitlines())


def _stored_controls(nb: dict, model_id: str) -> list[str]:
    """Model names of the sliders / dropdowns / toggle buttons in a stored widget view and its children."""
    state = nb.get("metadata", {}).get("widgets", {}).get(STATE_MIME, {}).get("state", {})
    found, todo, seen = [], [model_id], set()
    while todo:
        mid = todo.pop()
        if mid in seen or mid not in state:
            continue
        seen.add(mid)
        name = state[mid].get("model_name", "")
        if CONTROL_MODEL.search(name):
            found.append(name)
        children = state[mid].get("state", {}).get("children", [])
        todo += [c.removeprefix("IPY_MODEL_") for c in children if isinstance(c, str)]
    return found


def widget_cells(nb: dict) -> dict[int, str]:
    """Code cells that should display a widget with controls: {cell index: why}.

    A cell counts when its last statement is a widget builder call (`*_widget(...)`, `FigureWidget(...)`)
    or a name bound to one earlier in the notebook, or it calls `display(...)` on one; or when its stored
    output holds a widget view whose stored state has a slider, dropdown or toggle buttons (a progress
    bar does not count).
    """
    found: dict[int, str] = {}
    names: set[str] = set()

    def is_widget(node) -> bool:
        return _builder_call(node) or (isinstance(node, ast.Name) and node.id in names)

    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            controls = _stored_controls(nb, out.get("data", {}).get(WIDGET_MIME, {}).get("model_id", ""))
            if controls:
                found[i] = f"its stored output shows {', '.join(sorted(set(controls)))}"
        try:
            tree = ast.parse(_source(cell))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and _builder_call(node.value):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "display"
                    and any(is_widget(a) for a in node.args)):
                found[i] = f"line {node.lineno}: display(...) of a widget"
        if tree.body and isinstance(tree.body[-1], ast.Expr) and is_widget(tree.body[-1].value):
            found[i] = f"line {tree.body[-1].lineno}: last expression is a widget"
    return found
