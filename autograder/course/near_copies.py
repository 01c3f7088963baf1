"""Find graded functions copied with their names changed.

The text comparison of :mod:`autograder.course.leaks` finds a solution line wherever it
appears, but a graded body retyped with other names (``char_rnn_loss`` printed
as ``char_lstm_loss``, ``h`` renamed ``states``, ``rnn_forward`` replaced by
``lstm_forward``) shares no line with it and still hands over the answer. This
module compares *structure*:

1. Every statement is normalised: a name becomes its role (``ARG``, a parameter
   of the function; ``VAR``, a variable it assigns; ``EXT``, anything else, such
   as a function it calls), attribute and keyword names become ``ATTR`` and
   ``KW``, constants their kind (``STR``, ``NUM``). So ``V = params["Wx"].shape[0]``
   and ``vocabulary = weights["Wy"].shape[1]`` are the same statement, and so are
   calls to ``rnn_forward`` and ``lstm_forward``. Roles, rather than one
   placeholder for every name, keep the data flow: a training loop that calls a
   loss function is not the same code as the loss function. A compound statement
   (``for``, ``if``, ``with``...) contributes its header, then its body's
   statements, in order.
2. Two normalised statements *match* when their token sequences are at least
   :data:`STATEMENT_SIMILARITY` alike (difflib's ratio), so one more argument or
   one more target of a tuple assignment does not hide a copy.
3. A candidate (a code cell, or a module of the helper package) *copies* a graded
   function when the longest common subsequence of matching statements, taken in
   order, covers at least :data:`COPIED_SHARE` of the graded body.

Graded bodies shorter than :data:`MIN_TOKENS` tokens are left to the
text comparison: three generic statements (an affine map, a ``tanh``, a
return) would match much honest code.
"""

from __future__ import annotations

import ast
import copy
import difflib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from autograder.course.reference import cell_source
from autograder.course.submissions import SOLUTION_REGION

#: Share of a graded body's statements that a candidate must reproduce, in order, to be flagged.
#: Measured on the course (``python -m autograder.course.near_copies`` prints the closest pairs): honest
#: code reached at most 56 % of a graded body, the renamed copies that once stood in the LSTM and
#: GRU chapters (``char_rnn_loss`` with its recurrent layer swapped) 70 %.
COPIED_SHARE = 0.65
#: How alike two normalised statements' tokens must be to count as the same statement.
STATEMENT_SIMILARITY = 0.8
#: Graded bodies with fewer normalised tokens are too generic to compare by structure (an affine
#: map, a ``tanh`` and a return match much honest code); the text comparison covers them.
MIN_TOKENS = 60

_TOKENS = re.compile(r"\w+|[^\s\w]")


class _Roles(ast.NodeTransformer):
    """Replace names by their roles, attribute and keyword names and constants by their kinds."""

    def __init__(self, parameters: set[str], assigned: set[str]):
        self.parameters, self.assigned = parameters, assigned

    def visit_Name(self, node: ast.Name) -> ast.AST:
        role = "ARG" if node.id in self.parameters else "VAR" if node.id in self.assigned else "EXT"
        return ast.copy_location(ast.Name(role, node.ctx), node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        node.attr = "ATTR"
        return node

    def visit_keyword(self, node: ast.keyword) -> ast.AST:
        self.generic_visit(node)
        node.arg = "KW" if node.arg is not None else None
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg, node.annotation = "ARG", None
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        kind = ("STR" if isinstance(value, (str, bytes)) else
                "NUM" if isinstance(value, (int, float, complex)) and not isinstance(value, bool) else "CONST")
        return ast.copy_location(ast.Name(kind, ast.Load()), node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:  # an f-string is a string constant
        return ast.copy_location(ast.Name("STR", ast.Load()), node)


#: Statements whose bodies are flattened after their header.
_BODIES = ("body", "orelse", "finalbody", "handlers")


def _header(node: ast.stmt) -> ast.stmt:
    """A copy of a statement without its bodies (``for VAR in EXT(ARG): pass``)."""
    header = copy.copy(node)  # shallow: the bodies are dropped before the deep copy, never copied
    for field in _BODIES:
        if isinstance(getattr(header, field, None), list):
            setattr(header, field, [ast.Pass()] if field == "body" else [])
    return copy.deepcopy(header)  # the caller's tree stays as it was


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def statement_nodes(nodes: Iterable[ast.stmt]) -> Iterator[ast.stmt | ast.excepthandler]:
    """The statements of a body in the order :func:`statements` normalises them, one for each
    normalised statement: docstrings left out, a compound statement (its header) before its
    bodies' statements, an ``except`` clause as itself before its body's."""
    for node in nodes:
        if _is_docstring(node):
            continue
        yield node
        for field in _BODIES:
            children = getattr(node, field, None)
            if not isinstance(children, list):
                continue
            if field == "handlers":
                for handler in children:
                    yield handler
                    yield from statement_nodes(handler.body)
            else:
                yield from statement_nodes(children)


def _flatten(nodes: Iterable[ast.stmt], roles: _Roles) -> Iterator[tuple[str, ...]]:
    for node in statement_nodes(nodes):
        if isinstance(node, ast.excepthandler):
            yield ("except",)
        else:
            yield tuple(_TOKENS.findall(ast.unparse(roles.visit(_header(node)))))


def statements(body: list[ast.stmt], parameters: ast.arguments | None = None) -> tuple[tuple[str, ...], ...]:
    """Each statement of a function body (or of loose code) as normalised tokens, in source order."""
    names = set()
    if parameters is not None:
        every = parameters.posonlyargs + parameters.args + parameters.kwonlyargs
        every += [a for a in (parameters.vararg, parameters.kwarg) if a is not None]
        names = {a.arg for a in every}
    assigned = {node.id for statement in body for node in ast.walk(statement)
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    return tuple(_flatten(body, _Roles(names, assigned - names)))


@lru_cache(maxsize=None)
def _token_counts(statement: tuple[str, ...]) -> Counter:
    return Counter(statement)


@lru_cache(maxsize=None)
def _alike(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Is ``difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()`` at least STATEMENT_SIMILARITY?

    Two upper bounds of that ratio come first, each computed as difflib computes it (its
    ``real_quick_ratio``, from the lengths, and ``quick_ratio``, from the tokens in common whatever
    their order): most pairs fail one, and never build the matcher, which costs most."""
    if a == b:
        return True
    length = len(a) + len(b)
    if 2.0 * min(len(a), len(b)) / length < STATEMENT_SIMILARITY:
        return False
    if 2.0 * sum((_token_counts(a) & _token_counts(b)).values()) / length < STATEMENT_SIMILARITY:
        return False
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= STATEMENT_SIMILARITY


def copied_share(graded: list[tuple[str, ...]], candidate: list[tuple[str, ...]]) -> float:
    """How much of the graded body the candidate reproduces in order, 0..1.

    The longest common subsequence of matching statements, each weighted by its
    number of tokens: ``return (_, _)`` says less about an answer than a
    five-argument call.
    """
    total = sum(len(g) for g in graded)
    if not total:
        return 0.0
    previous = [0] * (len(candidate) + 1)
    for g in graded:
        row = [0]
        for j, c in enumerate(candidate):
            row.append(previous[j] + len(g) if _alike(g, c) else max(previous[j + 1], row[j]))
        previous = row
    return previous[-1] / total


# -- what is graded ------------------------------------------------------------------

@dataclass(frozen=True)
class GradedFunction:
    slug: str
    name: str
    body: tuple[tuple[str, ...], ...]  # normalised statements


def graded_functions(source_notebook: Path) -> list[GradedFunction]:
    """The functions of a source notebook whose bodies hold a solution region, normalised."""
    notebook = json.loads(source_notebook.read_text(encoding="utf-8"))
    slug = source_notebook.stem
    found = []
    for cell in notebook["cells"]:
        source = cell_source(cell)
        regions = [source.count("\n", 0, m.start()) + 1 for m in SOLUTION_REGION.finditer(source)]
        if cell.get("cell_type") != "code" or not regions:
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef) and any(node.lineno <= r <= node.end_lineno for r in regions):
                found.append(GradedFunction(slug, node.name, statements(node.body, node.args)))
    return found


# -- what learners receive -----------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    where: str  # "book/lstm.md, code cell 12"
    body: tuple[tuple[str, ...], ...]


def parse_cell(source: str, where: str) -> ast.Module:
    """A cell's syntax tree, IPython's magics and shell escapes turned into Python first."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError as error:  # an unreadable cell must not pass unexamined
        raise ValueError(f"{where}: cannot be parsed to look for copies ({error.msg}, line {error.lineno})") from None


def units(tree: ast.Module, where: str) -> list[Candidate]:
    """The pieces of code compared one by one: every function (a copy is usually one) and the
    statements outside functions and classes. Comparing a whole module at once would let a long
    file collect a graded body's generic statements from unrelated places."""
    return [Candidate(f"{where}, {name}()" if name else where, statements(body, parameters))
            for name, body, parameters in unit_bodies(tree)]


def unit_bodies(tree: ast.Module) -> list[tuple[str | None, list[ast.stmt], ast.arguments | None]]:
    """What :func:`units` compares, as (function name, body, parameters): every function, then
    the statements outside functions and classes (named None, without parameters)."""
    functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    loose = [node for node in tree.body if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    found = [(f.name, f.body, f.args) for f in functions]
    return found + [(None, loose, None)] if loose else found


def markdown_cells(page: Path) -> list[Candidate]:
    """The code of every code cell of a MyST markdown notebook (a chapter), hidden cells included."""
    from myst_nb.core.read import read_myst_markdown_notebook

    notebook = read_myst_markdown_notebook(page.read_text(encoding="utf-8"), path=str(page))
    code = [c for c in notebook.cells if c.cell_type == "code"]
    return [unit for i, c in enumerate(code)
            for unit in units(parse_cell(c.source, f"{page.name} cell {i + 1}"), f"{page.name}, code cell {i + 1}")]


def notebook_cells(path: Path) -> list[Candidate]:
    """The code of every code cell of a Jupyter notebook (a released assignment)."""
    cells = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    return [unit for i, c in enumerate(cells)
            for unit in units(parse_cell(cell_source(c), f"{path.name} cell {i + 1}"),
                              f"{path.name}, code cell {i + 1}")]


def python_module(path: Path) -> list[Candidate]:
    return units(parse_cell(path.read_text(encoding="utf-8"), path.name), path.name)


@dataclass(frozen=True)
class NearCopy:
    where: str
    graded: str  # "bptt: char_rnn_loss"
    share: float

    def __str__(self) -> str:
        return f"{self.where} reproduces {self.share:.0%} of the graded {self.graded}"


def scores(candidates: Iterable[Candidate], graded: list[GradedFunction]) -> list[NearCopy]:
    """Every (candidate, graded function) pair with its copied share, highest first."""
    comparable = [g for g in graded if sum(map(len, g.body)) >= MIN_TOKENS]
    found = [NearCopy(c.where, f"{g.slug}: {g.name}", copied_share(list(g.body), list(c.body)))
             for c in candidates for g in comparable]
    return sorted(found, key=lambda n: -n.share)


def find_near_copies(candidates: Iterable[Candidate], graded: list[GradedFunction]) -> list[NearCopy]:
    """The pairs at or above :data:`COPIED_SHARE`."""
    return [n for n in scores(candidates, graded) if n.share >= COPIED_SHARE]


def main() -> None:
    """Print the closest pairs in the course, to see how far honest code is from the threshold."""
    from autograder.paths import ROOT, SLUGS, release_notebook, source_notebook

    graded = [g for slug in SLUGS for g in graded_functions(source_notebook(slug))]
    candidates = [c for page in sorted((ROOT / "book").glob("*.md")) for c in markdown_cells(page)]
    candidates += [c for slug in SLUGS for c in notebook_cells(release_notebook(slug))]
    candidates += [c for p in sorted((ROOT / "src" / "rnnlab").rglob("*.py")) for c in python_module(p)]
    print(f"{len(graded)} graded functions ({sum(sum(map(len, g.body)) >= MIN_TOKENS for g in graded)} long enough "
          f"to compare), {len(candidates)} candidates; flagged at {COPIED_SHARE:.0%}")
    for pair in scores(candidates, graded)[:15]:
        print(f"  {pair.share:5.0%}  {pair.where}  ~  {pair.graded}")


if __name__ == "__main__":
    main()
