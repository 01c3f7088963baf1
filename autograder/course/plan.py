"""The grading plan of an assignment, read from the course's own notebooks.

Grading never trusts the submitted notebook's test cells or read-only cells:
it runs the course's copies. The plan lists, in the source notebook's order,
every code cell the grader deals with:

- ``given``: a read-only cell (imports, helpers, hints), run on both sides;
- ``answer``: a cell the learner fills in, identified by its nbgrader grade_id;
  the functions its reference version defines are the ones the checks call;
- ``test``: a check cell with points, run by the grader as written in
  ``solutions/`` (hidden checks included); ``visible`` is its released text,
  the only part feedback may show.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

from autograder.paths import ROOT, release_notebook, source_notebook
from autograder.course.reference import cell_source, nbgrader_meta
from autograder.course.submissions import strip_markers

GIVEN, ANSWER, TEST = "given", "answer", "test"


@dataclass(frozen=True)
class Step:
    kind: str
    grade_id: str
    source: str
    visible: str = ""
    points: float = 0.0
    functions: tuple[str, ...] = ()


@dataclass(frozen=True)
class GradingPlan:
    slug: str
    steps: tuple[Step, ...]

    @property
    def tests(self) -> list[Step]:
        return [step for step in self.steps if step.kind == TEST]

    @property
    def functions(self) -> list[str]:
        """Every function the learner must define, in order."""
        return [name for step in self.steps for name in step.functions]

    @property
    def max_score(self) -> float:
        return sum(step.points for step in self.tests)

    def step(self, grade_id: str) -> Step:
        return next(step for step in self.steps if step.grade_id == grade_id)


def kind_of(meta: dict) -> str | None:
    if meta.get("solution"):
        return ANSWER
    if meta.get("grade"):
        return TEST
    if meta.get("locked"):
        return GIVEN
    return None


def defined_functions(source: str) -> tuple[str, ...]:
    return tuple(node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef))


def load_plan(slug: str, root: Path = ROOT) -> GradingPlan:
    source = json.loads(source_notebook(slug, root).read_text(encoding="utf-8"))
    release = json.loads(release_notebook(slug, root).read_text(encoding="utf-8"))
    released = {nbgrader_meta(c).get("grade_id"): cell_source(c) for c in release["cells"]}
    steps = []
    for cell in source["cells"]:
        meta = nbgrader_meta(cell)
        kind = kind_of(meta)
        if cell["cell_type"] != "code" or kind is None:
            continue
        grade_id, text = meta["grade_id"], cell_source(cell)
        if kind == ANSWER:
            steps.append(Step(ANSWER, grade_id, text, released[grade_id], functions=defined_functions(strip_markers(text))))
        elif kind == TEST:
            steps.append(Step(TEST, grade_id, text, released[grade_id], points=float(meta.get("points", 0))))
        else:
            steps.append(Step(GIVEN, grade_id, text, released[grade_id]))
    return GradingPlan(slug, tuple(steps))
