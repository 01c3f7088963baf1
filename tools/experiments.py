"""Models the chapters train at build time, built from the reference implementations.

The chapters' experiments (language models, the long-range comparison) need
pieces that are graded in an assignment: the loss of a character language
model is ``char_rnn_loss`` of ``bptt``. Printed in a chapter, even with its
recurrent layer renamed, it would hand that answer to everyone one chapter
ahead, and a chapter's downloadable notebook holds its hidden cells too. So
the chapters import these builders instead, and only their results reach the
website. Nothing here is distributed to learners.

- ``language_model_loss``: a character language model with any recurrent layer;
- ``train_delayed_recall``: the vanilla RNN, the LSTM or the GRU trained to remember
  a symbol across a delay of distractors (the chapter *Remembering across long
  delays*), and ``lstm_states`` to look inside a trained LSTM;
- ``train_seq2seq`` / ``train_tasks``: the encoder-decoder of the ``seq2seq`` assignment trained on
  human-written dates or on string reversal (the chapter *Sequence to sequence*), with
  ``translate`` (greedy decoding or temperature sampling) and ``teacher_forced_and_free`` (the
  exposure-bias comparison): decoders that, printed in the chapter, would reproduce the graded
  ``greedy_decode``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rnnlab.tasks import delayed_recall

from autograder.course.reference import load_reference


def language_model_loss(layer_forward: Callable, layer_backward: Callable,
                        layer_parameters: Sequence[str] = ("Wx", "Wh", "b")) -> Callable:
    """The loss of a character language model whose recurrent layer is any of the course's.

    Parameters
    ----------
    layer_forward, layer_backward : callable
        ``layer_forward(x, h0, *weights) -> (h, cache)`` with x (N, T, V), h0 (N, H),
        h (N, T, H); ``layer_backward(dh, cache) -> (dx, dh0, *dweights)``
        (``rnn_forward``, ``lstm_forward``, ``gru_forward`` and their backwards).
    layer_parameters : names of the layer's weights in ``params``, in the order the layer takes them.

    Returns
    -------
    ``loss(params, x, y, h0) -> (loss, grads, h_last)``: x, y (N, T) character ids,
    params the layer's weights and Wy (H, V), by (V,); the loss is summed over the
    window and averaged over the batch; grads has the keys of params; h_last (N, H).
    """
    bptt = load_reference("bptt")

    def loss(params, x, y, h0):
        vocabulary = params["Wy"].shape[1]
        states, layer_cache = layer_forward(bptt.one_hot(x, vocabulary), h0,
                                            *(params[name] for name in layer_parameters))
        scores, output_cache = bptt.temporal_affine_forward(states, params["Wy"], params["by"])
        value, dscores = bptt.temporal_softmax_loss(scores, y)
        dstates, dWy, dby = bptt.temporal_affine_backward(dscores, output_cache)
        layer_gradients = layer_backward(dstates, layer_cache)[2:]
        grads = dict(zip(layer_parameters, layer_gradients), Wy=dWy, by=dby)
        return value, grads, states[:, -1]

    return loss


# -- remembering across a delay ------------------------------------------------------

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
    first = {k: np.zeros_like(v) for k, v in params.items()}
    second = {k: np.zeros_like(v) for k, v in params.items()}
    result = Training(kind, delay, seed)
    for step in range(1, updates + 1):
        x, y = delayed_recall(rng, batch, delay, SYMBOLS)
        loss, grads, _ = _recall_loss(kind, params, x, y)
        grads, _ = clip(grads, max_norm)
        for k in params:  # Adam
            first[k] = 0.9 * first[k] + 0.1 * grads[k]
            second[k] = 0.999 * second[k] + 0.001 * grads[k] ** 2
            step_size = learning_rate * np.sqrt(1 - 0.999 ** step) / (1 - 0.9 ** step)
            params[k] = params[k] - step_size * first[k] / (np.sqrt(second[k]) + 1e-8)
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


# -- an encoder-decoder (the chapter *Sequence to sequence*) --------------------------

#: The two tasks of the chapter: (source alphabet, target alphabet, batch maker, decoding steps).
#: Dates: human-written dates to ISO form; reversal: strings of 2 to 16 letters, reversed.
SEQ2SEQ_TASKS = ("dates", "reversal")
REVERSAL_ALPHABET = "abcdefghij"
REVERSAL_LENGTHS = (2, 16)


def seq2seq_task(task: str):
    """(source alphabet, target alphabet, make(rng, N) -> (sources, targets)) of a task."""
    from rnnlab.tasks import DATE_CHARACTERS, ISO_CHARACTERS, human_dates, reversal_pairs

    if task == "dates":
        return DATE_CHARACTERS, ISO_CHARACTERS, lambda rng, N: human_dates(rng, N)
    if task == "reversal":
        return (REVERSAL_ALPHABET, REVERSAL_ALPHABET,
                lambda rng, N: reversal_pairs(rng, N, *REVERSAL_LENGTHS, REVERSAL_ALPHABET))
    raise ValueError(f"unknown task {task!r}: one of {SEQ2SEQ_TASKS}")


def init_seq2seq(V_src: int, V_tgt: int, D: int, H: int, D_dec: int, H_dec: int,
                 rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Small random weights of the encoder-decoder of the ``seq2seq`` assignment (its keys and
    shapes): weights scaled by 1/sqrt(fan-in), embeddings by 0.3, biases zero."""
    def weights(fan_in, *shape):
        return rng.normal(0.0, 1.0 / np.sqrt(fan_in), shape)

    params = {"E_src": 0.3 * rng.standard_normal((V_src, D)), "E_tgt": 0.3 * rng.standard_normal((V_tgt, D_dec)),
              "W_init": weights(2 * H, 2 * H, H_dec), "b_init": np.zeros(H_dec),
              "Wx_d": weights(D_dec, D_dec, 3 * H_dec), "Wh_d": weights(H_dec, H_dec, 3 * H_dec),
              "bx_d": np.zeros(3 * H_dec), "bh_d": np.zeros(3 * H_dec),
              "Wy": weights(H_dec, H_dec, V_tgt), "by": np.zeros(V_tgt)}
    for d in ("f", "b"):
        params.update({f"Wx_{d}": weights(D, D, 3 * H), f"Wh_{d}": weights(H, H, 3 * H),
                       f"bx_{d}": np.zeros(3 * H), f"bh_{d}": np.zeros(3 * H)})
    return params


@dataclass
class Seq2SeqRun:
    """One training run of the encoder-decoder: the loss per update, the exact-match accuracy of
    greedy decoding on validation sequences every ``every`` updates, snapshots of the weights."""

    task: str
    losses: list[float] = field(default_factory=list)
    evaluated_at: list[int] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    snapshots: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    params: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: float = 0.0


def batch_ids(task: str, sources: list[str], targets: list[str]):
    """(src, src_lengths, tgt, tgt_lengths) of a batch of strings; targets end with END."""
    from rnnlab.tasks import encode

    source_alphabet, target_alphabet, _ = seq2seq_task(task)
    src, src_lengths = encode(sources, source_alphabet)
    tgt, tgt_lengths = encode(targets, target_alphabet, end=True)
    return src, src_lengths, tgt, tgt_lengths


def translate(task: str, params: dict, sources: list[str], max_length: int | None = None,
              temperature: float | None = None, rng: np.random.Generator | None = None) -> list[str]:
    """Decode ``sources`` with the trained weights: greedily (the graded ``greedy_decode``) or, with a
    ``temperature``, by sampling each token from the softmax of the scores divided by it."""
    from rnnlab.tasks import decode, encode

    source_alphabet, target_alphabet, _ = seq2seq_task(task)
    src, src_lengths = encode(sources, source_alphabet)
    max_length = max_length or (11 if task == "dates" else REVERSAL_LENGTHS[1] + 1)
    if temperature is None:
        return decode(load_reference("seq2seq").greedy_decode(params, src, src_lengths, max_length), target_alphabet)
    return decode(_sample(params, src, src_lengths, max_length, temperature, rng), target_alphabet)


def _initial_state(params: dict, src: np.ndarray, src_lengths: np.ndarray) -> np.ndarray:
    ref = load_reference("seq2seq")
    _, final, _ = ref.encoder_forward(params["E_src"][src], src_lengths, params)
    return np.tanh(final @ params["W_init"] + params["b_init"])


def _decoder_step(params: dict, previous: np.ndarray, h: np.ndarray):
    """One step of the decoder: (next state, scores) after reading the tokens ``previous`` (N,)."""
    ref = load_reference("seq2seq")
    h, _ = ref.gru_step_forward(params["E_tgt"][previous], h, params["Wx_d"], params["Wh_d"],
                                params["bx_d"], params["bh_d"])
    return h, h @ params["Wy"] + params["by"]


def _sample(params, src, src_lengths, max_length, temperature, rng):
    """Temperature sampling: like greedy decoding, but each token drawn from softmax(scores / temperature)."""
    from rnnlab.assignments.seq2seq import END, PAD, START

    N = src.shape[0]
    h, previous = _initial_state(params, src, src_lengths), np.full(N, START)
    ids, finished = np.full((N, max_length), PAD), np.zeros(N, dtype=bool)
    for s in range(max_length):
        h, scores = _decoder_step(params, previous, h)
        scaled = scores / temperature
        p = np.exp(scaled - scaled.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        previous = (p.cumsum(axis=1) > rng.random((N, 1))).argmax(axis=1)  # one draw per row
        ids[:, s] = np.where(finished, PAD, previous)
        finished |= previous == END
    return ids


def teacher_forced_and_free(params: dict, src, src_lengths, tgt, tgt_lengths):
    """The token chosen (highest score) at every target position, (N, S) each: fed the true previous
    tokens (teacher forcing, as in training) and fed its own previous choices (free running)."""
    from rnnlab.assignments.seq2seq import START

    N, S = tgt.shape
    forced, free = np.zeros((N, S), dtype=np.int64), np.zeros((N, S), dtype=np.int64)
    h_forced = h_free = _initial_state(params, src, src_lengths)
    true_previous = own_previous = np.full(N, START)
    for s in range(S):
        h_forced, scores = _decoder_step(params, true_previous, h_forced)
        forced[:, s] = scores.argmax(axis=1)
        h_free, scores = _decoder_step(params, own_previous, h_free)
        free[:, s] = own_previous = scores.argmax(axis=1)
        true_previous = tgt[:, s]
    return forced, free


def train_seq2seq(task: str, *, updates: int = 2000, batch: int = 64, D: int = 16, H: int = 32,
                  H_dec: int = 64, learning_rate: float = 3e-3, max_norm: float = 5.0, seed: int = 0,
                  every: int = 100, validation: int = 500, snapshots: Sequence[int] = ()) -> Seq2SeqRun:
    """Train the encoder-decoder on ``task`` with the graded ``seq2seq_loss`` (teacher forcing), Adam
    and clipping by global norm; every update sees a fresh batch of generated pairs."""
    import time

    ref, clip = load_reference("seq2seq"), load_reference("bptt").clip_by_global_norm
    source_alphabet, target_alphabet, make = seq2seq_task(task)
    rng = np.random.default_rng(seed)
    params = init_seq2seq(len(source_alphabet) + 3, len(target_alphabet) + 3, D, H, D, H_dec, rng)
    sources, targets = make(np.random.default_rng(seed + 10_000), validation)
    first = {k: np.zeros_like(v) for k, v in params.items()}
    second = {k: np.zeros_like(v) for k, v in params.items()}
    run, start = Seq2SeqRun(task), time.perf_counter()
    for step in range(1, updates + 1):
        loss, grads = ref.seq2seq_loss(params, *batch_ids(task, *make(rng, batch)))
        grads, _ = clip(grads, max_norm)
        step_size = learning_rate * np.sqrt(1 - 0.999 ** step) / (1 - 0.9 ** step)
        for k in params:  # Adam
            first[k] = 0.9 * first[k] + 0.1 * grads[k]
            second[k] = 0.999 * second[k] + 0.001 * grads[k] ** 2
            params[k] = params[k] - step_size * first[k] / (np.sqrt(second[k]) + 1e-8)
        run.losses.append(float(loss))
        if step in snapshots:
            run.snapshots[step] = {k: v.copy() for k, v in params.items()}
        if step % every == 0:
            outputs = translate(task, params, sources)
            run.evaluated_at.append(step)
            run.accuracy.append(float(np.mean([o == t for o, t in zip(outputs, targets)])))
    run.params, run.seconds = params, time.perf_counter() - start
    return run


def _train_task(job: tuple[str, dict]) -> Seq2SeqRun:
    task, options = job
    return train_seq2seq(task, **options)


def train_tasks(jobs: Sequence[tuple[str, dict]], workers: int = 2) -> list[Seq2SeqRun]:
    """``train_seq2seq(task, **options)`` for every (task, options), in ``workers`` processes."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_train_task, jobs))
