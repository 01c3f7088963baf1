"""Where things live in the course repository (see CONTRIBUTING.md)."""

from pathlib import Path

#: The repository root, which is also nbgrader's course directory.
ROOT = Path(__file__).resolve().parent.parent

#: Every assignment's slug, in course order. A new assignment is added here.
SLUGS = ("rnn", "bptt", "lstm", "gru", "bidirectional", "seq2seq")


def source_notebook(slug: str, root: Path = ROOT) -> Path:
    """The nbgrader source notebook: solutions and hidden tests."""
    return root / "solutions" / slug / f"{slug}.ipynb"


def release_notebook(slug: str, root: Path = ROOT) -> Path:
    """The released notebook learners receive, generated from the source."""
    return root / "exercises" / slug / f"{slug}.ipynb"


#: The help text of every command's ``--db`` option.
DB_HELP = ("gradebook as any SQLAlchemy URL, e.g. postgresql://user@host/course (default: "
           "CourseDirectory.db_url of nbgrader_config.py, which is SQLite in autograder/gradebook.db)")


def database_url(url: str) -> str:
    """A gradebook URL with the PostgreSQL driver the course installs named in it.

    SQLAlchemy reads ``postgresql://...`` (and ``postgres://...``) as psycopg2's;
    the course's environment has psycopg 3, whose SQLAlchemy name is
    ``postgresql+psycopg://...``. Every other URL (SQLite, or one that names
    its driver) is returned unchanged.
    """
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


def gradebook_url(root: Path = ROOT) -> str:
    """The course's gradebook, as ``nbgrader_config.py`` sets it (``CourseDirectory.db_url``).

    The course's configuration puts it in SQLite under autograder/ (ignored by
    git); a relative SQLite path is taken from the course directory, as nbgrader
    does when run there. Change it in nbgrader_config.py to any SQLAlchemy URL
    (e.g. ``postgresql://host/course``), or pass ``--db URL`` to a command.
    """
    from traitlets.config.loader import PyFileConfigLoader  # comes with nbgrader

    url = ""
    if (root / "nbgrader_config.py").is_file():
        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
        url = str(config.CourseDirectory.get("db_url", ""))
    url = database_url(url or "sqlite:///autograder/gradebook.db")
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url[len(prefix):].startswith("/"):
        url = prefix + str(root / url[len(prefix):])
    return url
