"""docs/claims.md names only claims and tests that exist, and every claim tests/test_claims.py measures is in it."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "claims.md").read_text(encoding="utf-8")
CLAIMS = (ROOT / "tests" / "test_claims.py").read_text(encoding="utf-8")
MEASURED = set(re.findall(r'holds\(claim_table, "([^"]+)"', CLAIMS))


def test_every_claim_id_in_the_table_is_measured_by_the_claim_tests():
    named = set(re.findall(r"claims? ((?:`[^`]+`(?:, )?)+)", DOC))
    ids = {i for group in named for i in re.findall(r"`([^`]+)`", group)}
    assert ids and ids <= MEASURED, f"docs/claims.md names claims that tests/test_claims.py does not measure: {ids - MEASURED}"


def test_every_measured_claim_is_in_the_table():
    missing = {cid for cid in MEASURED if f"`{cid}`" not in DOC}
    assert not missing, f"tests/test_claims.py measures claims docs/claims.md does not list: {sorted(missing)}"


def test_every_unit_test_the_table_names_exists():
    for module, name in re.findall(r"`(test_lesson_\d\d)…::(test_\w+)`", DOC):
        files = list((ROOT / "tests").glob(f"{module}_*.py"))
        assert files and any(f"def {name}(" in f.read_text(encoding="utf-8") for f in files), (module, name)
    for name in re.findall(r"`…(test_\w+)`", DOC):
        assert any(f"def {name}(" in f.read_text(encoding="utf-8") for f in (ROOT / "tests").glob("test_*.py")), name


def test_every_rate_is_filled_in():
    assert "RATE(" not in DOC and "(rerun)" not in DOC
