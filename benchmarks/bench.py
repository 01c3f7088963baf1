#!/usr/bin/env python3
"""Print how long building the website takes on this machine.

    .venv/bin/python benchmarks/bench.py [--jobs N] [--no-serial] [--tests [PYTEST ARGS]] [--no-build]

It builds a scratch copy of the book (the repository is left alone), with the
execution cache, and prints wall-clock seconds and how many notebooks were
executed (rather than taken from the cache) each time:

- cold build, one chapter at a time (``--jobs 1``, as Sphinx alone executes
  them; skipped with --no-serial): an empty output folder and execution cache;
- cold build, N chapters at a time (default: one per core), into another empty
  output folder: tools/book.py executes the chapters in parallel before Sphinx;
- warm rebuild: the same build again, nothing changed;
- after editing one chapter: a comment added to a code cell of book/gru.md,
  so that chapter, and only it, must run again.

Then the seconds each notebook took to execute, alone and N at a time (cores
shared: slower each, sooner all), and the parallel speed-up of the cold build.
A notebook that Sphinx executed itself is counted apart: there should be none,
or tools/book.py cached it otherwise than MyST-NB looks it up.

With ``--tests``, the README's test command (``python3 dev.py test``, in this checkout, with
any further pytest arguments given after it, e.g. ``--tests -m "not slow"``) is run too, and
its wall-clock time, its counts and its ten slowest tests (pytest's ``--durations``) are
printed; ``--no-build`` skips the builds.

Grading is measured by benchmarks/bench_grade.py. Timings on a shared machine
are noisy; compare figures from one run with each other.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from math import nan
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.book import build, default_jobs  # noqa: E402

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


#: The lines of tools/book.py's parallel step, and of MyST-NB inside Sphinx, saying a notebook ran.
EXECUTED = re.compile(r"\[book\] executed (\S+) in ([0-9.]+) s \(CPU ([0-9.na]+) s\)")
EXECUTING = re.compile(r"\[book\] executed \d+ notebooks .* in ([0-9.]+) s")
SPHINX_EXECUTED = "Executing notebook"


class Build(NamedTuple):
    seconds: float
    chapters: dict[str, float]  #: seconds of each notebook executed before Sphinx
    cpu: dict[str, float]  #: CPU seconds of each (its kernel and the processes it trained in)
    executing: float  #: seconds from the start of that step to the last notebook's end
    by_sphinx: int  #: notebooks Sphinx executed itself (one after another): 0 when the cache was filled right


def timed_build(book: Path, output: str = "out", jobs: int | None = None) -> Build:
    start = time.perf_counter()
    # The output goes beside the copy, not inside it, where Sphinx would read the cache's notebooks.
    result = build(Path(sys.executable).parent, book.parent / output, root=book, jobs=jobs, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"the book build failed:\n{(result.stdout + result.stderr)[-3000:]}")
    executed = EXECUTED.findall(result.stdout)
    chapters, cpu = {name: float(took) for name, took, _ in executed}, {name: float(cpu) for name, _, cpu in executed}
    executing = sum(float(took) for took in EXECUTING.findall(result.stdout))
    return Build(seconds, chapters, cpu, executing, sum(SPHINX_EXECUTED in line for line in result.stdout.splitlines()))


def ran(run: Build) -> str:
    sphinx = f"; {run.by_sphinx} by Sphinx itself" if run.by_sphinx else ""
    which = ": " + ", ".join(f"{name} in {took:.0f} s" for name, took in run.chapters.items()) if 0 < len(run.chapters) < 3 else ""
    return f"{len(run.chapters)} notebooks executed{which}{sphinx}"


def edit_one_chapter(book: Path, page: str = EDITED) -> None:
    """Add a comment to the first code cell of one chapter: its code changed, so it runs again.

    The comment goes after the cell's options (``:tags: ...`` lines and the blank line after them).
    """
    page = book / page
    lines = page.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("```{code-cell}")) + 1
    while lines[at].startswith(":"):
        at += 1
    if at > 0 and lines[at - 1].startswith(":") and not lines[at].strip():
        at += 1
    lines.insert(at, "# (edited by the benchmark)\n")
    page.write_text("".join(lines), encoding="utf-8")


def time_tests(pytest_args: list[str]) -> None:
    """Run the README's test command and print its wall time, its outcome and its ten slowest tests."""
    command = [sys.executable, str(ROOT / "dev.py"), "test", "-p", "no:cacheprovider", "--durations=10", "-q",
               *pytest_args]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    lines = result.stdout.splitlines()
    outcome = next((line.strip("= ") for line in reversed(lines) if re.search(r"\d+ (passed|failed)", line)), "?")
    print(f"test command (python3 dev.py test {' '.join(pytest_args)}): {seconds:6.1f} s wall; {outcome}")
    start_at = next((i for i, line in enumerate(lines) if "slowest" in line and "durations" in line), None)
    if start_at is not None:
        print("ten slowest (seconds, phase, test):")
        for line in lines[start_at + 1:]:
            if not re.match(r"\d+(\.\d+)?s ", line):
                break
            print(f"  {line}")
    if result.returncode != 0:
        print(f"the test command exited with {result.returncode}:\n" + "\n".join(lines[-30:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="chapters executed at once (default: one per core)")
    parser.add_argument("--no-serial", action="store_true", help="skip the cold build that executes one chapter at a time")
    parser.add_argument("--tests", nargs=argparse.REMAINDER, default=None, metavar="PYTEST ARGS",
                        help="also time the README's test command, with these pytest arguments (must come last)")
    parser.add_argument("--no-build", action="store_true", help="skip the book builds (with --tests: time the tests only)")
    options = parser.parse_args()
    if not options.no_build:
        time_builds(options)
    if options.tests is not None:
        time_tests(options.tests)


def time_builds(options) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        book = Path(scratch) / "course"
        copy_book(book)
        serial = None if options.no_serial else timed_build(book, "out-serial", jobs=1)
        cold = timed_build(book, jobs=options.jobs)
        if serial:
            print(f"cold book build, one chapter at a time: {serial.seconds:6.1f} s  ({ran(serial)})")
        print(f"cold book build, {options.jobs} chapters at a time: {cold.seconds:6.1f} s  ({ran(cold)})")
        warm = timed_build(book, jobs=options.jobs)
        print(f"warm rebuild (nothing changed):        {warm.seconds:6.1f} s  ({ran(warm)}; {cold.seconds / warm.seconds:.1f}x faster than cold)")
        edit_one_chapter(book)
        edited = timed_build(book, jobs=options.jobs)
        print(f"rebuild after editing {EDITED}:       {edited.seconds:6.1f} s  ({ran(edited)}; {cold.seconds / edited.seconds:.1f}x faster than cold)")
        print()
        runs = [serial, cold] if serial else [cold]
        names = ["alone", f"{options.jobs} at a time"] if serial else [f"{options.jobs} at a time"]
        print(f"{'executing':<28}" + "".join(f"{name + ' (s)':>16}{'CPU (s)':>9}" for name in names))
        for name in sorted(cold.chapters, key=lambda name: -(serial or cold).chapters.get(name, 0)):
            print(f"{name:<28}" + "".join(f"{run.chapters.get(name, nan):16.1f}{run.cpu.get(name, nan):9.1f}" for run in runs))
        print(f"{'sum':<28}" + "".join(f"{sum(run.chapters.values()):16.1f}{sum(run.cpu.values()):9.1f}" for run in runs))
        print(f"{'all of them (wall)':<28}" + "".join(f"{run.executing:16.1f}{'':9}" for run in runs))
        cores = default_jobs()
        print(f"\nno build executes them in less than their CPU time over the {cores} cores: "
              f"{sum(cold.cpu.values()) / cores:.0f} s (the longest chapter alone: {max((serial or cold).chapters.values()):.0f} s)")
        if serial:
            print(f"parallel speed-up, {options.jobs} chapters at a time: {serial.seconds / cold.seconds:.2f}x for the cold "
                  f"build ({serial.seconds:.0f} s -> {cold.seconds:.0f} s), {serial.executing / cold.executing:.2f}x for "
                  f"executing the chapters ({serial.executing:.0f} s -> {cold.executing:.0f} s)")


if __name__ == "__main__":
    main()
