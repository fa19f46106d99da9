"""The class-on-a-hub test (make test-hub) needs its own environment (.venv-hub: JupyterHub, nbgitpuller,
configurable-http-proxy) and several minutes: `make test` (pytest tests) does not collect it; make test-hub
sets TL_HUB_TEST=1 and runs it with .venv-hub's Python."""
import os

import pytest

collect_ignore_glob = [] if os.environ.get("TL_HUB_TEST") == "1" else ["test_*.py"]


def pytest_configure(config):
    if os.environ.get("TL_HUB_TEST") == "1":  # a timeout's SIGTERM still stops the hub (fixture teardown)
        import sys
        from pathlib import Path
        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
        from hub_class import interruptible
        interruptible()

REPORT = pytest.StashKey[list]()


@pytest.fixture(scope="session")
def report(request):
    """Lines printed in the run's summary (what each simulated student did and how long it took)."""
    return request.config.stash.setdefault(REPORT, [])


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    rows = config.stash.get(REPORT, [])
    if rows:
        terminalreporter.section("a class on one hub")
        for row in rows:
            terminalreporter.write_line(row)
