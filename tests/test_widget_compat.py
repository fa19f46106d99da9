"""The course's widgets under ipywidgets 7.7 (what Colab ships) and 8.x (transformer_lesson/widget_compat.py).

These tests display widgets through IPython's own display machinery (a shell whose display publisher
records every output), as a notebook kernel does, rather than calling `_repr_mimebundle_` by hand:
under ipywidgets 7, IPython never calls `_repr_mimebundle_` on a widget, because the widget's
`_ipython_display_` takes over. `make test` runs them under ipywidgets 8, `make test-widgets-7` under 7.7.
"""
from __future__ import annotations

import base64
import os
import re
from contextlib import contextmanager

import ipywidgets as ipw
import pytest

from transformer_lesson.drawing import FigureWidget
from transformer_lesson.widget_compat import IPYWIDGETS_VERSION, WIDGET_VIEW, StaticView, view_bundle

PNG = b"\x89PNG"
pytestmark = pytest.mark.widgets


@contextmanager
def kernel_like_shell():
    """An IPython shell whose display publisher records every output (as `%%capture` does); removed after."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    had_shell = InteractiveShell.initialized()
    InteractiveShell.instance()
    try:
        with capture_output(stdout=False, stderr=False) as captured:
            yield captured._outputs          # the live list (CapturedIO.outputs is a copy made when read)
    finally:
        if not had_shell:
            InteractiveShell.clear_instance()


def published(outputs) -> list[dict]:
    return [{"data": o["data"], "metadata": o["metadata"] or {}} for o in outputs]


def _points_widget():
    def draw(fig, n):
        fig.add_subplot().plot(range(n))
        return f"<b>{n}</b> points &amp; a line"
    return FigureWidget(draw, {"n": ipw.IntSlider(value=3, min=1, max=5)}, width=2, height=2)


def static_view_problems(output: dict) -> list[str]:
    """What a static renderer would miss in one displayed output of a FigureWidget (empty: nothing)."""
    data, problems = output["data"], []
    if WIDGET_VIEW not in data:
        problems.append("no live widget view")
    png = data.get("image/png")
    if not png or not base64.b64decode(png).startswith(PNG):
        problems.append("no image/png first view")
    if data.get("text/plain", "").startswith(("FigureWidget(", "VBox(")):
        problems.append("text/plain is the widget's repr, not its caption")
    return problems


def test_the_installed_ipywidgets_is_the_one_this_run_is_meant_for():
    """`make test-widgets-7` sets TL_EXPECT_IPYWIDGETS=7.7, so a venv that quietly got 8.x fails here."""
    expected = os.environ.get("TL_EXPECT_IPYWIDGETS")
    if expected:
        assert ipw.__version__.startswith(expected + "."), f"expected ipywidgets {expected}.x, got {ipw.__version__}"
    assert IPYWIDGETS_VERSION >= (7, 7), f"the course needs ipywidgets >= 7.7, got {ipw.__version__}"


def test_displaying_a_figure_widget_publishes_the_live_view_its_png_and_its_caption():
    widget = _points_widget()
    with kernel_like_shell() as outputs:
        from IPython.display import display
        display(widget)
    [output] = published(outputs)
    assert static_view_problems(output) == []
    assert output["data"][WIDGET_VIEW]["model_id"] == widget.model_id
    assert output["data"]["text/plain"] == "3 points & a line"
    # twice the pixels, shown at the figure's size (2 in x 80 dpi = 160 px)
    assert output["metadata"]["image/png"] == {"width": 160, "height": 160}


def test_a_figure_widget_as_a_cells_last_value_is_published_the_same_way():
    """A widget cell ends with the widget itself: IPython's displayhook, not display(), shows it."""
    from IPython.core.interactiveshell import InteractiveShell

    with kernel_like_shell() as outputs:
        shell = InteractiveShell.instance()
        data, metadata = shell.display_formatter.format(_points_widget())
    # ipywidgets 8: the formatter returns the bundle; ipywidgets 7: _ipython_display_ published it itself and
    # the formatter returns nothing
    shown = published(outputs) + ([{"data": data, "metadata": metadata}] if data else [])
    assert len(shown) == 1, shown
    assert static_view_problems(shown[0]) == []


def test_the_redrawn_view_is_what_a_second_display_publishes():
    widget = _points_widget()
    widget.controls["n"].value = 5
    with kernel_like_shell() as outputs:
        from IPython.display import display
        display(widget)
    [output] = published(outputs)
    assert output["data"]["text/plain"] == "5 points & a line"
    assert base64.b64decode(output["data"]["image/png"]) == widget.image.value


def test_view_bundle_is_what_ipywidgets_itself_publishes_for_a_plain_widget():
    slider = ipw.IntSlider(value=3, description="n")
    with kernel_like_shell() as outputs:
        from IPython.display import display
        display(slider)
    [output] = published(outputs)
    assert output["data"] == view_bundle(slider)
    assert output["data"][WIDGET_VIEW] == {"version_major": 2, "version_minor": 0, "model_id": slider.model_id}


def test_a_widget_displayed_through_view_bundle_keeps_its_display_id_for_an_update():
    """How a progress bar's stored output ends as its final state: update the same display, under 7 and 8."""
    bar = ipw.HTML(value="0/4")
    with kernel_like_shell() as outputs:
        from IPython.display import display
        handle = display(view_bundle(bar), raw=True, display_id=True)
        bar.value = "4/4"
        handle.update(view_bundle(bar), raw=True)
    first, update = outputs
    assert first["transient"]["display_id"] == update["transient"]["display_id"] == handle.display_id
    assert update["update"] and not first["update"]
    assert re.search(r"4/4", update["data"]["text/plain"])


def test_view_bundle_refuses_what_is_not_a_widget():
    with pytest.raises(TypeError, match="expected an ipywidgets widget, got 'slider'"):
        view_bundle("slider")


def test_a_static_view_widget_without_its_picture_says_what_is_missing():
    class Bare(StaticView, ipw.VBox):
        pass
    with pytest.raises(NotImplementedError, match="define _static_view"):
        Bare()._repr_mimebundle_()


def test_the_checks_above_can_fail():
    """A box that displays as ipywidgets itself does (no StaticView) has no PNG: the check sees it."""
    box = ipw.VBox([ipw.IntSlider()])
    with kernel_like_shell() as outputs:
        from IPython.display import display
        display(box)
    [output] = published(outputs)
    assert "no image/png first view" in static_view_problems(output)
    assert "text/plain is the widget's repr, not its caption" in static_view_problems(output)
    # and a widget whose _repr_mimebundle_ adds the PNG but which ipywidgets 7 displays through its own
    # _ipython_display_ (the package before widget_compat) loses it there: the display test tells them apart
    class MimebundleOnly(ipw.VBox):
        def _repr_mimebundle_(self, **kwargs):
            data = view_bundle(self)
            data["image/png"] = base64.b64encode(PNG).decode("ascii")
            return data
    with kernel_like_shell() as outputs:
        display(MimebundleOnly())
    [output] = published(outputs)
    assert ("image/png" in output["data"]) == (IPYWIDGETS_VERSION >= (8, 0))
    with pytest.raises(AssertionError):
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("TL_EXPECT_IPYWIDGETS", "6.0")
            test_the_installed_ipywidgets_is_the_one_this_run_is_meant_for()


def test_every_lesson_widget_is_built_by_a_test_the_7_7_run_selects():
    """Each `*_widget` a lesson exports is called by a test function that tests/conftest.py marks `widgets`."""
    import ast
    import importlib
    from pathlib import Path

    import importlib.util

    root = Path(__file__).resolve().parents[1]
    # tests/conftest.py by its path: `import conftest` may find another folder's conftest (tests/hub/)
    spec = importlib.util.spec_from_file_location("tests_conftest", root / "tests" / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    USES_WIDGETS = conftest.USES_WIDGETS
    marked = []                                   # source of every test function the marker selects
    for path in sorted((root / "tests").glob("test_lesson_*.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                segment = ast.get_source_segment(source, node)
                if USES_WIDGETS.search(segment):
                    marked.append(segment)
    builders = []
    for path in sorted((root / "transformer_lesson" / "lessons").glob("lesson*/widgets.py")):
        module = importlib.import_module(f"transformer_lesson.lessons.{path.parent.name}.widgets")
        builders += [name for name in module.__all__ if name.endswith("_widget")]
    assert len(builders) >= 10, builders
    untested = [name for name in builders if not any(f"widgets.{name}(" in segment for segment in marked)]
    assert not untested, f"no test the ipywidgets 7.7 run selects builds {untested}"
    assert not USES_WIDGETS.search("def test_reads_stored_notebooks():\n    assert _has_widget(cell)")
