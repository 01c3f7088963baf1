"""Is every feedback page written, whatever a submission holds, and does none quote a value a check compared?

The results are written by hand, as ``grade`` writes them (``autograded/<student>/<slug>/result.json``),
so these tests run in a second; tests/test_feedback.py reads the pages of a class actually graded.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from autograder.commands import feedback
from autograder.commands.feedback import render, write_feedback
from autograder.engine.withheld import WITHHELD, withhold_values
from autograder.course.plan import load_plan
from autograder.course.submissions import fill
from autograder.engine.intake import Intake
from autograder.engine.results import FAILED, GRADED, PASSED, CellResult, SubmissionResult
from autograder.paths import ROOT, release_notebook
from conftest import write_submission
from rnnlab import checks
from rnnlab.gradcheck import compare_gradient

SLUG = "rnn"
SURROGATE = "\ud800"  # a lone surrogate: a str can hold it, UTF-8 cannot encode it
#: A hidden check's failure as checks.value_problem words it: the expected value is 0.123.
HIDDEN_FAILURE = ("dWh is wrong (on N=1, T=1).\nHint: the gradient reaching h_t comes from two places.\n"
                  "  dWh: largest difference 0.3 at index (0, 1) (expected 0.123, got 0.456); "
                  "it is the expected value times 0.5: a constant factor is off.")


@pytest.fixture
def course(tmp_path) -> Path:
    """A scratch course holding the rnn assignment (source and release) and nothing graded yet."""
    for folder in ("solutions", "exercises"):
        shutil.copytree(ROOT / folder / SLUG, tmp_path / folder / SLUG)
    return tmp_path


def hand_in(course: Path, student: str, message: str = "", notes=(), code: str | None = None) -> None:
    """``student``'s result as ``grade`` saves it: every check passed but the first, which failed
    with ``message``; and their notebook, with ``code`` as their forward step when given."""
    tests = load_plan(SLUG, course).tests
    cells = [CellResult(tests[0].grade_id, 0, tests[0].points, FAILED, message, output=message)]
    cells += [CellResult(step.grade_id, step.points, step.points, PASSED) for step in tests[1:]]
    result = SubmissionResult(student, SLUG, GRADED, cells, list(notes))
    result.save(course / "autograded" / student / SLUG / "result.json")
    released = json.loads(release_notebook(SLUG, course).read_text(encoding="utf-8"))
    write_submission(course, student, SLUG, fill(released, {"rnn_step_forward": code}) if code else released)


def page(course: Path, student: str) -> str:
    return (course / "feedback" / student / SLUG / f"{SLUG}.html").read_text(encoding="utf-8")


def run_feedback(course: Path) -> int:
    return feedback.run(argparse.Namespace(slug=SLUG, course=course, students=None))


def test_does_a_lone_surrogate_in_one_result_leave_every_student_a_page(course, capsys):
    # alice's code raised ValueError("\ud800"): the message, the output and a note hold it, and so
    # does the code cell of her notebook. bob is sorted after her.
    hand_in(course, "alice", f"your code raised ValueError: {SURROGATE}", [f"cell setup raised {SURROGATE}"],
            code=f"def rnn_step_forward(x, prev_h, Wx, Wh, b):\n    raise ValueError('{SURROGATE}')\n")
    hand_in(course, "bob", "next_h is wrong.")
    assert run_feedback(course) == 0, capsys.readouterr().err
    assert "your code raised ValueError: \\ud800" in page(course, "alice")
    assert "next_h is wrong." in page(course, "bob")


def test_is_a_lone_surrogate_in_the_learners_code_shown_as_its_escape():
    plan = load_plan(SLUG)
    result = SubmissionResult("alice", SLUG, GRADED, [])
    code = f"def rnn_step_forward(x, prev_h, Wx, Wh, b):\n    return '{SURROGATE}'\n"
    shown = render(plan, result, Intake(answers={"rnn_step_forward": code}))
    assert "return &#x27;\\ud800&#x27;" in shown
    shown.encode("utf-8")  # the page can be written: nothing in it that UTF-8 cannot encode


def test_is_markup_from_a_submission_shown_as_text(course):
    script = "<script>alert(1)</script>"
    hand_in(course, "alice", f"your code raised ValueError: {script}", [f"cell setup raised {script}"],
            code=f"def rnn_step_forward(x, prev_h, Wx, Wh, b):\n    return '{script}'\n")
    assert not write_feedback(SLUG, course).failed
    assert "<script>" not in page(course, "alice")
    assert page(course, "alice").count("&lt;script&gt;alert(1)&lt;/script&gt;") == 4  # message, output, note, code


def test_is_a_student_whose_page_fails_named_while_the_others_get_theirs(course, capsys):
    for student in ("alice", "bob", "carol"):
        hand_in(course, student, "next_h is wrong.")
    (course / "autograded" / "bob" / SLUG / "result.json").write_text('{"student": "bob", "cel', encoding="utf-8")
    done = write_feedback(SLUG, course)
    assert [path.parent.parent.name for path in done.written] == ["alice", "carol"]
    assert list(done.failed) == ["bob"] and "JSONDecodeError" in done.failed["bob"]
    assert not (course / "feedback" / "bob").exists()
    assert run_feedback(course) == 1  # non-zero only to say that a page failed
    out, err = capsys.readouterr()
    assert "no page for bob: JSONDecodeError" in err
    assert "alice" in out and "carol" in out


def test_does_feedback_withhold_a_hidden_expected_value_and_its_factor(course):
    hand_in(course, "alice", HIDDEN_FAILURE)
    assert not write_feedback(SLUG, course).failed
    shown = page(course, "alice")
    for value in ("0.123", "0.456", "times 0.5", "difference 0.3"):
        assert value not in shown
    # What is wrong and where to look stays: the case, the hint, the index, the diagnosis.
    assert "dWh is wrong (on N=1, T=1).\nHint: the gradient reaching h_t comes from two places." in shown
    assert (f"dWh: largest difference {WITHHELD} at index (0, 1) (expected {WITHHELD}, got {WITHHELD}); "
            f"it is the expected value times {WITHHELD}: a constant factor is off.") in shown


def failure_of(check, *args, **kwargs) -> str:
    """The message of a failing check from rnnlab.checks, as a notebook (and the grader) gets it."""
    with pytest.raises(checks.CheckFailed) as failed:
        check(*args, **kwargs)
    return str(failed.value)


EXPECTED = np.array([[0.123457, -0.654321], [0.987654, 0.0]])


@pytest.mark.parametrize("message, secrets", [
    # The checks' own wording, produced by the checks themselves (a constant factor off; a wrong loss).
    (failure_of(checks.assert_close, "dWh", 0.5 * EXPECTED, EXPECTED, "look at h_t", case="N=1, T=1"),
     ["0.987654", "0.493827", "times 0.5", "difference 0.494"]),
    # The opposite sign: the largest difference is twice the expected value.
    (failure_of(checks.assert_close, "dWh", -EXPECTED, EXPECTED), ["difference 1.98", "0.987654"]),
    (failure_of(checks.assert_number, "loss", 1.3, 1.25248563, case="N=1, T=1"), ["1.25248563", "1.3."]),
    (compare_gradient("dWh", 2 * EXPECTED, EXPECTED).describe(), ["1.97531", "0.987654"]),
    ("greedy_decode: ids is wrong.\n  2 of 6 tokens differ; the first in sequence 0 at step 3: expected token 5, "
     "got PAD (the steps before it are right).", ["token 5", "got PAD"]),
], ids=["assert_close", "opposite sign", "assert_number", "gradient check", "greedy_decode"])
def test_are_the_values_a_check_compared_withheld_from_its_message(message, secrets):
    assert all(secret in message for secret in secrets)  # the premise: the check prints them
    withheld = withhold_values(message)
    assert [secret for secret in secrets if secret in withheld] == []
    assert WITHHELD in withheld
    assert ("(on N=1, T=1)" in withheld) == ("(on N=1, T=1)" in message)  # the failing case is still named


def test_is_a_message_without_compared_values_left_as_it_is():
    message = ("next_h has shape (3, 4) but should have shape (2, 4) (on N=2, T=1), got list; "
               "look at the transpose of the expected value.")
    assert withhold_values(message) == message
