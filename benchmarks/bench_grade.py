#!/usr/bin/env python3
"""Time the course's grader against plain ``nbgrader autograde`` on one synthetic class.

    .venv/bin/python benchmarks/bench_grade.py [--mutants 10] [--workers N]

The class: for every assignment, the reference solution, the untouched release
and the first ``--mutants`` entries of its mutant catalogue (tests/mutants/):
correct, partly correct and broken notebooks, 60 with the defaults. Two copies
of one scratch course hold the same submissions. In the same run:

- plain nbgrader: ``nbgrader autograde <slug>`` for each assignment, one after
  the other (nbgrader grades one notebook at a time);
- the course's grader: ``autograder.grade.grade`` over the whole class, with
  ``--workers`` processes (default: the number of cores).

It prints wall-clock seconds and seconds per notebook for both, the speed-up,
and checks that every check cell of every notebook got the same score from
both (exit status 1 otherwise). Timings on a shared machine are noisy: compare
figures from one run with each other.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutants", type=int, default=10, help="mutants per assignment (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="grader processes (default: cores)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        plain_course, our_course = Path(scratch) / "plain", Path(scratch) / "ours"
        plain_course.mkdir()
        count = make_class(plain_course, args.mutants)
        shutil.copytree(plain_course, our_course)
        print(f"class: {count} notebooks over {len(SLUGS)} assignments; {os.cpu_count()} cores")

        start = time.perf_counter()
        results = grade(find_jobs(our_course, SLUGS), gradebook_url(our_course), our_course, args.workers, progress=False)
        ours = time.perf_counter() - start

        start = time.perf_counter()
        for slug in SLUGS:
            autograde(plain_course, slug)
        plain = time.perf_counter() - start

        theirs = cell_scores_plain(plain_course)
        mine = {(r.slug, r.student): {c.grade_id: c.points for c in r.cells} for r in results}
        differ = sorted(key for key in theirs.keys() | mine.keys() if theirs.get(key) != mine.get(key))

    print(f"plain nbgrader autograde, serial: {plain:7.1f} s  ({plain / count:.2f} s per notebook)")
    print(f"course grader, {args.workers} workers:       {ours:7.1f} s  ({ours / count:.2f} s per notebook)")
    print(f"speed-up: {plain / ours:.2f}x")
    if differ:
        print(f"scores differ on {len(differ)} notebooks:")
        for slug, student in differ:
            print(f"  {slug} {student}: nbgrader {theirs.get((slug, student))}, course grader {mine.get((slug, student))}")
        return 1
    print(f"scores: identical on all {count} notebooks ({sum(len(s) for s in mine.values())} check cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
