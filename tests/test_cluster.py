"""Does a class graded on a Dask cluster, into PostgreSQL, get exactly the grades of one machine?

Real servers, started here on 127.0.0.1 and stopped at the end, also on failure
(tests/servers.py): a PostgreSQL server of its own (initdb into a temporary
folder) and a Dask scheduler with two workers, subprocesses of this
environment. The workers run in their own mount namespace with an empty tmpfs
over the course being graded and over the repository's solutions/ and
exercises/: they grade from the jobs alone.

Without PostgreSQL, Dask or bubblewrap on this machine these tests are skipped
with a loud message; with ``COURSE_REQUIRE_SERVERS=1`` (set by .ci/run) that is
a failure instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from autograder.engine import cluster as cluster_module
from autograder.engine.gradebook import open_gradebook, read_scores
from autograder.commands.grade import find_jobs, grade
from autograder.paths import ROOT, database_url, gradebook_url, source_notebook
from autograder.commands.release import generate
from autograder.engine.results import GRADED, GRADER_ERROR, MISSING, UNREADABLE, SubmissionResult
from autograder.engine.runner import Limits
from autograder.course.submissions import fill, reference_answers
from conftest import SERVERS_PROBLEM, mutant_student, write_submission
from mutants import catalogue
from servers import dask_cluster, postgres
from test_bad_input import CASES, TIMEOUT, honest, write_case

requires_servers = pytest.mark.skipif(SERVERS_PROBLEM is not None,
                                      reason=f"CLUSTER AND POSTGRESQL TESTS SKIPPED: {SERVERS_PROBLEM}")
pytestmark = [pytest.mark.slow, requires_servers]

#: The mixed class: honest and tampering work, unreadable files, an infinite loop, a dying kernel.
CHOSEN = ("malformed-json", "empty-file", "missing-notebook", "infinite-loop-in-function", "os-exit",
          "segfault-in-numpy", "edited-test-cells", "patch-numpy-comparisons", "read-solutions",
          # hostile files and replies: each that submission's own result on a cluster too
          "forged-reply-naming-its-payload-200-times", "json-nested-100k-deep", "lone-surrogate", "list-as-grade-id")
LIMITS = Limits(cell_timeout=TIMEOUT, memory_mb=1024)


def make_class(course: Path) -> None:
    """Part of the rnn catalogue of bad input, an honest student, and bptt's reference and mutants."""
    generate("rnn", course)
    for case in CASES:
        if case.student in CHOSEN:
            write_case(course, case)
    write_submission(course, "honest", "rnn", honest())
    released = json.loads(generate("bptt", course).read_text(encoding="utf-8"))
    answers = reference_answers(json.loads(source_notebook("bptt").read_text(encoding="utf-8")))
    write_submission(course, "reference", "bptt", fill(released, answers))
    for mutant in catalogue("bptt")[:3]:
        write_submission(course, mutant_student(mutant), "bptt", fill(released, mutant.apply(answers)))


def cells(results) -> dict:
    """What a grade is: per submission its status and every check's points and message."""
    return {(r.slug, r.student): (r.status, [(c.grade_id, c.points, c.status, c.message) for c in r.cells])
            for r in results}


def stored(db_url: str) -> dict:
    return {(slug, student): [(c.cell, c.score) for c in score.cells]
            for slug in ("rnn", "bptt") for student, score in read_scores(db_url, slug).items()}


def autograder(*args: str, course: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "--course", str(course), *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def database():
    with postgres() as url:
        yield url


@pytest.fixture(scope="module")
def classes(tmp_path_factory, database):
    """The class graded twice: on this machine into SQLite, and on the cluster into PostgreSQL."""
    local, remote = tmp_path_factory.mktemp("local-course"), tmp_path_factory.mktemp("cluster-course")
    make_class(local)
    shutil.copytree(local / "submitted", remote / "submitted")
    for slug in ("rnn", "bptt"):
        generate(slug, remote)
    local_results = grade(find_jobs(local, ["rnn", "bptt"]), gradebook_url(local), local, workers=2,
                          limits=LIMITS, progress=False)
    with dask_cluster(workers=2, hidden=(remote, ROOT / "solutions", ROOT / "exercises")) as running:
        from distributed import Client

        with Client(running.address, set_as_default=False) as client:
            seen = client.run(lambda: sorted(os.listdir(remote)) + sorted(os.listdir(ROOT / "solutions")))
        run = autograder("grade", "rnn", "bptt", "--cluster", running.address, "--db", database,
                         "--timeout", str(TIMEOUT), "--memory", "1024", "--quiet", course=remote)
        rerun = autograder("grade", "rnn", "--cluster", running.address, "--db", database,
                           "--timeout", str(TIMEOUT), "--memory", "1024", "--quiet", course=remote)
    remote_results = [SubmissionResult.load(path) for path in sorted(remote.glob("autograded/*/*/result.json"))]
    return {"local": local, "remote": remote, "local_results": local_results,
            "remote_results": remote_results, "run": run, "rerun": rerun, "seen": seen}


def test_does_the_cluster_give_every_grade_that_one_machine_gives(classes):
    run = classes["run"]
    assert run.returncode == 0, run.stdout + run.stderr
    local, remote = cells(classes["local_results"]), cells(classes["remote_results"])
    assert remote == local
    statuses = {status for status, _ in local.values()}
    assert {GRADED, UNREADABLE, MISSING} <= statuses and GRADER_ERROR not in statuses  # a mixed class
    assert sum(points for _, checks in local.values() for _, points, _, _ in checks) > 0


def test_does_the_postgresql_gradebook_hold_exactly_the_sqlite_grades(classes, database):
    assert stored(database) == stored(gradebook_url(classes["local"]))
    assert database.startswith("postgresql://")  # the plain form works: the course names psycopg 3


def test_did_the_workers_grade_without_seeing_the_course(classes):
    assert classes["seen"] and all(listing == [] for listing in classes["seen"].values()), classes["seen"]


def test_does_the_sandbox_hold_on_every_worker(classes):
    """A submission that reads solutions/ gets the same refusal on a worker as on one machine."""
    result = next(r for r in classes["remote_results"] if r.student == "read-solutions")
    assert any("may not access" in note for note in result.notes), result.notes
    dying = next(r for r in classes["remote_results"] if r.student == "os-exit")
    assert [c.points for c in dying.cells] == [2.0, 1.0, 0.0, 0.0]  # the cells before the crash kept


def test_is_a_rerun_on_the_cluster_idempotent(classes, database):
    assert classes["rerun"].returncode == 0, classes["rerun"].stderr
    with open_gradebook(database) as gradebook:
        submissions = gradebook.assignment_submissions("rnn")
        counts = {s.student_id: len(s.notebooks[0].grades) for s in submissions}
    rnn_students = {r.student for r in classes["local_results"] if r.slug == "rnn"}
    assert set(counts) == rnn_students and set(counts.values()) == {4}
    assert stored(database) == stored(gradebook_url(classes["local"]))


def test_do_report_and_nbgrader_export_read_the_postgresql_gradebook(classes, database, tmp_path):
    report = autograder("report", "--db", database, "--out", str(tmp_path / "reports"), course=classes["remote"])
    assert report.returncode == 0, report.stdout + report.stderr
    grades = (tmp_path / "reports" / "grades.csv").read_text(encoding="utf-8")
    assert "honest" in grades and "os-exit" in grades
    export = subprocess.run(
        [sys.executable, "-m", "nbgrader", "export", f"--CourseDirectory.db_url={database_url(database)}",
         f"--CourseDirectory.root={classes['remote']}", "--to", str(tmp_path / "grades.csv")],
        cwd=classes["remote"], capture_output=True, text=True, check=False,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"})
    assert export.returncode == 0, export.stdout + export.stderr
    rows = (tmp_path / "grades.csv").read_text(encoding="utf-8").splitlines()
    honest_row = next(row for row in rows if row.split(",")[0] == "rnn" and ",honest," in row)
    assert ",8.0," in honest_row or ",8," in honest_row, honest_row


def test_does_feedback_work_after_cluster_grading(classes):
    written = autograder("feedback", "rnn", course=classes["remote"])
    assert written.returncode == 0, written.stdout + written.stderr
    assert (classes["remote"] / "feedback" / "honest" / "rnn" / "rnn.html").is_file()


SLEEPY = "import time\ntime.sleep(1.0)\n"  # an added cell: each submission takes a moment


def test_does_a_worker_killed_mid_class_lose_or_double_no_grade(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    generate("rnn", course)
    released = json.loads((course / "exercises" / "rnn" / "rnn.ipynb").read_text(encoding="utf-8"))
    students = [f"student-{n:02d}" for n in range(14)]
    for n, student in enumerate(students):
        notebook = honest() if n % 2 == 0 else released  # honest work scores 8, the untouched release 0
        notebook = {**notebook, "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                                           "source": SLEEPY}, *notebook["cells"]]}
        write_submission(course, student, "rnn", notebook)
    with postgres("kill") as db, dask_cluster(workers=2, hidden=(course,)) as running:
        outcome = {}
        thread = threading.Thread(target=lambda: outcome.setdefault("results", grade(
            find_jobs(course, ["rnn"]), db, course, limits=LIMITS, progress=False, cluster=running.address)))
        thread.start()
        deadline = time.monotonic() + 120
        while not list(course.glob("autograded/*/rnn/result.json")) and time.monotonic() < deadline:
            time.sleep(0.2)
        from distributed import Client

        with Client(running.address, set_as_default=False) as client:
            busy = [address for address, keys in client.processing().items() if keys]
            names = {address: info["name"] for address, info in client.scheduler_info()["workers"].items()}
        assert busy, "no worker was grading when the test meant to kill one"
        victim = names[busy[0]]
        running.kill_worker(victim)
        killed_after = len(list(course.glob("autograded/*/rnn/result.json")))
        thread.join(timeout=300)
        assert not thread.is_alive(), "grading did not finish after a worker died"
        results = outcome["results"]
        assert killed_after < len(students), "the class was over before the kill: the test proved nothing"
        assert sorted(r.student for r in results) == students
        assert {r.student: r.score for r in results} == {s: 8.0 if n % 2 == 0 else 0.0 for n, s in enumerate(students)}
        assert all(r.status == GRADED for r in results), [r.notes for r in results if r.status != GRADED]
        with open_gradebook(db) as gradebook:
            submissions = gradebook.assignment_submissions("rnn")
            rows = sorted((s.student_id, len(s.notebooks[0].grades)) for s in submissions)
        assert rows == [(student, 4) for student in students]  # each grade once, none lost
        assert {s: r.score for s, r in read_scores(db, "rnn").items()} == {r.student: r.score for r in results}


def test_does_the_client_refuse_a_cluster_that_is_not_there_before_touching_the_gradebook(monkeypatch, tmp_path):
    from servers import free_port

    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", 2)
    course = tmp_path / "course"
    course.mkdir()
    generate("rnn", course)
    write_submission(course, "honest", "rnn", honest())
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with pytest.raises(cluster_module.ClusterUnavailable, match="no Dask scheduler answers"):
        grade(find_jobs(course, ["rnn"]), db, course, limits=LIMITS, progress=False,
              cluster=f"tcp://127.0.0.1:{free_port()}")
    assert not (tmp_path / "gradebook.db").exists()


def test_does_the_client_refuse_workers_that_run_other_grading_software(monkeypatch):
    with dask_cluster(workers=1) as running:
        monkeypatch.setattr(cluster_module, "software_fingerprint", lambda: "not-the-workers")
        with pytest.raises(cluster_module.ClusterUnavailable, match="run other grading software"):
            cluster_module.connect(running.address)
