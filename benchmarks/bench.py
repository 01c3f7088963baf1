#!/usr/bin/env python3
"""Print how long building the website takes on this machine.

    .venv/bin/python benchmarks/bench.py

It builds a scratch copy of the book (the repository is left alone), with the
execution cache, three times, and prints wall-clock seconds and how many
chapters were executed (rather than taken from the cache) each time:

- cold build: an empty output folder and execution cache;
- warm rebuild: the same build again, nothing changed;
- after editing one chapter: a comment added to a code cell of book/gru.md,
  so that chapter, and only it, must run again.

Grading is measured by benchmarks/bench_grade.py. Timings on a shared machine
are noisy; compare figures from one run with each other.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.book import build  # noqa: E402

EDITED = "book/gru.md"
#: What the scratch copy needs: the book's configuration, its pages, what they load (the
#: reference solutions, the helper package, the recorded PyTorch outputs), and what the build
#: needs to make the helper package's wheel (pyproject.toml and the README it names).
COPIED = ("_config.yml", "_toc.yml", "pyproject.toml", "README.md", "book", "exercises", "solutions", "autograder", "tools", "src", "tests/fixtures")


def copy_book(target: Path) -> None:
    for name in COPIED:
        source = ROOT / name
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)


def timed_build(book: Path) -> tuple[float, int]:
    """Seconds, and the number of notebooks executed (not taken from the cache)."""
    start = time.perf_counter()
    # The output goes beside the copy, not inside it, where Sphinx would read the cache's notebooks.
    result = build(Path(sys.executable).parent, book.parent / "out", root=book, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"the book build failed:\n{(result.stdout + result.stderr)[-3000:]}")
    executed = sum("Executing notebook" in line for line in result.stdout.splitlines())
    return seconds, executed


def edit_one_chapter(book: Path) -> None:
    """Add a comment to the first code cell of one chapter: its code changed, so it runs again.

    The comment goes after the cell's options (``:tags: ...`` lines and the blank line after them).
    """
    page = book / EDITED
    lines = page.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("```{code-cell}")) + 1
    while lines[at].startswith(":"):
        at += 1
    if at > 0 and lines[at - 1].startswith(":") and not lines[at].strip():
        at += 1
    lines.insert(at, "# (edited by the benchmark)\n")
    page.write_text("".join(lines), encoding="utf-8")


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        book = Path(scratch) / "course"
        copy_book(book)
        cold, ran_cold = timed_build(book)
        print(f"cold book build:                 {cold:6.1f} s  ({ran_cold} chapters executed)")
        warm, ran_warm = timed_build(book)
        print(f"warm rebuild (nothing changed):  {warm:6.1f} s  ({ran_warm} executed; {cold / warm:.1f}x faster than cold)")
        edit_one_chapter(book)
        edited, ran_edited = timed_build(book)
        print(f"rebuild after editing {EDITED}: {edited:6.1f} s  ({ran_edited} executed; {cold / edited:.1f}x faster than cold)")


if __name__ == "__main__":
    main()
