"""Does a class go from an LMS download to grades, feedback and a report in a few commands?

End to end through ``python -m autograder`` (its ``main``), in a scratch course:
release, collect a Canvas-style zip, grade, feedback, report.
"""

from __future__ import annotations

import csv
import json
import shutil
import zipfile

import pytest

from autograder.__main__ import main
from autograder.paths import ROOT, SLUGS, release_notebook, source_notebook
from autograder.course.submissions import fill, reference_answers
from conftest import ISOLATED
from mutants import catalogue

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("cli-course")
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / "rnn", course / "solutions" / "rnn")
    (course / "autograder").mkdir()
    return course


def test_does_the_whole_class_workflow_run_from_the_command_line(course, tmp_path, capsys):
    cli = ["--course", str(course)]
    assert main([*cli, "release", "rnn"]) == 0
    assert release_notebook("rnn", course).read_bytes() == release_notebook("rnn").read_bytes()

    released = json.loads(release_notebook("rnn", course).read_text(encoding="utf-8"))
    answers = reference_answers(json.loads(source_notebook("rnn").read_text(encoding="utf-8")))
    # A bug in the backward step only: the forward checks' 3 points stay.
    mutant = next(m for m in catalogue("rnn") if m.edits and all(cell == "rnn_step_backward" for cell, _, _ in m.edits))
    download = tmp_path / "submissions.zip"
    with zipfile.ZipFile(download, "w") as archive:
        archive.writestr("smithalice_111_9001_rnn.ipynb", json.dumps(fill(released, answers)))
        archive.writestr("jonesbob_LATE_222_9002_rnn-1.ipynb", json.dumps(fill(released, mutant.apply(answers))))
        archive.writestr("leecarol_333_9003_rnn.ipynb", '{"cells": [')  # saved half-way
        archive.writestr("__MACOSX/._smithalice_111_9001_rnn.ipynb", "")
    assert main([*cli, "collect", "rnn", str(download)]) == 1  # one file could not be matched
    collected = capsys.readouterr().out
    assert "collected 3 submissions for rnn; 1 files not matched" in collected

    assert main([*cli, "grade", "rnn", "--quiet", *([] if ISOLATED else ["--no-isolation"])]) == 0
    graded = capsys.readouterr().out
    assert "111" in graded and "unreadable: rnn.ipynb is not valid notebook JSON" in graded

    assert main([*cli, "feedback", "rnn"]) == 0
    pages = {student: (course / "feedback" / student / "rnn" / "rnn.html").read_text(encoding="utf-8")
             for student in ("111", "222", "333")}
    assert "Your code: rnn_step_forward" in pages["111"]
    assert "Your code" not in pages["333"] and "is not valid notebook JSON" in pages["333"]

    assert main([*cli, "report"]) == 0
    with open(course / "reports" / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert rows["111"]["rnn"] == "8" and rows["333"]["rnn"] == "0"
    assert 3 <= float(rows["222"]["rnn"]) < 8
    assert (course / "reports" / "histogram_rnn.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (course / "reports" / "misconceptions.html").is_file()

    # The term goes on: a due date, then bob's corrected notebook, late, with its time in its name.
    isolation = [] if ISOLATED else ["--no-isolation"]
    assert main([*cli, "grade", "rnn", "--quiet", "--duedate", "2026-10-05 23:59 UTC", *isolation]) == 0
    assert "3 submission(s): 0 graded, 3 unchanged since their last grade" in capsys.readouterr().out
    late = tmp_path / "late.zip"
    with zipfile.ZipFile(late, "w") as archive:
        archive.writestr("222_2026-10-06-09-00-00_rnn.ipynb", json.dumps(fill(released, answers)))
    timestamped = r"(?P<student_id>\d+)_(?P<timestamp>\d{4}(?:-\d\d){5})_(?P<file_id>.+)"
    assert main([*cli, "collect", "rnn", str(late), "--regexp", timestamped]) == 1  # bob's first notebook is kept
    assert main([*cli, "collect", "rnn", str(late), "--regexp", timestamped, "--force"]) == 0
    capsys.readouterr()
    assert main([*cli, "grade", "rnn", "--quiet", *isolation]) == 0
    regraded = capsys.readouterr().out
    assert "3 submission(s): 1 graded, 2 unchanged since their last grade" in regraded and "; 1 late." in regraded
    assert "9 h 1 min after the due date (2026-10-05 23:59:00 UTC); no late penalty" in regraded

    assert main([*cli, "similarity", "rnn"]) == 0
    assert (course / "reports" / "similarity" / "rnn" / "index.html").is_file()
    assert main([*cli, "report"]) == 0
    assert "Late submissions (1 of 3)" in capsys.readouterr().out
    with open(course / "reports" / "lateness.csv", newline="") as handle:
        lateness = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert (lateness["222"]["submitted_utc"], lateness["222"]["hours_late"], lateness["222"]["score"]) == (
        "2026-10-06 09:00:00", "9.02", "8")


def test_does_release_refuse_a_notebook_with_a_hidden_test_or_an_unlocked_check(tmp_path):
    from autograder.commands.release import problems

    leaked = tmp_path / "leaked.ipynb"
    shutil.copy2(source_notebook("rnn"), leaked)  # the source itself: solutions and hidden tests
    found = problems(leaked, source_notebook("rnn"))
    assert any("hidden test line" in p for p in found) and any("solution line" in p for p in found)

    notebook = json.loads(release_notebook("rnn").read_text(encoding="utf-8"))
    check = next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "test_rnn_step_forward_values")
    check["metadata"]["nbgrader"]["locked"] = False
    unlocked = tmp_path / "unlocked.ipynb"
    unlocked.write_text(json.dumps(notebook), encoding="utf-8")
    assert problems(unlocked, source_notebook("rnn")) == [
        "test cell test_rnn_step_forward_values is not locked: learners could edit it"]
    assert problems(release_notebook("rnn"), source_notebook("rnn")) == []


def test_does_release_refuse_a_notebook_whose_checksums_do_not_match_its_cells(tmp_path):
    from autograder.commands.release import problems

    notebook = json.loads(release_notebook("rnn").read_text(encoding="utf-8"))
    intro = next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "intro")
    intro["source"] = intro["source"] + ["\n", "One more line, written after nbgrader computed the checksum."]
    edited = tmp_path / "edited.ipynb"
    edited.write_text(json.dumps(notebook), encoding="utf-8")
    assert problems(edited, source_notebook("rnn")) == [
        "cell intro's checksum does not match it: Validate would say it changed"]


@pytest.mark.parametrize("slug", SLUGS)
def test_does_every_locked_cell_of_the_release_carry_the_checksum_of_its_content(slug):
    """nbgrader validate (the Validate button) compares these: one stale checksum and it reports
    changed cells instead of the checks' results."""
    from nbgrader.utils import compute_checksum
    import nbformat

    notebook = nbformat.read(release_notebook(slug), as_version=4)
    locked = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("locked")]
    assert locked
    for cell in locked:
        assert cell.metadata.nbgrader.get("checksum") == compute_checksum(cell), cell.metadata.nbgrader["grade_id"]


def submit(course, student: str) -> None:
    """The untouched release as ``student``'s submission (the course released first if need be)."""
    from conftest import write_submission

    if not release_notebook("rnn", course).exists():
        assert main(["--course", str(course), "release", "rnn"]) == 0
    write_submission(course, student, "rnn", json.loads(release_notebook("rnn", course).read_text(encoding="utf-8")))


def test_does_grade_refuse_without_isolation_and_say_how_to_fix_it(course, monkeypatch, capsys):
    from autograder.sandbox import isolation

    def unavailable():
        raise isolation.IsolationUnavailable(isolation.missing_bwrap_message())

    monkeypatch.setattr(isolation, "check", unavailable)
    submit(course, "refused")
    database = course / "autograder" / "gradebook.db"
    before = database.read_bytes() if database.exists() else None
    assert main(["--course", str(course), "grade", "rnn", "--quiet"]) == 2
    refusal = capsys.readouterr().err
    assert "refuses to run submissions without their sandbox" in refusal
    assert "sudo apt-get install bubblewrap" in refusal and "--no-isolation" in refusal
    assert (database.read_bytes() if database.exists() else None) == before  # nothing graded


def test_does_grading_without_isolation_warn_and_say_so_in_every_result_and_page(course, capsys):
    from autograder.engine.results import SubmissionResult

    submit(course, "nobox")
    assert main(["--course", str(course), "grade", "rnn", "--quiet", "--students", "nobox", "--no-isolation"]) == 0
    assert "WITHOUT operating-system isolation" in capsys.readouterr().err
    result = SubmissionResult.load(course / "autograded" / "nobox" / "rnn" / "result.json")
    assert not result.isolated and any("WITHOUT operating-system isolation" in note for note in result.notes)
    assert main(["--course", str(course), "feedback", "rnn", "--students", "nobox"]) == 0
    page = (course / "feedback" / "nobox" / "rnn" / "rnn.html").read_text(encoding="utf-8")
    assert "WITHOUT operating-system isolation" in page


def test_does_a_plain_postgresql_url_get_the_psycopg_3_driver():
    """The course installs psycopg 3; SQLAlchemy would read postgresql:// as psycopg2's."""
    from autograder.paths import database_url

    assert database_url("postgresql://grader@db:5432/course") == "postgresql+psycopg://grader@db:5432/course"
    assert database_url("postgres://db/course") == "postgresql+psycopg://db/course"
    for unchanged in ("postgresql+psycopg://db/course", "postgresql+psycopg2://db/course", "sqlite:///a/gradebook.db"):
        assert database_url(unchanged) == unchanged
