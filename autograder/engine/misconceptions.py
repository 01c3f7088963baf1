"""What the class got wrong, per assignment: the checks' named hints, counted per student.

The checks name the bugs they recognise in lines of their messages (rnnlab.checks.failure)::

    Hint: b was added to every row of the batch, so its gradient sums over the batch
      axis, and has shape (H,).
    Hint for dprev_h and dWh: ...

After ``grade``, each submission's result (``autograded/<student>/<slug>/result.json``,
autograder.engine.results) holds every check cell's message. ``find_misconceptions`` reads
them and counts, per assignment, how many **students** hit each hint: a hint is identified by
its text, whichever quantities it was printed for and in however many check cells, so it
counts once per student. A failed check cell whose message names no hint counts its check
and headline instead (the message's first line, with every number replaced by ``#`` so the
same failure on other inputs groups together), marked "no named hint". Both are ranked
together, most students first: what to reteach on Monday.

What counts, and what does not:

- only submissions whose result says "graded"; the others (notebook unreadable, missing)
  are counted apart, per status, never as misconceptions; a full pass counts nothing;
- only cells that failed: a cell "not run" was stopped by an earlier cell (a crash, a
  timeout, the memory limit), whose own failure says why;
- not a cell whose message starts "Fix ... first:": the check says it cannot pass until an
  earlier check does (a backward step checked against a wrong forward step, Part 0), so
  its hints follow from that bug, which the earlier check's cell counts;
- hints are read before the point where a message quotes the learner's exception text
  ("... raised ValueError: ..."), which a submission controls. A submission can still
  print a line that looks like a hint elsewhere (a class name it returns): it counts
  once, for that student alone. The one hint the checks write after the exception text
  (None used as an array: rnnlab.checks.NONE_USED_HINT) is recognised there, word for word.

A result file is the grader's, but the folder could have been tampered with: a file that
is missing, not a regular file (a symbolic link, a pipe), too large, not valid JSON or not
shaped like a result, or filed under another student's or assignment's folder, and a
student's folder that is a symbolic link, are skipped with a note saying why; the others
are counted.

Each line of the report keeps one example, anonymised: the check and its message as the
first student (by id) who hit it got it, with that student's id replaced by ``[student]``,
the values the check compared withheld as ``feedback`` withholds them
(autograder.engine.withheld), the learner's traceback (their own code) cut, and characters a
terminal would act on (control characters, bidi overrides, lone surrogates) shown as
escapes. ``page`` renders the report as HTML with everything escaped; ``table`` is the
console's summary. The CSV is written by ``autograder.commands.report``.

Imports autograder.engine.results, autograder.engine.withheld and rnnlab.checks (the messages' line width) only.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.engine.results import FAILED, GRADED, MISSING, PASSED, UNREADABLE, SubmissionResult
from autograder.engine.untrusted import NOT_REGULAR, NotRead, read_bounded
from autograder.engine.withheld import withhold_values
from rnnlab.checks import NONE_USED_HINT, PREFIX, WIDTH

#: The widest first line of a check's message: a notebook prints it after "CheckFailed: ".
FIRST_WIDTH = WIDTH - len(PREFIX)
#: A hint line: "Hint: <text>" or "Hint for dWx and db: <text>".
HINT = re.compile(r"Hint(?: for [^:\n]{1,200})?: (?P<text>.+)")
#: A message that says its check failed because an earlier one did.
CONSEQUENCE = re.compile(r"Fix [\w ]{1,60} first: ")
#: Where a message starts quoting what the learner's code raised, or their traceback.
LEARNERS_TEXT = re.compile(r"\braised [A-Za-z_][\w.]*: |^Where it happened\b", re.M)
TRACEBACK = "\nWhere it happened (most recent call last):"
#: A number in a message (a value, a shape, an index, a time, an address).
NUMBER = re.compile(r"(?<![\w.])(?:0x[0-9a-fA-F]+|[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)(?![\w])")
#: How each status other than "graded" is named in the report.
NOT_GRADED = {UNREADABLE: "notebook unreadable", MISSING: "notebook missing"}
#: A result file larger than this is not read (a graded result is a few kilobytes to a megabyte).
MAX_RESULT_BYTES = 64 * 2**20
NO_NAMED_HINT = "no named hint"
#: Skipped result files named in the console (the page names them all).
SKIPPED_SHOWN = 5


@dataclass(frozen=True)
class Misconception:
    """A hint (or a failed check without one) and the students of one assignment who hit it."""

    assignment: str
    what: str  # the hint's text, or "<check>: <headline with # for numbers>"
    named: bool  # False: a failed check whose message names no hint
    students: int
    graded: int  # graded submissions of the assignment
    example_check: str
    example_message: str  # anonymised, values withheld

    @property
    def share(self) -> float:
        return self.students / self.graded if self.graded else 0.0

    @property
    def kind(self) -> str:
        return "hint" if self.named else NO_NAMED_HINT


@dataclass
class Misconceptions:
    """The report: per assignment, in the order asked for, the ranked misconceptions."""

    assignments: tuple[str, ...]
    ranked: dict[str, list[Misconception]] = field(default_factory=dict)  # most students first
    graded: Counter = field(default_factory=Counter)  # slug -> graded submissions
    passed: Counter = field(default_factory=Counter)  # slug -> graded submissions that passed every check
    not_graded: dict[str, Counter] = field(default_factory=dict)  # slug -> {"notebook unreadable": 2}
    skipped: list[str] = field(default_factory=list)  # result files not read, each with why
    source: Path = Path("autograded")

    @property
    def results(self) -> int:
        """Result files read (graded or not)."""
        return sum(self.graded.values()) + sum(sum(c.values()) for c in self.not_graded.values())


class BadResult(Exception):
    """A result file that cannot be taken as the grader's."""


# ----------------------------------------------------------------------------
# Reading a message
# ----------------------------------------------------------------------------

def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _continues(previous: str, line: str, following: str, limit: int) -> bool:
    """Whether ``line`` is the wrapped rest of ``previous`` (``following`` is the line after it).

    rnnlab.checks.fit wraps greedily and indents the rest of a line by two spaces: a line
    breaks only where its next word would not fit within ``limit``. A check's details are
    indented by two spaces too, so where ``previous`` ends a sentence, ``line`` may also be
    the first detail: it is one when it wraps in turn (its rest indented deeper) or when it
    starts with a label, the name of what it is about ("  dx:      relative error ...",
    "  new_params['Wx']: largest difference ..."; a capitalised word such as "Otherwise:"
    is prose).
    """
    if _indent(line) != 2 or not line.strip():
        return False
    word = line.split(None, 1)[0]
    if len(previous) + 1 + len(word) <= limit:
        return False  # the word would have fitted: the line was not broken there
    if not previous.rstrip().endswith((".", "?", "!")):
        return True
    detail = _indent(following) > 2 or (word.endswith(":") and not re.fullmatch(r"[A-Z][a-z]+:", word))
    return not detail


def logical_lines(message: str) -> list[str]:
    """The lines of ``message`` before rnnlab.checks.fit wrapped them to 80 columns."""
    lines: list[str] = []
    raw = message.splitlines()
    for number, line in enumerate(raw):
        limit = FIRST_WIDTH if number == 1 else WIDTH  # the first line was wrapped shorter
        following = raw[number + 1] if number + 1 < len(raw) else ""
        if lines and _continues(raw[number - 1], line, following, limit):
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return lines


def hints_of(message: str) -> list[str]:
    """The texts of the hints ``message`` names, in order, each once, whitespace collapsed."""
    own = LEARNERS_TEXT.split(message, maxsplit=1)[0]  # the checks' own words only
    found = (HINT.fullmatch(line) for line in logical_lines(own))
    hints = [" ".join(m["text"].split()) for m in found if m]
    # The one hint the checks add after the learner's exception text (rnnlab.checks.call): known
    # word for word, so it is recognised there; a submission that prints it counts once, for itself.
    after = " ".join(message[len(own):].split())
    if f"Hint: {NONE_USED_HINT}" in after:
        hints.append(NONE_USED_HINT)
    return list(dict.fromkeys(hints))


def headline_of(message: str) -> str:
    """The message's first line, unwrapped, whitespace collapsed."""
    lines = logical_lines(message)
    return " ".join(lines[0].split()) if lines else ""


def _printable(text: str) -> str:
    """``text`` with every character a terminal, page or spreadsheet could act on (ESC, BEL, bidi
    overrides, lone surrogates...) shown as its escape; line breaks are kept."""
    return "".join(char if char.isprintable() or char == "\n" else repr(char)[1:-1] for char in text)


def anonymised(text: str, student: str) -> str:
    """``text`` without ``student``'s id (as a whole word, any case), the values withheld,
    the learner's traceback cut, every character printable."""
    text, _, traceback = text.partition(TRACEBACK)
    text += "\n(the learner's traceback is not shown)" if traceback else ""
    if student:
        text = re.sub(rf"(?<!\w){re.escape(student)}(?!\w)", "[student]", text, flags=re.I)
    return _printable(withhold_values(text))


# ----------------------------------------------------------------------------
# Reading the results
# ----------------------------------------------------------------------------

def read_result(path: Path) -> SubmissionResult:
    """The result in ``path``, or BadResult saying why it cannot be taken as the grader's."""
    try:
        data = read_bounded(path, MAX_RESULT_BYTES)
    except FileNotFoundError:
        raise BadResult("missing") from None
    except NotRead as error:
        raise BadResult(NOT_REGULAR if error.why == NOT_REGULAR else
                        f"cannot be opened ({error.detail or error.why})") from None
    if len(data) > MAX_RESULT_BYTES:
        raise BadResult(f"larger than {MAX_RESULT_BYTES:,} bytes")
    try:
        result = SubmissionResult.from_json(data.decode("utf-8"))
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:  # JSON, UTF-8, shape
        raise BadResult(f"not a grader's result ({type(error).__name__})") from None
    texts = [result.student, result.slug, result.status]
    texts += [value for cell in result.cells for value in (cell.grade_id, cell.status, cell.message)]
    if not all(isinstance(value, str) for value in texts):
        raise BadResult("not a grader's result (a field of the wrong type)")
    return result


def read_results(autograded: Path, slugs: Iterable[str]) -> tuple[list[SubmissionResult], list[str]]:
    """Every result of ``slugs`` under ``autograded/<student>/<slug>/result.json``, by student,
    and a note for each that was skipped (a student's folder that is a symbolic link is)."""
    results, skipped, slugs = [], [], tuple(slugs)
    try:
        students = sorted(entry for entry in autograded.iterdir() if entry.is_dir())
    except OSError:
        return results, skipped  # no autograded/ folder: nothing graded yet
    for folder in students:
        if folder.is_symlink():
            skipped.append(f"{_printable(str(folder.relative_to(autograded.parent)))}: a symbolic link, not read")
            continue
        for slug in slugs:
            if not (folder / slug).is_dir():
                continue
            path = folder / slug / "result.json"
            shown = _printable(str(path.relative_to(autograded.parent)))
            try:
                result = read_result(path)
            except BadResult as why:
                skipped.append(f"{shown}: {why}")
                continue
            if (result.student, result.slug) != (folder.name, slug):
                skipped.append(f"{shown}: it is the result of {_printable(result.student)}'s "
                               f"{_printable(result.slug)}, not of this folder")
                continue
            results.append(result)
    return results, skipped


# ----------------------------------------------------------------------------
# Counting
# ----------------------------------------------------------------------------

def failures_of(result: SubmissionResult) -> dict[str, tuple[bool, str, str]]:
    """What one graded submission got wrong, each once: what -> (named, check, message) of the
    first cell that said it, anonymised. ``what`` is a hint's text, or for a failed check
    without one the check and its headline with numbers as ``#`` (other inputs, same failure);
    the student's id is removed and the values withheld before texts are compared, so the
    same hint or failure reads the same for every student."""
    found: dict[str, tuple[bool, str, str]] = {}
    for cell in result.cells:
        if cell.status != FAILED or CONSEQUENCE.match(cell.message):
            continue
        hints = [anonymised(hint, result.student) for hint in hints_of(cell.message)]
        headline = f"{cell.grade_id}: {anonymised(headline_of(cell.message), result.student)}"
        for named, what in [(True, hint) for hint in hints] or [(False, NUMBER.sub("#", headline))]:
            found.setdefault(_printable(what), (named, _printable(cell.grade_id),
                                                anonymised(cell.message, result.student)))
    return found


def tally(results: Iterable[SubmissionResult], assignments: Iterable[str]) -> Misconceptions:
    """Count, per assignment, the students who hit each hint (or failed check without one)."""
    report = Misconceptions(tuple(assignments))
    students: dict[str, Counter] = {slug: Counter() for slug in report.assignments}
    examples: dict[tuple[str, str], tuple[bool, str, str]] = {}
    for result in results:
        if result.slug not in students:
            continue
        if result.status != GRADED:
            status = NOT_GRADED.get(result.status, _printable(result.status))
            report.not_graded.setdefault(result.slug, Counter())[status] += 1
            continue
        report.graded[result.slug] += 1
        report.passed[result.slug] += all(cell.status == PASSED for cell in result.cells)
        for what, example in failures_of(result).items():
            students[result.slug][what] += 1
            examples.setdefault((result.slug, what), example)  # the first student's, by id
    for slug, counts in students.items():
        ranked = sorted(counts.items(), key=lambda item: (-item[1], not examples[slug, item[0]][0], item[0]))
        report.ranked[slug] = [Misconception(slug, what, examples[slug, what][0], count, report.graded[slug],
                                             *examples[slug, what][1:]) for what, count in ranked]
    return report


def find_misconceptions(autograded: Path, assignments: Iterable[str]) -> Misconceptions:
    """Read the results of ``assignments`` under ``autograded`` and count their misconceptions."""
    assignments = tuple(assignments)
    results, skipped = read_results(Path(autograded), assignments)
    report = tally(results, assignments)
    report.skipped, report.source = skipped, Path(autograded)
    return report


# ----------------------------------------------------------------------------
# Showing
# ----------------------------------------------------------------------------

def summary(report: Misconceptions, slug: str) -> str:
    """"28 graded submissions, 3 passed every check; notebook unreadable: 1"."""
    text = f"{report.graded[slug]} graded submissions, {report.passed[slug]} passed every check"
    others = report.not_graded.get(slug, Counter())
    return text + "".join(f"; {status}: {count}" for status, count in sorted(others.items()))


def nothing_read(report: Misconceptions) -> str:
    return (f"no {'readable ' if report.skipped else ''}result of {', '.join(report.assignments)} under "
            f"{_printable(str(report.source))} "
            "(`python -m autograder grade` writes them)")


def _shortened(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


def table(report: Misconceptions, top: int = 3, width: int = 100) -> str:
    """The console's summary: the ``top`` misconceptions of each assignment."""
    if not report.results:
        lines = [f"What to reteach: {nothing_read(report)}."]
    else:
        lines = [f"What to reteach (students who hit each hint; top {top} per assignment):"]
    for slug in report.assignments if report.results else ():
        lines.append(f"{slug}: {summary(report, slug)}")
        for item in report.ranked.get(slug, [])[:top]:
            what = item.what if item.named else f"[{NO_NAMED_HINT}] {item.what}"
            lines.append(_shortened(f"  {item.students:>3}  {100 * item.share:3.0f}%  {what}", width))
        if not report.ranked.get(slug):
            lines.append("  nothing failed" if report.graded[slug] else "  no graded submission")
    if report.skipped:
        lines.append(f"Result files skipped ({len(report.skipped)}, all listed in misconceptions.html):")
        lines += [f"  {note}" for note in report.skipped[:SKIPPED_SHOWN]]
        if len(report.skipped) > SKIPPED_SHOWN:
            lines.append(f"  ... and {len(report.skipped) - SKIPPED_SHOWN} more")
    return "\n".join(lines)


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #1b1f24; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; vertical-align: top; padding: .4rem; }
tr { border-top: 1px solid #d0d7de; } td.n { text-align: right; white-space: nowrap; }
.tag { font-size: .8rem; background: #eaeef2; border-radius: 3px; padding: 0 .3rem; }
pre { background: #f6f8fa; padding: .5rem; white-space: pre-wrap; font-size: .8rem; }
"""


def page(report: Misconceptions) -> str:
    """The report as an HTML page; everything taken from a result is escaped."""
    e = html.escape
    body = ["<h1>What to reteach</h1>",
            ("<p>For each assignment, the hints the checks gave, counted once per student whichever "
             "checks printed them, most students first; a failed check whose message names no hint "
             "counts with its first line (numbers as #). Each has one anonymised example: the values "
             "the check compared are withheld as on the feedback pages, the student's id is [student], "
             "and the learner's traceback is left out.</p>")]
    if not report.results:
        body.append(f"<p>Nothing to count: {e(nothing_read(report))}.</p>")
    for slug in report.assignments if report.results else ():
        body += [f"<h2>{e(slug)}</h2>", f"<p>{e(summary(report, slug))}.</p>"]
        if not report.ranked.get(slug):
            continue
        body.append("<table><tr><th>#</th><th>students</th><th>share</th><th>what</th><th>example</th></tr>")
        for rank, item in enumerate(report.ranked[slug], 1):
            tag = "" if item.named else f'<span class="tag">{NO_NAMED_HINT}</span> '
            body.append(f'<tr><td class="n">{rank}</td><td class="n">{item.students}</td>'
                        f'<td class="n">{100 * item.share:.0f}%</td><td>{tag}{e(item.what)}</td>'
                        f"<td><details><summary>{e(item.example_check)}</summary>"
                        f"<pre>{e(item.example_message)}</pre></details></td></tr>")
        body.append("</table>")
    if report.skipped:
        body += ["<h2>Result files skipped</h2><ul>", *(f"<li>{e(note)}</li>" for note in report.skipped), "</ul>"]
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>What to reteach</title><style>{STYLE}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")
