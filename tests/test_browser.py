"""Does every page work in a real browser, as readers get it?

Headless Chromium (Debian's ``chromium`` and ``chromium-driver``), driven by
Selenium, opens the built site from a local web server. For every page in
``_toc.yml``: no console error, no request to another host, every image
loaded, equations typeset by MathJax with no raw ``$…$`` left, and no
horizontal scrolling at phone width. The navigation must reach every page and
each assignment's download link must return its notebook. A screenshot of each
page goes to ``artifacts/screenshots/`` (desktop and phone width): look at them.

Without Chromium these tests are skipped with a loud message saying how to
install it, unless ``COURSE_REQUIRE_BROWSER=1`` (set by .ci/run), where its
absence is a failure.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import threading
import urllib.request
from pathlib import Path

import pytest

from autograder.paths import ROOT
from conftest import toc_files

pytestmark = pytest.mark.slow

HOW_TO_INSTALL = ("Chromium and ChromeDriver are needed for the browser tests: on Debian or Ubuntu run "
                  "`sudo apt-get install chromium chromium-driver` (`python3 dev.py test` does this where it can).")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PHONE = (375, 812)
DESKTOP = (1280, 900)


#: Every page of _toc.yml, as its path in the built site (``book/rnn.html``).
PAGES = [f"{name}.html" for name in toc_files()]
#: Pages with equations and figures: the notation, the chapters and the appendix.
CHAPTERS = [p for p in PAGES if p.startswith("book/")
            and not p.endswith(("intro.html", "bibliography.html", "get-started.html"))]
ASSIGNMENTS = [p for p in PAGES if p.startswith("exercises/")]


@pytest.fixture(scope="session")
def site_url(built_site):
    """The built site served over HTTP on localhost, as a web server would serve it."""
    handler = functools.partial(QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        message = f"no {'chromium' if not chromium else 'chromedriver'} on PATH. {HOW_TO_INSTALL}"
        if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        print(f"\n{'!' * 78}\nBROWSER TESTS SKIPPED: {message}\n{'!' * 78}")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--disable-extensions", "--hide-scrollbars"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.set_page_load_timeout(60)
    chrome.set_script_timeout(60)
    yield chrome
    chrome.quit()


def open_page(browser, url: str, size=DESKTOP) -> None:
    """Load ``url`` and wait until MathJax has typeset it and every image has settled."""
    browser.set_window_size(*size)
    browser.get_log("performance")  # drop what earlier pages logged
    browser.get_log("browser")
    browser.get(url)
    browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const images = Array.from(document.images).map(img => img.complete ? null :
            new Promise(resolve => { img.onload = img.onerror = resolve; })).filter(Boolean);
        const math = (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve();
        Promise.all([math, ...images]).then(() => done(true), () => done(false));
    """)


@pytest.fixture(scope="session")
def visits(browser, site_url) -> dict[str, dict]:
    """Each page visited once at desktop and once at phone width; what the browser saw."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    seen = {}
    for page in PAGES:
        open_page(browser, site_url + page)
        requests = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
        urls = [m["params"]["request"]["url"] for m in requests if m["method"] == "Network.requestWillBeSent"]
        report = browser.execute_script(PAGE_REPORT)
        report["console"] = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        report["requests"] = urls
        name = page.replace("/", "_").removesuffix(".html")
        browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
        open_page(browser, site_url + page, PHONE)
        report["phone"] = browser.execute_script(
            "return {scroll: document.documentElement.scrollWidth, width: window.innerWidth};")
        browser.save_screenshot(str(SCREENSHOTS / f"{name}-phone.png"))
        seen[page] = report
    return seen


#: What a page holds once loaded: broken images, typeset equations, raw TeX left
#: in the text (outside code), the navigation's links and the download links.
PAGE_REPORT = """
const article = document.querySelector('article') || document.body;
const text = article.cloneNode(true);
text.querySelectorAll('pre, code, mjx-container, script, style, .highlight').forEach(n => n.remove());
const raw = (text.textContent.match(/\\$\\$[^$]+\\$\\$|\\$[^$\\s][^$]{0,200}?\\$|\\\\\\(|\\\\\\[/g) || []);
return {
  broken_images: Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
  images: document.images.length,
  equations: document.querySelectorAll('mjx-container').length,
  math_sources: document.querySelectorAll('.math, span.math, div.math').length,
  raw_tex: raw.slice(0, 5),
  nav: Array.from(document.querySelectorAll('.bd-sidebar-primary nav a, .bd-sidenav a')).map(a => a.href),
  downloads: Array.from(document.querySelectorAll('a[href$=".ipynb"], a[href*="_sources/"]')).map(a => a.href),
};
"""


@pytest.mark.parametrize("page", PAGES)
def test_does_the_page_load_without_console_errors(visits, page):
    assert visits[page]["console"] == [], visits[page]["console"]


@pytest.mark.parametrize("page", PAGES)
def test_does_the_page_request_nothing_from_another_host(visits, site_url, page):
    foreign = [u for u in visits[page]["requests"] if not u.startswith((site_url, "data:", "blob:", "about:"))]
    assert foreign == [], foreign


@pytest.mark.parametrize("page", PAGES)
def test_has_every_image_loaded(visits, page):
    assert visits[page]["broken_images"] == []


@pytest.mark.parametrize("page", CHAPTERS)
def test_are_the_equations_typeset_with_no_raw_tex_left(visits, page):
    assert visits[page]["equations"] > 0, "no MathJax output on a chapter page"
    assert visits[page]["equations"] >= visits[page]["math_sources"]
    assert visits[page]["raw_tex"] == []


@pytest.mark.parametrize("page", [p for p in CHAPTERS if not p.endswith("notation.html")])  # notation: tables only
def test_does_every_chapter_show_its_figures(visits, page):
    assert visits[page]["images"] > 0


@pytest.mark.parametrize("page", PAGES)
def test_is_there_no_horizontal_scrolling_at_phone_width(visits, page):
    phone = visits[page]["phone"]
    assert phone["scroll"] <= phone["width"], f"{page} is {phone['scroll']} px wide in a {phone['width']} px screen"


def test_does_the_navigation_reach_every_chapter_and_assignment(visits, site_url):
    linked = {url.split("#")[0].removeprefix(site_url) for url in visits[PAGES[0]]["nav"]}
    missing = [page for page in PAGES[1:] if page not in linked]
    assert missing == [], f"not in the navigation of the home page: {missing}"


@pytest.mark.parametrize("page", ASSIGNMENTS)
def test_does_the_download_link_return_the_notebook(visits, site_url, page):
    slug = Path(page).stem
    links = [url for url in visits[page]["downloads"] if url.startswith(site_url) and url.endswith(f"/{slug}.ipynb")]
    assert links, f"no download link to {slug}.ipynb on {page}: {visits[page]['downloads']}"
    with urllib.request.urlopen(links[0], timeout=30) as response:  # noqa: S310 - the local server
        notebook = json.loads(response.read())
    assert notebook["nbformat"] == 4
    released = json.loads((ROOT / "exercises" / slug / f"{slug}.ipynb").read_text(encoding="utf-8"))
    assert notebook["cells"] == released["cells"]


@pytest.mark.parametrize("page", CHAPTERS)
def test_does_a_chapter_offer_only_assignment_notebooks_that_download(visits, site_url, page):
    """A chapter's own source would not run for its reader: the notebooks it offers are assignments."""
    assignments = {f"/{Path(a).stem}.ipynb" for a in ASSIGNMENTS}
    for url in visits[page]["downloads"]:
        assert url.endswith(tuple(assignments)) and "_sources/book" not in url, f"{page} offers {url}"
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - the local server
            assert json.loads(response.read())["nbformat"] == 4


def test_do_figures_stay_readable_in_dark_mode(browser, site_url, visits):
    """In dark mode the figures (drawn for a white page) sit on a light card, not on the dark page."""
    browser.get(site_url + "book/bptt.html")
    browser.execute_script("localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');")
    open_page(browser, site_url + "book/bptt.html")
    theme, page, figure = browser.execute_script("""
        const img = document.querySelector('article img');
        return [document.documentElement.dataset.theme, getComputedStyle(document.body).backgroundColor,
                getComputedStyle(img).backgroundColor];""")
    browser.save_screenshot(str(SCREENSHOTS / "book_bptt-dark.png"))
    browser.execute_script("localStorage.clear();")
    def channels(css: str) -> list[int]:
        return [int(v) for v in css[css.index("(") + 1:css.index(")")].split(",")[:3]]

    assert theme == "dark" and max(channels(page)) < 80, page
    assert min(channels(figure)) >= 180, f"figure background {figure} in dark mode"
