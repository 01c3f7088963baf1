"""Run a submitted notebook as the learner's own kernel would, in this process.

Every code cell runs in order in one namespace, with the check cells as the
course wrote them (as ``nbgrader autograde`` restores them). ``hidden=False``
runs the checks as the learner sees them, without their hidden blocks: what the
visible checks alone catch. Read-only cells run their definitions only, as the
grader runs them (their demonstrations define nothing a check uses).

Only for the course's own catalogues (trusted code): a submission from a
learner is graded by ``python -m autograder grade``, in its sandbox.
"""

from __future__ import annotations

import contextlib
import io
import linecache
import warnings
from dataclasses import dataclass

from autograder.course.plan import ANSWER, GIVEN, TEST, GradingPlan
from autograder.course.reference import definitions_only_source, nbgrader_meta


@dataclass(frozen=True)
class CheckRun:
    """One check cell run: its points and, when it failed, the message the learner reads
    (``message``) and the lines the notebook prints for it (``printed``: the exception's name
    first, as IPython and the course's plain handler show a failed check)."""

    grade_id: str
    points: float
    max_points: float
    message: str
    printed: str = ""

    @property
    def passed(self) -> bool:
        return not self.message


def run_notebook(plan: GradingPlan, notebook: dict, hidden: bool = True) -> list[CheckRun]:
    """The check cells of ``notebook`` run top to bottom in one namespace, in order."""
    namespace: dict = {"__name__": "__main__"}
    steps = {step.grade_id: step for step in plan.steps}
    runs = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        step = steps.get(nbgrader_meta(cell).get("grade_id"))
        if step is None or step.kind == ANSWER:
            code = "".join(cell["source"])
        elif step.kind == GIVEN:
            code = definitions_only_source(step.source)
        else:
            code = step.source if hidden else step.visible
        message = printed = ""
        # As IPython does, each cell gets a file name whose source inspect can read (loop counts).
        filename = f"<cell {len(linecache.cache)}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a kernel would show them; the messages are what count
                exec(compile(code, filename, "exec"), namespace)  # noqa: S102 - the course's own catalogue
        except Exception as error:  # noqa: BLE001 - a failing cell is what the run records
            message = str(error) or type(error).__name__
            printed = f"{type(error).__name__}: {error}"
            if not isinstance(error, AssertionError):
                message = f"{type(error).__name__}: {message}"
        if step is not None and step.kind == TEST:
            runs.append(CheckRun(step.grade_id, 0.0 if message else step.points, step.points, message, printed))
    return runs
