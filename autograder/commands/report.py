"""The instructor's report: grades for the LMS, the tests the class fails, score histograms.

Usage, from the repository root::

    python -m autograder report                  # every graded assignment, into reports/
    python -m autograder report rnn --out /tmp/r # one assignment, elsewhere
    python -m autograder report --db postgresql://host/course

It reads nbgrader's gradebook (never writes to it) and writes into the output folder:

* ``grades.csv``: one row per student, one column per assignment (course order), then
  ``total``, ``max_total``, ``percent`` and ``missing`` (the assignments with no graded
  submission, which count 0 so the LMS import still works);
* ``lateness.csv``: each graded submission's time, due date, hours late, raw score, late
  penalty and the score that counts (``grade`` records them: autograder.engine.lateness);
  in ``grades.csv`` an assignment's score is the score after its late penalty (never below 0,
  as ``nbgrader export``), and ``late`` lists the assignments handed in late;
* ``pass_rates.csv``: each test (code grade cell worth points) with how many graded
  submissions passed it, the tests the class fails most first;
* ``histogram_<slug>.png`` for each assignment (graded submissions only), and
  ``histogram_total.png`` (every student) when there is more than one assignment;
* ``misconceptions.csv`` and ``misconceptions.html``: what to reteach, from the results
  ``grade`` saved under ``<course>/autograded/`` (autograder.engine.misconceptions): per
  assignment, how many students hit each hint of the checks, most first, each with one
  anonymised example; the top three per assignment are printed after the most failed tests.

A submission counts as graded when at least one of its cells has a score (auto or manual).
In every CSV a text cell that a spreadsheet would run as a formula (a student id such as
``=HYPERLINK(...)``) is written with a leading single quote; numbers are written as numbers.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from autograder.engine import misconceptions
from autograder.paths import DB_HELP, SLUGS, database_url, gradebook_url
from autograder.shown import csv_text


class ReportError(Exception):
    """Nothing to report, or the gradebook asked for cannot be read."""


@dataclass(frozen=True)
class Submission:
    """One graded submission as read from the gradebook."""

    student: str
    assignment: str
    score: float  # nbgrader's SubmittedAssignment.score: auto, or manual where given, plus extra credit
    tests: tuple[tuple[str, float, float], ...]  # (test, score, points) of each code cell worth points
    timestamp: datetime | None = None  # when it was handed in (UTC), if known
    duedate: datetime | None = None  # the student's due date (UTC), extension included, if any
    seconds_late: float = 0.0
    penalty: float = 0.0  # the late penalty nbgrader's plugin set (autograder.engine.lateness)

    @property
    def counted(self) -> float:
        """The score that counts: after a late penalty, never below 0 (as ``nbgrader export``).
        Without a penalty it is the score itself, a negative manual score included."""
        return max(0.0, self.score - self.penalty) if self.penalty else self.score


@dataclass(frozen=True)
class Snapshot:
    """What the report needs from the gradebook, read once so the connection closes early."""

    assignments: dict[str, float]  # slug -> max score, in course order
    students: tuple[str, ...]
    submissions: tuple[Submission, ...]


@dataclass(frozen=True)
class GradeRow:
    student_id: str
    scores: dict[str, float]
    missing: tuple[str, ...]
    total: float
    max_total: float
    late: tuple[str, ...] = ()  # the assignments handed in after their due date

    @property
    def percent(self) -> float:
        return round(100 * self.total / self.max_total, 1) if self.max_total else 0.0


@dataclass(frozen=True)
class PassRate:
    assignment: str
    test: str
    points: float
    submissions: int
    passed: int

    @property
    def pass_rate(self) -> float:
        return self.passed / self.submissions


@dataclass(frozen=True)
class Report:
    out_dir: Path
    grades_csv: Path
    pass_rates_csv: Path
    histograms: dict[str, Path]  # slug (or "total") -> PNG
    assignments: tuple[str, ...]
    grades: list[GradeRow]
    pass_rates: list[PassRate]
    lateness_csv: Path | None = None
    late_table: str = ""


def _course_order(name: str) -> tuple[int, str]:
    # Assignments outside SLUGS (an old or trial one) still appear, after the course's own.
    return (SLUGS.index(name) if name in SLUGS else len(SLUGS), name)


def _num(x: float) -> str:
    """A score as a person writes it: 19, 7.5, 2.3 (no 2.3000000000000003 from summing floats)."""
    x = round(x, 6) + 0.0  # + 0.0 turns -0.0 into 0.0
    return str(int(x)) if x.is_integer() else repr(x)


_text = csv_text  # every text cell of every CSV: formula-safe (autograder.shown)


def _check_gradebook(db_url: str) -> str:
    """Refuse anything but an existing gradebook (nbgrader's Gradebook would create one silently).

    Returns the URL as it may be printed: without its password.
    """
    from sqlalchemy import create_engine, exc, inspect
    from sqlalchemy.engine import make_url

    try:
        url = make_url(db_url)
        shown = url.render_as_string(hide_password=True)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            if not Path(url.database).is_file():  # connecting would create an empty file
                raise ReportError(f"no gradebook at {url.database}: grade an assignment first, or pass --db")
        engine = create_engine(url)
        try:
            if not inspect(engine).has_table("submitted_assignment"):
                raise ReportError(f"{shown} is not an nbgrader gradebook")
        finally:
            engine.dispose()
    except (exc.SQLAlchemyError, ImportError) as error:  # bad URL, driver not installed, server down
        raise ReportError(f"cannot read the gradebook: {error}") from error
    return shown


def read_gradebook(db_url: str, slugs: list[str] | None = None) -> Snapshot:
    """Scores of every graded submission of ``slugs`` (default: every assignment with one)."""
    from nbgrader.api import Gradebook  # imported late: nbgrader is an instructor-only dependency

    db_url = database_url(db_url)
    shown = _check_gradebook(db_url)
    # course_id="" keeps nbgrader from inserting a course row: a report only reads.
    with Gradebook(db_url, course_id="") as gb:
        maxima = {a.name: float(a.max_score) for a in gb.assignments}
        unknown = [s for s in slugs or [] if s not in maxima]
        if unknown:
            raise ReportError(f"not in the gradebook: {', '.join(unknown)}; "
                              f"it holds: {', '.join(sorted(maxima, key=_course_order)) or 'nothing'}")
        submissions = []
        for name in slugs or maxima:
            for sub in gb.assignment_submissions(name):
                grades = [(nb.name, g) for nb in sub.notebooks for g in nb.grades]
                if all(g.auto_score is None and g.manual_score is None for _, g in grades):
                    continue  # registered but never graded: treated as not submitted
                # Zero-point cells hold visible checks only; nbgrader scores them 0 whether they pass
                # or not, so they say nothing about passing. Written (markdown) cells are not tests.
                tests = tuple((g.name if nb == name else f"{nb}/{g.name}", float(g.score), float(g.max_score))
                              for nb, g in grades if g.cell_type == "code" and g.max_score > 0)
                submissions.append(Submission(sub.student_id, name, float(sub.score), tests, sub.timestamp,
                                              sub.duedate, float(sub.total_seconds_late),
                                              float(sub.late_submission_penalty or 0.0)))
        graded = {s.assignment for s in submissions}
        chosen = sorted(set(slugs) if slugs else graded, key=_course_order)
        if not graded:
            raise ReportError(f"no graded submissions{' of ' + ', '.join(chosen) if slugs else ''} in "
                              f"{shown}: run `python -m autograder grade SLUG` first")
        return Snapshot({a: maxima[a] for a in chosen}, tuple(sorted(s.id for s in gb.students)),
                        tuple(submissions))


def grade_rows(snap: Snapshot) -> list[GradeRow]:
    """One row per student; an assignment without a graded submission counts 0 and is listed as missing."""
    scores: dict[str, dict[str, float]] = defaultdict(dict)
    late: dict[str, list[str]] = defaultdict(list)
    for sub in snap.submissions:
        scores[sub.student][sub.assignment] = sub.counted
        if sub.seconds_late > 0:
            late[sub.student].append(sub.assignment)
    max_total = sum(snap.assignments.values())
    rows = []
    for student in snap.students:
        got = {a: scores[student].get(a, 0.0) for a in snap.assignments}
        missing = tuple(a for a in snap.assignments if a not in scores[student])
        late_ones = tuple(a for a in snap.assignments if a in late[student])
        rows.append(GradeRow(student, got, missing, sum(got.values()), max_total, late_ones))
    return rows


def pass_rates(snap: Snapshot) -> list[PassRate]:
    """Each test's pass rate over the graded submissions, lowest first (ties: course order, name)."""
    seen: dict[tuple[str, str], list] = {}
    for sub in snap.submissions:
        for test, score, points in sub.tests:
            counts = seen.setdefault((sub.assignment, test), [points, 0, 0])
            counts[1] += 1
            counts[2] += score >= points - 1e-9  # float sums of partial credit may fall a hair short
    rates = [PassRate(a, t, p, n, k) for (a, t), (p, n, k) in seen.items()]
    return sorted(rates, key=lambda r: (r.pass_rate, _course_order(r.assignment), r.test))


def write_grades_csv(rows: list[GradeRow], assignments: tuple[str, ...], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["student_id", *map(_text, assignments), "total", "max_total", "percent", "missing", "late"])
        for r in rows:
            out.writerow([_text(r.student_id), *(_num(r.scores[a]) for a in assignments),
                          _num(r.total), _num(r.max_total), _num(r.percent), _text(" ".join(r.missing)),
                          _text(" ".join(r.late))])
    return path


def _when(moment: datetime | None) -> str:
    return moment.isoformat(" ") if moment is not None else ""


def write_lateness_csv(snap: Snapshot, path: Path) -> Path:
    """One row per graded submission: when it was handed in, its due date, how late, the penalty."""
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["student_id", "assignment", "submitted_utc", "due_utc", "hours_late", "raw_score",
                      "late_penalty", "score"])
        for sub in sorted(snap.submissions, key=lambda s: (_course_order(s.assignment), s.student)):
            out.writerow([_text(sub.student), _text(sub.assignment), _when(sub.timestamp), _when(sub.duedate),
                          _num(round(sub.seconds_late / 3600, 2)), _num(sub.score), _num(sub.penalty),
                          _num(sub.counted)])
    return path


def lateness_table(snap: Snapshot) -> str:
    """The late submissions, most late first (or a line saying there are none)."""
    late = sorted((s for s in snap.submissions if s.seconds_late > 0), key=lambda s: -s.seconds_late)
    if not late:
        return "No submission was handed in late."
    from autograder.engine.lateness import duration

    lines = [("student", "assignment", "late by", "penalty")] + [
        (s.student, s.assignment, duration(s.seconds_late), _num(s.penalty)) for s in late]
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    table = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines]
    return "\n".join([f"Late submissions ({len(late)} of {len(snap.submissions)}):", *table])


def write_pass_rates_csv(rates: list[PassRate], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["assignment", "test", "points", "submissions", "passed", "pass_rate"])
        for r in rates:
            out.writerow([_text(r.assignment), _text(r.test), _num(r.points), r.submissions, r.passed,
                          f"{r.pass_rate:.3f}"])
    return path


def histogram_figure(name: str, scores: list[float], max_score: float, counted: str = "submissions"):
    """A histogram of ``scores`` on 0..max_score, one bar per whole point up to 40 points."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # A Figure outside pyplot is in no global registry (thread safe, nothing left to close);
    # the Agg canvas renders it without any display, whatever backend the session chose.
    fig = Figure(figsize=(6.4, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    top = math.ceil(max_score)
    # Bars centred on whole points, so a full score is not lumped with the score one below it.
    edges = np.arange(-0.5, top + 1) if top <= 40 else np.linspace(0, max_score, 41)
    ax.hist(scores, bins=edges, color="tab:blue", edgecolor="white")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel(f"score (out of {_num(max_score)})")
    ax.set_ylabel("students")
    for axis in (ax.xaxis, ax.yaxis):  # points and head counts: no 2.5 ticks
        axis.get_major_locator().set_params(integer=True)
    mean, median = statistics.fmean(scores), statistics.median(scores)
    ax.set_title(f"{name}: {len(scores)} {counted}, mean {_num(round(mean, 1))}, "
                 f"median {_num(round(median, 1))}")
    return fig


def draw_histogram(name: str, scores: list[float], max_score: float, path: Path,
                   counted: str = "submissions") -> Path:
    histogram_figure(name, scores, max_score, counted).savefig(path, dpi=100)
    return path


def build_report(db_url: str, out_dir: Path, slugs: list[str] | None = None) -> Report:
    """Read the gradebook at ``db_url`` and write the CSVs and histograms into ``out_dir``."""
    snap = read_gradebook(db_url, list(dict.fromkeys(slugs)) if slugs else None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, rates = grade_rows(snap), pass_rates(snap)
    histograms = {}
    for slug, max_score in snap.assignments.items():
        scores = [s.counted for s in snap.submissions if s.assignment == slug]
        if scores:  # an assignment asked for by name may have no graded submission yet
            histograms[slug] = draw_histogram(slug, scores, max_score, out_dir / f"histogram_{slug}.png")
    if len(snap.assignments) > 1:
        histograms["total"] = draw_histogram("total", [r.total for r in rows], sum(snap.assignments.values()),
                                             out_dir / "histogram_total.png", counted="students")
    return Report(out_dir, write_grades_csv(rows, tuple(snap.assignments), out_dir / "grades.csv"),
                  write_pass_rates_csv(rates, out_dir / "pass_rates.csv"), histograms,
                  tuple(snap.assignments), rows, rates,
                  write_lateness_csv(snap, out_dir / "lateness.csv"), lateness_table(snap))


def most_failed_table(rates: list[PassRate], limit: int = 10) -> str:
    """The ``limit`` tests with the lowest pass rates (tests everyone passed are left out)."""
    failed = [r for r in rates if r.passed < r.submissions][:limit]
    if not failed:
        return "Every graded submission passed every test."
    lines = [("assignment", "test", "points", "passed", "rate")] + [
        (r.assignment, r.test, _num(r.points), f"{r.passed}/{r.submissions}", f"{100 * r.pass_rate:.0f}%")
        for r in failed]
    widths = [max(len(line[i]) for line in lines) for i in range(5)]
    table = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines]
    return "\n".join([f"Most failed tests ({len(failed)} of {len(rates)}):", *table])


def write_misconceptions_csv(found: misconceptions.Misconceptions, path: Path) -> Path:
    """One row per hint (or failed check without one) per assignment, most students first."""
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["assignment", "kind", "hint_or_failing_check", "students", "graded", "share",
                      "example_check", "example_message"])
        for slug in found.assignments:
            for item in found.ranked.get(slug, []):
                out.writerow([_text(item.assignment), item.kind, _text(item.what), item.students, item.graded,
                              f"{item.share:.3f}", _text(item.example_check), _text(item.example_message)])
    return path


def write_misconceptions(course: Path, out_dir: Path, assignments: tuple[str, ...]) -> misconceptions.Misconceptions:
    """misconceptions.csv and misconceptions.html in ``out_dir``, from ``<course>/autograded/``; both are
    written (empty of rows) when there is no result, so an earlier run's never stays behind."""
    found = misconceptions.find_misconceptions(Path(course) / "autograded", assignments)
    write_misconceptions_csv(found, out_dir / "misconceptions.csv")
    (out_dir / "misconceptions.html").write_text(misconceptions.page(found), encoding="utf-8")
    return found


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``report`` arguments to ``parser`` (the subcommand's parser)."""
    parser.add_argument("slugs", nargs="*", metavar="SLUG",
                        help="assignments to report on (default: every assignment with graded submissions)")
    parser.add_argument("--db", metavar="URL", default=None,
                        help=DB_HELP)
    parser.add_argument("--out", metavar="DIR", type=Path, default=None,
                        help="folder to write the CSVs and histograms into (default: reports/)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # Defaults resolved here, not in configure(), so they follow the course root at run time.
    try:
        report = build_report(args.db or gradebook_url(args.course), args.out or args.course / "reports", args.slugs or None)
    except ReportError as error:
        print(f"report: {error}", file=sys.stderr)
        return 1
    found = write_misconceptions(args.course, report.out_dir, report.assignments)
    print(f"Report on {', '.join(report.assignments)} for {len(report.grades)} students:")
    for path in [report.grades_csv, report.pass_rates_csv, report.lateness_csv, *report.histograms.values()]:
        print(f"  wrote {path}")
    for name in ("misconceptions.csv", "misconceptions.html"):
        print(f"  wrote {report.out_dir / name}")
    if not found.results:
        print(f"  (no misconceptions to report: {misconceptions.nothing_read(found)})")
    print()
    print(most_failed_table(report.pass_rates))
    print()
    print(report.late_table)
    if found.results or found.skipped:
        print()
        print(misconceptions.table(found))
    return 0
