"""Autograde submissions with nbgrader and read the scores back from the gradebook.

The submissions must already be in nbgrader's layout,
``submitted/<student>/<slug>/<slug>.ipynb``, under the course directory.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import nbgrader_cli


@dataclass(frozen=True)
class CellScore:
    """The score of one graded (test) cell of one student's notebook."""

    cell: str
    score: float
    max_score: float


@dataclass(frozen=True)
class StudentScore:
    """One student's result on one assignment."""

    student: str
    score: float
    max_score: float
    cells: tuple[CellScore, ...]

    def cell(self, grade_id: str) -> CellScore:
        return next(c for c in self.cells if c.cell == grade_id)

    @property
    def failed_cells(self) -> list[str]:
        return [c.cell for c in self.cells if c.score < c.max_score]


def db_url(course_root: Path) -> str:
    """The gradebook URL nbgrader_config.py sets, resolved inside ``course_root``."""
    return f"sqlite:///{course_root / 'autograder' / 'gradebook.db'}"


def register(course_root: Path, slug: str) -> str:
    """Record ``slug``'s cells, points and checksums in the gradebook.

    nbgrader stores them when it generates an assignment, and autograding needs
    them. The generated copy goes to a scratch folder: exercises/ is left as
    committed (``python -m autograder release`` is what rewrites it).
    """
    with tempfile.TemporaryDirectory() as scratch:
        return nbgrader_cli.run(
            ["generate_assignment", slug, "--force", f"--CourseDirectory.release_directory={scratch}"],
            course_root,
        )


def autograde(course_root: Path, slug: str) -> str:
    """Run ``nbgrader autograde`` for ``slug``, every student under submitted/.

    Returns nbgrader's output (the log of what it graded).
    """
    return nbgrader_cli.run(["autograde", slug, "--force", "--create"], course_root)


def read_scores(course_root: Path, slug: str) -> dict[str, StudentScore]:
    """Every graded student's score on ``slug``, from the gradebook."""
    from nbgrader.api import Gradebook  # imported late: nbgrader is an instructor-only dependency

    results = {}
    with Gradebook(db_url(course_root)) as gradebook:
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
