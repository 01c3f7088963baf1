"""``python -m autograder feedback``: per-student HTML feedback, without the hidden tests.

Usage::

    python -m autograder feedback rnn              # every graded student
    python -m autograder feedback rnn --students alice

Run after ``grade``. For each ``autograded/<student>/<slug>/result.json`` it
writes ``feedback/<student>/<slug>/<slug>.html``: the score, what the grader
noticed about the notebook (edited or deleted check cells, a crash, a timeout),
and, in the notebook's order, the learner's own code followed by each check:
the *visible* part of its code (as released), whether it passed, its points,
and the message with its hint. Hidden checks' code never appears (the page is
built from the released cells, and failure messages never quote code); the
test suite scans every generated page for hidden-test lines.
"""

from __future__ import annotations

import argparse
import html
from pathlib import Path

from autograder.engine.intake import Intake, Unreadable, read_notebook, take_in
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
    return f'<pre class="{css_class}"><code>{html.escape(code.rstrip())}</code></pre>' if code.strip() else ""


def learner_code(intake: Intake | None, grade_id: str) -> str:
    """The learner's code for an answer cell: cells they added before it, then the cell."""
    if intake is None:
        return ""
    parts = [f"# ({label})\n{code}" for label, code in intake.added_before.get(grade_id, [])]
    parts.append(intake.answers.get(grade_id, "# (this cell is missing from your notebook)"))
    return "\n\n".join(parts)


def check_section(step, cell) -> str:
    status = cell.status.replace(" ", "-")
    parts = [f'<div class="check {status}">',
             f'<p><span class="badge">{html.escape(cell.status)}</span> {html.escape(step.grade_id)}: '
             f'{cell.points:g} / {cell.max_points:g} points</p>',
             "<details><summary>The check's visible code</summary>", code_block(step.visible), "</details>"]
    if cell.status != PASSED:
        parts.append(code_block(cell.message, "message"))
        if step.points > 0:
            parts.append("<p>When graded, this check also runs hidden checks (other shapes and seeds, "
                         "edge cases); their code is not shown.</p>")
    if cell.output.strip():
        parts += ["<details><summary>What the check printed</summary>", code_block(cell.output), "</details>"]
    parts.append("</div>")
    return "\n".join(parts)


def render(plan: GradingPlan, result: SubmissionResult, intake: Intake | None) -> str:
    """The feedback page of one submission."""
    title = f"{plan.slug}: feedback for {result.student}"
    body = [f"<h1>{html.escape(title)}</h1>",
            f'<p class="score">Score: {result.score:g} / {result.max_score:g}</p>']
    if result.notes:
        body.append("<h2>What the grader noticed</h2><ul class=\"notes\">")
        body += [f"<li>{html.escape(note)}</li>" for note in result.notes]
        body.append("</ul>")
    cells = {cell.grade_id: cell for cell in result.cells}
    for step in plan.steps:
        if step.kind == ANSWER and intake is not None:  # no code to show from an unreadable notebook
            body += [f"<h2>Your code: {html.escape(step.grade_id)}</h2>", code_block(learner_code(intake, step.grade_id))]
        elif step.kind == TEST and step.grade_id in cells:
            body.append(check_section(step, cells[step.grade_id]))
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
            + "\n".join(part for part in body if part) + "\n</body></html>\n")


def write_feedback(slug: str, course_root: Path = ROOT, students=None) -> list[Path]:
    """Write the feedback page of every graded submission of ``slug``; returns the paths."""
    plan = load_plan(slug, course_root)
    written = []
    for result_file in sorted((course_root / "autograded").glob(f"*/{slug}/result.json")):
        result = SubmissionResult.load(result_file)
        if students and result.student not in students:
            continue
        try:
            notebook = read_notebook(course_root / "submitted" / result.student / slug / f"{slug}.ipynb")
            intake = take_in(notebook, plan)
        except (Unreadable, OSError):
            intake = None
        target = course_root / "feedback" / result.student / slug / f"{slug}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(plan, result, intake), encoding="utf-8")
        written.append(target)
    return written


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("slug", choices=SLUGS, help="the assignment (graded with `grade` first)")
    parser.add_argument("--students", nargs="+", metavar="ID", help="only these students")


def run(args: argparse.Namespace) -> int:
    written = write_feedback(args.slug, args.course, args.students)
    if not written:
        print(f"no graded submissions of {args.slug}: run `python -m autograder grade {args.slug}` first")
        return 1
    for path in written:
        print(f"wrote {path.relative_to(args.course)}")
    return 0
