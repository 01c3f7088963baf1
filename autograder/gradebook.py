"""nbgrader's gradebook: register an assignment, record grades, read them back.

The gradebook is nbgrader's own database, so nbgrader's tools (``nbgrader
export``, the formgrader) keep working on grades the course's grader wrote.
Only the parent process of ``grade`` writes to it, one submission per
transaction, so parallel grading can neither corrupt nor lose a grade, and an
interrupted run keeps every grade committed before it stopped.
"""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from . import nbgrader_cli
from .plan import GradingPlan
from .results import SubmissionResult


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
    return Gradebook(db_url)


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


def record(gradebook, result: SubmissionResult) -> None:
    """Write one submission's scores (one transaction); rerunning overwrites them."""
    from sqlalchemy.exc import SAWarning

    gradebook.update_or_create_student(result.student)
    with warnings.catch_warnings():
        # nbgrader 0.9's add_submission trips SQLAlchemy 2's autoflush warnings
        # about objects it adds a moment later; the rows it writes are complete.
        warnings.simplefilter("ignore", SAWarning)
        gradebook.update_or_create_submission(result.slug, result.student)
    for cell in result.cells:
        grade = gradebook.find_grade(cell.grade_id, result.slug, result.slug, result.student)
        grade.auto_score = cell.points
        grade.manual_score = None
        grade.needs_manual_grade = False
    gradebook.db.commit()


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
