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

import contextlib
import io
import json

import pytest

from autograder.paths import SLUGS
from autograder.plan import ANSWER, GIVEN, TEST, GradingPlan, load_plan
from autograder.reference import definitions_only_source, nbgrader_meta
from conftest import honest_student
from honest import STYLES

pytestmark = pytest.mark.slow

CASES = [(slug, style.name) for slug in SLUGS for style in STYLES]


def kernel_scores(plan: GradingPlan, notebook: dict) -> dict[str, float]:
    """The points of each check cell when the notebook runs top to bottom in one namespace.

    Read-only cells run their definitions only, as the grader does (their
    demonstrations define nothing a check uses).
    """
    namespace: dict = {"__name__": "__main__"}
    steps = {step.grade_id: step for step in plan.steps}
    scores = {}
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        step = steps.get(nbgrader_meta(cell).get("grade_id"))
        if step is None or step.kind == ANSWER:
            code = "".join(cell["source"])
        else:
            code = definitions_only_source(step.source) if step.kind == GIVEN else step.source
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(code, "<cell>", "exec"), namespace)  # noqa: S102 - the course's own catalogue
            passed = True
        except Exception:  # noqa: BLE001 - a failing cell is what the score records
            passed = False
        if step is not None and step.kind == TEST:
            scores[step.grade_id] = step.points if passed else 0.0
    return scores


@pytest.mark.parametrize("slug,style", CASES, ids=[f"{slug}:{style}" for slug, style in CASES])
def test_does_an_honest_style_score_under_grade_exactly_what_its_notebook_shows(slug, style, graded):
    student = honest_student(style)
    notebook = json.loads((graded[slug].course / "submitted" / student / slug / f"{slug}.ipynb").read_text())
    plan = load_plan(slug)
    in_its_notebook = kernel_scores(plan, notebook)
    result = graded[slug].scores[student]
    under_grade = {cell.grade_id: cell.points for cell in result.cells}
    assert under_grade == in_its_notebook, [c.message[:300] for c in result.cells if c.points < c.max_points]
    assert result.score == result.max_score == plan.max_score  # correct code: every point
    assert not result.notes
