#!/usr/bin/env python3
"""Time the course's grader, with and without its sandbox, against plain ``nbgrader autograde``.

    .venv/bin/python benchmarks/bench_grade.py [--mutants 10] [--workers N] [--repeats 2]
    .venv/bin/python benchmarks/bench_grade.py --cluster [--copies 2]
    .venv/bin/python benchmarks/bench_grade.py --regrade

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

With ``--regrade``, the class is graded once (isolated), then ``grade`` runs again on the
unchanged class (every submission recognised as unchanged: autograder.engine.unchanged;
goal: under 5 % of the first run's time), then once more after one student hands in a
new notebook late (only it is graded). It prints the three times, the ratios, and checks
that the gradebook holds the same scores after each run.
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


def regrade_main(args) -> int:
    """The --regrade benchmark: a first grade, a second one of the unchanged class, one resubmission."""
    with tempfile.TemporaryDirectory() as scratch:
        course = Path(scratch) / "course"
        course.mkdir()
        count = make_class(course, args.mutants)
        print(f"class: {count} notebooks over {len(SLUGS)} assignments; {os.cpu_count()} cores; isolated")
        first, _ = grade_class(course, args.workers, True)
        before = cell_scores_plain(course)
        again, unchanged = grade_class(course, args.workers, True)
        reused = sum(r.reused for r in unchanged)
        late = find_jobs(course, ["rnn"], ["untouched"])[0].folder
        shutil.copy(find_jobs(course, ["rnn"], ["reference"])[0].notebook, late)
        (late / "timestamp.txt").write_text("2026-10-06 09:00:00\n", encoding="utf-8")
        once_more, after = grade_class(course, args.workers, True)
        graded = [f"{r.slug}/{r.student}" for r in after if not r.reused]
        # The resubmission is the reference's notebook: it now scores as the reference does.
        same = cell_scores_plain(course) == {**before, ("rnn", "untouched"): before["rnn", "reference"]}
    print(f"first grade:                 {first:7.2f} s  ({1000 * first / count:.0f} ms per notebook)")
    print(f"second grade, unchanged:     {again:7.2f} s  ({100 * again / first:.1f} % of the first; goal: under 5 %); "
          f"{reused} of {count} not graded again")
    print(f"after one late resubmission: {once_more:7.2f} s  ({100 * once_more / first:.1f} % of the first); "
          f"graded again: {', '.join(graded)}")
    print(f"gradebook after each run: {'as expected' if same else 'DIFFERENT from expected'}")
    return 0 if same and reused == count and graded == ["rnn/untouched"] else 1


def similarity_main(count: int) -> int:
    """The --similarity benchmark: ``python -m autograder similarity rnn`` on a class of ``count``.

    The class cycles through the independent solutions and planted copies of
    tests/fixtures/similarity, the honest styles (tests/honest.py), the mutants (tests/mutants/),
    the reference and the untouched release; each round renames the variables of every answer
    (``name`` becomes ``name_<round>``), so no two notebooks are the same text. The command runs
    in its own process: wall-clock seconds and its peak resident memory (getrusage of children).
    """
    import ast
    import csv
    import json
    import resource
    import subprocess
    import tracemalloc

    from autograder.commands.similarity import screen, write_report
    from autograder.course.submissions import fill, reference_answers
    from autograder.paths import release_notebook, source_notebook
    from conftest import write_submission
    from honest import STYLES, honest_answers
    from mutants import catalogue
    from test_similarity import COPIES, INDEPENDENT, cells_of, scratch_course

    class Rename(ast.NodeTransformer):
        def __init__(self, assigned: set[str], suffix: str):
            self.assigned, self.suffix = assigned, suffix

        def visit_Name(self, node):
            if node.id in self.assigned:
                node.id += self.suffix
            return node

    def renamed(source: str, suffix: str) -> str:
        tree = ast.parse(source)
        assigned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        return ast.unparse(Rename(assigned, suffix).visit(tree))

    release = json.loads(release_notebook("rnn").read_text(encoding="utf-8"))
    reference = reference_answers(json.loads(source_notebook("rnn").read_text(encoding="utf-8")))
    kinds = [cells_of(path)[0] for path in (INDEPENDENT | COPIES).values()]
    kinds += [honest_answers(reference, style) for style in STYLES]
    kinds += [mutant.apply(reference) for mutant in catalogue("rnn")] + [reference, {}]
    with tempfile.TemporaryDirectory() as scratch:
        course = scratch_course(Path(scratch))
        for number in range(count):
            answers = kinds[number % len(kinds)]
            suffix = f"_{number // len(kinds)}"
            write_submission(course, f"student-{number:03d}", "rnn",
                             fill(release, {cell: renamed(code, suffix) for cell, code in answers.items()}))
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course), "similarity", "rnn"],
                                cwd=ROOT, capture_output=True, text=True)
        command = time.perf_counter() - start
        peak_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if result.returncode != 0:
            print(result.stdout + result.stderr)
            return 1
        with open(course / "reports" / "similarity" / "rnn" / "pairs.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        start = time.perf_counter()  # what every command pays first: the command line's imports
        subprocess.run([sys.executable, "-m", "autograder", "--help"], cwd=ROOT, capture_output=True, check=True)
        startup = time.perf_counter() - start
        start = time.perf_counter()  # the same work in this process, without the command line's imports
        write_report(screen(course, "rnn"), Path(scratch) / "again")
        inside = time.perf_counter() - start
        tracemalloc.start()
        write_report(screen(course, "rnn"), Path(scratch) / "traced")
        heap = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    pairs = count * (count - 1) // 2
    print(f"class: {count} submissions of rnn ({len(kinds)} kinds of answer, renamed each round); {pairs:,} pairs")
    print(f"python -m autograder similarity rnn: {command:.2f} s wall, peak resident memory {peak_rss:.0f} MB "
          f"(its own process; `python -m autograder --help` alone takes {startup:.2f} s)")
    print(f"reading, comparing and writing the report: {inside:.2f} s ({1000 * inside / count:.1f} ms per "
          f"submission); Python heap at its peak {heap:.1f} MB (tracemalloc)")
    print(f"pairs that share code (looked at through the inverted index): {len(rows):,} of {pairs:,}; "
          f"flagged: {sum(row['flagged'] == 'yes' for row in rows):,}")
    return 0


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
    parser.add_argument("--regrade", action="store_true",
                        help="benchmark a second grade of the unchanged class, and one late resubmission, instead")
    parser.add_argument("--similarity", type=int, nargs="?", const=200, default=None, metavar="N",
                        help="benchmark `python -m autograder similarity` on N submissions of rnn instead "
                             "(default N: 200)")
    args = parser.parse_args()
    if args.cluster:
        return cluster_main(args)
    if args.regrade:
        return regrade_main(args)
    if args.similarity:
        return similarity_main(args.similarity)
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
