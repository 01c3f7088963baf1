"""Which submissions of an assignment share code: the algorithm of ``python -m autograder similarity``.

The approach is winnowing (Schleimer, Wilkerson and Aiken, 2003), as MOSS, copydetect and Dolos
use it, over the course's own normalised tokens:

1. **Normalise.** Each learner cell (an answer cell, or a code cell the learner added) is parsed
   with :mod:`ast` (never run) and cut into units as :mod:`autograder.course.near_copies` cuts them
   (every function's body; the statements outside functions). Its normaliser turns every
   statement into tokens in which a name is its role (``ARG`` a parameter, ``VAR`` a variable the
   unit assigns, ``EXT`` anything else, such as a helper it calls), an attribute or keyword name
   ``ATTR`` or ``KW``, a constant its kind (``NUM``, ``STR``). Comments, docstrings, layout and
   names are gone: renaming variables or helpers, reformatting and re-commenting change nothing.
   A statement ends with ``;``.
2. **Fingerprint.** Every run of :data:`K` consecutive tokens of a unit (a k-gram) is hashed; k-grams
   never cross units, so reordering functions changes nothing either, and reordering statements
   only the few k-grams across the moved boundaries. Of every :data:`WINDOW` consecutive k-grams the
   smallest hash is kept (winnowing: a shared run of ``K + WINDOW - 1`` tokens is always found, one
   shorter than ``K`` never).
3. **Ignore what everyone shares.** The template is the code of the released notebook (the given
   code, the check cells, the examples its text shows in code blocks) and of the source notebook
   (the instructor's solution, hidden checks).
   Every learner statement whose normalised form is a template statement is dropped before
   fingerprinting (so the solution's lines do not join the k-grams around a learner's own line),
   then every fingerprint that is a template k-gram, and so is one found in more than
   ``max_common`` submissions (what many learners write the same way; MOSS's ``-m``). What is
   left is the learner's own code: a submission that is the release or the solution has none,
   and two identical submissions score 100 %, however much of their text came with the template
   (JPlag and Artemis users report identical submissions at 69 % when template code is counted).
   Without the statement step, two reference solutions that wrap their cache differently
   (``list(cache)``, ``_Cache(cache)``: the same normalised line) scored 70 % on rnn.
4. **Compare through an inverted index.** Fingerprint -> submissions holding it; only pairs that
   share a fingerprint are looked at, so a class of 200 (19,900 pairs) costs about what the
   shared fingerprints cost. A pair's similarity is Dolos's: the tokens of each side covered by a
   shared fingerprint, over the tokens of both sides covered by their own fingerprints,
   ``(covered_a + covered_b) / (own_a + own_b)``. Matching runs are grouped into fragments (the
   same offset on both sides) for the side-by-side view.

Why our own and not a library: copydetect (winnowing over Pygments tokens, with boilerplate
directories) tokenises text, so every name becomes the same ``V`` and a call to a helper the same
as any other, and it reads files from disk and writes its own report; Dolos and JPlag are
JavaScript and Java programs. The course already has a normaliser that reads names by their role
(a training loop is not the loss it calls) and is tested on the course's own code; winnowing over
it is a hundred lines, needs no new pinned dependency, and runs here, on the instructor's
machine: no code leaves it.

Everything in a submission is hostile: the command (autograder/commands/similarity.py) reads the
notebook within limits; here a cell that does not parse, or nests deeply enough to exhaust the
parser or the normaliser (RecursionError, MemoryError), is left out with its reason, and a
submission with more than :data:`MAX_CODE_CHARS` of code is not compared at all.
"""

from __future__ import annotations

import ast
import re
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations

from autograder.course.near_copies import parse_cell, statement_nodes, statements, unit_bodies
from autograder.course.reference import cell_source, nbgrader_meta

#: Tokens per k-gram: no shared run shorter than this counts. One normalised statement such as
#: ``VAR = VAR @ ARG . ATTR ;`` is 8 tokens, so a match is at least about two statements. Chosen on
#: tests/fixtures/similarity (rnn): with K from 12 to 16 and WINDOW 4 or 8, every planted copy scored
#: at least 45 % and every honest pair at most 12 %; K = 10 let two honest styles reach 100 % on one
#: shared line, K = 20 cut a partial copy to 36 %, and every k-gram (WINDOW 1) let an honest pair
#: reach 22 %.
K = 12
#: Winnowing window: every shared run of K + WINDOW - 1 tokens is found.
WINDOW = 4
#: A submission with more code than this (in its answer and added cells) is not compared: an
#: answer is a few thousand characters, and normalising megabytes would take minutes.
MAX_CODE_CHARS = 300_000
#: IPython syntax (magics, shell escapes) is read only in a cell of at most IPYTHON_CHARS characters
#: holding at most IPYTHON_ESCAPES of ``! % ?``; a learner's cell has a few, a hostile one thousands.
IPYTHON_CHARS, IPYTHON_ESCAPES = 20_000, 20
#: What a cell that cannot be read is, for the report.
ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError, RuntimeError)
#: Ends every normalised statement.
END = ";"
#: Where a token comes from: (cell index, first line, last line), lines counted from 1.
Span = tuple[int, int, int]


@dataclass(frozen=True)
class Cell:
    label: str  # "rnn_step_forward" (an answer cell's grade_id), "added cell 7"
    source: str


@dataclass(frozen=True)
class NotCompared:
    student: str
    what: str  # "the notebook", "added cell 7"
    reason: str


@dataclass
class Submission:
    """One learner's code, fingerprinted.

    ``spans[i]`` is where token ``i`` comes from: (cell index, first line, last line), lines
    counted from 1 in the cell's source. ``fingerprints`` maps each kept hash to the positions
    (token indices) where its k-gram starts. ``own`` (set by :func:`compare`) counts the tokens its
    counted fingerprints cover.
    """

    student: str
    cells: tuple[Cell, ...]
    spans: list[Span] = field(default_factory=list)
    fingerprints: dict[int, list[int]] = field(default_factory=dict)
    own: int = 0


@dataclass(frozen=True)
class Fragment:
    """A run of shared fingerprints at the same offset on both sides: tokens [a, a_end) of the
    first submission match tokens [b, b_end) of the second."""

    a: int
    a_end: int
    b: int
    b_end: int

    @property
    def tokens(self) -> int:
        return self.a_end - self.a


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    similarity: float  # 0..1
    covered_a: int  # tokens of a covered by fingerprints b has too
    covered_b: int
    own_a: int  # tokens of a covered by its counted fingerprints
    own_b: int
    fragments: tuple[Fragment, ...]

    @property
    def longest(self) -> int:
        return max((f.tokens for f in self.fragments), default=0)


# -- what the learner wrote ------------------------------------------------------------

def learner_cells(notebook: dict, release: dict) -> list[Cell]:
    """The learner's code cells: the answer cells (nbgrader ``solution: true``) and every code
    cell the release does not have (added, or stripped of its metadata). The release's locked
    cells (setup, checks) are the course's, whatever the submission made of them. ``notebook``
    is as ``autograder.engine.intake.parse_notebook`` checked it (cells of the right types)."""
    known = {nbgrader_meta(c).get("grade_id") for c in release.get("cells", [])} - {None}
    cells, number = [], 0
    for cell in notebook["cells"]:
        if cell.get("cell_type") != "code":
            continue
        number += 1
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id") if isinstance(meta.get("grade_id"), str) else None
        if meta.get("solution") and grade_id:
            cells.append(Cell(grade_id, cell_source(cell)))
        elif grade_id not in known:
            cells.append(Cell(f"added cell {number}", cell_source(cell)))
    return cells


#: A fenced code block of a markdown cell (its language, if any, on the fence line).
FENCED = re.compile(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", re.S | re.M)


def notebook_cells(notebook: dict) -> list[Cell]:
    """The code of a course notebook (the release, the source), which everyone shares: every code
    cell, and every code block its text shows (``check_gradients(...)`` as an example to run)."""
    found = []
    for i, cell in enumerate(notebook["cells"]):
        if cell.get("cell_type") == "code":
            found.append(Cell(f"cell {i + 1}", cell_source(cell)))
        elif cell.get("cell_type") == "markdown":
            found += [Cell(f"cell {i + 1}, example", block) for block in FENCED.findall(cell_source(cell))]
    return found


# -- tokens and fingerprints -----------------------------------------------------------------

def _parse(source: str, where: str) -> ast.Module:
    """Plain Python first (the common case, and quick); IPython's magics and shell escapes only
    when that fails, and only in a cell small enough and with few enough of them (IPython rewrites
    one per pass over the whole cell: 5,000 characters of ``!ls`` lines take it 10 s)."""
    try:
        return ast.parse(source)
    except SyntaxError as error:
        if len(source) > IPYTHON_CHARS or sum(map(source.count, "!%?")) > IPYTHON_ESCAPES:
            raise
        try:
            return parse_cell(source, where)
        except ValueError:
            raise error from None  # Python's own message, not the IPython-transformed code's


def _units(cell: Cell) -> list[list[tuple[ast.AST, tuple[str, ...]]]]:
    """Each unit of a cell (see near_copies.unit_bodies) as its statements: (node, normalised)."""
    return [list(zip(statement_nodes(body), statements(body, parameters), strict=True))
            for _name, body, parameters in unit_bodies(_parse(cell.source, cell.label))]


def _lines(node: ast.AST) -> tuple[int, int]:
    """The lines a normalised statement stands for: a compound statement's header only."""
    body = getattr(node, "body", None)
    if isinstance(body, list) and body and hasattr(body[0], "lineno"):
        return node.lineno, max(node.lineno, body[0].lineno - 1)
    return node.lineno, node.end_lineno or node.lineno


def cell_units(cell: Cell, index: int, known: frozenset = frozenset()) -> list[tuple[list[str], list[Span]]]:
    """A cell's units as (tokens, span of each token), leaving out every normalised statement in
    ``known`` (the template's). Raises one of ERRORS if the cell cannot be read."""
    found = []
    for unit in _units(cell):
        tokens, spans = [], []
        for node, statement in unit:
            if statement in known:
                continue
            first, last = _lines(node)
            tokens += [*statement, END]
            spans += [(index, first, last)] * (len(statement) + 1)
        found.append((tokens, spans))
    return found


@lru_cache(maxsize=1 << 16)
def _token_id(token: str) -> int:
    return zlib.crc32(token.encode("utf-8", "backslashreplace"))


def kgram_hashes(tokens: list[str], k: int = K) -> list[int]:
    """The hash of every k-gram, in order (none if the unit is shorter than k tokens).

    Tokens hash by CRC-32 and a k-gram by Python's hash of the tuple of those integers: the same
    in every run (integers are not salted), so reports are reproducible."""
    ids = [_token_id(t) for t in tokens]
    return [hash(tuple(ids[i:i + k])) for i in range(len(ids) - k + 1)]


def winnow(hashes: list[int], ignored: set[int], window: int = WINDOW) -> dict[int, int]:
    """Position -> hash of the k-grams winnowing keeps: in every window of ``window`` consecutive
    k-grams, the smallest hash not in ``ignored`` (the rightmost of equal ones)."""
    kept = {}
    for start in range(max(len(hashes) - window + 1, 1)):
        inside = [(h, -i) for i, h in enumerate(hashes[start:start + window], start) if h not in ignored]
        if inside:
            h, i = min(inside)
            kept[-i] = h
    return kept


@dataclass(frozen=True)
class Template:
    """What every learner received or may have seen: the normalised statements and every k-gram
    hash of the course's own notebooks' code (the release and the source)."""

    statements: frozenset
    hashes: frozenset


def template(cells: list[Cell], k: int = K) -> Template:
    """The template of the course's notebooks' code cells (a cell that cannot be read is skipped)."""
    found, hashes = set(), set()
    for cell in cells:
        try:
            units = _units(cell)
        except ERRORS:
            continue
        for unit in units:
            found.update(statement for _, statement in unit)
            hashes.update(kgram_hashes([token for _, statement in unit for token in (*statement, END)], k))
    return Template(frozenset(found), frozenset(hashes))


def fingerprint(student: str, cells: list[Cell], shared: Template, k: int = K,
                window: int = WINDOW) -> tuple[Submission | None, list[NotCompared]]:
    """A submission's fingerprints without those in ``shared``, and what was left out of it, and
    why. The submission is None when it is too large to be compared at all."""
    size = sum(len(c.source) for c in cells)
    if size > MAX_CODE_CHARS:
        return None, [NotCompared(student, "the notebook", f"{size:,} characters of code in its answer and added "
                                                           f"cells, more than the {MAX_CODE_CHARS:,} compared")]
    left_out = []
    submission = Submission(student, tuple(cells))
    for index, cell in enumerate(cells):
        try:
            units = cell_units(cell, index, shared.statements)
        except ERRORS as error:
            left_out.append(NotCompared(student, cell.label, _reason(error)))
            continue
        for tokens, spans in units:
            offset = len(submission.spans)
            submission.spans += spans
            for position, h in winnow(kgram_hashes(tokens, k), shared.hashes, window).items():
                submission.fingerprints.setdefault(h, []).append(offset + position)
    return submission, left_out


def _reason(error: BaseException) -> str:
    if isinstance(error, (RecursionError, MemoryError)):
        return "its code is nested too deeply to be read"
    if isinstance(error, SyntaxError):
        return f"its code does not parse as Python ({error.msg}, line {error.lineno})"
    return f"its code cannot be read ({str(error)[:200]})"


# -- comparing -----------------------------------------------------------------------

def _covered(starts, k: int) -> int:
    """How many tokens the k-grams starting at ``starts`` cover together."""
    total, end = 0, -1
    for s in sorted(starts):
        total += min(k, s + k - end) if s < end else k
        end = max(end, s + k)
    return total


def default_max_common(count: int) -> int:
    """A fingerprint in more than this many of ``count`` submissions is not counted: a tenth of
    the class, and never fewer than 10 (in a small class, nothing is common)."""
    return max(10, count // 10)


def compare(submissions: list[Submission], max_common: int | None = None, k: int = K) -> list[Pair]:
    """Every pair of submissions that shares a counted fingerprint, most similar first.

    Sets each submission's ``own``. Pairs that share nothing are left out: their similarity is 0.
    """
    if max_common is None:
        max_common = default_max_common(len(submissions))
    holders: dict[int, list[int]] = defaultdict(list)
    for number, submission in enumerate(submissions):
        for h in submission.fingerprints:
            holders[h].append(number)
    common = {h for h, who in holders.items() if len(who) > max_common}
    for submission in submissions:
        submission.own = _covered([p for h, ps in submission.fingerprints.items() if h not in common for p in ps], k)
    shared_by: dict[tuple[int, int], list[int]] = defaultdict(list)
    for h, who in holders.items():
        if 1 < len(who) <= max_common:
            for pair in combinations(who, 2):
                shared_by[pair].append(h)
    pairs = [_pair(submissions[i], submissions[j], hashes, k) for (i, j), hashes in shared_by.items()]
    return sorted(pairs, key=lambda p: (-p.similarity, -(p.covered_a + p.covered_b), p.a, p.b))


def _pair(a: Submission, b: Submission, hashes: list[int], k: int) -> Pair:
    starts_a = [p for h in hashes for p in a.fingerprints[h]]
    starts_b = [p for h in hashes for p in b.fingerprints[h]]
    covered_a, covered_b = _covered(starts_a, k), _covered(starts_b, k)
    similarity = (covered_a + covered_b) / (a.own + b.own) if a.own + b.own else 0.0
    return Pair(a.student, b.student, min(similarity, 1.0), covered_a, covered_b, a.own, b.own,
                tuple(fragments(a, b, hashes, k)))


def fragments(a: Submission, b: Submission, hashes: list[int], k: int = K) -> list[Fragment]:
    """The shared fingerprints grouped into runs at the same offset (b's position minus a's), then
    taken longest first, each only where neither side is already taken (as greedy string tiling
    does): each fragment is one stretch of code found once on each side, even where a side
    repeats a statement."""
    matches = sorted((pa, pb) for h in hashes for pa in a.fingerprints[h] for pb in b.fingerprints[h])
    runs: dict[int, list[list[int]]] = defaultdict(list)  # offset -> [start_a, end_a] runs
    for pa, pb in matches:
        offset = pb - pa
        last = runs[offset][-1] if runs[offset] else None
        if last is not None and pa <= last[1]:
            last[1] = max(last[1], pa + k)
        else:
            runs[offset].append([pa, pa + k])
    candidates = sorted((Fragment(s, e, s + offset, e + offset) for offset, spans in runs.items() for s, e in spans),
                        key=lambda f: (-f.tokens, f.a, f.b))
    kept: list[Fragment] = []
    for f in candidates:
        if not any(f.a < g.a_end and g.a < f.a_end or f.b < g.b_end and g.b < f.b_end for g in kept):
            kept.append(f)
    return kept
