"""Does the website build cleanly, with every chapter executed and every assignment downloadable?"""

from __future__ import annotations

import html
import re
import shutil
import sys
from pathlib import Path

import pytest

from autograder.paths import ROOT, SLUGS, release_notebook
from conftest import toc_files

pytestmark = pytest.mark.slow


def chapters() -> list[str]:
    """Pages written as MyST notebooks with code cells: these must be executed at build."""
    return [f for f in toc_files() if (ROOT / f"{f}.md").exists() and "{code-cell}" in (ROOT / f"{f}.md").read_text()]


def test_does_every_page_of_the_toc_exist():
    for page in toc_files():
        assert (ROOT / f"{page}.md").exists() or (ROOT / f"{page}.ipynb").exists(), page


def test_does_sphinx_find_in_the_cache_a_chapter_executed_before_it(built_site, tmp_path):
    """tools/book.py executes the chapters missing from the execution cache (in parallel) before
    Sphinx runs: it must cache each exactly as MyST-NB looks it up, or Sphinx executes it again.
    A copy of the book, with the repository's cache, one cheap chapter edited: that chapter alone
    is executed, before Sphinx, and Sphinx executes none."""
    from benchmarks.bench import copy_book, edit_one_chapter
    from tools.book import build

    book, output = tmp_path / "course", tmp_path / "out"
    copy_book(book)
    shutil.copytree(ROOT / "_build" / ".jupyter_cache", output / "_build" / ".jupyter_cache")
    edit_one_chapter(book, "book/gradient-checking.md")
    result = build(Path(sys.executable).parent, output, root=book, capture_output=True, text=True)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"the book build failed:\n{log[-6000:]}"
    assert re.findall(r"\[book\] executed (\S+) in", log) == ["book/gradient-checking.md"], log[-6000:]
    assert "Executing notebook" not in log, "Sphinx executed a notebook itself:\n" + log[-6000:]


def test_does_the_book_build_with_every_page(built_site):
    for page in toc_files():
        assert (built_site / f"{page}.html").exists(), f"{page}.html was not built"
    assert not (built_site / "reports").exists(), "an execution report exists: a chapter failed to execute"


@pytest.mark.parametrize("page", chapters())
def test_is_every_chapter_executed(page, built_site):
    html = (built_site / f"{page}.html").read_text()
    assert 'class="cell_output' in html, f"{page} shows no output: was it executed?"
    assert "Traceback" not in html and 'class="output traceback' not in html


@pytest.mark.parametrize("page", chapters())
def test_does_every_figure_of_a_chapter_reach_its_page(page, built_site):
    """Each `plt.show()` in a chapter must leave an image on the page. (Run with MPLBACKEND=Agg
    in the kernels' environment, the chapters execute without error and show no figure at all.)"""
    figures = (ROOT / f"{page}.md").read_text().count("plt.show()")
    images = (built_site / f"{page}.html").read_text().count("<img")
    assert images >= figures, f"{page}: {figures} figures drawn, {images} images on the page"


@pytest.mark.parametrize("slug", SLUGS)
def test_is_each_assignment_a_rendered_but_unexecuted_page(slug, built_site):
    html = (built_site / "exercises" / slug / f"{slug}.html").read_text()
    assert "YOUR CODE HERE" in html
    assert 'class="cell_output' not in html, "the released notebook must not be executed at build"


@pytest.mark.parametrize("slug", SLUGS)
def test_can_each_assignment_be_downloaded_from_its_chapter_and_its_page(slug, built_site):
    released = release_notebook(slug).read_bytes()
    chapter = (built_site / "book" / f"{slug}.html").read_text()
    links = re.findall(r'href="(\.\./_downloads/[^"]+\.ipynb)"', chapter)
    assert links, f"the chapter {slug} has no download link to its assignment"
    assert any((built_site / "book" / link).read_bytes() == released for link in links)
    # The page's own download button serves the notebook source.
    assert (built_site / "_sources" / "exercises" / slug / f"{slug}.ipynb").read_bytes() == released


@pytest.mark.parametrize("slug", ["sequences", *SLUGS])
def test_does_each_chapter_open_with_what_you_will_learn_and_close_with_hidden_answers(slug, built_site):
    html = (built_site / "book" / f"{slug}.html").read_text()
    goals = html.index("What you will learn")
    assert goals < html.index('<section id="', html.index('<section id="') + 1), "the goals box comes before the first section"
    questions = html[html.index('id="check-yourself"'):]
    dropdowns = re.findall(r'class="[^"]*\bdropdown\b[^"]*\badmonition\b|class="[^"]*\badmonition\b[^"]*\bdropdown\b', questions)
    assert len(dropdowns) >= 3, "check-yourself questions with answers hidden in dropdowns"


#: Words about how this repository is built, tested or graded. A reader learns RNNs and should
#: never meet them; a chapter may still link its assignment and say what the assignment asks.
COURSE_INTERNALS = re.compile(
    r"hidden (?:tests?|checks?)|test suite|fixtures?\b|solutions/|\bautograder\b|nbgrader|pytest|mutants?\b"
    r"|source notes|reference implementations?|(?:code|cell)s? (?:is |are )?not shown|\btests/", re.I)


def reader_pages() -> list[str]:
    """Every page of the book that teaches. *Get started* is left out on purpose: it is the learner's
    guide to the course's tools, where nbgrader's Validate button and its checks belong."""
    return [f for f in toc_files() if f.startswith("book/") and f != "book/get-started"]


def course_internals(html_page: str) -> list[str]:
    """The internal words in a page's visible text (tags stripped, so markup cannot split a word)."""
    from autograder.course.leaks import normalise

    text = normalise(html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", "", html_page, flags=re.S))))
    return [f"{m.group(0)!r} in ...{text[max(0, m.start() - 40):m.end() + 40]}..." for m in COURSE_INTERNALS.finditer(text)]


@pytest.mark.parametrize("page", reader_pages())
def test_does_no_reader_page_mention_how_the_course_is_built_or_graded(page, built_site):
    found = course_internals((built_site / f"{page}.html").read_text(encoding="utf-8"))
    assert not found, f"{page} mentions the course's internals:\n" + "\n".join(found)


def test_would_internal_words_be_found_even_split_by_markup():
    page = '<p>The <em>hidden</em> tests use a <code>fixture</code>; the reference <b>implementation</b> is in ' \
           '<code>solutions/</code></p><script>var pytest = 1;</script><p>A hidden state, and a test of fit.</p>'
    found = [hit.split(" in ...")[0] for hit in course_internals(page)]
    assert found == ["'hidden tests'", "'fixture'", "'reference implementation'", "'solutions/'"]


@pytest.mark.parametrize("slug", ["sequences", *SLUGS, "long-range"])
def test_does_each_chapter_end_with_open_exercises(slug, built_site):
    page = (built_site / "book" / f"{slug}.html").read_text(encoding="utf-8")
    assert 'id="exercises"' in page, f"{slug} has no Exercises section"
    section = page[page.index('id="exercises"'):]
    assert len(re.findall(r"<li\b", section.split("</section>")[0])) >= 2, f"{slug}: at least two exercises"


def test_is_every_glued_value_computed_before_the_prose_that_quotes_it(built_site):
    """Jupyter Book 2 pastes a glued value where it stands in the page's order; Jupyter Book 1
    after the whole page has run. Prose that quotes a value before its cell would lose it there."""
    from tools.book import glue_order_problems

    assert glue_order_problems() == []
