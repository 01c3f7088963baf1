"""Grade one submitted notebook: the learner's code in a sandbox, the checks in the grader.

How a notebook is graded, cell by cell in the course's order (autograder.course.plan):

- a read-only cell runs (its definitions only) in the sandbox, for the
  learner's functions, and in the grader's own namespace, for the checks;
- an answer cell runs in the sandbox as the learner wrote it, preceded by the
  cells the learner added before it (autograder.engine.intake);
- a check cell runs in the grader's namespace exactly as written in
  ``solutions/``, hidden checks included, where each learner function is a
  stand-in that calls the sandbox (autograder.sandbox.client). Its points are earned
  when it raises nothing.

So nothing the submission does (patching NumPy or the checks, redefining
``AssertionError``, printing "all tests passed", editing or deleting check
cells) changes how the checks run. A cell that runs too long, a crash or the
memory limit ends the sandbox: the check cells graded before keep their
points, the later ones score 0 with the reason.
"""

from __future__ import annotations

import contextlib
import io
import re
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.engine.intake import MAX_ADDED_CELLS, MAX_NOTEBOOK_MB, Intake, Unreadable, parse_notebook, take_in
from autograder.paths import ROOT
from autograder.course.plan import ANSWER, GIVEN, GradingPlan, Step
from autograder.course.reference import definitions_only_source
from autograder.engine.results import FAILED, GRADED, GRADER_ERROR, NOT_RUN, PASSED, UNREADABLE, CellResult, SubmissionResult
from autograder.sandbox.client import Sandbox, SandboxFailure, SandboxUnavailable, SubmissionError

from autograder.sandbox.wire import OUTPUT_LIMIT, bounded  # printed output is kept as the sandbox keeps it


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Every field is a command-line option of ``grade``."""

    cell_timeout: float = 120.0  # seconds per cell, as nbgrader's Execute.timeout in nbgrader_config.py
    memory_mb: int = 2048
    cpu_seconds: int = 1800
    forbidden: tuple[Path, ...] = ()  # more paths out of reach (a gradebook outside the course)
    isolation: bool = True  # the operating-system boundary (autograder.sandbox.isolation); False: --no-isolation
    audit_hook: bool = True  # the second layer inside; only the test suite turns it off
    tmp_mb: int = 64  # the sandbox's writable /tmp
    # One wall-clock budget for all of a submission's cells together (course cells and added
    # ones): without it, each added cell got a fresh cell_timeout, and 14 added cells sleeping
    # just under the limit cost 14 times the timeout and still scored full marks.
    submission_seconds: float = 900.0
    max_added_cells: int = MAX_ADDED_CELLS  # cells the learner added that are run; the rest are noted, not run
    max_notebook_mb: float = MAX_NOTEBOOK_MB
    grader_memory_mb: int = 8192  # address space of each of the grader's own grading processes (0: no limit)
    memory_group: bool = True  # each sandbox in a memory cgroup of its own, where the machine offers one


#: The note on every result graded without the operating-system boundary.
NOT_ISOLATED = ("graded WITHOUT operating-system isolation (--no-isolation): the submission's code ran "
                "with the grader's user rights, guarded only by an audit hook and resource limits")


def not_run(plan: GradingPlan, reason: str) -> list[CellResult]:
    return [CellResult(step.grade_id, 0.0, step.points, NOT_RUN, reason) for step in plan.tests]


def grade_submission(plan: GradingPlan, notebook: bytes, student: str, limits: Limits = Limits(),
                     name: str = "") -> SubmissionResult:
    """Grade one submission: the grading core, the same on every machine.

    Everything it needs travels with the call (the plan, the notebook's bytes,
    the limits), and it reads nothing of the course directory, so the local
    process pool (autograder.commands.grade) and a cluster's workers (autograder.engine.cluster)
    run exactly this function. ``limits.forbidden`` names the paths that must
    stay out of the submission's reach besides the grader's own installation.
    Never raises for anything the submission does.
    """
    started = time.monotonic()
    notes = [] if limits.isolation else [NOT_ISOLATED]
    try:
        intake = take_in(parse_notebook(notebook, name or f"{plan.slug}.ipynb", limits.max_notebook_mb), plan,
                         limits.max_added_cells)
    except (Unreadable, RecursionError, MemoryError) as error:  # the file's own fault, said as such
        reason = str(error) if isinstance(error, Unreadable) else \
            f"{name or plan.slug + '.ipynb'} could not be read ({type(error).__name__}: too deeply nested or too large)"
        return SubmissionResult(student, plan.slug, UNREADABLE, not_run(plan, reason), [reason, *notes],
                                isolated=limits.isolation)
    sandbox = Sandbox(ROOT, call_timeout=limits.cell_timeout, memory_mb=limits.memory_mb,
                      cpu_seconds=limits.cpu_seconds, forbidden=limits.forbidden, isolation=limits.isolation,
                      audit_hook=limits.audit_hook, tmp_mb=limits.tmp_mb, memory_group=limits.memory_group)
    try:
        with sandbox as box:
            cells = run_plan(plan, intake, box, started + limits.submission_seconds)
            intake.notes.extend(output_notes(box))
    except SandboxUnavailable as error:  # the machine's fault: the submission is not graded
        return SubmissionResult(student, plan.slug, GRADER_ERROR, not_run(plan, str(error)), [str(error), *notes],
                                isolated=limits.isolation)
    return SubmissionResult(student, plan.slug, GRADED, cells, notes + intake.notes,
                            round(time.monotonic() - started, 3), isolated=limits.isolation)


def given_sources(plan: GradingPlan) -> dict[str, str]:
    """The source of each function the course's read-only cells define, by name."""
    import ast

    sources = {}
    for step in plan.steps:
        if step.kind == GIVEN:
            for node in ast.parse(step.source).body:
                if isinstance(node, ast.FunctionDef):
                    sources[node.name] = ast.get_source_segment(step.source, node) or ""
    return sources


def run_plan(plan: GradingPlan, intake: Intake, box: Sandbox, deadline: float | None = None) -> list[CellResult]:
    """Run the plan's cells in order; every cell's time counts against ``deadline`` (the
    submission's budget, a ``time.monotonic()`` value) as well as its own timeout."""
    trusted: dict = {"__name__": "__grader__"}
    # Every function the notebook defines, for checks that read code (loops in helpers count):
    # the course's given ones, and the learner's, which win where they redefine one.
    defined = {**given_sources(plan), **intake.sources}
    for name in plan.functions:
        trusted[name] = box.function(name, intake.sources.get(name), defined)
    cells = []
    for step in plan.steps:
        for label, code in intake.added_before.get(step.grade_id, []):
            run_learner_code(box, label, code, intake.notes, deadline)
        if step.kind == GIVEN:
            code = definitions_only_source(step.source)
            run_learner_code(box, step.grade_id, code, intake.notes, deadline)
            exec(compile(code, f"<given {step.grade_id}>", "exec"), trusted)  # noqa: S102 - the course's own cell
        elif step.kind == ANSWER:
            run_learner_code(box, step.grade_id, intake.answers.get(step.grade_id, ""), intake.notes, deadline)
        else:
            cells.append(run_check(box, step, trusted, deadline))
    return cells


#: IPython syntax is turned into Python in the grader's own process, at a cost that grows
#: with the lines of IPython syntax times the cell's length (one 37 KB cell of magics took
#: 30 s). Honest cells hold a few magics: beyond these bounds a cell runs as it is, and a
#: magic in it is a SyntaxError of the submission's, said in its notes.
MAX_MAGIC_LINES = 20
MAX_TRANSFORMED_CHARACTERS = 100_000
_IPYTHON_SYNTAX = re.compile(r"^\s*[%!]", re.M)


def as_python(code: str) -> str:
    """A cell's code with IPython syntax (``%magic``, ``!command``) turned into plain
    Python calls, as IPython itself does; the sandbox's get_ipython() answers them."""
    from IPython.core.inputtransformer2 import TransformerManager

    magics = len(_IPYTHON_SYNTAX.findall(code))
    if magics == 0 or magics > MAX_MAGIC_LINES or len(code) > MAX_TRANSFORMED_CHARACTERS:
        return code
    try:
        return TransformerManager().transform_cell(code)
    except (SyntaxError, ValueError, IndexError, RecursionError, RuntimeError):  # broken: the sandbox reports it
        return code


def run_learner_code(box: Sandbox, label: str, code: str, notes: list[str], deadline: float | None = None) -> None:
    """Run a cell in the sandbox; an error is noted and grading goes on, as in a notebook."""
    if box.failure:
        return
    box.start_cell(label, deadline)
    try:
        box.run(as_python(code), label)
    except SubmissionError as error:
        notes.append(f"cell {label} raised {error.kind}: {error.text}")
    except SandboxFailure as error:
        notes.append(f"grading stopped in cell {label}: {error}")


def run_check(box: Sandbox, step: Step, trusted: dict, deadline: float | None = None) -> CellResult:
    """Run a check cell in the grader's namespace; it passes if it raises nothing."""
    if box.failure:
        return CellResult(step.grade_id, 0.0, step.points, NOT_RUN, f"not run: {box.failure}")
    box.start_cell(step.grade_id, deadline)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(step.source, f"<check {step.grade_id}>", "exec"), trusted)  # noqa: S102 - the course's own cell
    except Exception as error:  # noqa: BLE001 - every failure is this cell's result
        return CellResult(step.grade_id, 0.0, step.points, FAILED, failure_message(error), bounded(printed.getvalue()))
    return CellResult(step.grade_id, step.points, step.points, PASSED, "", bounded(printed.getvalue()))


def failure_message(error: Exception) -> str:
    """Why a check cell failed, without the check's code (which may be hidden), in lines
    of at most 80 columns, as the checks write their own messages."""
    from rnnlab.checks import fit  # the checks' own line width

    if isinstance(error, SandboxFailure):
        text = str(error)
    elif isinstance(error, SubmissionError):
        text = f"your code raised {error}"
    elif isinstance(error, AssertionError):  # CheckFailed is one: its message is the explanation and hint
        text = str(error) or "a check failed"
    else:
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return fit(text)


def output_notes(box: Sandbox) -> list[str]:
    """A note when the learner's code printed more than the sandbox keeps."""
    if box.failure:
        return []
    try:
        printed = box.output().characters
    except (SandboxFailure, SubmissionError):
        return []
    if printed <= OUTPUT_LIMIT:
        return []
    return [f"the submission printed {printed:,} characters; only the first {OUTPUT_LIMIT:,} were kept"]
