#!/usr/bin/env python3
"""Characters per second of character-level RNN training, two ways, in one run.

    .venv/bin/python benchmarks/bench_charrnn.py [--seconds S]

1. The course's reference loop: the reference `tbptt_train_step` of the `bptt`
   assignment (batched, row vectors, truncated BPTT with the state carried
   across windows), over N parallel streams of the shipped corpus.
2. A faithful Python 3 port, written for this benchmark, of the classic minimal
   character-level RNN training loop: one sequence at a time, column vectors,
   a Python loop over time steps with dicts of per-step values, gradients
   clipped element-wise to [-5, 5], Adagrad.

Both use H = 100 hidden units and windows of 25 characters, as the classic loop
does. Each is timed for the same wall-clock budget; the figure is characters
processed (forward and backward) per second. Timings are noisy on a shared
machine: read the ratio, which both measure under the same conditions.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.course.reference import load_reference  # noqa: E402
from rnnlab.data import Vocabulary, load_corpus, stream_windows  # noqa: E402

HIDDEN = 100
WINDOW = 25


def classic_loop(text: str, seconds: float, seed: int = 0) -> tuple[float, float]:
    """The classic minimal char-RNN loop. Returns (characters per second, last smoothed loss)."""
    chars = sorted(set(text))
    vocab_size = len(chars)
    char_to_ix = {c: i for i, c in enumerate(chars)}
    rng = np.random.default_rng(seed)
    Wxh = rng.standard_normal((HIDDEN, vocab_size)) * 0.01
    Whh = rng.standard_normal((HIDDEN, HIDDEN)) * 0.01
    Why = rng.standard_normal((vocab_size, HIDDEN)) * 0.01
    bh = np.zeros((HIDDEN, 1))
    by = np.zeros((vocab_size, 1))

    def loss_fun(inputs, targets, hprev):
        xs, hs, ys, ps = {}, {}, {}, {}
        hs[-1] = np.copy(hprev)
        loss = 0.0
        for t in range(len(inputs)):
            xs[t] = np.zeros((vocab_size, 1))
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
            ys[t] = Why @ hs[t] + by
            ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
            loss += -np.log(ps[t][targets[t], 0])
        dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
        dbh, dby = np.zeros_like(bh), np.zeros_like(by)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(inputs))):
            dy = np.copy(ps[t])
            dy[targets[t]] -= 1
            dWhy += dy @ hs[t].T
            dby += dy
            dh = Why.T @ dy + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbh += dhraw
            dWxh += dhraw @ xs[t].T
            dWhh += dhraw @ hs[t - 1].T
            dhnext = Whh.T @ dhraw
        for dparam in (dWxh, dWhh, dWhy, dbh, dby):
            np.clip(dparam, -5, 5, out=dparam)
        return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]

    memory = [np.zeros_like(p) for p in (Wxh, Whh, Why, bh, by)]
    smooth_loss = -np.log(1.0 / vocab_size) * WINDOW
    learning_rate = 1e-1
    position, hprev, processed = 0, np.zeros((HIDDEN, 1)), 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        if position + WINDOW + 1 >= len(text):
            position, hprev = 0, np.zeros((HIDDEN, 1))
        inputs = [char_to_ix[c] for c in text[position : position + WINDOW]]
        targets = [char_to_ix[c] for c in text[position + 1 : position + WINDOW + 1]]
        loss, dWxh, dWhh, dWhy, dbh, dby, hprev = loss_fun(inputs, targets, hprev)
        smooth_loss = smooth_loss * 0.999 + loss * 0.001
        for param, dparam, mem in zip((Wxh, Whh, Why, bh, by), (dWxh, dWhh, dWhy, dbh, dby), memory):
            mem += dparam * dparam
            param += -learning_rate * dparam / np.sqrt(mem + 1e-8)
        position += WINDOW
        processed += WINDOW
    return processed / (time.perf_counter() - start), smooth_loss / WINDOW


def course_loop(text: str, seconds: float, streams: int, seed: int = 0) -> tuple[float, float]:
    """The course's reference training loop over `streams` parallel streams.

    Returns (characters per second, mean loss per character over the last 20 steps).
    """
    ref = load_reference("bptt")
    vocab = Vocabulary.from_text(text)
    ids = vocab.encode(text)
    params = ref.init_char_rnn(vocab.size, HIDDEN, seed=seed)
    losses, processed = [], 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        h = np.zeros((streams, HIDDEN))
        for x, y in stream_windows(ids, streams, WINDOW):
            params, loss, h = ref.tbptt_train_step(params, x, y, h, WINDOW, 0.1, 5.0)
            losses.append(loss / WINDOW)
            processed += x.size
            if time.perf_counter() - start >= seconds:
                break
    return processed / (time.perf_counter() - start), float(np.mean(losses[-20:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="time budget of each loop (default 10)")
    args = parser.parse_args()
    text = load_corpus("alice")
    print(f"corpus: {len(text):,} characters, V = {len(set(text))}; H = {HIDDEN}, windows of {WINDOW}")
    classic, classic_loss = classic_loop(text, args.seconds)
    print(f"classic minimal loop (1 sequence, column vectors): {classic:10,.0f} chars/s   loss/char {classic_loss:.2f}")
    for streams in (1, 32):
        speed, loss = course_loop(text, args.seconds, streams)
        print(f"course reference loop, N = {streams:2d} streams:       {speed:10,.0f} chars/s   "
              f"loss/char {loss:.2f}   {speed / classic:5.1f}x the classic loop")


if __name__ == "__main__":
    main()
