"""Where things live in the course repository (see ../shared/course-design.md)."""

from pathlib import Path

#: The repository root, which is also nbgrader's course directory.
ROOT = Path(__file__).resolve().parent.parent

#: Every assignment's slug, in course order. A new assignment is added here.
SLUGS = ("rnn", "bptt", "lstm", "gru", "bidirectional")


def source_notebook(slug: str, root: Path = ROOT) -> Path:
    """The nbgrader source notebook: solutions and hidden tests."""
    return root / "solutions" / slug / f"{slug}.ipynb"


def release_notebook(slug: str, root: Path = ROOT) -> Path:
    """The released notebook learners receive, generated from the source."""
    return root / "exercises" / slug / f"{slug}.ipynb"
