"""Synthetic tasks that need memory: the answer depends on an input seen long before.

A language model needs memory too, but mostly a short one: most characters follow from the few
before them. These tasks put a known number of steps between the evidence and the question, so
that how far a network can remember is measured rather than guessed.

delayed_recall(rng, N, delay, symbols)   a symbol, ``delay`` distractors, then a recall marker

And tasks for an encoder-decoder (sequence to sequence), at the character level, generated here
(nothing is downloaded):

human_dates(rng, N)                        "3rd of March 2021", "03/03/21", ... and "2021-03-03"
reversal_pairs(rng, N, min_len, max_len)   "abcde" and "edcba"
encode(strings, alphabet, end), decode(ids, alphabet)
                                           strings <-> padded batches of ids, after the special
                                           tokens PAD, START, END of rnnlab.assignments.seq2seq
"""

from __future__ import annotations

import numpy as np

from .assignments.seq2seq import END, PAD, START

#: Ids 0, 1, 2 are the special tokens; an alphabet's characters come after them.
FIRST_CHARACTER = 3
assert (PAD, START, END) == (0, 1, 2)


def delayed_recall(rng: np.random.Generator, N: int, delay: int, symbols: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """A batch of the delayed-recall task (after Hochreiter & Schmidhuber, 1997).

    Each sequence shows one of ``symbols`` symbols, then ``delay`` distractors drawn at random
    from another ``symbols`` symbols, then a recall marker; at the marker the network must name
    the first symbol. Guessing is right one time in ``symbols``.

    Parameters
    ----------
    rng : the generator the batch is drawn from
    N : sequences in the batch
    delay : distractors between the symbol and the marker (0 or more)
    symbols : symbols to remember, and distractors to draw from

    Returns
    -------
    x : (N, T, D) one-hot inputs, T = delay + 2 steps and D = 2 * symbols + 1 features: the
        symbols, then the distractors, then the marker
    y : (N,) the symbol to recall, an integer in [0, symbols)
    """
    if delay < 0 or symbols < 1:
        raise ValueError(f"need delay >= 0 and symbols >= 1, got delay={delay}, symbols={symbols}")
    K, T = symbols, delay + 2
    x = np.zeros((N, T, 2 * K + 1))
    y = rng.integers(0, K, N)
    rows = np.arange(N)
    x[rows, 0, y] = 1.0
    distractors = rng.integers(K, 2 * K, (N, delay))
    x[rows[:, None], np.arange(1, T - 1)[None, :], distractors] = 1.0
    x[:, -1, 2 * K] = 1.0
    return x, y


# -- sequence to sequence ------------------------------------------------------------

#: The months and weekdays the human-written dates use.
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: The characters of the human-written dates and of their ISO forms. The vocabularies of
#: ``encode`` put the special tokens first, so character k of an alphabet has id k + 3.
DATE_CHARACTERS = "".join(sorted(set(" ,./-0123456789" + "".join(MONTHS + WEEKDAYS)
                                     + "".join(MONTHS + WEEKDAYS).upper() + "".join(MONTHS + WEEKDAYS).lower()
                                     + "stndrhof")))
ISO_CHARACTERS = "-0123456789"
#: The years the dates are drawn from: two-digit years 50-99 are 1950-1999, 00-49 are 2000-2049.
YEARS = (1950, 2049)


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


#: How a date is written, one function of (date, two-digit year) per format; all read the day
#: before the month when both are numbers (03/04/2021 is the 3rd of April).
DATE_FORMATS = (
    lambda d: f"{_ordinal(d.day)} of {MONTHS[d.month - 1]} {d.year}",          # 3rd of March 2021
    lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",                       # March 3, 2021
    lambda d: f"{d.day} {MONTHS[d.month - 1][:3]} {d.year}",                    # 3 Mar 2021
    lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",                            # 03/03/2021
    lambda d: f"{d.day}/{d.month}/{d.year % 100:02d}",                          # 3/3/21
    lambda d: f"{d.day}.{d.month}.{d.year}",                                    # 3.3.2021
    lambda d: f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year}",  # Wednesday 3 March 2021
    lambda d: f"{WEEKDAYS[d.weekday()][:3]}, {_ordinal(d.day)} {MONTHS[d.month - 1][:3]} {d.year % 100:02d}",
    lambda d: f"{MONTHS[d.month - 1].upper()} {d.day} {d.year}",                # MARCH 3 2021
    lambda d: f"{d.day} {MONTHS[d.month - 1].lower()} {d.year}",                # 3 march 2021
    lambda d: f"{d.year}-{d.month:02d}-{d.day:02d}",                            # 2021-03-03
)


def human_dates(rng: np.random.Generator, N: int, formats: tuple[int, ...] | None = None) -> tuple[list[str], list[str]]:
    """``N`` dates written as people write them, and the same dates in ISO 8601 form.

    Each date is drawn uniformly between 1 January 1950 and 31 December 2049 and written in one
    of ``DATE_FORMATS`` drawn at random (or only those whose indices ``formats`` lists):
    "3rd of March 2021", "March 3, 2021", "03/03/2021", "3/3/21", "Wed, 3rd Mar 21", ...
    Numeric formats put the day first; two-digit years 50-99 are 19xx, 00-49 are 20xx.

    Returns
    -------
    sources : N strings of 6 to 27 characters, from ``DATE_CHARACTERS``
    targets : N strings "YYYY-MM-DD", from ``ISO_CHARACTERS``
    """
    import datetime

    first = datetime.date(YEARS[0], 1, 1).toordinal()
    last = datetime.date(YEARS[1], 12, 31).toordinal()
    days = rng.integers(first, last + 1, N)
    choices = np.arange(len(DATE_FORMATS)) if formats is None else np.asarray(formats)
    kinds = rng.choice(choices, N)
    dates = [datetime.date.fromordinal(int(day)) for day in days]
    return ([DATE_FORMATS[k](d) for k, d in zip(kinds, dates)], [d.isoformat() for d in dates])


def reversal_pairs(rng: np.random.Generator, N: int, min_length: int, max_length: int,
                   alphabet: str = "abcdefghij") -> tuple[list[str], list[str]]:
    """``N`` random strings of ``min_length`` to ``max_length`` characters (uniformly) and the
    same strings reversed: a task in which every character of the input must reach the output."""
    lengths = rng.integers(min_length, max_length + 1, N)
    sources = ["".join(rng.choice(list(alphabet), n)) for n in lengths]
    return sources, [s[::-1] for s in sources]


def encode(strings: list[str], alphabet: str, end: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A padded batch of token ids: character ``alphabet[k]`` is id ``k + 3``, after the special
    tokens PAD = 0, START = 1 and END = 2.

    Returns ids (N, T) int64, T the longest string (plus one with ``end``), PAD past each end, and
    lengths (N,), each string's length (plus one with ``end``, which appends END to every string).
    """
    index = {c: k + FIRST_CHARACTER for k, c in enumerate(alphabet)}
    rows = [[index[c] for c in s] + ([END] if end else []) for s in strings]
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    ids = np.full((len(rows), int(lengths.max())), PAD, dtype=np.int64)
    for n, row in enumerate(rows):
        ids[n, :len(row)] = row
    return ids, lengths


def decode(ids: np.ndarray, alphabet: str) -> list[str]:
    """Strings from a batch of ids (N, S): each row read up to its first END or PAD."""
    strings = []
    for row in np.asarray(ids):
        characters = []
        for i in row:
            if i in (END, PAD):
                break
            characters.append(alphabet[i - FIRST_CHARACTER] if i >= FIRST_CHARACTER else "?")
        strings.append("".join(characters))
    return strings
