"""What grading one submission produced: a score per check cell, and why.

A ``SubmissionResult`` is written as JSON next to the graded notebook
(``autograded/<student>/<slug>/result.json``); ``feedback`` and the test suite
read it back. Scores also go to nbgrader's gradebook (autograder.engine.gradebook).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: Statuses of a check cell.
PASSED, FAILED, NOT_RUN = "passed", "failed", "not run"
#: Statuses of a submission.
GRADED, UNREADABLE, MISSING, GRADER_ERROR = "graded", "unreadable", "missing", "grader error"


@dataclass
class CellResult:
    """One check (test) cell of one submission.

    ``message`` says why it failed: the check's message with its hint, the
    exception the learner's code raised, or what stopped the submission. It
    never holds the code of a hidden test.
    """

    grade_id: str
    points: float
    max_points: float
    status: str
    message: str = ""
    output: str = ""


@dataclass
class SubmissionResult:
    """One student's notebook for one assignment, graded."""

    student: str
    slug: str
    status: str
    cells: list[CellResult]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    isolated: bool = True  # graded inside the operating-system boundary (False: --no-isolation)
    grading_key: str = ""  # what it was graded from (autograder.engine.unchanged.grading_key)
    lateness: dict | None = None  # autograder.engine.lateness.Lateness as a dict, once recorded
    reused: bool = False  # not graded again this run: unchanged since this result (never saved)

    @property
    def score(self) -> float:
        return sum(cell.points for cell in self.cells)

    @property
    def max_score(self) -> float:
        return sum(cell.max_points for cell in self.cells)

    @property
    def failed_cells(self) -> list[str]:
        return [cell.grade_id for cell in self.cells if cell.points < cell.max_points]

    def cell(self, grade_id: str) -> CellResult:
        return next(cell for cell in self.cells if cell.grade_id == grade_id)

    def to_json(self) -> str:
        data = asdict(self)
        del data["reused"]  # a fact about one run, not about the submission
        return json.dumps(data, indent=1)

    @classmethod
    def from_json(cls, text: str) -> SubmissionResult:
        data = json.loads(text)
        data["cells"] = [CellResult(**cell) for cell in data["cells"]]
        return cls(**data)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> SubmissionResult:
        return cls.from_json(path.read_text(encoding="utf-8"))
