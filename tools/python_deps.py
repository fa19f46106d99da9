"""Does every dependency have a wheel for every Python the course promises? (`make test-python-deps`)

Without those interpreters: for each Python version that pyproject.toml's classifiers promise (3.10-3.13),
pip resolves what `make test` installs (the runtime dependencies and the `lab` and `test` extras) for Linux
x86-64 as a learner's pip would (PyPI, plus PyTorch's CPU index as the Makefile uses it), wheels only:

    pip install --dry-run --ignore-installed --only-binary=:all: --python-version 3.X --implementation cp
        --platform manylinux_2_28_x86_64 ... --platform manylinux1_x86_64 --report build/python-deps/3.X.json ...

A resolution that succeeds means every package has a wheel for that Python (nothing would be built from
source). pip fetches only each wheel's metadata, never the wheels: PEP 658 metadata where the index serves
it, HTTP range requests otherwise (`--use-feature=fast-deps`), and `--dry-run` downloads nothing more with
pip >= 25.3. A guard kills a pip that reads more than --limit-mb (a whole torch wheel is hundreds of MB) and
says so. This machine's pip configuration (local mirrors, find-links, constraints) is left out.

What it cannot prove: that the code runs on those Pythons (tests/test_python_versions.py checks the code
against their grammar and removed modules; running the tests there needs the interpreters), or platforms
other than Linux x86-64 (macOS and Windows get torch from PyPI; --platform-tags changes the target).

Usage: python tools/python_deps.py [--extras lab,test] [--also 'torch==2.13.0'] [--glibc 2.28] [--limit-mb 400]
                                  [--versions 3.10,3.13]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

try:
    import tomllib  # novermin (Python 3.11+)
except ModuleNotFoundError:  # Python 3.10: the backport, which the test extra installs there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "python-deps"
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"      # as the Makefile's TORCH_INDEX
MIN_PIP = (25, 3)                                           # --dry-run stops before downloading wheels (pip#13482)
# This machine's pip settings that a learner's pip does not have; PIP_CERT and timeouts are kept.
DROPPED_ENV = ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT", "PIP_REQUIREMENT",
               "PIP_NO_INDEX", "PIP_ONLY_BINARY", "PIP_NO_BINARY", "PIP_PREFER_BINARY")


class DepsError(RuntimeError):
    pass


def project(root: Path = ROOT) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def promised_versions(proj: dict) -> list[str]:
    found = sorted({m[1] for c in proj.get("classifiers", [])
                    if (m := re.fullmatch(r"Programming Language :: Python :: (3\.\d+)", c))},
                   key=lambda v: tuple(map(int, v.split("."))))
    if not found:
        raise DepsError("pyproject.toml names no `Programming Language :: Python :: 3.X` classifier: "
                        "list the Python versions the course promises there")
    return found


def requirements(proj: dict, extras: list[str]) -> list[str]:
    optional = proj.get("optional-dependencies", {})
    unknown = [e for e in extras if e not in optional]
    if unknown:
        raise DepsError(f"expected extras from pyproject.toml ({', '.join(sorted(optional))}), got {unknown}")
    found = list(proj.get("dependencies", []))
    for extra in extras:
        found += [r for r in optional[extra] if r not in found]
    return found


def manylinux_platforms(glibc: str) -> list[str]:
    """Every manylinux tag a Linux x86-64 machine with this glibc accepts, newest first (pip does not expand
    a `--platform manylinux_2_28_x86_64` to the older tags itself)."""
    major, minor = (int(p) for p in glibc.split("."))
    if major != 2 or minor < 17:
        raise DepsError(f"expected a glibc version such as 2.28 (2.17 or newer), got {glibc!r}")
    tags = [f"manylinux_2_{m}_x86_64" for m in range(minor, 4, -1)]
    return tags + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]


def pip_version() -> tuple[int, int]:
    import pip
    return tuple(int(p) for p in re.findall(r"\d+", pip.__version__)[:2])


def reachable(url: str, timeout: float = 10.0) -> bool:
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/torch/", timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env["PIP_CONFIG_FILE"] = os.devnull          # no pip.conf: this machine's mirrors and constraints stay out
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def bytes_read(pid: int) -> int | None:
    """Bytes the process has read (files and sockets), from /proc (Linux); None elsewhere."""
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def resolve(version: str, reqs: list[str], platforms: list[str], index: str | None, limit_mb: float) -> dict:
    """Run pip's dry-run resolution for one Python version; returns what it found (or why it failed)."""
    OUT.mkdir(parents=True, exist_ok=True)
    report = OUT / f"{version}.json"
    report.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-cache-dir",
           "--only-binary=:all:", "--use-feature=fast-deps", "--python-version", version, "--implementation", "cp",
           *[arg for p in platforms for arg in ("--platform", p)], "--report", str(report), "--progress-bar", "off"]
    if index:
        cmd += ["--extra-index-url", index]
    cmd += reqs
    start = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=clean_env(),
                            cwd=OUT)
    peak, killed = 0, False
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True)
    reader.start()
    while proc.poll() is None:
        read = bytes_read(proc.pid)
        peak = max(peak, read or 0)
        if read is not None and read > limit_mb * 1e6:
            proc.kill()
            killed = True
            break
        time.sleep(0.2)
    proc.wait()
    reader.join(timeout=10)
    result = {"version": version, "seconds": time.time() - start, "read_mb": peak / 1e6, "rc": proc.returncode,
              "output": "".join(output), "packages": {}}
    if killed:
        result["error"] = (f"pip read more than {limit_mb:.0f} MB: it was downloading whole wheels, not their "
                           f"metadata (pip >= {MIN_PIP[0]}.{MIN_PIP[1]} with range requests is needed); stopped")
    elif proc.returncode != 0 or not report.exists():
        result["error"] = "pip could not resolve every dependency as a wheel for this Python:\n" + \
            "\n".join(line for line in result["output"].splitlines() if "ERROR" in line or "requires" in line)[-3000:]
    else:
        for item in json.loads(report.read_text())["install"]:
            url = item["download_info"]["url"]
            name = Path(url.split("#")[0]).name
            if not name.endswith(".whl"):
                result.setdefault("error", "")
                result["error"] += f"\n{item['metadata']['name']} would be built from {name}, not installed as a wheel"
                continue
            tags = name[:-4].split("-")[-3:]
            result["packages"][item["metadata"]["name"].lower()] = {
                "version": item["metadata"]["version"], "python_tag": tags[0], "abi": tags[1], "platform": tags[2],
                "host": re.sub(r"^https?://([^/]+)/.*", r"\1", url)}
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extras", default="lab,test", help="extras of pyproject.toml to resolve with the runtime "
                        "dependencies (default: lab,test, what make test installs)")
    parser.add_argument("--versions", default="", help="comma-separated Python versions (default: the classifiers)")
    parser.add_argument("--glibc", default="2.28", help="oldest glibc of the Linux x86-64 machines to serve")
    parser.add_argument("--limit-mb", type=float, default=400.0, help="stop a pip that reads more than this")
    parser.add_argument("--torch-index", default=TORCH_INDEX, help="PyTorch's wheel index (as the Makefile's TORCH_INDEX)")
    parser.add_argument("--also", action="append", default=[], metavar="REQ",
                        help="one more requirement, e.g. the Makefile's torch pin: --also 'torch==2.13.0'")
    args = parser.parse_args(argv)
    start = time.time()
    try:
        if pip_version() < MIN_PIP:
            raise DepsError(f"expected pip >= {MIN_PIP[0]}.{MIN_PIP[1]} (its --dry-run downloads no wheels), got "
                            f"{'.'.join(map(str, pip_version()))}: run `{sys.executable} -m pip install -U pip`")
        proj = project()
        versions = [v.strip() for v in args.versions.split(",") if v.strip()] or promised_versions(proj)
        reqs = requirements(proj, [e.strip() for e in args.extras.split(",") if e.strip()]) + args.also
        platforms = manylinux_platforms(args.glibc)
    except DepsError as error:
        print(f"python_deps: {error}", file=sys.stderr)
        return 2
    index = args.torch_index if reachable(args.torch_index) else None
    what = " + ".join(["runtime"] + [e for e in args.extras.split(",") if e.strip()] + args.also)
    print(f"Resolving {len(reqs)} requirements ({what}) for Python {', '.join(versions)} on Linux "
          f"x86-64 (glibc >= {args.glibc}), wheels only, from PyPI"
          + (f" and {args.torch_index}" if index else
             f"; {args.torch_index} is unreachable from here, so torch's wheels are PyPI's (the same releases "
             "and Python versions; PyPI's Linux build is the CUDA one)") + ".", flush=True)
    with ThreadPoolExecutor(max_workers=len(versions)) as pool:
        results = list(pool.map(lambda v: resolve(v, reqs, platforms, index, args.limit_mb), versions))
    failed = [r for r in results if "error" in r]
    for r in results:
        verdict = "FAILED" if "error" in r else f"{len(r['packages'])} packages, every one a wheel"
        detail = (f"metadata only; report build/python-deps/{r['version']}.json" if "error" not in r
                  else "the bytes pip read: its own files, index pages and wheel metadata")
        print(f"Python {r['version']}: {verdict}; {r['seconds']:.0f} s, pip read {r['read_mb']:.0f} MB ({detail})")
        if "error" in r:
            print("    " + r["error"].replace("\n", "\n    "))
    ok = [r for r in results if "error" not in r]
    if ok:
        names = sorted({n for r in ok for n, p in r["packages"].items() if p["abi"] != "none" or n == "torch"})
        width = max(len(n) for n in names)
        print(f"\nCompiled packages (a wheel built for each Python; pure-Python wheels serve every version):\n"
              f"{'package':<{width}}  " + "  ".join(f"{r['version']:<24}" for r in ok))
        for name in names:
            cells = []
            for r in ok:
                p = r["packages"].get(name)
                cells.append(f"{p['version']} ({p['python_tag']}-{p['abi']})" if p else "-")
            print(f"{name:<{width}}  " + "  ".join(f"{c:<24}" for c in cells))
        torch = [r["packages"].get("torch") for r in ok]
        hosts = sorted({t["host"] for t in torch if t})
        print(f"\ntorch from {', '.join(hosts)}")
    print(f"python_deps: total wall time {time.time() - start:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
