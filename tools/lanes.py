"""Run the slower checks in parallel lanes and print each part's time (`make test-slow`, which CI runs).

The slower checks (claims over many seeds under another CPU profile, nbval under other profiles, every
lesson in JupyterLab, the website, the hub, ipywidgets 7.7, a fresh kernel) each keep one core busy at most
most of the time, so on a 2-core machine two lanes finish in about half the time of one. Each lane runs its
parts one after another; a part is a make target. A failing part does not stop its lane: every part runs,
the table at the end says which failed, and the exit status is 1 if any did.

Usage: python tools/lanes.py --lane "test-portability-claims test-hub" --lane "test-browser test-site"
       python tools/lanes.py --dry-run --lane ...     (print the plan and stop)

Each part's output goes to tests/artifacts/lanes/<target>.log; a failing part's last 60 lines are printed.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "tests" / "artifacts" / "lanes"


def _print(lock: threading.Lock, text: str) -> None:
    with lock:
        print(text, flush=True)


def run_lane(number: int, targets: list[str], results: list[dict], lock: threading.Lock, start: float) -> None:
    for target in targets:
        log = LOGS / f"{target}.log"
        began = time.time()
        _print(lock, f"=== lane {number}: {target} started at +{began - start:.0f} s")
        with log.open("w") as out:
            proc = subprocess.run(["make", "--no-print-directory", target], cwd=ROOT, stdout=out,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        seconds = time.time() - began
        lines = log.read_text(errors="replace").splitlines()
        summary = next((line.strip("= ") for line in reversed(lines)
                        if " passed" in line or " failed" in line or " error" in line), "(no test summary)")
        result = {"lane": number, "target": target, "rc": proc.returncode, "seconds": seconds,
                  "summary": summary, "log": log.relative_to(ROOT)}
        results.append(result)
        verdict = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
        tail = "" if proc.returncode == 0 else "\n" + "\n".join(f"    {line}" for line in lines[-60:])
        _print(lock, f"=== lane {number}: {target} took {seconds:.0f} s: {verdict}; {summary}  (log {result['log']}){tail}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lane", action="append", required=True,
                        help="space-separated make targets run one after another (repeat for more lanes)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and stop")
    args = parser.parse_args(argv)
    lanes = [lane.split() for lane in args.lane]
    if not any(lanes):
        parser.error("every --lane was empty: expected make targets, e.g. --lane 'test-browser test-site'")
    for i, lane in enumerate(lanes, 1):
        print(f"lane {i}: {' -> '.join(lane) or '(empty)'}")
    if args.dry_run:
        return 0
    LOGS.mkdir(parents=True, exist_ok=True)
    results: list[dict] = []
    lock = threading.Lock()
    start = time.time()
    threads = [threading.Thread(target=run_lane, args=(i, lane, results, lock, start))
               for i, lane in enumerate(lanes, 1) if lane]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - start
    print(f"\n{'lane':>4}  {'part':28} {'time':>7}  result")
    for r in sorted(results, key=lambda r: r["lane"]):   # stable: each lane in its order
        print(f"{r['lane']:>4}  {r['target']:28} {r['seconds']:>6.0f}s  {'ok  ' if r['rc'] == 0 else 'FAIL'} {r['summary']}")
    busy = sum(r["seconds"] for r in results)
    print(f"slow checks: wall time {wall:.0f} s for {busy:.0f} s of parts in {len(threads)} lanes")
    failed = sum(r["rc"] != 0 for r in results)
    print(f"slow-checks: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
