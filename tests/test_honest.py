"""Does honest code keep every point, whatever style it is written in?

Each style of the honest catalogue (tests/honest.py: namedtuple, dataclass,
dict-subclass and closure caches, lists, views, tuple-subclass results,
einsum) is a correct submission of every assignment. Its score under
``grade`` (the sandbox) must equal, cell by cell, the score its own notebook
shows: every cell run in order in one namespace, as a kernel runs them, with
the check cells as the course wrote them (hidden checks included), as
``nbgrader autograde`` restores them. For ``rnn``, test_pipeline also compares
these students with a real ``nbgrader autograde``.
"""

from __future__ import annotations

import json

import pytest

from autograder.paths import SLUGS
from autograder.course.plan import load_plan
from conftest import honest_student
from honest import STYLES
from notebook_run import run_notebook

pytestmark = pytest.mark.slow

CASES = [(slug, style.name) for slug in SLUGS for style in STYLES]


@pytest.mark.parametrize("slug,style", CASES, ids=[f"{slug}:{style}" for slug, style in CASES])
def test_does_an_honest_style_score_under_grade_exactly_what_its_notebook_shows(slug, style, graded):
    student = honest_student(style)
    notebook = json.loads((graded[slug].course / "submitted" / student / slug / f"{slug}.ipynb").read_text())
    plan = load_plan(slug)
    in_its_notebook = {run.grade_id: run.points for run in run_notebook(plan, notebook)}
    result = graded[slug].scores[student]
    under_grade = {cell.grade_id: cell.points for cell in result.cells}
    assert under_grade == in_its_notebook, [c.message[:300] for c in result.cells if c.points < c.max_points]
    assert result.score == result.max_score == plan.max_score  # correct code: every point
    assert not result.notes
