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


def lstm_language_model(seed=4, N=3, T=8, V=6, H=5):
    lstm = load_reference("lstm")
    rng = np.random.default_rng(seed)
    params = {"Wx": rng.normal(size=(V, 4 * H)) * 0.5, "Wh": rng.normal(size=(H, 4 * H)) * 0.5,
              "b": rng.normal(size=4 * H), "Wy": rng.normal(size=(H, V)), "by": rng.normal(size=V)}
    params["b"][H:2 * H] += 2.0  # forget gates mostly open: the cell state matters across the cut
    x, y, h0 = rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T)), rng.normal(size=(N, H))
    loss = experiments.language_model_loss(lstm.lstm_forward, lstm.lstm_backward, ("Wx", "Wh", "b"),
                                           last_cell=experiments.lstm_last_cell)
    return lstm, loss, params, x, y, h0


def test_does_carrying_h_and_c_make_two_half_windows_end_where_one_whole_window_ends():
    lstm, loss, params, x, y, h0 = lstm_language_model()
    half = x.shape[1] // 2
    whole_loss, _, (h_whole, c_whole) = loss(params, x, y, h0)
    first_loss, _, state = loss(params, x[:, :half], y[:, :half], h0)
    second_loss, _, (h_two, c_two) = loss(params, x[:, half:], y[:, half:], state)
    np.testing.assert_allclose(h_two, h_whole, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c_two, c_whole, rtol=1e-12, atol=1e-14)
    # The loss is summed over the window, so the halves' losses add up to the whole one's.
    assert first_loss + second_loss == pytest.approx(whole_loss, rel=1e-12)
    # Wiping the cell state at the cut (carrying h alone) would not: the comparison has teeth.
    wiped_loss, _, (h_wiped, _) = loss(params, x[:, half:], y[:, half:], state[0])
    assert not np.allclose(h_wiped, h_whole, rtol=1e-6)
    assert first_loss + wiped_loss != pytest.approx(whole_loss, rel=1e-6)


def test_is_the_carried_cell_state_the_one_the_lstm_steps_compute():
    lstm, loss, params, x, y, h0 = lstm_language_model(seed=5)
    c0 = np.random.default_rng(6).normal(size=h0.shape)
    _, _, (h_last, c_last) = loss(params, x, y, (h0, c0))
    h, c = h0, c0
    for t in range(x.shape[1]):
        h, c, _ = lstm.lstm_step_forward(np.eye(params["Wy"].shape[1])[x[:, t]], h, c,
                                         params["Wx"], params["Wh"], params["b"])
    np.testing.assert_allclose(h_last, h, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c_last, c, rtol=1e-12, atol=1e-14)


def test_are_the_lstm_language_models_gradients_those_of_its_window_from_the_carried_state():
    """Truncated BPTT: the gradients are those of the window's loss with the carried (h, c) held fixed."""
    lstm, loss, params, x, y, h0 = lstm_language_model(seed=7, N=2, T=4, V=4, H=3)
    c0 = np.random.default_rng(8).normal(size=h0.shape)
    _, grads, _ = loss(params, x, y, (h0, c0))
    for name in params:
        def value(entry, name=name):
            return loss({**params, name: entry}, x, y, (h0, c0))[0]
        numerical = np.zeros_like(params[name])
        for index in np.ndindex(params[name].shape):
            step = np.zeros_like(params[name])
            step[index] = 1e-6
            numerical[index] = (value(params[name] + step) - value(params[name] - step)) / 2e-6
        np.testing.assert_allclose(grads[name], numerical, rtol=1e-5, atol=1e-8)


def test_do_jobs_in_processes_come_back_in_their_order():
    from tools.training import in_processes

    jobs = [(np.linspace, dict(start=0, stop=1, num=3)), (np.full, dict(shape=2, fill_value=7))]
    first, second = in_processes(jobs)
    assert first.tolist() == [0.0, 0.5, 1.0] and second.tolist() == [7, 7]
