"""ipywidgets 7.7 (what Colab ships) and 8.x: the one place in the package that knows how they differ.

The course's widgets use only core controls that exist unchanged in both versions (IntSlider,
FloatSlider, FloatLogSlider, SelectionSlider, Dropdown, ToggleButtons, Image, HTML, HBox, VBox,
`Layout(width, max_width, flex_flow)` and the `description_width` style). What differs is how a widget
reaches the notebook:

- ipywidgets 8 gives IPython a `_repr_mimebundle_` (a text repr and the widget-view reference);
- ipywidgets 7 displays itself from `_ipython_display_`, which IPython calls *instead of* any
  `_repr_mimebundle_` and which publishes only the view and the repr, ignoring `display_id`.

`view_bundle(widget)` is the mime bundle of a widget under either version, and `StaticView` makes a
widget that adds a static picture to it (`drawing.FigureWidget`: its first view as a PNG and its caption
as text) publish the same bundle under both: live front ends show the widget, static views the picture.
A widget that must be updated in place (a progress bar's final state) is displayed as
`display(view_bundle(w), raw=True, display_id=True)`, which keeps its display id under both.
"""
from __future__ import annotations

import re

import ipywidgets as ipw

__all__ = ["IPYWIDGETS_VERSION", "WIDGET_VIEW", "view_bundle", "StaticView"]

IPYWIDGETS_VERSION = tuple(int(part) for part in re.findall(r"\d+", ipw.__version__)[:2])
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_HAS_MIMEBUNDLE = hasattr(ipw.Widget, "_repr_mimebundle_")          # ipywidgets >= 8


def view_bundle(widget: ipw.Widget) -> dict:
    """`{"text/plain": repr, WIDGET_VIEW: {...model_id}}`, as ipywidgets 8 displays `widget`, under 7 and 8."""
    if not isinstance(widget, ipw.Widget):
        raise TypeError(f"expected an ipywidgets widget, got {widget!r} ({type(widget).__name__})")
    if _HAS_MIMEBUNDLE:
        return dict(ipw.Widget._repr_mimebundle_(widget) or {"text/plain": repr(widget)})
    # ipywidgets 7: the bundle its Widget._ipython_display_ publishes (the same keys and values as 8's)
    plaintext = repr(widget)
    if len(plaintext) > 110:
        plaintext = plaintext[:110] + "…"
    data = {"text/plain": plaintext}
    if widget._view_name is not None:
        data[WIDGET_VIEW] = {"version_major": 2, "version_minor": 0, "model_id": widget.model_id}
    return data


class StaticView:
    """Mix in before the widget class (`class W(StaticView, ipw.VBox)`) and define `_static_view()`, which
    returns `(data, metadata)` to add to the widget's bundle (e.g. `{"image/png": ...}`, `{"text/plain": ...}`).

    Under ipywidgets 8, IPython calls `_repr_mimebundle_`; under 7, `_ipython_display_` publishes that
    same bundle (and still fires the widget's `on_displayed` callbacks, as 7's own method does).
    """

    def _static_view(self) -> tuple[dict, dict]:
        raise NotImplementedError(f"{type(self).__name__} mixes in StaticView: define _static_view()")

    def _repr_mimebundle_(self, **kwargs):
        data = view_bundle(self)
        extra, metadata = self._static_view()
        data.update(extra)
        return data, metadata

    if not _HAS_MIMEBUNDLE:
        def _ipython_display_(self, **kwargs):
            from IPython.display import display
            data, metadata = self._repr_mimebundle_()
            display(data, metadata=metadata, raw=True)
            self._handle_displayed(**kwargs)
