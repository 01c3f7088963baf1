"""The checks that the assignments' test cells run, with messages that teach.

Every check raises :class:`CheckFailed` (an ``AssertionError``, so nbgrader
counts the cell as failed) whose message says *what* is wrong (which output or
gradient), *where to look* (a hint written for that quantity, right after the
first line) and *by how much*. Messages never contain a solution, name
quantities as the assignment's API does, report every wrong output of a
function (not just the first), print a hint shared by several quantities once,
and keep every line within 80 columns (what ``nbgrader validate`` shows in
full). A backward step is checked against the learner's own forward step, so
when that forward step is wrong, the backward check says so first.

The two workhorses are :func:`check_forward` and :func:`check_backward`; the
smaller assertions they are built from are public too, so that later
assignments can compose their own checks.

Inputs for checks are made by :func:`fixed_array`, a deterministic generator
that gives the same numbers on every machine and NumPy version, so the expected
values written into a notebook stay valid for every learner.
"""

from __future__ import annotations

import ast
import copy
import inspect
import os
import textwrap
import traceback
import weakref
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .gradcheck import DEFAULT_THRESHOLD, compare_gradients, format_report

#: Tolerances for comparing values with expected ones. Values are printed with
#: 10 significant digits in the notebooks, and float64 rounding differences
#: between machines are near 1e-15, so these leave room for both while any
#: real mistake is many orders of magnitude larger.
RTOL = 1e-7
ATOL = 1e-9


#: The widest line a message may have: JupyterLab's Validate button (``nbgrader
#: validate``) cuts longer ones.
WIDTH = 80

#: What a notebook prints before a failed check's message, on its first line
#: (:func:`show_failures_plainly`): the first line is wrapped shorter by this much.
PREFIX = "CheckFailed: "


def fit(text: str, width: int = WIDTH, first_width: int | None = None) -> str:
    """``text`` with every line longer than ``width`` wrapped, continuation lines indented.

    The first line is held to ``first_width`` (default ``width``): it is printed after
    the exception's name.
    """
    lines = []
    for number, line in enumerate(text.splitlines() or [""]):
        limit = width if number or first_width is None else first_width
        if len(line) <= limit:
            lines.append(line)
            continue
        indent = " " * (len(line) - len(line.lstrip()))
        taken = width - limit  # room the prefix takes on the first line
        wrapped = textwrap.wrap(line, width, initial_indent="\0" * taken, subsequent_indent=indent + "  ",
                                break_on_hyphens=False) or [line[:limit]]
        lines += [wrapped[0][taken:], *wrapped[1:]]
    return "\n".join(lines)


def number(value, spec: str = ".6g") -> str:
    """A number for a message: formatted with ``spec``, never "-0"."""
    return format(float(value) + 0.0, spec)  # adding 0.0 turns -0.0 into 0.0


class CheckFailed(AssertionError):
    """A check of a learner's function failed; the message says what, where to look, and by how much.

    Every line of the message is wrapped to WIDTH columns as a notebook prints it:
    the first one after the exception's name (PREFIX).
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(fit(str(message), first_width=WIDTH - len(PREFIX)))


def failure(headline: str, hints: Sequence[tuple[str, str | None]] = (), details: Sequence[str] = (),
            shared_hint: str | None = None) -> CheckFailed:
    """A CheckFailed built the same way everywhere: the headline, then the hints, then the details.

    ``hints`` pairs each wrong quantity with its hint (or None); a hint shared by
    several quantities is printed once, naming them all. ``shared_hint``, when
    given, replaces them all (the mistake is in what the quantities share).
    """
    lines = [headline]
    if shared_hint:
        lines.append(f"Hint: {shared_hint}")
    else:
        grouped: dict[str, list[str]] = {}
        for name, hint in hints:
            if hint:
                grouped.setdefault(hint, []).append(name)
        for hint, names in grouped.items():
            lines.append(f"Hint: {hint}" if len(hints) == 1 else f"Hint for {_and(names)}: {hint}")
    lines += [f"  {detail}" for detail in details]
    return CheckFailed("\n".join(lines))


def _and(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# ----------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------

def fixed_array(shape: int | Sequence[int], seed: int, scale: float = 1.0) -> np.ndarray:
    """A deterministic, random-looking float64 array with entries in ``[-scale, scale]``.

    Built from ``sin`` of a scrambled index rather than a random generator, so the
    numbers do not depend on the NumPy version: expected values written into a
    notebook remain right on every learner's machine.

    Parameters
    ----------
    shape : int or tuple of int
    seed : int
        Different seeds give unrelated-looking arrays.
    scale : float
        Largest absolute value.
    """
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    index = np.arange(1, int(np.prod(shape)) + 1, dtype=np.float64)
    values = np.sin(index * 12.9898 + seed * 78.233) * 43758.5453
    values = 2.0 * (values - np.floor(values)) - 1.0  # fractional part, mapped to [-1, 1)
    return scale * values.reshape(shape)


def _copies(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.array(value, copy=True) for name, value in arrays.items()}


# ----------------------------------------------------------------------------
# Calling the learner's code
# ----------------------------------------------------------------------------

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def call(function: Callable, *args, **kwargs):
    """Call a learner's function; turn any exception into a CheckFailed that shows
    the learner's own traceback (their code: not the checking code, not rnnlab's)."""
    name = getattr(function, "__name__", "the function")
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailed(
            f"{name} is not implemented yet: replace `raise NotImplementedError()` with your code."
        ) from None
    except Exception as error:  # noqa: BLE001 - any error in learner code is reported, not hidden
        if getattr(error, "from_grader", False):
            raise  # a grader's own verdict (a timeout, a crash), not an error in the learner's code
        # A grader that runs the learner's code in another process raises an error
        # carrying the original type, text and frames (kind, text, learner_traceback).
        kind = getattr(error, "kind", type(error).__name__)
        text = getattr(error, "text", error)
        where = getattr(error, "learner_traceback", None)
        if where is None:
            where = frames_text(frame for frame in traceback.extract_tb(error.__traceback__)[1:]
                                if not os.path.abspath(frame.filename).startswith(_PACKAGE + os.sep))
        where = f"\nWhere it happened (most recent call last):\n{where}" if where else ""
        hint = f"\nHint: {NONE_USED_HINT}" if kind == "TypeError" and "NoneType" in str(text) else ""
        raise CheckFailed(f"{name} raised {kind}: {text}{hint}{where}") from None


class _OutOfTime(BaseException):
    """Raised by call_within's timer inside a learner's function that is still running (a
    BaseException, so that the learner's ``except Exception`` does not hold it up)."""


def call_within(seconds: float, function: Callable, *args) -> bool:
    """``call(function, *args)``, stopped once it has run for ``seconds``: whether it finished.

    A check that only needs to know that a call is too slow need not wait for its end (a
    numerical backward step runs for many seconds). It is stopped
    - in a grader that runs the learner's code in a sandbox, by the sandbox (the function's
      own ``call_within``), which keeps the learner's namespace;
    - in a notebook, by an interval timer, where there is one to use: on Unix, in the main
      thread, with no timer or SIGALRM handler of the learner's own.
    Elsewhere (an adapter around a grader's function, Windows) the call runs to its end, and
    the caller's own clock decides, as it also does when the learner's code catches the stop.
    """
    import inspect
    import signal
    import threading

    if hasattr(function, "call_within"):
        def within(*args):
            return function.call_within(seconds, *args)[0]
        within.__name__ = getattr(function, "__name__", "the function")
        return call(within, *args)
    try:
        innermost = inspect.unwrap(function)
    except ValueError:  # a cycle of __wrapped__: nothing a grader makes
        innermost = function
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
              and not hasattr(innermost, "call_within")  # run elsewhere: a timer here would cut
              and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # the grader's wait for the reply
              and signal.getsignal(signal.SIGALRM) == signal.SIG_DFL)
    if not usable:
        call(function, *args)
        return True

    def stop(signum, frame):
        raise _OutOfTime

    signal.signal(signal.SIGALRM, stop)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            call(function, *args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)  # a stop that comes before this is caught below
        return True
    except _OutOfTime:
        return False
    finally:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


#: When learner code used None as a number or an array: most often an optional argument (``c0=None``)
#: that was left out, and so arrived as None, used without being given its default first.
NONE_USED_HINT = ("a value was None where a number or an array was needed. An optional argument that is "
                  "left out arrives as None: does the function replace it with its default (zeros, say) "
                  "before using it?")


def frames_text(frames) -> str:
    """Traceback frames, two short lines each: where (file, line, function), and the code,
    cut to fit WIDTH columns (no column markers: they cannot survive wrapping)."""
    lines = []
    for frame in frames:
        code = (frame.line or "").strip()
        if len(code) > WIDTH - 4:
            code = code[:WIDTH - 7] + "..."
        lines += [f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}', f"    {code}"]
    return "\n".join(lines)


def unpack(name: str, result, count: int, names: Sequence[str]):
    """Check that a function returned a tuple of ``count`` values named ``names``."""
    if not isinstance(result, tuple) or len(result) != count:
        got = f"a tuple of {len(result)} values" if isinstance(result, tuple) else type(result).__name__
        raise CheckFailed(f"{name} must return a tuple of {count} values ({', '.join(names)}); it returned {got}.")
    return result


# ----------------------------------------------------------------------------
# Assertions
# ----------------------------------------------------------------------------

def _on(case: str | None) -> str:
    return f" (on {case})" if case else ""


def shape_problem(name: str, value, expected_shape: Sequence[int]) -> str | None:
    """What is wrong with ``value`` as a float64 array of ``expected_shape``, or None."""
    expected_shape = tuple(expected_shape)
    if not isinstance(value, np.ndarray):
        return f"{name} should be a NumPy array of shape {expected_shape}, got {type(value).__name__}."
    if value.shape != expected_shape:
        return (f"{name} has shape {value.shape} but should have shape {expected_shape}: write the shape "
                "of every term next to it and match them.")
    if value.dtype != np.float64:
        return f"{name} has dtype {value.dtype} but should be float64."
    return None


def assert_shape(name: str, value, expected_shape: Sequence[int], case: str | None = None) -> None:
    """``value`` is a float64 array of ``expected_shape``."""
    problem = shape_problem(f"{name}{_on(case)}", value, expected_shape)
    if problem:
        raise CheckFailed(problem)


def wrong_time_steps(actual: np.ndarray, expected: np.ndarray, rtol: float = 1e-6) -> str | None:
    """For arrays laid out (N, T, ...), say at which time steps they differ.

    Bugs in backpropagation through time leave a signature along the time axis
    (right at the last step only, or at the first only), which points at the
    loop. Returns None for arrays without a time axis of length > 1.
    """
    if actual.ndim != 3 or actual.shape[1] < 2 or actual.shape != expected.shape:
        return None
    wrong = [
        t for t in range(actual.shape[1])
        if not np.allclose(actual[:, t], expected[:, t], rtol=rtol, atol=ATOL * 10)
    ]
    if not wrong or len(wrong) == actual.shape[1]:
        return None
    right = [t for t in range(actual.shape[1]) if t not in wrong]
    return f"wrong at time steps t = {wrong}, right at t = {right}"


def wrong_blocks(actual: np.ndarray, expected: np.ndarray, names: Sequence[str], rtol: float = 1e-5) -> str | None:
    """For arrays whose last axis holds equal blocks (an LSTM's i, f, o, g), say which blocks differ.

    A bug in one gate's gradient leaves the other blocks right, which names the
    gate. Returns None when every block or none differs.
    """
    if actual.shape != expected.shape or actual.ndim == 0 or actual.shape[-1] % len(names):
        return None
    width = actual.shape[-1] // len(names)
    wrong = [name for k, name in enumerate(names)
             if not np.allclose(actual[..., k * width:(k + 1) * width], expected[..., k * width:(k + 1) * width],
                                rtol=rtol, atol=ATOL * 10)]
    if not wrong or len(wrong) == len(names):
        return None
    right = [name for name in names if name not in wrong]
    return f"wrong in block{'s' if len(wrong) > 1 else ''} {', '.join(wrong)}, right in {', '.join(right)}"


def describe_mismatch(actual: np.ndarray, expected: np.ndarray) -> str:
    """A short diagnosis of how ``actual`` differs from ``expected`` (same shape).

    Recognises the patterns that common bugs leave: NaN or infinity, the opposite
    sign, a transposed matrix, a constant factor, a few wrong entries.
    """
    if not np.all(np.isfinite(actual)):
        return "it contains NaN or infinity (an overflow, or 0/0?)"
    if np.allclose(actual, -expected, rtol=RTOL, atol=ATOL) and np.any(expected != 0):
        return "it has the opposite sign of the expected value"
    if actual.ndim == 2 and actual.shape[0] == actual.shape[1] and np.allclose(actual, expected.T, rtol=RTOL, atol=ATOL):
        return "it equals the transpose of the expected value"
    nonzero = np.abs(expected) > ATOL
    if np.any(nonzero):
        ratios = actual[nonzero] / expected[nonzero]
        if np.allclose(ratios, ratios[0], rtol=1e-6) and np.allclose(actual[~nonzero], 0, atol=ATOL):
            return f"it is the expected value times {number(ratios[0], '.4g')}: a constant factor is off"
    in_time = wrong_time_steps(actual, expected)
    if in_time:
        return in_time
    wrong = ~np.isclose(actual, expected, rtol=RTOL, atol=ATOL)
    if wrong.sum() < wrong.size:
        first = tuple(int(i) for i in np.argwhere(wrong)[0])
        return f"{int(wrong.sum())} of {wrong.size} entries are wrong, the first at index {first}"
    return "every entry is wrong"


def value_problem(name: str, actual, expected, rtol: float = RTOL, atol: float = ATOL) -> str | None:
    """What is wrong with ``actual`` as ``expected`` (shape, dtype, values), or None."""
    expected = np.asarray(expected, dtype=np.float64)
    problem = shape_problem(name, actual, expected.shape)
    if problem or np.allclose(actual, expected, rtol=rtol, atol=atol):
        return problem
    difference = np.abs(actual - expected)
    difference[~np.isfinite(difference)] = np.inf
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(difference)), difference.shape))
    return (f"{name}: largest difference {number(difference[worst], '.3g')} at index {worst} (expected "
            f"{number(expected[worst])}, got {number(actual[worst])}); {describe_mismatch(actual, expected)}.")


def assert_close(
    name: str,
    actual,
    expected,
    hint: str | None = None,
    case: str | None = None,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> None:
    """``actual`` equals ``expected`` (same shape) to ``rtol``/``atol``."""
    problem = value_problem(name, actual, expected, rtol, atol)
    if problem:
        raise failure(f"{name} is wrong{_on(case)}.", [(name, hint)], [problem])


def assert_unmodified(function_name: str, before: Mapping, after: Mapping) -> None:
    """Every array in ``after`` still equals its copy in ``before``."""
    changed = modified(before, after)
    if changed:
        raise CheckFailed(
            f"{function_name} modified its input {_and(changed)}. Functions must not change their "
            "arguments: look for in-place operations such as `+=`, `*=` or slice assignment "
            "on an input, and work on new arrays instead."
        )


def modified(before: Mapping, after: Mapping) -> list[str]:
    """The names whose array in ``after`` no longer equals its copy in ``before``."""
    return [name for name, original in before.items()
            if isinstance(original, np.ndarray) and not np.array_equal(original, after[name], equal_nan=True)]


def _arrays_in(value) -> list[np.ndarray]:
    """Every NumPy array inside a (possibly nested) cache, in a stable order."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, Mapping):
        return [a for key in sorted(value, key=str) for a in _arrays_in(value[key])]
    if isinstance(value, (tuple, list)):
        return [a for item in value for a in _arrays_in(item)]
    return []


def _raise_if_gradients_wrong(function_name, comparisons, hints, hint_all_wrong, case, labels=None,
                              blocks=None) -> None:
    """Raise a CheckFailed naming every wrong gradient, hints first, then each gradient's error,
    and the time steps or blocks where it goes wrong."""
    wrong = [c for c in comparisons if not c.passed]
    if not wrong:
        return
    label = (labels or {}).get
    shared = hint_all_wrong if hint_all_wrong and len(wrong) == len(comparisons) > 1 else None
    details = format_report(comparisons, labels).splitlines()[1:]
    for c in wrong:
        if c.analytic is not None and np.all(np.isfinite(c.analytic)):
            pattern = wrong_time_steps(c.analytic, c.numerical, rtol=1e-5)
            if pattern:
                details.append(f"{label(c.name, c.name)} is {pattern}.")
            pattern = wrong_blocks(c.analytic, c.numerical, (blocks or {}).get(c.name, ())) \
                if (blocks or {}).get(c.name) else None
            if pattern:
                details.append(f"{label(c.name, c.name)} is {pattern}.")
    threshold = max(c.threshold for c in comparisons)
    raise failure(f"{function_name} fails the gradient check{_on(case)}: "
                  f"{_and([label(c.name, c.name) for c in wrong])} {'is' if len(wrong) == 1 else 'are'} wrong "
                  f"(relative error above {threshold:.0e}).",
                  [(label(c.name, c.name), hints.get(c.name)) for c in wrong], details, shared)


def assert_number(name: str, value, expected: float, hint: str | None = None, case: str | None = None,
                  rtol: float = RTOL, atol: float = ATOL) -> None:
    """``value`` is a real number (Python or NumPy scalar) equal to ``expected``."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise CheckFailed(f"{name} should be a number, got {type(value).__name__}{_on(case)}.")
    if not np.isclose(float(value), expected, rtol=rtol, atol=atol):
        raise failure(f"{name} is wrong{_on(case)}: expected {number(expected, '.10g')}, "
                      f"got {number(value, '.10g')}.", [(name, hint)])


def _which_bug(value, wrong_losses: Sequence[tuple[float, str]]) -> str | None:
    """The hint of the known bug whose loss ``value`` equals, if exactly one does."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    hints = [hint for loss, hint in wrong_losses if np.isclose(value, loss, rtol=RTOL, atol=ATOL)]
    return hints[0] if len(set(hints)) == 1 else None


def assert_same_direction(name: str, actual: Sequence[np.ndarray], reference: Sequence[np.ndarray],
                          hint: str | None = None, case: str | None = None) -> None:
    """The arrays ``actual``, taken together as one vector, point the same way as ``reference``.

    The cosine of the angle between the two concatenated vectors must be 1 (to 1e-9).
    """
    a = np.concatenate([np.ravel(x) for x in actual])
    r = np.concatenate([np.ravel(x) for x in reference])
    cosine = float(a @ r / (np.linalg.norm(a) * np.linalg.norm(r) + 1e-300))
    if not cosine > 1 - 1e-9:
        angle = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
        raise failure(f"{name} changed direction{_on(case)}: it is {angle:.3g} degrees away from the original.",
                      [(name, hint)])


def assert_loops_at_most(function: Callable, max_loops: int, what: str) -> None:
    """``function``'s code has at most ``max_loops`` ``for``/``while`` statements, counting the
    loops of the functions of the learner's that it calls (and that they call), so that a loop
    moved into a helper still counts.

    Vectorised code works on whole arrays; a loop over the batch or over units
    is slow and a sign of a misunderstanding. Comprehensions are not counted.
    When the source cannot be read (e.g. a built-in), nothing is checked; but under a
    grader that passes the source as ``__source__``, a function it found no code for fails.
    The code is read, not run: a helper reached only through a name built at run time
    (``getattr``, a dict of functions) is not followed.

    Parameters
    ----------
    function : callable
    max_loops : int
    what : str
        What the allowed loops may be over, for the message (e.g. "time").
    """
    if hasattr(function, "__source__"):  # set by a grader that runs the code in another process
        source = function.__source__
        if source is None:  # the grader found no `def` for it: do not let a dynamic definition dodge the check
            raise CheckFailed(f"the grader could not read the code of {function.__name__}: define it with a plain "
                              "`def` statement in a code cell.")
        helpers = dict(getattr(function, "__helpers__", {}) or {})
    else:
        try:
            source = inspect.getsource(function)
        except (OSError, TypeError):
            return
        helpers = _helper_sources(function)
    loops = _loops(function.__name__, textwrap.dedent(source), helpers)
    if len(loops) > max_loops:
        allowed = "no loop at all" if max_loops == 0 else f"at most {max_loops} loop(s), over {what}"
        raise failure(
            f"{function.__name__} has {len(loops)} Python loop(s); it should have {allowed}.",
            [(function.__name__, "work on whole arrays: NumPy operations apply to every row of the batch at once.")],
            [f"{where}line {number}: {line}" for where, number, line in loops],
        )


#: How deep calls into the learner's own helpers are followed when loops are counted.
HELPER_DEPTH = 5


def _loops(name: str, source: str, helpers: Mapping[str, str], depth: int = 0,
           seen: set | None = None) -> list[tuple[str, int, str]]:
    """(where, line number, line) of every loop in ``source`` and in the learner's functions it calls."""
    seen = set() if seen is None else seen
    seen.add(name)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    lines = source.splitlines()
    where = "" if depth == 0 else f"in {name}, "
    found = [(where, n.lineno, lines[n.lineno - 1].strip()) for n in ast.walk(tree)
             if isinstance(n, (ast.For, ast.While, ast.AsyncFor))]
    if depth < HELPER_DEPTH:
        called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        for helper in sorted(called - seen):
            if helper in helpers and helper not in seen:
                found += _loops(helper, textwrap.dedent(helpers[helper]), helpers, depth + 1, seen)
    return found


def _helper_sources(function: Callable) -> dict[str, str]:
    """The source of every plain function in ``function``'s module namespace that was defined in the
    same place as it (a notebook's cells, or the same module): the learner's helpers."""
    namespace = getattr(function, "__globals__", {})
    module = getattr(function, "__module__", None)
    sources = {}
    for name, value in list(namespace.items()):
        if inspect.isfunction(value) and value.__module__ == module and value is not function:
            try:
                sources[name] = inspect.getsource(value)
            except (OSError, TypeError):
                continue
    return sources


# ----------------------------------------------------------------------------
# Whole-function checks
# ----------------------------------------------------------------------------

#: The last check of each checked function: the first line of its failure, or
#: absent when it passed. Keyed by the function object (weakly), so a function
#: the learner redefines starts afresh, and a grader's stand-ins of different
#: submissions never share a verdict.
_verdicts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _checked(function: Callable):
    """The learner's function behind an adapter (``__wrapped__``), for the verdict of its checks."""
    while getattr(function, "__wrapped__", None) is not None:
        function = function.__wrapped__
    return function


def remember(function: Callable, verdict: str | None) -> None:
    """Record how ``function``'s last check went: the first line of its failure, or None if it passed."""
    try:
        if verdict is None:
            _verdicts.pop(_checked(function), None)
        else:
            _verdicts[_checked(function)] = verdict
    except TypeError:  # an object that cannot be referred to weakly: nothing to remember
        pass


def last_failure(function: Callable) -> str | None:
    """The first line of the failure of ``function``'s last check, or None (passed, or never checked)."""
    try:
        return _verdicts.get(_checked(function))
    except TypeError:
        return None


_remember, _forward_verdict = remember, last_failure


def check_forward(
    forward: Callable,
    inputs: Mapping[str, np.ndarray],
    expected: Mapping[str, np.ndarray],
    hints: Mapping[str, str] | None = None,
    case: str | None = None,
) -> None:
    """Check a forward function that returns ``(*outputs, cache)``.

    Every wrong output is reported, in the order of ``expected``, each with its
    hint; so is an input the function changed.

    Parameters
    ----------
    forward : callable
        The learner's forward function, called as ``forward(**inputs)``.
    inputs : mapping name -> ndarray
        Keyword arguments. Copies are passed; the check fails if they change.
    expected : mapping output name -> ndarray
        Expected outputs, in the order the function returns them (before the cache).
    hints : mapping output name -> str
        A hint printed when that output is wrong.
    case : str
        A short description of the inputs, printed in failure messages.
    """
    hints = hints or {}
    name = getattr(forward, "__name__", "forward")
    try:
        originals = _copies(inputs)
        passed = _copies(inputs)
        result = unpack(name, call(forward, **passed), len(expected) + 1, [*expected, "cache"])
        problems = [(output, value_problem(output, got, want)) for (output, want), got in zip(expected.items(), result)]
        wrong = [(output, problem) for output, problem in problems if problem]
        if wrong:
            names = [output for output, _ in wrong]
            raise failure(f"{name}: {_and(names)} {'is' if len(names) == 1 else 'are'} wrong{_on(case)}.",
                          [(output, hints.get(output)) for output in names], [problem for _, problem in wrong])
        assert_unmodified(name, originals, passed)
    except CheckFailed as error:
        _remember(forward, first_sentence(str(error)))
        raise
    _remember(forward, None)


def first_sentence(message: str) -> str:
    """The first sentence of a (wrapped) message, on one line, without its full stop."""
    text = " ".join(message.split())
    end = text.find(". ")
    return (text if end < 0 else text[:end]).rstrip(".")


def parameter_names(function: Callable) -> list[str]:
    """The names of ``function``'s positional parameters, as its ``def`` gives them (or [])."""
    source = getattr(function, "__source__", None)  # a grader's stand-in for a function run elsewhere
    if source:
        try:
            definition = ast.parse(textwrap.dedent(source)).body[0]
            return [a.arg for a in definition.args.posonlyargs + definition.args.args]
        except (SyntaxError, IndexError, AttributeError):
            return []
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _forward_first(forward_name: str, backward_name: str, why: str) -> str:
    return (f"Fix {forward_name} first: {why}. {backward_name} is checked against your {forward_name} "
            "(the gradient check differentiates it), so it cannot pass until the forward step is right.")


def check_backward(
    forward: Callable,
    backward: Callable,
    inputs: Mapping[str, np.ndarray],
    upstream: Mapping[str, np.ndarray] | Sequence[np.ndarray],
    gradient_names: Sequence[str],
    expected: Mapping[str, np.ndarray] | None = None,
    hints: Mapping[str, str] | None = None,
    hint_all_wrong: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    case: str | None = None,
    labels: Mapping[str, str] | None = None,
    blocks: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Check a backward function against numerical gradients of its forward.

    The learner's forward runs on ``inputs``; its cache and the ``upstream``
    gradients go to the learner's backward. Each returned gradient must have the
    shape of its input, agree with the central-difference gradient of the forward
    to a relative error below ``threshold``, and (when given) equal ``expected``.
    Neither the upstream gradients nor the cache may be modified. When the
    forward itself is wrong (its last check failed, or it changes its inputs),
    the message says so first.

    Parameters
    ----------
    forward, backward : callable
        ``forward(**inputs) -> (*outputs, cache)`` and
        ``backward(*upstream, cache) -> gradients``.
    inputs : mapping name -> ndarray
        The forward function's keyword arguments.
    upstream : mapping name -> ndarray, or sequence of ndarray
        One upstream gradient per output of ``forward`` (the same shapes). In a
        sequence, each is named after the backward function's parameter it goes
        to (``dnext_h``), for the messages.
    gradient_names : sequence of str
        Names of the gradients ``backward`` returns, in order; ``"dx"`` is the
        gradient with respect to input ``"x"``.
    expected : mapping gradient name -> ndarray, optional
        Expected gradients (computed from the reference implementation).
    hints : mapping gradient name -> str
        A hint printed when that gradient is wrong.
    hint_all_wrong : str, optional
        A hint printed instead when *every* gradient is wrong: the mistake is then
        usually in a factor they all share.
    threshold : float
        Largest relative error accepted in the gradient check.
    labels : mapping gradient name -> str, optional
        How the messages name a gradient when its name in ``gradient_names`` is
        not its name in the assignment's API (``"dh0_1"`` -> ``"dh0s[1]"``).
    blocks : mapping gradient name -> block names, optional
        For a gradient whose last axis is made of equal blocks (an LSTM's
        ``("i", "f", "o", "g")``), the message says which blocks are wrong.
    """
    f_name = getattr(forward, "__name__", "forward")
    b_name = getattr(backward, "__name__", "backward")
    try:
        _check_backward(forward, backward, inputs, upstream, gradient_names, expected, hints or {},
                        hint_all_wrong, threshold, case, labels or {}, blocks or {})
    except CheckFailed as error:
        remember(backward, first_sentence(str(error)))
        verdict = _forward_verdict(forward)
        if verdict is not None and not str(error).startswith(f"Fix {f_name} first"):
            raise CheckFailed(_forward_first(f_name, b_name, f"its own check fails ({verdict})")
                              + f"\n{error}") from None
        raise
    remember(backward, None)


def _check_backward(forward, backward, inputs, upstream, gradient_names, expected, hints, hint_all_wrong,
                    threshold, case, labels, blocks) -> None:
    f_name = getattr(forward, "__name__", "forward")
    b_name = getattr(backward, "__name__", "backward")
    label = labels.get
    if not isinstance(upstream, Mapping):
        names = parameter_names(backward)[:len(upstream)]
        if len(names) < len(upstream):
            names = [f"upstream gradient {i}" for i in range(len(upstream))]
        upstream = dict(zip(names, upstream))
    passed = _copies(inputs)
    outputs_and_cache = call(forward, **passed)
    changed = modified(_copies(inputs), passed)
    if changed:
        raise CheckFailed(_forward_first(f_name, b_name, f"it modified its input {_and(changed)}"))
    if not isinstance(outputs_and_cache, tuple) or len(outputs_and_cache) != len(upstream) + 1:
        raise CheckFailed(_forward_first(f_name, b_name, "it must return its outputs and a cache"))
    cache = outputs_and_cache[-1]
    upstream_copies = {name: np.array(u, copy=True) for name, u in upstream.items()}
    cache_before = [np.array(a, copy=True) for a in _arrays_in(cache)]
    cache_snapshot = copy.copy(cache)

    grads = call(backward, *upstream_copies.values(), cache)
    grads = unpack(b_name, grads, len(gradient_names), [label(n, n) for n in gradient_names])
    named = dict(zip(gradient_names, grads))

    shapes = [problem for grad_name, grad in named.items()
              if (problem := shape_problem(label(grad_name, grad_name), grad, np.shape(inputs[grad_name[1:]])))]
    if shapes:
        raise failure(f"{b_name} returns gradients of the wrong shape{_on(case)}.", details=shapes)
    assert_unmodified(b_name, upstream, upstream_copies)
    cache_after = _arrays_in(cache_snapshot)
    if len(cache_after) != len(cache_before) or not all(
        np.array_equal(a, b, equal_nan=True) for a, b in zip(cache_before, cache_after)
    ):
        raise CheckFailed(f"{b_name} modified the cache. Work on new arrays instead of changing the cached ones in place.")

    def weighted_outputs(**point):
        # Every output flattened into one array: its upstream-weighted sum is the loss.
        return np.concatenate([np.ravel(o) for o in forward(**point)[:-1]])

    # A grader that runs the learner's code in another process offers to run many calls in one
    # round trip, leaving the caches there (only the outputs count here); in a notebook, the
    # function is simply called for each point.
    if hasattr(forward, "map_dropping_last"):
        weighted_outputs.many = lambda points: [np.concatenate([np.ravel(o) for o in result[:-1]])
                                                for result in forward.map_dropping_last(points)]

    flat_upstream = np.concatenate([np.ravel(u) for u in upstream.values()])
    comparisons = compare_gradients(weighted_outputs, inputs, named, flat_upstream, threshold)
    _raise_if_gradients_wrong(b_name, comparisons, hints, hint_all_wrong, case, labels, blocks)

    wrong = [(name, problem) for name, want in (expected or {}).items()
             if (problem := value_problem(label(name, name), named[name], want))]
    if wrong:
        names = [label(name, name) for name, _ in wrong]
        raise failure(f"{b_name}: {_and(names)} {'is' if len(names) == 1 else 'are'} wrong{_on(case)}.",
                      [(label(name, name), hints.get(name)) for name, _ in wrong], [problem for _, problem in wrong])


#: Seconds a backward step may take on the large inputs of assert_backward_is_analytic.
ANALYTIC_SECONDS = 1.0


def assert_backward_is_analytic(
    forward: Callable,
    backward: Callable,
    inputs: Mapping[str, np.ndarray],
    upstream: Sequence[np.ndarray],
    seconds: float = ANALYTIC_SECONDS,
    case: str | None = None,
) -> None:
    """``backward`` returns within ``seconds`` on large ``inputs``.

    An analytic backward step is a few matrix products: milliseconds here, even
    written with loops. One that differentiates the forward step numerically
    (nudging every entry of every input, or a complex step) calls the forward
    step once or twice per entry, tens of thousands of times on these sizes:
    many seconds. It would pass every gradient check (it *is* a numerical
    gradient), so this is the check that tells the two apart.
    """
    import time

    name = getattr(backward, "__name__", "backward")
    outputs_and_cache = call(forward, **_copies(inputs))
    if not isinstance(outputs_and_cache, tuple) or len(outputs_and_cache) != len(upstream) + 1:
        raise CheckFailed(f"{getattr(forward, '__name__', 'forward')} must return its outputs and a cache.")
    started = time.perf_counter()
    finished = call_within(seconds, backward, *[np.array(u, copy=True) for u in upstream], outputs_and_cache[-1])
    elapsed = time.perf_counter() - started
    if not finished or elapsed > seconds:
        took = f"took {elapsed:.1f} s{_on(case)}" if finished else \
            f"was still running after {seconds:g} s{_on(case)}, and was stopped"
        raise failure(
            f"{name} {took}; an analytic backward step takes milliseconds.",
            [(name, "compute each gradient with the chain rule, as derived in the chapter. Nudging the "
                    "inputs and calling the forward step again (numerical differentiation) is how the "
                    "checks test your gradients, not how a backward step computes them.")])


def _first_value(function_name: str, result):
    """The first value of a tuple (or list) a function returned: a loss, where a gradient check reads it."""
    if not isinstance(result, (tuple, list)) or not result:
        raise CheckFailed(f"{function_name} must return its loss first, in a tuple with its gradients.")
    return result[0]


def check_loss_gradients(
    loss_and_grads: Callable,
    inputs: Mapping[str, np.ndarray],
    function_name: str,
    expected_loss: float | None = None,
    expected_grads: Mapping[str, np.ndarray] | None = None,
    hints: Mapping[str, str] | None = None,
    hint_all_wrong: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    case: str | None = None,
    gradient_check: bool = True,
    wrong_losses: Sequence[tuple[float, str]] = (),
) -> None:
    """Check a function that returns a scalar loss and its gradients.

    Parameters
    ----------
    loss_and_grads : callable
        ``loss_and_grads(**inputs) -> (loss, grads)`` where ``grads`` maps input
        names to gradient arrays (an adapter around the learner's function).
    inputs : mapping name -> ndarray
        Keyword arguments; integer arrays (ids, targets) are passed but not differentiated.
    function_name : str
        The learner's function, named in messages.
    expected_loss, expected_grads : optional
        Values from the reference implementation.
    hints : mapping name -> str
        By the name of the input (``"Wh"``) or ``"loss"``.
    threshold : float
        Largest relative error accepted in the gradient check.
    gradient_check : bool
        Compare with central differences. Turn off for inputs so large that
        finite differences are meaningless (then give ``expected_grads``).
    wrong_losses : sequence of (loss, hint)
        The losses that known bugs give on these inputs, each with the hint that
        names its bug: a wrong loss equal to one of them gets that hint instead of
        ``hints["loss"]`` (one loss value, many possible mistakes: this tells them apart).
    """
    hints = hints or {}
    originals = _copies(inputs)
    passed = _copies(inputs)
    result = call(loss_and_grads, **passed)
    loss, grads = result
    assert_unmodified(function_name, originals, passed)
    if not isinstance(grads, Mapping):
        raise CheckFailed(f"{function_name} must return its gradients as a dict name -> array.")
    missing = [name for name in (expected_grads or {}) if name not in grads]
    if missing:
        raise CheckFailed(f"{function_name} returned no gradient for {', '.join(missing)}{_on(case)}.")
    if expected_loss is not None:
        assert_number("loss", loss, expected_loss, _which_bug(loss, wrong_losses) or hints.get("loss"), case)
    shapes = [problem for name, grad in grads.items()
              if (problem := shape_problem(f"the gradient of {name}", grad, np.shape(inputs[name])))]
    if shapes:
        raise failure(f"{function_name} returns gradients of the wrong shape{_on(case)}.", details=shapes)

    def loss_only(**point):
        return np.asarray(loss_and_grads(**point)[0], dtype=np.float64)

    # In a grader, all the nudged points in one round trip (see check_backward); a loss is the
    # first value of what the learner's function returns.
    if hasattr(loss_and_grads, "map_dropping_last"):
        loss_only.many = lambda points: [np.asarray(_first_value(function_name, result), dtype=np.float64)
                                         for result in loss_and_grads.map_dropping_last(points)]

    comparisons = compare_gradients(loss_only, inputs, {f"d{k}": v for k, v in grads.items()}, None, threshold) \
        if gradient_check else []
    _raise_if_gradients_wrong(function_name, comparisons, {f"d{k}": v for k, v in hints.items()}, hint_all_wrong, case)
    wrong = [(f"the gradient of {name}", name, problem) for name, want in (expected_grads or {}).items()
             if (problem := value_problem(f"the gradient of {name}", grads[name], want))]
    if wrong:
        raise failure(f"{function_name}: {_and([n for n, _, _ in wrong])} {'is' if len(wrong) == 1 else 'are'} "
                      f"wrong{_on(case)}.", [(n, hints.get(name)) for n, name, _ in wrong], [p for _, _, p in wrong])


# ----------------------------------------------------------------------------
# Display in Jupyter
# ----------------------------------------------------------------------------

def show_failures_plainly() -> None:
    """In IPython, print a failed check as its message alone, without a traceback.

    The traceback of a failed check only shows the checking code, which is noise
    for a learner; the message already says what is wrong and where to look.
    Errors of any other kind keep their full traceback. Does nothing outside IPython.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - plain Python
        return
    shell = get_ipython()
    if shell is None:
        return

    def handler(shell, etype, value, tb, tb_offset=None):
        shell._showtraceback(etype, value, [f"{etype.__name__}: {value}"])  # PREFIX for a CheckFailed

    shell.set_custom_exc((CheckFailed,), handler)
