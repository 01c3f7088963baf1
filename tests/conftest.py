"""Shared fixtures: a scratch course in which every assignment is generated and a
class of synthetic submissions (the reference, the untouched release, every
mutant) is autograded by nbgrader once per test session."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pytest

# Drawing tests render off screen, and each test's figures are closed after it.
matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


from autograder.grade import StudentScore, autograde, read_scores
from autograder.paths import SLUGS, source_notebook
from autograder.release import generate
from autograder.submissions import fill, reference_answers
from mutants import Mutant, catalogue

REFERENCE = "reference"
UNTOUCHED = "untouched"


def mutant_student(mutant: Mutant) -> str:
    return f"mutant-{mutant.name}"


@dataclass
class GradedAssignment:
    """An assignment generated and autograded in a scratch course."""

    slug: str
    course: Path
    generated: Path  # the notebook nbgrader generate_assignment produced
    scores: dict[str, StudentScore]
    log: str


def write_submission(course: Path, student: str, slug: str, notebook: dict) -> None:
    target = course / "submitted" / student / slug / f"{slug}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(notebook, indent=1), encoding="utf-8")


def prepare_class(slug: str, course: Path) -> Path:
    """Generate ``slug`` in ``course`` and submit the reference, the untouched release and every mutant."""
    generated = generate(slug, course)
    released = json.loads(generated.read_text(encoding="utf-8"))
    answers = reference_answers(json.loads(source_notebook(slug).read_text(encoding="utf-8")))
    write_submission(course, REFERENCE, slug, fill(released, answers))
    write_submission(course, UNTOUCHED, slug, released)
    for mutant in catalogue(slug):
        write_submission(course, mutant_student(mutant), slug, fill(released, mutant.apply(answers)))
    return generated


@pytest.fixture(scope="session")
def graded(tmp_path_factory) -> dict[str, GradedAssignment]:
    """Every assignment generated from solutions/ and its synthetic class autograded.

    Each assignment has its own scratch course, so their nbgrader runs are
    independent and run side by side, one per core.
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    courses = {slug: tmp_path_factory.mktemp(f"course-{slug}") for slug in SLUGS}
    generated = {slug: prepare_class(slug, course) for slug, course in courses.items()}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        logs = dict(zip(SLUGS, pool.map(lambda slug: autograde(courses[slug], slug), SLUGS)))
    return {
        slug: GradedAssignment(slug, courses[slug], generated[slug], read_scores(courses[slug], slug), logs[slug])
        for slug in SLUGS
    }


@pytest.fixture(scope="session")
def built_site() -> Path:
    """The website, built as the README builds it (warnings are errors), into _build/html.

    Built in the repository's own _build so the execution cache makes later runs fast.
    """
    import shutil
    import sys

    from autograder.book import build
    from autograder.paths import ROOT

    # Execution reports are written only when a chapter fails; a stale one from an
    # earlier failed build would be mistaken for a failure of this one.
    shutil.rmtree(ROOT / "_build" / "html" / "reports", ignore_errors=True)
    result = build(Path(sys.executable).parent, capture_output=True, text=True)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"the book build failed:\n{log[-6000:]}"
    # -W already turns Sphinx warnings into errors; this also catches warnings printed
    # by the executed chapters. The kernel's own start-up notice is not about the book.
    warnings = [line for line in log.splitlines() if "WARNING" in line and "[IPKernelApp]" not in line]
    assert not warnings, "the book build printed warnings:\n" + "\n".join(warnings)
    return ROOT / "_build" / "html"
