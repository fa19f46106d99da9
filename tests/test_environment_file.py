"""environment.yml (conda, Binder) installs the same runtime packages as pyproject.toml."""
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


def test_environment_lists_the_same_runtime_packages_as_pyproject(environment):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = dict(_split(r) for r in project["dependencies"])
    conda, pip = _conda_and_pip(environment)
    listed = [_split(r) for r in conda + [p for p in pip if not p.startswith("-")]]
    listed = [(name, spec) for name, spec in listed if name not in NOT_PACKAGES]
    names = [name for name, _ in listed]
    assert len(names) == len(set(names)), f"listed twice in environment.yml: {names}"
    assert dict(listed) == wanted


def test_environment_pins_python_311_and_installs_the_package_itself(environment):
    conda, pip = _conda_and_pip(environment)
    assert "python=3.11" in conda
    assert "-e ." in pip


def test_environment_takes_torch_from_the_cpu_index(environment):
    _, pip = _conda_and_pip(environment)
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in pip
