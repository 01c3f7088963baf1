"""An instructor's term: regrading only what changed, due dates and late work, manual adjustments.

A small rnn class (two correct notebooks and one with a known bug) is generated once and
copied for each test; every test grades it for real (sandbox included where the machine has
one) into nbgrader's gradebook, on SQLite and, where the test says so, on a PostgreSQL server
started here on 127.0.0.1.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from autograder.commands import grade as grade_command
from autograder.commands.grade import find_jobs, grade, result_path
from autograder.commands.release import generate
from autograder.course.plan import load_plan
from autograder.course.submissions import fill, reference_answers
from autograder.engine import unchanged
from autograder.engine.gradebook import open_gradebook, read_scores
from autograder.engine.lateness import LatenessError, read_timestamp
from autograder.engine.nbgrader_cli import autograde
from autograder.engine.results import SubmissionResult
from autograder.paths import gradebook_url, source_notebook
from conftest import GRADING, write_submission
from mutants import catalogue
from servers import missing_postgres, postgres

# nbgrader's own add_submission trips SQLAlchemy's autoflush warnings; they are not the grader's.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")]

SLUG = "rnn"
FULL = 8.0  # the rnn assignment's points
DUE = "2026-10-05 23:59:00"  # UTC
ON_TIME, TWO_HOURS_LATE, A_DAY_LATE = "2026-10-05 20:00:00", "2026-10-06 01:59:00", "2026-10-07 00:00:00"
requires_postgres = pytest.mark.skipif(missing_postgres() is not None, reason=f"POSTGRESQL TESTS SKIPPED: "
                                                                              f"{missing_postgres()}")


def notebooks(released: dict) -> tuple[dict, dict]:
    """The reference answers, and the same with the first mutant of the rnn catalogue (a known bug)."""
    answers = reference_answers(json.loads(source_notebook(SLUG).read_text(encoding="utf-8")))
    return fill(released, answers), fill(released, catalogue(SLUG)[0].apply(answers))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """alice and carol hand in correct notebooks, bob one with a bug (generated once: nbgrader takes seconds)."""
    folder = tmp_path_factory.mktemp("term")
    right, wrong = notebooks(json.loads(generate(SLUG, folder).read_text(encoding="utf-8")))
    for student, notebook in (("alice", right), ("bob", wrong), ("carol", right)):
        write_submission(folder, student, SLUG, notebook)
    return folder


@pytest.fixture
def course(generated, tmp_path) -> Path:
    shutil.copytree(generated, tmp_path / "course")
    return tmp_path / "course"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=requires_postgres)])
def db(request, course):
    """The course's gradebook: its own SQLite file, or an empty database on a fresh PostgreSQL server."""
    if request.param == "sqlite":
        yield gradebook_url(course)
    else:
        with postgres("term") as url:
            yield url


def run(course: Path, db: str, **options) -> dict[str, SubmissionResult]:
    results = grade(find_jobs(course, [SLUG]), db, course, 2, options.pop("limits", GRADING), progress=False,
                    **options)
    return {r.student: r for r in results}


def stamp(course: Path, student: str, when: str) -> None:
    (course / "submitted" / student / SLUG / "timestamp.txt").write_text(when + "\n", encoding="utf-8")


def scores(db: str) -> dict[str, float]:
    return {student: s.score for student, s in read_scores(db, SLUG).items()}


# -- regrade only what changed ------------------------------------------------------------------


def test_is_an_unchanged_class_not_graded_again(course):
    db = gradebook_url(course)
    first = run(course, db)
    assert not any(r.reused for r in first.values())
    saved = {s: result_path(course, SLUG, s).read_bytes() for s in first}
    again = run(course, db)
    assert all(r.reused for r in again.values())
    assert {s: r.score for s, r in again.items()} == {s: r.score for s, r in first.items()} == scores(db)
    assert {s: result_path(course, SLUG, s).read_bytes() for s in again} == saved  # nothing rewritten
    assert "3 submission(s): 0 graded, 3 unchanged" in grade_command.run_summary(list(again.values()))


def test_is_a_resubmitted_notebook_graded_again_and_only_it(course, generated):
    db = gradebook_url(course)
    assert run(course, db)["bob"].score < FULL
    shutil.copy(course / "submitted" / "alice" / SLUG / f"{SLUG}.ipynb", course / "submitted" / "bob" / SLUG)
    again = run(course, db)
    assert {s for s, r in again.items() if not r.reused} == {"bob"}
    assert again["bob"].score == FULL == scores(db)["bob"]


def test_does_force_grade_every_submission_again(course):
    db = gradebook_url(course)
    run(course, db)
    assert not any(r.reused for r in run(course, db, force=True).values())


def test_does_a_change_of_limits_grade_the_class_again(course):
    db = gradebook_url(course)
    run(course, db)
    assert not any(r.reused for r in run(course, db, limits=replace(GRADING, cell_timeout=60)).values())


def test_is_a_tampered_saved_result_graded_again(course):
    db = gradebook_url(course)
    run(course, db)
    result_path(course, SLUG, "alice").write_text('{"score": 8', encoding="utf-8")  # cut short
    forged = json.loads(result_path(course, SLUG, "bob").read_text(encoding="utf-8"))
    forged["grading_key"] = "0" * 64  # claims to come from another notebook
    result_path(course, SLUG, "bob").write_text(json.dumps(forged), encoding="utf-8")
    again = run(course, db)
    assert {s for s, r in again.items() if not r.reused} == {"alice", "bob"}


def test_does_a_lost_gradebook_get_every_grade_back_without_grading(course):
    db = gradebook_url(course)
    first = {s: r.score for s, r in run(course, db).items()}
    for database in (course / "autograder").glob("gradebook.db*"):
        database.unlink()
    again = run(course, db)
    assert all(r.reused for r in again.values()) and scores(db) == first


def test_does_the_grading_key_follow_notebook_plan_software_and_limits(course, monkeypatch):
    plan = load_plan(SLUG, course)
    key = unchanged.grading_key(plan, b"notebook", GRADING)
    assert unchanged.grading_key(plan, b"notebook", replace(GRADING, forbidden=(Path("/elsewhere"),))) == key
    changed = [
        unchanged.grading_key(plan, b"notebook!", GRADING),
        unchanged.grading_key(replace(plan, steps=plan.steps[:-1]), b"notebook", GRADING),
        unchanged.grading_key(plan, b"notebook", replace(GRADING, memory_mb=1024)),
        unchanged.grading_key(plan, b"notebook", replace(GRADING, isolation=not GRADING.isolation)),
    ]
    monkeypatch.setattr(unchanged, "_software", lambda: "another version of the grader")
    changed.append(unchanged.grading_key(plan, b"notebook", GRADING))
    assert key not in changed and len(set(changed)) == len(changed)


# -- manual adjustments -------------------------------------------------------------------------


def adjust_in_formgrader(db: str, student: str, cell: str, manual: float, extra: float | None = None) -> None:
    """What the formgrader writes when a person scores a cell (nbgrader 0.9's GradeHandler.put,
    server_extensions/formgrader/apihandlers.py): the grade row's manual score and extra credit."""
    with open_gradebook(db) as gradebook:
        row = gradebook.find_grade_by_id(gradebook.find_grade(cell, SLUG, SLUG, student).id)
        row.manual_score, row.extra_credit = manual, extra
        row.needs_manual_grade = row.manual_score is None and row.auto_score is None
        gradebook.db.commit()


def grade_row(db: str, student: str, cell: str) -> tuple:
    with open_gradebook(db) as gradebook:
        row = gradebook.find_grade(cell, SLUG, SLUG, student)
        return row.auto_score, row.manual_score, row.extra_credit, row.needs_manual_grade


def test_does_every_regrade_keep_the_formgraders_adjustments(course, db):
    bob = run(course, db)["bob"]
    cell = bob.failed_cells[0]
    auto = bob.cell(cell).points
    adjust_in_formgrader(db, "bob", cell, manual=auto + 0.5, extra=1.0)
    adjusted = scores(db)["bob"]
    assert adjusted == bob.score + 1.5

    run(course, db)  # nothing changed: the review stands, unflagged
    assert grade_row(db, "bob", cell) == (auto, auto + 0.5, 1.0, False) and scores(db)["bob"] == adjusted
    run(course, db, force=True)  # a regrade, as nbgrader autograde --force: kept, flagged for review
    assert grade_row(db, "bob", cell) == (auto, auto + 0.5, 1.0, True) and scores(db)["bob"] == adjusted
    shutil.copy(course / "submitted" / "alice" / SLUG / f"{SLUG}.ipynb", course / "submitted" / "bob" / SLUG)
    run(course, db)  # resubmitted and right now: the new automatic score, the adjustment still there
    assert grade_row(db, "bob", cell)[1:] == (auto + 0.5, 1.0, True)


# -- due dates and late work --------------------------------------------------------------------


def lateness_rows(db: str) -> dict[str, tuple]:
    """(timestamp, seconds late, penalty) of each submission, as nbgrader's gradebook holds them."""
    with open_gradebook(db) as gradebook:
        return {s.student_id: (s.timestamp, s.total_seconds_late, s.late_submission_penalty)
                for s in gradebook.assignment_submissions(SLUG)}


def configure(course: Path, *lines: str) -> None:
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write("\n" + "\n".join(lines) + "\n")


def test_is_late_work_recorded_and_penalised_as_nbgrader_does(course, db):
    configure(course, 'c.LateSubmissionPlugin.penalty_method = "zero"')
    stamp(course, "bob", ON_TIME)
    stamp(course, "alice", TWO_HOURS_LATE)  # carol has no timestamp.txt: her time is unknown
    results = run(course, db, duedates={SLUG: DUE})
    rows = lateness_rows(db)
    assert rows["bob"] == (datetime.fromisoformat(ON_TIME), 0, 0)
    assert rows["alice"] == (datetime.fromisoformat(TWO_HOURS_LATE), 7200, FULL)  # "zero": the whole score
    assert rows["carol"] == (None, 0, 0)
    assert results["alice"].lateness["penalty"] == FULL and results["alice"].score == FULL  # the code's grade
    assert "2 h 0 min after the due date" in grade_command.summary_line(results["alice"])
    assert results["bob"].lateness["seconds_late"] == 0 and results["carol"].lateness["submitted_at"] is None


def test_is_a_late_resubmission_graded_again_and_judged_by_its_new_time(course):
    db = gradebook_url(course)
    configure(course, 'c.LateSubmissionPlugin.penalty_method = "zero"', f'c.Autograder.duedates = {{"rnn": "{DUE}"}}')
    stamp(course, "bob", ON_TIME)
    first = run(course, db)
    assert first["bob"].score < FULL and lateness_rows(db)["bob"][2] == 0
    shutil.copy(course / "submitted" / "alice" / SLUG / f"{SLUG}.ipynb", course / "submitted" / "bob" / SLUG)
    stamp(course, "bob", A_DAY_LATE)  # right now, but a day late
    again = run(course, db)
    assert not again["bob"].reused and again["bob"].score == FULL
    assert lateness_rows(db)["bob"] == (datetime.fromisoformat(A_DAY_LATE), 86460, FULL)


def test_does_an_instructors_own_plugin_decide_the_penalty(course):
    db = gradebook_url(course)
    (course / "late_policy.py").write_text(
        "import math\n"
        "from nbgrader.plugins import LateSubmissionPlugin\n\n\n"
        "class TenPercentPerDay(LateSubmissionPlugin):\n"
        "    def late_submission_penalty(self, student_id, score, total_seconds_late):\n"
        "        return 0.1 * score * math.ceil(total_seconds_late / 86400)\n", encoding="utf-8")
    configure(course, 'c.AssignLatePenalties.plugin_class = "late_policy.TenPercentPerDay"')
    stamp(course, "alice", A_DAY_LATE)  # 1 day and 1 minute: two days started
    run(course, db, duedates={SLUG: DUE})
    assert lateness_rows(db)["alice"][2] == pytest.approx(0.2 * FULL)


def test_does_an_unusable_plugin_or_due_date_stop_grade_before_the_gradebook(course):
    db = gradebook_url(course)
    with pytest.raises(LatenessError, match="due date of rnn: not a date"):
        run(course, db, duedates={SLUG: "the day after the exam"})
    configure(course, 'c.AssignLatePenalties.plugin_class = "no_such_module.Plugin"')
    with pytest.raises(LatenessError, match="plugin set in nbgrader_config.py cannot be used"):
        run(course, db, duedates={SLUG: DUE})
    assert scores(db) == {} and not (course / "autograder" / "backups").exists()  # not even a backup taken
    with open_gradebook(db) as gradebook:
        assert gradebook.find_assignment(SLUG).duedate is None


def test_is_a_hostile_timestamp_file_reported_not_trusted(course, tmp_path):
    folder = course / "submitted" / "alice" / SLUG
    for content, why in ((b"x" * 500, "longer than"), (b"\xff\xfe", "not UTF-8"), (b"next tuesday-ish", "not a date"),
                         (b"99999-01-01", "not a date"), (b"   \n", "empty")):
        (folder / "timestamp.txt").write_bytes(content)
        assert read_timestamp(folder)[0] is None and why in read_timestamp(folder)[1]
    (folder / "timestamp.txt").unlink()
    (tmp_path / "early.txt").write_text(ON_TIME, encoding="utf-8")
    (folder / "timestamp.txt").symlink_to(tmp_path / "early.txt")
    assert read_timestamp(folder) == (None, "timestamp.txt is a symbolic link, not read")
    result = run(course, gradebook_url(course), duedates={SLUG: DUE})["alice"]
    assert result.score == FULL and "symbolic link" in result.lateness["note"]


def test_is_lateness_what_nbgrader_autograde_records(course):
    """nbgrader autograde and grade, on copies of one class with the same times, due date and plugin."""
    configure(course, 'c.LateSubmissionPlugin.penalty_method = "zero"')
    for student, when in (("alice", ON_TIME), ("bob", TWO_HOURS_LATE), ("carol", A_DAY_LATE)):
        stamp(course, student, when)
    plain = course.parent / "plain"
    shutil.copytree(course, plain)
    ours = gradebook_url(course)
    run(course, ours, duedates={SLUG: DUE})
    with open_gradebook(gradebook_url(plain)) as gradebook:
        gradebook.update_or_create_assignment(SLUG, duedate=datetime.fromisoformat(DUE))
    autograde(plain, SLUG)
    assert lateness_rows(ours) == lateness_rows(gradebook_url(plain))
    assert scores(ours) == scores(gradebook_url(plain))


def test_do_report_and_feedback_show_lateness_and_penalty(course):
    import csv

    from autograder.commands.feedback import write_feedback
    from autograder.commands.report import build_report

    configure(course, 'c.LateSubmissionPlugin.penalty_method = "zero"')
    stamp(course, "alice", TWO_HOURS_LATE)
    stamp(course, "carol", ON_TIME)
    db = gradebook_url(course)
    run(course, db, duedates={SLUG: DUE})
    report = build_report(db, course / "reports")
    grades = {row["student_id"]: row for row in csv.DictReader(report.grades_csv.open(encoding="utf-8"))}
    assert (grades["alice"]["rnn"], grades["alice"]["late"]) == ("0", "rnn")  # after the penalty, as nbgrader export
    assert (grades["carol"]["rnn"], grades["carol"]["late"]) == ("8", "")
    late = {row["student_id"]: row for row in csv.DictReader(report.lateness_csv.open(encoding="utf-8"))}
    assert late["alice"] == {"student_id": "alice", "assignment": "rnn", "submitted_utc": TWO_HOURS_LATE,
                             "due_utc": DUE, "hours_late": "2", "raw_score": "8", "late_penalty": "8", "score": "0"}
    assert report.late_table.splitlines()[-1].split() == ["alice", "rnn", "2", "h", "0", "min", "8"]
    assert "Late submissions (1 of 3)" in report.late_table and "carol" not in report.late_table
    write_feedback(SLUG, course)
    page = (course / "feedback" / "alice" / SLUG / f"{SLUG}.html").read_text(encoding="utf-8")
    assert "2 h 0 min after the due date (2026-10-05 23:59:00 UTC); late penalty: 8 points" in page
    assert "Score after the late penalty: 0 / 8" in page
    on_time = (course / "feedback" / "carol" / SLUG / f"{SLUG}.html").read_text(encoding="utf-8")
    assert "on time (due 2026-10-05 23:59:00 UTC)" in on_time and "late penalty" not in on_time
