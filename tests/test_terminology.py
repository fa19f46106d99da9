"""One term table, docs/terminology.md, and every Chinese text of the course follows it.

The table's rows are `| English | 中文 | 不用 (avoid) | 备注 |`. For each row, no Chinese text of the course
(zh/ notebooks' markdown and code, the Chinese terms in brackets of the English notebooks, README.zh.md, docs/teaching.zh.md, the package's Chinese tables) uses a
word of its "avoid" column; and the core terms of the course each appear in the Chinese lesson that
teaches them, so a reader meets the word the table promises.
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "docs" / "terminology.md"
# The lesson that teaches each core term (the table's 中文 column).
TAUGHT_IN = {
    "自注意力": "01", "查询": "01", "掩码": "01", "位置编码": "02", "多头注意力": "03", "残差连接": "04",
    "层归一化": "04", "位置感知前馈网络": "05", "编码器": "06", "解码器": "06", "交叉注意力": "06",
    "强制教学": "06", "贪心搜索": "07", "束搜索": "07", "标签平滑": "07", "词元": "01", "KV 缓存": "09",
}


def rows() -> list[tuple[str, str, list[str]]]:
    found = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and line.startswith("|") and not set(cells[0]) <= set("-: ") and cells[0] != "English":
            avoid = [w.strip() for w in re.split(r"[,，/、]", cells[2]) if w.strip()]
            found.append((cells[0], cells[1], avoid))
    return found


def chinese_texts() -> dict[str, str]:
    """Every text of the course in Chinese, and the Chinese terms the English lessons give in brackets."""
    texts = {}
    for path in sorted((ROOT / "zh").rglob("*.ipynb")) + sorted((ROOT / "notebooks").glob("*.ipynb")) \
            + sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        texts[str(path.relative_to(ROOT))] = "\n".join(c.source for c in nb.cells)
    for path in (ROOT / "README.zh.md", ROOT / "docs" / "teaching.zh.md"):
        if path.exists():
            texts[str(path.relative_to(ROOT))] = path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "transformer_lesson" / "locale" / "zh").glob("*.py")):
        if path.stem != "__init__":
            module = importlib.import_module(f"transformer_lesson.locale.zh.{path.stem}")
            texts[str(path.relative_to(ROOT))] = "\n".join(module.MESSAGES.values())
    return texts


ROWS = rows()
TEXTS = chinese_texts()


def test_the_table_is_a_real_reference():
    assert len(ROWS) >= 60
    english = [r[0] for r in ROWS]
    assert len(english) == len(set(english)), "an English term appears twice"
    assert all(r[1] for r in ROWS), "a row without its Chinese term"
    for term in TAUGHT_IN:
        assert any(term in r[1] for r in ROWS), f"{term} is not in the table"


@pytest.mark.parametrize("english, chinese, avoid", [r for r in ROWS if r[2]], ids=[r[0] for r in ROWS if r[2]])
def test_no_chinese_text_uses_a_word_the_table_avoids(english, chinese, avoid):
    assert len(TEXTS) >= 10, "the Chinese edition is missing"
    found = [f"{name}: {word!r}" for name, text in TEXTS.items() for word in avoid if word in text]
    assert not found, f"{english} is {chinese} in this course, not:\n" + "\n".join(found)


@pytest.mark.parametrize("term, lesson", sorted(TAUGHT_IN.items()))
def test_each_core_term_appears_in_the_chinese_lesson_that_teaches_it(term, lesson):
    [path] = [p for p in (ROOT / "zh" / "notebooks").glob(f"{lesson}_*.ipynb")]
    assert term in TEXTS[str(path.relative_to(ROOT))], f"{term} does not appear in {path.name}"
