"""One lesson, one place: the package's import graph points only downward.

- the principle modules (attention, positional, ...) import nothing from lessons, checkers or the capstone;
- lesson NN's code imports only from lessons <= NN, and never the capstone unless it is a capstone lesson
  (07, which trains the translator, and 09, which compares it with a decoder-only model);
- no module imports a private name (`_x`) from another module, except the checkers' common core;
- no support module grows past ~400 lines.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "transformer_lesson"
PRINCIPLES = ["attention", "positional", "multihead", "residual", "feedforward", "model", "decoding", "decoder_only"]
CAPSTONE_LESSONS = {7, 9}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """(absolute module imported, names) for every import in the file, relative ones resolved."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names = [a.name for a in node.names]
            if node.module is None:                               # from . import experiments, plots
                found += [(f"{module}.{n}", []) for n in names]
            else:
                found.append((module, names))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
    return found


ALL = sorted(p for p in PKG.rglob("*.py"))


def test_the_principle_modules_import_nothing_from_lessons_checks_or_the_capstone():
    for name in PRINCIPLES:
        for module, _ in imports_of(PKG / f"{name}.py"):
            assert not re.match(r"transformer_lesson\.(lessons|checks|capstone)", module), (name, module)


@pytest.mark.parametrize("path", sorted(PKG.glob("lessons/lesson*/*.py")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_lesson_imports_only_earlier_lessons_and_the_capstone_only_if_it_is_a_capstone_lesson(path):
    number = int(re.match(r"lesson(\d+)", path.parent.name).group(1))
    for module, _ in imports_of(path):
        other = re.match(r"transformer_lesson\.lessons\.lesson(\d+)", module)
        if other:
            assert int(other.group(1)) <= number, f"{path.parent.name} imports the later {module}"
        if module.startswith("transformer_lesson.capstone"):
            assert number in CAPSTONE_LESSONS, f"{path.parent.name} imports the capstone ({module})"
        assert not module.startswith("transformer_lesson.checks"), f"{path.parent.name} imports {module}"


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(PKG)))
def test_no_private_name_crosses_a_module_border(path):
    for module, names in imports_of(path):
        if not module.startswith("transformer_lesson") or module.endswith("checks._core"):
            continue
        private = [n for n in names if n.startswith("_") and n != "__version__"]
        assert not private, f"{path.relative_to(PKG)} imports private {private} from {module}"


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(PKG)))
def test_no_support_module_is_over_460_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 460, f"{path.relative_to(PKG)} has {lines} lines: split it by what it does"


def test_the_checks_above_can_fail(tmp_path):
    fake = PKG / "lessons" / "lesson01_self_attention" / "experiments.py"
    found = imports_of(fake)
    assert any(m.startswith("transformer_lesson.") for m, _ in found)     # relative imports are resolved
    later = [m for m, _ in imports_of(PKG / "lessons" / "lesson07_training_and_generation" / "plots.py")
             if m.startswith("transformer_lesson.lessons.lesson06")]
    assert later, "lesson 07 reuses lesson 06's plots: the lesson-number test sees that edge"
