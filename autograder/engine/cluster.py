"""Grade a class on a Dask distributed cluster: ``python -m autograder grade --cluster tcp://HOST:PORT``.

The cluster is an ordinary Dask one (``dask scheduler`` and ``dask worker``
started by hand, over SSH, on Kubernetes or on a batch system with
dask-jobqueue; see the README). This module is its client side and the task
its workers run; nothing else changes:

- each submission is one task, ``grade_on_worker(plan, task)``: the grading
  core (autograder.engine.runner.grade_submission, through ``Task.run``), the very
  function the local process pool runs, so the two cannot drift. A task
  carries everything it needs: the notebook's bytes and the limits, and the
  assignment's grading plan as a shared input (sent once per assignment, not
  once per notebook). Workers need the course's software (the project's
  environment and bubblewrap), never the course directory: they read nothing
  from the instructor's disk;
- every submission runs in its own sandbox on the worker's machine
  (autograder.sandbox.isolation), with the same limits as on one machine;
- results come back to this process, which alone writes the gradebook, the
  result files and (later) the feedback, as ``done(job, result)`` of
  autograder.commands.grade;
- a worker lost mid-task has its tasks rescheduled by Dask on the others; one
  that was running on ATTEMPTS dying workers (the scheduler's
  ``distributed.scheduler.allowed-failures`` + 1) becomes a grader error,
  recorded nowhere, as on one machine. Recording is idempotent, so a task that
  ran twice, or a rerun, leaves each grade once.

Only a bounded window of tasks is in flight at a time (WINDOW_PER_THREAD per
worker thread), so neither this process nor the scheduler holds a large
class's notebooks at once.
"""

from __future__ import annotations

import hashlib
import threading
from functools import lru_cache
from pathlib import Path

from autograder.paths import ROOT

#: Tasks in flight per worker thread: enough to keep every worker busy
#: between two round trips, few enough to keep memory bounded.
WINDOW_PER_THREAD = 4

#: Seconds to wait for the scheduler and for a first worker.
CONNECT_TIMEOUT = 30

# Grading in one process, one submission at a time: a check cell's printed output
# is captured through the process-wide sys.stdout, so two submissions graded by
# two threads of one worker would mix their outputs. Run workers with
# --nthreads 1 (and --nworkers for more processes); this lock makes a worker
# started otherwise still correct, only slower.
_GRADING = threading.Lock()


class ClusterUnavailable(Exception):
    """The cluster cannot grade: no scheduler, no worker, or workers running other software."""


def software_files(root: Path = ROOT) -> list[Path]:
    """The sources whose behaviour decides a grade: the grader and the helper package."""
    import rnnlab

    helper = Path(rnnlab.__file__).resolve().parent
    return sorted([*(root / "autograder").rglob("*.py"), *helper.rglob("*.py")])


@lru_cache(maxsize=1)
def software_fingerprint() -> str:
    """A digest of this machine's grading software; a worker must run the client's."""
    digest = hashlib.sha256()
    for path in software_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def worker_fingerprint() -> str:
    """Run on each worker by the client: the worker's own software_fingerprint."""
    return software_fingerprint()


def plan_of(plan):
    """A task whose result is the plan: shipped to the scheduler once, recomputable anywhere."""
    return plan


def grade_on_worker(plan, task, fingerprint: str):
    """The task a worker runs for one submission: ``task`` with its assignment's ``plan``.

    Refuses (raises) when this worker's grading software differs from the
    client's, which would grade with other checks than the instructor's.
    """
    from dataclasses import replace

    if software_fingerprint() != fingerprint:
        raise RuntimeError(f"this worker runs other grading software ({software_fingerprint()}) than the "
                           f"client ({fingerprint}): install the same version of the course on every worker")
    with _GRADING:
        return replace(task, plan=plan).run()


def connect(address: str):
    """A Dask client of the scheduler at ``address``, with at least one worker; ClusterUnavailable if not."""
    from distributed import Client

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except OSError as error:
        raise ClusterUnavailable(f"no Dask scheduler answers at {address}: {error}") from None
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        fingerprints = client.run(worker_fingerprint)
    except Exception as error:  # noqa: BLE001 - a timeout or a worker that cannot import the course
        client.close()
        raise ClusterUnavailable(f"the cluster at {address} has no worker ready to grade: {error}") from None
    mine = software_fingerprint()
    others = sorted(worker for worker, theirs in fingerprints.items() if theirs != mine)
    if others:
        client.close()
        raise ClusterUnavailable(f"worker(s) {', '.join(others)} run other grading software than this "
                                 "machine: install the same version of the course everywhere")
    return client


def run_on_cluster(client, jobs: list, make_task, done, failed) -> None:
    """Grade ``jobs`` on the cluster of ``client`` (from ``connect``), calling ``done(job, result)`` here for each.

    ``make_task(job)`` reads one submission into a Task (autograder.commands.grade);
    ``failed(job, reason)`` makes the result of a job the grader could not
    grade. The caller closes the client.
    """
    from dataclasses import replace

    from distributed import as_completed
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    fingerprint = software_fingerprint()
    threads = sum(client.nthreads().values())
    window = max(1, WINDOW_PER_THREAD * threads)
    plans: dict[str, object] = {}
    waiting = list(jobs)
    futures: dict = {}
    running = as_completed(loop=client.loop)

    def submit(job) -> None:
        task = make_task(job)
        slug = task.plan.slug
        if slug not in plans:
            plans[slug] = client.submit(plan_of, task.plan, pure=False, key=f"plan-{slug}-{fingerprint}")
        # The plan travels once, as plans[slug]: the task itself goes without it.
        future = client.submit(grade_on_worker, plans[slug], replace(task, plan=None), fingerprint,
                               pure=False, key=f"grade-{slug}-{job.student}-{fingerprint}")
        futures[future] = job
        running.add(future)

    while waiting and len(futures) < window:
        submit(waiting.pop(0))
    for future in running:
        job = futures.pop(future)
        try:
            result = future.result()
        except KilledWorker as error:
            result = failed(job, f"every worker that graded this submission died ({error}); "
                                 "grade it by hand or on one machine")
        except FutureCancelledError:
            result = failed(job, "the cluster cancelled this submission's task (was the scheduler "
                                 "restarted?); run grade again")
        except Exception as error:  # noqa: BLE001 - a fault of the grader's: the class goes on
            result = failed(job, f"the grader failed on this submission on the cluster "
                                 f"({type(error).__name__}: {error})")
        future.release()
        done(job, result)
        if waiting:
            submit(waiting.pop(0))
