"""``python -m autograder similarity``: which submissions of an assignment share code, to look at side by side.

Usage::

    python -m autograder similarity rnn
    python -m autograder similarity rnn --out /tmp/similarity --threshold 0.5 --top 20

It reads every ``submitted/<student>/<slug>/<slug>.ipynb``, compares the learners' own code
(answer cells and cells they added) of every pair, on this machine, and writes into
``reports/similarity/<slug>/``:

* ``index.html``: the pairs that share code, most similar first, those flagged (similarity at
  least ``--threshold`` and at least ``--min-tokens`` shared tokens on each side) before the
  others; the first ``--top`` pairs side by side, the shared fragments highlighted in both; and
  every submission that was not compared, or only in part, with the reason;
* ``pairs.csv``: every pair that shares code, with its similarity and how much it shares.

Code given in the release and the instructor's solution is not counted (the algorithm, and why
it is our own, are in :mod:`autograder.course.similarity`). A flag is a reason to look at two
submissions side by side and talk with the students, never evidence by itself; the page says so.

Every submission is hostile input: a notebook larger than ``--max-notebook-mb``, not JSON, of the
wrong shape, or nested too deeply is not compared (and named, with the reason); a cell that does
not parse is left out of its submission's comparison; symbolic links in ``submitted/`` are not
followed; nothing from a submission is executed; everything shown in the page is escaped, and
every text cell of the CSV that a spreadsheet would run as a formula starts with a quote.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from autograder.course import similarity
from autograder.course.similarity import NotCompared, Pair, Submission
from autograder.engine.intake import MAX_NOTEBOOK_MB, Unreadable, parse_notebook
from autograder.engine.untrusted import LINK, NOT_REGULAR, NotRead, read_bounded
from autograder.paths import SLUGS, release_notebook, source_notebook
from autograder.shown import csv_text as _text, escape, terminal_text as _shown

#: Similarity at which a pair is flagged (with at least MIN_TOKENS shared on each side). Measured
#: on tests/fixtures/similarity (rnn): honest independent pairs reached 11 %, planted copies 46 %.
THRESHOLD = 0.4
#: Shared normalised tokens each side of a pair needs to be flagged: about three statements. Two
#: submissions that differ from the release by one identical line are 100 % alike and say nothing.
MIN_TOKENS = 24
#: Pairs shown side by side.
TOP = 50
#: Rows of the ranking in the page (the CSV has every pair).
TABLE_ROWS = 300
#: Lines of one cell shown in a side-by-side view.
MAX_LINES = 400
#: Colours of the fragments of a pair, cycled.
COLOURS = 6

EXPLANATION = """
<p class="caveat"><strong>What similarity can and cannot mean.</strong> This page flags, it does not
accuse. Code that the release gives and the instructor's solution holds is not counted, so two
students who wrote what the assignment leads to are not flagged for that. Short functions that have
one natural form are similar by nature, and students who followed the same chapter, worked through
the same example or were helped by the same tutor write alike. A high score is a reason to read the
two submissions side by side and to talk with the students, not evidence by itself; a low score
proves nothing either (code can be rewritten beyond what this comparison sees).</p>
"""

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 90rem; margin: 2rem auto; padding: 0 1rem; color: #1b1f24; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2.5rem; }
h3 { font-size: .95rem; margin: 1rem 0 .25rem; }
.caveat { background: #fff8e5; border-left: 4px solid #d4a72c; padding: .5rem .75rem; }
table { border-collapse: collapse; font-size: .9rem; }
td, th { padding: .2rem .6rem; border-bottom: 1px solid #d0d7de; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.flagged td { background: #fff1f0; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
pre { background: #f6f8fa; padding: .5rem; overflow-x: auto; border-radius: 4px; font-size: .8rem; line-height: 1.35; }
.ln { color: #8c959f; user-select: none; }
mark { display: inline-block; width: 100%; color: inherit; }
.f0 { background: #ffe2b3; } .f1 { background: #c8e6ff; } .f2 { background: #d5f5d0; }
.f3 { background: #f3d4ff; } .f4 { background: #ffd3d3; } .f5 { background: #d8f3f0; }
"""


@dataclass
class Screening:
    """What ``similarity`` found: the submissions compared, the pairs, what was left out."""

    slug: str
    compared: list[Submission]
    pairs: list[Pair]
    not_compared: list[NotCompared]
    threshold: float = THRESHOLD
    min_tokens: int = MIN_TOKENS
    max_common: int = 10

    def flagged(self, pair: Pair) -> bool:
        return pair.similarity >= self.threshold and min(pair.covered_a, pair.covered_b) >= self.min_tokens

    def ranked(self) -> list[Pair]:
        """Flagged pairs first, each group most similar first."""
        return sorted(self.pairs, key=lambda p: not self.flagged(p))  # sorted() is stable


class SimilarityError(Exception):
    """Nothing to compare: the assignment's notebooks or its submissions are missing."""


# -- reading -----------------------------------------------------------------------------------

def read_submission(folder: Path, slug: str, max_mb: float) -> dict:
    """``folder``'s notebook, read without following a symbolic link and within ``max_mb``;
    Unreadable with the reason otherwise."""
    name = f"{slug}.ipynb"
    try:
        data = read_bounded(folder / name, int(max_mb * 1024 * 1024))  # a larger file is refused by its size
    except FileNotFoundError:
        found = ", ".join(sorted(p.name for p in folder.iterdir())[:10]) or "nothing"
        raise Unreadable(f"no {name} in its folder (found: {found})") from None
    except NotRead as error:
        raise Unreadable({LINK: f"{name} is a symbolic link, not followed",
                          NOT_REGULAR: f"{name} is not a regular file"}.get(
            error.why, f"{name} cannot be opened ({error.detail})")) from None
    try:
        return parse_notebook(data, name, max_mb)
    except (RecursionError, MemoryError):
        raise Unreadable(f"{name} is nested too deeply to be read") from None


def submissions(course: Path, slug: str, max_mb: float) -> Iterator[tuple[str, dict | NotCompared]]:
    """Each student's submission of ``slug``: the notebook, or why it cannot be read. One at a time,
    so that a class of large notebooks is never in memory at once."""
    submitted = course / "submitted"
    if not submitted.is_dir():
        raise SimilarityError(f"no submitted/ folder in {course}: run `python -m autograder collect {slug} ...` first")
    for entry in sorted(os.scandir(submitted), key=lambda e: e.name):
        student, folder = entry.name, Path(entry.path) / slug
        if entry.is_symlink():
            yield student, NotCompared(student, "the notebook", f"submitted/{student} is a symbolic link, not followed")
        elif not entry.is_dir(follow_symlinks=False) or not os.path.lexists(folder):
            continue  # a stray file, or no submission of this assignment
        elif folder.is_symlink() or not folder.is_dir():
            yield student, NotCompared(student, "the notebook",
                                       f"submitted/{student}/{slug} is a symbolic link or not a folder, not followed")
        else:
            try:
                notebook: dict | NotCompared = read_submission(folder, slug, max_mb)
            except Unreadable as error:
                notebook = NotCompared(student, "the notebook", str(error))
            yield student, notebook


def course_notebook(path: Path) -> dict:
    if not path.is_file():
        raise SimilarityError(f"{path} is missing: the release and the solution are what every student shares "
                              "(run `python -m autograder release` for exercises/)")
    return json.loads(path.read_text(encoding="utf-8"))


def screen(course: Path, slug: str, max_mb: float = MAX_NOTEBOOK_MB, threshold: float = THRESHOLD,
           min_tokens: int = MIN_TOKENS, max_common: int | None = None) -> Screening:
    """Compare every submission of ``slug`` in ``course`` with every other."""
    release = course_notebook(release_notebook(slug, course))
    shared = similarity.template(similarity.notebook_cells(release)
                                 + similarity.notebook_cells(course_notebook(source_notebook(slug, course))))
    compared, not_compared = [], []
    for student, notebook in submissions(course, slug, max_mb):
        if isinstance(notebook, NotCompared):
            not_compared.append(notebook)
            continue
        submission, left_out = similarity.fingerprint(student, similarity.learner_cells(notebook, release), shared)
        not_compared += left_out
        if submission is not None:
            compared.append(submission)
    if max_common is None:
        max_common = similarity.default_max_common(len(compared))
    pairs = similarity.compare(compared, max_common)
    return Screening(slug, compared, pairs, sorted(not_compared, key=lambda n: n.student), threshold, min_tokens,
                     max_common)


# -- writing -----------------------------------------------------------------------------------

CSV_COLUMNS = ["rank", "student_a", "student_b", "similarity", "flagged", "matched_tokens_a", "matched_tokens_b",
               "own_tokens_a", "own_tokens_b", "longest_match", "fragments"]


def write_csv(screening: Screening, path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8", errors="backslashreplace") as f:
        out = csv.writer(f)
        out.writerow(CSV_COLUMNS)
        for rank, p in enumerate(screening.ranked(), 1):
            out.writerow([rank, _text(p.a), _text(p.b), f"{p.similarity:.3f}", "yes" if screening.flagged(p) else "no",
                          p.covered_a, p.covered_b, p.own_a, p.own_b, p.longest, len(p.fragments)])
    return path


def _marked_lines(submission: Submission, fragments, side: str) -> dict[tuple[int, int], int]:
    """(cell, line) -> the number of the first fragment (longest first) that covers it."""
    marks: dict[tuple[int, int], int] = {}
    for number, fragment in enumerate(fragments):
        start, end = (fragment.a, fragment.a_end) if side == "a" else (fragment.b, fragment.b_end)
        for cell, first, last in submission.spans[start:end]:
            for line in range(first, last + 1):
                marks.setdefault((cell, line), number)
    return marks


def code_view(submission: Submission, marks: dict[tuple[int, int], int]) -> str:
    """The submission's cells that share something, line-numbered, shared lines highlighted."""
    parts, quiet = [], []
    for index, cell in enumerate(submission.cells):
        if not any(c == index for c, _ in marks):
            quiet.append(cell.label)
            continue
        lines = cell.source.split("\n")
        rows = []
        for number, line in enumerate(lines[:MAX_LINES], 1):
            text = f'<span class="ln">{number:4d} </span>{escape(line)}'
            fragment = marks.get((index, number))
            rows.append(text if fragment is None else
                        f'<mark class="f{fragment % COLOURS}" title="shared fragment {fragment + 1}">{text}</mark>')
        if len(lines) > MAX_LINES:
            rows.append(f"… {len(lines) - MAX_LINES} more lines")
        parts.append(f"<h3>{escape(cell.label)}</h3><pre><code>" + "\n".join(rows) + "</code></pre>")
    if quiet:
        parts.append(f"<p>Nothing shared in: {escape(', '.join(quiet))}.</p>")
    return "\n".join(parts)


def pair_section(rank: int, pair: Pair, by_student: dict[str, Submission], flagged: bool) -> str:
    a, b = by_student[pair.a], by_student[pair.b]
    fragments = pair.fragments
    views = [code_view(a, _marked_lines(a, fragments, "a")), code_view(b, _marked_lines(b, fragments, "b"))]
    return (f'<section id="pair-{rank}"><h2>{rank}. {escape(pair.a)} and {escape(pair.b)}: '
            f'{pair.similarity:.0%}{" (flagged)" if flagged else ""}</h2>'
            f"<p>{len(fragments)} shared fragments, the longest {pair.longest} tokens; shared tokens "
            f"{pair.covered_a} of {pair.own_a} ({escape(pair.a)}) and {pair.covered_b} of {pair.own_b} "
            f"({escape(pair.b)}). Highlighted lines hold a shared fragment (one colour each).</p>"
            f'<div class="side"><div><h3>{escape(pair.a)}</h3>{views[0]}</div>'
            f'<div><h3>{escape(pair.b)}</h3>{views[1]}</div></div></section>')


def render(screening: Screening, top: int = TOP) -> str:
    ranked = screening.ranked()
    shown = ranked[:top]
    flagged = sum(map(screening.flagged, ranked))
    by_student = {s.student: s for s in screening.compared}
    title = f"Similarity of the submissions of {screening.slug}"
    body = [f"<h1>{escape(title)}</h1>", EXPLANATION,
            f"<p>{len(screening.compared)} submissions compared; {len(ranked)} pairs share some code; "
            f"{flagged} flagged (similarity at least {screening.threshold:.0%} and at least "
            f"{screening.min_tokens} shared tokens on each side). Code in more than {screening.max_common} "
            f"submissions is not counted either. Compared: runs of {similarity.K} normalised tokens (names "
            f"replaced by their role, comments and docstrings dropped), winnowed in windows of "
            f"{similarity.WINDOW}. The first {len(shown)} pairs are shown side by side below; "
            f"pairs.csv lists all.</p>"]
    if screening.not_compared:
        body.append("<h2>Not compared</h2><ul>")
        body += [f"<li>{escape(n.student)}: {escape(n.what)}: {escape(n.reason)}</li>" for n in screening.not_compared]
        body.append("</ul>")
    body.append("<h2>Pairs</h2><table><tr><th>#</th><th>student</th><th>student</th><th>similarity</th>"
                "<th>shared tokens</th><th>longest fragment</th><th></th></tr>")
    for rank, p in enumerate(ranked[:TABLE_ROWS], 1):
        mark = screening.flagged(p)
        link = f'<a href="#pair-{rank}">side by side</a>' if rank <= len(shown) else ""
        body.append(f'<tr class="{"flagged" if mark else ""}"><td class="n">{rank}</td><td>{escape(p.a)}</td>'
                    f'<td>{escape(p.b)}</td><td class="n">{p.similarity:.0%}</td>'
                    f'<td class="n">{p.covered_a} / {p.covered_b}</td><td class="n">{p.longest}</td>'
                    f"<td>{link}</td></tr>")
    body.append("</table>")
    if len(ranked) > TABLE_ROWS:
        body.append(f"<p>… and {len(ranked) - TABLE_ROWS} more pairs in pairs.csv.</p>")
    body += [pair_section(rank, p, by_student, screening.flagged(p)) for rank, p in enumerate(shown, 1)]
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def write_report(screening: Screening, out: Path, top: int = TOP) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    page = out / "index.html"
    page.write_text(render(screening, top), encoding="utf-8")
    return page, write_csv(screening, out / "pairs.csv")


# -- the command --------------------------------------------------------------------------------

def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("a share between 0 and 1, such as 0.4")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("slug", choices=SLUGS, help="the assignment whose submissions are compared")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="folder to write index.html and pairs.csv into (default: reports/similarity/SLUG/)")
    parser.add_argument("--threshold", type=_share, default=THRESHOLD, metavar="SHARE",
                        help="similarity (0..1) from which a pair is flagged (default: %(default)s)")
    parser.add_argument("--min-tokens", type=int, default=MIN_TOKENS, metavar="N",
                        help="shared normalised tokens each side of a pair needs to be flagged, about 8 per "
                             "statement (default: %(default)s)")
    parser.add_argument("--top", type=int, default=TOP, metavar="N",
                        help="pairs shown side by side, the highest ranked (default: %(default)s)")
    parser.add_argument("--max-common", type=int, default=None, metavar="N",
                        help="code found in more than N submissions is what many write and is not counted "
                             "(default: a tenth of the submissions, at least 10)")
    parser.add_argument("--max-notebook-mb", type=float, default=MAX_NOTEBOOK_MB, metavar="MB",
                        help="a larger notebook is not compared (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    """Exit status 1 when there is nothing to compare."""
    try:
        screening = screen(args.course, args.slug, args.max_notebook_mb, args.threshold, args.min_tokens,
                           args.max_common)
    except SimilarityError as error:
        print(f"similarity: {error}", file=sys.stderr)
        return 1
    out = args.out or args.course / "reports" / "similarity" / args.slug
    page, table = write_report(screening, out, args.top)
    flagged = [p for p in screening.pairs if screening.flagged(p)]
    print(f"compared {len(screening.compared)} submissions of {args.slug}: {len(screening.pairs)} pairs share "
          f"code, {len(flagged)} flagged (a reason to look, not evidence)")
    left = defaultdict(list)
    for n in screening.not_compared:
        left[n.student].append(f"{n.what}: {n.reason}")
    for student, reasons in left.items():
        print(_shown(f"  not compared: {student}: {'; '.join(reasons)}"))
    print(f"wrote {page}\nwrote {table}")
    return 0
