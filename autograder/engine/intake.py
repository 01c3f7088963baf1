"""Read a submitted notebook and sort its cells against the grading plan.

The grader takes only the learner's *code* from a submission: the answer cells
(by nbgrader grade_id) and any cells the learner added. Read-only and check
cells always come from the course (autograder.course.plan), whatever the submission
did to them; every such difference is recorded as a note, so the instructor
and the learner can see what happened.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course.plan import ANSWER, GradingPlan
from autograder.course.reference import nbgrader_meta


class Unreadable(Exception):
    """The file is not a notebook the grader can read; the message says why."""


@dataclass
class Intake:
    """The learner's code, placed in the course's cell order.

    ``answers``: the code of each answer cell, by grade_id.
    ``added_before``: cells the learner added (or whose metadata they removed),
    keyed by the grade_id of the course cell that follows them in the
    submission; they run just before that cell, as they would in the notebook.
    ``sources``: the source of each function the learner defined (the last
    definition wins), for checks that read the code (loop counts).
    """

    answers: dict[str, str] = field(default_factory=dict)
    added_before: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def read_notebook(path: Path) -> dict:
    """The notebook at ``path`` as a dict, or Unreadable with the reason."""
    return parse_notebook(path.read_bytes(), path.name)


#: The largest notebook graded (``grade --max-notebook-mb``): an assignment filled in is
#: well under 1 MB without outputs, and a few MB with figures.
MAX_NOTEBOOK_MB = 20
#: The most cells a learner may add that are run (``Limits.max_added_cells``): each is a round
#: trip to the sandbox, and an honest notebook adds a handful.
MAX_ADDED_CELLS = 200
#: The deepest nesting of JSON accepted: a notebook is about 6 levels deep; a file nested
#: 100,000 levels would exhaust the parser's stack.
MAX_JSON_DEPTH = 64


def parse_notebook(data: bytes, name: str, max_mb: float = MAX_NOTEBOOK_MB) -> dict:
    """A submitted notebook's bytes as a dict, or Unreadable with the reason.

    ``name`` is the file's name, for the messages. Grading takes bytes, not a
    path, so a job can carry its notebook to a machine that has no course folder.
    The file is hostile input: its size, its nesting and every field the grader
    reads are checked (``cell_structure``) before anything is done with it.
    """
    if len(data) > max_mb * 1024 * 1024:
        raise Unreadable(f"{name} is larger than the {max_mb:g} MB a notebook may be: clear its outputs "
                         "(Edit > Clear Outputs of All Cells) and save it again")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Unreadable(f"{name} is not a text file ({error.reason} at byte {error.start})") from None
    if not text.strip():
        raise Unreadable(f"{name} is an empty file (0 cells): nothing to grade")
    if json_depth(text) > MAX_JSON_DEPTH:
        raise Unreadable(f"{name} is JSON nested more than {MAX_JSON_DEPTH} levels deep: not a notebook")
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise Unreadable(f"{name} is not valid notebook JSON: {error.msg} at line {error.lineno}, "
                         f"column {error.colno}. Was it edited outside Jupyter or saved half-way?") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list) or not all(isinstance(c, dict) and "cell_type" in c for c in cells):
        raise Unreadable(f"{name} is JSON but not a Jupyter notebook (version 4): it has no list of cells")
    for number, cell in enumerate(cells, 1):
        problem = cell_problem(cell)
        if problem:
            raise Unreadable(f"{name} is not a well-formed notebook: cell {number} {problem}")
    return notebook


def json_depth(text: str) -> int:
    """How deep brackets nest in a JSON text (those inside strings count too: an overestimate,
    which is safe). Linear and without recursion, so it runs before the parser."""
    import re

    depth = deepest = 0
    for bracket in re.finditer(r"[\[\]{}]", text):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > MAX_JSON_DEPTH:
                break  # deep enough to refuse: no need to read the rest
    return deepest


def cell_problem(cell: dict) -> str | None:
    """What makes a cell unusable by the grader (a field of the wrong type, text that cannot be
    written as UTF-8), or None."""
    source = cell.get("source", "")
    if not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source))):
        return "has a source that is not text"
    if not isinstance(cell.get("metadata", {}), dict):
        return "has metadata that is not an object"
    grader = cell.get("metadata", {}).get("nbgrader", {})
    if not isinstance(grader, dict):
        return "has nbgrader metadata that is not an object"
    if not isinstance(grader.get("grade_id", ""), str):
        return "has a grade_id that is not text"
    try:
        code_of(cell).encode("utf-8")
    except UnicodeEncodeError:
        return "holds text that is not valid Unicode (a lone surrogate)"
    return None


def code_of(cell: dict) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(map(str, source))


def take_in(notebook: dict, plan: GradingPlan, max_added_cells: int = MAX_ADDED_CELLS) -> Intake:
    """Sort the submission's code cells against ``plan``; see Intake. Only the first
    ``max_added_cells`` cells the learner added run; the others are noted."""
    intake = Intake()
    known = {step.grade_id: step for step in plan.steps}
    code_cells = [cell for cell in notebook["cells"] if cell.get("cell_type") == "code"]
    if not code_cells:
        intake.notes.append("the notebook has no code cells: every function is missing")
    seen: Counter = Counter()
    order: list[str] = []
    pending: list[tuple[str, str]] = []
    for index, cell in enumerate(code_cells):
        grade_id = nbgrader_meta(cell).get("grade_id")
        step = known.get(grade_id)
        if step is not None:
            seen[grade_id] += 1
        if step is None or (step.kind == ANSWER and seen[grade_id] > 1):
            pending.append((f"added cell {index + 1}", code_of(cell)))  # learner's own code: it runs
            continue
        if seen[grade_id] > 1:
            continue  # a duplicated read-only or check cell: the course's single copy runs
        order.append(grade_id)
        if pending:
            intake.added_before[grade_id] = pending
            pending = []
        if step.kind == ANSWER:
            intake.answers[grade_id] = code_of(cell)
        elif code_of(cell).strip() != step.visible.strip():
            intake.notes.append(f"{step.kind} cell {grade_id} was edited in the submission; the course's copy was run")
    limit_added_cells(intake, max_added_cells)
    _note_structure(intake, plan, seen, order, pending)
    intake.sources = function_sources(intake, plan)
    return intake


def limit_added_cells(intake: Intake, most: int) -> None:
    """Keep the first ``most`` cells the learner added (in the notebook's order); note the rest."""
    kept = 0
    for grade_id, cells in intake.added_before.items():
        intake.added_before[grade_id] = cells[:max(most - kept, 0)]
        kept += len(intake.added_before[grade_id])
        dropped = len(cells) - len(intake.added_before[grade_id])
        if dropped:
            intake.notes.append(f"{dropped} added cell(s) before {grade_id} were not run: a submission may add "
                                f"at most {most} cells")


def _note_structure(intake: Intake, plan: GradingPlan, seen: Counter, order: list[str], trailing: list) -> None:
    """Record deleted, duplicated and reordered course cells, and added ones."""
    for step in plan.steps:
        if not seen[step.grade_id]:
            what = "its functions count only if defined elsewhere" if step.kind == ANSWER else "the course's copy was run"
            intake.notes.append(f"{step.kind} cell {step.grade_id} is missing from the submission; {what}")
        elif seen[step.grade_id] > 1:
            done = "the copies ran as added cells" if step.kind == ANSWER else "the copies were ignored"
            intake.notes.append(f"{step.kind} cell {step.grade_id} appears {seen[step.grade_id]} times; {done}")
    expected = [step.grade_id for step in plan.steps if step.grade_id in order]
    if order != expected:
        intake.notes.append("the course's cells were reordered; they were graded in the course's order")
    added = sum(len(cells) for cells in intake.added_before.values())
    if added:
        intake.notes.append(f"{added} added cell(s) ran just before the course cell that follows them")
    if trailing:
        intake.notes.append(f"{len(trailing)} cell(s) after the last course cell were not run (nothing is graded after them)")


def function_sources(intake: Intake, plan: GradingPlan) -> dict[str, str]:
    """The source of each graded function, from the cells that will run, in their order."""
    sources: dict[str, str] = {}
    for step in plan.steps:
        cells = [code for _, code in intake.added_before.get(step.grade_id, [])]
        cells.append(intake.answers.get(step.grade_id, ""))
        for code in cells:
            try:
                tree = ast.parse(code)
            except (SyntaxError, ValueError, RecursionError, MemoryError):  # the sandbox reports it when run
                continue
            for node in tree.body:
                if isinstance(node, ast.FunctionDef):
                    sources[node.name] = ast.get_source_segment(code, node) or ""
    return sources
