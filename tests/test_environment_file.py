"""environment.yml (conda, Binder) installs the same packages as pyproject.toml, and Binder builds it once.

- environment.yml lists pyproject's runtime dependencies plus its `lab` extra (JupyterLab), nothing else;
- it holds no local reference (`-e .`, `.`, a path, `file:`): repo2docker can then build and cache the
  environment from environment.yml alone, and a new commit does not download torch again;
- postBuild (executable, at the root, where repo2docker looks when there is no binder/ folder) installs
  the course package itself without its dependencies (they all come from environment.yml).
"""
import os
import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")
tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = Path(__file__).resolve().parents[1]
CONDA_TO_PIP = {"pytorch": "torch", "pytorch-cpu": "torch"}
NOT_PACKAGES = {"python", "pip"}


def _split(requirement):
    """'ipywidgets>=8' -> ('ipywidgets', '>=8'); names normalised as pip does."""
    match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*?)\s*", requirement)
    assert match, f"cannot read requirement {requirement!r}"
    name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
    return CONDA_TO_PIP.get(name, name), match.group(2).replace(" ", "")


@pytest.fixture(scope="module")
def environment():
    return yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


def _conda_and_pip(environment):
    conda, pip = [], []
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            pip.extend(entry["pip"])
        else:
            conda.append(entry)
    return conda, pip


def test_environment_lists_the_runtime_packages_and_the_lab_extra_of_pyproject(environment):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = dict(_split(r) for r in project["dependencies"] + project["optional-dependencies"]["lab"])
    conda, pip = _conda_and_pip(environment)
    listed = [_split(r) for r in conda + [p for p in pip if not p.startswith("-")]]
    listed = [(name, spec) for name, spec in listed if name not in NOT_PACKAGES]
    names = [name for name, _ in listed]
    assert len(names) == len(set(names)), f"listed twice in environment.yml: {names}"
    assert dict(listed) == wanted


def test_jupyterlab_is_an_extra_not_a_runtime_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_split(r)[0] for r in project["dependencies"]}
    assert "jupyterlab" not in runtime, "a kernel that has Jupyter (Colab, a hub) must not get JupyterLab"
    assert {_split(r)[0] for r in project["optional-dependencies"]["lab"]} == {"jupyterlab"}
    assert "jupyterlab" in {_split(r)[0] for r in project["optional-dependencies"]["test"]}


def local_references(pip_lines) -> list[str]:
    """pip lines of environment.yml that point into the repository (repo2docker cannot cache those)."""
    local = re.compile(r"^(-e\b|--editable\b|\.|/|~|file:)|^\S+\s*@\s*file:")
    return [line for line in pip_lines if local.search(line.strip())]


def test_environment_pins_python_311_and_has_no_local_reference(environment):
    conda, pip = _conda_and_pip(environment)
    assert "python=3.11" in conda
    assert local_references(pip) == [], "install the package in postBuild, not in environment.yml"


def test_local_references_are_recognised():
    assert local_references(["-e .", ".", "./", "--editable=.", "file:///repo", "pkg @ file:///x"]) == [
        "-e .", ".", "./", "--editable=.", "file:///repo", "pkg @ file:///x"]
    assert local_references(["torch>=2.2", "--extra-index-url https://download.pytorch.org/whl/cpu"]) == []


def postbuild_installs(text: str) -> list[str]:
    """The pip install commands of a postBuild script (comments dropped)."""
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [line for line in lines if re.search(r"\bpip install\b", line)]


def test_postbuild_installs_the_package_without_dependencies():
    assert not (ROOT / "binder").exists(), "a binder/ folder makes repo2docker ignore the root's files"
    path = ROOT / "postBuild"
    assert path.is_file() and os.access(path, os.X_OK), "postBuild must be an executable file at the root"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/bash") and "set -euo pipefail" in text
    installs = postbuild_installs(text)
    assert len(installs) == 1 and "--no-deps" in installs[0].split() and re.search(r"(-e )?\.$", installs[0]), installs


def test_a_postbuild_installing_dependencies_is_caught():
    installs = postbuild_installs("#!/bin/bash\n# pip install --no-deps .\npip install -e .\n")
    assert installs == ["pip install -e ."] and "--no-deps" not in installs[0].split()


def test_environment_takes_torch_from_the_cpu_index(environment):
    _, pip = _conda_and_pip(environment)
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in pip
