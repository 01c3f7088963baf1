"""Is the delayed-recall experiment right, and does it show what *Remembering across long delays* says?"""

from __future__ import annotations

import numpy as np
import pytest

from tools import recall as experiments
from tools.recall import KEEP_BIAS, Cell
from autograder.course.reference import load_reference
from rnnlab.gradcheck import numerical_gradient, relative_error
from rnnlab.tasks import delayed_recall

#: The six networks of the chapter: the three cells, the vanilla RNN as large as the LSTM, and
#: the gated cells with every bias at 0.
MATCHED_H = experiments.matched_hidden("RNN", Cell("LSTM"))
CELLS = [Cell("RNN"), Cell("RNN", hidden=MATCHED_H), Cell("LSTM"), Cell("GRU"),
         Cell("LSTM", keep_bias=0), Cell("GRU", keep_bias=0)]


def cell_id(cell: Cell) -> str:
    return f"{cell.kind}-H{cell.hidden}-bias{cell.keep_bias:g}"


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


SMALL_GATED = [Cell(kind, hidden=3, keep_bias=bias) for kind in ("LSTM", "GRU") for bias in (0, KEEP_BIAS)]


@pytest.mark.parametrize("cell", [Cell("RNN", hidden=3), Cell("RNN", hidden=MATCHED_H), *SMALL_GATED], ids=cell_id)
def test_are_the_recall_gradients_those_of_the_recall_loss(cell):
    """The delayed-recall training scores the last step only: check every gradient numerically,
    for every kind of network of the chapter (the matched RNN's width, both keep biases)."""
    rng = np.random.default_rng(4)
    x, y = delayed_recall(rng, N=3, delay=3, symbols=2)
    params = experiments._parameters(cell.kind, x.shape[2], cell.hidden, 2, rng, cell.keep_bias)
    _, grads, _ = experiments._recall_loss(cell.kind, params, x, y)
    for name, value in params.items():
        def loss_of(changed, name=name):
            return np.array(experiments._recall_loss(cell.kind, {**params, name: changed}, x, y)[0])
        assert relative_error(grads[name], numerical_gradient(loss_of, value)) < 1e-7, name


@pytest.mark.parametrize("kind, bias_name", [("LSTM", "b"), ("GRU", "bx")])
@pytest.mark.parametrize("keep_bias", [0.0, 1.0, KEEP_BIAS])
def test_does_the_keep_gate_start_at_the_bias_the_cell_asks_for(kind, bias_name, keep_bias):
    """The LSTM's forget gate (block 2 of i, f, o, g) and the GRU's update gate (block 2 of r, z, n)
    start at ``keep_bias``; every other bias starts at 0."""
    H = 5
    params = experiments._parameters(kind, 9, H, 4, np.random.default_rng(0), keep_bias)
    expected = np.zeros_like(params[bias_name])
    expected[H:2 * H] = keep_bias
    assert np.array_equal(params[bias_name], expected)
    if kind == "GRU":
        assert not params["bh"].any()


def test_has_the_vanilla_rnn_no_keep_bias():
    assert Cell("RNN", keep_bias=3).keep_bias == 0 and Cell("RNN") == Cell("RNN", keep_bias=0)
    with pytest.raises(ValueError, match="kind"):
        Cell("Transformer")


@pytest.mark.parametrize("cell", CELLS, ids=cell_id)
def test_does_the_parameter_count_count_the_weights_training_draws(cell):
    params = experiments._initial(cell, np.random.default_rng(0))
    assert cell.parameters == sum(value.size for value in params.values())


def test_is_the_matched_rnn_within_a_few_percent_of_the_lstms_size():
    lstm, rnn, wide = Cell("LSTM"), Cell("RNN"), Cell("RNN", hidden=MATCHED_H)
    assert (rnn.parameters, lstm.parameters, Cell("GRU").parameters) == (484, 1732, 1364)
    assert abs(wide.parameters - lstm.parameters) / lstm.parameters < 0.03, (MATCHED_H, wide.parameters)
    # The nearest: one unit fewer or more is further from the LSTM's count.
    for other in (MATCHED_H - 1, MATCHED_H + 1):
        assert abs(Cell("RNN", hidden=other).parameters - lstm.parameters) > abs(wide.parameters - lstm.parameters)


def random_lstm(H=4, D=9, seed=3):
    rng = np.random.default_rng(seed)
    params = experiments._parameters("LSTM", D, H, 4, rng)
    params["Wh"] = params["Wh"] * 2.0  # larger weights than at the start, closer to a trained network
    params["b"] = params["b"] + rng.normal(0.0, 1.0, params["b"].shape)
    x, _ = delayed_recall(rng, N=3, delay=6, symbols=4)
    return params, x


def test_does_lstm_trace_record_the_reference_lstms_states_and_gates():
    params, x = random_lstm()
    trace = experiments.lstm_trace(params, x)
    h, _ = load_reference("lstm").lstm_forward(x, np.zeros((3, 4)), params["Wx"], params["Wh"], params["b"])
    assert np.allclose(trace["h"], h, rtol=0, atol=1e-12)
    assert np.allclose(trace["h"], trace["o"] * np.tanh(trace["c"]), rtol=0, atol=1e-12)
    h_again, c_again = experiments.lstm_states(params, x)
    assert np.array_equal(h_again, trace["h"]) and np.array_equal(c_again, trace["c"])


def test_does_the_cell_state_split_into_what_was_kept_and_what_was_written():
    """f_t c_{t-1} + i_t g_t reproduces c_t exactly, and the part carried from c_1 is the product of
    the forget gates f_2 ... f_t times c_1 (c_t unchanged when nothing is written after step 1)."""
    params, x = random_lstm()
    trace = experiments.lstm_trace(params, x)
    parts = experiments.cell_state_parts(trace)
    c, f = trace["c"], trace["f"]
    assert np.allclose(parts["kept"] + parts["written"], c, rtol=0, atol=1e-12)
    assert np.array_equal(parts["kept"][:, 0], np.zeros_like(c[:, 0])), "c_0 is zero"
    assert np.allclose(parts["kept"][:, 1:], f[:, 1:] * c[:, :-1], rtol=0, atol=1e-12)
    carried = c[:, 0].copy()
    for t in range(c.shape[1]):
        if t:
            carried = f[:, t] * carried
        assert np.allclose(parts["carried"][:, t], carried, rtol=0, atol=1e-12), t
    assert np.allclose(parts["carried"] + parts["later"], c, rtol=0, atol=1e-12)


@pytest.mark.parametrize("cell", CELLS, ids=cell_id)
def test_is_the_first_input_gradient_that_of_each_sequences_loss(cell):
    """``first_input_gradient`` against a numerical gradient of the loss with respect to x_1."""
    seed, N, delay = 5, 4, 3
    rng = np.random.default_rng(seed)
    params = experiments._initial(cell, rng)
    x, y = delayed_recall(rng, N, delay, experiments.SYMBOLS)

    def loss_of(first):
        changed = x.copy()
        changed[:, 0] = first
        return np.array(experiments._recall_loss(cell.kind, params, changed, y)[0])

    numerical = N * numerical_gradient(loss_of, x[:, 0])  # each row: that sequence's own loss
    analytic = N * experiments._recall_loss(cell.kind, params, x, y, with_dx=True)[3][:, 0]
    assert relative_error(analytic, numerical) < 1e-7
    expected = np.mean(np.linalg.norm(numerical, axis=1))
    measured = experiments.first_input_gradient(cell, delay, seeds=[seed], batch=N)
    assert measured.shape == (1,) and np.isclose(measured[0], expected, rtol=1e-6), (measured, expected)


def test_does_the_keep_bias_carry_more_gradient_to_the_first_input():
    """At initialisation, over a delay of 30: the biased gated cells deliver far more gradient to x_1
    than the same cells with every bias at 0."""
    g = {cell: experiments.first_input_gradient(cell, 30, seeds=range(3)).mean() for cell in CELLS}
    assert g[Cell("LSTM")] > 100 * g[Cell("LSTM", keep_bias=0)], g
    assert g[Cell("GRU")] > 100 * g[Cell("GRU", keep_bias=0)], g


def test_does_train_grid_return_the_runs_in_the_order_of_its_jobs():
    jobs = [(Cell("GRU", hidden=4), 2, 1), (Cell("RNN", hidden=3), 1, 2), (Cell("LSTM", hidden=4, keep_bias=0), 3, 1)]
    runs = experiments.train_grid(jobs, workers=2, updates=3, test_size=10)
    assert [(r.cell, r.delay, r.seed) for r in runs] == jobs
    assert all(len(r.losses) == 3 and not r.stopped_early for r in runs)
    assert runs[2].params["b"].shape == (16,)


@pytest.mark.slow
def test_do_biased_gated_cells_learn_a_delay_that_neither_the_rnn_nor_unbiased_gates_do():
    """A reduced run of the chapter *Remembering across long delays*: the ordering it shows at a
    long delay, and the control that every network learns a short one."""
    lstm, gru, rnn, lstm0 = Cell("LSTM"), Cell("GRU"), Cell("RNN"), Cell("LSTM", keep_bias=0)
    jobs = [(cell, delay, seed) for cell in (lstm, gru, rnn, lstm0) for delay in (5, 40) for seed in (1, 2)]
    runs = experiments.train_grid(jobs, workers=2)
    accuracy = {}
    for run in runs:
        accuracy.setdefault((run.cell, run.delay), []).append(run.accuracy)
    # At a short delay every network learns the task: a failure at the long one is the delay's doing.
    assert min(min(a) for (cell, delay), a in accuracy.items() if delay == 5) >= 0.95, accuracy
    assert min(accuracy[lstm, 40]) >= 0.95 and min(accuracy[gru, 40]) >= 0.95, accuracy
    assert np.mean(accuracy[rnn, 40]) < 0.8 and np.mean(accuracy[lstm0, 40]) < 0.8, accuracy
    assert all(run.stopped_early for run in runs if run.cell in (lstm, gru) and run.delay == 40)
