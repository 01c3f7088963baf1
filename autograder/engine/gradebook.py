"""nbgrader's gradebook: register an assignment, record grades, read them back.

The gradebook is nbgrader's own database, so nbgrader's tools (``nbgrader
export``, the formgrader) keep working on grades the course's grader wrote.
Only the parent process of ``grade`` writes to it, one submission per
transaction (``record``), so parallel grading can neither corrupt nor lose a
grade, and an interrupted run keeps every grade committed before it stopped
and nothing of the submission it was writing. A regrade replaces the automatic
scores and keeps every manual score given in the formgrader, as ``nbgrader
autograde`` does.

A SQLite gradebook is also protected before every run that writes it
(``protect``):

- it is switched to write-ahead logging (WAL). A grader killed at any moment
  leaves a gradebook that opens with every committed grade (the rollback
  journal gives that too); with WAL, in addition, readers (``report``,
  ``nbgrader export``, the formgrader) never block the grader's commits, which
  with the rollback journal fail with "database is locked" and stop the run.
  WAL needs a local disk (not NFS), as SQLite itself does for safe locking.
- a copy is taken with SQLite's online backup API (a consistent snapshot even
  while another process reads it) into ``backups/`` next to it; the last
  BACKUPS_KEPT are kept. A run that records wrong grades for a whole class
  (graded with the wrong solutions, say) overwrites good ones: the copy is the
  way back.

A PostgreSQL gradebook relies on the server's own durability; back it up with
``pg_dump``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from autograder.engine import nbgrader_cli
from autograder.engine.lateness import Lateness, LatePolicy, judge
from autograder.paths import database_url
from autograder.course.plan import GradingPlan
from autograder.engine.results import SubmissionResult


@dataclass(frozen=True)
class CellScore:
    """The score of one graded (test) cell of one student's notebook."""

    cell: str
    score: float
    max_score: float


@dataclass(frozen=True)
class StudentScore:
    """One student's result on one assignment, as the gradebook holds it."""

    student: str
    score: float
    max_score: float
    cells: tuple[CellScore, ...]

    def cell(self, grade_id: str) -> CellScore:
        return next(c for c in self.cells if c.cell == grade_id)

    @property
    def failed_cells(self) -> list[str]:
        return [c.cell for c in self.cells if c.score < c.max_score]


def open_gradebook(db_url: str):
    """nbgrader's Gradebook at ``db_url`` (created if new)."""
    from nbgrader.api import Gradebook  # imported late: nbgrader is an instructor-only dependency

    # A new gradebook is created by running nbgrader's `alembic` command, found on
    # PATH: make sure this environment's scripts are there (they are not when
    # Python is run as .venv/bin/python without activating the environment).
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
    return Gradebook(database_url(db_url))


#: How many backups of a SQLite gradebook ``protect`` keeps.
BACKUPS_KEPT = 10
SQLITE_PREFIX = "sqlite:///"


def sqlite_path(db_url: str) -> Path | None:
    """The file of a SQLite gradebook URL (None for other databases)."""
    return Path(db_url[len(SQLITE_PREFIX):]) if db_url.startswith(SQLITE_PREFIX) else None


def protect(db_url: str) -> Path | None:
    """Before a run writes grades: WAL mode, and a backup copy. Returns the backup's path.

    Does nothing for a gradebook that does not exist yet or is not SQLite.
    """
    path = sqlite_path(db_url)
    if path is None or not path.is_file():
        return None
    folder = path.parent / "backups"
    folder.mkdir(exist_ok=True)
    backup = folder / f"{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**9:09d}{path.suffix}"
    with contextlib.closing(sqlite3.connect(path)) as source, contextlib.closing(sqlite3.connect(backup)) as copy:
        source.execute("PRAGMA journal_mode=WAL")
        source.backup(copy)
    for old in sorted(folder.glob(f"{path.stem}-*{path.suffix}"))[:-BACKUPS_KEPT]:
        old.unlink()
    return backup


def is_registered(db_url: str, plan: GradingPlan) -> bool:
    """Does the gradebook hold ``plan``'s assignment with the same check cells and points?"""
    from nbgrader.api import MissingEntry

    with open_gradebook(db_url) as gradebook:
        try:
            notebook = gradebook.find_notebook(plan.slug, plan.slug)
        except MissingEntry:
            return False
        cells = {cell.name: float(cell.max_score) for cell in notebook.grade_cells if cell.cell_type == "code"}
    return cells == {step.grade_id: step.points for step in plan.tests}


def register(course_root: Path, slug: str, db_url: str | None = None) -> str:
    """Record ``slug``'s cells, points and checksums in the gradebook.

    nbgrader stores them when it generates an assignment. The generated copy
    goes to a scratch folder: exercises/ is left as committed
    (``python -m autograder release`` is what rewrites it).
    """
    with tempfile.TemporaryDirectory() as scratch:
        return nbgrader_cli.run(
            ["generate_assignment", slug, "--force", f"--CourseDirectory.release_directory={scratch}"],
            course_root, db_url,
        )


@contextlib.contextmanager
def one_transaction(session):
    """Everything inside commits together, or not at all.

    nbgrader's helpers (``update_or_create_student``, ``..._submission``)
    commit as they go, so a grader killed between two of them would leave a
    submission row whose grades are not written yet. Inside this block their
    commits only flush; the block commits once at its end, and rolls back if
    anything in it fails.
    """
    commit = session.commit
    session.commit = session.flush
    try:
        yield
    except BaseException:
        session.rollback()
        raise
    finally:
        del session.commit  # the session's own commit again
    commit()


def set_auto_score(grade, points: float) -> None:
    """Give ``grade`` the grader's score exactly as ``nbgrader autograde`` does on a regrade.

    nbgrader 0.9 (``SaveAutoGrades._add_score``) overwrites only ``auto_score``: a manual
    score a person gave in the formgrader is kept, and it still counts, since nbgrader's
    ``Grade.score`` prefers it to the automatic one. The cell is then flagged for review
    (``needs_manual_grade``): the work under the manual score may have changed.
    """
    grade.auto_score = points
    grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None


def record(gradebook, result: SubmissionResult, timestamp: datetime | None = None,
           policy: LatePolicy | None = None, note: str | None = None) -> Lateness | None:
    """Write one submission's scores, its submission time and its late penalty in one transaction.

    Rerunning overwrites the automatic scores and keeps every manual one (``set_auto_score``);
    a ``reused`` result (unchanged since it was graded) writes only what the gradebook lost. ``timestamp`` (UTC) is when it was
    handed in (None keeps the recorded one, as ``nbgrader autograde`` does without a
    timestamp.txt); with a ``policy``, the late penalty is set as nbgrader's AssignLatePenalties
    sets it, and the returned Lateness says how the submission stands (``note``: why its
    timestamp could not be read).
    """
    from sqlalchemy.exc import SAWarning

    with one_transaction(gradebook.db):
        gradebook.update_or_create_student(result.student)
        with warnings.catch_warnings():
            # nbgrader 0.9's add_submission trips SQLAlchemy 2's autoflush warnings
            # about objects it adds a moment later; the rows it writes are complete.
            warnings.simplefilter("ignore", SAWarning)
            stamp = {"timestamp": timestamp} if timestamp is not None else {}
            submission = gradebook.update_or_create_submission(result.slug, result.student, **stamp)
        for cell in result.cells:
            grade = gradebook.find_grade(cell.grade_id, result.slug, result.slug, result.student)
            # A result reused because nothing changed (autograder.engine.unchanged) is not a regrade:
            # like a submission nbgrader autograde skips, it leaves a reviewed manual score's flag
            # alone, and writes only a score the gradebook lost.
            if not result.reused or grade.auto_score != cell.points:
                set_auto_score(grade, cell.points)
        return judge(gradebook, submission, policy, note) if policy is not None else None


def read_scores(db_url: str, slug: str) -> dict[str, StudentScore]:
    """Every graded student's score on ``slug``, from the gradebook."""
    results = {}
    with open_gradebook(db_url) as gradebook:
        for submission in gradebook.assignment_submissions(slug):
            cells = tuple(
                CellScore(grade.name, float(grade.score), float(grade.max_score))
                for notebook in submission.notebooks
                for grade in notebook.grades
                if grade.cell_type == "code"
            )
            results[submission.student_id] = StudentScore(
                submission.student_id, float(submission.score), float(submission.max_score), cells
            )
    return results
