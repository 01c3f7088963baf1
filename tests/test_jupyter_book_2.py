"""Is the book written so that Jupyter Book 2 could build it later, as well as Jupyter Book 1 now?

Jupyter Book 1 is in maintenance; a migration is not made now, but nothing new may make it
harder. Three rules (a fourth, glued values computed before the prose quotes them, needs the
executed chapters: tests/test_book.py):
"""

from __future__ import annotations

import json
import re

import pytest

from autograder.paths import ROOT, SLUGS, release_notebook, source_notebook
from conftest import toc_files


def pages() -> list:
    return [ROOT / f"{page}.md" for page in toc_files() if (ROOT / f"{page}.md").exists()]


@pytest.mark.parametrize("page", pages(), ids=lambda path: path.name)
def test_does_every_download_role_stand_on_one_line(page):
    """MyST in Jupyter Book 2 does not read a role whose text is broken over two lines."""
    broken = re.findall(r"\{download\}`[^`]*\n", page.read_text(encoding="utf-8"))
    assert not broken, broken


def test_would_a_download_role_broken_over_two_lines_be_found(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Download {download}`the assignment\nnotebook <a.ipynb>` now.\n", encoding="utf-8")
    with pytest.raises(AssertionError):
        test_does_every_download_role_stand_on_one_line(page)


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("notebook", [source_notebook, release_notebook], ids=["solutions", "exercises"])
def test_does_each_assignment_notebook_say_itself_that_it_is_never_executed(slug, notebook):
    """_config.yml excludes the assignments from execution; the notebooks carry the rule too, so a
    build that reads only per-notebook settings (or a page moved elsewhere) never runs them."""
    metadata = json.loads(notebook(slug).read_text(encoding="utf-8"))["metadata"]
    assert metadata.get("mystnb", {}).get("execution_mode") == "off"
