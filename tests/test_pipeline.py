"""Does every assignment go through generation and grading as the course design requires?

Parametrised by slug: a new assignment is covered by adding its slug to
autograder.paths.SLUGS and its mutant catalogue to tests/mutants/.
"""

from __future__ import annotations

import pytest

from autograder.paths import SLUGS, release_notebook
from conftest import REFERENCE, UNTOUCHED, mutant_student
from mutants import catalogue

pytestmark = pytest.mark.slow

ALL_MUTANTS = [(slug, m) for slug in SLUGS for m in catalogue(slug)]


@pytest.mark.parametrize("slug", SLUGS)
def test_is_the_committed_release_exactly_what_nbgrader_generates(slug, graded):
    committed = release_notebook(slug).read_bytes()
    generated = graded[slug].generated.read_bytes()
    assert committed == generated, (
        f"exercises/{slug}/{slug}.ipynb differs from what nbgrader generates from "
        f"solutions/{slug}/{slug}.ipynb: run `python -m autograder release {slug}` and commit the result"
    )


@pytest.mark.parametrize("slug", SLUGS)
def test_does_the_reference_solution_get_full_marks(slug, graded):
    result = graded[slug].scores[REFERENCE]
    assert result.max_score > 0
    assert result.score == result.max_score, f"reference lost points in {result.failed_cells}"


@pytest.mark.parametrize("slug", SLUGS)
def test_does_the_untouched_release_get_zero(slug, graded):
    result = graded[slug].scores[UNTOUCHED]
    assert result.score == 0, f"an untouched notebook earned points in {[c.grade_id for c in result.cells if c.points]}"
    # Every test cell was graded (none skipped or lost): the run completed.
    assert len(result.cells) == len(graded[slug].scores[REFERENCE].cells)


@pytest.mark.parametrize("slug", SLUGS)
def test_does_every_point_carrying_cell_run_hidden_checks(slug, graded):
    """Visible answers alone must earn nothing: each graded cell holds a hidden block."""
    import json

    from autograder.paths import source_notebook
    from autograder.course.reference import cell_source

    notebook = json.loads(source_notebook(slug).read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and meta.get("points", 0) > 0 and cell["cell_type"] == "code":
            assert "### BEGIN HIDDEN TESTS" in cell_source(cell), f"{meta['grade_id']} has points but no hidden checks"


@pytest.mark.parametrize("slug", SLUGS)
def test_is_the_mutant_catalogue_large_enough(slug):
    assert len(catalogue(slug)) >= 8


@pytest.mark.parametrize("slug,mutant", ALL_MUTANTS, ids=[f"{s}:{m.name}" for s, m in ALL_MUTANTS])
def test_does_each_mutant_lose_points(slug, mutant, graded):
    result = graded[slug].scores[mutant_student(mutant)]
    assert result.score < result.max_score, f"mutant {mutant.name!r} ({mutant.bug}) got full marks"
    for cell in mutant.must_fail:
        assert result.cell(cell).points < result.cell(cell).max_points, (
            f"mutant {mutant.name!r} ({mutant.bug}) was not caught by {cell}"
        )


def test_does_the_course_grader_give_exactly_the_scores_plain_nbgrader_gives(graded, tmp_path):
    """On honest submissions (the rnn class: reference, untouched, every mutant) the
    sandboxed grader and `nbgrader autograde` agree on every check cell."""
    import shutil

    from autograder.engine.gradebook import read_scores
    from autograder.engine.nbgrader_cli import autograde
    from autograder.paths import gradebook_url
    from autograder.commands.release import generate

    generate("rnn", tmp_path)
    for student, result in graded["rnn"].scores.items():
        shutil.copytree(graded["rnn"].course / "submitted" / student / "rnn", tmp_path / "submitted" / student / "rnn")
    autograde(tmp_path, "rnn")
    plain = read_scores(gradebook_url(tmp_path), "rnn")
    assert set(plain) == set(graded["rnn"].scores)
    for student, result in graded["rnn"].scores.items():
        ours = {cell.grade_id: cell.points for cell in result.cells}
        theirs = {cell.cell: cell.score for cell in plain[student].cells}
        assert ours == theirs, f"{student}: course grader {ours}, nbgrader {theirs}"


def test_does_the_gradebook_hold_exactly_the_scores_the_grader_computed(graded):
    from autograder.engine.gradebook import read_scores
    from autograder.paths import gradebook_url

    for slug, assignment in graded.items():
        stored = read_scores(gradebook_url(assignment.course), slug)
        assert set(stored) == set(assignment.scores)
        for student, result in assignment.scores.items():
            assert {c.cell: c.score for c in stored[student].cells} == {c.grade_id: c.points for c in result.cells}
