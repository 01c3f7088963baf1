"""Do the checks teach: do the visible checks alone catch every bug of the catalogue, and does
every message name what is wrong, fit in 80 columns and never print an answer?

Every mutant of every assignment runs against the checks as learners see them
(hidden blocks removed), in this process, as a kernel would run the notebook
(tests/notebook_run.py). The graded runs of the whole class (conftest's
``graded``, hidden checks included) are read too.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

import pytest

from autograder.paths import SLUGS, release_notebook, source_notebook
from autograder.course.plan import load_plan
from autograder.course.submissions import fill, reference_answers
from mutants import catalogue, formulas
from notebook_run import CheckRun, run_notebook

pytestmark = pytest.mark.slow

WIDTH = 80
CASES = [(slug, mutant) for slug in SLUGS for mutant in catalogue(slug)]
IDS = [f"{slug}:{mutant.name}" for slug, mutant in CASES]


@lru_cache(maxsize=None)
def visible_runs(slug: str, name: str) -> tuple[CheckRun, ...]:
    """The check cells of mutant ``name`` (or "reference"), as the visible checks alone judge it."""
    answers = reference_answers(json.loads(source_notebook(slug).read_text(encoding="utf-8")))
    if name != "reference":
        answers = next(m for m in catalogue(slug) if m.name == name).apply(answers)
    released = json.loads(release_notebook(slug).read_text(encoding="utf-8"))
    return tuple(run_notebook(load_plan(slug), fill(released, answers), hidden=False))


def without_tracebacks(message: str) -> str:
    """A message without the learner's own code it quotes (their traceback)."""
    return message.split("Where it happened")[0]


@pytest.mark.parametrize("slug", SLUGS)
def test_does_the_reference_pass_every_visible_check(slug):
    assert [run.message for run in visible_runs(slug, "reference") if not run.passed] == []


@pytest.mark.parametrize("slug,mutant", CASES, ids=IDS)
def test_do_the_visible_checks_alone_catch_the_bug(slug, mutant):
    runs = {run.grade_id: run for run in visible_runs(slug, mutant.name)}
    assert any(not run.passed for run in runs.values()), f"{mutant.bug}: no visible check fails"
    for cell in mutant.trap:  # a trap the text names is caught before grading, not only by hidden checks
        assert not runs[cell].passed, f"{mutant.bug}: the visible checks of {cell} do not catch this trap"


@pytest.mark.parametrize("slug,mutant", CASES, ids=IDS)
def test_does_every_message_fit_in_80_columns_and_print_no_formula(slug, mutant):
    """As printed: the first line after the exception's name (``CheckFailed: ...``)."""
    for run in visible_runs(slug, mutant.name):
        lines = run.printed.splitlines()
        assert all(len(line) <= WIDTH for line in lines), [line for line in lines if len(line) > WIDTH]
        text = " ".join(without_tracebacks(run.message).split())
        assert not [f for f in formulas(slug) if " ".join(f.split()) in text], text


@pytest.mark.parametrize("slug,mutant", [(s, m) for s, m in CASES if m.fix_forward_first],
                         ids=[f"{s}:{m.name}" for s, m in CASES if m.fix_forward_first])
def test_does_a_forward_bug_make_the_backward_check_say_fix_the_forward_first(slug, mutant):
    runs = {run.grade_id: run for run in visible_runs(slug, mutant.name)}
    for cell in mutant.fix_forward_first:
        assert re.match(r"Fix \w+_forward first: ", runs[cell].message), runs[cell].message


@pytest.mark.parametrize("slug,mutant", [(s, m) for s, m in CASES if m.fix_part0_first],
                         ids=[f"{s}:{m.name}" for s, m in CASES if m.fix_part0_first])
def test_does_a_bug_in_part0_make_the_later_checks_say_fix_part0_first(slug, mutant):
    runs = {run.grade_id: run for run in visible_runs(slug, mutant.name)}
    for cell in mutant.fix_part0_first:
        assert runs[cell].message.startswith("Fix Part 0 first: "), runs[cell].message


@pytest.mark.parametrize("slug,mutant", [(s, m) for s, m in CASES if m.hint],
                         ids=[f"{s}:{m.name}" for s, m in CASES if m.hint])
def test_is_the_bug_named_by_its_own_hint(slug, mutant):
    """Where several bugs fail the same check (a loss value has many possible causes), the
    message gives the hint of the one that was made."""
    for cell in mutant.trap:
        message = {run.grade_id: run for run in visible_runs(slug, mutant.name)}[cell].message
        assert " ".join(mutant.hint.split()) in " ".join(message.split()), message


@pytest.mark.parametrize("slug", SLUGS)
def test_does_no_hint_of_the_assignment_print_a_formula_or_repeat_itself(slug):
    from importlib import import_module

    module = import_module(f"rnnlab.assignments.{slug}")
    hints = [text for value in vars(module).values() if isinstance(value, (str, dict))
             for text in (value.values() if isinstance(value, dict) else [value]) if isinstance(text, str)]
    for hint in hints:
        assert not [f for f in formulas(slug) if " ".join(f.split()) in " ".join(hint.split())], hint


@pytest.mark.parametrize("slug", SLUGS)
def test_do_graded_messages_fit_in_80_columns_and_print_no_formula(slug, graded):
    for result in graded[slug].scores.values():
        for cell in result.cells:
            lines = cell.message.splitlines()
            assert all(len(line) <= WIDTH for line in lines), (result.student, cell.grade_id, lines)
            text = " ".join(without_tracebacks(cell.message).split())
            assert not [f for f in formulas(slug) if " ".join(f.split()) in text], (result.student, text)
