#!/usr/bin/env python3
"""Print how long the course's slow steps take on this machine.

    .venv/bin/python benchmarks/bench.py

Figures (seconds, wall clock):
- cold book build: an empty output folder and execution cache;
- warm rebuild: the same build again, nothing changed.

Grading is measured by benchmarks/bench_grade.py.

Timings on a shared machine are noisy; compare figures from one run with each other.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.book import build  # noqa: E402


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def build_book(output: Path) -> None:
    result = build(Path(sys.executable).parent, output, capture_output=True)
    if result.returncode != 0:
        raise SystemExit(f"the book build failed:\n{result.stderr.decode()[-3000:]}")


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "site"
        cold = timed(lambda: build_book(output))
        print(f"cold book build:                 {cold:6.1f} s")
        warm = timed(lambda: build_book(output))
        print(f"warm rebuild (nothing changed):  {warm:6.1f} s  ({cold / warm:.1f}x faster than cold)")


if __name__ == "__main__":
    main()
