"""``python -m autograder release``: regenerate ``exercises/`` from ``solutions/`` and check it.

Usage::

    python -m autograder release            # every assignment
    python -m autograder release lstm gru   # some

Generation runs ``nbgrader generate_assignment`` in a scratch copy of the
course, so it never touches the instructor's gradebook; the result is checked
and only then copied into ``exercises/``. The checks (:func:`problems`):

- no solution line and no hidden-test line is left (autograder.course.leaks), and
  the install line is filled in (autograder.course.links);
- every cell's nbgrader checksum matches the cell as released: filling in the
  install line and the links changes cells after nbgrader computed their
  checksums, so :func:`generate` computes them again, and a stale one would make
  the learner's *Validate* button report "the contents of a test cell have changed"
  on a notebook nobody touched;
- every check cell and every read-only cell is locked, every answer cell is
  not (learners can edit only what they must write).

The test suite calls :func:`generate` too and compares its output with the
committed copy byte for byte.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from autograder.engine import nbgrader_cli
from autograder.course.leaks import find_leaks, secrets
from autograder.course.links import WHEEL_LINK_PLACEHOLDER, WHEEL_PLACEHOLDER, localise
from autograder.paths import ROOT, SLUGS, release_notebook, source_notebook
from autograder.course.plan import ANSWER, kind_of
from autograder.course.reference import nbgrader_meta


class ReleaseError(RuntimeError):
    """A generated notebook failed a check; nothing was written."""


def prepare_course(scratch: Path, slugs: list[str] | tuple[str, ...], root: Path = ROOT) -> Path:
    """Copy the configuration and the given assignments' sources into ``scratch``."""
    shutil.copy2(root / "nbgrader_config.py", scratch / "nbgrader_config.py")
    (scratch / "autograder").mkdir(exist_ok=True)  # where nbgrader_config.py puts the gradebook
    for slug in slugs:
        shutil.copytree(source_notebook(slug, root).parent, scratch / "solutions" / slug, dirs_exist_ok=True)
    return scratch


def generate(slug: str, scratch: Path, root: Path = ROOT) -> Path:
    """Run ``nbgrader generate_assignment`` for ``slug`` in ``scratch``, then fill in where
    learners find the course (autograder.course.links: the install line, absolute links).

    Returns the path of the generated notebook (inside ``scratch``).
    """
    import nbformat  # comes with nbgrader; writes the notebook exactly as nbgrader does

    prepare_course(scratch, [slug], root)
    nbgrader_cli.run(["generate_assignment", slug, "--force"], scratch)
    generated = release_notebook(slug, scratch)
    from nbgrader.utils import compute_checksum

    notebook = nbformat.read(generated, as_version=4)
    for cell in notebook.cells:
        cell.source = localise(cell.source, root)
        meta = cell.metadata.get("nbgrader", {})
        if "checksum" in meta:  # nbgrader's, of the cell before it was filled in
            meta["checksum"] = compute_checksum(cell)
    nbformat.write(notebook, generated)
    return generated


def stale_checksums(notebook_path: Path) -> list[str]:
    """The grade ids of the cells whose stored nbgrader checksum is not that of the cell as it is
    (what ``nbgrader validate`` reports as changed cells)."""
    import nbformat
    from nbgrader.utils import compute_checksum

    notebook = nbformat.read(notebook_path, as_version=4)
    return [cell.metadata.nbgrader.get("grade_id", "?") for cell in notebook.cells
            if "checksum" in cell.metadata.get("nbgrader", {})
            and cell.metadata.nbgrader["checksum"] != compute_checksum(cell)]


def problems(generated: Path, source: Path) -> list[str]:
    """What is wrong with a generated notebook (empty when it may be released)."""
    found = [f"{leak.what} is in the released notebook" for leak in find_leaks([generated], secrets(source))]
    text = generated.read_text(encoding="utf-8")
    found += [f"{placeholder} was not filled in" for placeholder in (WHEEL_PLACEHOLDER, WHEEL_LINK_PLACEHOLDER)
              if placeholder in text]
    found += [f"cell {grade_id}'s checksum does not match it: Validate would say it changed"
              for grade_id in stale_checksums(generated)]
    for cell in json.loads(generated.read_text(encoding="utf-8"))["cells"]:
        meta = nbgrader_meta(cell)
        kind = kind_of(meta)
        if kind is None:
            continue
        if kind == ANSWER and meta.get("locked"):
            found.append(f"answer cell {meta['grade_id']} is locked: learners could not write their code")
        if kind != ANSWER and not meta.get("locked"):
            found.append(f"{kind} cell {meta['grade_id']} is not locked: learners could edit it")
    return found


def release(slugs: list[str] | tuple[str, ...], root: Path = ROOT) -> list[Path]:
    """Regenerate and check ``exercises/<slug>/<slug>.ipynb`` for each slug; returns the paths written.

    Raises ReleaseError, before writing anything for that slug, if a check fails.
    """
    written = []
    for slug in slugs:
        with tempfile.TemporaryDirectory() as scratch:
            generated = generate(slug, Path(scratch), root)
            found = problems(generated, source_notebook(slug, root))
            if found:
                raise ReleaseError(f"{slug} was not released:\n  " + "\n  ".join(found))
            target = release_notebook(slug, root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(generated, target)
            written.append(target)
    return written


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("slugs", nargs="*", metavar="SLUG",
                        help=f"assignments to release (default: all of {', '.join(SLUGS)})")


def run(args: argparse.Namespace) -> int:
    unknown = sorted(set(args.slugs) - set(SLUGS))
    if unknown:
        sys.exit(f"unknown assignment(s): {', '.join(unknown)}; known: {', '.join(SLUGS)}")
    try:
        for path in release(args.slugs or SLUGS, args.course):
            print(f"wrote {path.relative_to(args.course)} (checked: no solution, no hidden test, check cells locked, checksums right)")
    except ReleaseError as error:
        print(error, file=sys.stderr)
        return 1
    return 0
