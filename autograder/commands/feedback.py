"""``python -m autograder feedback``: per-student HTML feedback, without the hidden tests.

Usage::

    python -m autograder feedback rnn              # every graded student
    python -m autograder feedback rnn --students alice

Run after ``grade``. For each ``autograded/<student>/<slug>/result.json`` it
writes ``feedback/<student>/<slug>/<slug>.html``: the score, what the grader
noticed about the notebook (edited or deleted check cells, a crash, a timeout),
and, in the notebook's order, the learner's own code followed by each check:
the *visible* part of its code (as released), whether it passed, its points,
and the message with its hint. When the submission's time is known, the page
says when it was handed in against the due date, and any late penalty. Hidden checks' code never appears (the page is
built from the released cells, and failure messages never quote code); the
test suite scans every generated page for hidden-test lines. Nor does a page
quote a value a check compared (``withhold_values``): a hidden check's expected
values would be the answers on inputs the learner never saw.

Everything that comes from a submission is escaped (``escape``), so no
submission can break its page or the command: a student whose page still
cannot be written is named with the reason, every other student gets a page,
and the command exits with 1.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograder.engine.intake import Intake, Unreadable, read_notebook, take_in
from autograder.engine.lateness import Lateness
from autograder.engine.withheld import WITHHELD, withhold_values
from autograder.shown import escape
from autograder.paths import ROOT, SLUGS
from autograder.course.plan import ANSWER, TEST, GradingPlan, load_plan
from autograder.engine.results import PASSED, SubmissionResult

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1b1f24; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.score { font-size: 1.25rem; font-weight: 600; }
pre { background: #f6f8fa; padding: .75rem; overflow-x: auto; border-radius: 4px; font-size: .85rem; }
.check { border-left: 4px solid #999; padding-left: .75rem; margin: 1rem 0; }
.passed { border-color: #1a7f37; } .failed, .not-run { border-color: #cf222e; }
.badge { font-weight: 600; } .passed .badge { color: #1a7f37; } .failed .badge, .not-run .badge { color: #cf222e; }
.message { background: #fff8f0; white-space: pre-wrap; }
.notes li { margin: .25rem 0; }
"""


def code_block(code: str, css_class: str = "") -> str:
    return f'<pre class="{css_class}"><code>{escape(code.rstrip())}</code></pre>' if code.strip() else ""


def learner_code(intake: Intake | None, grade_id: str) -> str:
    """The learner's code for an answer cell: cells they added before it, then the cell."""
    if intake is None:
        return ""
    parts = [f"# ({label})\n{code}" for label, code in intake.added_before.get(grade_id, [])]
    parts.append(intake.answers.get(grade_id, "# (this cell is missing from your notebook)"))
    return "\n\n".join(parts)


def check_section(step, cell) -> str:
    status = escape(cell.status.replace(" ", "-"))
    parts = [f'<div class="check {status}">',
             f'<p><span class="badge">{escape(cell.status)}</span> {escape(step.grade_id)}: '
             f'{cell.points:g} / {cell.max_points:g} points</p>',
             "<details><summary>The check's visible code</summary>", code_block(step.visible), "</details>"]
    if cell.status != PASSED:
        message = withhold_values(cell.message)
        parts.append(code_block(message, "message"))
        if message != cell.message:
            parts.append(f"<p>Values the check compared are {WITHHELD} here; running the check in your "
                         "notebook shows those of its visible checks.</p>")
        if step.points > 0:
            parts.append("<p>When graded, this check also runs hidden checks (other shapes and seeds, "
                         "edge cases); their code is not shown.</p>")
    if cell.output.strip():
        parts += ["<details><summary>What the check printed</summary>", code_block(withhold_values(cell.output)),
                  "</details>"]
    parts.append("</div>")
    return "\n".join(parts)


def lateness_section(result: SubmissionResult) -> str:
    """When the notebook was handed in against its due date, and the late penalty, if any
    (as the gradebook records them: autograder.engine.lateness)."""
    lateness = Lateness.from_dict(result.lateness)
    if lateness is None or (lateness.submitted_at is None and lateness.note is None):
        return ""
    text = f'<p class="lateness">{escape(lateness.describe())}</p>'
    if lateness.penalty:
        after = max(0.0, result.score - lateness.penalty)
        text += f'<p class="score">Score after the late penalty: {after:g} / {result.max_score:g}</p>'
    return text


def render(plan: GradingPlan, result: SubmissionResult, intake: Intake | None) -> str:
    """The feedback page of one submission."""
    title = f"{plan.slug}: feedback for {result.student}"
    body = [f"<h1>{escape(title)}</h1>",
            f'<p class="score">Score: {result.score:g} / {result.max_score:g}</p>', lateness_section(result)]
    if result.notes:
        body.append("<h2>What the grader noticed</h2><ul class=\"notes\">")
        body += [f"<li>{escape(note)}</li>" for note in result.notes]
        body.append("</ul>")
    cells = {cell.grade_id: cell for cell in result.cells}
    for step in plan.steps:
        if step.kind == ANSWER and intake is not None:  # no code to show from an unreadable notebook
            body += [f"<h2>Your code: {escape(step.grade_id)}</h2>", code_block(learner_code(intake, step.grade_id))]
        elif step.kind == TEST and step.grade_id in cells:
            body.append(check_section(step, cells[step.grade_id]))
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
            + "\n".join(part for part in body if part) + "\n</body></html>\n")


@dataclass
class FeedbackRun:
    """What ``write_feedback`` did: the pages written, and each student whose page was not, with why."""

    written: list[Path] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def write_feedback(slug: str, course_root: Path = ROOT, students=None) -> FeedbackRun:
    """Write the feedback page of every graded submission of ``slug``.

    One student's failure (a result file that cannot be read, a page that cannot be
    written) is recorded in the run and never stops the pages of the others.
    """
    plan = load_plan(slug, course_root)
    run = FeedbackRun()
    for result_file in sorted((course_root / "autograded").glob(f"*/{slug}/result.json")):
        student = result_file.parent.parent.name
        if students and student not in students:
            continue
        target = course_root / "feedback" / student / slug / f"{slug}.html"
        try:
            write_page(target, page_of(plan, student, course_root))
        except Exception as error:  # noqa: BLE001 - one student's page must not stop the class's
            run.failed[student] = f"{type(error).__name__}: {error}"
        else:
            run.written.append(target)
    return run


def page_of(plan: GradingPlan, student: str, course_root: Path) -> str:
    """``student``'s feedback page, from their result; with their code when their notebook can be read."""
    slug = plan.slug
    result = SubmissionResult.load(course_root / "autograded" / student / slug / "result.json")
    try:
        intake = take_in(read_notebook(course_root / "submitted" / student / slug / f"{slug}.ipynb"), plan)
    except (Unreadable, OSError):
        intake = None
    return render(plan, result, intake)


def write_page(target: Path, page: str) -> None:
    """Write ``page`` whole or not at all, so a failure never leaves a truncated page behind.

    The page is encoded before any file is opened (``escape`` makes that always possible),
    written beside the target and then moved over it.
    """
    data = page.encode("utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("slug", choices=SLUGS, help="the assignment (graded with `grade` first)")
    parser.add_argument("--students", nargs="+", metavar="ID", help="only these students")


def run(args: argparse.Namespace) -> int:
    """Exit status 1 when there was nothing to give feedback on, or when some page could not be written."""
    done = write_feedback(args.slug, args.course, args.students)
    if not done.written and not done.failed:
        print(f"no graded submissions of {args.slug}: run `python -m autograder grade {args.slug}` first")
        return 1
    for path in done.written:
        print(f"wrote {path.relative_to(args.course)}")
    for student, why in done.failed.items():
        print(f"feedback: no page for {student}: {why}", file=sys.stderr)
    return 1 if done.failed else 0
