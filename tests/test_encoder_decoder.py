"""Is the encoder-decoder of *Sequence to sequence* trained and decoded as the chapter says?"""

from __future__ import annotations

import numpy as np
import pytest

from tools import encoder_decoder as experiments
from autograder.course.reference import load_reference


def test_are_the_human_dates_right_and_every_format_used():
    import datetime

    from rnnlab.tasks import DATE_CHARACTERS, DATE_FORMATS, human_dates

    sources, targets = human_dates(np.random.default_rng(0), 3000)
    assert all(set(s) <= set(DATE_CHARACTERS) for s in sources)
    assert all(6 <= len(s) <= 27 for s in sources)
    for k in range(len(DATE_FORMATS)):
        one_format, iso = human_dates(np.random.default_rng(k), 50, formats=(k,))
        for source, target in zip(one_format, iso):
            date = datetime.date.fromisoformat(target)
            assert 1950 <= date.year <= 2049 and DATE_FORMATS[k](date) == source
    assert human_dates(np.random.default_rng(1), 1, formats=(0,))[0][0].split()[1] == "of"


def test_do_encode_and_decode_round_trip_with_the_special_tokens():
    from rnnlab.assignments.seq2seq import END, PAD
    from rnnlab.tasks import ISO_CHARACTERS, decode, encode

    ids, lengths = encode(["2021-03-03", "1999"], ISO_CHARACTERS, end=True)
    assert ids.shape == (2, 11) and list(lengths) == [11, 5]
    assert ids[0, 10] == END and ids[1, 4] == END and (ids[1, 5:] == PAD).all()
    assert decode(ids, ISO_CHARACTERS) == ["2021-03-03", "1999"]


def test_is_free_running_greedy_decoding_and_a_cold_sample_greedy_too():
    """The chapter's decoders built beside the graded greedy_decode must agree with it."""
    from rnnlab.tasks import human_dates

    params = experiments.init_seq2seq(62, 14, 4, 5, 3, 6, np.random.default_rng(0))
    params["by"] = np.random.default_rng(1).normal(0.0, 2.0, 14)  # distinct outputs, some END
    sources, targets = human_dates(np.random.default_rng(2), 12)
    src, src_lengths, tgt, tgt_lengths = experiments.batch_ids("dates", sources, targets)
    greedy = load_reference("seq2seq").greedy_decode(params, src, src_lengths, tgt.shape[1])
    _, free = experiments.teacher_forced_and_free(params, src, src_lengths, tgt, tgt_lengths)
    first_end = [list(row).index(2) if 2 in row else len(row) for row in greedy]
    for n, stop in enumerate(first_end):
        assert np.array_equal(free[n, :stop + 1][: tgt.shape[1]], greedy[n, :stop + 1])
    cold = experiments.translate("dates", params, sources, temperature=1e-6, rng=np.random.default_rng(3))
    assert cold == experiments.translate("dates", params, sources)


@pytest.mark.slow
def test_does_the_date_model_learn_in_a_short_run():
    """A reduced run of the chapter *Sequence to sequence*: the loss falls and greedy decoding starts to work."""
    run = experiments.train_seq2seq("dates", updates=300, every=300)
    assert np.mean(run.losses[-20:]) < 0.6 * np.mean(run.losses[:20]), run.losses[::50]


@pytest.mark.parametrize("a, b, distance", [("", "", 0), ("abc", "abc", 0), ("abc", "", 3), ("", "ab", 2),
                                            ("abcdef", "abdef", 1), ("abcdef", "bcdefa", 2),
                                            ("kitten", "sitting", 3), ("jihgf", "jihg", 1)])
def test_is_the_edit_distance_the_fewest_edits(a, b, distance):
    assert experiments.edit_distance(a, b) == distance == experiments.edit_distance(b, a)


def test_does_the_edit_distance_charge_a_dropped_character_once_where_positions_charge_the_rest():
    target, produced = "jihgfedcba", "jihgedcba"  # the f dropped
    assert experiments.edit_distance(produced, target) == 1
    assert sum(p != t for p, t in zip(produced.ljust(len(target)), target)) == 6


@pytest.mark.parametrize("produced, target, expected", [
    ("jihgedcba", "jihgfedcba", "1111011111"),   # one dropped: only it is missing
    ("jihgfedcba", "jihgfedcba", "1111111111"),
    ("jixgfedcba", "jihgfedcba", "1101111111"),  # one substituted
    ("", "abc", "000"),
    ("abcz", "abc", "111"),                      # an extra character costs the target nothing
])
def test_does_the_alignment_leave_only_the_missing_characters_unmatched(produced, target, expected):
    matched = experiments.matched_positions(produced, target)
    assert "".join("1" if m else "0" for m in matched) == expected
    assert len(target) - matched.sum() <= experiments.edit_distance(produced, target)
