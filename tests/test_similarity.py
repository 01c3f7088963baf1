"""Does ``python -m autograder similarity`` flag copies, and only copies, and survive hostile notebooks?

The class (tests/fixtures/similarity, README there): eight independent correct solutions of the
``rnn`` assignment written in different ways, six planted copies of one of them (verbatim,
renamed, reordered, re-commented, disguised in all three ways, partly copied), the reference
solution, the untouched release and every honest style of tests/honest.py (the reference
rewritten). Nothing is graded or run: the comparison reads code.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import time
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from autograder.__main__ import main
from autograder.commands.similarity import Screening, screen, write_report
from autograder.course import similarity
from autograder.course.submissions import fill, reference_answers
from autograder.paths import ROOT, release_notebook, source_notebook
from conftest import REFERENCE, UNTOUCHED, honest_student, write_submission
from honest import STYLES, honest_answers

FIXTURES = ROOT / "tests" / "fixtures" / "similarity"
#: The independent solutions, by student id.
INDEPENDENT = {f"independent-{p.stem}": p for p in sorted((FIXTURES / "honest").glob("*.py"))}
#: The honest solution the copies are derived from.
SOURCE = "independent-stacked"
#: The planted copies, by student id: each file of copies/, and a verbatim copy of the source.
COPIES = {f"copy-{p.stem}": p for p in sorted((FIXTURES / "copies").glob("*.py"))}
COPIES["copy-verbatim"] = INDEPENDENT[SOURCE]
MARKER = re.compile(r"^# %% (\S+)\n", re.M)


def cells_of(path: Path) -> tuple[dict[str, str], list[str]]:
    """A fixture's answer cells by grade_id, and the cells it adds."""
    parts = MARKER.split(path.read_text(encoding="utf-8"))
    answers, added = {}, []
    for grade_id, code in zip(parts[1::2], parts[2::2]):
        if grade_id == "added":
            added.append(code)
        else:
            answers[grade_id] = code
    return answers, added


def code_cell(source: str) -> dict:
    """A code cell without nbgrader metadata: one the learner added."""
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}


def notebook_of(path: Path, released: dict) -> dict:
    """The released notebook with a fixture's answer cells filled in and its added cells at the end."""
    answers, added = cells_of(path)
    notebook = fill(released, answers)
    notebook["cells"] += [code_cell(code) for code in added]
    return notebook


def scratch_course(root: Path) -> Path:
    """A course with the rnn assignment's source and release, and nothing submitted."""
    for folder in ("solutions", "exercises"):
        shutil.copytree(ROOT / folder / "rnn", root / folder / "rnn")
    return root


def released() -> dict:
    return json.loads(release_notebook("rnn").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    course = scratch_course(tmp_path_factory.mktemp("similarity-course"))
    release = released()
    answers = reference_answers(json.loads(source_notebook("rnn").read_text(encoding="utf-8")))
    for name, path in (INDEPENDENT | COPIES).items():
        write_submission(course, name, "rnn", notebook_of(path, release))
    write_submission(course, REFERENCE, "rnn", fill(release, answers))
    write_submission(course, UNTOUCHED, "rnn", release)
    for style in STYLES:
        write_submission(course, honest_student(style.name), "rnn", fill(release, honest_answers(answers, style)))
    return course


@pytest.fixture(scope="module")
def screening(course) -> Screening:
    return screen(course, "rnn")


def score(screening: Screening, a: str, b: str) -> float:
    return next((p.similarity for p in screening.pairs if {p.a, p.b} == {a, b}), 0.0)


PLANTED = {SOURCE} | set(COPIES)


def planted(a: str, b: str) -> bool:
    return a in PLANTED and b in PLANTED


# -- the fixtures are what they say ---------------------------------------------------------------

def test_are_the_independent_solutions_and_the_copies_correct():
    """Each is checked against the reference on several shapes, saturated inputs included: a
    copy screen is only tested fairly on code that solves the assignment."""
    from autograder.course.reference import load_reference
    from rnnlab.assignments.rnn import saturated_step_inputs, step_inputs

    reference = load_reference("rnn")
    for path in (INDEPENDENT | COPIES).values():
        namespace = {"np": np}
        for code in cells_of(path)[0].values():
            exec(code, namespace)  # noqa: S102 - the test suite's own fixtures
        for N, D, H, seed in [(3, 4, 5, 0), (1, 2, 5, 7), (4, 6, 3, 42)]:
            for inputs in (step_inputs(N, D, H, seed=seed), saturated_step_inputs(N, D, H, seed=seed)):
                before = {name: value.copy() for name, value in inputs.items()}
                next_h, cache = namespace["rnn_step_forward"](**inputs)
                expected_h, expected_cache = reference.rnn_step_forward(**inputs)
                upstream = np.random.default_rng(seed).normal(size=next_h.shape)
                got = namespace["rnn_step_backward"](upstream, cache)
                expected = reference.rnn_step_backward(upstream, expected_cache)
                np.testing.assert_allclose(next_h, expected_h, atol=1e-12, err_msg=path.name)
                for a, b in zip(got, expected, strict=True):
                    np.testing.assert_allclose(a, b, atol=1e-12, err_msg=path.name)
                    assert a.shape == b.shape, path.name
                assert all(np.array_equal(before[k], inputs[k]) for k in inputs), f"{path.name} modifies an input"


# -- copies flagged, honest work not ----------------------------------------------------------------

def test_does_every_planted_copy_pair_rank_above_every_honest_pair(screening, capsys):
    ranked = screening.ranked()
    position = {(p.a, p.b): i for i, p in enumerate(ranked)}
    copies = [p for p in ranked if planted(p.a, p.b)]
    honest = [p for p in ranked if not planted(p.a, p.b)]
    assert len(copies) == len(list(combinations(PLANTED, 2))), "a planted pair shares nothing"
    assert max(position[p.a, p.b] for p in copies) < min(position[p.a, p.b] for p in honest)
    lowest = min(copies, key=lambda p: p.similarity)
    highest = max(honest, key=lambda p: p.similarity)
    assert lowest.similarity > highest.similarity + 0.25
    assert all(screening.flagged(p) for p in copies) and not any(screening.flagged(p) for p in honest)
    with capsys.disabled():
        print(f"\nseparation: lowest planted pair {lowest.similarity:.1%} ({lowest.a} ~ {lowest.b}), highest honest "
              f"pair {highest.similarity:.1%} ({highest.a} ~ {highest.b}); "
              f"lowest copy of the source {min(score(screening, SOURCE, copy) for copy in COPIES):.1%}")


@pytest.mark.parametrize("copy, at_least", [("verbatim", 1.0), ("renamed", 0.95), ("recommented", 0.95),
                                            ("reordered", 0.8), ("disguised", 0.7), ("partial", 0.45)])
def test_does_a_disguised_copy_keep_its_score(screening, copy, at_least):
    """Renaming every variable, helper and parameter, reformatting and rewriting comments and
    docstrings change nothing the comparison reads; reordering functions and independent
    statements, little. A partial copy (one function of two) scores about half."""
    assert score(screening, SOURCE, f"copy-{copy}") >= at_least


def test_do_two_identical_submissions_score_100_percent_whatever_the_template(screening):
    """Template code is left out of the denominator too (JPlag users saw identical work at 69 %)."""
    pair = next(p for p in screening.pairs if {p.a, p.b} == {SOURCE, "copy-verbatim"})
    assert pair.similarity == 1.0 and pair.covered_a == pair.own_a > 0


def test_do_the_release_the_solution_and_its_rewrites_score_about_zero(screening):
    """What everyone received or may have seen is not counted: the reference and the untouched
    release have no code of their own, and the honest styles (the reference rewritten) share
    only their rewrites' generic shapes, far from a flag."""
    by_student = {s.student: s for s in screening.compared}
    assert by_student[REFERENCE].own == 0 and by_student[UNTOUCHED].own == 0
    template_like = {REFERENCE, UNTOUCHED} | {honest_student(style.name) for style in STYLES}
    assert not [p for p in screening.pairs if {p.a, p.b} & {REFERENCE, UNTOUCHED}]
    among = [p for p in screening.pairs if p.a in template_like and p.b in template_like]
    assert all(p.similarity < 0.15 and not screening.flagged(p) for p in among), among


#: The example the release's text gives to run (a markdown code block), as learners paste it.
PASTED_EXAMPLE = """inputs = step_inputs(N=2, D=3, H=4, seed=1)
next_h, cache = rnn_step_forward(**inputs)
dnext_h = np.ones_like(next_h)
dx, *_ = rnn_step_backward(dnext_h, cache)
check_gradients(rnn_step_forward, inputs, {"dx": dx}, upstream=dnext_h)
"""
#: The visible backward check, re-run by a learner with one more argument: a statement of their own
#: that is mostly the check cell's.
EXTENDED_CHECK = """inputs = step_inputs(N=3, D=4, H=5, seed=0)
dnext_h = checks.fixed_array((3, 5), seed=5)
checks.check_backward(rnn_step_forward, rnn_step_backward, inputs, [dnext_h], course.STEP_GRADIENTS,
                      hints=course.BACKWARD_HINTS, hint_all_wrong=course.BACKWARD_HINT_ALL_WRONG, threshold=1e-7,
                      case="my own try")
"""


def test_does_code_pasted_from_the_release_stay_out_of_the_comparison(tmp_path):
    """Two students who paste the example of the release's text into a cell of their own, and
    re-run a visible check with the same extra argument, share only the run of tokens that
    reaches that argument: the rest came with the release."""
    course = scratch_course(tmp_path / "course")
    release = released()
    for name, path in (("alice", INDEPENDENT["independent-columns"]), ("bob", INDEPENDENT["independent-tensordot"])):
        notebook = notebook_of(path, release)
        notebook["cells"] += [code_cell(PASTED_EXAMPLE), code_cell(EXTENDED_CHECK)]
        write_submission(course, name, "rnn", notebook)
    screening = screen(course, "rnn")
    (pair,) = screening.pairs
    assert max(pair.covered_a, pair.covered_b) <= similarity.K + similarity.WINDOW and not screening.flagged(pair)


def test_are_template_fingerprints_removed_inside_a_statement_the_learner_extended():
    """Of a statement that extends a check cell's, only the k-grams that reach the new argument
    are the learner's."""
    template = similarity.template(similarity.notebook_cells(released()))
    submission, left_out = similarity.fingerprint("alice", [similarity.Cell("added cell 9", EXTENDED_CHECK)],
                                                  template)
    similarity.compare([submission])  # sets own
    assert not left_out and 0 < submission.own <= similarity.K + similarity.WINDOW < len(submission.spans) // 2
    assert min(p for ps in submission.fingerprints.values() for p in ps) > len(submission.spans) // 2


def test_do_several_honest_ways_of_the_same_function_stay_apart(screening):
    """The two independent solutions in the chapter's stacked form, and the einsum solution and
    the einsum style, write the same idea: alike, but not flagged."""
    assert score(screening, SOURCE, "independent-stacked_split") < 0.15
    assert score(screening, "independent-einsum", honest_student("einsum")) < 0.15


def test_is_code_many_submissions_share_not_counted(course):
    """With --max-common 2, the fingerprints the seven planted submissions share are what many
    write, and no longer count."""
    assert score(screen(course, "rnn", max_common=2), SOURCE, "copy-verbatim") == 0.0


def test_is_every_statement_of_an_awkward_cell_read_and_placed_on_its_lines():
    """try/except/else/finally, with, for-else, nested functions, decorators and a magic: one
    normalised statement per statement node, each with the lines it stands for."""
    source = ("%load_ext autoreload\n"
              "def outer(a):\n"
              "    @staticmethod\n"
              "    def inner(b):\n"
              "        return b + 1\n"
              "    try:\n"
              "        with open(a) as f:\n"
              "            data = f.read()\n"
              "    except OSError:\n"
              "        data = ''\n"
              "    else:\n"
              "        pass\n"
              "    finally:\n"
              "        a = None\n"
              "    for line in data:\n"
              "        total = len(line)\n"
              "    else:\n"
              "        total = 0\n"
              "    return inner(total)\n")
    units = similarity.cell_units(similarity.Cell("added cell 1", source), 0)
    lines = {line for _, spans in units for _, first, last in spans for line in range(first, last + 1)}
    # A unit is a function's body: its def line is not compared (its name is not evidence); nor
    # are decorators, else: and finally:, which are not statements.
    assert lines == set(range(1, 20)) - {2, 3, 11, 13, 17}
    assert all(len(tokens) == len(spans) for tokens, spans in units)


# -- hostile submissions -------------------------------------------------------------------------

def test_are_hostile_notebooks_listed_with_a_reason_and_the_others_compared(tmp_path, capsys):
    course = scratch_course(tmp_path / "course")
    release = released()
    stacked = notebook_of(INDEPENDENT[SOURCE], release)
    write_submission(course, "alice", "rnn", stacked)
    write_submission(course, "bob", "rnn", notebook_of(COPIES["copy-renamed"], release))
    write_submission(course, "carol", "rnn", notebook_of(INDEPENDENT["independent-loops"], release))
    write_submission(course, "deep-json", "rnn", {"cells": []}).write_text("[" * 100_000 + "]" * 100_000)
    write_submission(course, "not-json", "rnn", {}).write_text('{"cells": [')
    write_submission(course, "list-json", "rnn", {}).write_text("[1, 2, 3]")
    huge = fill(release, {})
    huge["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x" * 2_000_000}]
    write_submission(course, "huge", "rnn", huge)
    broken = notebook_of(COPIES["copy-verbatim"], release)
    broken["cells"] += [code_cell("def f(:\n    pass\n"), code_cell("x = " + "(" * 300 + ")" * 300),
                        code_cell("y = a" + "[0]" * 900), code_cell("%matplotlib inline\n!pip list\n"),
                        code_cell("!ls\n" * 5000)]  # IPython would rewrite it 500 times over, for a minute
    write_submission(course, "dave", "rnn", broken)
    too_much = fill(release, {"rnn_step_forward": "x = 1\n" * 60_000})
    write_submission(course, "too-much-code", "rnn", too_much)
    outside = tmp_path / "outside"  # a folder elsewhere, reached through links
    write_submission(outside, "secret", "rnn", stacked)
    (course / "submitted" / "linked-student").symlink_to(outside / "submitted" / "secret")
    (course / "submitted" / "linked-folder").mkdir()
    (course / "submitted" / "linked-folder" / "rnn").symlink_to(outside / "submitted" / "secret" / "rnn")
    (course / "submitted" / "linked-notebook" / "rnn").mkdir(parents=True)
    (course / "submitted" / "linked-notebook" / "rnn" / "rnn.ipynb").symlink_to(
        outside / "submitted" / "secret" / "rnn" / "rnn.ipynb")
    (course / "submitted" / "fifo" / "rnn").mkdir(parents=True)
    os.mkfifo(course / "submitted" / "fifo" / "rnn" / "rnn.ipynb")  # would block a plain open()
    (course / "submitted" / "empty" / "rnn").mkdir(parents=True)

    assert main(["--course", str(course), "similarity", "rnn", "--max-notebook-mb", "1"]) == 0
    out = capsys.readouterr().out
    start = time.perf_counter()
    screening = screen(course, "rnn", max_mb=1)
    assert time.perf_counter() - start < 10  # about 0.2 s; no notebook may hold the report up for long
    reasons = {(n.student, n.what): n.reason for n in screening.not_compared}
    expected = {
        ("deep-json", "the notebook"): "nested more than",
        ("not-json", "the notebook"): "not valid notebook JSON",
        ("list-json", "the notebook"): "not a Jupyter notebook",
        ("huge", "the notebook"): "larger than the 1 MB",
        ("dave", "added cell 8"): "does not parse as Python (invalid syntax, line 1)",
        ("dave", "added cell 9"): "does not parse as Python (too many nested parentheses",
        ("dave", "added cell 10"): "nested too deeply",
        ("dave", "added cell 12"): "does not parse as Python (invalid syntax, line 1)",
        ("too-much-code", "the notebook"): "more than the",
        ("linked-student", "the notebook"): "symbolic link",
        ("linked-folder", "the notebook"): "symbolic link",
        ("linked-notebook", "the notebook"): "symbolic link",
        ("fifo", "the notebook"): "not a regular file",
        ("empty", "the notebook"): "no rnn.ipynb",
    }
    assert set(reasons) == set(expected), reasons
    for key, words in expected.items():
        assert words in reasons[key], (key, reasons[key])
        assert key[0] in out
    compared = {s.student for s in screening.compared}
    assert compared == {"alice", "bob", "carol", "dave"}
    # dave's magics cell is read (through IPython) and is his own: a little below 100 %.
    assert score(screening, "alice", "bob") == 1.0 and score(screening, "alice", "dave") > 0.9
    assert "secret" not in {p.a for p in screening.pairs} | {p.b for p in screening.pairs}
    page = (course / "reports" / "similarity" / "rnn" / "index.html").read_text(encoding="utf-8")
    assert "Not compared" in page and "does not parse as Python" in page and "symbolic link" in page


# -- the report ---------------------------------------------------------------------------------

HOSTILE_ID = "<img src=x onerror=alert(1)>"
HOSTILE_CODE = "# </pre><script>alert('copied')</script>\n"


def test_is_everything_from_a_submission_escaped_and_the_page_careful(tmp_path):
    course = scratch_course(tmp_path / "course")
    release = released()
    write_submission(course, "alice", "rnn", notebook_of(INDEPENDENT[SOURCE], release))
    answers, _ = cells_of(COPIES["copy-renamed"])
    answers["rnn_step_backward"] = answers["rnn_step_backward"].replace("    combined, big_W", HOSTILE_CODE
                                                                        + "    combined, big_W")
    write_submission(course, HOSTILE_ID, "rnn", fill(release, answers))
    page, _ = write_report(screen(course, "rnn"), tmp_path / "out")
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;/pre&gt;&lt;script&gt;alert(&#x27;copied&#x27;)&lt;/script&gt;" in html  # shown, in the copied cell
    caveat = re.sub(r"\s+", " ", html)
    assert "flags, it does not accuse" in caveat and "not evidence by itself" in caveat
    assert "one natural form" in caveat and "the instructor's solution holds is not counted" in caveat
    assert 'id="pair-1"' in html and "<mark" in html


def test_does_the_side_by_side_view_highlight_the_shared_lines_on_both_sides(screening):
    from autograder.commands.similarity import render

    html = render(screening, top=1)
    section = html[html.index('id="pair-1"'):]
    first = next(p for p in screening.ranked())
    assert first.similarity == 1.0
    marked = re.findall(r'<mark class="f\d" title="shared fragment \d+">(.*?)</mark>', section)
    # The backward step's unpacking of the cache is shared in both columns (one per side).
    assert sum("= cache" in line for line in marked) == 2, marked
    # Docstrings are not compared, so never highlighted.
    assert not any('"""' in line for line in marked)


def test_is_each_fragment_one_stretch_of_code_on_each_side(screening):
    """Fragments never overlap on either side, even where a side repeats a statement (the stacked
    solution's two helpers normalise alike): each colour in the view pairs one stretch with one."""
    for pair in screening.pairs:
        for f, g in combinations(pair.fragments, 2):
            assert not (f.a < g.a_end and g.a < f.a_end) and not (f.b < g.b_end and g.b < f.b_end), pair
    from autograder.commands.similarity import render

    verbatim = next(p for p in screening.pairs if {p.a, p.b} == {SOURCE, "copy-verbatim"})
    html = render(Screening("rnn", screening.compared, [verbatim], []), top=1)
    section = html[html.index('id="pair-1"'):]
    left, right = section.split('<div><h3>', 2)[1:]
    colours = [re.findall(r'<mark class="(f\d)"', side) for side in (left, right)]
    assert colours[0] == colours[1] and len(set(colours[0])) > 1


@pytest.mark.parametrize("hostile", ["=HYPERLINK(\"evil.example\")", "+1+1", "-2+3", "@SUM(A1)"])
def test_is_a_formula_student_id_neutralised_in_pairs_csv(tmp_path, hostile):
    course = scratch_course(tmp_path / "course")
    release = released()
    write_submission(course, "alice", "rnn", notebook_of(INDEPENDENT[SOURCE], release))
    write_submission(course, hostile, "rnn", notebook_of(COPIES["copy-verbatim"], release))
    _, table = write_report(screen(course, "rnn"), tmp_path / "out")
    with table.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1
    assert {rows[0]["student_a"], rows[0]["student_b"]} == {"alice", f"'{hostile}"}
    assert rows[0]["similarity"] == "1.000" and rows[0]["flagged"] == "yes"


# -- the command line ---------------------------------------------------------------------------

def test_does_the_command_write_the_report_from_the_command_line(course, tmp_path, capsys):
    assert main(["--course", str(course), "similarity", "rnn"]) == 0
    out = capsys.readouterr().out
    folder = course / "reports" / "similarity" / "rnn"
    assert f"wrote {folder / 'index.html'}" in out and f"wrote {folder / 'pairs.csv'}" in out
    assert re.search(r"compared \d+ submissions of rnn: \d+ pairs share code, 21 flagged", out)
    with (folder / "pairs.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["rank", "student_a", "student_b", "similarity", "flagged", "matched_tokens_a",
                             "matched_tokens_b", "own_tokens_a", "own_tokens_b", "longest_match", "fragments"]
    assert [row["flagged"] for row in rows[:21]] == ["yes"] * 21 and rows[21]["flagged"] == "no"

    out_dir = tmp_path / "elsewhere"
    assert main(["--course", str(course), "similarity", "rnn", "--out", str(out_dir), "--threshold", "0.99",
                 "--top", "3"]) == 0
    html = (out_dir / "index.html").read_text(encoding="utf-8")
    assert html.count("<section") == 3
    with pytest.raises(SystemExit):
        main(["--course", str(course), "similarity", "rnn", "--threshold", "40"])


def test_does_the_command_fail_clearly_without_the_release_or_submissions(tmp_path, capsys):
    assert main(["--course", str(tmp_path), "similarity", "rnn"]) == 1
    assert "exercises" in capsys.readouterr().err
    course = scratch_course(tmp_path / "course")
    assert main(["--course", str(course), "similarity", "rnn"]) == 1
    assert "no submitted/ folder" in capsys.readouterr().err
