"""How big a machine does a class need? Measured on a real JupyterHub here (make hub-capacity).

Starts the hub of tools/hub_class.py on 127.0.0.1, lets STUDENTS simulated students pull the course with the
nbgitpuller link, and prints:
  1. memory per student after the setup cell (idle kernel), after lesson 01, and after lesson 07 (which
     trains the translator): RSS, PSS (each shared page divided among the processes that share it: the fair
     per-student share when many kernels load the same libtorch) and USS (private) of the kernel, and of
     the student's Jupyter server;
  2. lesson 07's wall time, and its training cell's, when 1, 4 and 8 students run it at the same time.
Nothing is asserted (figures, not a test); everything started is stopped, and a leftover process is reported.

    python tools/hub_capacity.py                # 8 students, rounds of 1, 4 and 8 running lesson 07
    python tools/hub_capacity.py --rounds 1,2   # quicker
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hub_class import ClassHub, Student, class_link, course_repo, interruptible, temp_workdir  # noqa: E402

LESSON_01 = "notebooks/01_self_attention.ipynb"
LESSON_07 = "notebooks/07_training_and_generation.ipynb"
MB = 1024 * 1024


def mem(pid: int) -> dict:
    info = psutil.Process(pid).memory_full_info()
    return {"rss": info.rss / MB, "pss": info.pss / MB, "uss": info.uss / MB}


def kernel_mem(kernel) -> dict:
    return {key: value / MB for key, value in kernel.memory().items()}


def server_pid(hub: ClassHub, student: Student) -> int:
    for proc in hub.processes():
        try:
            if "jupyterhub-singleuser" in " ".join(proc.cmdline()) and proc.environ().get("JUPYTERHUB_USER") == student.name:
                return proc.pid
        except psutil.Error:
            continue
    raise RuntimeError(f"no server process for {student.name}")


def summary(rows: list[dict], key: str) -> str:
    values = [r[key] for r in rows]
    return f"{statistics.median(values):6.0f} (min {min(values):.0f}, max {max(values):.0f})"


def print_memory(label: str, rows: list[dict]) -> None:
    print(f"  {label:<34} RSS {summary(rows, 'rss')}   PSS {summary(rows, 'pss')}   USS {summary(rows, 'uss')}  MB")


def code_cells(path: Path) -> list[str]:
    import json
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in cells if c["cell_type"] == "code"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--rounds", default="1,4,8", help="how many students run lesson 07 at once, per round")
    args = parser.parse_args(argv)
    rounds = [int(n) for n in args.rounds.split(",")]
    if max(rounds) > args.students or min(rounds) < 1:
        parser.error(f"--rounds must lie between 1 and --students ({args.students}); got {args.rounds}")

    interruptible()
    start = time.monotonic()
    workdir = temp_workdir()
    repo = course_repo(workdir)
    training_cell = next(i for i, src in enumerate(code_cells(repo / LESSON_07)) if "train_translator(" in src)
    hub = ClassHub(workdir / "hub")
    print(f"machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
          f"load average at start {os.getloadavg()[0]:.1f}")
    try:
        hub.start()
        students = [Student(hub, f"student{i:02d}") for i in range(1, args.students + 1)]
        link = class_link(hub, repo, LESSON_01)
        with cf.ThreadPoolExecutor(len(students)) as pool:
            list(pool.map(lambda s: (s.login(), s.open_link(link)), students))
        servers = [mem(server_pid(hub, s)) for s in students]
        print(f"\n{args.students} students logged in and pulled the course ({time.monotonic() - start:.0f} s)")
        print("memory per student (median over students; MB = MiB)")
        print_memory("Jupyter server, JupyterLab open", servers)

        path01 = f"{repo.name}/{LESSON_01}"
        kernels = [s.start_kernel(path01) for s in students]
        with cf.ThreadPoolExecutor(len(students)) as pool:
            list(pool.map(lambda sk: sk[0].run_notebook(path01, kernel=sk[1], stop_after=1), zip(students, kernels)))
        print_memory("kernel, idle after the setup cell", [kernel_mem(k) for k in kernels])
        cpu_setup = [k.cpu_seconds() for k in kernels]
        with cf.ThreadPoolExecutor(len(students)) as pool:
            t01 = list(pool.map(lambda sk: sk[0].run_notebook(path01, kernel=sk[1]), zip(students, kernels)))
        print_memory("kernel after lesson 01", [kernel_mem(k) for k in kernels])
        cpu_01 = statistics.median(k.cpu_seconds() - c for k, c in zip(kernels, cpu_setup))
        print(f"  (CPU time of a kernel: setup cell {statistics.median(cpu_setup):.1f} s, lesson 01 {cpu_01:.1f} s)")
        for kernel in kernels:
            kernel.shutdown()
        print(f"  (lesson 01, {args.students} at once: {min(r['seconds'] for r in t01):.0f}-"
              f"{max(r['seconds'] for r in t01):.0f} s each)")

        path07 = f"{repo.name}/{LESSON_07}"
        link07 = class_link(hub, repo, LESSON_07)
        print(f"\nlesson 07 ({len(code_cells(repo / LESSON_07))} code cells; training is code cell {training_cell}),"
              " students running it at the same time:")
        after_07 = []
        for n in rounds:
            group = students[:n]
            peaks: dict[str, float] = {}
            cell_times: dict[str, float] = {}
            cpu: dict[str, tuple[float, float]] = {}

            def run(student):
                student.open_link(link07)
                kernel = student.start_kernel(path07)
                marks, cpu_marks = {}, {}

                def on_cell(index, k):
                    marks[index], cpu_marks[index] = time.monotonic(), k.cpu_seconds()
                marks[-1], cpu_marks[-1] = time.monotonic(), kernel.cpu_seconds()
                result = student.run_notebook(path07, kernel=kernel, on_cell=on_cell)
                cell_times[student.name] = marks[training_cell] - marks[training_cell - 1]
                cpu[student.name] = (cpu_marks[max(cpu_marks)] - cpu_marks[-1],
                                     cpu_marks[training_cell] - cpu_marks[training_cell - 1])
                result["memory"] = kernel_mem(kernel)
                kernel.shutdown()
                return result

            def sample():
                for proc in hub.record():
                    try:
                        if "ipykernel" in " ".join(proc.cmdline()):
                            peaks[proc.pid] = max(peaks.get(proc.pid, 0), proc.memory_info().rss / MB)
                    except psutil.Error:
                        continue
            load_before = os.getloadavg()[0]
            with cf.ThreadPoolExecutor(n) as pool:
                futures = [pool.submit(run, s) for s in group]
                while not all(f.done() for f in futures):
                    sample()
                    time.sleep(1)
                results = [f.result() for f in futures]
            after_07.extend(r["memory"] for r in results)
            lesson = [r["seconds"] for r in results]
            train = list(cell_times.values())
            print(f"  {n} at once: lesson {statistics.median(lesson):5.0f} s (max {max(lesson):.0f}), "
                  f"training cell {statistics.median(train):5.1f} s (max {max(train):.1f}), "
                  f"peak kernel RSS {max(peaks.values()):.0f} MB; load average {load_before:.1f} before")
            print(f"    CPU time per student (load-independent): lesson "
                  f"{statistics.median(c[0] for c in cpu.values()):.0f} s, training cell "
                  f"{statistics.median(c[1] for c in cpu.values()):.1f} s")
        print("\nmemory per student after lesson 07 (the kernel holds the trained translator)")
        print_memory("kernel after lesson 07", after_07)
    finally:
        leftovers = hub.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"\nstopped everything ({len(hub.seen)} processes were started); "
              f"left behind: {leftovers or 'none'}; total {time.monotonic() - start:.0f} s")
    return 1 if leftovers else 0


if __name__ == "__main__":
    sys.exit(main())
