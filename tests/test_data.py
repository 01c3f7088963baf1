"""Is the shipped corpus there, and do the text utilities keep streams aligned?"""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.data import Vocabulary, load_corpus, one_hot, stream_windows


def test_is_the_shipped_corpus_the_documented_one():
    text = load_corpus("alice")
    assert len(text) == 144_395 and len(set(text)) == 73
    assert text.startswith("[Alice's Adventures in Wonderland by Lewis Carroll 1865]")
    assert "Gutenberg" not in text  # shipped without the Project Gutenberg header or trademark
    assert len(set(load_corpus("alice", lowercase=True))) == 47


def test_does_an_unknown_corpus_fail_clearly():
    with pytest.raises(ValueError, match="unknown corpus 'nope'"):
        load_corpus("nope")


def test_does_the_vocabulary_round_trip_text():
    vocab = Vocabulary.from_text("hello")
    assert vocab.chars == ("e", "h", "l", "o") and vocab.size == 4
    ids = vocab.encode("hello")
    assert ids.tolist() == [1, 0, 2, 2, 3] and vocab.decode(ids) == "hello"
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode("help")


def test_is_one_hot_exact_and_checked():
    x = one_hot(np.array([[0, 2], [1, 1]]), 3)
    assert x.shape == (2, 2, 3) and x.dtype == np.float64
    assert np.array_equal(x.argmax(axis=-1), [[0, 2], [1, 1]]) and np.array_equal(x.sum(axis=-1), np.ones((2, 2)))
    with pytest.raises(ValueError):
        one_hot(np.array([3]), 3)


def test_do_stream_windows_continue_each_row_and_shift_targets_by_one():
    ids = np.arange(100)
    windows = list(stream_windows(ids, N=3, T=10))
    assert len(windows) == 3  # streams of 33 steps hold three full windows of 10
    (x0, y0), (x1, y1) = windows[0], windows[1]
    assert x0.shape == (3, 10)
    assert np.array_equal(y0, x0 + 1)  # each target is the next character
    assert np.array_equal(x1[:, 0], x0[:, -1] + 1)  # row n continues where it stopped
    assert np.array_equal(x0[:, 0], [0, 33, 66])


def test_is_a_too_short_text_rejected():
    with pytest.raises(ValueError, match="too short"):
        next(stream_windows(np.arange(10), N=4, T=5))
