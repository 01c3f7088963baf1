"""The encoder-decoder of the chapter *Sequence to sequence*, trained at build time.

The model of the ``seq2seq`` assignment (its reference implementation) trained on
human-written dates or on string reversal (``train_seq2seq``; the chapter runs several with
``tools.training.in_processes``), with
``translate`` (greedy decoding or temperature sampling) and ``teacher_forced_and_free``
(the exposure-bias comparison): decoders that, printed in the chapter, would reproduce
the graded ``greedy_decode``. Nothing here is distributed to learners.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from autograder.course.reference import load_reference
from tools.training import Adam


@functools.cache
def _ref():
    """The reference functions of the ``seq2seq`` assignment, loaded once (loading runs the notebook's
    definitions, and the decoders below call them at every step)."""
    return load_reference("seq2seq")


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

    def evaluate(self, step: int, outputs: list[str], targets: list[str]) -> None:
        """Record the share of ``outputs`` (greedy decodings) equal to their ``targets`` at update ``step``."""
        self.evaluated_at.append(step)
        self.accuracy.append(float(np.mean([o == t for o, t in zip(outputs, targets)])))


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
        return decode(_ref().greedy_decode(params, src, src_lengths, max_length), target_alphabet)
    return decode(_sample(params, src, src_lengths, max_length, temperature, rng), target_alphabet)


def _initial_state(params: dict, src: np.ndarray, src_lengths: np.ndarray) -> np.ndarray:
    ref = _ref()
    _, final, _ = ref.encoder_forward(params["E_src"][src], src_lengths, params)
    return np.tanh(final @ params["W_init"] + params["b_init"])


def _decoder_step(params: dict, previous: np.ndarray, h: np.ndarray):
    """One step of the decoder: (next state, scores) after reading the tokens ``previous`` (N,)."""
    ref = _ref()
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

    ref, clip = _ref(), load_reference("bptt").clip_by_global_norm
    source_alphabet, target_alphabet, make = seq2seq_task(task)
    rng = np.random.default_rng(seed)
    params = init_seq2seq(len(source_alphabet) + 3, len(target_alphabet) + 3, D, H, D, H_dec, rng)
    sources, targets = make(np.random.default_rng(seed + 10_000), validation)
    adam = Adam(params, learning_rate)
    run, start = Seq2SeqRun(task), time.perf_counter()
    for step in range(1, updates + 1):
        loss, grads = ref.seq2seq_loss(params, *batch_ids(task, *make(rng, batch)))
        grads, _ = clip(grads, max_norm)
        adam.step(grads)
        run.losses.append(float(loss))
        if step in snapshots:
            run.snapshots[step] = {k: v.copy() for k, v in params.items()}
        if step % every == 0:
            run.evaluate(step, translate(task, params, sources), targets)
    run.params, run.seconds = params, time.perf_counter() - start
    return run


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions turning a into b.

    It charges a dropped character once, where a position-by-position comparison would count every
    character after it as wrong (the chapter's measure of how close a reversal is)."""
    row = list(range(len(b) + 1))  # distances from a[:0] to every prefix of b
    for i, char_a in enumerate(a, 1):
        diagonal, row[0] = row[0], i
        for j, char_b in enumerate(b, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (char_a != char_b))
    return row[-1]


def matched_positions(produced: str, target: str) -> np.ndarray:
    """Which characters of ``target`` the output holds, once aligned: bool (len(target),).

    Aligns the two strings by a fewest-edits alignment (ties go to a match, then a deletion), so a
    dropped character leaves only itself unmatched: the per-position accuracy of the chapter then
    measures what the output holds, not where its characters were shifted to."""
    n, m = len(produced), len(target)
    cost = np.zeros((n + 1, m + 1), dtype=int)
    cost[:, 0], cost[0, :] = np.arange(n + 1), np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(cost[i - 1, j] + 1, cost[i, j - 1] + 1,
                             cost[i - 1, j - 1] + (produced[i - 1] != target[j - 1]))
    matched, i, j = np.zeros(m, dtype=bool), n, m
    while i > 0 and j > 0:  # walk back along one fewest-edits path
        if produced[i - 1] == target[j - 1] and cost[i, j] == cost[i - 1, j - 1]:
            matched[j - 1] = True
            i, j = i - 1, j - 1
        elif cost[i, j] == cost[i - 1, j - 1] + 1:
            i, j = i - 1, j - 1  # a substitution
        elif cost[i, j] == cost[i, j - 1] + 1:
            j -= 1  # the target's character is missing from the output
        else:
            i -= 1  # an extra character in the output
    return matched
