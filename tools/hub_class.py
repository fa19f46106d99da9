"""A class on one JupyterHub, simulated on this machine: the harness of tests/hub and tools/hub_capacity.py.

`ClassHub` starts a real JupyterHub on 127.0.0.1 (random free ports) with configurable-http-proxy from npm,
a throwaway password (DummyAuthenticator) and SimpleLocalProcessSpawner, which gives every user a home
directory under a temporary folder without real Unix users. `Student` does what a student's browser does:
log in through the hub's login form, open the teacher's nbgitpuller link (which starts the student's
server, clones the course into their home and opens a notebook), save a notebook through the Jupyter
Server contents API, and run a notebook's code cells in a kernel of their own server through the kernel
websocket, as JupyterLab does.

Every process the hub starts (the proxy, the single-user servers, their kernels, git) carries the marker
environment variable TL_HUB_RUN=<id of this run>, so `ClassHub.processes()` finds exactly this run's
processes and `ClassHub.stop()` can show that none is left.

Needs the hub environment (`make hub-env`: .venv-hub with jupyterhub, nbgitpuller, jupyterlab and the
course; configurable-http-proxy under .cache/hub-npm/).
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlencode, urlsplit

import psutil
import requests
import websocket

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hub_link import clone_folder, pull_link, repository_url  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HUB_VENV = ROOT / ".venv-hub"
CHP = ROOT / ".cache" / "hub-npm" / "node_modules" / ".bin" / "configurable-http-proxy"
MARKER = "TL_HUB_RUN"
LOOPBACK = "127.0.0.1"


def interruptible() -> None:
    """Make SIGINT and SIGTERM raise KeyboardInterrupt, so that `finally: hub.stop()` runs when the run is
    interrupted or timed out (`timeout` sends SIGTERM; a shell starts background jobs with SIGINT ignored)."""
    def stop(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def off_loopback(rows: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The (process, local, remote) socket rows of ClassHub.connections() that leave loopback, or listen
    on every interface (0.0.0.0, ::)."""
    def loop(ip: str) -> bool:
        return ip.startswith("127.") or ip in ("::1", "::ffff:127.0.0.1")
    return [r for r in rows if not loop(r[1]) or (r[2] and not loop(r[2]))]


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def course_repo(dest_parent: Path) -> Path:
    """A git repository made from this checkout's HEAD, named as the real repository (so nbgitpuller clones
    it into the same folder name as the teacher's link), on branch main: the 'upstream' the students pull."""
    dest = dest_parent / clone_folder(repository_url())
    head = git("rev-parse", "HEAD", cwd=ROOT).strip()
    git("init", "-q", "-b", "main", str(dest))
    git("fetch", "-q", "--depth", "1", f"file://{ROOT}", head, cwd=dest)
    git("checkout", "-q", "-B", "main", "FETCH_HEAD", cwd=dest)
    return dest


def teacher_commit(repo: Path, changes: dict[str, str], message: str) -> None:
    """The teacher changes files in the upstream repository and commits (appends `text` to each file)."""
    for path, text in changes.items():
        with open(repo / path, "a", encoding="utf-8") as f:
            f.write(text)
    git("-c", "user.name=Teacher", "-c", "user.email=teacher@example.invalid",
        "commit", "-q", "-am", message, cwd=repo)


class HubError(RuntimeError):
    pass


class CellError(RuntimeError):
    """A cell raised in a student's kernel."""


@dataclass
class ClassHub:
    """A JupyterHub on loopback for a simulated class. Use as a context manager: stop() always runs."""

    workdir: Path
    password: str = "class-password"
    venv: Path = HUB_VENV
    chp: Path = CHP
    marker: str = field(default_factory=lambda: uuid.uuid4().hex)
    start_timeout: float = 180
    mem_limit: str | None = None

    def __post_init__(self):
        self.workdir = Path(self.workdir)
        self.port, self.hub_port, self.api_port = free_port(), free_port(), free_port()
        self.url = f"http://{LOOPBACK}:{self.port}/"
        self.token = uuid.uuid4().hex
        self.proc: subprocess.Popen | None = None
        self.seen: dict[int, str] = {}  # pid -> what it was, every process of this run seen so far
        self.log_path = self.workdir / "jupyterhub.log"

    # ---- start and stop ---------------------------------------------------------------------------
    def config(self) -> str:
        singleuser = self.venv / "bin" / "jupyterhub-singleuser"
        args = ["--allow-root"] if os.geteuid() == 0 else []
        return "\n".join([
            "c = get_config()  # noqa",
            f"c.JupyterHub.bind_url = 'http://{LOOPBACK}:{self.port}/'",
            f"c.JupyterHub.hub_bind_url = 'http://{LOOPBACK}:{self.hub_port}'",
            f"c.ConfigurableHTTPProxy.api_url = 'http://{LOOPBACK}:{self.api_port}'",
            f"c.ConfigurableHTTPProxy.command = [{str(self.chp)!r}]",
            f"c.ConfigurableHTTPProxy.pid_file = {str(self.workdir / 'proxy.pid')!r}",
            f"c.JupyterHub.db_url = 'sqlite:///{self.workdir / 'jupyterhub.sqlite'}'",
            f"c.JupyterHub.cookie_secret_file = {str(self.workdir / 'cookie_secret')!r}",
            f"c.JupyterHub.pid_file = {str(self.workdir / 'hub.pid')!r}",
            "c.JupyterHub.authenticator_class = 'dummy'",
            f"c.DummyAuthenticator.password = {self.password!r}",
            "c.Authenticator.allow_all = True",
            "c.JupyterHub.spawner_class = 'jupyterhub.spawner.SimpleLocalProcessSpawner'",
            f"c.SimpleLocalProcessSpawner.home_dir_template = {str(self.workdir / 'home' / '{username}')!r}",
            f"c.Spawner.cmd = [{str(singleuser)!r}]",
            f"c.Spawner.args = {args!r}",
            f"c.Spawner.ip = '{LOOPBACK}'",
            "c.Spawner.default_url = '/lab'",
            f"c.Spawner.environment = {{'{MARKER}': '{self.marker}', 'NBGITPULLER_APP': 'lab'}}",
            f"c.Spawner.start_timeout = {int(self.start_timeout)}",
            f"c.Spawner.http_timeout = {int(self.start_timeout)}",
            # LocalProcessSpawner does not enforce it (Kubernetes and systemd spawners do); set for the record
            *([f"c.Spawner.mem_limit = {self.mem_limit!r}"] if self.mem_limit else []),
            # wait for a server to start before answering, instead of a 'your server is starting' page
            f"c.JupyterHub.tornado_settings = {{'slow_spawn_timeout': {int(self.start_timeout)}}}",
            f"c.JupyterHub.services = [{{'name': 'class-admin', 'api_token': '{self.token}'}}]",
            "c.JupyterHub.load_roles = [{'name': 'class-admin', 'services': ['class-admin'],"
            " 'scopes': ['admin:users', 'admin:servers', 'list:users', 'read:users']}]",
            "c.JupyterHub.cleanup_servers = True",
            "c.JupyterHub.cleanup_proxy = True",
        ]) + "\n"

    def start(self) -> "ClassHub":
        for path, what in ((self.venv / "bin" / "jupyterhub", "JupyterHub"), (self.chp, "configurable-http-proxy")):
            if not path.exists():
                raise HubError(f"{what} not found at {path}: run `make hub-env` first (it installs the hub "
                               "environment, .venv-hub, and configurable-http-proxy into .cache/hub-npm).")
        (self.workdir / "home").mkdir(parents=True, exist_ok=True)
        config = self.workdir / "jupyterhub_config.py"
        config.write_text(self.config())
        env = dict(os.environ, **{MARKER: self.marker})
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen([str(self.venv / "bin" / "jupyterhub"), "-f", str(config)],
                                     cwd=self.workdir, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.seen[self.proc.pid] = "jupyterhub"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HubError(f"JupyterHub exited with {self.proc.returncode} while starting:\n{self.log_tail()}")
            try:
                if requests.get(self.url + "hub/api/", timeout=5).status_code == 200:
                    self.record()
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        raise HubError(f"JupyterHub did not answer on {self.url} within 120 s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        return requests.request(method, self.url + "hub/api/" + path,
                                headers={"Authorization": f"token {self.token}"}, **kwargs)

    def processes(self) -> list[psutil.Process]:
        """Every live process of this run (found by the marker in its environment)."""
        found = []
        for proc in psutil.process_iter(["pid"]):
            try:
                if proc.environ().get(MARKER) == self.marker:
                    found.append(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return found

    def record(self) -> list[psutil.Process]:
        procs = self.processes()
        for p in procs:
            try:
                self.seen.setdefault(p.pid, " ".join(p.cmdline()[:3]))
            except psutil.Error:
                pass
        return procs

    def connections(self) -> list[tuple[str, str, str]]:
        """(process, local address, remote address) of every inet socket of this run's processes."""
        rows = []
        for p in self.record():
            try:
                for c in p.net_connections(kind="inet"):
                    rows.append((f"{p.pid} {p.name()}", c.laddr.ip if c.laddr else "",
                                 c.raddr.ip if c.raddr else ""))
            except psutil.Error:
                continue
        return rows

    def stop(self) -> list[str]:
        """Stop every server through the hub, then the hub (which stops the proxy); kill what is still there.
        Returns the processes that had to be killed (empty when everything stopped by itself)."""
        self.record()
        if self.proc is not None and self.proc.poll() is None:
            try:
                users = self.api("GET", "users").json()
                for user in users:
                    if user.get("server") or user.get("pending"):
                        self.api("DELETE", f"users/{user['name']}/server", timeout=60)
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and any(
                        u.get("server") or u.get("pending") for u in self.api("GET", "users").json()):
                    time.sleep(0.5)
            except (requests.RequestException, ValueError):
                pass
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                pass
        leftovers = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.processes():
            time.sleep(0.5)
        for p in self.processes():
            try:
                leftovers.append(f"{p.pid} {' '.join(p.cmdline()[:4])}")
                p.kill()
            except psutil.Error:
                pass
        for pid in self.seen:  # anything of this run that lost its marker (it cannot): kill by pid
            try:
                p = psutil.Process(pid)
                if p.status() != psutil.STATUS_ZOMBIE and MARKER in p.environ() and p.environ()[MARKER] == self.marker:
                    leftovers.append(f"{pid} {self.seen[pid]}")
                    p.kill()
            except psutil.Error:
                pass
        if self.proc is not None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        if getattr(self, "_log", None):
            self._log.close()
        return leftovers

    def __enter__(self) -> "ClassHub":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.leftovers = self.stop()


def decode(frame: str | bytes) -> dict:
    """A kernel websocket message: JSON text, or (a message with binary buffers, e.g. a widget's) a binary
    frame: the number of parts n and n offsets as big-endian uint32, the JSON message as the first part."""
    if isinstance(frame, str):
        return json.loads(frame)
    parts = int.from_bytes(frame[:4], "big")
    offsets = [int.from_bytes(frame[4 + 4 * i:8 + 4 * i], "big") for i in range(parts)] + [len(frame)]
    return json.loads(frame[offsets[0]:offsets[1]].decode("utf-8"))


@dataclass
class Kernel:
    """A kernel of one student's server, driven through the kernel websocket (Jupyter messaging, JSON)."""

    student: "Student"
    kernel_id: str
    ws: websocket.WebSocket
    session: str = field(default_factory=lambda: uuid.uuid4().hex)

    def execute(self, code: str, timeout: float = 600) -> dict:
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": self.student.name, "session": self.session,
                       "msg_type": "execute_request", "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True},
        }))
        deadline = time.monotonic() + timeout
        reply, idle = None, False
        while reply is None or not idle:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.student.name}: a cell ran longer than {timeout} s")
            self.ws.settimeout(left)
            msg = decode(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "execute_reply":
                reply = msg["content"]
            elif kind == "status" and msg["content"].get("execution_state") == "idle":
                idle = True
        if reply.get("status") != "ok":
            trace = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(reply.get("traceback", [])))
            raise CellError(f"{self.student.name}: {reply.get('ename')}: {reply.get('evalue')}\n{trace[-2000:]}")
        return reply

    def pid(self) -> int:
        """The kernel's process (its command line names the kernel's connection file)."""
        for proc in self.student.hub.processes():
            try:
                if any(f"kernel-{self.kernel_id}" in part for part in proc.cmdline()):
                    return proc.pid
            except psutil.Error:
                continue
        raise HubError(f"{self.student.name}: no process found for kernel {self.kernel_id}")

    def memory(self) -> dict:
        info = psutil.Process(self.pid()).memory_full_info()
        return {"rss": info.rss, "pss": getattr(info, "pss", info.rss), "uss": info.uss}

    def cpu_seconds(self) -> float:
        """CPU time the kernel has used so far, all its threads (user + system)."""
        times = psutil.Process(self.pid()).cpu_times()
        return times.user + times.system

    def shutdown(self) -> None:
        try:
            self.ws.close()
        finally:
            self.student.server_api("DELETE", f"api/kernels/{self.kernel_id}")


class Student:
    """One simulated student: a browser session (cookies) on the hub, as a person with a browser has."""

    def __init__(self, hub: ClassHub, name: str):
        self.hub, self.name = hub, name
        self.http = requests.Session()
        self.base = f"{hub.url}user/{name}/"
        self.home = hub.workdir / "home" / name

    # ---- the hub --------------------------------------------------------------------------------
    def login(self) -> None:
        """The hub's login form: GET it for the _xsrf cookie, POST name and password."""
        self.http.get(self.hub.url + "hub/login", timeout=60).raise_for_status()
        xsrf = self.http.cookies.get("_xsrf", path="/hub/")
        response = self.http.post(self.hub.url + "hub/login", timeout=60, allow_redirects=False,
                                  data={"username": self.name, "password": self.hub.password, "_xsrf": xsrf})
        if response.status_code != 302:
            raise HubError(f"{self.name}: login refused ({response.status_code})")

    def login_is_refused_with(self, password: str) -> bool:
        """Negative control of the authenticator: a wrong password gets no session."""
        other = requests.Session()
        other.get(self.hub.url + "hub/login", timeout=60)
        xsrf = other.cookies.get("_xsrf", path="/hub/")
        response = other.post(self.hub.url + "hub/login", timeout=60, allow_redirects=False,
                              data={"username": self.name, "password": password, "_xsrf": xsrf})
        return response.status_code != 302

    # ---- nbgitpuller --------------------------------------------------------------------------------
    def open_link(self, link: str, timeout: float = 300) -> dict:
        """Open the nbgitpuller link as the browser does: follow the hub's redirects (which start the
        student's server if needed) to nbgitpuller's status page, run the sync its script runs
        (git-pull/api, an event stream), then load the page it redirects to. Returns what happened."""
        start = time.monotonic()
        page = self.http.get(link, timeout=timeout)
        page.raise_for_status()
        # the hub's 'your server is starting' page: its script waits for the spawn to finish, then goes on
        while "/hub/spawn-pending/" in page.url and time.monotonic() - start < timeout:
            time.sleep(1)
            page = self.http.get(page.url, timeout=timeout)
            page.raise_for_status()
        if not page.url.startswith(self.base + "git-pull"):
            raise HubError(f"{self.name}: the link led to {page.url}, not to nbgitpuller on the student's server")
        data = {k: unquote(v) for k, v in re.findall(r'data-([a-z-]+)="([^"]*)"', page.text)}
        params = {"_xsrf": data["xsrf"], "repo": data["repo"], "targetpath": data["targetpath"]}
        if "branch" in data:
            params["branch"] = data["branch"]
        events = []
        with self.http.get(self.base + "git-pull/api?" + urlencode(params), stream=True, timeout=timeout) as stream:
            stream.raise_for_status()
            for line in stream.iter_lines(decode_unicode=True):
                if line and line.startswith("data: "):
                    event = json.loads(line[6:])
                    events.append(event)
                    if event.get("phase") in ("finished", "error"):
                        break
        if not events or events[-1].get("phase") != "finished":
            raise HubError(f"{self.name}: nbgitpuller did not finish: {events[-1:] or 'no event'}")
        opened = self.http.get(self.base + data["path"], timeout=timeout)
        opened.raise_for_status()
        return {"seconds": time.monotonic() - start, "target": data["targetpath"], "opened": opened.url,
                "output": [e.get("output", "") for e in events]}

    # ---- the student's server -----------------------------------------------------------------------
    def server_api(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 120)
        xsrf = self.http.cookies.get("_xsrf", path=urlsplit(self.base).path)
        headers = {"X-XSRFToken": xsrf} if xsrf else {}
        response = self.http.request(method, self.base + path, headers=headers, **kwargs)
        response.raise_for_status()
        return response

    def read_notebook(self, path: str) -> dict:
        return self.server_api("GET", f"api/contents/{path}", params={"content": 1}).json()["content"]

    def save_notebook(self, path: str, notebook: dict) -> None:
        """Save through the contents API, as JupyterLab's Ctrl+S does."""
        self.server_api("PUT", f"api/contents/{path}", json={"type": "notebook", "format": "json", "content": notebook})

    def start_kernel(self, notebook_path: str) -> Kernel:
        """A kernel for `notebook_path` (a session, as JupyterLab opens one), and its websocket."""
        session = self.server_api("POST", "api/sessions", json={
            "path": notebook_path, "name": Path(notebook_path).name, "type": "notebook",
            "kernel": {"name": "python3"}}).json()
        kernel_id = session["kernel"]["id"]
        ws_url = self.base.replace("http://", "ws://") + f"api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}"
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        ws = websocket.create_connection(ws_url, header=[f"Cookie: {cookie}"], timeout=120)
        return Kernel(self, kernel_id, ws)

    def run_notebook(self, notebook_path: str, kernel: Kernel | None = None, stop_after: int | None = None,
                     on_cell=None, timeout: float = 600) -> dict:
        """Run the code cells of the student's own copy of a notebook (read through their server) in
        order, within `timeout` seconds; stop at the first error. Returns the timing; the kernel stays
        open when one was given."""
        notebook = self.read_notebook(notebook_path)
        cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        own = kernel is None
        kernel = kernel or self.start_kernel(notebook_path)
        start = time.monotonic()
        try:
            for index, cell in enumerate(cells[:stop_after]):
                source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
                kernel.execute(source, timeout=max(1.0, timeout - (time.monotonic() - start)))
                if on_cell:
                    on_cell(index, kernel)
            return {"cells": len(cells[:stop_after]), "seconds": time.monotonic() - start, "kernel": kernel}
        finally:
            if own:
                kernel.shutdown()


def clone_of(student: Student, repo: Path) -> Path:
    return student.home / repo.name


def class_link(hub: ClassHub, repo: Path, notebook: str) -> str:
    """The teacher's link (tools/hub_link.py), pointing at the local upstream repository."""
    return pull_link(hub.url, notebook, repo=f"file://{repo}", branch="main")


def temp_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="tl-hub-"))
