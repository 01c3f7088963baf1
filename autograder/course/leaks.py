"""Find solution code or hidden tests where learners could read them.

A *secret* is a line of code from a ``### BEGIN SOLUTION`` region or a
``### BEGIN HIDDEN TESTS`` region of a source notebook. Secrets are compared
after normalisation (comments dropped, white space collapsed), and documents
after their HTML tags are stripped, so syntax highlighting cannot hide a leak.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from autograder.course.reference import cell_source
from autograder.course.submissions import SOLUTION_REGION

HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n(.*?)^[ \t]*### END HIDDEN TESTS", re.S | re.M)
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")

#: Lines shorter than this (after normalisation) are too generic to count as a
#: leak on their own (``return dx``, ``])``).
MIN_SECRET_LENGTH = 12

#: A solution line counts only if it computes something (a product, a
#: nonlinearity, a sum...). Bookkeeping lines that any loop over time contains,
#: such as ``h = np.zeros((N, T, H))`` or ``for t in range(T):``, teach nothing
#: of the answer and appear legitimately in the chapters' own code.
COMPUTES = re.compile(r"[@*/+]| - |tanh|sigmoid|exp|log|sqrt|clip|\.sum|concatenate|\.T\b|take_along_axis|where")

#: Files of a built site that are read as text.
TEXT_SUFFIXES = {".html", ".js", ".txt", ".ipynb", ".md", ".json", ".py", ".css"}


def normalise(text: str) -> str:
    """Collapse every run of white space to one space."""
    return re.sub(r"\s+", " ", text).strip()


def _code_only(line: str) -> str:
    return normalise(line.split("#", 1)[0])


@dataclass(frozen=True)
class Secret:
    kind: str  # "solution" or "hidden test"
    line: str  # normalised


def secrets(source_notebook: Path) -> list[Secret]:
    """Every solution line and hidden-test line of a source notebook.

    A line that also stands outside the secret regions, whole or inside a longer
    line (a call repeated in a visible check, ``expected_grads={``), is public
    by design and not counted.
    """
    notebook = json.loads(source_notebook.read_text(encoding="utf-8"))
    found: dict[str, Secret] = {}
    public: list[str] = []
    for cell in notebook["cells"]:
        source = cell_source(cell)
        outside = source
        for kind, pattern in (("solution", SOLUTION_REGION), ("hidden test", HIDDEN_REGION)):
            outside = pattern.sub("", outside)
            for region in pattern.finditer(source):
                for line in region.group(1).splitlines():
                    code = _code_only(line)
                    if len(code) >= MIN_SECRET_LENGTH and (kind == "hidden test" or COMPUTES.search(code)):
                        found.setdefault(code, Secret(kind, code))
        public.append(normalise(outside))
    public_text = "\n".join(public)
    return [secret for line, secret in found.items() if line not in public_text]


def visible_text(path: Path) -> str:
    """A document's text as a reader sees it: tags stripped, entities decoded, white space collapsed."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":
        raw = "\n".join(cell_source(c) for c in json.loads(raw)["cells"])
    elif path.suffix == ".html":
        raw = html.unescape(re.sub(r"<[^>]+>", "", raw))
    return normalise(raw)


def text_files(folder: Path) -> Iterable[Path]:
    return (p for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix in TEXT_SUFFIXES)


@dataclass(frozen=True)
class Leak:
    path: Path
    what: str


def find_leaks(documents: Iterable[Path], secret_list: list[Secret]) -> list[Leak]:
    """Every (document, secret) pair where the secret, or a marker line, appears in the document."""
    leaks = []
    for path in documents:
        text = visible_text(path)
        leaks += [Leak(path, f"marker {m!r}") for m in MARKERS if m in text]
        leaks += [Leak(path, f"{s.kind} line {s.line!r}") for s in secret_list if s.line in text]
    return leaks
