"""Recognise a submission that would be graded exactly as it was last time, so it is not graded again.

``nbgrader autograde`` skips a submission it has already graded unless ``--force``; so does
``python -m autograder grade``, but it decides by content, not by file dates. A grade depends
on four things, and the *grading key* is a SHA-256 digest of all four:

- the notebook's bytes (as read for grading: up to one byte past the size limit);
- the assignment's grading plan (every given, answer and check cell of ``solutions/``, and the
  points), so an edited check or a changed point value regrades the class;
- the grading software: the digest of the grader and the helper package that a cluster's
  workers must also match (``autograder.engine.cluster.software_fingerprint``), and the
  versions of Python and NumPy that run the checks;
- the limits the submission ran under (``grade --timeout``, ``--memory``, ``--no-isolation``...),
  except the list of paths kept out of its reach, which only says where the course is.

Each saved result (``autograded/<student>/<slug>/result.json``) carries the key it was graded
under. A submission whose key equals its saved result's is not run again: its saved result is
recorded again instead (which writes nothing when the gradebook already holds it, and restores
it when the gradebook lost it). A result the grader itself failed on is never saved, so it is
never reused. The submission time and the due date are not in the key: they change the late
penalty, never the grade of the code, and are judged again at every run
(autograder.engine.lateness).
"""

from __future__ import annotations

import hashlib
import platform
from dataclasses import asdict, replace
from functools import lru_cache
from pathlib import Path

from autograder.course.plan import GradingPlan
from autograder.engine.results import GRADER_ERROR, SubmissionResult


@lru_cache(maxsize=1)
def _software() -> str:
    import numpy

    from autograder.engine.cluster import software_fingerprint

    return f"{software_fingerprint()} python {platform.python_version()} numpy {numpy.__version__}"


@lru_cache(maxsize=None)
def _plan_digest(plan: GradingPlan) -> str:
    return hashlib.sha256(repr(plan).encode("utf-8", "backslashreplace")).hexdigest()


def grading_key(plan: GradingPlan, notebook: bytes, limits) -> str:
    """The digest that changes whenever the grade of ``notebook`` could (see the module docstring).

    ``limits``: the autograder.engine.runner.Limits it is graded under.
    """
    digest = hashlib.sha256()
    for part in (_software(), _plan_digest(plan), repr(sorted(asdict(replace(limits, forbidden=())).items()))):
        digest.update(part.encode("utf-8") + b"\0")
    digest.update(notebook)
    return digest.hexdigest()


def reusable(result_file: Path, key: str) -> SubmissionResult | None:
    """The result saved in ``result_file`` if it was graded under ``key``, else None.

    A missing, unreadable or malformed file is not reusable: the submission is graded again.
    """
    try:
        saved = SubmissionResult.load(result_file)
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if saved.grading_key != key or saved.status == GRADER_ERROR:
        return None
    saved.reused = True
    return saved
