"""The checks that the assignments' test cells run, with messages that teach.

Every check raises :class:`CheckFailed` (an ``AssertionError``, so nbgrader
counts the cell as failed) whose message says *what* is wrong (which output or
gradient), *by how much*, and *where to look* (a hint written for that
quantity). Messages never contain a solution.

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
import textwrap
import traceback
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .gradcheck import DEFAULT_THRESHOLD, compare_gradients, format_report

#: Tolerances for comparing values with expected ones. Values are printed with
#: 10 significant digits in the notebooks, and float64 rounding differences
#: between machines are near 1e-15, so these leave room for both while any
#: real mistake is many orders of magnitude larger.
RTOL = 1e-7
ATOL = 1e-9


class CheckFailed(AssertionError):
    """A check of a learner's function failed; the message says what, by how much, and a hint."""


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

def call(function: Callable, *args, **kwargs):
    """Call a learner's function; turn any exception into a CheckFailed that shows
    the learner's own traceback (their code, not the checking code)."""
    name = getattr(function, "__name__", "the function")
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailed(
            f"{name} is not implemented yet: replace `raise NotImplementedError()` with your code."
        ) from None
    except Exception as error:  # noqa: BLE001 - any error in learner code is reported, not hidden
        # A grader that runs the learner's code in another process raises an error
        # carrying the original type, text and frames (kind, text, learner_traceback).
        kind = getattr(error, "kind", type(error).__name__)
        text = getattr(error, "text", error)
        where = getattr(error, "learner_traceback", None)
        if where is None:
            frames = traceback.extract_tb(error.__traceback__)[1:]  # drop this frame
            where = "".join(traceback.format_list(frames)).rstrip()
        where = f"\nWhere it happened (most recent call last):\n{where}" if where else ""
        raise CheckFailed(f"{name} raised {kind}: {text}{where}") from None


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


def assert_shape(name: str, value, expected_shape: Sequence[int], case: str | None = None) -> None:
    """``value`` is a float64 array of ``expected_shape``."""
    if not isinstance(value, np.ndarray):
        raise CheckFailed(f"{name} should be a NumPy array of shape {tuple(expected_shape)}, "
                          f"got {type(value).__name__}{_on(case)}.")
    if value.shape != tuple(expected_shape):
        raise CheckFailed(f"{name} has shape {value.shape} but should have shape {tuple(expected_shape)}{_on(case)}. "
                          "Write the shape of every term next to it and match them.")
    if value.dtype != np.float64:
        raise CheckFailed(f"{name} has dtype {value.dtype} but should be float64{_on(case)}.")


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
            return f"it is the expected value times {ratios[0]:.4g}: a constant factor is off"
    in_time = wrong_time_steps(actual, expected)
    if in_time:
        return in_time
    wrong = ~np.isclose(actual, expected, rtol=RTOL, atol=ATOL)
    if wrong.sum() < wrong.size:
        first = tuple(int(i) for i in np.argwhere(wrong)[0])
        return f"{int(wrong.sum())} of {wrong.size} entries are wrong, the first at index {first}"
    return "every entry is wrong"


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
    expected = np.asarray(expected, dtype=np.float64)
    assert_shape(name, actual, expected.shape, case)
    if np.allclose(actual, expected, rtol=rtol, atol=atol):
        return
    difference = np.abs(actual - expected)
    difference[~np.isfinite(difference)] = np.inf
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(difference)), difference.shape))
    message = (
        f"{name} is wrong{_on(case)}: the largest difference from the expected value is "
        f"{difference[worst]:.3g} at index {worst} (expected {expected[worst]:.6g}, got {actual[worst]:.6g}); "
        f"{describe_mismatch(actual, expected)}."
    )
    if hint:
        message += f"\nHint: {hint}"
    raise CheckFailed(message)


def assert_unmodified(function_name: str, before: Mapping, after: Mapping) -> None:
    """Every array in ``after`` still equals its copy in ``before``."""
    for name, original in before.items():
        now = after[name]
        if isinstance(original, np.ndarray) and not np.array_equal(original, now, equal_nan=True):
            raise CheckFailed(
                f"{function_name} modified its input {name}. Functions must not change their "
                "arguments: look for in-place operations such as `+=`, `*=` or slice assignment "
                "on an input, and work on new arrays instead."
            )


def _arrays_in(value) -> list[np.ndarray]:
    """Every NumPy array inside a (possibly nested) cache, in a stable order."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, Mapping):
        return [a for key in sorted(value, key=str) for a in _arrays_in(value[key])]
    if isinstance(value, (tuple, list)):
        return [a for item in value for a in _arrays_in(item)]
    return []


def _raise_if_gradients_wrong(function_name, comparisons, hints, hint_all_wrong, case) -> None:
    """Raise a CheckFailed listing every gradient's error, with time-step patterns and hints."""
    wrong = [c for c in comparisons if not c.passed]
    if not wrong:
        return
    message = f"{function_name} fails the gradient check{_on(case)}. {format_report(comparisons)}"
    for c in wrong:
        if c.analytic is not None and np.all(np.isfinite(c.analytic)):
            pattern = wrong_time_steps(c.analytic, c.numerical, rtol=1e-5)
            if pattern:
                message += f"\n{c.name} is {pattern}."
    if hint_all_wrong and len(wrong) == len(comparisons) > 1:
        message += f"\nHint: {hint_all_wrong}"
    else:
        message += "".join(f"\nHint for {c.name}: {hints[c.name]}" for c in wrong if c.name in hints)
    raise CheckFailed(message)


def assert_number(name: str, value, expected: float, hint: str | None = None, case: str | None = None,
                  rtol: float = RTOL, atol: float = ATOL) -> None:
    """``value`` is a real number (Python or NumPy scalar) equal to ``expected``."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise CheckFailed(f"{name} should be a number, got {type(value).__name__}{_on(case)}.")
    if not np.isclose(float(value), expected, rtol=rtol, atol=atol):
        message = f"{name} is wrong{_on(case)}: expected {expected:.10g}, got {float(value):.10g}."
        if hint:
            message += f"\nHint: {hint}"
        raise CheckFailed(message)


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
        message = f"{name} changed direction{_on(case)}: it is {angle:.3g} degrees away from the original."
        if hint:
            message += f"\nHint: {hint}"
        raise CheckFailed(message)


def assert_loops_at_most(function: Callable, max_loops: int, what: str) -> None:
    """``function``'s own code has at most ``max_loops`` ``for``/``while`` statements.

    Vectorised code works on whole arrays; a loop over the batch or over units
    is slow and a sign of a misunderstanding. Comprehensions are not counted.
    When the source cannot be read (e.g. a built-in), nothing is checked; but under a
    grader that passes the source as ``__source__``, a function it found no code for fails.

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
    else:
        try:
            source = inspect.getsource(function)
        except (OSError, TypeError):
            return
    source = textwrap.dedent(source)
    loops = [node for node in ast.walk(ast.parse(source)) if isinstance(node, (ast.For, ast.While, ast.AsyncFor))]
    if len(loops) > max_loops:
        lines = source.splitlines()
        shown = "; ".join(f"line {n.lineno}: `{lines[n.lineno - 1].strip()}`" for n in loops)
        allowed = "no loop at all" if max_loops == 0 else f"at most {max_loops} loop(s), over {what}"
        raise CheckFailed(
            f"{function.__name__} has {len(loops)} Python loop(s) ({shown}); it should have {allowed}. "
            "Work on whole arrays: NumPy operations apply to every row of the batch at once."
        )


# ----------------------------------------------------------------------------
# Whole-function checks
# ----------------------------------------------------------------------------

def check_forward(
    forward: Callable,
    inputs: Mapping[str, np.ndarray],
    expected: Mapping[str, np.ndarray],
    hints: Mapping[str, str] | None = None,
    case: str | None = None,
) -> None:
    """Check a forward function that returns ``(*outputs, cache)``.

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
    originals = _copies(inputs)
    passed = _copies(inputs)
    result = unpack(name, call(forward, **passed), len(expected) + 1, [*expected, "cache"])
    for (output_name, want), got in zip(expected.items(), result):
        assert_close(output_name, got, want, hints.get(output_name), case)
    assert_unmodified(name, originals, passed)


def check_backward(
    forward: Callable,
    backward: Callable,
    inputs: Mapping[str, np.ndarray],
    upstream: Sequence[np.ndarray],
    gradient_names: Sequence[str],
    expected: Mapping[str, np.ndarray] | None = None,
    hints: Mapping[str, str] | None = None,
    hint_all_wrong: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    case: str | None = None,
) -> None:
    """Check a backward function against numerical gradients of its forward.

    The learner's forward runs on ``inputs``; its cache and the ``upstream``
    gradients go to the learner's backward. Each returned gradient must have the
    shape of its input, agree with the central-difference gradient of the forward
    to a relative error below ``threshold``, and (when given) equal ``expected``.
    Neither the upstream gradients nor the cache may be modified.

    Parameters
    ----------
    forward, backward : callable
        ``forward(**inputs) -> (*outputs, cache)`` and
        ``backward(*upstream, cache) -> gradients``.
    inputs : mapping name -> ndarray
        The forward function's keyword arguments.
    upstream : sequence of ndarray
        One upstream gradient per output of ``forward`` (the same shapes).
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
    """
    hints = hints or {}
    b_name = getattr(backward, "__name__", "backward")
    outputs_and_cache = call(forward, **_copies(inputs))
    if not isinstance(outputs_and_cache, tuple) or len(outputs_and_cache) != len(upstream) + 1:
        raise CheckFailed(f"{getattr(forward, '__name__', 'forward')} must return its outputs and a cache; "
                          "fix it before its backward can be checked.")
    cache = outputs_and_cache[-1]
    upstream_copies = [np.array(u, copy=True) for u in upstream]
    cache_before = [np.array(a, copy=True) for a in _arrays_in(cache)]
    cache_snapshot = copy.copy(cache)

    grads = call(backward, *upstream_copies, cache)
    grads = unpack(b_name, grads, len(gradient_names), gradient_names)
    named = dict(zip(gradient_names, grads))

    for grad_name, grad in named.items():
        assert_shape(grad_name, grad, np.shape(inputs[grad_name[1:]]), case)
    assert_unmodified(b_name, {f"upstream gradient {i}": u for i, u in enumerate(upstream)},
                      {f"upstream gradient {i}": u for i, u in enumerate(upstream_copies)})
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

    flat_upstream = np.concatenate([np.ravel(u) for u in upstream])
    comparisons = compare_gradients(weighted_outputs, inputs, named, flat_upstream, threshold)
    _raise_if_gradients_wrong(b_name, comparisons, hints, hint_all_wrong, case)

    for grad_name, want in (expected or {}).items():
        assert_close(grad_name, named[grad_name], want, hints.get(grad_name), case)


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
    hints : mapping gradient name -> str
    threshold : float
        Largest relative error accepted in the gradient check.
    gradient_check : bool
        Compare with central differences. Turn off for inputs so large that
        finite differences are meaningless (then give ``expected_grads``).
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
        assert_number("loss", loss, expected_loss, hints.get("loss"), case)
    for name, grad in grads.items():
        assert_shape(f"the gradient of {name}", grad, np.shape(inputs[name]), case)

    def loss_only(**point):
        return np.asarray(loss_and_grads(**point)[0], dtype=np.float64)

    comparisons = compare_gradients(loss_only, inputs, {f"d{k}": v for k, v in grads.items()}, None, threshold) \
        if gradient_check else []
    _raise_if_gradients_wrong(function_name, comparisons, {f"d{k}": v for k, v in hints.items()}, hint_all_wrong, case)
    for name, want in (expected_grads or {}).items():
        assert_close(f"the gradient of {name}", grads[name], want, hints.get(name), case)


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
        shell._showtraceback(etype, value, [f"{etype.__name__}: {value}"])

    shell.set_custom_exc((CheckFailed,), handler)
