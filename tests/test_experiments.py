"""Are the chapters' trained experiments right, and do they show what the chapters say?"""

from __future__ import annotations

import numpy as np
import pytest

from tools import experiments
from autograder.course.reference import load_reference
from rnnlab.gradcheck import numerical_gradient, relative_error
from rnnlab.tasks import delayed_recall


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


def test_is_the_language_model_loss_the_graded_char_rnn_loss_for_the_vanilla_layer():
    bptt = load_reference("bptt")
    rng = np.random.default_rng(3)
    N, T, V, H = 2, 5, 6, 4
    params = {"Wx": rng.normal(size=(V, H)), "Wh": rng.normal(size=(H, H)) * 0.5, "b": rng.normal(size=H),
              "Wy": rng.normal(size=(H, V)), "by": rng.normal(size=V)}
    x, y, h0 = rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T)), rng.normal(size=(N, H))
    ours = experiments.language_model_loss(bptt.rnn_forward, bptt.rnn_backward)(params, x, y, h0)
    graded = bptt.char_rnn_loss(params, x, y, h0)
    assert ours[0] == pytest.approx(graded[0])
    for name in params:
        np.testing.assert_allclose(ours[1][name], graded[1][name])
    np.testing.assert_allclose(ours[2], graded[2])


@pytest.mark.parametrize("kind", list(experiments.LAYERS))
def test_are_the_recall_gradients_those_of_the_recall_loss(kind):
    """The delayed-recall training scores the last step only: check every gradient numerically."""
    rng = np.random.default_rng(4)
    x, y = delayed_recall(rng, N=3, delay=3, symbols=2)
    params = experiments._parameters(kind, x.shape[2], 3, 2, rng)
    _, grads, _ = experiments._recall_loss(kind, params, x, y)
    for name, value in params.items():
        def loss_of(changed, name=name):
            return np.array(experiments._recall_loss(kind, {**params, name: changed}, x, y)[0])
        assert relative_error(grads[name], numerical_gradient(loss_of, value)) < 1e-7, name


@pytest.mark.slow
def test_do_gated_cells_learn_a_long_delay_that_the_vanilla_rnn_does_not():
    """A reduced run of the chapter *Remembering across long delays*: the ordering it shows."""
    runs = experiments.train_grid(("RNN", "LSTM", "GRU"), delays=(5, 40), seeds=(1, 2))
    accuracy = {}
    for run in runs:
        accuracy.setdefault((run.kind, run.delay), []).append(run.accuracy)
    # At a short delay every cell learns the task: a failure at the long one is the delay's doing.
    assert min(min(a) for (kind, delay), a in accuracy.items() if delay == 5) >= 0.95, accuracy
    assert min(accuracy["LSTM", 40]) >= 0.95 and min(accuracy["GRU", 40]) >= 0.95, accuracy
    assert np.mean(accuracy["RNN", 40]) < 0.8, accuracy


# -- sequence to sequence -------------------------------------------------------------------

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
