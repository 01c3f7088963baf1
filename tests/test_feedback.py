"""Does the feedback show learners their code, their failed checks and the hints, and never a hidden test?"""

from __future__ import annotations

import html

import pytest

from autograder.commands.feedback import write_feedback
from autograder.engine.withheld import withhold_values
from autograder.course.leaks import find_leaks, secrets
from autograder.paths import SLUGS, source_notebook
from conftest import REFERENCE, UNTOUCHED, mutant_student
from mutants import catalogue

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pages(graded) -> dict[str, dict[str, str]]:
    """slug -> student -> the HTML of their feedback page."""
    course = next(iter(graded.values())).course
    runs = {slug: write_feedback(slug, course) for slug in SLUGS}
    assert not any(run.failed for run in runs.values()), {slug: run.failed for slug, run in runs.items()}
    return {slug: {path.parent.parent.name: path.read_text(encoding="utf-8") for path in run.written}
            for slug, run in runs.items()}


@pytest.mark.parametrize("slug", SLUGS)
def test_does_every_graded_student_get_a_page(slug, pages, graded):
    assert set(pages[slug]) == set(graded[slug].scores)


@pytest.mark.parametrize("slug", SLUGS)
def test_is_no_hidden_test_line_in_any_feedback_page(slug, pages, graded):
    hidden = [s for s in secrets(source_notebook(slug)) if s.kind == "hidden test"]
    assert hidden
    course = graded[slug].course
    paths = sorted((course / "feedback").glob(f"*/{slug}/{slug}.html"))
    leaks = find_leaks(paths, hidden)
    assert not leaks, "\n".join(f"{leak.path}: {leak.what}" for leak in leaks)


@pytest.mark.parametrize("slug", SLUGS)
def test_does_the_untouched_notebook_feedback_hold_no_solution_either(slug, pages, graded):
    path = graded[slug].course / "feedback" / UNTOUCHED / slug / f"{slug}.html"
    assert not find_leaks([path], secrets(source_notebook(slug)))


def test_does_a_mutants_page_show_its_score_its_code_the_failed_check_and_the_hint(pages, graded):
    mutant = next(m for m in catalogue("rnn") if m.must_fail and m.edits)
    student = mutant_student(mutant)
    page = pages["rnn"][student]
    result = graded["rnn"].scores[student]
    assert f"Score: {result.score:g} / {result.max_score:g}" in page
    failed = result.cell(mutant.must_fail[0])
    assert failed.status == "failed" and failed.message
    # The check's own explanation and hint, without the values it compared (withhold_values).
    assert html.escape(withhold_values(failed.message).strip()) in page
    _, _, buggy_code = mutant.edits[0]
    assert html.escape(buggy_code.strip()) in page  # the learner's own code


def test_does_the_reference_page_show_full_marks_and_every_check_passed(pages, graded):
    page = pages["bptt"][REFERENCE]
    assert "Score: 19 / 19" in page
    assert page.count('class="check passed"') == len(graded["bptt"].scores[REFERENCE].cells)
    assert 'class="check failed"' not in page and 'class="check not-run"' not in page
