"""The delayed-recall experiment of the chapter *Remembering across long delays*.

The vanilla RNN, the LSTM or the GRU (the reference implementations) trained to remember
a symbol across a delay of distractors (``train_delayed_recall``, ``train_grid``), and
``lstm_states`` to look inside a trained LSTM. Nothing here is distributed to learners.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rnnlab.tasks import delayed_recall

from autograder.course.reference import load_reference
from tools.training import Adam


#: The recurrent layers compared, with the names of their weights in the order they take them.
LAYERS = {"RNN": ("bptt", "rnn_forward", "rnn_backward", ("Wx", "Wh", "b")),
          "LSTM": ("lstm", "lstm_forward", "lstm_backward", ("Wx", "Wh", "b")),
          "GRU": ("gru", "gru_forward", "gru_backward", ("Wx", "Wh", "bx", "bh"))}
#: Initial bias of the gate that keeps the state: the LSTM's forget gate, the GRU's update gate.
#: sigmoid(3) = 0.95, so at first each step keeps 95 % of the state instead of a half.
KEEP_BIAS = 3.0
#: Symbols to remember in the delayed-recall task: guessing is right one time in four.
SYMBOLS = 4


@dataclass
class Training:
    """What training one layer on one delay gave: the loss per update, the test accuracy, the weights."""

    kind: str
    delay: int
    seed: int
    losses: list[float] = field(default_factory=list)
    accuracy: float = 0.0
    params: dict[str, np.ndarray] = field(default_factory=dict)


def _parameters(kind: str, D: int, H: int, K: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Small random weights; the gate that keeps the state starts biased towards keeping it."""
    blocks = {"RNN": 1, "LSTM": 4, "GRU": 3}[kind]
    params = {"Wx": rng.normal(0.0, 1 / np.sqrt(D), (D, blocks * H)),
              "Wh": rng.normal(0.0, 1 / np.sqrt(H), (H, blocks * H)),
              "Wy": rng.normal(0.0, 1 / np.sqrt(H), (H, K)), "by": np.zeros(K)}
    if kind == "GRU":
        params["bx"], params["bh"] = np.zeros(3 * H), np.zeros(3 * H)
        params["bx"][H:2 * H] = KEEP_BIAS  # the update gate z: z near 1 keeps h_{t-1}
    else:
        params["b"] = np.zeros(blocks * H)
        if kind == "LSTM":
            params["b"][H:2 * H] = KEEP_BIAS  # the forget gate f (blocks i, f, o, g)
    return params


def _recall_loss(kind: str, params: dict, x: np.ndarray, y: np.ndarray):
    """Cross-entropy of the recall at the last step, its gradients, and the accuracy."""
    slug, forward_name, backward_name, names = LAYERS[kind]
    layer, bptt = load_reference(slug), load_reference("bptt")
    N, H = x.shape[0], params["Wh"].shape[0]
    states, cache = getattr(layer, forward_name)(x, np.zeros((N, H)), *(params[n] for n in names))
    last = states[:, -1]
    scores = last @ params["Wy"] + params["by"]
    loss, dscores = bptt.temporal_softmax_loss(scores[:, None, :], y[:, None])
    dscores = dscores[:, 0]
    dstates = np.zeros_like(states)
    dstates[:, -1] = dscores @ params["Wy"].T  # only the last step is scored
    grads = dict(zip(names, getattr(layer, backward_name)(dstates, cache)[2:]))
    grads.update(Wy=last.T @ dscores, by=dscores.sum(axis=0))
    return loss, grads, float(np.mean(scores.argmax(axis=1) == y))


def train_delayed_recall(kind: str, delay: int, *, updates: int = 300, hidden: int = 16, batch: int = 32,
                         learning_rate: float = 1e-2, max_norm: float = 1.0, seed: int = 1,
                         test_size: int = 500, solved_below: float = 0.05, window: int = 20) -> Training:
    """Train one layer (``"RNN"``, ``"LSTM"`` or ``"GRU"``) on the delayed-recall task with Adam,
    the gradient clipped by its global norm; each update sees a fresh batch.

    Training stops early once the mean loss of the last ``window`` updates is below
    ``solved_below`` (the task is then learned: a loss of 0.05 is a probability of about 0.95 on
    the right symbol), then the accuracy is measured on ``test_size`` new sequences.
    """
    rng = np.random.default_rng(seed)
    params = _parameters(kind, 2 * SYMBOLS + 1, hidden, SYMBOLS, rng)
    clip = load_reference("bptt").clip_by_global_norm
    adam = Adam(params, learning_rate)
    result = Training(kind, delay, seed)
    for step in range(1, updates + 1):
        x, y = delayed_recall(rng, batch, delay, SYMBOLS)
        loss, grads, _ = _recall_loss(kind, params, x, y)
        grads, _ = clip(grads, max_norm)
        adam.step(grads)
        result.losses.append(float(loss))
        if step >= window and np.mean(result.losses[-window:]) < solved_below:
            break
    x, y = delayed_recall(np.random.default_rng(seed + 10_000), test_size, delay, SYMBOLS)
    result.accuracy, result.params = _recall_loss(kind, params, x, y)[2], params
    return result


def _train_one(job: tuple[str, int, int]) -> Training:
    kind, delay, seed = job
    return train_delayed_recall(kind, delay, seed=seed)


def train_grid(kinds: Sequence[str], delays: Sequence[int], seeds: Sequence[int], workers: int = 2) -> list[Training]:
    """``train_delayed_recall`` for every (kind, delay, seed), in ``workers`` processes.

    Each run is single-threaded and independent, so two processes on two cores take half the
    time. The longest runs (the vanilla RNN at the longest delays, which seldom stops early) are
    started first, so that no core idles at the end.
    """
    from concurrent.futures import ProcessPoolExecutor

    jobs = sorted(((k, d, s) for k in kinds for d in delays for s in seeds),
                  key=lambda job: (job[0] != "RNN", -job[1]))
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_train_one, jobs))


def lstm_states(params: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The hidden and cell states of a trained LSTM, step by step (``lstm_forward`` returns only h).

    x: (N, T, D) -> h, c: (N, T, H), both starting from zero states.
    """
    lstm = load_reference("lstm")
    N, T, _ = x.shape
    H = params["Wh"].shape[0]
    h, c = np.zeros((N, T, H)), np.zeros((N, T, H))
    prev_h, prev_c = np.zeros((N, H)), np.zeros((N, H))
    for t in range(T):
        prev_h, prev_c, _ = lstm.lstm_step_forward(x[:, t], prev_h, prev_c, params["Wx"], params["Wh"], params["b"])
        h[:, t], c[:, t] = prev_h, prev_c
    return h, c
