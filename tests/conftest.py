"""Shared fixtures, and the `widgets` marker."""
import inspect
import re

import matplotlib
import pytest

from transformer_lesson.notebook import cjk_font_name


@pytest.fixture
def chinese_font():
    """The figures show Chinese tokens: draw them with the course's CJK font, as the notebooks do."""
    with matplotlib.rc_context({"font.sans-serif": [cjk_font_name(), "DejaVu Sans"]}):
        yield


# ---- the claim rate table (tests/test_claims.py) ---------------------------------------------------------
CLAIM_ROWS = pytest.StashKey[list]()


@pytest.fixture(scope="session")
def claim_table(request):
    """Lines `claim <id>: ... rate=...` that tests/test_claims.py records; printed again at the end of the run."""
    return request.config.stash.setdefault(CLAIM_ROWS, [])


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    rows = config.stash.get(CLAIM_ROWS, [])
    if rows:
        terminalreporter.section("claims: the rate at which each holds over seeds")
        for row in rows:
            terminalreporter.write_line(row)


# ---- the widget tests (make test-widgets-7 runs them under ipywidgets 7.7) --------------------------------
# A test that builds, moves or displays a widget at run time: calls a lesson's `widgets.*_widget(...)`, builds a
# FigureWidget, or runs the training progress bar (a test module all about widgets sets `pytestmark` itself).
# Tests that only read stored notebooks do not depend on the ipywidgets version and stay in make test alone.
USES_WIDGETS = re.compile(r"\bwidgets\.\w+_widget\(|\bFigureWidget\(draw|\b_progress_bar\(")


def pytest_collection_modifyitems(config, items):
    """Mark `widgets` every test whose code uses a widget (USES_WIDGETS), so `make test-widgets-7` runs them
    all under ipywidgets 7.7 and a new widget test joins without a list."""
    for item in items:
        function = getattr(item, "function", None)
        if function is None:                      # an nbval cell: make test runs those under 8.x
            continue
        try:
            source = inspect.getsource(function)
        except (OSError, TypeError):
            source = ""
        if USES_WIDGETS.search(source):
            item.add_marker("widgets")
