"""Does what a reader reads and downloads hold up: cross-references that read as prose, and no
download of a chapter that could not run on the reader's machine?"""

from __future__ import annotations

import re
from html import unescape

import pytest

from conftest import toc_files

pytestmark = pytest.mark.slow

#: A cross-reference whose title starts with "The" after "the": "the The vanilla RNN chapter".
DOUBLED_ARTICLE = re.compile(r"\b[Tt]he\s+The\b")


def visible_text(html: str) -> str:
    """The page's text as a reader sees it: no scripts, styles or tags, entities decoded."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def doubled_articles(html: str) -> list[str]:
    text = visible_text(html)
    return [text[max(0, m.start() - 40):m.end() + 30] for m in DOUBLED_ARTICLE.finditer(text)]


@pytest.mark.parametrize("page", toc_files())
def test_does_no_cross_reference_read_the_the(page, built_site):
    found = doubled_articles((built_site / f"{page}.html").read_text(encoding="utf-8"))
    assert not found, f"{page}: a link title doubles its article: {found}"


def test_would_a_doubled_article_split_by_a_link_be_found():
    html = '<p>the vanilla RNN of the <a href="rnn.html"><span class="doc">The vanilla RNN</span></a> chapter</p>'
    assert doubled_articles(html) and not doubled_articles(html.replace("The vanilla", "vanilla"))


def chapter_pages() -> list[str]:
    return [page for page in toc_files() if page.startswith("book/")]


@pytest.mark.parametrize("page", chapter_pages())
def test_does_a_chapter_offer_no_source_that_could_not_run_for_its_reader(page, built_site):
    """A chapter runs with the course's reference code and tools, which readers do not get."""
    html = (built_site / f"{page}.html").read_text(encoding="utf-8")
    assert "download-source-button" not in html and "download-notebook-button" not in html, page
    assert "launch-buttons" not in html, page
    assert "_sources/" not in html, f"{page} links its source"


def test_is_no_chapter_source_copied_into_the_site(built_site):
    assert not (built_site / "_sources" / "book").exists()
    assert not list(built_site.rglob("_sources/book/*"))


@pytest.mark.parametrize("slug", ["rnn", "seq2seq"])
def test_does_an_assignment_page_still_offer_its_notebook(slug, built_site):
    html = (built_site / "exercises" / slug / f"{slug}.html").read_text(encoding="utf-8")
    assert f"_sources/exercises/{slug}/{slug}.ipynb" in html
    assert (built_site / "_sources" / "exercises" / slug / f"{slug}.ipynb").is_file()


def test_does_no_chapter_send_readers_to_a_download_button(built_site):
    for page in chapter_pages():
        text = visible_text((built_site / f"{page}.html").read_text(encoding="utf-8"))
        # Get started points at the download button of an assignment's page, which has one.
        assert "download button" not in text.lower() or page == "book/get-started", page

