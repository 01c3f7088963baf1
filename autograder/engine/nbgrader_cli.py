"""Run nbgrader's command-line apps on a course directory.

nbgrader is driven through its command line (``nbgrader generate_assignment``,
``nbgrader autograde``) in a subprocess, exactly as an instructor would run it,
with the course's ``nbgrader_config.py`` in force. The subprocess gets the
current Python environment's ``bin`` folder first on ``PATH`` because nbgrader
itself runs ``alembic`` from there to create the gradebook.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from autograder.paths import database_url


class NbgraderError(RuntimeError):
    """An nbgrader command failed; the message holds its output."""


def environment(scripts: Path | None = None) -> dict[str, str]:
    """The current environment with a scripts folder (default: this interpreter's) first on PATH."""
    env = dict(os.environ)
    scripts = scripts or Path(sys.executable).parent
    env["PATH"] = str(scripts) + os.pathsep + env.get("PATH", "")
    return env


def run(args: list[str], course_root: Path, db_url: str | None = None) -> str:
    """Run ``nbgrader <args>`` with ``course_root`` as the course directory.

    Parameters
    ----------
    args : list of str
        nbgrader's arguments, e.g. ``["autograde", "rnn"]``.
    course_root : Path
        Holds ``nbgrader_config.py``, ``solutions/`` and ``exercises/``.
    db_url : str, optional
        Gradebook URL; defaults to the one in ``nbgrader_config.py``.

    Returns
    -------
    The command's combined output.

    Raises
    ------
    NbgraderError
        If nbgrader exits with a non-zero status.
    """
    command = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course_root}"]
    if db_url:
        command.append(f"--CourseDirectory.db_url={database_url(db_url)}")
    result = subprocess.run(
        command, cwd=course_root, env=environment(), capture_output=True, text=True, check=False
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise NbgraderError(f"nbgrader {' '.join(args)} failed (exit {result.returncode}):\n{output}")
    return output


def autograde(course_root: Path, slug: str, db_url: str | None = None) -> str:
    """Plain ``nbgrader autograde`` of every student under submitted/, serially.

    The course grades with ``python -m autograder grade``; this is kept as the
    baseline it is compared with (scores and time) in the test suite and in
    benchmarks/bench_grade.py. Returns nbgrader's log.
    """
    return run(["autograde", slug, "--force", "--create"], course_root, db_url)
