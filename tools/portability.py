"""Run the course's stored outputs and its claim tests under several CPU profiles (`make test-portability`).

A stored notebook output is a promise to every learner's machine, and a learner's CPU is not ours:
other vector units, another BLAS code path, another thread count change the last bits of every matmul,
and a few hundred training steps turn those bits into different trained weights. This machine cannot
be an Apple laptop, but it can run the same code down several of the paths PyTorch and MKL choose
between on other x86 machines:

- ``ATEN_CPU_CAPABILITY``: PyTorch's own vector kernels (default = no SIMD, avx2, avx512);
- ``MKL_ENABLE_INSTRUCTIONS`` / ``MKL_CBWR``: the code path of MKL's matmuls (BLAS);
- ``ONEDNN_MAX_CPU_ISA``: the code path of oneDNN, which PyTorch uses for some layers;
- the thread count (``torch.set_num_threads``, set by a ``sitecustomize`` module this script puts on
  ``PYTHONPATH``, because PyTorch caps ``OMP_NUM_THREADS`` at the number of cores): how reductions are
  split between threads.

Each profile runs, in a fresh process with those variables set before torch is imported:
nbval over every lesson and solution notebook of both editions (English and Chinese; with
``--editions alternate`` the English under one profile, the Chinese, the same code, under the next),
and the claim tests (``tests/test_claims.py``: every
claim about a trained or random experiment, over many seeds). The profiles are proxies for other
machines, not the target: an output tuned until it passes them has missed the point.

Usage: python tools/portability.py [--profiles NAME,...] [--jobs N] [--only nbval|claims]
       python tools/portability.py --describe     (what this machine is: paste it into a mismatch report)
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    match = re.search(r"^flags\s*:(.*)$", text, re.M)
    return set(match.group(1).split()) if match else set()


def profiles() -> dict[str, dict[str, str]]:
    """Name -> environment. Only profiles this CPU can run (avx512 needs the instructions)."""
    flags = cpu_flags()
    table = {
        # what this machine does by itself (PyTorch and MKL pick the best path; default threads)
        "native": {},
        # no SIMD in PyTorch's kernels, MKL's conditional-reproducibility mode, 4 threads
        "scalar-4threads": {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE",
                            "ONEDNN_MAX_CPU_ISA": "SSE41", "THREADS": "4"},
        # a common laptop: AVX2 everywhere, 1 thread
        "avx2-1thread": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
                         "ONEDNN_MAX_CPU_ISA": "AVX2", "THREADS": "1"},
    }
    if "avx512f" in flags:
        # a server or workstation CPU: AVX-512 everywhere, 2 threads
        table["avx512-2threads"] = {"ATEN_CPU_CAPABILITY": "avx512", "MKL_ENABLE_INSTRUCTIONS": "AVX512",
                                    "ONEDNN_MAX_CPU_ISA": "AVX512_CORE", "THREADS": "2"}
    if "avx2" in flags:
        # AVX2 in PyTorch but MKL's AVX-only path, 3 threads (another BLAS route on the same machine)
        table["avx2-mkl-avx-3threads"] = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX",
                                          "MKL_CBWR": "AVX", "THREADS": "3"}
    return table


SITECUSTOMIZE = """\
# Written by tools/portability.py: set PyTorch's thread count in every Python process of a profile
# (test runners and notebook kernels alike), since PyTorch caps OMP_NUM_THREADS at the number of cores.
import os
if os.environ.get("PORTABILITY_THREADS"):
    import torch
    torch.set_num_threads(int(os.environ["PORTABILITY_THREADS"]))
"""

PROBE = ("import torch; print(torch.backends.cpu.get_cpu_capability(), torch.get_num_threads(), "
         "torch.__version__)")


# The claim tests train hundreds of small models (about 5 minutes a profile): they run under the first
# of these profiles that this CPU has (the machine as it is, and the least like it), nbval under all.
CLAIM_PROFILES = ("native", "scalar-4threads")


EDITIONS = {"en": ("notebooks", "solutions"), "zh": ("zh/notebooks", "zh/solutions")}


def run_profile(name: str, env_changes: dict[str, str], parts: list[str], hook_dir: Path,
                editions: tuple[str, ...] = ("en", "zh")) -> dict:
    env = dict(os.environ)
    env.update({k: v for k, v in env_changes.items() if k != "THREADS"})
    if "THREADS" in env_changes:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = env["PORTABILITY_THREADS"] = env_changes["THREADS"]
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(hook_dir), env.get("PYTHONPATH")]))
    python = sys.executable
    probe = subprocess.run([python, "-c", PROBE], env=env, capture_output=True, text=True)
    result = {"name": name, "env": env_changes, "probe": probe.stdout.strip() or probe.stderr.strip()[-200:],
              "parts": {}}
    logs = ROOT / "tests" / "artifacts" / "portability"
    logs.mkdir(parents=True, exist_ok=True)
    for part in parts:
        if part == "nbval":
            dirs = [d for e in editions for d in EDITIONS[e] if any((ROOT / d).glob("*.ipynb"))]
            cmd = [python, "-m", "pytest", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
                   "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", "-q", *dirs]
        else:
            cmd = [python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-m", "claims", "tests/test_claims.py"]
        start = time.time()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        seconds = time.time() - start
        log = logs / f"{name}-{part}{'-' + '-'.join(editions) if part == 'nbval' else ''}.log"
        log.write_text(proc.stdout + proc.stderr)
        summary = [line for line in proc.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
        result["parts"][part] = {"rc": proc.returncode, "seconds": seconds,
                                 "summary": summary[-1].strip("= ") if summary else "(no summary)",
                                 "log": str(log.relative_to(ROOT))}
        print(f"[{name}] {part}: {result['parts'][part]['summary']} in {seconds:.0f} s  (log {log.relative_to(ROOT)})",
              flush=True)
    return result


DESCRIBE = """\
import platform, sys
import numpy, torch
print("platform:", platform.platform(), "|", platform.machine(), "|", platform.processor() or "?")
print("python:", sys.version.split()[0], "| numpy:", numpy.__version__, "| torch:", torch.__version__)
print("torch CPU capability:", torch.backends.cpu.get_cpu_capability(), "| threads:", torch.get_num_threads(),
      "| MKL:", torch.backends.mkl.is_available(), "| oneDNN:", torch.backends.mkldnn.is_available())
blas = [line.strip() for line in torch.__config__.show().splitlines() if "BLAS_INFO" in line or "Math Kernel" in line]
print("BLAS:", blas[0][:120] if blas else "?")
"""


def main(argv=None) -> int:
    table = profiles()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default=",".join(table),
                        help=f"comma-separated, from: {', '.join(table)} (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="profiles run at once (default 2)")
    parser.add_argument("--only", choices=("nbval", "claims"), help="run only one part")
    parser.add_argument("--claims-profiles", default=",".join(CLAIM_PROFILES),
                        help=f"profiles that also run the claim tests (default {','.join(CLAIM_PROFILES)})")
    parser.add_argument("--editions", choices=("both", "alternate", "en", "zh"), default="both",
                        help="nbval over both editions under every profile (default), or alternate: the English "
                             "edition under the 1st, 3rd ... profile and the Chinese one (the same code, "
                             "tests/test_zh_edition.py) under the 2nd, 4th ...; or one edition (en, zh) under all")
    parser.add_argument("--describe", action="store_true", help="print what this machine is, and stop")
    args = parser.parse_args(argv)
    if args.describe:
        return subprocess.run([sys.executable, "-c", DESCRIBE]).returncode
    names = [n.strip() for n in args.profiles.split(",") if n.strip()]
    unknown = [n for n in names if n not in table]
    if unknown:
        parser.error(f"unknown profile(s) {unknown}; this CPU can run: {', '.join(table)}")
    parts = [args.only] if args.only else ["nbval", "claims"]
    claim_names = {n.strip() for n in args.claims_profiles.split(",") if n.strip()}
    tasks = [(n, "claims") for n in names if "claims" in parts and n in claim_names]   # longest first
    tasks += [(n, "nbval") for n in names if "nbval" in parts]
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="portability-") as hook_dir, \
            ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        (Path(hook_dir) / "sitecustomize.py").write_text(SITECUSTOMIZE)
        editions = {n: {"both": ("en", "zh"), "en": ("en",), "zh": ("zh",)}.get(args.editions, (("en",), ("zh",))[i % 2])
                    for i, n in enumerate(names)}
        done = list(pool.map(lambda task: run_profile(task[0], table[task[0]], [task[1]], Path(hook_dir),
                                                      editions[task[0]]), tasks))
    results = []
    for n in names:                                      # one row per profile, its parts merged
        mine = [r for r in done if r["name"] == n]
        merged = {"name": n, "env": table[n], "probe": mine[0]["probe"], "parts": {}, "editions": editions[n]}
        for r in mine:
            merged["parts"].update(r["parts"])
        results.append(merged)
    print()
    print(f"{'profile':24} {'torch sees (capability, threads, version)':44} " +
          " ".join(f"{p:>36}" for p in parts))
    failed = 0
    for r in results:
        cells = []
        for p in parts:
            part = r["parts"].get(p)
            if part is None:
                cells.append(f"{'(not run here)':>36}")
                continue
            ok = part["rc"] == 0
            failed += not ok
            cells.append(f"{('OK ' if ok else 'FAIL ') + part['summary']:>36}")
        print(f"{r['name']:24} {r['probe']:44} " + " ".join(cells))
    for r in results:
        print(f"  {r['name']}: {' '.join(f'{k}={v}' for k, v in r['env'].items()) or '(environment unchanged)'}"
              + (f"; nbval over the {'+'.join(r['editions'])} edition(s)" if "nbval" in parts else ""))
    for r in results:                                    # the seed-robustness table of each claims run
        part = r["parts"].get("claims")
        if part is not None:
            lines = [line for line in (ROOT / part["log"]).read_text().splitlines() if line.startswith("claim ")]
            print(f"\nclaims under {r['name']} ({len(lines)} lines, from {part['log']}):")
            print("\n".join(f"  {line}" for line in dict.fromkeys(lines)))
    print(f"portability: {len(results)} profiles, {failed} failing part(s), {time.time() - start:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
