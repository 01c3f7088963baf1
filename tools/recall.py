"""The delayed-recall experiment of the chapter *Remembering across long delays*.

The vanilla RNN, the LSTM or the GRU (the reference implementations) trained to remember
a symbol across a delay of distractors (``train_delayed_recall``, ``train_grid``), each
described by a ``Cell``: its layer, its hidden size and the initial bias of the gate that
keeps its state. ``first_input_gradient`` measures, before any training, how much of the
loss's gradient reaches the first input; ``lstm_trace`` and ``cell_state_parts`` look inside
a trained LSTM. Nothing here is distributed to learners.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from rnnlab.tasks import delayed_recall

from autograder.course.reference import load_reference
from tools.training import Adam


#: The recurrent layers compared, with the names of their weights in the order they take them.
LAYERS = {"RNN": ("bptt", "rnn_forward", "rnn_backward", ("Wx", "Wh", "b")),
          "LSTM": ("lstm", "lstm_forward", "lstm_backward", ("Wx", "Wh", "b")),
          "GRU": ("gru", "gru_forward", "gru_backward", ("Wx", "Wh", "bx", "bh"))}
#: Column blocks of H of each layer's Wx, Wh and biases.
BLOCKS = {"RNN": 1, "LSTM": 4, "GRU": 3}
#: Initial bias of the gate that keeps the state: the LSTM's forget gate, the GRU's update gate.
#: sigmoid(3) = 0.95, so at first each step keeps 95 % of the state instead of a half.
KEEP_BIAS = 3.0
#: Symbols to remember in the delayed-recall task: guessing is right one time in four.
SYMBOLS = 4
#: Hidden units of every cell unless a ``Cell`` says otherwise.
HIDDEN = 16
#: Input size of the task: the symbols, the distractors and the recall marker, one-hot.
INPUTS = 2 * SYMBOLS + 1


@lru_cache(maxsize=None)
def _reference(slug: str):
    """The reference layers, loaded once per process (loading one executes its notebook)."""
    return load_reference(slug)


@dataclass(frozen=True)
class Cell:
    """One network of the comparison: its layer, its hidden size and the initial bias of the gate
    that keeps its state (the LSTM's forget gate, the GRU's update gate; the vanilla RNN has none,
    so its ``keep_bias`` is always 0)."""

    kind: str
    hidden: int = HIDDEN
    keep_bias: float = KEEP_BIAS

    def __post_init__(self):
        if self.kind not in LAYERS:
            raise ValueError(f"kind must be one of {sorted(LAYERS)}, got {self.kind!r}")
        if self.kind == "RNN":
            object.__setattr__(self, "keep_bias", 0.0)

    @property
    def parameters(self) -> int:
        """How many numbers the network learns, its output layer included."""
        return parameter_count(self.kind, self.hidden)


def parameter_count(kind: str, hidden: int, inputs: int = INPUTS, outputs: int = SYMBOLS) -> int:
    """Weights and biases of one layer and its output layer, as ``_parameters`` draws them."""
    blocks = BLOCKS[kind]
    biases = 2 * blocks * hidden if kind == "GRU" else blocks * hidden
    return blocks * hidden * (inputs + hidden) + biases + hidden * outputs + outputs


def matched_hidden(kind: str, target: Cell) -> int:
    """The hidden size that gives a ``kind`` layer the parameter count nearest ``target``'s."""
    goal = target.parameters
    return min(range(1, 4 * goal), key=lambda h: (abs(parameter_count(kind, h) - goal), h))


@dataclass
class Training:
    """What training one cell on one delay gave: the loss per update, the test accuracy, the weights.

    ``stopped_early`` says whether the run met the stopping rule before its budget ran out
    (then ``len(losses)`` is the update at which it did); otherwise it used every update.
    """

    cell: Cell
    delay: int
    seed: int
    losses: list[float] = field(default_factory=list)
    accuracy: float = 0.0
    stopped_early: bool = False
    params: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.cell.kind


def _parameters(kind: str, D: int, H: int, K: int, rng: np.random.Generator,
                keep_bias: float = KEEP_BIAS) -> dict[str, np.ndarray]:
    """Small random weights; the gate that keeps the state starts with the bias ``keep_bias``."""
    blocks = BLOCKS[kind]
    params = {"Wx": rng.normal(0.0, 1 / np.sqrt(D), (D, blocks * H)),
              "Wh": rng.normal(0.0, 1 / np.sqrt(H), (H, blocks * H)),
              "Wy": rng.normal(0.0, 1 / np.sqrt(H), (H, K)), "by": np.zeros(K)}
    if kind == "GRU":
        params["bx"], params["bh"] = np.zeros(3 * H), np.zeros(3 * H)
        params["bx"][H:2 * H] = keep_bias  # the update gate z: z near 1 keeps h_{t-1}
    else:
        params["b"] = np.zeros(blocks * H)
        if kind == "LSTM":
            params["b"][H:2 * H] = keep_bias  # the forget gate f (blocks i, f, o, g)
    return params


def _initial(cell: Cell, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return _parameters(cell.kind, INPUTS, cell.hidden, SYMBOLS, rng, cell.keep_bias)


def _recall_loss(kind: str, params: dict, x: np.ndarray, y: np.ndarray, *, with_dx: bool = False):
    """Cross-entropy of the recall at the last step, its gradients, and the accuracy
    (and, with ``with_dx``, the gradient of the loss with respect to the inputs x)."""
    slug, forward_name, backward_name, names = LAYERS[kind]
    layer, bptt = _reference(slug), _reference("bptt")
    N, H = x.shape[0], params["Wh"].shape[0]
    states, cache = getattr(layer, forward_name)(x, np.zeros((N, H)), *(params[n] for n in names))
    last = states[:, -1]
    scores = last @ params["Wy"] + params["by"]
    loss, dscores = bptt.temporal_softmax_loss(scores[:, None, :], y[:, None])
    dscores = dscores[:, 0]
    dstates = np.zeros_like(states)
    dstates[:, -1] = dscores @ params["Wy"].T  # only the last step is scored
    backward = getattr(layer, backward_name)(dstates, cache)
    grads = dict(zip(names, backward[2:]))
    grads.update(Wy=last.T @ dscores, by=dscores.sum(axis=0))
    accuracy = float(np.mean(scores.argmax(axis=1) == y))
    return (loss, grads, accuracy, backward[0]) if with_dx else (loss, grads, accuracy)


def train_delayed_recall(kind: str, delay: int, *, hidden: int = HIDDEN, keep_bias: float = KEEP_BIAS,
                         updates: int = 300, batch: int = 32, learning_rate: float = 1e-2,
                         max_norm: float = 1.0, seed: int = 1, test_size: int = 500,
                         solved_below: float = 0.05, window: int = 20) -> Training:
    """Train one layer (``"RNN"``, ``"LSTM"`` or ``"GRU"``) on the delayed-recall task with Adam,
    the gradient clipped by its global norm; each update sees a fresh batch.

    ``hidden`` is its number of hidden units, ``keep_bias`` the initial bias of its keep gate
    (ignored by the vanilla RNN). Training stops early once the mean loss of the last ``window``
    updates is below ``solved_below`` (the task is then learned: a loss of 0.05 is a probability
    of about 0.95 on the right symbol), then the accuracy is measured on ``test_size`` new
    sequences.
    """
    cell = Cell(kind, hidden, keep_bias)
    rng = np.random.default_rng(seed)
    params = _initial(cell, rng)
    clip = _reference("bptt").clip_by_global_norm
    adam = Adam(params, learning_rate)
    result = Training(cell, delay, seed)
    for step in range(1, updates + 1):
        x, y = delayed_recall(rng, batch, delay, SYMBOLS)
        loss, grads, _ = _recall_loss(kind, params, x, y)
        grads, _ = clip(grads, max_norm)
        adam.step(grads)
        result.losses.append(float(loss))
        if step >= window and np.mean(result.losses[-window:]) < solved_below:
            result.stopped_early = True
            break
    x, y = delayed_recall(np.random.default_rng(seed + 10_000), test_size, delay, SYMBOLS)
    result.accuracy, result.params = _recall_loss(kind, params, x, y)[2], params
    return result


def _train_one(job: tuple[Cell, int, int, dict]) -> Training:
    cell, delay, seed, settings = job
    return train_delayed_recall(cell.kind, delay, hidden=cell.hidden, keep_bias=cell.keep_bias,
                                seed=seed, **settings)


def _expected_cost(job: tuple[Cell, int, int, dict]) -> float:
    """A rough guess of a run's time, to start the longest first: steps times the layer's work."""
    cell, delay, _, _ = job
    return (delay + 2) * BLOCKS[cell.kind] * cell.hidden * (cell.hidden + INPUTS) ** 0.5


def train_grid(jobs: Iterable[tuple[Cell, int, int]], workers: int = 2, **settings) -> list[Training]:
    """``train_delayed_recall`` for every ``(cell, delay, seed)`` of ``jobs``, in ``workers`` processes,
    with the same ``settings`` (keywords of ``train_delayed_recall``) for all. Returns the runs in
    the order of ``jobs``.

    Each run is single-threaded and independent, so two processes on two cores take half the
    time. The runs expected to be longest (long delays, gated cells) are started first, so that no
    core idles at the end.
    """
    from concurrent.futures import ProcessPoolExecutor

    jobs = [(cell, delay, seed, settings) for cell, delay, seed in jobs]
    order = sorted(range(len(jobs)), key=lambda j: -_expected_cost(jobs[j]))
    with ProcessPoolExecutor(workers) as pool:
        futures = {j: pool.submit(_train_one, jobs[j]) for j in order}
        return [futures[j].result() for j in range(len(jobs))]


def first_input_gradient(cell: Cell, delay: int, seeds: Sequence[int], batch: int = 64) -> np.ndarray:
    """How strongly the recall loss responds to the first input before any training.

    For each seed: the weights as training would start them (``_parameters``), a batch of
    sequences, and the norm of the gradient of each sequence's own loss with respect to its
    first input x_1, averaged over the batch. Returns one number per seed. This is the signal
    that has to reach step 1 for the network to learn to store the symbol.
    """
    norms = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        params = _initial(cell, rng)
        x, y = delayed_recall(rng, batch, delay, SYMBOLS)
        dx = _recall_loss(cell.kind, params, x, y, with_dx=True)[3]
        # The loss is averaged over the batch: times N, each row is its own sequence's gradient.
        norms.append(float(np.mean(np.linalg.norm(batch * dx[:, 0], axis=1))))
    return np.array(norms)


def lstm_trace(params: dict[str, np.ndarray], x: np.ndarray) -> dict[str, np.ndarray]:
    """Everything a trained LSTM computes, step by step (``lstm_forward`` returns only h).

    x: (N, T, D) -> a dict of (N, T, H) arrays: the states ``h`` and ``c`` and the gates
    ``i``, ``f``, ``o`` and the candidate ``g`` of every step, starting from zero states.
    """
    lstm = _reference("lstm")
    N, T, _ = x.shape
    H = params["Wh"].shape[0]
    trace = {name: np.zeros((N, T, H)) for name in ("h", "c", "i", "f", "o", "g")}
    prev_h, prev_c = np.zeros((N, H)), np.zeros((N, H))
    for t in range(T):
        a = x[:, t] @ params["Wx"] + prev_h @ params["Wh"] + params["b"]  # blocks i, f, o, g
        for k, name in enumerate(("i", "f", "o")):
            trace[name][:, t] = 1 / (1 + np.exp(-a[:, k * H:(k + 1) * H]))
        trace["g"][:, t] = np.tanh(a[:, 3 * H:])
        prev_h, prev_c, _ = lstm.lstm_step_forward(x[:, t], prev_h, prev_c, params["Wx"], params["Wh"], params["b"])
        trace["h"][:, t], trace["c"][:, t] = prev_h, prev_c
    return trace


def lstm_states(params: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The hidden and cell states of a trained LSTM, step by step: x (N, T, D) -> h, c (N, T, H)."""
    trace = lstm_trace(params, x)
    return trace["h"], trace["c"]


def cell_state_parts(trace: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The cell state split by where it came from, from an ``lstm_trace``; all (N, T, H).

    - ``kept``: f_t ⊙ c_{t-1}, what step t kept of the state before it;
    - ``written``: i_t ⊙ g_t, what step t wrote into it (``kept + written`` is c_t);
    - ``carried``: (f_t ⊙ f_{t-1} ⊙ ... ⊙ f_2) ⊙ c_1, what is left at step t of the cell state
      after step 1, carried along the cell state by the forget gates alone;
    - ``later``: c_t minus ``carried``, everything steps 2 ... t wrote and kept since.
    """
    c, f = trace["c"], trace["f"]
    previous = np.concatenate([np.zeros_like(c[:, :1]), c[:, :-1]], axis=1)
    forget_products = np.concatenate([np.ones_like(f[:, :1]), np.cumprod(f[:, 1:], axis=1)], axis=1)
    carried = forget_products * c[:, :1]
    return {"kept": f * previous, "written": trace["i"] * trace["g"], "carried": carried, "later": c - carried}
