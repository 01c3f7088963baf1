"""Build submissions: a released notebook with its answer cells filled in.

Used by the test suite (the reference solution and the mutant catalogue are
substituted into the released notebook, as a learner would have typed them)
and by the benchmark.
"""

from __future__ import annotations

import copy
import re

from autograder.course.reference import cell_source

SOLUTION_REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION[ \t]*\n(.*?)^[ \t]*### END SOLUTION[ \t]*\n", re.S | re.M)


def strip_markers(source: str) -> str:
    """A source cell's code with the ``### BEGIN/END SOLUTION`` marker lines removed."""
    return SOLUTION_REGION.sub(lambda m: m.group(1), source)


def solution_regions(source: str) -> list[str]:
    """The code between each ``### BEGIN SOLUTION`` / ``### END SOLUTION`` pair."""
    return [m.group(1) for m in SOLUTION_REGION.finditer(source)]


def answer_cells(notebook: dict) -> dict[str, dict]:
    """The cells a learner fills in, by nbgrader ``grade_id``."""
    return {
        cell["metadata"]["nbgrader"]["grade_id"]: cell
        for cell in notebook["cells"]
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution")
    }


def reference_answers(source_notebook: dict) -> dict[str, str]:
    """What a perfect learner types: each answer cell of the source without markers."""
    return {grade_id: strip_markers(cell_source(cell)) for grade_id, cell in answer_cells(source_notebook).items()}


def fill(release_notebook: dict, answers: dict[str, str]) -> dict:
    """A copy of the released notebook with the given answer cells replaced.

    Raises KeyError if an answer names a cell that is not an answer cell.
    """
    notebook = copy.deepcopy(release_notebook)
    cells = answer_cells(notebook)
    for grade_id, source in answers.items():
        if grade_id not in cells:
            raise KeyError(f"no answer cell with grade_id {grade_id!r}")
        cells[grade_id]["source"] = source
    return notebook
