"""Lesson 02, positional encoding (位置编码): its interactive controls.

Each is a `drawing.FigureWidget`: controls above a figure that is redrawn on every change, with a
caption saying what it shows.
"""
from __future__ import annotations

import math

import ipywidgets as ipw

from ...drawing import FigureWidget
from ...i18n import translator
from ...positional import sinusoidal_encoding
from . import plots

_ = translator("lesson02")

__all__ = ["positional_encoding_widget"]


def positional_encoding_widget(max_len: int = 50, d_model: int = 64) -> FigureWidget:
    """Two sliders, the number of positions and the width d_model, above the sinusoidal table as a heatmap."""
    controls = {"max_len": ipw.IntSlider(value=max_len, min=2, max=200, description="max_len"),
                "d_model": ipw.IntSlider(value=d_model, min=4, max=256, step=2, description="d_model")}

    def draw(fig, max_len, d_model):
        pe = sinusoidal_encoding(max_len, d_model)
        fig.set_layout_engine(None)                                  # fixed margins: no layout passes, twice as fast
        ax = fig.subplots(gridspec_kw=dict(left=0.11, right=1.0, bottom=0.14, top=0.9))
        plots.positional_encoding_heatmap(pe, ax=ax, title=_("位置编码 PE: {max_len} positions × {d_model} dimensions",
                                                             max_len=max_len, d_model=d_model))
        slowest = 2 * math.pi * 10000.0 ** ((d_model - 2) / d_model)
        caption = _("{max_len} positions × {d_model} dimensions, values in [{low:.2f}, {high:.2f}]. "
                    "Wavelengths grow from 2π ≈ 6.3 positions (dimensions 0, 1) to {slowest:,.0f} positions "
                    "(dimensions {second_last}, {last}).", max_len=max_len, d_model=d_model, low=pe.min(),
                    high=pe.max(), slowest=slowest, second_last=d_model - 2, last=d_model - 1)
        return caption, {"shape": tuple(pe.shape), "min": pe.min().item(), "max": pe.max().item(),
                         "slowest_wavelength": slowest}

    return FigureWidget(draw, controls, width=6.0, height=3.5)
