"""Does the built website stand on its own: no request to any other host?

Readers behind a campus firewall, offline or unwilling to be tracked get the
whole site: every script, style sheet, font, image and MathJax itself is served
from the site. Links *to* other sites (a paper's DOI) are fine: following one is
the reader's choice, not a request the page makes.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from autograder.paths import ROOT
from conftest import toc_files

pytestmark = pytest.mark.slow

EXTERNAL = re.compile(r"^(https?:)?//", re.I)
#: Attributes that make the browser fetch what they point at.
FETCHING = {("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src"), ("video", "src"),
            ("audio", "src"), ("embed", "src"), ("object", "data"), ("img", "srcset"), ("source", "srcset"),
            ("video", "poster")}
#: <link rel=...> values that fetch (a "canonical" link does not).
FETCHING_LINKS = {"stylesheet", "preload", "modulepreload", "icon", "shortcut icon", "apple-touch-icon",
                  "manifest", "prefetch", "preconnect", "dns-prefetch"}
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])(?P<url>[^'")\s]+)""", re.I)
JS_URL = re.compile(r"""['"`](?P<url>https?://[^'"`\s]+)""")
#: URL strings in the site's JavaScript that a page never fetches on its own:
#: XML namespace names; documentation links in the theme's console messages
#: and MathJax's "About" box; and MathJax's speech engine and Internet Explorer
#: XPath shim, loaded only if a reader switches speech on in MathJax's menu (or
#: uses Internet Explorer). The browser tests record every request pages make.
NOT_REQUESTS = ("http://www.w3.org/", "http://exslt.org/", "https://pydata-sphinx-theme.readthedocs.io/",
                "https://developer.mozilla.org/", "https://clipboardjs.com/", "https://www.mathjax.org",
                "https://cdn.jsdelivr.net/npm/sre-mathmaps-ie@", "https://cdn.jsdelivr.net/npm/speech-rule-engine@",
                "https://cdn.jsdelivr.net/npm/wicked-good-xpath@")


class ResourceFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if value and (tag, name) in FETCHING:
                self.urls += [part.split()[0] for part in value.split(",") if part.strip()] if name == "srcset" else [value]
        if tag == "link" and (attrs.get("rel") or "").lower() in FETCHING_LINKS and attrs.get("href"):
            self.urls.append(attrs["href"])
        if attrs.get("style"):
            self.urls += [m.group("url") for m in CSS_URL.finditer(attrs["style"])]


def external_requests(site: Path) -> list[str]:
    """Every reference in the site's HTML, CSS and JavaScript that would fetch from another host."""
    found = []
    for path in sorted(site.rglob("*")):
        if path.suffix == ".html":
            finder = ResourceFinder()
            text = path.read_text(encoding="utf-8", errors="replace")
            finder.feed(text)
            urls = finder.urls + [m.group("url") for block in re.findall(r"<style[^>]*>(.*?)</style>", text, re.S)
                                  for m in CSS_URL.finditer(block)]
        elif path.suffix == ".css":
            urls = [m.group("url") for m in CSS_URL.finditer(path.read_text(encoding="utf-8", errors="replace"))]
        elif path.suffix in (".js", ".mjs"):
            urls = [m.group("url") for m in JS_URL.finditer(path.read_text(encoding="utf-8", errors="replace"))]
            urls = [url for url in urls if not url.startswith(NOT_REQUESTS)]
        else:
            continue
        found += [f"{path.relative_to(site)}: {url}" for url in urls if EXTERNAL.match(url)]
    return found


def test_does_the_built_site_request_nothing_from_another_host(built_site):
    found = external_requests(built_site)
    assert not found, "external requests in the built site:\n" + "\n".join(found[:40])


def test_is_mathjax_served_by_the_site_itself(built_site):
    page = (built_site / "book" / "rnn.html").read_text(encoding="utf-8")
    assert 'src="../_static/mathjax/tex-mml-chtml.js' in page
    assert (built_site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


def test_would_the_scan_catch_a_cdn_script_a_web_font_and_a_remote_image(tmp_path):
    (tmp_path / "page.html").write_text(
        '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
        '<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Lato">'
        '<a href="https://doi.org/10.1162/neco.1997.9.8.1735">a paper</a>'
        '<img srcset="local.png 1x, https://example.org/big.png 2x">')
    (tmp_path / "style.css").write_text("@font-face { src: url('https://fonts.gstatic.com/x.woff2'); }")
    (tmp_path / "app.js").write_text("fetch('https://www.google-analytics.com/collect')")
    assert external_requests(tmp_path) == [
        "app.js: https://www.google-analytics.com/collect",
        "page.html: https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js",
        "page.html: //fonts.googleapis.com/css?family=Lato",
        "page.html: https://example.org/big.png",
        "style.css: https://fonts.gstatic.com/x.woff2",
    ]


def test_would_a_tampered_mathjax_download_be_refused():
    from tools.mathjax import verify, wanted

    with pytest.raises(RuntimeError, match="does not match its published sha512"):
        verify(b"not the MathJax release")
    assert wanted("package/es5/tex-mml-chtml.js") == "tex-mml-chtml.js"
    assert wanted("package/es5/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff") == \
        "output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff"
    assert wanted("package/es5/output/svg.js") is None  # only what the pages use is kept


class LinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "src"):
            if attrs.get(name):
                self.links.append(attrs[name])


def broken_internal_links(site: Path) -> list[str]:
    """Every relative link or resource of a page that points at no file of the site."""
    broken = []
    for page in sorted(site.rglob("*.html")):
        if "_static" in page.relative_to(site).parts:
            continue  # the themes' Jinja macro files, copied as assets, are not pages
        finder = LinkFinder()
        finder.feed(page.read_text(encoding="utf-8", errors="replace"))
        for link in finder.links:
            if re.match(r"^([a-z][a-z0-9+.-]*:|//|#)", link, re.I):
                continue  # another site, mailto:, javascript:, data:, or this page
            target = (page.parent / link.split("#")[0].split("?")[0]).resolve()
            if not target.exists():
                broken.append(f"{page.relative_to(site)}: {link}")
    return broken


def test_does_every_internal_link_of_the_site_lead_somewhere(built_site):
    broken = broken_internal_links(built_site)
    assert not broken, "broken links:\n" + "\n".join(broken[:40])


def test_would_a_broken_internal_link_be_found(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#x">ok</a><a href="missing.html">no</a><img src="img/gone.png">')
    (tmp_path / "b.html").write_text("<p>b</p>")
    assert broken_internal_links(tmp_path) == ["a.html: missing.html", "a.html: img/gone.png"]


#: Addresses that stand for a real one in examples: none may reach a built site.
PLACEHOLDER_HOSTS = re.compile(r"\bexample\.(?:edu|org|com)\b", re.I)
#: What a launch button or a repository button links to.
LAUNCH_LINKS = re.compile(r"""href=["'][^"']*(?:mybinder\.org|colab\.research\.google\.com|/hub/user-redirect"""
                          r"""|github\.com/[^"'/]+/[^"'/]+/(?:blob|edit|issues))""", re.I)


def configured_repository() -> str:
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return (config.get("repository") or {}).get("url") or ""


def test_does_no_placeholder_address_or_unconfigured_launch_button_reach_the_site(built_site):
    pages = {page: page.read_text(encoding="utf-8", errors="replace") for page in built_site.rglob("*.html")
             if "_static" not in page.relative_to(built_site).parts}
    assert not [str(p.relative_to(built_site)) for p, text in pages.items() if PLACEHOLDER_HOSTS.search(text)]
    if not configured_repository():  # launch buttons need the course's repository: none without it
        assert not [str(p.relative_to(built_site)) for p, text in pages.items() if LAUNCH_LINKS.search(text)]


def test_would_a_placeholder_or_a_launch_button_be_found():
    assert PLACEHOLDER_HOSTS.search('<a href="https://hub.example.edu/hub/login">')
    assert LAUNCH_LINKS.search('<a href="https://mybinder.org/v2/gh/someone/course/main">')
    assert LAUNCH_LINKS.search("<a href='https://colab.research.google.com/github/a/b/blob/main/x.ipynb'>")
    assert not LAUNCH_LINKS.search('<a href="https://karpathy.github.io/2015/05/21/rnn-effectiveness/">')


@pytest.mark.parametrize("page", [f"{name}.html" for name in toc_files() if name.startswith("exercises/")])
def test_does_every_assignment_page_link_get_started_and_the_wheel(built_site, page):
    from autograder.course.links import wheel_name

    text = (built_site / page).read_text(encoding="utf-8")
    assert 'href="../../book/get-started.html"' in text
    assert f'href="../../{wheel_name(ROOT)}"' in text or f'{wheel_name(ROOT)}"' in text
    assert (built_site / wheel_name(ROOT)).is_file()


def test_does_get_started_give_the_install_line_and_the_wheel(built_site):
    from autograder.course.links import wheel_name, wheel_requirement

    import html

    page = (built_site / "book" / "get-started.html").read_text(encoding="utf-8")
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())  # as read, without highlighting
    assert f"pip install {wheel_requirement(ROOT)}" in text
    assert f'href="../{wheel_name(ROOT)}"' in page
    # Without the site's address the line names the downloaded file: the page says where it goes.
    from autograder.course.links import site_url

    if not site_url(ROOT):
        assert ("First download the wheel with the link above into your course folder (the one made in "
                "step 1). Then, in that folder: pip install ./") in text
    assert "jupyter lab" in text and "nbgrader validate" in text


def test_does_binder_install_the_pinned_versions():
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    for line in (ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            assert f'{line}; python_version >= "3.11"' in lock or f"{line}\n" in lock, line
