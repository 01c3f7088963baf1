"""Can a learner go from the website alone to passing checks?

A fresh virtual environment gets the helper package only from the wheel the
built website serves (nothing of this repository on its path), and Jupyter
kernels in it run each released notebook, top to bottom, as *Run All* does:

- with a correct implementation pasted into the answer cells, every cell runs
  and every check cell prints its success line;
- without the wheel, the first cell stops the run with the one line that
  installs it, and no later cell runs (no cascade of NameErrors).

NumPy, Matplotlib and the Jupyter kernel come from the course environment,
added to the fresh one's path as plain folders (its .pth files, among them the
checkout's own rnnlab, are not read), so the test needs no network.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from autograder.course.links import wheel_name, wheel_requirement
from autograder.paths import ROOT, SLUGS, release_notebook, source_notebook
from autograder.course.submissions import fill, reference_answers

pytestmark = pytest.mark.slow

KERNEL = "rnn-course-learner"


def fresh_environment(folder: Path, wheel: Path | None) -> Path:
    """A virtual environment holding the served wheel (or nothing), and a Jupyter kernel spec for it."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder / "venv")], check=True)
    python = folder / "venv" / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "course-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    if wheel is not None:
        subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                        "--no-index", "--disable-pip-version-check", str(wheel)], check=True)
    spec = folder / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "learner", "language": "python"}))
    return python


def run_all(notebook: dict, folder: Path, monkeypatch) -> dict:
    """The notebook run top to bottom in the fresh environment's kernel, from ``folder``."""
    import nbclient
    import nbformat

    monkeypatch.setenv("JUPYTER_PATH", str(folder / "jupyter"))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    node = nbformat.reads(json.dumps(notebook), as_version=4)  # sources joined, as Jupyter reads them
    client = nbclient.NotebookClient(node, kernel_name=KERNEL, timeout=600,
                                     resources={"metadata": {"path": str(folder)}})
    client.execute()
    return node


@pytest.fixture(scope="module")
def served_wheel(built_site) -> Path:
    wheel = built_site / wheel_name(ROOT)
    assert wheel.is_file(), f"the website does not serve {wheel.name}"
    return wheel


@pytest.fixture(scope="module")
def learner(tmp_path_factory, served_wheel) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("learner")
    return fresh_environment(folder, served_wheel), folder


def test_does_the_fresh_environment_import_rnnlab_from_the_wheel_alone(learner):
    python, folder = learner
    where = subprocess.run([str(python), "-c", "import rnnlab; print(rnnlab.__file__)"], cwd=folder,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert where.startswith(str(folder / "venv")), where


@pytest.mark.parametrize("slug", SLUGS)
def test_does_a_correct_notebook_pass_every_check_in_a_learners_environment(slug, learner, monkeypatch):
    python, folder = learner
    released = json.loads(release_notebook(slug).read_text(encoding="utf-8"))
    answers = reference_answers(json.loads(source_notebook(slug).read_text(encoding="utf-8")))
    done = run_all(fill(released, answers), folder, monkeypatch)  # raises on the first failing cell
    checks = [cell for cell in done.cells if cell.get("metadata", {}).get("nbgrader", {}).get("grade")
              and not cell["metadata"]["nbgrader"].get("solution")]
    printed = ["".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream") for cell in checks]
    assert checks and all(text.strip() for text in printed), "a check cell printed no success line"


def test_does_a_notebook_without_rnnlab_stop_at_its_first_cell_with_the_install_line(tmp_path, monkeypatch):
    import nbclient

    fresh_environment(tmp_path, wheel=None)
    released = json.loads(release_notebook("rnn").read_text(encoding="utf-8"))
    with pytest.raises(nbclient.exceptions.CellExecutionError) as stopped:
        run_all(released, tmp_path, monkeypatch)
    assert "ModuleNotFoundError" in str(stopped.value)
    assert f"%pip install {wheel_requirement(ROOT)}" in str(stopped.value)
    assert "NameError" not in str(stopped.value)
