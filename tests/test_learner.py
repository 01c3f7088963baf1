"""Can a learner go from the website alone to passing checks?

A fresh virtual environment gets the helper package only from the wheel the
built website serves (nothing of this repository on its path), and Jupyter
kernels in it run each released notebook, top to bottom, as *Run All* does:

- with a correct implementation pasted into the answer cells, every cell runs
  and every check cell prints its success line;
- without the wheel, the first cell stops the run with the one line that
  installs it, and no later cell runs (no cascade of NameErrors); following
  what it says (from a folder without the wheel, or with the website's address)
  installs rnnlab;
- JupyterLab's *Validate* button, ``nbgrader validate`` in an empty folder with a
  clean HOME and nbgrader's default settings (30 s per cell), says "Success!" of
  a right notebook and names the failing check of a wrong one.

NumPy, Matplotlib and the Jupyter kernel come from the course environment,
added to the fresh one's path as plain folders (its .pth files, among them the
checkout's own rnnlab, are not read), so the test needs no network.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from autograder.course.links import wheel_name, wheel_requirement
from autograder.course.plan import load_plan
from autograder.paths import ROOT, SLUGS, release_notebook, source_notebook
from autograder.course.submissions import fill, reference_answers
from mutants import catalogue
from notebook_run import run_notebook

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


def run_all(notebook: dict, folder: Path, monkeypatch, environment: Path | None = None) -> dict:
    """The notebook run top to bottom, from ``folder``, in the kernel of the fresh environment made
    in ``environment`` (default: ``folder``)."""
    import nbclient
    import nbformat

    monkeypatch.setenv("JUPYTER_PATH", str((environment or folder) / "jupyter"))
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


#: The capstone's ungraded training cells, and what they train for. A learner runs them in full;
#: so do the Validate tests (Validate must finish within its time limits, and it reports a locked
#: cell that was changed) and test_does_the_training_demonstration_show_what_the_notebook_says (the
#: figures the notebook quotes). Run All in the learner's environment trains a few updates: enough
#: to prove the cells run, at a fraction of the time.
TRAINING_CELLS, FULL_TRAINING, SHORT_TRAINING = ("train_demo", "train_more"), "updates=250", "updates=5"


def short_training(notebook: dict) -> dict:
    """``notebook`` with its training cells (if it has any) cut to SHORT_TRAINING updates each."""
    cells = []
    for cell in notebook["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") in TRAINING_CELLS:
            source = "".join(cell["source"])
            assert FULL_TRAINING in source, f"the training cell changed; update TRAINING_CELLS: {source}"
            cell = {**cell, "source": source.replace(FULL_TRAINING, SHORT_TRAINING)}
        cells.append(cell)
    return {**notebook, "cells": cells}


def test_are_the_capstones_training_cells_where_short_training_looks():
    notebook = json.loads(release_notebook("seq2seq").read_text(encoding="utf-8"))
    training = [cell["source"] for cell in short_training(notebook)["cells"]
                if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") in TRAINING_CELLS]
    assert len(training) == len(TRAINING_CELLS)
    assert all(SHORT_TRAINING in source and FULL_TRAINING not in source for source in training)


@pytest.mark.parametrize("slug", SLUGS)
def test_does_a_correct_notebook_pass_every_check_in_a_learners_environment(slug, learner, monkeypatch):
    python, folder = learner
    released = json.loads(release_notebook(slug).read_text(encoding="utf-8"))
    answers = reference_answers(json.loads(source_notebook(slug).read_text(encoding="utf-8")))
    # Raises on the first failing cell; the training runs briefly (it is not graded).
    done = run_all(short_training(fill(released, answers)), folder, monkeypatch)
    checks = [cell for cell in done.cells if cell.get("metadata", {}).get("nbgrader", {}).get("grade")
              and not cell["metadata"]["nbgrader"].get("solution")]
    printed = ["".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream") for cell in checks]
    assert checks and all(text.strip() for text in printed), "a check cell printed no success line"


def first_cell_error(notebook: dict, folder: Path, monkeypatch, environment: Path) -> str:
    """What the notebook's first cell says when run in ``folder`` (it must stop the run there)."""
    import nbclient

    with pytest.raises(nbclient.exceptions.CellExecutionError) as stopped:
        run_all(notebook, folder, monkeypatch, environment)
    message = str(stopped.value)
    assert "ModuleNotFoundError" in message and "NameError" not in message, message
    return message


def printed_error(message: str) -> list[str]:
    """The lines of the error as the notebook prints them, from the exception's name on."""
    import re

    lines = re.sub(r"\x1b\[[0-9;]*m", "", message).splitlines()  # without the terminal's colours
    first = next(i for i, line in enumerate(lines) if line.startswith("ModuleNotFoundError: "))
    return lines[first:]


def install_route(message: str) -> str:
    """The one ``%pip install`` line the message (as printed) gives."""
    routes = [line.strip() for line in printed_error(message) if line.strip().startswith("%pip install ")]
    assert len(set(routes)) == 1, message
    return routes[0]


def setup_cell(notebook: dict) -> dict:
    """The notebook with its first code cell alone (the one that imports rnnlab)."""
    first = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    return {**notebook, "cells": [first]}


def follow(route: str, notebook: dict, folder: Path, monkeypatch, environment: Path) -> None:
    """Run the install line in a kernel of the learner's environment, as the message says, then,
    in a new kernel (the restart it asks for), the notebook's first cell: it must now pass."""
    install = {**notebook, "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                                      "source": route}]}
    done = run_all(install, folder, monkeypatch, environment)
    assert not [o for o in done.cells[0].outputs if o.get("output_type") == "error"], done.cells[0].outputs
    run_all(setup_cell(notebook), folder, monkeypatch, environment)  # raises if rnnlab is still missing


def test_does_a_notebook_without_rnnlab_name_the_folder_the_wheel_must_go_to(tmp_path, monkeypatch, served_wheel):
    """No website address: the wheel must be downloaded. The message says where to put it, and the
    line it gives installs it once it is there."""
    python = fresh_environment(tmp_path, wheel=None)
    folder = tmp_path / "my course"
    folder.mkdir()
    released = json.loads(release_notebook("rnn").read_text(encoding="utf-8"))
    message = first_cell_error(released, folder, monkeypatch, tmp_path)
    printed = printed_error(message)
    assert all(len(line) <= 80 for line in printed if str(folder) not in line), printed
    assert str(folder) in "\n".join(printed) and wheel_name(ROOT) in "\n".join(printed)
    route = install_route("\n".join(printed))
    assert route == f"%pip install ./{wheel_name(ROOT)}"

    shutil.copy2(served_wheel, folder / served_wheel.name)  # downloaded where the message says
    message = first_cell_error(released, folder, monkeypatch, tmp_path)  # now: the line that installs it
    assert install_route(message) == route and "not in this notebook's folder" not in " ".join(printed_error(message))
    follow(route, released, folder, monkeypatch, tmp_path)
    assert subprocess.run([str(python), "-c", "import rnnlab"], cwd=tmp_path).returncode == 0


def test_does_a_notebook_from_a_website_with_an_address_install_rnnlab_from_anywhere(
        tmp_path, monkeypatch, built_site):
    """With html.baseurl set, the message gives the wheel's web address, which works in any folder
    (and Colab installs from it by itself): here the website is served on 127.0.0.1."""
    from autograder.commands.release import generate

    with serve(built_site) as address:
        course = tmp_path / "course"
        course.mkdir()
        for name in ("pyproject.toml", "nbgrader_config.py"):
            shutil.copy2(ROOT / name, course / name)
        shutil.copytree(ROOT / "solutions" / "rnn", course / "solutions" / "rnn")
        config = (ROOT / "_config.yml").read_text(encoding="utf-8")
        (course / "_config.yml").write_text(config.replace('  baseurl: ""', f'  baseurl: "{address}"'),
                                            encoding="utf-8")
        (tmp_path / "scratch").mkdir()
        released = json.loads(generate("rnn", tmp_path / "scratch", course).read_text(encoding="utf-8"))
        python = fresh_environment(tmp_path, wheel=None)
        folder = tmp_path / "anywhere"
        folder.mkdir()
        message = first_cell_error(released, folder, monkeypatch, tmp_path)
        assert all(len(line) <= 80 for line in printed_error(message)), printed_error(message)
        route = install_route(message)
        assert route == f"%pip install {address}/{wheel_name(ROOT)}"
        follow(route, released, folder, monkeypatch, tmp_path)
        assert subprocess.run([str(python), "-c", "import rnnlab"], cwd=tmp_path).returncode == 0


@contextlib.contextmanager
def serve(folder: Path):
    """``folder`` served over HTTP on 127.0.0.1 (a free port) until the block ends, also on failure."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# ----------------------------------------------------------------------------
# The Validate button
# ----------------------------------------------------------------------------

def validate(notebook: dict, name: str, python: Path, folder: Path) -> str:
    """``nbgrader validate`` on ``notebook`` as the Validate button runs it: in an empty folder,
    with a clean HOME (no configuration anywhere), nbgrader's default settings, and the learner's
    environment as the kernel. Returns what it prints."""
    work = folder / f"validate-{name}"
    home = folder / f"home-{name}"
    work.mkdir()
    home.mkdir()
    (work / f"{name}.ipynb").write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    env = {"HOME": str(home), "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "LANG": "C.UTF-8"}
    result = subprocess.run([str(python), "-m", "nbgrader", "validate", f"{name}.ipynb"], cwd=work, env=env,
                            capture_output=True, text=True, timeout=900)
    return result.stdout + result.stderr


@pytest.mark.parametrize("slug", SLUGS)
def test_does_validate_say_success_of_a_right_notebook(slug, learner):
    python, folder = learner
    released = json.loads(release_notebook(slug).read_text(encoding="utf-8"))
    answers = reference_answers(json.loads(source_notebook(slug).read_text(encoding="utf-8")))
    said = validate(fill(released, answers), f"{slug}-right", python, folder)
    assert "Success! Your notebook passes all the tests." in said, said[-3000:]
    assert "HAVE CHANGED" not in said and "Timeout" not in said and "timed out" not in said, said[-3000:]


@pytest.mark.parametrize("slug", SLUGS)
def test_does_validate_name_the_failing_check_of_a_wrong_notebook(slug, learner):
    python, folder = learner
    released = json.loads(release_notebook(slug).read_text(encoding="utf-8"))
    mutant = catalogue(slug)[0]  # the bug to plant
    answers = mutant.apply(reference_answers(json.loads(source_notebook(slug).read_text(encoding="utf-8"))))
    notebook = fill(released, answers)  # trains in full: Validate flags a locked cell that was changed
    said = validate(notebook, f"{slug}-wrong", python, folder)
    assert "VALIDATION FAILED" in said, said[-3000:]
    assert "HAVE CHANGED" not in said and "Timeout" not in said and "timed out" not in said, said[-3000:]
    # What the learner's own checks say of the first failing cell, first line: Validate shows it.
    failing = [run for run in run_notebook(load_plan(slug), notebook, hidden=False) if not run.passed]
    assert failing, f"{mutant.name}: no visible check fails"
    first_line = failing[0].printed.splitlines()[0]
    assert first_line in said, (mutant.name, first_line, said[-3000:])


def test_does_the_training_demonstration_show_what_the_notebook_says():
    """Part 5 of seq2seq says what right functions give with its seed after each of the two rounds
    that Run All (and Validate) runs: about two characters in three and hardly a whole date after
    the first, about three in four and a few dates after the second. The two cells, run on the
    reference answers, must print that."""
    import contextlib as _contextlib
    import io
    import re

    from autograder.course.reference import load_reference

    notebook = json.loads(source_notebook("seq2seq").read_text(encoding="utf-8"))
    cells = {cell["metadata"].get("nbgrader", {}).get("grade_id"): "".join(cell["source"]) for cell in notebook["cells"]}
    text = cells["part5_training"]
    assert "about two characters in three" in text and "three in four characters and a few whole dates" in text
    namespace = dict(vars(load_reference("seq2seq")))
    exec(cells["given_training"], namespace)  # noqa: S102 - the course's own cells
    figures = []
    for cell in ("train_demo", "train_more"):
        printed = io.StringIO()
        with _contextlib.redirect_stdout(printed):
            exec(cells[cell], namespace)  # noqa: S102
        found = re.search(r"([\d.]+)% of the characters and ([\d.]+)% of the dates right", printed.getvalue())
        assert found, printed.getvalue()
        figures.append((float(found[1]) / 100, float(found[2]) / 100))
    (characters_1, dates_1), (characters_2, dates_2) = figures
    assert 0.6 <= characters_1 <= 0.73 and dates_1 <= 0.01, figures       # two in three; hardly a date
    assert 0.72 <= characters_2 <= 0.8 and 0.01 <= dates_2 <= 0.08, figures  # three in four; a few dates
