"""Adapters: a learner's function called the way the generic checks call functions.

The checks call the function under test with keyword arrays, ``forward(**inputs)``,
and differentiate it with respect to each of them. Several graded functions take
their arguments otherwise (a dict of parameters, lengths fixed for the check, layers
in lists): an adapter translates a point (the keyword arrays) into the call the
learner's function expects, and the learner's return value into what the check reads.

A grader that runs the learner's code in another process makes every call a round
trip, and a gradient check makes two calls per entry of every input. There the
learner's function offers ``map_calls_dropping_last`` (many calls in one round trip,
each returned tuple without its last value), and an adapter made here offers
``map_dropping_last(points)`` in turn, which the checks use for the nudged points
(``rnnlab.checks``). In a notebook neither exists and every point is a plain call.
"""

from __future__ import annotations

from collections.abc import Callable

#: point (keyword arrays) -> (positional arguments, keyword arguments) of the learner's function
Arguments = Callable[..., tuple[tuple, dict]]


def adapter(function: Callable, arguments: Arguments, result: Callable | None = None) -> Callable:
    """``function`` called as ``adapted(**point)``, named like it (the checks report by its name).

    Parameters
    ----------
    function : callable
        The learner's function.
    arguments : callable
        Called with the point's keyword arrays; returns ``(args, kwargs)`` for ``function``.
    result : callable, optional
        ``result(value, point)`` turns ``function``'s return value into the adapter's (and
        checks its form). The batched calls bypass it: their results are ``function``'s own,
        each tuple without its last value. The checks read only what no adapter changes
        there: a forward step's outputs before its cache, or a loss, the first value.
    """
    def adapted(**point):
        args, kwargs = arguments(**point)
        value = function(*args, **kwargs)
        return value if result is None else result(value, point)

    adapted.__name__ = getattr(function, "__name__", "function")
    adapted.__wrapped__ = function
    if hasattr(function, "map_calls_dropping_last"):
        adapted.map_dropping_last = lambda points: function.map_calls_dropping_last(
            [arguments(**point) for point in points])
    return adapted


def named_like(wrapper: Callable, function: Callable) -> Callable:
    """``wrapper`` named like the learner's ``function``, which it wraps (the checks report by it).

    For adapters whose calls are never batched (a backward step's: it is called once per check).
    """
    wrapper.__name__ = getattr(function, "__name__", "function")
    wrapper.__wrapped__ = function
    return wrapper
