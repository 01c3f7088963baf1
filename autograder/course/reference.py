"""Load the reference implementations from an assignment's source notebook.

The book's experiments and the test suite call the *reference* functions, so
there is one implementation of each graded function in the repository: the one
in ``solutions/<slug>/<slug>.ipynb``. This module executes that notebook's
setup and solution cells (never its test cells) in a fresh namespace.

Usage (from a chapter, in a cell whose input is removed from the page)::

    from autograder.course.reference import load_reference
    ref = load_reference("rnn")
    next_h, cache = ref.rnn_step_forward(x, prev_h, Wx, Wh, b)
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from types import SimpleNamespace

from autograder.paths import ROOT, source_notebook


def nbgrader_meta(cell: dict) -> dict:
    """A cell's nbgrader metadata ({} when absent or malformed, as in a tampered submission)."""
    metadata = cell.get("metadata")
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def reference_cells(notebook: dict) -> list[dict]:
    """The code cells that define the reference: read-only setup cells and solution cells.

    Test cells (``grade: true`` without ``solution``) are skipped: they check,
    they do not define.
    """
    cells = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        meta = nbgrader_meta(cell)
        if meta.get("solution") or (meta.get("locked") and not meta.get("grade")):
            cells.append(cell)
    return cells


def cell_source(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


#: Top-level statements that define something. Anything else in a reference
#: cell (a demonstration that trains a model and prints samples, a call that
#: changes how IPython shows errors) is skipped: loading must be quick and quiet.
DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign, ast.Try)
#: Assignments count as definitions only when they call nothing (constants,
#: hint texts): ``params, losses = train_on_corpus(400)`` is a demonstration.
ASSIGNMENTS = (ast.Assign, ast.AnnAssign)


def is_definition(node: ast.stmt) -> bool:
    if isinstance(node, ASSIGNMENTS):
        return not any(isinstance(part, ast.Call) for part in ast.walk(node))
    return isinstance(node, DEFINITIONS)


def definitions_tree(source: str, filename: str = "<cell>") -> ast.Module:
    """A cell's syntax tree with only its defining top-level statements."""
    tree = ast.parse(source, filename)
    tree.body = [node for node in tree.body if is_definition(node)]
    return tree


def definitions_only(source: str, filename: str):
    """Compile only the defining top-level statements of a cell."""
    return compile(definitions_tree(source, filename), filename, "exec")


def load_reference(slug: str, root: Path = ROOT) -> SimpleNamespace:
    """Execute the definitions in the reference cells of ``solutions/<slug>/<slug>.ipynb``.

    Returns a namespace whose attributes are everything those cells define
    (``rnn_step_forward``, ``np``, ...).
    """
    path = source_notebook(slug, root)
    notebook = json.loads(path.read_text(encoding="utf-8"))
    namespace: dict = {"__name__": f"reference_{slug}"}
    for index, cell in enumerate(reference_cells(notebook)):
        code = definitions_only(cell_source(cell), f"{path.name}[cell {index}]")
        exec(code, namespace)  # noqa: S102 - trusted: the course's own source notebook
    # The dict is the loaded functions' globals: leave it whole (built-ins included)
    # and expose a filtered view.
    return SimpleNamespace(**{name: value for name, value in namespace.items() if name != "__builtins__"})


def definitions_only_source(source: str) -> str:
    """The defining top-level statements of a cell, as source code (comments dropped).

    What the grader runs of a read-only cell, on both sides: the helpers and
    constants the checks and the learner's functions need, without the cell's
    demonstrations (an ungraded training run would only cost time).
    """
    return ast.unparse(definitions_tree(source))
