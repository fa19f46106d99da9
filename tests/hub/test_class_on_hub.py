"""A class on one JupyterHub: eight simulated students, one nbgitpuller link (make test-hub).

A real JupyterHub on 127.0.0.1 (tools/hub_class.py: configurable-http-proxy from npm, DummyAuthenticator,
SimpleLocalProcessSpawner with a home directory per student) serves the course from a local clone of this
checkout's HEAD. Every student logs in through the login form, opens the teacher's link (tools/hub_link.py),
gets their own copy, and runs lesson 01 in a kernel of their own server; several train lesson 07's model at
once; an edit a student saved survives the teacher's next change and a second click on the link. The run
stops everything it started and checks that no process of it is left. The tests run in order, on one hub.
"""
from __future__ import annotations

import concurrent.futures as cf
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from hub_class import (ClassHub, Student, class_link, clone_of, course_repo, git, off_loopback,  # noqa: E402
                       teacher_commit, temp_workdir)

STUDENTS = 8
TRAINERS = 3          # students who run lesson 07 (training) at the same time
BUDGET = 510          # seconds for the whole module, start to stop (make test-hub: at most 10 minutes in all)
LESSON_01 = "notebooks/01_self_attention.ipynb"
LESSON_07 = "notebooks/07_training_and_generation.ipynb"
NAMES = [f"student{i:02d}" for i in range(1, STUDENTS + 1)]


@pytest.fixture(scope="module")
def klass(report):
    start = time.monotonic()
    workdir = temp_workdir()
    repo = course_repo(workdir)
    hub = ClassHub(workdir / "hub")
    state = {"hub": hub, "repo": repo, "start": start, "connections": [], "students": []}
    try:
        hub.start()
        report.append(f"hub up on {hub.url} in {time.monotonic() - start:.1f} s (workdir {workdir})")
        state["students"] = [Student(hub, name) for name in NAMES]
        yield state
    finally:
        leftovers = hub.stop()
        state["leftovers"] = leftovers
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


def left(klass) -> float:
    remaining = BUDGET - (time.monotonic() - klass["start"])
    if remaining <= 0:
        pytest.fail(f"the class ran past its budget of {BUDGET} s")
    return remaining


def concurrently(klass, students, work):
    """Run work(student) for every student at once, watching the run's sockets while they work."""
    hub = klass["hub"]
    results = {}
    pool = cf.ThreadPoolExecutor(len(students))
    try:
        futures = {pool.submit(work, s): s for s in students}
        pending = set(futures)
        while pending:
            done, pending = cf.wait(pending, timeout=2)
            klass["connections"].extend(hub.connections())
            if time.monotonic() - klass["start"] > BUDGET:
                pytest.fail(f"the class ran past its budget of {BUDGET} s")
        for future, student in futures.items():
            results[student.name] = future.result()  # re-raises a student's failure, with their name
    finally:
        # on a failure or an interrupt, do not wait for the other students: stopping the hub (the fixture's
        # teardown) stops their servers, and their threads end with a closed connection
        pool.shutdown(wait=False, cancel_futures=True)
    return results


def test_every_student_logs_in_and_gets_their_own_copy(klass, report):
    hub, repo, students = klass["hub"], klass["repo"], klass["students"]
    assert students[0].login_is_refused_with("not-the-password")  # the authenticator does check
    link = class_link(hub, repo, LESSON_01)
    report.append(f"the link: {link}")

    def arrive(student):
        student.login()
        return student.open_link(link, timeout=left(klass))

    results = concurrently(klass, students, arrive)
    for student in students:
        result = results[student.name]
        clone = clone_of(student, repo)
        assert result["opened"] == f"{student.base}lab/tree/{repo.name}/{LESSON_01}"
        assert (clone / LESSON_01).is_file() and (clone / ".git").is_dir()
        assert student.read_notebook(f"{repo.name}/{LESSON_01}")["cells"], student.name
    times = sorted(r["seconds"] for r in results.values())
    report.append(f"{STUDENTS} students logged in and pulled the course at once: {times[0]:.1f}-{times[-1]:.1f} s each")

    # one server per student, each in its own home, each home its own copy (not links to one)
    servers = {}
    for proc in hub.processes():
        env = proc.environ()
        if "jupyterhub-singleuser" in " ".join(proc.cmdline()):
            servers[env["JUPYTERHUB_USER"]] = env["HOME"]
    assert servers == {s.name: str(s.home) for s in students}
    inodes = {(clone_of(s, repo) / LESSON_01).stat().st_ino for s in students}
    assert len(inodes) == STUDENTS


def test_lesson_01_runs_for_every_student(klass, report):
    path = f"{klass['repo'].name}/{LESSON_01}"
    results = concurrently(klass, klass["students"], lambda s: s.run_notebook(path, timeout=left(klass)))
    times = sorted(r["seconds"] for r in results.values())
    cells = {r["cells"] for r in results.values()}
    assert cells == {len([c for c in json.loads((klass["repo"] / LESSON_01).read_text())["cells"]
                          if c["cell_type"] == "code"])}
    report.append(f"lesson 01 ({cells.pop()} code cells), {STUDENTS} students at once: "
                  f"{times[0]:.0f}-{times[-1]:.0f} s each, no cell failed")


def test_lesson_07_trains_for_several_students_at_once(klass, report):
    repo = klass["repo"]
    trainers = klass["students"][:TRAINERS]

    def lesson_07(student):
        student.open_link(class_link(klass["hub"], repo, LESSON_07), timeout=left(klass))
        return student.run_notebook(f"{repo.name}/{LESSON_07}", timeout=left(klass))

    results = concurrently(klass, trainers, lesson_07)
    times = sorted(r["seconds"] for r in results.values())
    report.append(f"lesson 07 (trains the translator), {TRAINERS} students at once: "
                  f"{times[0]:.0f}-{times[-1]:.0f} s each, no cell failed")


def test_a_students_edit_survives_the_next_pull(klass, report):
    hub, repo, students = klass["hub"], klass["repo"], klass["students"]
    editor, other = students[0], students[1]
    path = f"{repo.name}/{LESSON_01}"
    note = "My note: the scores are divided by sqrt(d_k) so that softmax does not saturate."
    notebook = editor.read_notebook(path)
    notebook["cells"].append({"cell_type": "markdown", "metadata": {}, "source": note, "id": "student-note"})
    editor.save_notebook(path, notebook)
    assert note in (clone_of(editor, repo) / LESSON_01).read_text()
    assert note not in (clone_of(other, repo) / LESSON_01).read_text()  # each has their own copy

    # the teacher changes the lesson (the notebook the student edited too) and the README, and commits
    teacher_line = "\nTeacher's update for session 2.\n"
    teacher_commit(repo, {"README.md": teacher_line}, "Session 2 notes")
    teacher_nb = json.loads((repo / LESSON_01).read_text())
    teacher_nb["cells"][0]["source"] = ["# Updated by the teacher\n"] + list(teacher_nb["cells"][0]["source"])
    (repo / LESSON_01).write_text(json.dumps(teacher_nb, indent=1, ensure_ascii=False) + "\n")
    teacher_commit(repo, {}, "Lesson 01: a new first line")

    link = class_link(hub, repo, LESSON_01)
    results = concurrently(klass, students, lambda s: s.open_link(link, timeout=left(klass)))
    for student in students:
        assert (clone_of(student, repo) / "README.md").read_text().endswith(teacher_line), student.name
    after = editor.read_notebook(path)
    assert any(c["source"] == note for c in after["cells"]), "the student's saved note was lost by the second pull"
    other_nb = other.read_notebook(path)
    assert "".join(other_nb["cells"][0]["source"]).startswith("# Updated by the teacher")
    assert not any(c["source"] == note for c in other_nb["cells"])
    # how: nbgitpuller committed the editor's change in their clone, then merged the teacher's commits into it
    editor_log = git("log", "--format=%s", cwd=clone_of(editor, repo)).splitlines()
    other_log = git("log", "--format=%s", cwd=clone_of(other, repo)).splitlines()
    assert "Automatic commit by nbgitpuller" in editor_log and "Lesson 01: a new first line" in editor_log
    assert "Automatic commit by nbgitpuller" not in other_log and other_log[0] == "Lesson 01: a new first line"
    merged = "".join(after["cells"][0]["source"]).startswith("# Updated by the teacher")
    report.append(f"second pull by all {STUDENTS}: {max(r['seconds'] for r in results.values()):.1f} s at most; "
                  f"the editor kept their note; the teacher's README change reached everyone; the teacher's "
                  f"change to the edited notebook {'merged into' if merged else 'gave way to'} the student's copy")


def test_all_traffic_stays_on_loopback(klass, report):
    connections = klass["connections"] + klass["hub"].connections()
    assert len({c[0] for c in connections}) >= STUDENTS + 2  # hub, proxy, servers (and kernels) were watched
    # the check itself flags a socket listening on every interface or talking to another host
    assert off_loopback([("p", "0.0.0.0", ""), ("p", "127.0.0.1", "10.0.0.5"), ("p", "127.0.0.1", "127.0.0.1")]) \
        == [("p", "0.0.0.0", ""), ("p", "127.0.0.1", "10.0.0.5")]
    off = off_loopback(connections)
    assert not off, f"sockets off loopback: {off[:10]}"
    report.append(f"{len(connections)} socket observations of {len({c[0] for c in connections})} processes: "
                  "all on 127.0.0.1")


def test_everything_stops_and_no_process_is_left(klass, report):
    hub = klass["hub"]
    running = hub.record()
    kinds = " ".join(hub.seen.values())
    assert running, "the run's processes must be visible while it runs (else this check could not fail)"
    assert "configurable-http-proxy" in kinds and kinds.count("jupyterhub-singleuser") >= STUDENTS
    assert "ipykernel" in kinds
    leftovers = hub.stop()
    assert leftovers == [], f"processes had to be killed: {leftovers}"
    assert hub.processes() == []
    elapsed = time.monotonic() - klass["start"]
    report.append(f"stopped: {len(hub.seen)} processes were started (hub, proxy, {STUDENTS} servers, kernels, git), "
                  f"none left; the whole class took {elapsed:.0f} s (budget {BUDGET} s)")
