"""Numerical gradient checking by central differences.

Backpropagation code is easy to get almost right. The cure is to compare every
analytic gradient with a numerical estimate computed from the forward pass
alone. For a function ``f`` that maps an array ``x`` to an array ``y`` and an
upstream gradient ``dy`` (the gradient of some scalar loss ``L`` with respect to
``y``), the gradient of ``L`` with respect to ``x`` is the gradient of the
scalar ``sum(f(x) * dy)``. Each of its entries is estimated by the central
difference::

    dL/dx[i] ~ (sum(f(x + h e_i) * dy) - sum(f(x - h e_i) * dy)) / (2 h)

whose error shrinks like ``h**2``. With float64 and ``h = 1e-5`` the estimate
agrees with a correct analytic gradient to a relative error near ``1e-10``;
a wrong gradient is off by ``1e-2`` or more. Always check in float64: in
float32 the rounding error of the difference swamps the signal.

Functions
---------
numerical_gradient(f, x, upstream, h)
    Central-difference gradient of ``sum(f(x) * upstream)`` with respect to ``x``.
relative_error(analytic, numerical)
    ``||a - n|| / (||a|| + ||n||)``, a scale-free distance between two arrays.
check_gradients(forward, inputs, analytic, upstream, threshold)
    Compares every analytic gradient with its numerical twin; raises
    :class:`GradientCheckError` naming each gradient that fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

#: Default finite-difference step. Balances truncation error (~h**2) against
#: floating-point cancellation (~eps / h) for float64 inputs of order one.
DEFAULT_STEP = 1e-5

#: Default relative-error threshold. Correct float64 gradients of the course's
#: functions come in near 1e-10, so this leaves three orders of magnitude of
#: margin while every realistic bug lands far above it.
DEFAULT_THRESHOLD = 1e-7


class GradientCheckError(AssertionError):
    """An analytic gradient disagrees with its numerical estimate."""


def _first_output(result):
    """The array a forward function returns: its first value when it returns a tuple
    such as ``(out, cache)``."""
    return result[0] if isinstance(result, tuple) else result


def numerical_gradient(
    f: Callable[[np.ndarray], object],
    x: np.ndarray,
    upstream: np.ndarray | None = None,
    h: float = DEFAULT_STEP,
) -> np.ndarray:
    """Central-difference gradient of ``sum(f(x) * upstream)`` with respect to ``x``.

    Parameters
    ----------
    f : callable
        Maps ``x`` to an array ``y`` (or to a tuple whose first item is ``y``,
        such as ``(out, cache)``). It is called ``2 * x.size`` times, each time
        on a copy of ``x`` with one entry nudged: ``x + h e_0``, ``x - h e_0``,
        ``x + h e_1``, ... in that order. If ``f`` has an attribute ``many``
        (a function that takes the list of those points and returns the list
        of results, in order), it is called once with all of them instead: a
        grader that runs ``f`` in another process offers it, to save a round
        trip per point.
    x : ndarray, any shape, float64
        The point at which to differentiate. It is not modified.
    upstream : ndarray, same shape as ``y``, optional
        The gradient of the loss with respect to ``y``. ``None`` means ``f``
        returns a scalar loss (upstream gradient 1).
    h : float
        The step.

    Returns
    -------
    ndarray, same shape as ``x``
    """
    if not np.issubdtype(np.asarray(x).dtype, np.floating):
        raise TypeError(f"x must be a float array to be nudged, got dtype {np.asarray(x).dtype}")
    weight = 1.0 if upstream is None else upstream
    points = []
    for index in np.ndindex(np.shape(x)):
        for step in (h, -h):
            nudged = np.array(x, copy=True)
            nudged[index] = x[index] + step
            points.append(nudged)
    evaluate_all = getattr(f, "many", None) or (lambda xs: [f(point) for point in xs])
    losses = np.array([float(np.sum(np.asarray(_first_output(y)) * weight)) for y in evaluate_all(points)])
    grad = (losses[0::2] - losses[1::2]) / (2.0 * h)  # (L(x + h e_i) - L(x - h e_i)) / 2h for each i
    return grad.reshape(np.shape(x))


def relative_error(analytic: np.ndarray, numerical: np.ndarray) -> float:
    """Scale-free distance ``||a - n||_2 / (||a||_2 + ||n||_2)`` between two arrays.

    It is 0 when they are equal and never more than 1 (triangle inequality),
    which it reaches when one is zero and the other is not, or when they are
    exact opposites. Unlike an element-wise ratio it does not explode on entries
    that are both tiny, as they are in saturated tanh units.

    Parameters
    ----------
    analytic, numerical : ndarray, same shape
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numerical, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"shapes differ: {a.shape} versus {n.shape}")
    scale = np.linalg.norm(a) + np.linalg.norm(n)
    if scale == 0.0:
        return 0.0
    return float(np.linalg.norm(a - n) / scale)


@dataclass(frozen=True)
class GradientComparison:
    """The outcome of comparing one analytic gradient with its numerical estimate."""

    name: str
    error: float
    threshold: float
    worst_index: tuple[int, ...]
    analytic_value: float
    numerical_value: float
    #: The two gradients compared, for callers that diagnose a failure further.
    analytic: np.ndarray | None = field(default=None, repr=False, compare=False)
    numerical: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        return self.error <= self.threshold

    def describe(self, label: str | None = None, width: int = 8) -> str:
        """One line (two for a failing gradient with a finite error) of a report."""
        name = f"{label or self.name}:".ljust(width + 1)
        if self.passed:
            return f"{name} relative error {self.error:.1e}  ok"
        text = f"{name} relative error {self.error:.1e}  WRONG"
        if np.isfinite(self.error):
            text += (f"\n{' ' * len(name)} worst at index {self.worst_index}: "
                     f"analytic {self.analytic_value:.6g}, numerical {self.numerical_value:.6g}")
        return text


def compare_gradient(name: str, analytic, numerical, threshold: float = DEFAULT_THRESHOLD) -> GradientComparison:
    """Compare one analytic gradient with its numerical estimate.

    A shape mismatch is reported as an error, not a comparison: it is always a bug.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numerical = np.asarray(numerical, dtype=np.float64)
    if analytic.shape != numerical.shape:
        raise GradientCheckError(
            f"{name} has shape {analytic.shape} but the gradient of its input has shape {numerical.shape}"
        )
    if not np.all(np.isfinite(analytic)):
        return GradientComparison(name, float("inf"), threshold, (), float("nan"), float("nan"), analytic, numerical)
    if analytic.size == 0:
        return GradientComparison(name, 0.0, threshold, (), 0.0, 0.0, analytic, numerical)
    difference = np.abs(analytic - numerical)
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(difference)), difference.shape))
    return GradientComparison(
        name=name,
        error=relative_error(analytic, numerical),
        threshold=threshold,
        worst_index=worst,
        analytic_value=float(analytic[worst]),
        numerical_value=float(numerical[worst]),
        analytic=analytic,
        numerical=numerical,
    )


def compare_gradients(
    forward: Callable[..., object],
    inputs: Mapping[str, np.ndarray],
    analytic: Mapping[str, np.ndarray],
    upstream: np.ndarray | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    h: float = DEFAULT_STEP,
) -> list[GradientComparison]:
    """Compare every analytic gradient with its numerical twin, without raising.

    Parameters
    ----------
    forward : callable
        Called as ``forward(**inputs)``; returns the output array ``y`` or a
        tuple ``(y, cache)``.
    inputs : mapping name -> ndarray
        The forward function's keyword arguments (float64). Copies are nudged,
        so the caller's arrays are never modified.
    analytic : mapping gradient name -> ndarray
        Analytic gradients to check. A gradient named ``"dx"`` is the gradient
        with respect to input ``"x"``: the leading ``d`` is dropped to find it.
    upstream : ndarray, same shape as ``y``, optional
        The upstream gradient used to compute ``analytic``.
    threshold : float
        The largest relative error accepted.

    Returns
    -------
    list of GradientComparison, one per analytic gradient, in the order given.
    """
    comparisons = []
    for grad_name, grad in analytic.items():
        input_name = grad_name[1:] if grad_name.startswith("d") else grad_name
        if input_name not in inputs:
            raise KeyError(f"gradient {grad_name!r} has no input named {input_name!r}")
        # Copies: the caller's arrays are never nudged. Integer inputs (ids, targets)
        # keep their dtype; only the differentiated input must be float.
        point = {name: np.array(value, copy=True) for name, value in inputs.items()}
        point[input_name] = np.array(inputs[input_name], dtype=np.float64, copy=True)

        def f_of_one_input(x, _name=input_name, _point=point):
            return forward(**{**_point, _name: x})

        if hasattr(forward, "many"):  # all the nudged points evaluated at once (see numerical_gradient)
            f_of_one_input.many = lambda xs, _name=input_name, _point=point: forward.many(
                [{**_point, _name: x} for x in xs])

        numerical = numerical_gradient(f_of_one_input, point[input_name], upstream, h)
        comparisons.append(compare_gradient(grad_name, grad, numerical, threshold))
    return comparisons


def check_gradients(
    forward: Callable[..., object],
    inputs: Mapping[str, np.ndarray],
    analytic: Mapping[str, np.ndarray],
    upstream: np.ndarray | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    h: float = DEFAULT_STEP,
) -> list[GradientComparison]:
    """Compare every analytic gradient with its numerical twin; fail if any is off.

    Takes the same arguments as :func:`compare_gradients`.

    Returns
    -------
    list of GradientComparison, all passing.

    Raises
    ------
    GradientCheckError
        If any gradient's relative error exceeds ``threshold``; the message
        lists every gradient with its error and the threshold.
    """
    comparisons = compare_gradients(forward, inputs, analytic, upstream, threshold, h)
    failed = [c for c in comparisons if not c.passed]
    if failed:
        raise GradientCheckError(format_report(comparisons))
    return comparisons


def format_report(comparisons: list[GradientComparison], labels: Mapping[str, str] | None = None) -> str:
    """A headline, then a line per gradient (two for a failing one): its relative error and a verdict.

    ``labels`` names a gradient in the report when its name in the comparison
    is not the one the reader knows.
    """
    labels = labels or {}
    failed = sum(not c.passed for c in comparisons)
    threshold = max((c.threshold for c in comparisons), default=DEFAULT_THRESHOLD)
    width = max((len(labels.get(c.name, c.name)) for c in comparisons), default=0)
    lines = [c.describe(labels.get(c.name, c.name), width) for c in comparisons]
    return f"{failed} of {len(comparisons)} gradients fail the check (threshold {threshold:.0e}):\n" + "\n".join(lines)
