"""Notebook set-up: the same numbers and the same figures on every run.

Every lesson starts with

    from transformer_lesson.notebook import setup
    setup()                 # the Chinese edition (中文版): setup(lang="zh")

which

- seeds Python's `random`, NumPy's global generator and torch (`torch.manual_seed`), so a lesson
  gives the same numbers every time it runs on the same machine. Another CPU (other vector units,
  another BLAS code path, another thread count) changes the last bits of results, and training turns
  those bits into visibly different weights: the lessons print exact results at a precision every CPU
  reproduces (`below` prints a rounding-level difference as "< 1e-6"), and the outputs of training
  are printed but not compared by the tests (`make test-portability` checks this under several CPU
  profiles);
- chooses the language of the package's words (`lang`, see `transformer_lesson.i18n`);
- in a notebook, shows matplotlib figures inline (`%matplotlib inline`);
- prints tensors and arrays to 3 decimals without scientific notation;
- sets figure defaults: a modest dpi, figures shown as "retina" PNGs (twice the pixels at the
  figure's size: sharp on HiDPI screens; a 256-colour palette keeps them light), and a Chinese font,
  Noto Sans SC (思源黑体, SIL OFL 1.1), installed from PyPI with the package, registered with
  matplotlib and put first in `font.sans-serif`, with DejaVu Sans as the fallback, so tokens
  like 我 是 学生 render on any OS, never as tofu boxes.

It leaves `torch.set_num_threads` alone.
"""
from __future__ import annotations

import inspect
import numbers
import random
import textwrap
from pathlib import Path

import matplotlib
import numpy as np
import torch

from ._validate import check_positive_int

__all__ = ["setup", "below", "show_source", "SourceView", "cjk_font_path", "cjk_font_name"]

_FALLBACK_FONT = "DejaVu Sans"


def cjk_font_path() -> Path:
    """Path of the bundled Simplified Chinese font file (Noto Sans SC Regular, OpenType)."""
    import pylopdf_fonts_zh_cn  # data-only package: Noto Sans SC / Noto Serif SC, SIL OFL 1.1

    path = Path(pylopdf_fonts_zh_cn.sans_path())
    if not path.is_file():
        raise FileNotFoundError(
            f"expected the Noto Sans SC font at {path}, found nothing; "
            "reinstall it with `pip install --force-reinstall pylopdf-fonts-zh-cn`"
        )
    return path


def _register_cjk_font() -> str:
    """Add the font to matplotlib's font manager once; return its family name."""
    from matplotlib import font_manager

    path = str(cjk_font_path())
    for entry in font_manager.fontManager.ttflist:
        if entry.fname == path:
            return entry.name
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


def cjk_font_name() -> str:
    """Family name of the Chinese font as matplotlib knows it ("Noto Sans SC"); registers it."""
    return _register_cjk_font()


def _inline_figures() -> None:
    """In a notebook, show matplotlib figures as inline PNGs (also bare `Figure` objects from `plots`)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        shell.run_line_magic("matplotlib", "inline")
        from matplotlib.figure import Figure

        # Every figure as a "retina" PNG: twice the pixels, shown at the figure's size, so numbers inside a
        # heatmap stay sharp on HiDPI laptops and projectors; a 256-colour palette keeps it light.
        shell.display_formatter.formatters["image/png"].for_type(Figure, _retina_png)


def _retina_png(fig):
    """PNG bytes of `fig` at twice its dpi, with the size to show it at; None for an empty figure."""
    from .drawing import png_size, render_png

    if not fig.axes and not fig.texts and not fig.images:
        return None  # an empty figure shows nothing, as with matplotlib's own formatter
    png = render_png(fig, scale=2, bbox_inches="tight")
    width, height = png_size(png)
    return png, {"width": width // 2, "height": height // 2}


def _power_of_ten(bound: float) -> str:
    mantissa, exponent = f"{bound:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def below(value: float, bound: float) -> str:
    """'< 1e-6': a difference that only float rounding makes, printed as the bound it stays under.

    The exact size of a rounding difference (2.4e-07 here, 4.8e-07 on another CPU) is not a fact about
    the mathematics, so a lesson prints the bound instead, and this function checks it:
    `below(difference, 1e-6)` returns "< 1e-6" and raises AssertionError when the difference is larger.
    """
    for name, number in (("value", value), ("bound", bound)):
        if isinstance(number, bool) or not isinstance(number, numbers.Real):
            raise TypeError(f"expected {name} to be a real number, got {number!r} ({type(number).__name__}); "
                            "pass a float, e.g. `tensor.abs().max().item()`")
    if not bound > 0:
        raise ValueError(f"expected a positive bound, got {bound!r}")
    if not abs(value) < bound:  # also catches NaN
        raise AssertionError(f"expected a difference below {_power_of_ten(bound)} (float rounding), "
                             f"got {value:.3g}: the two computations really differ")
    return f"< {_power_of_ten(bound)}"


def setup(seed: int = 0, dpi: int = 80, lang: str = "en") -> None:
    """Seed everything, set print options and figure defaults (see the module docstring).

    `lang` chooses the language of everything the package says: checker messages, figure titles and
    labels, widget captions ("en", the default, or "zh" for the Chinese edition, 中文版).
    """
    from .i18n import set_language

    set_language(lang)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"expected seed to be a non-negative integer, got {seed!r} ({type(seed).__name__})")
    if seed < 0:
        raise ValueError(f"expected seed to be a non-negative integer, got {seed}")
    seed = int(seed)
    dpi = check_positive_int("dpi", dpi)

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds the CPU and every CUDA device
    # The lessons run on the CPU, whose kernels give the same numbers run after run; we do not call
    # torch.use_deterministic_algorithms, which costs seconds of imports in every notebook.
    _inline_figures()

    torch.set_printoptions(precision=3, sci_mode=False)
    np.set_printoptions(precision=3, suppress=True)

    font = _register_cjk_font()
    matplotlib.rcParams.update(
        {
            "figure.dpi": dpi,
            "savefig.dpi": dpi,
            "figure.figsize": (6.0, 4.0),
            # a list of families: glyphs missing from the CJK font fall back to DejaVu Sans
            "font.family": [font, _FALLBACK_FONT],
            "font.sans-serif": [font, _FALLBACK_FONT],
            "axes.unicode_minus": False,
        }
    )


class SourceView:
    """The source of a function or class, shown as highlighted Python (Markdown) with the code as text.

    Both views are plain text, the same on every machine, so a stored view is compared by the tests and
    goes stale (fails) the moment the package's code changes without the notebook being re-run.
    """

    def __init__(self, source: str, name: str):
        self.source = source
        self.name = name

    def __repr__(self) -> str:
        return self.source

    def _repr_markdown_(self) -> str:
        return f"```python\n{self.source}```"


def show_source(obj) -> SourceView:
    """Show the code of a package function or class in the notebook: the loop behind a proof, read in place.

    `show_source(experiments.train_tiny_encoder)` displays exactly the code the next cell runs, so a
    learner reads what produced a number before trusting the assert on it; there is one copy, in the
    package, which the tests also run over many seeds.
    """
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)):
        raise TypeError(f"expected a function or class from the package, got {obj!r} ({type(obj).__name__}); "
                        "pass the object itself, e.g. show_source(experiments.gradient_flow), not a call of it")
    source = textwrap.dedent(inspect.getsource(obj))
    if not source.endswith("\n"):
        source += "\n"
    return SourceView(source, obj.__qualname__)
