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


def gradebook_url(root: Path = ROOT) -> str:
    """The default gradebook: SQLite under autograder/ (ignored by git).

    Every command that reads or writes grades takes ``--db URL`` to use any
    SQLAlchemy URL instead (e.g. ``postgresql://host/course``).
    """
    return f"sqlite:///{root / 'autograder' / 'gradebook.db'}"
