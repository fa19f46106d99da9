"""Shared fixtures."""
import matplotlib
import pytest

from transformer_lesson.notebook import cjk_font_name


@pytest.fixture
def chinese_font():
    """The figures show Chinese tokens: draw them with the course's CJK font, as the notebooks do."""
    with matplotlib.rc_context({"font.sans-serif": [cjk_font_name(), "DejaVu Sans"]}):
        yield
