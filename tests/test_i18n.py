"""The package speaks English or Chinese from one source: every marked text has its Chinese, none is stale.

A module marks a learner-visible text by writing it in English inside `_("...")` (translated where it is
said) or `N_("...")` (a constant, translated where it is used), with `_ = translator("<domain>")`; its
Chinese lives in `transformer_lesson/locale/zh/<domain>.py` (or `common.py`). These tests read every
module's source (AST), so a text added in English without its Chinese, a Chinese entry whose English
changed or vanished, a placeholder lost in translation, or a Chinese entry left in English all fail.
"""
from __future__ import annotations

import ast
import importlib
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from transformer_lesson import i18n
from transformer_lesson.i18n import N_, set_language, translate, translator

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "transformer_lesson"
LOCALE = PACKAGE / "locale"
HANZI = re.compile(r"[\u4e00-\u9fff]")
CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")  # characters and full-width punctuation
FIELD = re.compile(r"(?<!\{)\{([^{}]*)\}(?!\})")
# Words of an English sentence (not of code): a Chinese text holding one of them outside `code` has an
# untranslated sentence in it. Terms in brackets after a Chinese word ("(position-wise feed-forward
# network)") hold none of them.
ENGLISH = re.compile(r"\b(the|your|you|expected|got|should|must|does|this|which|there|because|instead|"
                     r"where|when|than|from|into|its)\b", re.IGNORECASE)
CODE = re.compile(r"`[^`]*`")


def english_words(text: str) -> list[str]:
    """English sentence words in `text`, outside `code` spans and {fields}."""
    return ENGLISH.findall(FIELD.sub(" ", CODE.sub(" ", text)))


def _domain(tree: ast.Module) -> str | None:
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "_" and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", None) == "translator"):
            return node.value.args[0].value
    return None


def marked_texts() -> dict[Path, tuple[str | None, list[tuple[str, int]]]]:
    """For each module: its domain and the English texts it marks with `_("...")` or `N_("...")`."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if LOCALE in path.parents or path.name == "i18n.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        texts = [(node.args[0].value, node.lineno) for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_")
                 and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)]
        if texts:
            found[path] = (_domain(tree), texts)
    return found


def tables() -> dict[str, dict[str, str]]:
    return {path.stem: importlib.import_module(f"transformer_lesson.locale.zh.{path.stem}").MESSAGES
            for path in sorted((LOCALE / "zh").glob("*.py")) if path.stem != "__init__"}


MARKED = marked_texts()
TABLES = tables()


def fields(text: str) -> Counter:
    return Counter(FIELD.findall(text))


def test_the_package_marks_texts_in_many_modules_and_each_module_names_its_domain():
    assert len(MARKED) >= 3
    for path, (domain, texts) in MARKED.items():
        assert domain is not None, f"{path.relative_to(ROOT)} marks texts but has no `_ = translator(\"...\")`"


def test_every_marked_text_has_its_chinese_in_its_domain_or_in_common():
    missing = []
    for path, (domain, texts) in MARKED.items():
        table, common = TABLES.get(domain, {}), TABLES.get("common", {})
        for text, line in texts:
            if text not in table and text not in common:
                missing.append(f"{path.relative_to(ROOT)}:{line} [{domain}] {text[:90]!r}")
    assert not missing, f"{len(missing)} texts have no Chinese:\n" + "\n".join(missing)


def test_no_chinese_entry_is_stale():
    used = defaultdict(set)
    for domain, texts in MARKED.values():
        used[domain].update(text for text, _line in texts)
    everywhere = set().union(*used.values())
    stale = [f"[{domain}] {key[:90]!r}" for domain, table in TABLES.items() for key in table
             if key not in (everywhere if domain == "common" else used[domain])]
    assert not stale, f"{len(stale)} Chinese entries translate an English text no module marks:\n" + "\n".join(stale)


@pytest.mark.parametrize("domain", sorted(TABLES))
def test_each_chinese_text_keeps_the_placeholders_and_is_chinese(domain):
    problems = []
    for english, chinese in TABLES[domain].items():
        if not isinstance(chinese, str) or not CHINESE.search(chinese):
            problems.append(f"not Chinese: {english[:60]!r} -> {chinese!r}")
            continue
        if fields(english) != fields(chinese):
            problems.append(f"placeholders differ: {dict(fields(english))} vs {dict(fields(chinese))} in {english[:60]!r}")
        if english.count("{{") != chinese.count("{{"):
            problems.append(f"literal braces differ in {english[:60]!r}")
        words = english_words(chinese)
        if words:
            problems.append(f"English words {words} left in {chinese[:80]!r}")
    assert not problems, "\n".join(problems)


def test_every_table_is_a_module_of_the_package_with_messages():
    assert "common" in TABLES
    for domain, table in TABLES.items():
        assert isinstance(table, dict) and table, domain
        assert all(isinstance(k, str) and k.strip() for k in table), domain


def test_the_language_switch_translates_fills_fields_and_falls_back_to_english():
    _ = translator("common")
    try:
        assert _("not implemented yet") == "not implemented yet"          # English by default
        set_language("zh")
        assert _("not implemented yet") == "还没有实现"
        assert _("argument {number}", number=3) == "第 3 个参数"            # fields filled in Chinese
        assert _("no such text {x}", x=1) == "no such text 1"              # unknown: English, filled
        assert translate("not implemented yet", "lesson99") == "还没有实现"   # a domain falls back to common
        assert N_("not implemented yet") == "not implemented yet"         # a marker only
        assert _("wrong {name} on {on} (largest difference {diff:.3g}).\nLikely mistake: {hint}", name="logits",
                 on="形状为 (2, 3) 的 x", diff=0.5, hint="h") == "在形状为 (2, 3) 的 x 上，logits 不对（最大差值 0.5）。\n可能的错误：h"
        set_language("en")                                                 # a space between 汉字 and Latin, in Chinese only
        assert _("argument {number}", number=3) == "argument 3"
    finally:
        set_language("en")


@pytest.mark.parametrize("bad", ["fr", "", None, 1, "chinese"])
def test_an_unknown_language_is_refused_with_the_choices(bad):
    with pytest.raises(ValueError, match=r"expected lang to be one of 'en', 'zh'.*setup\(lang=\"zh\"\)"):
        set_language(bad)
    assert i18n.language() == "en"


def test_setup_switches_the_language_and_back():
    from transformer_lesson.notebook import setup
    try:
        setup(lang="zh")
        assert i18n.language() == "zh"
        setup()
        assert i18n.language() == "en"
    finally:
        set_language("en")


def test_the_english_words_detector_finds_a_sentence_and_spares_code_and_terms():
    assert english_words("你的代码在 {on} 上出错了：the traceback above")
    assert not english_words("位置感知前馈网络（position-wise feed-forward network）：请用 `the_value` 和 {the}")
