"""The pictures each lesson opens with (lessons/lessonNN_*/diagrams.py): each is a Figure that renders without a
missing glyph or font warning, keeps every text inside the figure, lets no two texts overlap, prints nothing
smaller than 9 pt, and shows what its lesson needs (the seed's six steps, the shapes of the heads).

Each figure is rendered once, at the dpi a notebook shows it, and its texts are measured with the renderer.
"""
from __future__ import annotations

import importlib
import itertools
import logging
import re
import warnings
from pathlib import Path

import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from matplotlib.text import Text

from transformer_lesson import Transformer, beam_search
from transformer_lesson.drawing import PALETTE, diagram_figure, label

LESSONS = Path(__file__).resolve().parents[1] / "transformer_lesson" / "lessons"
DIAGRAMS = [
    ("lesson01_self_attention", "qkv_lookup"),
    ("lesson02_positional_encoding", "positions_added"),
    ("lesson03_multi_head_attention", "split_and_merge"),
    ("lesson04_residual_layernorm", "residual_stream"),
    ("lesson05_feed_forward", "position_wise"),
    ("lesson06_encoder_decoder", "architecture"),
    ("lesson06_encoder_decoder", "decoder_attention"),
    ("lesson07_training_and_generation", "beam_tree"),
    ("lesson08_why_attention", "paths"),
    ("lesson09_from_translator_to_chatgpt", "three_families"),
]
NAMES = [name for _, name in DIAGRAMS]


def diagram_function(name):
    lesson = dict((n, lesson) for lesson, n in DIAGRAMS)[name]
    return getattr(importlib.import_module(f"transformer_lesson.lessons.{lesson}.diagrams"), name)


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def render(make):
    """Build a figure with `make()` and draw it with every warning an error; returns (figure, renderer, font
    messages matplotlib logged, e.g. "findfont: Failed to find font weight bold")."""
    records = _Records()
    logger = logging.getLogger("matplotlib")
    logger.addHandler(records)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")                 # "Glyph 25105 missing from font(s) DejaVu Sans" fails
            fig = make()
            canvas = FigureCanvasAgg(fig)
            fig.set_dpi(110)
            canvas.draw()
    finally:
        logger.removeHandler(records)
    return fig, canvas.get_renderer(), records.messages


def texts(fig):
    """Every text the figure shows (tick labels of hidden axes and empty texts left out)."""
    hidden = set()
    for ax in fig.axes:
        if not ax.axison:
            hidden |= set(ax.xaxis.findobj(Text)) | set(ax.yaxis.findobj(Text))
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and t not in hidden]


def outside(fig, renderer):
    box = fig.bbox
    return [t.get_text() for t in texts(fig) if not box.padded(0.5).contains(*t.get_window_extent(renderer).min)
            or not box.padded(0.5).contains(*t.get_window_extent(renderer).max)]


def overlapping(fig, renderer):
    extents = [(t.get_text(), t.get_window_extent(renderer)) for t in texts(fig)]
    return [(a, b) for (a, ea), (b, eb) in itertools.combinations(extents, 2) if ea.overlaps(eb)]


def too_small(fig):
    return [(t.get_text(), t.get_fontsize()) for t in texts(fig) if t.get_fontsize() < 9]


def all_text(fig) -> str:
    return re.sub(r"\s+", " ", " ".join(t.get_text() for t in texts(fig)))


@pytest.fixture(scope="module")
def rendered():
    return {name: render(diagram_function(name)) for name in NAMES}


def test_every_lesson_opens_with_a_diagram_module():
    folders = sorted(p.name for p in LESSONS.glob("lesson0*"))
    assert [f[:8] for f in folders] == [f"lesson0{i}" for i in range(1, 10)]
    assert sorted({lesson for lesson, _ in DIAGRAMS}) == folders


@pytest.mark.parametrize("name", NAMES)
def test_a_diagram_is_a_figure_drawn_without_missing_glyphs_or_font_warnings(rendered, name):
    fig, _, font_messages = rendered[name]
    assert isinstance(fig, Figure)
    assert not font_messages, font_messages


@pytest.mark.parametrize("name", NAMES)
def test_a_diagram_is_8_to_10_inches_wide(rendered, name):
    assert 8.0 <= rendered[name][0].get_figwidth() <= 10.0


@pytest.mark.parametrize("name", NAMES)
def test_every_text_lies_inside_the_figure(rendered, name):
    fig, renderer, _ = rendered[name]
    assert not outside(fig, renderer)


@pytest.mark.parametrize("name", NAMES)
def test_no_two_texts_overlap(rendered, name):
    fig, renderer, _ = rendered[name]
    assert not overlapping(fig, renderer)


@pytest.mark.parametrize("name", NAMES)
def test_no_text_is_smaller_than_9_points(rendered, name):
    assert not too_small(rendered[name][0])


def test_the_architecture_names_the_six_steps_of_the_seed(rendered):
    text = all_text(rendered["architecture"][0])
    for step in ("1", "2", "3", "4", "5", "6"):
        assert any(t.get_text() == step for t in texts(rendered["architecture"][0])), f"no badge {step}"
    for name in ("Input embeddings", "输入嵌入", "Positional encodings", "位置编码", "Encoder", "编码器",
                 "Decoder", "解码器", "Output probabilities", "输出概率", "(the seed: 输出嵌入)", "Generation", "生成",
                 "greedy", "beam search", "I am a student", "我", "是", "学生"):
        assert name in text, name


def test_split_and_merge_shows_the_shape_at_every_step(rendered):
    text = all_text(rendered["split_and_merge"][0])
    for shape in ("(B, T, d_model)", "(B, T, h, d_k)", "(B, h, T, d_k)", "W_q, W_k, W_v", "view", "reshape",
                  "transpose(1, 2)", "W_o"):
        assert shape in text, shape


def test_the_decoder_diagram_masks_the_future_and_lets_cross_attention_see_everything(rendered):
    marks = [t.get_text() for t in texts(rendered["decoder_attention"][0]) if t.get_text() in ("✓", "×")]
    assert marks.count("×") == 6 and marks.count("✓") == 10 + 16   # 4x4 lower triangle, then a full 4x4


def test_the_default_beam_tree_says_its_numbers_are_illustrative(rendered):
    assert "illustrative" in all_text(rendered["beam_tree"][0])


def _highlighted_tokens(fig, renderer):
    """The first line of every box drawn in the highlight colour (the best path), left to right."""
    from matplotlib.colors import to_rgba
    boxes = [p for p in fig.axes[0].patches if isinstance(p, FancyBboxPatch)
             and p.get_edgecolor() == to_rgba(PALETTE["highlight"])]
    found = []
    for t in texts(fig):
        x, y = t.get_position()
        if any(b.get_x() < x < b.get_x() + b.get_width() and b.get_y() < y < b.get_y() + b.get_height()
               for b in boxes):
            found.append((x, t.get_text().split("\n")[0]))
    return [token for _, token in sorted(found)]


def test_a_real_beam_search_is_drawn_with_its_best_hypothesis_highlighted():
    from transformer_lesson.lessons.lesson07_training_and_generation.diagrams import beam_tree
    torch.manual_seed(2)
    model = Transformer(12, 10, d_model=16, num_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=32,
                        dropout=0.0, max_len=32).eval()
    with torch.no_grad():
        model.generator.weight.mul_(3.0)                 # sharp distributions: the search ends within 10 steps
    trace = []
    best = beam_search(model, torch.tensor([4, 5, 6]), beam_size=2, max_len=6, length_penalty_alpha=0.0,
                       trace=trace)[0]
    vocab = ["<pad>", "<bos>", "<eos>", "<unk>"] + [f"w{i}" for i in range(4, 10)]
    fig, renderer, messages = render(lambda: beam_tree(trace, vocab=vocab))
    assert not messages and not outside(fig, renderer) and not overlapping(fig, renderer)
    path = _highlighted_tokens(fig, renderer)
    assert path == [vocab[t] for t in best.tokens] + (["<eos>"] if best.finished else []), path


def test_a_malformed_tree_is_refused_with_a_hint():
    from transformer_lesson.lessons.lesson07_training_and_generation.diagrams import ILLUSTRATIVE_TREE, beam_tree
    bad_parent = [list(step) for step in ILLUSTRATIVE_TREE]
    bad_parent[1] = [dict(bad_parent[1][0], parent=5)] + bad_parent[1][1:]
    with pytest.raises(ValueError, match="expected parent to index the 2 kept"):
        beam_tree(bad_parent)
    with pytest.raises(ValueError, match="at most 8 steps"):
        beam_tree(ILLUSTRATIVE_TREE * 3)
    with pytest.raises(ValueError, match="non-empty list of steps"):
        beam_tree([])


def test_the_path_diagram_refuses_a_sentence_it_cannot_fit():
    from transformer_lesson.lessons.lesson08_why_attention.diagrams import paths
    with pytest.raises(ValueError, match="expected 2 to 8 words"):
        paths(["one"] * 12)


def test_the_checks_above_can_fail():
    """A figure with every fault: overlapping texts, a text off the page, 8-pt text, a missing glyph."""
    def faulty():
        fig, ax = diagram_figure(9.0, 3.0)
        label(ax, 2.0, 1.5, "overlapping text")
        label(ax, 2.1, 1.5, "overlapping text")
        label(ax, 9.2, 1.5, "off the page")
        label(ax, 5.0, 0.5, "tiny", size=8)
        return fig

    fig, renderer, _ = render(faulty)
    assert overlapping(fig, renderer) == [("overlapping text", "overlapping text")]
    assert outside(fig, renderer) == ["off the page"]
    assert too_small(fig) == [("tiny", 8)]

    def missing_glyph():
        fig, ax = diagram_figure(9.0, 3.0)
        ax.text(1.0, 1.0, "学生", fontfamily="DejaVu Sans")      # Chinese without the Chinese font
        return fig

    with pytest.raises(UserWarning, match="missing from font"):
        render(missing_glyph)

    def bold_chinese():
        fig, ax = diagram_figure(9.0, 3.0)
        label(ax, 1.0, 1.0, "学生", weight="bold")          # the bundled Chinese font has no bold
        return fig

    assert any("findfont" in m for m in render(bold_chinese)[2])


# ---- the Chinese edition: the same diagrams with Chinese labels keep every rule --------------------------

@pytest.fixture(scope="module")
def rendered_zh():
    from transformer_lesson.i18n import set_language

    set_language("zh")
    try:
        return {name: render(diagram_function(name)) for name in NAMES}
    finally:
        set_language("en")


@pytest.mark.parametrize("name", NAMES)
def test_a_chinese_diagram_keeps_every_rule(rendered_zh, name):
    fig, renderer, font_messages = rendered_zh[name]
    assert not font_messages, font_messages                       # no missing glyph (tofu), no font warning
    assert re.search(r"[\u4e00-\u9fff]", all_text(fig)), "no Chinese label: is the diagram localised?"
    assert not outside(fig, renderer)
    assert not overlapping(fig, renderer)
    assert not too_small(fig)


def test_every_character_of_the_chinese_tables_is_in_the_bundled_fonts():
    """Figures draw the package's Chinese with Noto Sans SC, falling back to DejaVu Sans: every character of
    every Chinese text must be in one of the two, or a figure shows a tofu box."""
    import importlib as il
    from pathlib import Path

    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    from transformer_lesson.notebook import cjk_font_path

    covered = set(FT2Font(str(cjk_font_path())).get_charmap())
    covered |= set(FT2Font(font_manager.findfont("DejaVu Sans", fallback_to_default=False)).get_charmap())
    tables = Path(__file__).resolve().parents[1] / "transformer_lesson" / "locale" / "zh"
    missing = {}
    for path in sorted(tables.glob("*.py")):
        if path.stem == "__init__":
            continue
        for text in il.import_module(f"transformer_lesson.locale.zh.{path.stem}").MESSAGES.values():
            for char in set(text) - {"\n", "\t"}:
                if ord(char) not in covered:
                    missing.setdefault(char, path.stem)
    assert len(covered) > 20_000
    assert not missing, f"characters no bundled font has: {missing}"
