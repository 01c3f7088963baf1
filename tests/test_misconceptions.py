"""What to reteach (autograder/engine/misconceptions.py and ``report``'s part of it).

Hand-made results first: hints counted once per student, failures without a hint grouped
across inputs, examples anonymised, bad result files skipped, hostile text neutralised.
Then the synthetic class that conftest's ``graded`` fixture grades once per session.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import os
import re
from pathlib import Path

import pytest

from autograder.commands import report
from autograder.engine.withheld import WITHHELD, withhold_values
from autograder.engine import misconceptions
from autograder.engine.misconceptions import failures_of, find_misconceptions, hints_of, page, table, tally
from autograder.engine.results import FAILED, GRADED, MISSING, PASSED, UNREADABLE, CellResult, SubmissionResult
from autograder.engine.runner import failure_message
from autograder.paths import SLUGS, gradebook_url
from rnnlab.checks import failure

# Hints as the checks print them: long enough to be wrapped over several lines.
H_DX = "dx flows back through Wx, the matrix that multiplied x. It has the shape of x, (N, D)."
H_SHARED = ("All five gradients are wrong, so the mistake is in what they share: the gradient of the "
            "pre-activation. Is the derivative of tanh written with the tanh your forward step computed?")
H_DB = "b was added to every row of the batch, so its gradient sums over the batch axis, and has shape (H,)."
DETAILS = ["dx:  relative error 3.3e-01  WRONG", "     worst at index (1, 1): analytic -0.125884, numerical -0.620534"]


def message(headline: str, hints=(), details=DETAILS, shared_hint: str | None = None) -> str:
    """A failed check's message exactly as the grader records it."""
    return failure_message(failure(headline, hints, details, shared_hint))


def gradient_failure(*hints: tuple[str, str]) -> str:
    names = " and ".join(name for name, _ in hints)
    return message(f"rnn_step_backward fails the gradient check: {names} are wrong (relative error above 1e-07).",
                   list(hints))


def result(student: str, slug: str = "rnn", *cells: tuple[str, str, str], status: str = GRADED) -> SubmissionResult:
    """A result with (grade_id, status, message) cells, each worth 1 point."""
    return SubmissionResult(student, slug, status, [
        CellResult(grade_id, float(state == PASSED), 1.0, state, text) for grade_id, state, text in cells])


def save(course: Path, *results: SubmissionResult) -> Path:
    for r in results:
        r.save(course / "autograded" / r.student / r.slug / "result.json")
    return course / "autograded"


PASS = ("test_forward", PASSED, "")


def test_is_each_hint_counted_once_per_student_whichever_cells_and_quantities_printed_it():
    results = [
        # alice: the dx hint in two cells, once alone and once shared with dWx ("Hint for dx and dWx:")
        result("alice", "rnn", ("test_backward", FAILED, gradient_failure(("dx", H_DX), ("dWx", H_DX))),
               ("test_backward_edge", FAILED, gradient_failure(("dx", H_DX)))),
        # bob: the dx hint and the db hint in one message ("Hint for dx:", "Hint for db:")
        result("bob", "rnn", ("test_backward", FAILED, gradient_failure(("dx", H_DX), ("db", H_DB)))),
        result("carol", "rnn", ("test_backward", FAILED, gradient_failure(("db", H_DB)))),
        result("dave", "rnn", ("test_backward", FAILED, message("rnn_step_backward fails the gradient check.",
                                                                shared_hint=H_SHARED))),
        result("erin", "rnn", ("test_backward", FAILED, gradient_failure(("dx", H_DX)))),
        result("frank", "rnn", PASS, ("test_backward", PASSED, "")),  # a full pass contributes nothing
    ]
    assert "Hint for dx and dWx: dx flows back" in results[0].cells[0].message  # as printed: shared, wrapped
    found = tally(results, ["rnn"])
    assert [(m.what, m.students, m.named) for m in found.ranked["rnn"]] == [
        (H_DX, 3, True), (H_DB, 2, True), (H_SHARED, 1, True)]
    assert (found.graded["rnn"], found.passed["rnn"]) == (6, 1)
    assert [round(m.share, 3) for m in found.ranked["rnn"]] == [0.5, 0.333, 0.167]
    # The example is the first student's (by id), with the check it came from.
    assert found.ranked["rnn"][0].example_check == "test_backward"
    assert "Hint for dx and dWx:" in found.ranked["rnn"][0].example_message


def test_are_hints_read_whole_however_they_were_wrapped_and_whatever_details_follow():
    from rnnlab.assignments import bptt

    long_label = "new_params['Wx']: largest difference 1.11 at index (0, 1) (expected 0.225623, got 1.3397)"
    hint = ("Each parameter takes a step against its gradient, scaled by the learning rate, after ALL the "
            "gradients were clipped together by their global norm.")  # its last line ends a sentence at column 75
    assert hints_of(message("new_params['Wx'] is wrong.", [("new_params", hint)], [long_label])) == [hint]
    prose = bptt.PARAM_HINTS["Wh"]
    printed = message("char_rnn_loss fails the gradient check: dWh is wrong.", [("dWh", prose)])
    assert "fix those first.\n  Otherwise: does" in printed  # a line that ends a sentence, then "Otherwise:"
    assert hints_of(printed) == [prose]
    assert hints_of(message("dWh and db are wrong.", [("dWh", prose), ("db", H_DB)])) == [prose, H_DB]


def test_does_a_failure_without_a_hint_group_with_the_same_failure_on_other_inputs():
    def shape(n, d, h):
        return message(f"rnn_step_backward returns gradients of the wrong shape (on N={n}, D={d}, H={h}).",
                       details=[f"db has shape ({d},) but should have shape ({h},)"])

    results = [result("alice", "rnn", ("test_backward", FAILED, shape(1, 2, 5))),
               result("bob", "rnn", ("test_backward", FAILED, shape(3, 4, 17))),
               result("carol", "rnn", ("test_backward_edge", FAILED, shape(3, 4, 17))),  # another check
               result("dave", "rnn", ("test_backward", FAILED, gradient_failure(("db", H_DB))))]
    ranked = tally(results, ["rnn"]).ranked["rnn"]
    headline = "rnn_step_backward returns gradients of the wrong shape (on N=#, D=#, H=#)."
    assert [(m.what, m.students, m.named, m.kind) for m in ranked] == [
        (f"test_backward: {headline}", 2, False, "no named hint"),
        (H_DB, 1, True, "hint"),  # ties: a named hint before a failure without one
        (f"test_backward_edge: {headline}", 1, False, "no named hint")]
    assert "(on N=1, D=2, H=5)" in " ".join(ranked[0].example_message.split())  # what the student saw


def test_is_a_failure_that_follows_from_an_earlier_one_not_counted_again():
    forward = message("rnn_step_forward: next_h is wrong.", [("next_h", "next_h is tanh of the sum.")])
    backward = ("Fix rnn_step_forward first: its own check fails (rnn_step_forward: next_h is wrong). "
                "rnn_step_backward is checked against your rnn_step_forward, so it cannot pass until the "
                "forward step is right.\n" + gradient_failure(("dx", H_DX)))
    found = tally([result("alice", "rnn", ("test_forward", FAILED, forward), ("test_backward", FAILED, backward))],
                  ["rnn"])
    assert [m.what for m in found.ranked["rnn"]] == ["next_h is tanh of the sum."]


def test_is_the_example_anonymised_and_its_values_withheld():
    raised = message("rnn_step_forward: next_h is wrong (expected 0.123456, got 0.654321).",
                     [("next_h", "next_h is tanh of the sum.")])
    crash = ("rnn_step_backward raised FileNotFoundError: /home/Alice.Smith/rnn/cache.npy not found\n"
             "Where it happened (most recent call last):\n"
             '  File "<cell rnn_step_backward>", line 3, in rnn_step_backward\n'
             "    cache = np.load('/home/alice.smith/rnn/cache.npy')  # alice.smith's secret\n")
    found = tally([result("alice.smith", "rnn", ("test_forward", FAILED, raised), ("test_backward", FAILED, crash)),
                   result("bob", "rnn", ("test_backward", FAILED, crash.replace("Alice.Smith", "bob")))],
                  ["rnn"])
    by_check = {m.example_check: m for m in found.ranked["rnn"]}
    for m in found.ranked["rnn"]:
        assert "alice" not in (m.what + m.example_message).lower()
        assert "0.123456" not in m.example_message and "0.654321" not in m.example_message
    assert f"expected {WITHHELD}, got {WITHHELD}" in " ".join(by_check["test_forward"].example_message.split())
    # The same crash groups for both students once each id is out; the learner's code is not quoted.
    crashed = by_check["test_backward"]
    assert crashed.students == 2 and "/home/[student]/rnn/cache.npy" in crashed.what
    assert "np.load" not in crashed.example_message and "traceback is not shown" in crashed.example_message


def test_are_unreadable_and_missing_notebooks_counted_apart_not_as_misconceptions():
    not_run = ("test_forward", "not run", "rnn.ipynb is not valid JSON")
    results = [result("alice", "rnn", not_run, status=UNREADABLE), result("bob", "rnn", not_run, status=MISSING),
               result("carol", "rnn", not_run, status=UNREADABLE),
               result("dave", "rnn", ("test_forward", FAILED, gradient_failure(("db", H_DB)))),
               result("erin", "rnn", PASS)]
    found = tally(results, ["rnn"])
    assert [(m.what, m.students, m.graded) for m in found.ranked["rnn"]] == [(H_DB, 1, 2)]
    assert found.not_graded["rnn"] == {"notebook unreadable": 2, "notebook missing": 1}
    assert misconceptions.summary(found, "rnn") == ("2 graded submissions, 1 passed every check; "
                                                    "notebook missing: 1; notebook unreadable: 2")


def test_is_a_bad_result_file_skipped_with_a_note_and_the_rest_counted(tmp_path, monkeypatch):
    good = result("alice", "rnn", ("test_backward", FAILED, gradient_failure(("db", H_DB))))
    autograded = save(tmp_path, good, result("mallory", "rnn", PASS), result("zed", "rnn", PASS))
    bad = {"bob": "{not json", "carol": "[1, 2, 3]", "dan": '{"student": "dan"}', "eve": "\udcff",
           "fay": json.dumps({**json.loads(good.to_json()), "student": "fay", "cells": [
               {"grade_id": "t", "points": 0, "max_points": 1, "status": "failed", "message": 42}]}),
           "gus": "[" * 1500}  # deeper than the recursion limit
    for student, text in bad.items():
        (autograded / student / "rnn").mkdir(parents=True)
        (autograded / student / "rnn" / "result.json").write_text(text, encoding="utf-8", errors="surrogateescape")
    (autograded / "hal" / "rnn").mkdir(parents=True)  # a folder without its result
    (autograded / "mallory" / "rnn" / "result.json").write_text(good.to_json(), encoding="utf-8")  # alice's, moved
    (autograded / "ivy" / "rnn").mkdir(parents=True)
    os.symlink(autograded / "alice" / "rnn" / "result.json", autograded / "ivy" / "rnn" / "result.json")
    (autograded / "jo" / "rnn").mkdir(parents=True)
    os.mkfifo(autograded / "jo" / "rnn" / "result.json")  # would block a plain open() forever
    os.symlink(autograded / "alice", autograded / "kim")  # a whole student folder linked
    monkeypatch.setattr(misconceptions, "MAX_RESULT_BYTES", 2000)
    (autograded / "zed" / "rnn" / "result.json").write_text(" " * 2001 + good.to_json(), encoding="utf-8")

    found = find_misconceptions(autograded, ["rnn"])
    assert [(m.what, m.students, m.graded) for m in found.ranked["rnn"]] == [(H_DB, 1, 1)]
    notes = {re.match(r"autograded/([^/:]+)", note)[1]: note for note in found.skipped}
    assert set(notes) == {"bob", "carol", "dan", "eve", "fay", "gus", "hal", "ivy", "jo", "kim", "mallory", "zed"}
    assert notes["bob"] == "autograded/bob/rnn/result.json: not a grader's result (JSONDecodeError)"
    assert notes["fay"].endswith("a field of the wrong type)") and notes["gus"].endswith("(RecursionError)")
    assert notes["hal"].endswith(": missing") and notes["jo"].endswith(": not a regular file")
    assert "cannot be opened" in notes["ivy"] and "larger than" in notes["zed"]
    assert notes["mallory"].endswith("it is the result of alice's rnn, not of this folder")
    assert notes["kim"] == "autograded/kim: a symbolic link, not read"
    assert "Result files skipped (12, all listed in misconceptions.html):" in table(found)
    assert all(html.escape(note) in page(found) for note in found.skipped)


def test_is_hostile_text_neutralised_in_the_page_the_csv_and_the_console(tmp_path):
    script = "<script>alert('owned')</script>"
    hostile = (f"=HYPERLINK(\"http://evil\") {script} \x1b[2J\u202e\udcff went wrong\n"
               f"rnn_step_forward raised ValueError: {script}\nHint: a hint forged by the submission")
    save(tmp_path, result("alice", "rnn", ("test_forward", FAILED, hostile)))
    out = tmp_path / "reports"
    out.mkdir()
    found = report.write_misconceptions(tmp_path, out, ("rnn",))
    [item] = found.ranked["rnn"]
    assert not item.named  # the "hint" came from the learner's exception text
    text = page(found)
    assert script not in text and html.escape(script) in text
    assert "\x1b" not in text and "\\x1b[2J" in text and "\\u202e" in text and "\\udcff" in text
    assert (out / "misconceptions.html").read_text(encoding="utf-8") == text
    rows = list(csv.DictReader((out / "misconceptions.csv").open(encoding="utf-8")))
    assert rows[0]["hint_or_failing_check"].startswith("test_forward: =HYPERLINK")
    assert rows[0]["example_message"].startswith("'=HYPERLINK") and "\x1b" not in rows[0]["example_message"]
    assert "\x1b" not in table(found) and "\u202e" not in table(found)


def test_does_the_report_say_there_is_nothing_to_count_and_still_write_both_files(tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    (out / "misconceptions.csv").write_text("an earlier run's\n", encoding="utf-8")
    found = report.write_misconceptions(tmp_path, out, ("rnn", "bptt"))
    assert found.results == 0 and found.ranked == {"rnn": [], "bptt": []}
    assert (out / "misconceptions.csv").read_text(encoding="utf-8").splitlines() == [
        "assignment,kind,hint_or_failing_check,students,graded,share,example_check,example_message"]
    assert "Nothing to count: no result of rnn, bptt under" in (out / "misconceptions.html").read_text(encoding="utf-8")
    assert table(found).startswith("What to reteach: no result of rnn, bptt under ")


# ----------------------------------------------------------------------------
# The synthetic class (conftest's ``graded``: reference, untouched, every mutant, honest styles)
# ----------------------------------------------------------------------------

def _named_hints():
    """(slug, mutant, hint) for the mutants whose visible message names their very bug."""
    from mutants import catalogue

    from rnnlab.assignments import bptt, rnn

    cases = [(slug, m.name, m.hint) for slug in SLUGS for m in catalogue(slug) if m.hint]
    return cases + [("rnn", "dprev-h-missing-transpose", rnn.BACKWARD_HINTS["dprev_h"]),  # Wh not transposed
                    ("bptt", "dwh-overwritten", bptt.BACKWARD_HINTS["dWh"])]  # not accumulated over time


NAMED_HINTS = _named_hints()


@pytest.fixture(scope="module")
def class_report(graded):
    course = graded[SLUGS[0]].course
    return find_misconceptions(course / "autograded", SLUGS)


@pytest.mark.slow
@pytest.mark.parametrize("slug,mutant,hint", NAMED_HINTS, ids=[f"{s}:{m}" for s, m, _ in NAMED_HINTS])
def test_does_the_class_report_list_the_hint_each_mutant_got(graded, class_report, slug, mutant, hint):
    hint = " ".join(hint.split())
    listed = [m for m in class_report.ranked[slug] if m.named and hint in m.what]
    assert listed and listed[0].students >= 1, [m.what for m in class_report.ranked[slug]]
    assert any(hint in what for what in failures_of(graded[slug].scores[f"mutant-{mutant}"]))


@pytest.mark.slow
def test_do_the_reference_and_honest_students_contribute_nothing(graded, class_report):
    for slug in SLUGS:
        right = [r for student, r in graded[slug].scores.items() if student == "reference" or
                 student.startswith("honest-")]
        assert right and all(r.status == GRADED for r in right)
        assert {r.student: failures_of(r) for r in right} == {r.student: {} for r in right}
        assert class_report.passed[slug] >= len(right)
        assert class_report.graded[slug] == sum(r.status == GRADED for r in graded[slug].scores.values())


@pytest.mark.slow
def test_is_a_failure_of_a_backward_step_against_a_wrong_forward_step_not_counted(graded):
    from rnnlab.assignments import rnn

    found = failures_of(graded["rnn"].scores["mutant-forward-wh-transposed"])
    assert " ".join(rnn.FORWARD_HINTS["next_h"].split()) in found
    assert " ".join(rnn.BACKWARD_HINTS["dprev_h"].split()) not in found  # "Fix rnn_step_forward first"


@pytest.mark.slow
def test_does_report_print_and_write_what_to_reteach_for_the_class(graded, class_report, tmp_path, capsys):
    course = graded[SLUGS[0]].course
    parser = argparse.ArgumentParser()
    report.configure(parser)
    args = parser.parse_args(["--db", gradebook_url(course), "--out", str(tmp_path)])
    args.course = course
    assert report.run(args) == 0
    out = capsys.readouterr().out
    assert out.index("Most failed tests") < out.index("What to reteach (students who hit each hint")
    top = class_report.ranked["rnn"][0]
    assert f"{top.students:>3}  {100 * top.share:3.0f}%  {top.what[:40]}" in out
    rows = list(csv.DictReader((tmp_path / "misconceptions.csv").open(encoding="utf-8")))
    assert len(rows) == sum(len(ranked) for ranked in class_report.ranked.values())
    assert {row["assignment"] for row in rows} == set(SLUGS)
    students = {student for slug in SLUGS for student in graded[slug].scores}
    for row in rows:
        assert withhold_values(row["example_message"]) == row["example_message"]  # no compared value left
        assert not [s for s in students if s in row["example_message"] or s in row["hint_or_failing_check"]]
    assert html.escape(top.what) in (tmp_path / "misconceptions.html").read_text(encoding="utf-8")
