"""Synthetic tasks that need memory: the answer depends on an input seen long before.

A language model needs memory too, but mostly a short one: most characters follow from the few
before them. These tasks put a known number of steps between the evidence and the question, so
that how far a network can remember is measured rather than guessed.

delayed_recall(rng, N, delay, symbols)   a symbol, ``delay`` distractors, then a recall marker
"""

from __future__ import annotations

import numpy as np


def delayed_recall(rng: np.random.Generator, N: int, delay: int, symbols: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """A batch of the delayed-recall task (after Hochreiter & Schmidhuber, 1997).

    Each sequence shows one of ``symbols`` symbols, then ``delay`` distractors drawn at random
    from another ``symbols`` symbols, then a recall marker; at the marker the network must name
    the first symbol. Guessing is right one time in ``symbols``.

    Parameters
    ----------
    rng : the generator the batch is drawn from
    N : sequences in the batch
    delay : distractors between the symbol and the marker (0 or more)
    symbols : symbols to remember, and distractors to draw from

    Returns
    -------
    x : (N, T, D) one-hot inputs, T = delay + 2 steps and D = 2 * symbols + 1 features: the
        symbols, then the distractors, then the marker
    y : (N,) the symbol to recall, an integer in [0, symbols)
    """
    if delay < 0 or symbols < 1:
        raise ValueError(f"need delay >= 0 and symbols >= 1, got delay={delay}, symbols={symbols}")
    K, T = symbols, delay + 2
    x = np.zeros((N, T, 2 * K + 1))
    y = rng.integers(0, K, N)
    rows = np.arange(N)
    x[rows, 0, y] = 1.0
    distractors = rng.integers(K, 2 * K, (N, delay))
    x[rows[:, None], np.arange(1, T - 1)[None, :], distractors] = 1.0
    x[:, -1, 2 * K] = 1.0
    return x, y
