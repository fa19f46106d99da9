"""The scale-out path and the teacher's link: docs/hub/z2jh-values.yaml is valid Zero to JupyterHub values (the
chart's own schema, tests/hub/z2jh-values.schema.json, chart 4.4.0), and the link it and tools/hub_link.py
hand out is made from pyproject.toml's Repository. Not deployed: a syntax and key check (the hub itself is
exercised by make test-hub)."""
import copy
import importlib.util
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
VALUES = ROOT / "docs" / "hub" / "z2jh-values.yaml"
SCHEMA = ROOT / "tests" / "hub" / "z2jh-values.schema.json"

_spec = importlib.util.spec_from_file_location("hub_link", ROOT / "tools" / "hub_link.py")
hub_link = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hub_link)


@pytest.fixture(scope="module")
def values():
    return yaml.safe_load(VALUES.read_text())


def without_required(node):
    """The schema without its `required` lists: helm validates a teacher's values merged onto the chart's
    defaults, which supply every required key; a values file lists only what it changes."""
    if isinstance(node, dict):
        return {k: without_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [without_required(v) for v in node]
    return node


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    assert "required" in schema  # the chart's schema does list required keys (so stripping them is a change)
    return jsonschema.Draft7Validator(without_required(schema))


def errors(validator, values):
    return [f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(values)]


def test_values_are_valid_for_the_chart(values, validator):
    assert errors(validator, values) == []


@pytest.mark.parametrize("path, value", [
    (("singleuser", "memmory"), {"limit": "2G"}),       # a misspelt key
    (("cull", "timeout"), "half an hour"),               # a wrong type
    (("singleuser", "cpu", "limit"), "one"),
])
def test_the_schema_rejects_a_wrong_key_or_type(values, validator, path, value):
    broken = copy.deepcopy(values)
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert errors(validator, broken), f"{'.'.join(path)} = {value!r} should be rejected"


def test_the_values_set_what_a_class_needs(values):
    single = values["singleuser"]
    assert single["memory"]["guarantee"] and single["memory"]["limit"]
    assert single["cpu"]["limit"] >= 1 and values["cull"]["enabled"] is True
    assert values["prePuller"]["hook"]["enabled"] and values["prePuller"]["continuous"]["enabled"]


def test_default_url_is_the_teachers_link_from_pyproject(values):
    """singleuser.defaultUrl is the server-side half of tools/hub_link.py's link, made from pyproject.toml."""
    repo = hub_link.repository_url()
    link = hub_link.pull_link("https://hub.example.edu", "notebooks/00_tour.ipynb")
    assert link.startswith("https://hub.example.edu/hub/user-redirect/git-pull?")
    assert values["singleuser"]["defaultUrl"] == link.split("/hub/user-redirect", 1)[1]
    query = parse_qs(urlsplit(link).query)
    assert query["repo"] == [repo]
    assert query["urlpath"] == [f"lab/tree/{repo.rstrip('/').split('/')[-1]}/notebooks/00_tour.ipynb"]
    owner, name = urlsplit(repo).path.strip("/").split("/")[-2:]
    assert values["singleuser"]["image"]["name"].endswith(f"/{owner}/{name}-hub")


@pytest.mark.parametrize("hub, notebook", [
    ("hub.example.edu", "notebooks/00_tour.ipynb"),          # no scheme
    ("https://hub.example.edu", "/etc/passwd"),             # not a path in the repository
    ("https://hub.example.edu", "../outside.ipynb"),
    ("https://hub.example.edu", "README.md"),                # not a notebook
])
def test_the_link_tool_says_what_it_expected(hub, notebook):
    with pytest.raises(ValueError, match="must be"):
        hub_link.pull_link(hub, notebook)
