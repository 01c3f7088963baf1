#!/usr/bin/env python3
"""Print how long the course's slow steps take on this machine.

    .venv/bin/python benchmarks/bench.py

Figures (seconds, wall clock):
- cold book build: an empty output folder and execution cache;
- warm rebuild: the same build again, nothing changed;
- autograde one submission: `nbgrader autograde` of one reference submission of
  each assignment, including nbgrader's start-up, the kernel start-up and the checks.

Timings on a shared machine are noisy; compare figures from one run with each other.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.book import build  # noqa: E402
from autograder.grade import autograde, read_scores  # noqa: E402
from autograder.paths import SLUGS, source_notebook  # noqa: E402
from autograder.release import generate  # noqa: E402
from autograder.submissions import fill, reference_answers  # noqa: E402


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def build_book(output: Path) -> None:
    result = build(Path(sys.executable).parent, output, capture_output=True)
    if result.returncode != 0:
        raise SystemExit(f"the book build failed:\n{result.stderr.decode()[-3000:]}")


def grade_one(slug: str, course: Path) -> None:
    released = json.loads(generate(slug, course).read_text())
    answers = reference_answers(json.loads(source_notebook(slug).read_text()))
    target = course / "submitted" / "student" / slug / f"{slug}.ipynb"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(fill(released, answers)))
    seconds = timed(lambda: autograde(course, slug))
    score = read_scores(course, slug)["student"]
    print(f"autograde one submission, {slug:14s}{seconds:6.1f} s  (score {score.score:g}/{score.max_score:g})")


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "site"
        cold = timed(lambda: build_book(output))
        print(f"cold book build:                 {cold:6.1f} s")
        warm = timed(lambda: build_book(output))
        print(f"warm rebuild (nothing changed):  {warm:6.1f} s  ({cold / warm:.1f}x faster than cold)")
    for slug in SLUGS:
        with tempfile.TemporaryDirectory() as scratch:
            grade_one(slug, Path(scratch))


if __name__ == "__main__":
    main()
