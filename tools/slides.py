"""Any lesson as slides for class: reveal.js decks built from the stored notebooks (no re-execution).

    python tools/slides.py --assets .cache/slides-npm/node_modules                  # every lesson, both editions
    python tools/slides.py --assets ... notebooks/03_multi_head_attention.ipynb     # one (or several) lessons
    python tools/slides.py --check _slides/notebooks/03_multi_head_attention.slides.html   # re-check a built deck

`make slides` (and `make slides NB=...`) installs reveal.js and MathJax with npm into .cache/slides-npm once,
then runs this. The decks go to _slides/ (gitignored), one folder per edition mirroring the repository
(`_slides/notebooks/NN_x.slides.html`, `_slides/zh/notebooks/NN_x.slides.html`), next to `_slides/_static/`,
the local copy of reveal.js and MathJax they load; nothing is fetched when a deck is shown, so the folder
can be copied to a classroom machine without a network. `_slides/index.html` links every deck.

The notebooks' own metadata is never edited: the slide structure is decided here, on a copy, from the
lesson's structure, as a teacher would lay it out:

- the title (`# NN · ...`) and every `##` section start a new slide (reveal's horizontal axis);
  a `###` heading starts a sub-slide (the vertical axis, reached with the same arrow keys: the decks use
  reveal's linear navigation);
- a slide or sub-slide that would not fit the 1280x720 canvas continues on a new sub-slide: the height
  of each cell is estimated from its text, code and figure sizes, and a markdown cell too tall on its own
  is cut between paragraphs;
- a "Predict" prompt starts a sub-slide, the cells that answer it appear as a fragment on the next key
  press, and the "Answer" as another (when they fit; otherwise each on its own sub-slide);
- skipped: the setup cell (`setup()`, `%matplotlib inline`) and the install cell, code cells that only
  import or only assert and print nothing, and badge links (they need a network);
- the first line of an nbval marker (`# NBVAL_IGNORE_OUTPUT` and its reason) is left out of the code shown;
- a widget shows its first view, the `image/png` stored next to the widget view, and its caption; a
  widget without an image (the training progress bar) shows its stored text.

`check_deck` verifies a built deck (local files only, one horizontal slide per `#`/`##` heading, every
stored figure as an <img>); the build runs it on every deck and tests/test_slides.py on two.
"""
from __future__ import annotations

import argparse
import base64
import copy
import html
import html.parser
import json
import re
import shutil
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/widget_outputs.py, also when loaded by path
from widget_outputs import WIDGET_VIEW, widget_first_view  # noqa: E402  (shared with tools/build_site.py)

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = ROOT / "tools" / "slides_template"
TEMPLATE_NAME = "classroom"
DEFAULT_OUT = ROOT / "_slides"
DEFAULT_ASSETS = ROOT / ".cache" / "slides-npm" / "node_modules"
LESSON_DIRS = ("notebooks", "zh/notebooks")
STATIC = "_static"

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

# The canvas every deck is laid out on (reveal scales it to the screen), and the font sizes of
# tools/slides_template/classroom/slides.css. The height model below estimates, in canvas pixels, how
# tall each cell renders; a sub-slide is filled up to BUDGET.
WIDTH, HEIGHT = 1280, 720
BUDGET = 640
TEXT_WIDTH = 1180          # the cells' width on the canvas
TEXT_PX = 24               # markdown font size
TEXT_LINE = 1.4 * TEXT_PX
CODE_PX = 18
CODE_LINE = 1.3 * CODE_PX
CODE_PAD = 20              # padding and margins of one code block
CODE_CHARS = int(TEXT_WIDTH / (0.6 * CODE_PX))
IMG_MAX_H = 520            # slides.css: figures are at most this tall
OUT_MAX_LINES = 18         # slides.css: a longer output scrolls inside its box
MD_BLOCK_GAP = 12

# What reveal's files are called inside the npm packages, and where they go in _slides/_static.
REVEAL_FILES = ("dist/reveal.js", "dist/reveal.css", "dist/reset.css", "dist/theme/white.css",
                "dist/theme/fonts/source-sans-pro", "plugin/notes/notes.js", "LICENSE")
MATHJAX_FILES = ("es5/tex-chtml-full.js", "es5/output/chtml/fonts/woff-v2", "LICENSE")

HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
PREDICT = re.compile(r"^\s*\*\*(Predict\b|先猜一猜)")
ANSWER = re.compile(r"^\s*\*\*(Answer\b|答案)")
BADGE = re.compile(r"\[!\[[^\]]*\]\(https?://[^)]*\)\]\(https?://[^)]*\)")
LAUNCH = re.compile(r"\]\(https://(mybinder\.org|colab\.research\.google\.com)/")
HANZI_WIDE = re.compile(r"[\u1100-\u115f\u2e80-\u9fff\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]")
EXTERNAL = re.compile(r"^(https?:)?//", re.I)


class SlidesError(Exception):
    """A deck cannot be built or fails its check; the message says what to do."""


# ---- reading a notebook's structure ---------------------------------------------------------------------

def _outside_fences(lines: list[str]):
    """(index, line) of the markdown lines that are not inside a ``` fence."""
    fence = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fence = not fence
            continue
        if not fence:
            yield i, line


def headings(source: str) -> list[tuple[int, str]]:
    """(level, text) of the markdown headings of one cell, in order (none inside code fences)."""
    out = []
    for _, line in _outside_fences(source.splitlines()):
        m = HEADING.match(line)
        if m:
            out.append((len(m.group(1)), m.group(2).strip()))
    return out


def expected_slides(nb) -> int:
    """The rule the decks follow: one horizontal slide per `#` or `##` heading of the lesson."""
    return sum(1 for c in nb.cells if c.cell_type == "markdown"
               for level, _ in headings(c.source) if level <= 2)


def stored_figures(nb) -> list[str]:
    """The base64 payload of every image/png a code cell's stored outputs carry."""
    out = []
    for c in nb.cells:
        if c.cell_type == "code":
            for o in c.get("outputs", []):
                png = o.get("data", {}).get("image/png")
                if png:
                    out.append("".join(png.split()))
    return out


def _png_size(b64: str) -> tuple[int, int]:
    head = base64.b64decode("".join(b64.split())[:64])
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return 800, 500
    w, h = struct.unpack(">II", head[16:24])
    return w, h


# ---- the height model -----------------------------------------------------------------------------------

def _text_width(text: str) -> float:
    """Width of a line in units of one Latin character: a Chinese character is two."""
    return len(text) + len(HANZI_WIDE.findall(text))


def _wrapped(text: str, chars: int) -> int:
    return max(1, -(-int(_text_width(text)) // chars))


def _blocks(source: str) -> list[list[str]]:
    """Markdown split at blank lines, except inside a code fence or a <details> element (one block each)."""
    blocks, cur, fence, details = [], [], False, False
    for line in source.splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
        if not fence and line.lstrip().startswith("<details"):
            details = True
        if not fence and "</details>" in line:
            details = False
            cur.append(line)
            continue
        if not fence and not details and not line.strip():
            if cur:
                blocks.append(cur)
            cur = []
            continue
        cur.append(line)
    if cur:
        blocks.append(cur)
    return blocks


def _table_height(block: list[str]) -> float:
    """A table's rows, each as tall as its most wrapped cell; columns share the width by content length."""
    rows = [[c.strip() for c in l.strip().strip("|").split("|")] for l in block if not set(l.strip()) <= set("|-: ")]
    if not rows:
        return 0.0
    ncol = max(len(r) for r in rows)
    longest = [max((_text_width(r[i]) for r in rows if i < len(r)), default=1) + 2 for i in range(ncol)]
    chars_total = TEXT_WIDTH / (0.5 * 22) - 2 * ncol
    cols = [max(6.0, chars_total * l / sum(longest)) if sum(longest) > chars_total else l for l in longest]
    line = 1.4 * 22
    return sum(max(_wrapped(c, int(cols[i])) for i, c in enumerate(r)) * line + 12 for r in rows)


LIST_ITEM = re.compile(r"^\s*([-*+]|\d+[.)])\s+")


def markdown_height(source: str, code_cap: int | None = None) -> float:
    """Canvas pixels a markdown cell takes: paragraphs re-flowed (the source breaks its lines anywhere)."""
    chars = int(TEXT_WIDTH / (0.5 * TEXT_PX))
    h = 0.0
    for block in _blocks(source):
        first = block[0].strip()
        if first.startswith("<details"):           # shown closed: its summary line
            h += TEXT_LINE
        elif first.startswith("```") or all(l.startswith("    ") for l in block):
            n = len([l for l in block if not l.lstrip().startswith("```")])
            h += min(n, code_cap or n) * CODE_LINE + CODE_PAD
        elif first.startswith("|"):
            h += _table_height(block)
        elif first.startswith("$$"):
            h += 2.5 * TEXT_LINE
        else:
            items: list[str] = []
            quote = first.startswith(">")
            for line in block:
                m = HEADING.match(line.strip())
                if quote and line.strip() == ">":      # a paragraph break inside a quote
                    h += MD_BLOCK_GAP
                    items.append("")
                    continue
                if m:
                    size = {1: 2.0, 2: 1.6, 3: 1.3}.get(len(m.group(1)), 1.1) * TEXT_PX
                    h += _wrapped(m.group(2), int(TEXT_WIDTH / (0.55 * size))) * size * 1.25 + 0.5 * size
                elif LIST_ITEM.match(line) or not items:
                    items.append(line.strip().lstrip(">").strip())
                else:
                    items[-1] += " " + line.strip().lstrip(">").strip()
            for item in items:
                width = chars - (3 if LIST_ITEM.match(item) else 0) - (3 if quote else 0)
                h += TEXT_LINE * _wrapped(item, width) if item else 0
            h += 16 if quote else 0
        h += MD_BLOCK_GAP
    return h


def _text_block(text: str) -> float:
    lines = text.rstrip("\n").splitlines() or [""]
    n = sum(_wrapped(l, CODE_CHARS) for l in lines)
    return min(n, OUT_MAX_LINES) * CODE_LINE + CODE_PAD


def output_height(o) -> float:
    if o.output_type == "stream":
        return _text_block(o.text)
    data = o.get("data", {})
    if "image/png" in data:
        size = o.get("metadata", {}).get("image/png", {})
        if "height" in size:
            return size["height"] + 12
        w, h = _png_size(data["image/png"])
        scale = min(1.0, TEXT_WIDTH / w, IMG_MAX_H / h)
        return h * scale + 12
    if "text/markdown" in data:
        return markdown_height(data["text/markdown"], code_cap=OUT_MAX_LINES)
    if "text/plain" in data:
        return _text_block(data["text/plain"])
    return 0.0


def cell_height(cell) -> float:
    if cell.cell_type == "markdown":
        return markdown_height(cell.source)
    shown = cell.source.strip() and not cell.metadata.get("transient", {}).get("remove_source")
    h = _text_block(cell.source) if shown else 0.0
    return h + sum(output_height(o) for o in cell.get("outputs", []))


# ---- preparing the copy ---------------------------------------------------------------------------------

def _strip_nbval_marker(source: str) -> str:
    """Drop `# NBVAL_IGNORE_OUTPUT` and the comment under it that gives the reason (it is for nbval)."""
    lines = source.splitlines()
    if not lines or lines[0].strip() != "# NBVAL_IGNORE_OUTPUT":
        return source
    lines = lines[1:]
    if lines and re.match(r"#\s*[（(]", lines[0]):
        while lines:
            line = lines.pop(0)
            if re.search(r"[)）]\s*$", line):
                break
    return "\n".join(lines)


def _is_setup(source: str) -> bool:
    code = [l for l in source.splitlines() if l.strip() and not l.strip().startswith("#")]
    if any(re.search(r"\bsetup\s*\(", l) for l in code) and all(
            re.match(r"\s*(%matplotlib|from |import |setup\s*\()", l) for l in code):
        return True
    return "def install_course" in source or ("pip install" in source and "transformer" in source)


def _only(source: str, pattern: str) -> bool:
    stmts = [l for l in source.splitlines() if l.strip() and not l.strip().startswith("#")]
    return bool(stmts) and all(re.match(pattern, l) or l.startswith((" ", "\t", ")")) for l in stmts)


def skip_reason(cell) -> str | None:
    """Why a code cell is left out of the slides, or None when it is shown."""
    if cell.cell_type != "code":
        return None
    src = cell.source
    if not src.strip() and not cell.get("outputs"):
        return "empty"
    if _is_setup(src):
        return "setup"
    if not cell.get("outputs"):
        if _only(src, r"\s*(from \S+ import|import )"):
            return "imports only"
        if _only(src, r"\s*(assert\b|torch\.testing\.assert_close|check_\w+\(|\w+\.check_\w+\()"):
            return "a check that prints nothing"
    return None


def _split_table(block: list[str]) -> list[list[str]]:
    """A table too tall for one slide, as several tables under the same header row."""
    if len(block) < 3 or not set(block[1].strip()) <= set("|-: "):
        return [block]
    header, rows, out, cur = block[:2], block[2:], [], []
    for row in rows:
        if cur and _table_height(header + cur + [row]) > BUDGET - 60:
            out.append(header + cur)
            cur = []
        cur.append(row)
    return out + [header + cur] if cur else out


def _split_list(block: list[str]) -> list[list[str]]:
    """A list too tall for one slide, cut between its items."""
    items: list[list[str]] = []
    for line in block:
        if LIST_ITEM.match(line) and not line.startswith(" ") or not items:
            items.append([line])
        else:
            items[-1].append(line)
    out, cur = [], []
    for item in items:
        if cur and markdown_height("\n".join(cur + item)) > BUDGET - 60:
            out.append(cur)
            cur = []
        cur += item
    return out + [cur] if cur else out


def _introduced(block: str) -> bool:
    """A display formula, a code block or a table: it reads on from the paragraph before it."""
    first = block.lstrip("\n").split("\n", 1)[0]
    return first.strip().startswith(("$$", "```", "|")) or first.startswith("    ")


def _split_markdown(source: str) -> list[str]:
    """A markdown cell cut before every heading, and between blocks where it would not fit one slide."""
    blocks = []
    for b in _blocks(source):
        tall = markdown_height("\n".join(b)) > BUDGET - 40
        if tall and b[0].strip().startswith("|"):
            blocks.extend(_split_table(b))
        elif tall and LIST_ITEM.match(b[0]):
            blocks.extend(_split_list(b))
        else:
            blocks.append(b)
    chunks, cur, cur_h = [], [], 0.0
    for b in blocks:
        text = "\n".join(b).strip("\n")
        h = markdown_height(text)
        starts_heading = bool(HEADING.match(b[0].strip()))
        # cut before a heading, or when the slide is full (never right after a heading: it keeps its first block)
        heading_only = len(cur) == 1 and HEADING.match(cur[0].strip()) and "\n" not in cur[0].strip()
        if cur and (starts_heading or (cur_h + h > BUDGET - 40 and not heading_only)):
            # a formula, listing or table moves with the sentence that introduces it ("... is:")
            carry = []
            if (not starts_heading and len(cur) > 1 and _introduced(text) and not HEADING.match(cur[-1].strip())
                    and markdown_height(cur[-1]) + h <= BUDGET - 40):
                carry = [cur.pop()]
            chunks.append("\n\n".join(cur))
            cur, cur_h = carry, sum(map(markdown_height, carry))
        cur.append(text)
        cur_h += h
    if cur:
        chunks.append("\n\n".join(cur))
    return chunks or [source]


def _projected_size(o) -> None:
    """A figure as large as the canvas allows (up to its own pixels): the notebook's display size (half the
    pixels of a retina figure) is made for a laptop screen, too small to read from the back of a room."""
    w, h = _png_size(o.data["image/png"])
    scale = min(1.0, TEXT_WIDTH / w, IMG_MAX_H / h)
    o.setdefault("metadata", {})["image/png"] = {"width": int(w * scale), "height": int(h * scale)}


def _prepare_outputs(cell) -> None:
    outputs = []
    for o in cell.get("outputs", []):
        view = widget_first_view(o)
        if view is not None:                       # a widget: its stored first view, its caption under it
            image, caption = view
            image = nbformat.from_dict(image)
            _projected_size(image)
            outputs.append(image)
            if caption:
                outputs.append(nbformat.v4.new_output("stream", name="stdout", text=caption + "\n"))
            continue
        if "image/png" in o.get("data", {}):
            _projected_size(o)
        data = o.get("data")
        if data is not None and WIDGET_VIEW in data:   # a widget with no picture (a progress bar): its text
            o = nbformat.from_dict({**o, "data": {k: v for k, v in data.items() if k != WIDGET_VIEW}})
        outputs.append(o)
    cell.outputs = outputs


IMG_MIN_H = 300            # a figure is shrunk to fit next to its code down to this height, then moves


def _fit_code_cell(cell) -> list:
    """A code cell taller than a slide: its figures shrunk to fit beside its code, or else its outputs on
    the next sub-slide (a copy of the cell that shows only the outputs)."""
    if cell_height(cell) <= BUDGET:
        return [cell]
    pngs = [o for o in cell.outputs if "image/png" in o.get("data", {})]
    rest = cell_height(cell) - sum(output_height(o) for o in pngs)
    if pngs:
        room = (BUDGET - rest) / len(pngs) - 12
        if room >= IMG_MIN_H:
            for o in pngs:
                w, h = _png_size(o.data["image/png"])
                scale = min(1.0, TEXT_WIDTH / w, room / h)
                o.setdefault("metadata", {})["image/png"] = {"width": int(w * scale), "height": int(h * scale)}
            return [cell]
    groups, cur = [], []          # the outputs, as few output-only cells as fit a sub-slide each
    for o in cell.outputs:
        if cur and sum(map(output_height, cur + [o])) > BUDGET:
            groups.append(cur)
            cur = []
        cur.append(o)
    groups += [cur] if cur else []
    pieces = []
    for group in groups:
        piece = copy.deepcopy(cell)
        piece.metadata["transient"] = {"remove_source": True}
        piece.source, piece.outputs = "", group
        pieces.append(piece)
    cell.outputs = []
    return [cell] + pieces


def _drop_badges(source: str) -> str:
    """Without badge images (fetched from the network) and the Binder/Colab launch line (no use on a slide)."""
    lines = [BADGE.sub("", line).rstrip() for line in source.splitlines() if not LAUNCH.search(line)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def prepare(nb):
    """A copy of the notebook, cut into slide-sized cells with slide metadata; the original is untouched."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            source = _drop_badges(cell.source) if BADGE.search(cell.source) or LAUNCH.search(cell.source) else cell.source
            for chunk in _split_markdown(source):
                new = nbformat.v4.new_markdown_cell(chunk)
                new.metadata = copy.deepcopy(cell.metadata)
                cells.append(new)
        elif cell.cell_type == "code":
            cell.source = _strip_nbval_marker(cell.source)
            _prepare_outputs(cell)
            cells.extend(_fit_code_cell(cell) if not skip_reason(cell) else [cell])
        else:
            cells.append(cell)
    for i, c in enumerate(cells):      # fresh ids: a cut cell's pieces must not share one
        if nb.nbformat_minor >= 5:
            c["id"] = f"slide-cell-{i}"
        else:
            c.pop("id", None)
    nb.cells = cells
    assign(nb)
    return nb


@dataclass
class _Layout:
    height: float = 0.0
    state: str = "normal"          # normal | predict (prompt shown, answer pending) | answered
    types: list = field(default_factory=list)


def assign(nb) -> None:
    """Set `metadata.slideshow.slide_type` of every cell of a prepared copy (see the module docstring)."""
    lay = _Layout()
    first = True
    for cell in nb.cells:
        kind = "text"
        if cell.cell_type == "markdown":
            hs = headings(cell.source.split("\n", 1)[0]) if cell.source.strip() else []
            level = hs[0][0] if hs else None
            if level is not None and level <= 2:
                kind = "slide"
            elif level == 3:
                kind = "subslide"
            elif PREDICT.match(cell.source) or re.search(r"^\*\*(Predict\b|先猜一猜)", cell.source, re.M):
                kind = "predict"
            elif ANSWER.match(cell.source):
                kind = "answer"
        elif skip_reason(cell):
            kind = "skip"
        h = cell_height(cell)
        if kind == "skip":
            slide_type = "skip"
        elif first or kind == "slide":
            slide_type = "slide"
            lay = _Layout(height=h)
            first = False
            if cell.cell_type == "markdown" and re.search(r"^\*\*(Predict\b|先猜一猜)", cell.source, re.M):
                lay.state = "predict"
        elif kind == "subslide":
            slide_type, lay = "subslide", _Layout(height=h)
        elif kind == "predict":
            # a prompt opens its own sub-slide unless the current one holds only a heading
            slide_type = "subslide" if lay.height > 120 else "-"
            lay = _Layout(height=(lay.height if slide_type == "-" else 0) + h, state="predict")
        else:
            fits = lay.height + h <= BUDGET
            if lay.state == "predict" and kind != "answer":
                slide_type = ("fragment" if "predict_open" not in lay.types else "-") if fits else "subslide"
                lay.types.append("predict_open")
            elif lay.state in ("predict", "answered") and kind == "answer":
                slide_type = "fragment" if fits else "subslide"
                lay.state = "answered"
            else:
                slide_type = "-" if fits else "subslide"
            if slide_type == "subslide":
                lay = _Layout(height=h, state=lay.state, types=list(lay.types))
            else:
                lay.height += h
        cell.metadata.setdefault("slideshow", {})["slide_type"] = slide_type


# ---- building ------------------------------------------------------------------------------------------

def copy_assets(assets: Path, out: Path) -> Path:
    """reveal.js and MathJax from the npm packages into out/_static (once per build)."""
    static = out / STATIC
    for package, files in (("reveal.js", REVEAL_FILES), ("mathjax", MATHJAX_FILES)):
        src_root = assets / package
        for rel in files:
            src = src_root / rel
            if not src.exists():
                raise SlidesError(
                    f"{src} is missing: expected the npm package {package} (see tools/slides_template/package.json) "
                    f"under {assets}. Run `make slides`, which installs it with npm, or pass --assets DIR "
                    "pointing at a node_modules folder that holds reveal.js 5 and mathjax 3.")
            dst = static / package / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True)
            else:
                shutil.copy2(src, dst)
    return static


def _relative(path: Path, start: Path) -> str:
    import os
    return Path(os.path.relpath(path, start)).as_posix()


def _repo_relative(nb_path: Path) -> Path:
    """The notebook's path inside the repository (a notebook elsewhere: its name, as an English lesson)."""
    try:
        return nb_path.resolve().relative_to(ROOT)
    except ValueError:
        return Path(nb_path.name)


def deck_path(nb_path: Path, out: Path) -> Path:
    rel = _repo_relative(nb_path)
    return out / rel.parent / (rel.stem + ".slides.html")


def export(nb_path: Path, out: Path) -> Path:
    """Build one deck; returns its path. The assets must already be in out/_static."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    try:
        nb = nbformat.read(nb_path, as_version=4)
    except FileNotFoundError:
        raise SlidesError(f"{nb_path}: no such notebook. Expected a lesson such as notebooks/03_multi_head_attention.ipynb "
                          "or zh/notebooks/03_multi_head_attention.ipynb.") from None
    except Exception as e:
        raise SlidesError(f"{nb_path} is not a readable notebook ({e}); expected a .ipynb file.") from None
    if expected_slides(nb) == 0:
        raise SlidesError(f"{nb_path} has no '#' or '##' heading: a lesson starts with '# NN · Title'; nothing to make slides of.")
    deck = deck_path(nb_path, out)
    deck.parent.mkdir(parents=True, exist_ok=True)
    static = out / STATIC
    lang = "zh" if _repo_relative(nb_path).parts[0] == "zh" else "en"
    c = Config()
    c.SlidesExporter.reveal_url_prefix = _relative(static / "reveal.js", deck.parent)
    c.SlidesExporter.reveal_theme = "white"
    c.SlidesExporter.reveal_transition = "none"
    c.SlidesExporter.reveal_number = "c/t"
    c.SlidesExporter.reveal_width = str(WIDTH)
    c.SlidesExporter.reveal_height = str(HEIGHT)
    c.SlidesExporter.reveal_scroll = False
    c.SlidesExporter.mathjax_url = _relative(static / "mathjax" / "es5" / "tex-chtml-full.js", deck.parent)
    c.SlidesExporter.language_code = lang          # ISO 639-1, as nbconvert requires
    c.SlidesExporter.exclude_input_prompt = True
    c.SlidesExporter.exclude_output_prompt = True
    c.SlidesExporter.extra_template_basedirs = [str(TEMPLATE_DIR)]
    c.SlidesExporter.template_name = TEMPLATE_NAME
    exporter = SlidesExporter(config=c)
    body, _ = exporter.from_notebook_node(prepare(nb), resources={
        "metadata": {"name": nb_path.stem}})
    deck.write_text(body, encoding="utf-8")
    return deck


# ---- checking a deck -----------------------------------------------------------------------------------

class _DeckParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str]] = []     # (tag.attr, url)
        self.imgs: list[str] = []
        self.depth = 0                            # <section> nesting inside div.slides
        self.in_slides = False
        self.div_depth = 0
        self.slides_div_depth = None
        self.horizontal = 0
        self.vertical = 0
        self.fragments = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.refs.append(("script.src", a["src"]))
        if tag == "link" and a.get("href"):
            self.refs.append(("link.href", a["href"]))
        if tag == "img" and a.get("src") is not None:
            self.imgs.append(a["src"])
            if not a["src"].startswith("data:"):
                self.refs.append(("img.src", a["src"]))
        if tag == "div":
            self.div_depth += 1
            classes = (a.get("class") or "").split()
            if "slides" in classes and self.slides_div_depth is None:
                self.slides_div_depth = self.div_depth
            if "fragment" in classes:
                self.fragments += 1
        if tag == "section" and self.slides_div_depth is not None:
            self.depth += 1
            if self.depth == 1:
                self.horizontal += 1
            elif self.depth == 2:
                self.vertical += 1

    def handle_endtag(self, tag):
        if tag == "section" and self.slides_div_depth is not None:
            self.depth -= 1
        if tag == "div":
            if self.div_depth == self.slides_div_depth:
                self.slides_div_depth = -1   # closed: count no further sections
            self.div_depth -= 1


@dataclass
class DeckReport:
    horizontal: int
    vertical: int
    fragments: int
    problems: list[str]


def check_deck(deck: Path, nb) -> DeckReport:
    """What is wrong with a built deck: external or missing files, slide count, missing figures."""
    text = deck.read_text(encoding="utf-8")
    p = _DeckParser()
    p.feed(text)
    problems = []
    for where, url in p.refs:
        if EXTERNAL.match(url) or re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I):
            problems.append(f"{where} loads {url} from the network (a classroom may be offline): expected a local file")
            continue
        target = (deck.parent / url.split("?")[0].split("#")[0]).resolve()
        if not target.exists():
            problems.append(f"{where} {url} does not exist next to the deck ({target})")
    for m in re.finditer(r"@import\s+url\(\s*['\"]?(https?:)?//[^)]*\)|url\(\s*['\"]?https?://[^)]*\)", text):
        problems.append(f"CSS fetches {m.group(0)} from the network: expected a local file")
    # the JavaScript that loads other scripts (require, MathJax) must not point at a CDN either
    for m in re.finditer(r"https?://(cdn|unpkg|cdnjs|fonts\.googleapis|ajax\.googleapis)[\w./-]*", text):
        problems.append(f"the deck refers to {m.group(0)}: expected only local files")
    want = expected_slides(nb)
    if p.horizontal != want:
        problems.append(f"{p.horizontal} horizontal slides, expected {want} (one per '#'/'##' heading of the lesson)")
    imgs = {"".join(src.split(",", 1)[1].split()) for src in p.imgs if src.startswith("data:image/png;base64,")}
    for i, fig in enumerate(stored_figures(nb)):
        if fig not in imgs:
            problems.append(f"stored figure {i + 1} (image/png) is not shown as an <img> in the deck")
    return DeckReport(p.horizontal, p.vertical, p.fragments, problems)


def check_static(out: Path) -> list[str]:
    """The copied CSS must not fetch fonts or stylesheets from the network either."""
    problems = []
    for css in (out / STATIC).rglob("*.css"):
        for m in re.finditer(r"(@import\s+url\(|url\()\s*['\"]?(https?:)?//[^)]*\)", css.read_text(errors="replace")):
            problems.append(f"{css.relative_to(out)} fetches {m.group(0)} from the network")
    return problems


# ---- the index page ------------------------------------------------------------------------------------

def write_index(out: Path) -> Path:
    decks = sorted(out.glob("notebooks/*.slides.html")) + sorted(out.glob("zh/notebooks/*.slides.html"))
    rows = {"en": [], "zh": []}
    for d in decks:
        title = re.search(r"<title>(.*?) slides</title>", d.read_text(encoding="utf-8"))
        lang = "zh" if d.relative_to(out).parts[0] == "zh" else "en"
        name = html.unescape(title.group(1)) if title else d.stem
        rows[lang].append(f'<li><a href="{_relative(d, out)}">{html.escape(name)}</a></li>')
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Transformer Principles: slides (幻灯片)</title>
<style>body {{ font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC",
"Hiragino Sans GB", "Microsoft YaHei", sans-serif; max-width: 46em; margin: 2em auto; line-height: 1.5; }}</style>
</head><body>
<h1>Transformer Principles: slides</h1>
<p>Arrow keys (or space) move through a deck, <kbd>s</kbd> opens the speaker view, <kbd>f</kbd> full screen,
<kbd>Esc</kbd> the overview. Add <code>?print-pdf</code> to a deck's address and print to save a PDF.</p>
<ul>{''.join(rows['en']) or '<li>(no English deck built)</li>'}</ul>
<h1 lang="zh-Hans">Transformer 原理：幻灯片</h1>
<p lang="zh-Hans">用方向键（或空格键）翻页，按 <kbd>s</kbd> 打开演讲者视图，<kbd>f</kbd> 全屏，<kbd>Esc</kbd> 总览。
在幻灯片地址后加上 <code>?print-pdf</code> 再打印，可以存成 PDF。</p>
<ul lang="zh-Hans">{''.join(rows['zh']) or '<li>(还没有生成中文幻灯片)</li>'}</ul>
</body></html>
"""
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def lessons() -> list[Path]:
    return [p for d in LESSON_DIRS for p in sorted((ROOT / d).glob("[0-9][0-9]_*.ipynb"))]


def build(paths: list[Path], out: Path, assets: Path) -> list[tuple[Path, DeckReport]]:
    copy_assets(assets, out)
    problems = check_static(out)
    if problems:
        raise SlidesError("; ".join(problems))
    results = []
    for nb_path in paths:
        deck = export(nb_path, out)
        report = check_deck(deck, nbformat.read(nb_path, as_version=4))
        results.append((deck, report))
    write_index(out)
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", help="lessons to convert (default: every lesson of both editions)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: _slides)")
    ap.add_argument("--assets", type=Path, default=DEFAULT_ASSETS,
                    help="node_modules folder holding reveal.js and mathjax (default: .cache/slides-npm/node_modules)")
    ap.add_argument("--check", nargs="*", metavar="DECK", help="only check built decks (paths under --out)")
    args = ap.parse_args(argv)
    try:
        if args.check is not None:
            bad = 0
            for d in map(Path, args.check):
                nb_path = ROOT / d.resolve().relative_to(args.out.resolve()).with_suffix("").with_suffix(".ipynb")
                r = check_deck(d, nbformat.read(nb_path, as_version=4))
                print(f"{d}: {r.horizontal} slides, {r.vertical} sub-slides, {r.fragments} fragments"
                      + "".join(f"\n  PROBLEM: {x}" for x in r.problems))
                bad += bool(r.problems)
            return 1 if bad else 0
        paths = [Path(p) for p in args.notebooks] or lessons()
        results = build(paths, args.out, args.assets)
    except SlidesError as e:
        print(f"make slides: {e}", file=sys.stderr)
        return 2
    bad = 0
    for deck, r in results:
        print(f"{_relative(deck, ROOT)}: {r.horizontal} slides, {r.vertical} sub-slides, {r.fragments} fragments"
              + "".join(f"\n  PROBLEM: {x}" for x in r.problems))
        bad += bool(r.problems)
    print(f"{len(results)} deck(s) in {_relative(args.out, ROOT) if args.out.resolve().is_relative_to(ROOT) else args.out}; "
          f"open {_relative(args.out / 'index.html', ROOT) if args.out.resolve().is_relative_to(ROOT) else args.out / 'index.html'} in a browser")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
