"""Where learners find the course: the website's address and the helper package's wheel.

The website's address is one setting, ``html.baseurl`` in ``_config.yml``.
Where it is set, the released notebooks (which learners download and keep) and
the website's pages give absolute links and a one-line ``pip install <url>`` of
the wheel the website serves at its root. Where it is not, links stay relative
(they work on the website) and the install line names the downloaded file,
``pip install ./rnnlab-<version>-py3-none-any.whl``.

Standard library only: the website's local Sphinx extension reads it too.
"""

from __future__ import annotations

import re
from pathlib import Path

#: In a solution notebook, stands for what ``pip install`` takes to install rnnlab.
WHEEL_PLACEHOLDER = "{{rnnlab_wheel}}"
#: In a solution notebook's text, stands for a link to the wheel on the website.
WHEEL_LINK_PLACEHOLDER = "{{rnnlab_wheel_link}}"
#: A link from an assignment notebook to a page of the book, as the solutions write it.
BOOK_LINK = re.compile(r"\]\(\.\./\.\./book/(?P<page>[\w-]+)\.md(?P<anchor>#[\w-]+)?\)")


#: The repository this tooling comes from (a course directory elsewhere may hold no website).
REPOSITORY = Path(__file__).resolve().parent.parent.parent


def _read(root: Path, name: str) -> str:
    """A file of the course at ``root``, or of this repository when the course has none."""
    path = root / name if (root / name).is_file() else REPOSITORY / name
    return path.read_text(encoding="utf-8")


def site_url(root: Path) -> str:
    """``html.baseurl`` of ``_config.yml``, ending with a slash, or "" when it is not set."""
    config = _read(root, "_config.yml")
    html = re.search(r"^html:\s*\n((?:[ \t]+.*\n|\s*\n)*)", config, re.M)
    match = re.search(r"^[ \t]+baseurl:[ \t]*[\"']?([^\"'\s#]*)", html.group(1), re.M) if html else None
    url = match.group(1) if match else ""
    return url.rstrip("/") + "/" if url else ""


def rnnlab_version(root: Path) -> str:
    """The helper package's version, from ``pyproject.toml``."""
    pyproject = _read(root, "pyproject.toml")
    return re.search(r'^version\s*=\s*"([^"]+)"', pyproject, re.M).group(1)


def wheel_name(root: Path) -> str:
    return f"rnnlab-{rnnlab_version(root)}-py3-none-any.whl"


def wheel_requirement(root: Path) -> str:
    """What ``pip install`` takes: the wheel's URL on the website, or the downloaded file."""
    url = site_url(root)
    return f"{url}{wheel_name(root)}" if url else f"./{wheel_name(root)}"


def wheel_link(root: Path) -> str:
    """A link to the wheel, for an assignment notebook's text: absolute where the website's
    address is known; else relative to the notebook's page on the website (as an HTML link,
    which the website renders as it is, where a Markdown one would be a cross-reference)."""
    name, url = wheel_name(root), site_url(root)
    return f"[{name}]({url}{name})" if url else f'<a href="../../{name}">{name}</a>'


def localise(text: str, root: Path) -> str:
    """A released notebook cell's text with the install line and the wheel's link filled in,
    and, where the website's address is known, the links to the book made absolute."""
    text = text.replace(WHEEL_PLACEHOLDER, wheel_requirement(root)).replace(WHEEL_LINK_PLACEHOLDER, wheel_link(root))
    url = site_url(root)
    if url:
        text = BOOK_LINK.sub(lambda m: f"]({url}book/{m['page']}.html{m['anchor'] or ''})", text)
    return text
