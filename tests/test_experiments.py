"""Is the chapters' character language model the graded one?"""

from __future__ import annotations

import numpy as np
import pytest

from tools import experiments
from autograder.course.reference import load_reference


def test_is_the_language_model_loss_the_graded_char_rnn_loss_for_the_vanilla_layer():
    bptt = load_reference("bptt")
    rng = np.random.default_rng(3)
    N, T, V, H = 2, 5, 6, 4
    params = {"Wx": rng.normal(size=(V, H)), "Wh": rng.normal(size=(H, H)) * 0.5, "b": rng.normal(size=H),
              "Wy": rng.normal(size=(H, V)), "by": rng.normal(size=V)}
    x, y, h0 = rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T)), rng.normal(size=(N, H))
    ours = experiments.language_model_loss(bptt.rnn_forward, bptt.rnn_backward)(params, x, y, h0)
    graded = bptt.char_rnn_loss(params, x, y, h0)
    assert ours[0] == pytest.approx(graded[0])
    for name in params:
        np.testing.assert_allclose(ours[1][name], graded[1][name])
    np.testing.assert_allclose(ours[2], graded[2])
