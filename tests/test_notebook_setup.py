"""transformer_lesson.notebook.setup: reproducible numbers and Chinese text that renders."""
import random
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font

from transformer_lesson.notebook import cjk_font_name, cjk_font_path, setup

# Every Chinese word the lessons, figures and corpus use by name, and the lesson titles.
COURSE_WORDS = (
    "我 你 他 她 我们 他们 是 不是 学生 老师 医生 工程师 护士 工人 农民 喜欢 吃 喝 读 学习 "
    "苹果 米饭 茶 书 中文 每天 今天 在 家 学校 图书馆 不 吗 "
    "自注意力 位置编码 多头注意力 残差连接 层归一化 位置感知前馈网络 编码器 解码器 "
    "导览 训练 生成 为什么是注意力 注意力权重 查询 键 值 词元 掩码 束搜索 贪心解码 "
    "原理 练习 答案 检查 正确 错误 损失 准确率 梯度 缩放 头 层 模型 输入 输出 翻译 句子 位置 维度"
)
DATASETS = Path(__file__).resolve().parents[1] / "transformer_lesson" / "capstone" / "datasets"


@pytest.fixture(autouse=True)
def restore_global_state():
    """setup() changes process-wide settings; put them back for the tests that follow."""
    rc = matplotlib.rcParams.copy()
    np_options = np.get_printoptions()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    yield
    matplotlib.rcParams.update(rc)
    np.set_printoptions(**np_options)
    torch.set_printoptions(profile="default")
    torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)


def _draw_with_chinese_text():
    """Draw a figure with Chinese title, axis label and tick labels; return the warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = Figure(figsize=(4, 3))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        tokens = ["我", "是", "学生", "<eos>"]
        ax.imshow(np.eye(len(tokens)))
        ax.set_xticks(range(len(tokens)), tokens)
        ax.set_yticks(range(len(tokens)), tokens)
        ax.set_title("我是学生 自注意力 位置编码")
        ax.set_xlabel("键 (key) -1")
        fig.canvas.draw()
    return [str(w.message) for w in caught]


def test_setup_makes_torch_numpy_and_random_reproducible():
    setup(seed=0)
    first = (torch.randn(4), np.random.rand(3), random.random())
    setup(seed=0)
    second = (torch.randn(4), np.random.rand(3), random.random())
    assert torch.equal(first[0], second[0])
    assert np.array_equal(first[1], second[1])
    assert first[2] == second[2]


def test_different_seeds_give_different_numbers():
    setup(seed=0)
    a = torch.randn(4)
    setup(seed=1)
    b = torch.randn(4)
    assert not torch.equal(a, b)


def test_setup_prints_three_decimals_without_scientific_notation():
    setup()
    assert str(torch.tensor([1 / 3, 1e-6])) == "tensor([0.333, 0.000])"
    assert np.array2string(np.array([1 / 3, 1e-6])) == "[0.333 0.   ]"


def test_setup_sets_modest_dpi_and_puts_the_chinese_font_first():
    setup(dpi=80)
    assert matplotlib.rcParams["figure.dpi"] == 80
    assert matplotlib.rcParams["font.sans-serif"][:2] == [cjk_font_name(), "DejaVu Sans"]
    assert matplotlib.rcParams["axes.unicode_minus"] is False
    found = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
    assert Path(found) == cjk_font_path()


def test_chinese_text_renders_without_missing_glyph_warnings():
    setup()
    messages = _draw_with_chinese_text()
    assert not [m for m in messages if "missing" in m.lower()], messages


def test_without_the_font_chinese_glyphs_are_reported_missing():
    # The check above can fail: with only DejaVu Sans, matplotlib warns about every glyph.
    setup()
    matplotlib.rcParams["font.family"] = ["DejaVu Sans"]
    messages = _draw_with_chinese_text()
    assert any("missing" in m.lower() for m in messages), messages


def test_font_is_noto_sans_sc():
    assert cjk_font_name() == "Noto Sans SC"
    assert cjk_font_path().is_file()


def test_registering_the_font_twice_adds_it_once():
    setup()
    setup()
    path = str(cjk_font_path())
    assert sum(entry.fname == path for entry in font_manager.fontManager.ttflist) == 1


def _missing_characters(text):
    charmap = FT2Font(str(cjk_font_path())).get_charmap()
    return sorted({ch for ch in text if not ch.isspace() and ord(ch) not in charmap})


def test_font_covers_every_course_word():
    assert _missing_characters(COURSE_WORDS) == []


def test_font_covers_every_character_of_the_shipped_corpus():
    files = sorted(DATASETS.glob("*.tsv"))
    assert len(files) == 2, f"expected the train and test corpus in {DATASETS}, found {files}"
    text = "".join(path.read_text(encoding="utf-8") for path in files)
    assert _missing_characters(text) == []


@pytest.mark.parametrize(
    "kwargs, error",
    [({"seed": -1}, ValueError), ({"seed": 1.5}, TypeError), ({"seed": True}, TypeError),
     ({"dpi": 0}, ValueError), ({"dpi": "80"}, TypeError)],
)
def test_setup_rejects_bad_arguments(kwargs, error):
    name = next(iter(kwargs))
    with pytest.raises(error, match=f"expected {name} to be a"):
        setup(**kwargs)


def test_show_source_shows_the_code_as_markdown_and_text():
    from transformer_lesson.notebook import show_source

    view = show_source(setup)
    assert repr(view).startswith("def setup(")
    assert view._repr_markdown_().startswith("```python\ndef setup(") and view._repr_markdown_().endswith("```")


def test_show_source_refuses_a_value_with_a_hint():
    from transformer_lesson.notebook import show_source

    with pytest.raises(TypeError, match="pass the object itself"):
        show_source(setup())


def test_figures_are_stored_at_twice_their_pixels_and_shown_at_their_size():
    from matplotlib.figure import Figure
    from transformer_lesson.drawing import png_size, render_png
    from transformer_lesson.notebook import _retina_png

    fig = Figure(figsize=(3, 2), dpi=80)
    fig.add_subplot().plot([0, 1], [0, 1])
    png, metadata = _retina_png(fig)
    width, height = png_size(png)
    assert (metadata["width"], metadata["height"]) == (width // 2, height // 2)
    assert width > 1.8 * png_size(render_png(fig, bbox_inches="tight"))[0]
    assert _retina_png(Figure()) is None


def test_a_retina_png_is_not_heavier_than_the_plain_one():
    """The 256-colour palette pays for the four times as many pixels (a heatmap with Chinese labels)."""
    import torch
    from transformer_lesson.drawing import attention_heatmap, render_png

    setup()
    tokens = ["I", "am", "a", "student", "我", "学生"]
    fig = attention_heatmap(torch.softmax(torch.randn(6, 6, generator=torch.Generator().manual_seed(0)), -1),
                            tokens, tokens)
    assert len(render_png(fig, scale=2)) < 1.2 * len(render_png(fig))
