"""Is the delayed-recall experiment right, and does it show what *Remembering across long delays* says?"""

from __future__ import annotations

import numpy as np
import pytest

from tools import recall as experiments
from rnnlab.gradcheck import numerical_gradient, relative_error
from rnnlab.tasks import delayed_recall


def test_does_delayed_recall_show_the_symbol_first_distractors_then_the_marker():
    x, y = delayed_recall(np.random.default_rng(0), N=50, delay=6, symbols=3)
    assert x.shape == (50, 8, 7) and y.shape == (50,)
    assert np.array_equal(x.sum(axis=2), np.ones((50, 8))), "one-hot at every step"
    assert np.array_equal(x[:, 0, :3].argmax(axis=1), y) and not x[:, 0, 3:].any()
    assert x[:, 1:-1, 3:6].sum() == 50 * 6 and not x[:, 1:-1, :3].any() and not x[:, 1:-1, 6].any()
    assert x[:, -1, 6].all()
    assert set(np.unique(y)) == {0, 1, 2}


def test_does_delayed_recall_refuse_a_negative_delay():
    with pytest.raises(ValueError, match="delay"):
        delayed_recall(np.random.default_rng(0), N=1, delay=-1)


@pytest.mark.parametrize("kind", list(experiments.LAYERS))
def test_are_the_recall_gradients_those_of_the_recall_loss(kind):
    """The delayed-recall training scores the last step only: check every gradient numerically."""
    rng = np.random.default_rng(4)
    x, y = delayed_recall(rng, N=3, delay=3, symbols=2)
    params = experiments._parameters(kind, x.shape[2], 3, 2, rng)
    _, grads, _ = experiments._recall_loss(kind, params, x, y)
    for name, value in params.items():
        def loss_of(changed, name=name):
            return np.array(experiments._recall_loss(kind, {**params, name: changed}, x, y)[0])
        assert relative_error(grads[name], numerical_gradient(loss_of, value)) < 1e-7, name


@pytest.mark.slow
def test_do_gated_cells_learn_a_long_delay_that_the_vanilla_rnn_does_not():
    """A reduced run of the chapter *Remembering across long delays*: the ordering it shows."""
    runs = experiments.train_grid(("RNN", "LSTM", "GRU"), delays=(5, 40), seeds=(1, 2))
    accuracy = {}
    for run in runs:
        accuracy.setdefault((run.kind, run.delay), []).append(run.accuracy)
    # At a short delay every cell learns the task: a failure at the long one is the delay's doing.
    assert min(min(a) for (kind, delay), a in accuracy.items() if delay == 5) >= 0.95, accuracy
    assert min(accuracy["LSTM", 40]) >= 0.95 and min(accuracy["GRU", 40]) >= 0.95, accuracy
    assert np.mean(accuracy["RNN", 40]) < 0.8, accuracy
