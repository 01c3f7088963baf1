"""Build the website: the one build that dev.py, the tests and the benchmark all run.

Standard library only, so that dev.py can call it before .venv exists.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tools.mathjax import ensure_mathjax
from autograder.engine.nbgrader_cli import environment
from autograder.paths import ROOT

#: Warnings are errors (-W), cross-references are checked strictly (-n), and
#: every problem is reported in one run (--keep-going) rather than the first alone.
STRICT = ("-W", "-n", "--keep-going")


def book_environment(scripts: Path | None = None) -> dict[str, str]:
    """The build's environment, without MPLBACKEND: the chapters run in Jupyter kernels,
    which must keep their inline backend, or every figure silently disappears."""
    env = environment(scripts)
    env.pop("MPLBACKEND", None)
    return env


def build(scripts: Path, path_output: Path | None = None, root: Path = ROOT, **run_options) -> subprocess.CompletedProcess:
    """Run ``jupyter-book build`` on the repository with the strict options
    (after fetching MathJax, which the site serves itself, if it is missing).

    Parameters
    ----------
    scripts : Path
        The folder holding the ``jupyter-book`` script (the virtual environment's bin/).
    path_output : Path, optional
        Where ``_build/`` goes (default: the repository root, with its execution cache).
    root : Path, optional
        The book to build (default: this repository; the benchmark builds a copy).
    run_options
        Passed to ``subprocess.run`` (e.g. ``capture_output=True``).
    """
    ensure_mathjax(root)
    command = [str(scripts / "jupyter-book"), "build", str(root), *STRICT]
    if path_output is not None:
        command += ["--path-output", str(path_output)]
    return subprocess.run(command, cwd=root, env=book_environment(scripts), check=False, **run_options)
