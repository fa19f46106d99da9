"""A stored widget output where no kernel runs (the website, the slides): its first view and its caption.

A course widget (drawing.FigureWidget) stores its first view as image/png and its caption as text/plain next to
the widget view (transformer_lesson/widget_compat.py). tools/build_site.py and tools/slides.py both show that
picture instead of the widget, with the caption below it, each in its own markup.
"""
from __future__ import annotations

import re

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_REPR = re.compile(r"^[A-Za-z_][\w.]*\(")  # a widget's own repr, e.g. FigureWidget(children=(...: no caption


def widget_first_view(output: dict) -> tuple[dict, str] | None:
    """(an image output holding the widget's first view, its caption or "") for a stored widget output that
    carries its first view as image/png; None for any other output."""
    data = output.get("data", {})
    if WIDGET_VIEW not in data or "image/png" not in data:
        return None
    plain = data.get("text/plain", "")
    caption = ("".join(plain) if isinstance(plain, list) else plain).strip()
    image = {"output_type": "display_data", "data": {"image/png": data["image/png"]},
             "metadata": output.get("metadata", {})}
    return image, "" if _REPR.match(caption) else caption
