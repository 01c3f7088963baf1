"""Is a grade, once recorded, never lost: not when the grader is killed, not when it fails?"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.commands.grade import find_jobs, grade
from autograder.engine.gradebook import open_gradebook, read_scores, record, sqlite_path
from autograder.paths import ROOT, gradebook_url, source_notebook
from autograder.commands.release import generate
from autograder.engine.results import FAILED, GRADED, GRADER_ERROR, PASSED, CellResult, SubmissionResult
from autograder.engine.runner import Limits
from autograder.course.submissions import fill, reference_answers
from conftest import ISOLATED, requires_isolation, write_submission

pytestmark = pytest.mark.slow

SLUG = "rnn"
CLASS_SIZE = 16
#: Each student's score per student id, as SQLite holds it (read while grade is writing).
SCORES_SQL = """
    SELECT s.student_id, SUM(g.auto_score) FROM submitted_assignment s
    JOIN submitted_notebook n ON n.assignment_id = s.id JOIN grade g ON g.notebook_id = n.id
    GROUP BY s.student_id
"""


def stored_scores(database: Path) -> dict[str, float]:
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)) as db:
        return dict(db.execute(SCORES_SQL).fetchall())


def integrity(database: Path) -> str:
    with contextlib.closing(sqlite3.connect(database)) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """The rnn assignment (generated once: nbgrader takes seconds) and a class of CLASS_SIZE
    correct submissions (8 points each)."""
    folder = tmp_path_factory.mktemp("safety")
    released = json.loads(generate(SLUG, folder).read_text(encoding="utf-8"))
    notebook = fill(released, reference_answers(json.loads(source_notebook(SLUG).read_text(encoding="utf-8"))))
    for number in range(CLASS_SIZE):
        write_submission(folder, f"student{number:02d}", SLUG, notebook)
    return folder


@pytest.fixture
def course(generated, tmp_path) -> Path:
    """A fresh copy of the generated course and its gradebook, for one test."""
    shutil.copytree(generated, tmp_path / "course")
    return tmp_path / "course"


def grade_command(course: Path) -> list[str]:
    isolation = [] if ISOLATED else ["--no-isolation"]
    return [sys.executable, "-m", "autograder", "--course", str(course), "grade", SLUG, "--quiet", "--workers", "2",
            *isolation]


def test_does_a_grader_killed_mid_class_keep_every_grade_it_recorded(course):
    database = sqlite_path(gradebook_url(course))
    grader = subprocess.Popen(grade_command(course), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        seen: dict[str, float] = {}
        deadline = time.monotonic() + 120
        while len(seen) < 3 and time.monotonic() < deadline:  # the gradebook is readable while grade writes
            time.sleep(0.05)
            with contextlib.suppress(sqlite3.OperationalError):  # not created yet
                seen = stored_scores(database)
        os.kill(grader.pid, signal.SIGKILL)  # the grader itself, in the middle of the class
        grader.wait()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(grader.pid, signal.SIGKILL)  # what it left behind: its pool, their sandboxes
    assert 3 <= len(seen) < CLASS_SIZE, f"the kill did not come mid-class ({len(seen)} graded)"

    assert integrity(database) == "ok"
    after_kill = stored_scores(database)
    assert set(seen) <= set(after_kill) and set(after_kill.values()) == {8.0}  # nothing half-written
    assert len(after_kill) < CLASS_SIZE

    rerun = subprocess.run(grade_command(course), cwd=ROOT, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    final = read_scores(gradebook_url(course), SLUG)
    assert {student: s.score for student, s in final.items()} == {f"student{n:02d}": 8.0 for n in range(CLASS_SIZE)}
    backups = sorted((database.parent / "backups").glob("gradebook-*.db"))
    assert set(after_kill) <= set(stored_scores(backups[-1]))  # the rerun's backup holds the grades before it


def test_is_the_gradebook_in_wal_mode_and_backed_up_before_each_run(course):
    db = gradebook_url(course)
    jobs = find_jobs(course, [SLUG], ["student00"])
    grade(jobs, db, course, 1, Limits(isolation=ISOLATED), progress=False)
    grade(jobs, db, course, 1, Limits(isolation=ISOLATED), progress=False)
    database = sqlite_path(db)
    with contextlib.closing(sqlite3.connect(database)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    backups = sorted((database.parent / "backups").glob("gradebook-*.db"))
    assert len(backups) == 2 and integrity(backups[-1]) == "ok"
    assert stored_scores(backups[0]) == {} and stored_scores(backups[-1]) == {"student00": 8.0}


def test_does_a_failure_while_recording_leave_nothing_of_that_submission(course):
    db = gradebook_url(course)
    grade(find_jobs(course, [SLUG], ["student00"]), db, course, 1, Limits(isolation=ISOLATED), progress=False)
    broken = SubmissionResult("newcomer", SLUG, GRADED, [CellResult("test_rnn_step_forward_values", 2, 2, "passed"),
                                                         CellResult("no_such_cell", 1, 1, "passed")])
    with open_gradebook(db) as gradebook:
        with pytest.raises(Exception, match="no_such_cell|No such"):
            record(gradebook, broken)
    with open_gradebook(db) as gradebook:
        assert [s.id for s in gradebook.students] == ["student00"]  # no student row, no submission row
    assert stored_scores(sqlite_path(db)) == {"student00": 8.0}


@requires_isolation
def test_does_a_grader_failure_leave_the_earlier_grade_and_result_in_place(course, tmp_path, monkeypatch):
    db = gradebook_url(course)
    jobs = find_jobs(course, [SLUG], ["student00"])
    grade(jobs, db, course, 1, Limits(isolation=ISOLATED), progress=False)
    result_file = course / "autograded" / "student00" / SLUG / "result.json"
    kept = result_file.read_text(encoding="utf-8")
    # The grading machine breaks between two runs (here: bubblewrap is gone from PATH): not the
    # submission's fault, so nothing is recorded for it.
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    [failed] = grade(jobs, db, course, 1, Limits(isolation=True), progress=False, force=True)
    assert failed.status == GRADER_ERROR and "could not" in failed.notes[0], failed.notes
    assert read_scores(db, SLUG)["student00"].score == 8
    assert result_file.read_text(encoding="utf-8") == kept


def small_gradebook(folder: Path) -> str:
    """A gradebook holding rnn with two check cells, built with nbgrader's API (faster than
    generating the assignment): test_forward worth 2 points and test_backward worth 3."""
    url = f"sqlite:///{folder / 'gradebook.db'}"
    with open_gradebook(url) as gradebook:
        gradebook.add_assignment(SLUG)
        gradebook.add_notebook(SLUG, SLUG)
        for cell, points in [("test_forward", 2), ("test_backward", 3)]:
            gradebook.add_grade_cell(cell, SLUG, SLUG, max_score=points, cell_type="code")
    return url


def give_manual_score(db: str, student: str, cell: str, score: float) -> None:
    """What the formgrader does when a person scores a cell (nbgrader 0.9's GradeHandler.put)."""
    with open_gradebook(db) as gradebook:
        grade = gradebook.find_grade(cell, SLUG, SLUG, student)
        grade.manual_score = score
        grade.needs_manual_grade = False
        gradebook.db.commit()


def test_does_a_regrade_keep_the_manual_score_given_in_the_formgrader(tmp_path):
    db = small_gradebook(tmp_path)
    result = SubmissionResult("alice", SLUG, GRADED, [CellResult("test_forward", 2, 2, PASSED),
                                                      CellResult("test_backward", 0, 3, FAILED, "dWh is wrong")])
    with open_gradebook(db) as gradebook:
        record(gradebook, result)
    give_manual_score(db, "alice", "test_backward", 1.5)  # partial credit for a near miss
    with open_gradebook(db) as gradebook:
        record(gradebook, result)  # the regrade, as `grade` reruns it
    with open_gradebook(db) as gradebook:
        kept = gradebook.find_grade("test_backward", SLUG, SLUG, "alice")
        other = gradebook.find_grade("test_forward", SLUG, SLUG, "alice")
        # As nbgrader autograde leaves it: the manual score kept and flagged for review.
        assert (kept.auto_score, kept.manual_score, kept.needs_manual_grade) == (0, 1.5, True)
        assert (other.auto_score, other.manual_score, other.needs_manual_grade) == (2, None, False)
    assert read_scores(db, SLUG)["alice"].score == 3.5  # the total counts the manual score


def test_is_a_grading_process_death_blamed_only_on_its_own_submission(course):
    """A submission whose grading process dies is tried alone; the classmates that were in the
    same pool when it died are graded, never charged with its deaths."""
    from autograder.commands.grade import ATTEMPTS, find_jobs, run_pool
    from autograder.engine.runner import Limits
    from dying_task import KILLER, make_dying_task

    shutil.copytree(course / "submitted" / "student00", course / "submitted" / KILLER)
    jobs = find_jobs(course, [SLUG])
    results = {}
    run_pool(jobs, 2, Limits(isolation=ISOLATED), course, lambda job, result: results.update({job.student: result}),
             make=make_dying_task)
    assert set(results) == {job.student for job in jobs}
    innocent = {student: (r.status, r.score) for student, r in results.items() if student != KILLER}
    assert innocent == {student: (GRADED, 8.0) for student in innocent}
    assert results[KILLER].status == GRADER_ERROR
    assert f"died {ATTEMPTS} times on this submission alone" in results[KILLER].notes[0]
