"""Shared fixtures: a scratch course in which every assignment is generated and a
class of synthetic submissions (the reference, the untouched release, every
mutant, the honest catalogue) is autograded once per test session.

Grading runs inside the operating-system sandbox (autograder.sandbox.isolation) when
this machine can start it. Where it cannot (no bubblewrap, user namespaces
disabled), the tests of the sandbox itself are skipped with a loud message and
the other grading tests run without isolation; with
``COURSE_REQUIRE_ISOLATION=1`` (set by .ci/run) its absence is a failure.

The test command runs the tests in parallel, one pytest-xdist worker per core, each group of tests
on one worker (tests/parallel.py); the website is built once per run, by whichever worker asks first.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pytest

# Drawing tests render off screen, and each test's figures are closed after it.
matplotlib.use("Agg")

# Checks run in-process here on one BLAS thread, as they do in the grader's sandbox: the course's
# matrices are small, threads would only compete, and a learner's code costs what it costs there.
from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(limits=1, user_api="blas")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


from autograder.sandbox import isolation
from autograder.commands.grade import find_jobs, grade
from autograder.paths import SLUGS, gradebook_url, source_notebook
from autograder.commands.release import generate
from autograder.engine.results import SubmissionResult
from autograder.engine.runner import Limits
from autograder.course.submissions import fill, reference_answers
from honest import STYLES, honest_answers
from mutants import Mutant, catalogue
# The test command's parallel run (tests/parallel.py): xdist's hooks, found here by their names.
from parallel import (configure_controller, order_and_group, pytest_configure_node,  # noqa: F401
                      pytest_xdist_make_scheduler, unconfigure_controller)


def isolation_problem() -> str | None:
    """Why this machine cannot isolate submissions, or None when it can."""
    try:
        isolation.check()
    except isolation.IsolationUnavailable as error:
        return str(error)
    return None


ISOLATION_PROBLEM = isolation_problem()
ISOLATED = ISOLATION_PROBLEM is None
#: The limits the test suite grades with: isolated wherever the machine allows it.
GRADING = Limits(isolation=ISOLATED)
requires_isolation = pytest.mark.skipif(
    not ISOLATED, reason=f"SANDBOX TESTS SKIPPED, no isolation on this machine: {ISOLATION_PROBLEM}")


def servers_problem() -> str | None:
    """Why this machine cannot run the cluster and PostgreSQL tests (tests/servers.py), or None."""
    from servers import missing_dask, missing_postgres

    return missing_postgres() or missing_dask() or (None if ISOLATED else f"no sandbox: {ISOLATION_PROBLEM}")


SERVERS_PROBLEM = servers_problem()


def pytest_configure(config):
    configure_controller(config)
    if SERVERS_PROBLEM:
        if os.environ.get("COURSE_REQUIRE_SERVERS") == "1":
            raise pytest.UsageError(f"COURSE_REQUIRE_SERVERS=1 but the cluster tests cannot run: {SERVERS_PROBLEM}")
        print(f"\n{'!' * 78}\nCLUSTER AND POSTGRESQL TESTS WILL BE SKIPPED: {SERVERS_PROBLEM}\n{'!' * 78}")
    if ISOLATED:
        return
    message = f"submissions cannot be isolated on this machine: {ISOLATION_PROBLEM}"
    if os.environ.get("COURSE_REQUIRE_ISOLATION") == "1":
        raise pytest.UsageError(f"COURSE_REQUIRE_ISOLATION=1 but {message}")
    print(f"\n{'!' * 78}\nSANDBOX TESTS WILL BE SKIPPED and the rest graded without isolation: "
          f"{message}\n{'!' * 78}")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    order_and_group(config, items)


def pytest_unconfigure(config):
    unconfigure_controller(config)


def toc_files() -> list[str]:
    """Every page of _toc.yml, in order (paths without suffix, e.g. ``book/rnn``)."""
    import yaml

    from autograder.paths import ROOT

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"]] + [chapter["file"] for part in toc.get("parts", []) for chapter in part["chapters"]]


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
    scores: dict[str, SubmissionResult]


def write_submission(course: Path, student: str, slug: str, notebook: dict) -> Path:
    target = course / "submitted" / student / slug / f"{slug}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return target


def prepare_class(slug: str, course: Path, mutants: int | None = None) -> Path:
    """Generate ``slug`` in ``course`` and submit the reference, the untouched release and the
    mutants (all of the catalogue, or its first ``mutants``). Returns the generated notebook."""
    generated = generate(slug, course)
    released = json.loads(generated.read_text(encoding="utf-8"))
    answers = reference_answers(json.loads(source_notebook(slug).read_text(encoding="utf-8")))
    write_submission(course, REFERENCE, slug, fill(released, answers))
    write_submission(course, UNTOUCHED, slug, released)
    for mutant in catalogue(slug)[:mutants]:
        write_submission(course, mutant_student(mutant), slug, fill(released, mutant.apply(answers)))
    for style in STYLES:
        write_submission(course, honest_student(style.name), slug, fill(released, honest_answers(answers, style)))
    return generated


def honest_student(style: str) -> str:
    return f"honest-{style}"


@pytest.fixture(scope="session")
def class_course(tmp_path_factory) -> Path:
    """A scratch course with every assignment generated (which registers it in the
    course's gradebook) and a synthetic class submitted: the reference, the untouched
    release, every mutant of the catalogue and every honest style."""
    course = tmp_path_factory.mktemp("course")
    for slug in SLUGS:
        prepare_class(slug, course)
    return course


@pytest.fixture(scope="session")
def graded(class_course) -> dict[str, GradedAssignment]:
    """The synthetic class of every assignment, graded by ``python -m autograder grade``'s code."""
    results = grade(find_jobs(class_course, SLUGS), gradebook_url(class_course), class_course, limits=GRADING,
                    progress=False)
    return {
        slug: GradedAssignment(slug, class_course, class_course / "exercises" / slug / f"{slug}.ipynb",
                               {r.student: r for r in results if r.slug == slug})
        for slug in SLUGS
    }


@pytest.fixture(scope="session")
def built_site() -> Path:
    """The website, built as the README builds it (warnings are errors), into _build/html.

    Built in the repository's own _build so the execution cache makes later runs fast. Once per test
    run: the workers of a parallel run take a lock, and the first leaves the build's outcome beside
    it, which the others read instead of building again (and instead of rewriting pages that
    another worker's tests may be reading).
    """
    import fcntl
    import shutil
    import sys

    from tools.book import build
    from autograder.paths import ROOT

    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")  # the same in every worker of one run; unset without xdist
    outcome_file = ROOT / "_build" / ".built-for-test-run.json"
    (ROOT / "_build").mkdir(exist_ok=True)
    with open(ROOT / "_build" / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            outcome = json.loads(outcome_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            outcome = {}
        if run is None or outcome.get("run") != run:
            # Execution reports are written only when a chapter fails; a stale one from an
            # earlier failed build would be mistaken for a failure of this one.
            shutil.rmtree(ROOT / "_build" / "html" / "reports", ignore_errors=True)
            result = build(Path(sys.executable).parent, capture_output=True, text=True)
            outcome = {"run": run, "returncode": result.returncode, "log": result.stdout + result.stderr}
            outcome_file.write_text(json.dumps(outcome), encoding="utf-8")
    log = outcome["log"]
    assert outcome["returncode"] == 0, f"the book build failed:\n{log[-6000:]}"
    # -W already turns Sphinx warnings into errors; this also catches warnings printed
    # by the executed chapters. The kernel's own start-up notice is not about the book.
    warnings = [line for line in log.splitlines() if "WARNING" in line and "[IPKernelApp]" not in line]
    assert not warnings, "the book build printed warnings:\n" + "\n".join(warnings)
    return ROOT / "_build" / "html"
