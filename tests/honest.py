"""The honest catalogue: correct submissions written in styles the grader must not penalise.

Learners keep their caches in namedtuples, dataclasses, dicts with attribute
access or closures; they return tuple subclasses, store views instead of
copies, and write matrix products with ``np.einsum``. Each such notebook passes
every check in the learner's own kernel, so the grader must give it exactly
that score (every point). Each style here rewrites the reference answers of any
assignment (through their syntax tree), so it covers every assignment, the
capstone included, without hand-written copies:

- every ``*_forward`` function that returns ``(..., cache)`` returns
  ``(..., <wrap>)`` instead, and every ``*_backward(..., cache)`` starts by
  unwrapping it: the backward step receives the object the forward step built;
- or every tuple a function returns is a tuple subclass;
- or every ``a @ b`` is an einsum.

The prelude of a style (its helper types) goes at the top of each answer cell.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class Style:
    """One way of writing correct code.

    name: short identifier (the student id is ``honest-<name>``).
    what: the style, in words.
    prelude: code that defines the style's helpers, at the top of each answer cell.
    wrap, unwrap: expressions of ``cache``: what a forward returns as its cache, and
        how its backward gets the original back. Sequence-level code indexes the
        step caches it holds (``cache[0][0].shape``), so every wrapper still indexes
        like the original, but a closure.
    outermost_only: wrap only the caches of forward functions no other forward
        function calls (a closure cannot be indexed).
    tuple_results: every returned tuple is made a tuple subclass (``_Returned``).
    einsum: every ``a @ b`` becomes ``_matmul(a, b)``, an einsum.
    """

    name: str
    what: str
    prelude: str = ""
    wrap: str = ""
    unwrap: str = ""
    tuple_results: bool = False
    einsum: bool = False
    outermost_only: bool = False


STYLES = (
    Style("namedtuple-cache", "the cache is a namedtuple, read back by attribute",
          "from collections import namedtuple\nfrom functools import lru_cache\n\n\n"
          "@lru_cache(maxsize=None)\n"
          "def _record_type(length):\n"
          "    return namedtuple('Cache', [f'item{i}' for i in range(length)])\n\n\n"
          "def _record(values):\n"
          "    return _record_type(len(values))(*values)\n",
          "_record(cache)", "[getattr(cache, name) for name in cache._fields]"),
    Style("dataclass-cache", "the cache is a dataclass instance",
          "from dataclasses import dataclass\n\n\n"
          "@dataclass\n"
          "class _Cache:\n"
          "    saved: object\n\n"
          "    def __getitem__(self, index):\n"
          "        return self.saved[index]\n\n"
          "    def __len__(self):\n"
          "        return len(self.saved)\n",
          "_Cache(cache)", "cache.saved"),
    Style("dict-subclass-cache", "the cache is a dict subclass, read back by attribute",
          "class _Cache(dict):\n"
          "    def __getitem__(self, key):\n"
          "        return dict.__getitem__(self, f'item{key}' if isinstance(key, int) else key)\n\n"
          "    @property\n"
          "    def saved(self):\n"
          "        return [self[i] for i in range(len(self))]\n",
          "_Cache((f'item{i}', value) for i, value in enumerate(cache))", "cache.saved"),
    Style("closure-cache", "the cache of the outermost layers is a closure that returns what was saved",
          "", "(lambda: cache)", "cache()", outermost_only=True),
    Style("list-cache", "every cache is a list", "", "list(cache)"),
    Style("views-cache", "every array in the cache is a view of the computed one, not a copy",
          "def _views(value):\n"
          "    if isinstance(value, np.ndarray):\n"
          "        return value[...]\n"
          "    if isinstance(value, (list, tuple)):\n"
          "        return type(value)(_views(v) for v in value)\n"
          "    if isinstance(value, dict):\n"
          "        return {k: _views(v) for k, v in value.items()}\n"
          "    return value\n",
          "_views(cache)"),
    Style("tuple-subclass-results", "every function returns a tuple subclass",
          "class _Returned(tuple):\n    pass\n", tuple_results=True),
    Style("einsum", "every matrix product is written with np.einsum",
          "def _matmul(a, b):\n"
          "    if np.ndim(a) >= 2 and np.ndim(b) == 2:\n"
          "        return np.einsum('...ij,jk->...ik', a, b)\n"
          "    return np.matmul(a, b)\n",
          einsum=True),
)


class Rewriter(ast.NodeTransformer):
    """Rewrites one answer cell in a style (see the module docstring)."""

    def __init__(self, style: Style, inner: set[str]) -> None:
        self.style = style
        self.inner = inner  # forward functions called by other forward functions
        self.changed = False

    def wraps(self, name: str) -> bool:
        return not (self.style.outermost_only and name in self.inner)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        self.generic_visit(node)
        style = self.style
        if style.wrap and node.name.endswith("_forward") and self.wraps(node.name):
            for ret in (n for n in ast.walk(node) if isinstance(n, ast.Return)):
                value = ret.value
                if isinstance(value, ast.Tuple) and isinstance(value.elts[-1], ast.Name) and value.elts[-1].id == "cache":
                    value.elts[-1] = ast.parse(style.wrap, mode="eval").body
                    self.changed = True
        paired = node.name[: -len("_backward")] + "_forward"
        if style.unwrap and node.name.endswith("_backward") and "cache" in [a.arg for a in node.args.args] \
                and self.wraps(paired):
            start = 1 if node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant) else 0
            node.body.insert(start, ast.parse(f"cache = {style.unwrap}").body[0])
            self.changed = True
        return node

    def visit_Return(self, node: ast.Return) -> ast.Return:
        self.generic_visit(node)
        if self.style.tuple_results and isinstance(node.value, ast.Tuple):
            node.value = ast.Call(ast.Name("_Returned", ast.Load()), [node.value], [])
            self.changed = True
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if self.style.einsum and isinstance(node.op, ast.MatMult):
            self.changed = True
            return ast.Call(ast.Name("_matmul", ast.Load()), [node.left, node.right], [])
        return node


def honest_answers(answers: dict[str, str], style: Style) -> dict[str, str]:
    """The reference answers rewritten in ``style`` (cells the style does not touch stay as they are)."""
    inner = inner_forwards(answers)
    rewritten = {}
    for grade_id, source in answers.items():
        rewriter = Rewriter(style, inner)
        tree = ast.fix_missing_locations(rewriter.visit(ast.parse(source)))
        rewritten[grade_id] = f"{style.prelude}\n\n{ast.unparse(tree)}\n" if rewriter.changed else source
    return rewritten


def inner_forwards(answers: dict[str, str]) -> set[str]:
    """The ``*_forward`` functions that another ``*_forward`` function of the answers calls."""
    inner = set()
    for source in answers.values():
        for function in ast.parse(source).body:
            if isinstance(function, ast.FunctionDef) and function.name.endswith("_forward"):
                inner |= {node.func.id for node in ast.walk(function) if isinstance(node, ast.Call)
                          and isinstance(node.func, ast.Name) and node.func.id.endswith("_forward")}
    return inner
