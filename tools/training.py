"""What every model the chapters train shares: the Adam optimiser.

Adam (Kingma and Ba, 2015) with its bias correction folded into the step size, on a dict of
NumPy arrays; the chapters' training loops (``tools.recall``, ``tools.encoder_decoder``,
``tools.attention``) all step with it, so that their runs differ only in what they say they do.
"""

from __future__ import annotations

import numpy as np


class Adam:
    """Adam on a dict of weights, updated in place of the dict's values (new arrays each step).

    Parameters
    ----------
    params : dict of name -> array
        The weights; ``step`` replaces each value by its updated copy.
    learning_rate : float
        The step size before bias correction.
    """

    def __init__(self, params: dict[str, np.ndarray], learning_rate: float,
                 beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.params, self.learning_rate = params, learning_rate
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        # 1 - 0.9 is 0.09999999999999998 in floating point; the rounded 0.1 keeps runs bit-for-bit
        # those of the loops this class replaced (the chapters' figures do not move).
        self._new1, self._new2 = round(1 - beta1, 12), round(1 - beta2, 12)
        self.first = {k: np.zeros_like(v) for k, v in params.items()}
        self.second = {k: np.zeros_like(v) for k, v in params.items()}
        self.steps = 0

    def step(self, grads: dict[str, np.ndarray]) -> None:
        """One update with ``grads`` (the keys and shapes of ``params``)."""
        self.steps += 1
        t = self.steps
        step_size = self.learning_rate * np.sqrt(1 - self.beta2 ** t) / (1 - self.beta1 ** t)
        for k in self.params:
            self.first[k] = self.beta1 * self.first[k] + self._new1 * grads[k]
            self.second[k] = self.beta2 * self.second[k] + self._new2 * grads[k] ** 2
            self.params[k] = self.params[k] - step_size * self.first[k] / (np.sqrt(self.second[k]) + self.eps)


def _call(job):
    function, options = job
    return function(**options)


def in_processes(jobs: list[tuple], workers: int = 2) -> list:
    """Run ``function(**options)`` for every ``(function, options)`` of ``jobs`` in ``workers``
    processes, and return the results in the order of ``jobs``.

    The chapters' training runs are single-threaded and independent: two processes on two cores take
    about half the time. Put the longest job first, so that no core idles at the end. ``function``
    must be importable by name (a module's top-level function), as every process imports it anew.
    """
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_call, jobs))
