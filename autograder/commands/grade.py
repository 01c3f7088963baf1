"""``python -m autograder grade``: autograde a class, in parallel, into nbgrader's gradebook.

Usage (from the repository root, the course directory)::

    python -m autograder grade              # every assignment with submissions
    python -m autograder grade rnn bptt     # some assignments
    python -m autograder grade rnn --students alice bob --workers 4

Submissions are in nbgrader's layout, ``submitted/<student>/<slug>/<slug>.ipynb``
(``python -m autograder collect`` puts them there). Each notebook is graded by
autograder.engine.runner in a pool of worker processes (one per core by default),
with a progress bar and an estimated time left. For each submission:

- the scores go to nbgrader's gradebook (SQLite under autograder/ by default,
  any SQLAlchemy URL with ``--db``), written by this process alone;
- the full result (each check's message, the notes on what the submission did)
  goes to ``autograded/<student>/<slug>/result.json``, which ``feedback`` reads.

Rerunning grades only what changed, as ``nbgrader autograde`` does: a submission whose
notebook, grading plan, grading software and limits are those of its saved result
is not graded again (autograder.engine.unchanged; ``--force`` grades everything), so
a late resubmission during a term costs the time of that one notebook. Either way
the gradebook ends in the same state.

Each submission's time (its ``timestamp.txt``) is recorded in the gradebook and judged
against the assignment's due date with nbgrader's late-submission plugin, as
``nbgrader autograde`` does (autograder.engine.lateness); ``--duedate`` sets the due date.
A submission the grader itself failed on (its sandbox could not start, its
grading process kept dying) is reported and left as it was: nothing is
recorded for it, so a grade from an earlier run stays.

With ``--cluster tcp://HOST:PORT`` the submissions are graded on a Dask
cluster's workers instead (autograder.engine.cluster): the same results, written by
this process alone.

Submissions run inside the operating-system boundary of autograder.sandbox.isolation.
Where it cannot start, ``grade`` refuses and says how to fix the machine;
``--no-isolation`` grades anyway, with a loud warning and a note on every
result and feedback page.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from autograder.sandbox import isolation
from autograder.engine.cluster import ClusterUnavailable, connect, run_on_cluster
from autograder.engine.gradebook import is_registered, open_gradebook, protect, record, register, sqlite_path
from autograder.engine.lateness import (Lateness, LatenessError, LatePolicy, configured_duedates, parse_duedates,
                                        read_timestamp, set_duedates)
from autograder.engine.unchanged import grading_key, reusable
from autograder.paths import DB_HELP, ROOT, SLUGS, database_url, gradebook_url
from autograder.course.plan import GradingPlan, load_plan
from autograder.engine.results import GRADED, GRADER_ERROR, MISSING, SubmissionResult
from autograder.engine.runner import Limits, grade_submission, not_run


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


@dataclass(frozen=True)
class Task:
    """Everything grading one submission needs, wherever it runs: no path into the course.

    ``notebook`` is the submitted file's bytes; ``limits.forbidden`` already holds
    the course directory and the gradebook (autograder.engine.runner.grade_submission).
    """

    plan: GradingPlan
    notebook: bytes
    student: str
    limits: Limits
    name: str
    key: str = ""  # autograder.engine.unchanged.grading_key of this very notebook

    def run(self) -> SubmissionResult:
        result = grade_submission(self.plan, self.notebook, self.student, self.limits, self.name)
        result.grading_key = self.key
        return result


def read_submission(job: Job, limits: Limits) -> bytes:
    """The job's notebook, read up to one byte past the size limit (a larger file is refused by
    its size, and is never read whole into this process)."""
    with open(job.notebook, "rb") as handle:
        return handle.read(int(limits.max_notebook_mb * 1024 * 1024) + 1)


def make_task(job: Job, limits: Limits, course_root: Path) -> Task:
    """The job's task, keyed by the bytes it will grade (read once, so the key cannot describe
    another version of the file)."""
    notebook, plan = read_submission(job, limits), cached_plan(job.slug, course_root)
    return Task(plan, notebook, job.student, limits, job.notebook.name, grading_key(plan, notebook, limits))


def saved_result(job: Job, limits: Limits, course_root: Path) -> SubmissionResult | None:
    """The job's saved result if it is still its grade: nothing it depends on has changed."""
    try:
        notebook = read_submission(job, limits)
    except OSError:
        return None
    return reusable(result_path(course_root, job.slug, job.student),
                    grading_key(cached_plan(job.slug, course_root), notebook, limits))


def missing_result(job: Job, course_root: Path) -> SubmissionResult:
    """The result of a submission folder without the assignment's notebook."""
    found = ", ".join(sorted(p.name for p in job.folder.iterdir())) or "nothing"
    reason = f"no {job.notebook.name} in submitted/{job.student}/{job.slug}/ (found: {found})"
    return SubmissionResult(job.student, job.slug, MISSING, not_run(cached_plan(job.slug, course_root), reason),
                            [reason])


def forbidden_paths(db_url: str) -> tuple[Path, ...]:
    """A SQLite gradebook outside the course must be out of the submissions' reach too."""
    path = sqlite_path(db_url)
    return (path.resolve(),) if path is not None else ()


def grade(jobs: list[Job], db_url: str, course_root: Path = ROOT, workers: int | None = None,
          limits: Limits = Limits(), progress: bool = True, cluster: str | None = None, force: bool = False,
          duedates: dict[str, str] | None = None) -> list[SubmissionResult]:
    """Grade ``jobs`` in parallel; each result is recorded as soon as it arrives.

    A job whose saved result was graded from the same notebook, plan, software and limits is
    not graded again (unless ``force``): its saved result is recorded again, marked ``reused``.
    Every recorded submission gets its submission time and late penalty (autograder.engine.lateness);
    ``duedates`` ({slug: "2026-10-05 23:59 UTC"}) are written into the gradebook first, over those of
    ``c.Autograder.duedates`` in nbgrader_config.py.

    On this machine's process pool (``workers`` processes), or, with ``cluster``
    (a Dask scheduler's address, ``tcp://host:port``), as tasks on that cluster's
    workers (autograder.engine.cluster). Either way each submission is graded by the
    same function (``Task.run``) and only this process writes the gradebook and
    the result files.

    Raises ClusterUnavailable (before touching the gradebook) when ``cluster``
    has no scheduler, no worker, or workers running other grading software, and
    IsolationUnavailable (before grading anything) when ``limits``
    asks for isolation and this machine cannot provide it (with ``cluster``,
    each worker checks its own machine and reports a grader error instead), and
    LatenessError (before touching the gradebook) for a due date or a late-submission
    plugin that cannot be used.
    """
    from tqdm import tqdm

    if limits.isolation and cluster is None:
        isolation.check()
    course_root = Path(course_root).resolve()
    cached_plan.cache_clear()  # a plan is read afresh by every run: solutions/ may have changed since the last
    policy = LatePolicy(course_root)
    duedates = parse_duedates({**configured_duedates(course_root), **(duedates or {})})
    # Connect before touching the gradebook: a cluster that is not there stops the run here.
    client = connect(cluster) if cluster is not None else None
    try:
        db_url = database_url(db_url)
        # The course and the gradebook stay out of every submission's reach, on any machine.
        limits = replace(limits, forbidden=(*limits.forbidden, course_root, *forbidden_paths(db_url)))
        for slug in sorted({job.slug for job in jobs}):
            if not is_registered(db_url, cached_plan(slug, course_root)):
                register(course_root, slug, db_url)
        protect(db_url)
        results: list[SubmissionResult] = []
        with open_gradebook(db_url) as gradebook, \
                tqdm(total=len(jobs), unit="notebook", disable=not progress, file=sys.stderr) as bar:
            if duedates:
                set_duedates(gradebook, duedates)

            def done(job: Job, result: SubmissionResult) -> None:
                if result.status != GRADER_ERROR:  # never overwrite a grade because the grader failed
                    stamp, note = read_timestamp(job.folder)
                    lateness = record(gradebook, result, stamp, policy, note).as_dict()
                    if not result.reused or result.lateness != lateness:
                        result.lateness = lateness
                        result.save(result_path(course_root, job.slug, job.student))
                results.append(result)
                what = "unchanged" if result.reused else f"{result.score:g}/{result.max_score:g}"
                bar.set_postfix_str(f"{job.student} {job.slug} {what}", refresh=False)
                bar.update()

            present = []
            for job in jobs:
                if not job.notebook.is_file():
                    done(job, missing_result(job, course_root))
                elif (saved := None if force else saved_result(job, limits, course_root)) is not None:
                    done(job, saved)
                else:
                    present.append(job)
            if client is None:
                run_pool(present, workers or os.cpu_count() or 1, limits, course_root, done)
            else:
                run_on_cluster(client, present, lambda job: make_task(job, limits, course_root), done,
                               lambda job, reason: grader_error(job, course_root, reason))
    finally:
        if client is not None:
            client.close()
    return sorted(results, key=lambda r: (SLUGS.index(r.slug) if r.slug in SLUGS else 99, r.student))


#: How often a job is tried when the process grading it dies (not the sandbox:
#: the grader's own worker process, e.g. killed by the system, or a cluster
#: worker lost). On a cluster, the scheduler counts: start it with
#: ``distributed.scheduler.allowed-failures`` set to ATTEMPTS - 1 (see README).
ATTEMPTS = 3


def run_pool(jobs: list[Job], workers: int, limits: Limits, course_root: Path, done, make=None) -> None:
    """Grade ``jobs`` in a process pool, calling ``done(job, result)`` in this process.
    ``make(job, limits, course_root)`` makes each job's Task (default: make_task).

    If a grading process dies, the pool breaks and every job in it fails at once,
    though one submission (at most) killed it. So a death is blamed on no one:
    the jobs that were in the broken pool become *suspects*, graded next one at
    a time, each alone in a pool of its own, where a death can only be its own.
    A suspect that dies alone ATTEMPTS times gets a grader-error result with the
    reason instead of stopping the class, and the innocent ones are simply
    graded (before this, one hostile submission cost three classmates their
    grades). A submission whose sandbox could not start (the machine short of
    memory, say) is tried again the same way before its grader error is final;
    so is a job on which the grader raised.
    At most a few jobs per process are queued at a time, so a large class is
    never read into memory at once.
    """
    attempts = dict.fromkeys(jobs, 0)
    pending = list(jobs)
    suspects: list[Job] = []
    while pending:
        alone = bool(suspects)
        batch = [suspects.pop(0)] if alone else list(pending)
        finished, broken = _run_batch(batch, 1 if alone else workers, limits, course_root, done, make or make_task)
        for job, failed in broken:
            if alone:  # it failed with no other submission in its process: its own doing
                attempts[job] += 1
                if attempts[job] >= ATTEMPTS:
                    done(job, failed or grader_error(job, course_root, f"the grading process died {ATTEMPTS} times "
                                                                        "on this submission alone; grade it by hand"))
                    finished.append(job)
                    continue
            if job not in suspects:
                suspects.append(job)
        pending = [job for job in pending if job not in finished]


def _run_batch(jobs: list[Job], workers: int, limits: Limits, course_root: Path, done, make) -> tuple[list, list]:
    """Grade ``jobs`` in one pool until they are done or the pool breaks.

    Returns the jobs finished (``done`` called for each), and, as (job, result), those to
    try again: the jobs in the pool when it broke (result None) and those the grader
    failed on (their grader-error result). The jobs not yet submitted are in neither.
    """
    # "spawn": fresh interpreters, never a fork of this process with its database
    # connection and the progress bar's thread.
    context = multiprocessing.get_context("spawn")
    finished: list[Job] = []
    broken: list[tuple[Job, SubmissionResult | None]] = []
    waiting = list(jobs)
    window = 4 * workers
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=limit_grading_process,
                             initargs=(limits.grader_memory_mb,)) as pool:
        futures = {}

        def submit_more() -> None:
            while waiting and len(futures) < window and not any(r is None for _, r in broken):
                job = waiting.pop(0)
                futures[pool.submit(make(job, limits, course_root).run)] = job

        submit_more()
        while futures:
            ended, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in ended:
                job = futures.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken.append((job, None))
                    continue
                except Exception as error:  # noqa: BLE001 - a fault of the grader's: the class goes on
                    result = grader_error(job, course_root, f"the grader failed on this submission "
                                                            f"({type(error).__name__}: {error})")
                if result.status == GRADER_ERROR:  # the machine's or the grader's fault: try it again, alone
                    broken.append((job, result))
                    continue
                finished.append(job)
                done(job, result)
            submit_more()
    return finished, broken


def limit_grading_process(memory_mb: int) -> None:
    """A grading process's own address-space limit: what a submission sends back is bounded
    (autograder.sandbox.wire), and this bounds the rest, so that no grading process can
    take the machine's memory from the others (``grade --grader-memory``)."""
    import resource

    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def grader_error(job: Job, course_root: Path, reason: str) -> SubmissionResult:
    """The result of a submission the grader itself failed on (not recorded: see ``grade``)."""
    plan = cached_plan(job.slug, course_root)
    return SubmissionResult(job.student, job.slug, GRADER_ERROR, not_run(plan, reason), [reason])


def summary_line(result: SubmissionResult) -> str:
    failed = ", ".join(result.failed_cells) or "-"
    line = f"{result.slug:14s} {result.student:24s} {result.score:5g} / {result.max_score:<4g} failed: {failed}"
    if result.reused:
        line += "  (unchanged: not graded again)"
    if result.status != GRADED:
        line += f"\n{'':40s}{result.status}: {result.notes[0]}"
    lateness = Lateness.from_dict(result.lateness)
    if lateness is not None and (lateness.late or lateness.note):
        line += f"\n{'':40s}{lateness.describe()}"
    return line


def run_summary(results: list[SubmissionResult]) -> str:
    """The last line of ``grade``: how many were graded, not graded again, late."""
    reused = sum(r.reused for r in results)
    late = sum(bool(r.lateness and r.lateness["seconds_late"] > 0) for r in results)
    text = f"{len(results)} submission(s): {len(results) - reused} graded"
    if reused:
        text += f", {reused} unchanged since their last grade and not graded again (--force grades them)"
    return text + (f"; {late} late" if late else "") + "."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("slugs", nargs="*", metavar="SLUG",
                        help=f"assignments to grade (default: all of {', '.join(SLUGS)} that have submissions)")
    parser.add_argument("--students", nargs="+", metavar="ID", help="grade only these students")
    parser.add_argument("--workers", type=int, default=None,
                        help=f"parallel grading processes (default: the number of cores, here {os.cpu_count()})")
    parser.add_argument("--db", default=None, metavar="URL",
                        help=DB_HELP)
    parser.add_argument("--cluster", default=None, metavar="ADDRESS",
                        help="grade on the Dask cluster whose scheduler is at ADDRESS (tcp://host:port) "
                             "instead of this machine's processes; workers need the course's software and "
                             "bubblewrap, not the course directory (see README)")
    parser.add_argument("--timeout", type=float, default=Limits.cell_timeout, metavar="SECONDS",
                        help="the most one cell of a submission may run (default: %(default)s)")
    parser.add_argument("--memory", type=int, default=Limits.memory_mb, metavar="MB",
                        help="memory limit of a submission's process (default: %(default)s MB)")
    parser.add_argument("--budget", type=float, default=Limits.submission_seconds, metavar="SECONDS",
                        help="the most all the cells of one submission may run together, the cells it added "
                             "included (default: %(default)s)")
    parser.add_argument("--max-notebook-mb", type=float, default=Limits.max_notebook_mb, metavar="MB",
                        help="a larger notebook is not graded, and recorded as unreadable with the reason "
                             "(default: %(default)s)")
    parser.add_argument("--grader-memory", type=int, default=Limits.grader_memory_mb, metavar="MB",
                        help="address-space limit of each of the grader's own grading processes, which run the "
                             "checks (default: %(default)s MB; 0: none)")
    parser.add_argument("--no-memory-group", action="store_true",
                        help="do not put each submission in a memory cgroup of its own (where the machine's "
                             "cgroups misbehave): its address space and /tmp stay limited, but memory the "
                             "kernel holds for it is not counted (see README)")
    parser.add_argument("--no-isolation", action="store_true",
                        help="grade even where the operating-system sandbox (bubblewrap) cannot start: "
                             "submissions then run with your user's rights, guarded only by an audit hook "
                             "and resource limits, and every result says so. Never for a real class")
    parser.add_argument("--force", action="store_true",
                        help="grade every submission again, even those unchanged since their saved result (by "
                             "default a submission whose notebook, grading plan, grading software and limits are "
                             "unchanged is not graded again, as with nbgrader autograde)")
    parser.add_argument("--duedate", metavar="WHEN", default=None,
                        help="set the assignment's due date in the gradebook before grading, e.g. "
                             "'2026-10-05 23:59:00 Europe/London' (a time without a zone is UTC); needs exactly one "
                             "SLUG. Late submissions (by their timestamp.txt) get nbgrader's late-submission penalty "
                             "(c.AssignLatePenalties.plugin_class and c.LateSubmissionPlugin.penalty_method in "
                             "nbgrader_config.py; default: none). Due dates may also be listed in nbgrader_config.py "
                             "as c.Autograder.duedates = {'rnn': '...'}")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    unknown = sorted(set(args.slugs) - set(SLUGS))
    if unknown:
        sys.exit(f"unknown assignment(s): {', '.join(unknown)}; known: {', '.join(SLUGS)}")
    if args.duedate is not None and len(args.slugs) != 1:
        sys.exit("--duedate sets one assignment's due date: name exactly one SLUG")
    db_url = args.db or gradebook_url(args.course)
    jobs = find_jobs(args.course, args.slugs or SLUGS, args.students)
    if not jobs:
        print("no submissions found under submitted/<student>/<slug>/ (see `python -m autograder collect`)")
        return 1
    limits = Limits(cell_timeout=args.timeout, memory_mb=args.memory, forbidden=forbidden_paths(db_url),
                    isolation=not args.no_isolation, submission_seconds=args.budget,
                    max_notebook_mb=args.max_notebook_mb, grader_memory_mb=args.grader_memory,
                    memory_group=not args.no_memory_group)
    if args.no_isolation:
        warn_loudly("Grading WITHOUT operating-system isolation (--no-isolation): submissions run with your "
                    "user's rights, guarded only by an audit hook and resource limits. A hostile one can read "
                    "solutions/, change the gradebook and start processes. Every result and feedback page "
                    "records this.")
    try:
        results = grade(jobs, db_url, args.course, args.workers, limits, progress=not args.quiet,
                        cluster=args.cluster, force=args.force,
                        duedates={args.slugs[0]: args.duedate} if args.duedate is not None else None)
    except LatenessError as error:
        warn_loudly(f"grade cannot judge late work: {error}")
        return 2
    except ClusterUnavailable as error:
        warn_loudly(f"grade cannot use the cluster: {error}")
        return 2
    except isolation.IsolationUnavailable as error:
        warn_loudly(f"grade refuses to run submissions without their sandbox: {error}\n"
                    "To grade anyway, without the operating-system boundary, pass --no-isolation.")
        return 2
    for result in results:
        print(summary_line(result))
    print(run_summary(results))
    failed = [r for r in results if r.status == GRADER_ERROR]
    if failed:
        print(f"\n{len(failed)} submission(s) could not be graded (see above) and were left as they were: "
              "fix the cause and run grade again.")
        return 1
    return 0


def warn_loudly(text: str) -> None:
    line = "!" * 78
    print(f"{line}\n{text}\n{line}", file=sys.stderr)
