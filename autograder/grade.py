"""``python -m autograder grade``: autograde a class, in parallel, into nbgrader's gradebook.

Usage (from the repository root, the course directory)::

    python -m autograder grade              # every assignment with submissions
    python -m autograder grade rnn bptt     # some assignments
    python -m autograder grade rnn --students alice bob --workers 4

Submissions are in nbgrader's layout, ``submitted/<student>/<slug>/<slug>.ipynb``
(``python -m autograder collect`` puts them there). Each notebook is graded by
autograder.runner in a pool of worker processes (one per core by default),
with a progress bar and an estimated time left. For each submission:

- the scores go to nbgrader's gradebook (SQLite under autograder/ by default,
  any SQLAlchemy URL with ``--db``), written by this process alone;
- the full result (each check's message, the notes on what the submission did)
  goes to ``autograded/<student>/<slug>/result.json``, which ``feedback`` reads.

Rerunning grades again and overwrites: the gradebook ends in the same state.
A submission the grader itself failed on (its sandbox could not start, its
grading process kept dying) is reported and left as it was: nothing is
recorded for it, so a grade from an earlier run stays.

Submissions run inside the operating-system boundary of autograder.isolation.
Where it cannot start, ``grade`` refuses and says how to fix the machine;
``--no-isolation`` grades anyway, with a loud warning and a note on every
result and feedback page.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import isolation
from .gradebook import is_registered, open_gradebook, protect, record, register
from .paths import DB_HELP, ROOT, SLUGS, gradebook_url
from .plan import GradingPlan, load_plan
from .results import GRADED, GRADER_ERROR, MISSING, SubmissionResult
from .runner import Limits, grade_notebook, not_run


@dataclass(frozen=True)
class Job:
    """One student's submission folder for one assignment."""

    slug: str
    student: str
    folder: Path

    @property
    def notebook(self) -> Path:
        return self.folder / f"{self.slug}.ipynb"


def find_jobs(course_root: Path, slugs, students=None) -> list[Job]:
    """Every ``submitted/<student>/<slug>/`` folder for the given slugs (and students)."""
    submitted = course_root / "submitted"
    jobs = []
    for student_folder in sorted(p for p in submitted.glob("*") if p.is_dir()):
        if students and student_folder.name not in students:
            continue
        for slug in slugs:
            if (student_folder / slug).is_dir():
                jobs.append(Job(slug, student_folder.name, student_folder / slug))
    return jobs


def result_path(course_root: Path, slug: str, student: str) -> Path:
    return course_root / "autograded" / student / slug / "result.json"


@lru_cache(maxsize=None)
def cached_plan(slug: str, course_root: Path) -> GradingPlan:
    return load_plan(slug, course_root)


def grade_job(job: Job, limits: Limits, course_root: Path) -> SubmissionResult:
    """Grade one submission (runs in a worker process)."""
    plan = cached_plan(job.slug, course_root)
    if not job.notebook.is_file():
        found = ", ".join(sorted(p.name for p in job.folder.iterdir())) or "nothing"
        reason = f"no {job.notebook.name} in submitted/{job.student}/{job.slug}/ (found: {found})"
        return SubmissionResult(job.student, job.slug, MISSING, not_run(plan, reason), [reason])
    return grade_notebook(plan, job.notebook, job.student, limits, course_root)


def forbidden_paths(db_url: str) -> tuple[Path, ...]:
    """A SQLite gradebook outside the course must be out of the submissions' reach too."""
    prefix = "sqlite:///"
    return (Path(db_url[len(prefix):]).resolve(),) if db_url.startswith(prefix) else ()


def grade(jobs: list[Job], db_url: str, course_root: Path = ROOT, workers: int | None = None,
          limits: Limits = Limits(), progress: bool = True) -> list[SubmissionResult]:
    """Grade ``jobs`` in parallel; each result is recorded as soon as it arrives.

    Raises IsolationUnavailable (before grading anything) when ``limits``
    asks for isolation and this machine cannot provide it.
    """
    from tqdm import tqdm

    if limits.isolation:
        isolation.check()
    for slug in sorted({job.slug for job in jobs}):
        if not is_registered(db_url, cached_plan(slug, course_root)):
            register(course_root, slug, db_url)
    protect(db_url)
    results: list[SubmissionResult] = []
    with open_gradebook(db_url) as gradebook, \
            tqdm(total=len(jobs), unit="notebook", disable=not progress, file=sys.stderr) as bar:
        def done(job: Job, result: SubmissionResult) -> None:
            if result.status != GRADER_ERROR:  # never overwrite a grade because the grader failed
                record(gradebook, result)
                result.save(result_path(course_root, job.slug, job.student))
            results.append(result)
            bar.set_postfix_str(f"{job.student} {job.slug} {result.score:g}/{result.max_score:g}", refresh=False)
            bar.update()

        run_pool(jobs, workers or os.cpu_count() or 1, limits, course_root, done)
    return sorted(results, key=lambda r: (SLUGS.index(r.slug) if r.slug in SLUGS else 99, r.student))


#: How often a job is retried when a grading process itself dies (not the
#: sandbox: the grader's own worker, e.g. killed by the system).
ATTEMPTS = 3


def run_pool(jobs: list[Job], workers: int, limits: Limits, course_root: Path, done) -> None:
    """Grade ``jobs`` in a process pool, calling ``done(job, result)`` in this process.

    If a grading process dies, the pool breaks: the jobs not finished are
    graded again in a fresh pool, and one that was in flight ATTEMPTS times gets
    a grader-error result with the reason instead of stopping the class; so
    does a job on which the grader raised.
    """
    # "spawn": fresh interpreters, never a fork of this process with its database
    # connection and the progress bar's thread.
    context = multiprocessing.get_context("spawn")
    attempts = dict.fromkeys(jobs, 0)
    pending = list(jobs)
    while pending:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(grade_job, job, limits, course_root): job for job in pending}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    result = future.result()
                except BrokenProcessPool:
                    attempts[job] += 1
                    if attempts[job] < ATTEMPTS:
                        continue
                    result = grader_error(job, course_root, f"the grading process died {ATTEMPTS} times on "
                                                            "this submission; grade it by hand")
                except Exception as error:  # noqa: BLE001 - a fault of the grader's: the class goes on
                    result = grader_error(job, course_root, f"the grader failed on this submission "
                                                            f"({type(error).__name__}: {error})")
                pending.remove(job)
                done(job, result)


def grader_error(job: Job, course_root: Path, reason: str) -> SubmissionResult:
    """The result of a submission the grader itself failed on (not recorded: see ``grade``)."""
    plan = cached_plan(job.slug, course_root)
    return SubmissionResult(job.student, job.slug, GRADER_ERROR, not_run(plan, reason), [reason])


def summary_line(result: SubmissionResult) -> str:
    failed = ", ".join(result.failed_cells) or "-"
    line = f"{result.slug:14s} {result.student:24s} {result.score:5g} / {result.max_score:<4g} failed: {failed}"
    if result.status != GRADED:
        line += f"\n{'':40s}{result.status}: {result.notes[0]}"
    return line


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("slugs", nargs="*", metavar="SLUG",
                        help=f"assignments to grade (default: all of {', '.join(SLUGS)} that have submissions)")
    parser.add_argument("--students", nargs="+", metavar="ID", help="grade only these students")
    parser.add_argument("--workers", type=int, default=None,
                        help=f"parallel grading processes (default: the number of cores, here {os.cpu_count()})")
    parser.add_argument("--db", default=None, metavar="URL",
                        help=DB_HELP)
    parser.add_argument("--timeout", type=float, default=Limits.cell_timeout, metavar="SECONDS",
                        help="the most one cell of a submission may run (default: %(default)s)")
    parser.add_argument("--memory", type=int, default=Limits.memory_mb, metavar="MB",
                        help="memory limit of a submission's process (default: %(default)s MB)")
    parser.add_argument("--no-isolation", action="store_true",
                        help="grade even where the operating-system sandbox (bubblewrap) cannot start: "
                             "submissions then run with your user's rights, guarded only by an audit hook "
                             "and resource limits, and every result says so. Never for a real class")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    unknown = sorted(set(args.slugs) - set(SLUGS))
    if unknown:
        sys.exit(f"unknown assignment(s): {', '.join(unknown)}; known: {', '.join(SLUGS)}")
    db_url = args.db or gradebook_url(args.course)
    jobs = find_jobs(args.course, args.slugs or SLUGS, args.students)
    if not jobs:
        print("no submissions found under submitted/<student>/<slug>/ (see `python -m autograder collect`)")
        return 1
    limits = Limits(cell_timeout=args.timeout, memory_mb=args.memory, forbidden=forbidden_paths(db_url),
                    isolation=not args.no_isolation)
    if args.no_isolation:
        warn_loudly("Grading WITHOUT operating-system isolation (--no-isolation): submissions run with your "
                    "user's rights, guarded only by an audit hook and resource limits. A hostile one can read "
                    "solutions/, change the gradebook and start processes. Every result and feedback page "
                    "records this.")
    try:
        results = grade(jobs, db_url, args.course, args.workers, limits, progress=not args.quiet)
    except isolation.IsolationUnavailable as error:
        warn_loudly(f"grade refuses to run submissions without their sandbox: {error}\n"
                    "To grade anyway, without the operating-system boundary, pass --no-isolation.")
        return 2
    for result in results:
        print(summary_line(result))
    failed = [r for r in results if r.status == GRADER_ERROR]
    if failed:
        print(f"\n{len(failed)} submission(s) could not be graded (see above) and were left as they were: "
              "fix the cause and run grade again.")
        return 1
    return 0


def warn_loudly(text: str) -> None:
    line = "!" * 78
    print(f"{line}\n{text}\n{line}", file=sys.stderr)
