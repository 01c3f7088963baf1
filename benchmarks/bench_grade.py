#!/usr/bin/env python3
"""Time the course's grader, with and without its sandbox, against plain ``nbgrader autograde``.

    .venv/bin/python benchmarks/bench_grade.py [--mutants 10] [--workers N] [--repeats 2]

The class: for every assignment, the reference solution, the untouched release,
the first ``--mutants`` entries of its mutant catalogue (tests/mutants/) and
every style of the honest catalogue (tests/honest.py): correct, partly correct
and broken notebooks, 100 with the defaults. Copies of one scratch course hold
the same submissions. In the same run:

- the course's grader (``autograder.grade.grade`` over the whole class, with
  ``--workers`` processes, default: the number of cores), each submission in
  its bubblewrap sandbox, and again without isolation (``--no-isolation``),
  alternating, ``--repeats`` times each; the best time of each counts;
- plain nbgrader: ``nbgrader autograde <slug>`` for each assignment, one after
  the other (nbgrader grades one notebook at a time), once.

It prints wall-clock seconds and seconds per notebook for each, the cost of
isolation per notebook, the speed-up over plain nbgrader, and checks that every
check cell of every notebook got the same score from all three (exit status 1
otherwise). Timings on a shared machine are noisy: compare figures from one run
with each other.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from autograder.grade import find_jobs, grade  # noqa: E402
from autograder.gradebook import read_scores  # noqa: E402
from autograder.nbgrader_cli import autograde  # noqa: E402
from autograder.paths import SLUGS, gradebook_url  # noqa: E402
from autograder.runner import Limits  # noqa: E402
from conftest import prepare_class  # noqa: E402  (the test suite's synthetic class)


def make_class(course: Path, mutants: int) -> int:
    """Generate every assignment in ``course`` and submit its synthetic class; returns the count."""
    for slug in SLUGS:
        prepare_class(slug, course, mutants)
    return len(find_jobs(course, SLUGS))


def cell_scores_plain(course: Path) -> dict:
    scores = {}
    for slug in SLUGS:
        for student, result in read_scores(gradebook_url(course), slug).items():
            scores[slug, student] = {cell.cell: cell.score for cell in result.cells}
    return scores


def grade_class(course: Path, workers: int, isolated: bool) -> tuple[float, list]:
    start = time.perf_counter()
    results = grade(find_jobs(course, SLUGS), gradebook_url(course), course, workers, Limits(isolation=isolated),
                    progress=False)
    return time.perf_counter() - start, results


def cell_scores(results) -> dict:
    return {(r.slug, r.student): {c.grade_id: c.points for c in r.cells} for r in results}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutants", type=int, default=10, help="mutants per assignment (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="grader processes (default: cores)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each grader configuration (default: %(default)s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        plain_course = Path(scratch) / "plain"
        plain_course.mkdir()
        count = make_class(plain_course, args.mutants)
        print(f"class: {count} notebooks over {len(SLUGS)} assignments; {os.cpu_count()} cores")

        times: dict[bool, list[float]] = {True: [], False: []}
        scores: dict[bool, dict] = {}
        for repeat in range(args.repeats):
            for isolated in (True, False):
                course = Path(scratch) / f"ours-{isolated}-{repeat}"
                shutil.copytree(plain_course, course)
                seconds, results = grade_class(course, args.workers, isolated)
                times[isolated].append(seconds)
                scores[isolated] = cell_scores(results)

        start = time.perf_counter()
        for slug in SLUGS:
            autograde(plain_course, slug)
        plain = time.perf_counter() - start
        theirs = cell_scores_plain(plain_course)

    isolated, bare = min(times[True]), min(times[False])
    print(f"plain nbgrader autograde, serial:         {plain:7.1f} s  ({plain / count:.3f} s per notebook)")
    print(f"course grader, {args.workers} workers, no isolation: {bare:7.1f} s  ({bare / count:.3f} s per notebook)")
    print(f"course grader, {args.workers} workers, bubblewrap:   {isolated:7.1f} s  ({isolated / count:.3f} s per notebook)")
    print(f"  (all runs, isolated: {', '.join(f'{t:.1f}' for t in times[True])} s; "
          f"without: {', '.join(f'{t:.1f}' for t in times[False])} s)")
    print(f"cost of isolation: {100 * (isolated / bare - 1):+.1f} % per notebook "
          f"({(isolated - bare) / count * 1000:+.0f} ms)")
    print(f"speed-up over plain nbgrader: {plain / isolated:.2f}x with isolation, {plain / bare:.2f}x without")
    differ = sorted(key for key in theirs.keys() | scores[True].keys() | scores[False].keys()
                    if not theirs.get(key) == scores[True].get(key) == scores[False].get(key))
    if differ:
        print(f"scores differ on {len(differ)} notebooks:")
        for slug, student in differ:
            print(f"  {slug} {student}: nbgrader {theirs.get((slug, student))}, "
                  f"isolated {scores[True].get((slug, student))}, without {scores[False].get((slug, student))}")
        return 1
    cells = sum(len(s) for s in scores[True].values())
    print(f"scores: identical on all {count} notebooks ({cells} check cells), in all three")
    return 0


if __name__ == "__main__":
    sys.exit(main())
