"""The instructor's report (autograder/report.py) on small gradebooks built with nbgrader's API."""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

import matplotlib.image
import pytest
from nbgrader.api import Gradebook

from autograder.commands import report
from autograder.commands.report import build_report, configure, histogram_figure, run

# nbgrader's own add_submission trips SQLAlchemy's autoflush warnings; they are not the report's.
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")

# The course id nbgrader_config.py sets, so the gradebook holds no "default_course".
COURSE = "rnn-from-scratch"

# The class the main gradebook holds. Assignments are created out of course order (bptt before
# rnn) and students out of id order, so the report must sort both itself.
#   rnn  (max 6):  test_a 2, test_b 3, test_c 0 (visible checks only), written 1 (markdown)
#   bptt (max 10): test_y 5, test_x 3, test_shape 2
CELLS = {
    "bptt": [("test_y", 5, "code"), ("test_x", 3, "code"), ("test_shape", 2, "code")],
    "rnn": [("test_a", 2, "code"), ("test_b", 3, "code"), ("test_c", 0, "code"), ("written", 1, "markdown")],
}
# (auto_score, manual_score) per cell; None leaves it unset.
SCORES = {
    "erin": {
        "rnn": {},  # submitted but never graded: counts as missing
        "bptt": {"test_y": (5, None), "test_x": (0, None), "test_shape": (2, None)},
    },
    "bob": {
        # A manual override of test_b to partial credit, and a written answer scored 0.1:
        # nbgrader's sum is 2.3000000000000003, which must reach the CSV as 2.3.
        "rnn": {"test_a": (2, None), "test_b": (0, 0.2), "test_c": (0, None), "written": (None, 0.1)},
        "bptt": {"test_y": (0, None), "test_x": (3, None), "test_shape": (2, None)},
    },
    "alice": {
        "rnn": {"test_a": (2, None), "test_b": (3, None), "test_c": (0, None), "written": (None, 1)},
        "bptt": {"test_y": (5, None), "test_x": (3, None), "test_shape": (2, None)},
    },
    "dave": {},  # enrolled, never submitted
    "carol": {
        "rnn": {"test_a": (0, None), "test_b": (0, None), "test_c": (0, None), "written": (None, 0)},
    },
}

GRADES_CSV = """\
student_id,rnn,bptt,total,max_total,percent,missing,late
alice,6,10,16,16,100,,
bob,2.3,5,7.3,16,45.6,,
carol,0,0,0,16,0,bptt,
dave,0,0,0,16,0,rnn bptt,
erin,0,7,7,16,43.8,rnn,
"""

PASS_RATES_CSV = """\
assignment,test,points,submissions,passed,pass_rate
rnn,test_b,3,3,1,0.333
rnn,test_a,2,3,2,0.667
bptt,test_x,3,3,2,0.667
bptt,test_y,5,3,2,0.667
bptt,test_shape,2,3,3,1.000
"""


@pytest.fixture(scope="module")
def blank(tmp_path_factory) -> Path:
    """An empty gradebook, made once and copied: nbgrader runs `alembic` (seconds) to create one."""
    path = tmp_path_factory.mktemp("blank") / "gb.db"
    with pytest.MonkeyPatch.context() as mp:  # alembic is found on PATH, next to this Python
        mp.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
        Gradebook(f"sqlite:///{path}", course_id=COURSE).close()
    return path


def make_gradebook(blank: Path, path: Path, cells=CELLS, scores=SCORES) -> str:
    shutil.copyfile(blank, path)
    url = f"sqlite:///{path}"
    with Gradebook(url, course_id=COURSE) as gb:
        for slug, slug_cells in cells.items():
            gb.add_assignment(slug)
            gb.add_notebook(slug, slug)  # one notebook per assignment, named after it
            for name, points, cell_type in slug_cells:
                gb.add_grade_cell(name, slug, slug, max_score=points, cell_type=cell_type)
        for student, submissions in scores.items():
            gb.add_student(student)
            for slug, grades in submissions.items():
                gb.add_submission(slug, student)  # after the cells: it copies the assignment's structure
                for cell, (auto, manual) in grades.items():
                    grade = gb.find_grade(cell, slug, slug, student)
                    grade.auto_score, grade.manual_score = auto, manual
                gb.db.commit()
    return url


@pytest.fixture
def gradebook(blank, tmp_path) -> str:
    return make_gradebook(blank, tmp_path / "gb.db")


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    configure(parser)
    args = parser.parse_args(list(argv))
    # The top-level --course option: a course with no autograded/ folder, whatever this checkout holds.
    args.course = Path(tempfile.mkdtemp(prefix="report-course-"))
    return args


def test_does_the_grades_csv_give_each_student_their_total(gradebook, tmp_path):
    result = build_report(gradebook, tmp_path / "out")
    assert result.grades_csv == tmp_path / "out" / "grades.csv"
    assert result.grades_csv.read_text(encoding="utf-8") == GRADES_CSV
    assert result.assignments == ("rnn", "bptt")
    assert [(r.student_id, r.percent) for r in result.grades] == [
        ("alice", 100.0), ("bob", 45.6), ("carol", 0.0), ("dave", 0.0), ("erin", 43.8)]


def test_is_a_student_without_a_submission_given_zero_and_listed_as_missing(gradebook, tmp_path):
    rows = {r.student_id: r for r in build_report(gradebook, tmp_path).grades}
    assert rows["dave"].scores == {"rnn": 0.0, "bptt": 0.0} and rows["dave"].missing == ("rnn", "bptt")
    assert rows["carol"].missing == ("bptt",)  # scored 0 on rnn: submitted, so not missing
    assert rows["erin"].missing == ("rnn",)  # an ungraded submission is not a grade
    assert rows["alice"].missing == ()


def test_are_scores_written_without_float_noise(gradebook, tmp_path):
    with Gradebook(gradebook) as gb:  # the premise: nbgrader's own sum is noisy
        assert gb.find_submission("rnn", "bob").score != 2.3
    result = build_report(gradebook, tmp_path)
    bob = next(r for r in result.grades if r.student_id == "bob")
    assert bob.scores["rnn"] == pytest.approx(2.3)
    assert "bob,2.3,5,7.3,16,45.6,," in result.grades_csv.read_text(encoding="utf-8").splitlines()


def test_does_asking_for_one_assignment_restrict_every_output_to_it(gradebook, tmp_path):
    result = build_report(gradebook, tmp_path, ["bptt"])
    assert result.grades_csv.read_text(encoding="utf-8").splitlines() == [
        "student_id,bptt,total,max_total,percent,missing,late",
        "alice,10,10,10,100,,", "bob,5,5,10,50,,", "carol,0,0,10,0,bptt,", "dave,0,0,10,0,bptt,", "erin,7,7,10,70,,"]
    assert {r.assignment for r in result.pass_rates} == {"bptt"}
    assert set(result.histograms) == {"bptt"}
    assert not (tmp_path / "histogram_total.png").exists() and not (tmp_path / "histogram_rnn.png").exists()


def test_are_the_tests_the_class_fails_most_listed_first(gradebook, tmp_path):
    result = build_report(gradebook, tmp_path)
    # Ties at 0.667: rnn before bptt (course order, not alphabetical), then test_x before test_y
    # (by name, not the order the cells were added). The zero-point cell and the written answer
    # are not tests; erin's ungraded rnn submission is not counted.
    assert result.pass_rates_csv.read_text(encoding="utf-8") == PASS_RATES_CSV
    assert [(r.test, r.passed, r.submissions) for r in result.pass_rates][:2] == [("test_b", 1, 3), ("test_a", 2, 3)]


def test_does_a_test_pass_only_at_full_points():
    snap = report.Snapshot({"rnn": 3.0}, ("a", "b", "c"), tuple(
        report.Submission(student, "rnn", score, (("test_a", score, 3.0),))
        for student, score in [("a", 2.5), ("b", 3.0), ("c", 4.0)]))  # c: with extra credit
    assert report.pass_rates(snap) == [report.PassRate("rnn", "test_a", 3.0, 3, 2)]


def test_is_a_valid_histogram_drawn_for_each_assignment_and_the_total(gradebook, tmp_path):
    result = build_report(gradebook, tmp_path)
    assert result.histograms == {name: tmp_path / f"histogram_{name}.png" for name in ("rnn", "bptt", "total")}
    for path in result.histograms.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        height, width, *_ = matplotlib.image.imread(path).shape
        assert height > 0 and width > 0


def test_does_the_histogram_show_the_submissions_mean_and_median():
    fig = histogram_figure("rnn", [6.0, 2.3, 0.0], 6)
    ax = fig.axes[0]
    assert ax.get_title() == "rnn: 3 submissions, mean 2.8, median 2.3"
    assert ax.get_xlabel() == "score (out of 6)" and ax.get_ylabel() == "students"
    # One bar per whole point from 0 to the maximum: 0, 2.3 and 6 each in their own.
    assert [p.get_height() for p in ax.patches] == [1, 0, 1, 0, 0, 0, 1]
    assert ax.get_xlim() == (-0.5, 6.5)


@pytest.mark.parametrize("cells, scores", [({}, {}), (CELLS, {"alice": {}})], ids=["blank", "no-submissions"])
def test_does_run_fail_clearly_on_an_empty_gradebook(blank, tmp_path, capsys, cells, scores):
    url = make_gradebook(blank, tmp_path / "empty.db", cells=cells, scores=scores)
    assert run(parse("--db", url, "--out", str(tmp_path / "out"))) == 1
    assert "no graded submissions" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_does_run_fail_when_no_submission_has_been_graded(blank, tmp_path, capsys):
    url = make_gradebook(blank, tmp_path / "ungraded.db", scores={"alice": {"rnn": {}}})
    assert run(parse("--db", url, "--out", str(tmp_path / "out"))) == 1
    assert "no graded submissions" in capsys.readouterr().err


def test_does_run_refuse_a_gradebook_that_does_not_exist_instead_of_creating_it(tmp_path, capsys):
    missing = tmp_path / "typo.db"
    assert run(parse("--db", f"sqlite:///{missing}", "--out", str(tmp_path / "out"))) == 1
    assert "no gradebook at" in capsys.readouterr().err
    assert not missing.exists()
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("create table notes (text)").connection.commit()
    assert run(parse("--db", f"sqlite:///{other}", "--out", str(tmp_path / "out"))) == 1
    assert "is not an nbgrader gradebook" in capsys.readouterr().err
    assert run(parse("--db", "not a url", "--out", str(tmp_path / "out"))) == 1
    assert "cannot read the gradebook" in capsys.readouterr().err


def test_does_run_name_an_assignment_missing_from_the_gradebook(gradebook, tmp_path, capsys):
    assert run(parse("lstm", "--db", gradebook, "--out", str(tmp_path))) == 1
    assert "not in the gradebook: lstm; it holds: rnn, bptt" in capsys.readouterr().err


def test_does_the_report_leave_the_gradebook_untouched(gradebook, tmp_path):
    db = Path(gradebook.removeprefix("sqlite:///"))
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    build_report(gradebook, tmp_path / "out")
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_does_run_read_the_gradebook_given_with_db(blank, gradebook, tmp_path, monkeypatch, capsys):
    other = make_gradebook(blank, tmp_path / "other.db", scores={"zoe": {"rnn": {"test_a": (2, None)}}})
    monkeypatch.setattr(report, "gradebook_url", lambda root=None: gradebook)  # the default: the main class
    out = tmp_path / "default"
    assert run(parse("--out", str(out))) == 0
    assert (out / "grades.csv").read_text(encoding="utf-8") == GRADES_CSV
    out = tmp_path / "other"
    assert run(parse("--db", other, "--out", str(out))) == 0
    assert (out / "grades.csv").read_text(encoding="utf-8").splitlines() == [
        "student_id,rnn,total,max_total,percent,missing,late", "zoe,2,2,6,33.3,,"]


def test_does_run_say_where_the_files_went_and_which_tests_fail_most(gradebook, tmp_path, capsys):
    assert run(parse("--db", gradebook, "--out", str(tmp_path))) == 0
    out = capsys.readouterr().out
    for name in ("grades.csv", "pass_rates.csv", "histogram_rnn.png", "histogram_bptt.png", "histogram_total.png"):
        assert f"wrote {tmp_path / name}" in out
    table = out[out.index("Most failed tests"):].split("\n\n")[0].splitlines()
    assert table[0] == "Most failed tests (4 of 5):"
    assert table[1].split() == ["assignment", "test", "points", "passed", "rate"]
    assert [line.split() for line in table[2:]] == [
        ["rnn", "test_b", "3", "1/3", "33%"], ["rnn", "test_a", "2", "2/3", "67%"],
        ["bptt", "test_x", "3", "2/3", "67%"], ["bptt", "test_y", "5", "2/3", "67%"]]


def test_does_the_most_failed_table_stop_at_ten():
    rates = [report.PassRate("rnn", f"test_{i:02d}", 1, 4, i % 4) for i in range(30)]
    table = report.most_failed_table(sorted(rates, key=lambda r: (r.pass_rate, r.test)))
    assert table.splitlines()[0] == "Most failed tests (10 of 30):" and len(table.splitlines()) == 12
    assert [line.split()[3] for line in table.splitlines()[2:]] == ["0/4"] * 8 + ["1/4"] * 2


def test_does_the_parser_take_slugs_db_and_out_with_help():
    parser = argparse.ArgumentParser()
    configure(parser)
    args = parser.parse_args(["rnn", "bptt", "--db", "postgresql://host/course", "--out", "/tmp/r"])
    assert (args.slugs, args.db, args.out, args.run) == (["rnn", "bptt"], "postgresql://host/course", Path("/tmp/r"), run)
    defaults = parser.parse_args([])
    assert (defaults.slugs, defaults.db, defaults.out) == ([], None, None)
    assert all(action.help for action in parser._actions)


# Ids a spreadsheet would run as formulas (OWASP, "CSV injection"); ids come from LMS display
# names and shared folders, so a student can choose one.
FORMULA_IDS = ['=HYPERLINK("http://x","y")', "@SUM(1+1)", "+1+1", "-1+1", "\tcmd", "\rcmd"]


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("student", FORMULA_IDS)
def test_is_a_formula_id_neutralised_in_grades_csv(blank, tmp_path, student):
    url = make_gradebook(blank, tmp_path / "gb.db", scores={student: {"rnn": {"test_a": (2, None)}}})
    [header, row] = read_csv(build_report(url, tmp_path / "out").grades_csv)
    assert header[0] == "student_id" and row[0] == "'" + student
    assert row[1:] == ["2", "2", "6", "33.3", "", ""]


def test_is_a_formula_name_neutralised_in_both_csvs(blank, tmp_path):
    # Assignment and test names come from the gradebook, which other tools write too.
    cells = {"=evil": [("@test", 2, "code")], "rnn": [("-test", 2, "code")]}
    scores = {"alice": {"rnn": {"-test": (2, None)}, "=evil": {"@test": (0, None)}},
              "bob": {"rnn": {"-test": (2, None)}}}  # bob has no =evil: it is listed as missing
    url = make_gradebook(blank, tmp_path / "gb.db", cells=cells, scores=scores)
    result = build_report(url, tmp_path / "out", ["rnn", "=evil"])
    assert read_csv(result.grades_csv) == [["student_id", "rnn", "'=evil", "total", "max_total", "percent", "missing",
                                            "late"],
                                           ["alice", "2", "0", "2", "4", "50", "", ""],
                                           ["bob", "2", "0", "2", "4", "50", "'=evil", ""]]
    assert read_csv(result.pass_rates_csv)[1:] == [["'=evil", "'@test", "2", "1", "0", "0.000"],
                                                   ["rnn", "'-test", "2", "2", "2", "1.000"]]


def test_does_a_negative_score_stay_a_number_in_grades_csv(blank, tmp_path):
    # A manual score below zero (a penalty) is a number, not a formula: no quote.
    url = make_gradebook(blank, tmp_path / "gb.db", scores={"alice": {"rnn": {"test_a": (2, -1)}}})
    [_, row] = read_csv(build_report(url, tmp_path / "out", ["rnn"]).grades_csv)
    assert row == ["alice", "-1", "-1", "6", "-16.7", "", ""]
