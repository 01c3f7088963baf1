"""Generate the released notebooks (``exercises/``) from the sources (``solutions/``).

Generation runs in a scratch copy of the course so that it never touches the
instructor's gradebook, and the result is copied into ``exercises/``. The test
suite calls :func:`generate` too and compares its output with the committed
copy byte for byte.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from . import nbgrader_cli
from .paths import ROOT, release_notebook, source_notebook


def prepare_course(scratch: Path, slugs: list[str] | tuple[str, ...], root: Path = ROOT) -> Path:
    """Copy the configuration and the given assignments' sources into ``scratch``."""
    shutil.copy2(root / "nbgrader_config.py", scratch / "nbgrader_config.py")
    (scratch / "autograder").mkdir(exist_ok=True)  # where nbgrader_config.py puts the gradebook
    for slug in slugs:
        shutil.copytree(source_notebook(slug, root).parent, scratch / "solutions" / slug, dirs_exist_ok=True)
    return scratch


def generate(slug: str, scratch: Path, root: Path = ROOT) -> Path:
    """Run ``nbgrader generate_assignment`` for ``slug`` in ``scratch``.

    Returns the path of the generated notebook (inside ``scratch``).
    """
    prepare_course(scratch, [slug], root)
    nbgrader_cli.run(["generate_assignment", slug, "--force"], scratch)
    return release_notebook(slug, scratch)


def release(slugs: list[str] | tuple[str, ...], root: Path = ROOT) -> list[Path]:
    """Regenerate ``exercises/<slug>/<slug>.ipynb`` for each slug; returns the paths written."""
    written = []
    for slug in slugs:
        with tempfile.TemporaryDirectory() as scratch:
            generated = generate(slug, Path(scratch), root)
            target = release_notebook(slug, root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(generated, target)
            written.append(target)
    return written
