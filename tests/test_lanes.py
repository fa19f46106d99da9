"""tools/lanes.py runs the slower checks (make test-slow) in parallel lanes: every part runs, a failure is reported."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lanes(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "tools/lanes.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_a_failing_part_fails_the_run_and_the_other_lane_still_runs():
    proc = _lanes("--lane", "no-such-target help", "--lane", "help")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "slow-checks: 2 passed, 1 failed" in proc.stdout.splitlines()
    assert "lane 1: no-such-target took" in proc.stdout and "FAILED (exit 2)" in proc.stdout
    assert proc.stdout.count("help took") == 2            # the failure did not stop lane 1


def test_all_parts_passing_exit_zero_and_the_plan_is_printed():
    proc = _lanes("--lane", "help")
    assert proc.returncode == 0 and "slow-checks: 1 passed, 0 failed" in proc.stdout
    dry = _lanes("--dry-run", "--lane", "a b", "--lane", "c")
    assert dry.returncode == 0 and dry.stdout.splitlines() == ["lane 1: a -> b", "lane 2: c"]
    empty = _lanes("--lane", " ")
    assert empty.returncode == 2 and "expected make targets" in empty.stderr
