#!/usr/bin/env python3
"""Time the course's grader, with and without its sandbox, against plain ``nbgrader autograde``.

    .venv/bin/python benchmarks/bench_grade.py [--mutants 10] [--workers N] [--repeats 2]
    .venv/bin/python benchmarks/bench_grade.py --cluster [--copies 2]

The class: for every assignment, the reference solution, the untouched release,
the first ``--mutants`` entries of its mutant catalogue (tests/mutants/) and
every style of the honest catalogue (tests/honest.py): correct, partly correct
and broken notebooks, 100 with the defaults. Copies of one scratch course hold
the same submissions. In the same run:

- the course's grader (``autograder.commands.grade.grade`` over the whole class, with
  ``--workers`` processes, default: the number of cores), each submission in
  its bubblewrap sandbox, and again without isolation (``--no-isolation``),
  alternating, ``--repeats`` times each; the best time of each counts;
- the course's grader isolated but without a memory cgroup per sandbox
  (``grade --no-memory-group``), for the cost of the cgroup;
- plain nbgrader: ``nbgrader autograde <slug>`` for each assignment, one after
  the other (nbgrader grades one notebook at a time), once.

It prints wall-clock seconds and seconds per notebook for each, the cost of
isolation per notebook, the speed-up over plain nbgrader, and checks that every
check cell of every notebook got the same score from all three (exit status 1
otherwise). Timings on a shared machine are noisy: compare figures from one run
with each other.

With ``--cluster``, the same class (``--copies`` times over, 200 notebooks with
the defaults) is graded instead on a Dask cluster started here on 127.0.0.1
(tests/servers.py: a scheduler and single-threaded workers), with 1 and then 2
workers, and on the local process pool with 2 processes, all into SQLite. It
prints notebooks per second for each, the scale-out (2 workers against 1; the
goal is 1.7x or more), the cluster's overhead per notebook against the local
pool with as many processes (goal: 10 % or less), and checks that all three
gave identical scores.
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

from autograder.commands.grade import find_jobs, grade  # noqa: E402
from autograder.engine.gradebook import read_scores  # noqa: E402
from autograder.engine.nbgrader_cli import autograde  # noqa: E402
from autograder.paths import SLUGS, gradebook_url  # noqa: E402
from autograder.engine.runner import Limits  # noqa: E402
from conftest import prepare_class  # noqa: E402  (the test suite's synthetic class)
from servers import dask_cluster  # noqa: E402  (the test suite's servers on 127.0.0.1)


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


def grade_class(course: Path, workers: int, isolated: bool, cluster: str | None = None,
                memory_group: bool = True) -> tuple[float, list]:
    start = time.perf_counter()
    results = grade(find_jobs(course, SLUGS), gradebook_url(course), course, workers,
                    Limits(isolation=isolated, memory_group=memory_group), progress=False, cluster=cluster)
    return time.perf_counter() - start, results


def copy_class(course: Path, copies: int) -> int:
    """Every student's submissions ``copies`` times over (students ``<id>-copy-<k>``); returns the count."""
    originals = [p for p in (course / "submitted").iterdir() if p.is_dir()]
    for k in range(2, copies + 1):
        for folder in originals:
            shutil.copytree(folder, folder.with_name(f"{folder.name}-copy-{k}"))
    return len(find_jobs(course, SLUGS))


def cluster_main(args) -> int:
    """The --cluster benchmark: 1 and 2 Dask workers against the local pool, one run."""
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch) / "base"
        base.mkdir()
        make_class(base, args.mutants)
        count = copy_class(base, args.copies)
        print(f"class: {count} notebooks over {len(SLUGS)} assignments; {os.cpu_count()} cores; all isolated")
        timings, scores = {}, {}
        runs = [("local pool, 2 processes", None, 2), ("cluster, 1 worker", 1, None), ("cluster, 2 workers", 2, None)]
        for label, cluster_workers, pool in runs:
            course = Path(scratch) / label.replace(" ", "-").replace(",", "")
            shutil.copytree(base, course)
            if cluster_workers is None:
                seconds, results = grade_class(course, pool, True)
            else:
                with dask_cluster(workers=cluster_workers, hidden=(course,)) as running:
                    seconds, results = grade_class(course, 1, True, cluster=running.address)
            timings[label], scores[label] = seconds, cell_scores(results)
            print(f"{label:26s} {seconds:7.1f} s  {count / seconds:6.2f} notebooks/s  "
                  f"({1000 * seconds / count:.0f} ms per notebook)")
        # The client's own share, which does not scale with workers: recording each result.
        for store, seconds in recording_times(course, results):
            print(f"client, recording into {store:10s} {1000 * seconds / count:5.1f} ms per notebook "
                  f"({seconds:.1f} s for the class)")
    one, two, local = timings["cluster, 1 worker"], timings["cluster, 2 workers"], timings["local pool, 2 processes"]
    print(f"scale-out, 2 workers against 1: {one / two:.2f}x (goal: 1.7x or more)")
    print(f"cluster overhead per notebook against the local pool (2 against 2): {100 * (two / local - 1):+.1f} % "
          f"({1000 * (two - local) / count:+.0f} ms; goal: 10 % or less)")
    reference = scores["local pool, 2 processes"]
    differ = [label for label, got in scores.items() if got != reference]
    if differ:
        print(f"scores differ from the local pool's in: {', '.join(differ)}")
        return 1
    print(f"scores: identical on all {count} notebooks in all three runs")
    return 0


def recording_times(course: Path, results: list) -> list[tuple[str, float]]:
    """Seconds the client spends writing ``results`` into a fresh SQLite and PostgreSQL gradebook."""
    from autograder.engine.gradebook import open_gradebook, record, register
    from servers import missing_postgres, postgres

    def timed(db_url: str) -> float:
        for slug in sorted({r.slug for r in results}):
            register(course, slug, db_url)
        start = time.perf_counter()
        with open_gradebook(db_url) as gradebook:
            for result in results:
                record(gradebook, result)
        return time.perf_counter() - start

    times = [("SQLite", timed(f"sqlite:///{course / 'recording.db'}"))]
    if missing_postgres() is None:
        with postgres("recording") as url:
            times.append(("PostgreSQL", timed(url)))
    return times


def cell_scores(results) -> dict:
    return {(r.slug, r.student): {c.grade_id: c.points for c in r.cells} for r in results}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutants", type=int, default=10, help="mutants per assignment (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="grader processes (default: cores)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each grader configuration (default: %(default)s)")
    parser.add_argument("--cluster", action="store_true",
                        help="benchmark grading on a local Dask cluster (1 and 2 workers) instead")
    parser.add_argument("--copies", type=int, default=2,
                        help="with --cluster: copies of the class (default: %(default)s, 200 notebooks)")
    args = parser.parse_args()
    if args.cluster:
        return cluster_main(args)
    with tempfile.TemporaryDirectory() as scratch:
        plain_course = Path(scratch) / "plain"
        plain_course.mkdir()
        count = make_class(plain_course, args.mutants)
        print(f"class: {count} notebooks over {len(SLUGS)} assignments; {os.cpu_count()} cores")

        times: dict[bool, list[float]] = {True: [], False: []}
        scores: dict[bool, dict] = {}
        without_group: list[float] = []  # isolated, each sandbox without its memory cgroup
        for repeat in range(args.repeats):
            for isolated in (True, False):
                course = Path(scratch) / f"ours-{isolated}-{repeat}"
                shutil.copytree(plain_course, course)
                seconds, results = grade_class(course, args.workers, isolated)
                times[isolated].append(seconds)
                scores[isolated] = cell_scores(results)
            course = Path(scratch) / f"ours-no-group-{repeat}"
            shutil.copytree(plain_course, course)
            seconds, results = grade_class(course, args.workers, True, memory_group=False)
            without_group.append(seconds)
            if cell_scores(results) != scores[True]:
                print("scores differ without the memory cgroup")
                return 1

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
    ungrouped = min(without_group)
    print(f"course grader, bubblewrap without memory cgroups: {ungrouped:7.1f} s; cost of the cgroup: "
          f"{(isolated - ungrouped) / count * 1000:+.0f} ms per notebook")
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
