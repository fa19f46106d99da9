"""The course runs on every Python the README promises (pyproject.toml's classifiers, 3.10 to 3.13), checked
here on the one interpreter this machine has:

(a) vermin finds nothing in the package, the tools and the tests that needs a Python newer than the oldest
    promised one (a line vermin cannot judge is marked `# novermin` only where it is an import with an
    ImportError fallback, checked below);
(b) every .py file and every notebook code cell (after IPython's transforms) parses with the oldest promised
    grammar (`ast.parse(..., feature_version=...)`);
(c) nothing imports a standard-library module removed by the newest promised Python (distutils, imp, cgi,
    telnetlib, ...) or calls a removed API that can be spotted by name, and nothing imports setuptools or
    pkg_resources, which a Python 3.12+ venv no longer contains.

What this cannot prove: that the code behaves the same on another interpreter (a changed default, a C
extension built for it); `make test-python-deps` shows that every dependency has a wheel for each promised
Python; running the tests under each Python needs those interpreters (CI with setup-python, or a
machine that has them).
"""
from __future__ import annotations

import ast
import functools
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

try:
    import tomllib  # novermin (Python 3.11+; 3.10 reads pyproject.toml with tomli)
except ModuleNotFoundError:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
CODE_DIRS = ("transformer_lesson", "tools", "tests")
NOTEBOOK_DIRS = ("notebooks", "solutions", "exercises", "zh/notebooks", "zh/solutions", "zh/exercises")


def promised_versions() -> list[tuple[int, int]]:
    """(3, 10), (3, 11), ...: the Python versions pyproject.toml's classifiers promise."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = sorted({(3, int(m[1])) for c in project.get("classifiers", [])
                    if (m := re.fullmatch(r"Programming Language :: Python :: 3\.(\d+)", c))})
    assert found, "pyproject.toml names no `Programming Language :: Python :: 3.X` classifier"
    return found


PROMISED = promised_versions()
OLDEST, NEWEST = PROMISED[0], PROMISED[-1]

# Standard-library modules removed by Python version (PEP 594 and earlier removals), and two that a
# Python 3.12+ venv does not contain (setuptools is no longer preinstalled).
REMOVED_MODULES = {
    (3, 10): {"formatter", "parser", "symbol", "_dummy_thread", "dummy_threading"},
    (3, 11): {"binhex"},
    (3, 12): {"distutils", "imp", "asynchat", "asyncore", "smtpd", "setuptools", "pkg_resources"},
    (3, 13): {"aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "mailcap", "msilib", "nis", "nntplib",
              "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib", "lib2to3"},
}
# module.attribute removed by that version, as written when called through the module
REMOVED_ATTRIBUTES = {
    (3, 11): {"inspect.getargspec", "inspect.formatargspec", "asyncio.coroutine", "binascii.b2a_hqx",
              "binascii.a2b_hqx", "gettext.lgettext", "gettext.ldgettext", "gettext.lngettext", "gettext.ldngettext"},
    (3, 12): {"ssl.wrap_socket", "ssl.match_hostname", "ssl.RAND_pseudo_bytes", "locale.format",
              "configparser.SafeConfigParser", "pkgutil.ImpImporter", "pkgutil.ImpLoader", "sqlite3.OptimizedUnicode",
              "sqlite3.enable_shared_cache", "typing.io", "typing.re"},
    (3, 13): {"locale.resetlocale", "re.template", "re.TEMPLATE", "unittest.makeSuite", "unittest.findTestCases",
              "unittest.getTestCaseNames", "configparser.LegacyInterpolation", "webbrowser.MacOSX"},
}
# methods removed by that version, whatever they are called on (names no course code would use otherwise)
REMOVED_METHODS = {
    (3, 12): {"assertEquals", "assertNotEquals", "assertAlmostEquals", "assertNotAlmostEquals", "assert_",
              "failUnless", "failIf", "failUnlessEqual", "failIfEqual", "failUnlessRaises", "assertRegexpMatches",
              "assertNotRegexpMatches", "assertRaisesRegexp", "assertDictContainsSubset", "readfp", "link_to"},
}


def _removed_by(table: dict, newest: tuple[int, int]) -> dict[str, tuple[int, int]]:
    return {name: version for version, names in table.items() if version <= newest for name in names}


def python_files() -> list[Path]:
    return sorted(p for d in CODE_DIRS for p in (ROOT / d).rglob("*.py") if "__pycache__" not in p.parts)


@functools.cache
def notebook_cells() -> list[tuple[str, str]]:
    """(name, Python source after IPython's transforms) of every code cell of every notebook."""
    cells = []
    for folder in NOTEBOOK_DIRS:
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    cells.append((f"{folder}/{path.name} cell {index}", TransformerManager().transform_cell(cell.source)))
    return cells


def syntax_problems(name: str, source: str, version: tuple[int, int]) -> list[str]:
    try:
        ast.parse(source, filename=name, feature_version=version)
    except SyntaxError as error:
        return [f"{name}:{error.lineno}: {error.msg} (Python {version[0]}.{version[1]} grammar)"]
    return []


def removal_problems(name: str, source: str, newest: tuple[int, int] = NEWEST) -> list[str]:
    """Imports of removed modules and calls of removed APIs, each with the version that removed it."""
    modules = _removed_by(REMOVED_MODULES, newest)
    attributes = _removed_by(REMOVED_ATTRIBUTES, newest)
    methods = _removed_by(REMOVED_METHODS, newest)
    problems = []

    def found(line, what, version):
        problems.append(f"{name}:{line}: {what} (removed in Python {version[0]}.{version[1]})")

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in modules:
                    found(node.lineno, f"imports {alias.name}", modules[alias.name.split(".")[0]])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in modules:
                found(node.lineno, f"imports from {node.module}", modules[node.module.split(".")[0]])
            for alias in node.names:
                if f"{node.module}.{alias.name}" in attributes:
                    found(node.lineno, f"imports {node.module}.{alias.name}", attributes[f"{node.module}.{alias.name}"])
        elif isinstance(node, ast.Attribute):
            dotted = ast.unparse(node)
            for attribute, version in attributes.items():
                if dotted == attribute or dotted.endswith("." + attribute):
                    found(node.lineno, f"uses {dotted}", version)
            if node.attr in methods:
                found(node.lineno, f"calls .{node.attr}", methods[node.attr])
    return problems


def novermin_problems(path: Path, root: Path = ROOT) -> list[str]:
    """Every `# novermin` (or `# novm`) line must be an import inside a `try:` that catches ImportError."""
    source = path.read_text(encoding="utf-8")
    marked = {tok.start[0] for tok in tokenize.generate_tokens(iter(source.splitlines(keepends=True)).__next__)
              if tok.type == tokenize.COMMENT and re.match(r"#\s*(novermin|novm)\b", tok.string)}
    if not marked:
        return []
    guarded = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Try) and any(
                isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
                for h in node.handlers):
            guarded |= {n.lineno for n in node.body if isinstance(n, (ast.Import, ast.ImportFrom))}
    rel = path.relative_to(root)
    return [f"{rel}:{line}: `# novermin` on a line that is not an import with an ImportError fallback"
            for line in sorted(marked - guarded)]


# ---- (a) vermin --------------------------------------------------------------------------------------------

def vermin(paths: list[str], target: tuple[int, int]) -> subprocess.CompletedProcess:
    pytest.importorskip("vermin", reason="vermin is in the test extra: pip install -e '.[test]'")
    run_vermin = "import sys; from vermin.main import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", run_vermin, f"--target={target[0]}.{target[1]}-", "--violations",
                           "--eval-annotations", "--no-tips", "--no-config-file", "-q", *paths],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_vermin_finds_nothing_that_needs_a_python_newer_than_the_oldest_promised():
    result = vermin(list(CODE_DIRS), OLDEST)
    assert result.returncode == 0, (f"vermin: code that needs a Python newer than {OLDEST[0]}.{OLDEST[1]}:\n"
                                    f"{result.stdout}{result.stderr}")


def test_every_novermin_mark_is_a_guarded_import():
    problems = [p for path in python_files() for p in novermin_problems(path)]
    assert not problems, problems


# ---- (b) the oldest grammar ------------------------------------------------------------------------------

def test_every_python_file_parses_with_the_oldest_promised_grammar():
    problems = [p for path in python_files()
                for p in syntax_problems(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"), OLDEST)]
    assert not problems, problems


def test_every_notebook_code_cell_parses_with_the_oldest_promised_grammar():
    cells = notebook_cells()
    assert len(cells) > 100, f"expected the course's notebooks, found {len(cells)} code cells"
    problems = [p for name, source in cells for p in syntax_problems(name, source, OLDEST)]
    assert not problems, problems


# ---- (c) removed modules and APIs ------------------------------------------------------------------------

def test_nothing_imports_a_module_or_calls_an_api_the_newest_promised_python_removed():
    sources = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in python_files()] + notebook_cells()
    problems = [p for name, source in sources for p in removal_problems(name, source)]
    assert not problems, problems


def test_the_promise_starts_where_requires_python_does():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["requires-python"] == f">={OLDEST[0]}.{OLDEST[1]}"
    assert PROMISED == [(3, minor) for minor in range(OLDEST[1], NEWEST[1] + 1)], f"a gap in {PROMISED}"


# ---- the checks above can fail ---------------------------------------------------------------------------

def test_the_checks_above_can_fail(tmp_path):
    # (b) 3.11 grammar (except*) is refused under the 3.10 grammar, accepted under 3.11's
    group = "try:\n    pass\nexcept* ValueError:\n    pass\n"
    assert syntax_problems("x.py", group, (3, 10)) and not syntax_problems("x.py", group, (3, 11))
    # (c) removed modules, attributes and methods, each with its version; a 3.11 promise lets 3.13's pass
    code = ("import distutils.core\nfrom cgi import escape\nimport telnetlib as t\nimport locale\n"
            "locale.resetlocale()\nself.assertEquals(1, 1)\nimport setuptools\n")
    found = removal_problems("x.py", code)
    assert sorted(re.search(r"x.py:(\d+): .*\(removed in Python ([\d.]+)\)", p).groups() for p in found) == [
        ("1", "3.12"), ("2", "3.13"), ("3", "3.13"), ("5", "3.13"), ("6", "3.12"), ("7", "3.12")], found
    assert len(removal_problems("x.py", code, newest=(3, 11))) == 0
    # the IPython transform turns magics into Python the parser accepts
    assert not syntax_problems("cell", TransformerManager().transform_cell("%matplotlib inline\n!ls\nx = 1\n"), OLDEST)
    # a `# novermin` that hides a real 3.11 call is refused
    unguarded = tmp_path / "unguarded.py"
    unguarded.write_text("import tomllib  # novermin\n")
    assert novermin_problems(unguarded, tmp_path)
    guarded = tmp_path / "guarded.py"
    guarded.write_text("try:\n    import tomllib  # novermin\nexcept ModuleNotFoundError:\n    tomllib = None\n")
    assert not novermin_problems(guarded, tmp_path)
    # (a) vermin sees a 3.11 module
    newer = tmp_path / "newer.py"
    newer.write_text("import tomllib\n")
    refused, accepted = vermin([str(newer)], (3, 10)), vermin([str(newer)], (3, 11))
    assert refused.returncode == 1 and "'tomllib' module requires !2, 3.11" in refused.stdout, refused
    assert accepted.returncode == 0, accepted



# ---- tools/python_deps.py (make test-python-deps): its pure parts --------------------------------------

def _python_deps():
    import importlib.util
    spec = importlib.util.spec_from_file_location("python_deps", ROOT / "tools" / "python_deps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_python_deps_resolves_the_promised_versions_and_what_make_test_installs():
    deps = _python_deps()
    proj = deps.project()
    assert deps.promised_versions(proj) == [f"{major}.{minor}" for major, minor in PROMISED]
    reqs = deps.requirements(proj, ["lab", "test"])
    assert set(proj["dependencies"]) <= set(reqs) and "vermin" in reqs and len(reqs) == len(set(reqs))
    tags = deps.manylinux_platforms("2.28")
    assert tags[0] == "manylinux_2_28_x86_64" and "manylinux_2_17_x86_64" in tags and tags[-1] == "manylinux1_x86_64"
    env = deps.clean_env()
    assert env["PIP_CONFIG_FILE"] == os.devnull and "PIP_FIND_LINKS" not in env


def test_python_deps_says_what_it_expected_on_bad_input():
    deps = _python_deps()
    with pytest.raises(deps.DepsError, match=r"expected extras from pyproject.toml \(.*lab.*\), got \['nope'\]"):
        deps.requirements(deps.project(), ["nope"])
    with pytest.raises(deps.DepsError, match="expected a glibc version such as 2.28"):
        deps.manylinux_platforms("2.5")
    with pytest.raises(deps.DepsError, match="names no `Programming Language :: Python :: 3.X` classifier"):
        deps.promised_versions({"classifiers": ["License :: OSI Approved"]})
