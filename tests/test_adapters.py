"""The adapters between the checks and a learner's function that takes its arguments otherwise.

In the grader, the learner's function runs in a sandbox and offers many calls in one round
trip. These tests stand in for it with ``Remote``: the reference functions, counted, called
directly or in batches that drop each returned tuple's last value, as the sandbox does
(autograder/sandbox/worker.py; the sandbox itself is tested in test_sandbox.py).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from autograder.course.reference import load_reference
from rnnlab import checks
from rnnlab.assignments import bidirectional as bidirectional_course
from rnnlab.assignments import bptt as bptt_course
from rnnlab.assignments import seq2seq as seq2seq_course
from rnnlab.checks import CheckFailed


class Remote:
    """``function`` as a grader's sandbox offers it: one call at a time, or a batch of calls."""

    def __init__(self, function):
        self.function = function
        self.__name__ = function.__name__
        self.direct_calls = 0
        self.batches: list[int] = []  # the number of calls in each batch

    def __call__(self, *args, **kwargs):
        self.direct_calls += 1
        return self.function(*args, **kwargs)

    def map_calls_dropping_last(self, calls):
        self.batches.append(len(calls))
        results = []
        for args, kwargs in calls:  # copies: the sandbox has its own
            result = self.function(*copy.deepcopy(args), **copy.deepcopy(kwargs))
            results.append(result[:-1] + (None,) if type(result) is tuple and result else result)
        return results


@pytest.fixture(scope="module")
def seq2seq_ref():
    return load_reference("seq2seq")


def float_sizes(inputs) -> list[int]:
    return [np.size(value) for value in inputs.values() if np.issubdtype(np.asarray(value).dtype, np.floating)]


def decoder_check(decoder_loss) -> None:
    checks.check_loss_gradients(seq2seq_course.decoder_loss_and_grads(decoder_loss),
                                seq2seq_course.decoder_inputs(3, [4, 1, 3], V=6, D_dec=2, H_dec=3, seed=0),
                                "decoder_loss", hints=seq2seq_course.DECODER_HINTS)


def encoder_check(encoder_forward, encoder_backward) -> None:
    checks.check_backward(seq2seq_course.encoder_forward_with(encoder_forward, [4, 1, 2]),
                          seq2seq_course.encoder_backward_flat(encoder_backward),
                          seq2seq_course.encoder_inputs(3, 4, 2, 3, seed=1),
                          [checks.fixed_array((3, 4, 6), 11), checks.fixed_array((3, 6), 12)],
                          seq2seq_course.ENCODER_GRADIENTS, hints=seq2seq_course.ENCODER_GRADIENT_HINTS)


def test_does_a_loss_check_through_an_adapter_send_each_inputs_nudged_points_in_one_batch(seq2seq_ref):
    remote = Remote(seq2seq_ref.decoder_loss)
    decoder_check(remote)
    sizes = float_sizes(seq2seq_course.decoder_inputs(3, [4, 1, 3], V=6, D_dec=2, H_dec=3, seed=0))
    assert remote.direct_calls == 1  # the analytic gradients, at the point itself
    assert remote.batches == [2 * size for size in sizes]  # each float input: every entry nudged both ways


def test_does_a_backward_check_through_an_adapter_batch_the_forward_calls(seq2seq_ref):
    remote = Remote(seq2seq_ref.encoder_forward)
    encoder_check(remote, seq2seq_ref.encoder_backward)
    assert remote.direct_calls == 1
    assert remote.batches == [2 * size for size in float_sizes(seq2seq_course.encoder_inputs(3, 4, 2, 3, seed=1))]


def test_does_a_batched_check_fail_a_wrong_gradient_as_a_plain_one_does(seq2seq_ref):
    """The batches compute the numerical gradients: a bug must be named the same way with them."""
    def decoder_loss(params, h0, tgt, tgt_lengths):  # dh0 wrong by a factor of 2
        loss, dh0, grads = seq2seq_ref.decoder_loss(params, h0, tgt, tgt_lengths)
        return loss, 2 * dh0, grads

    messages = []
    for function in (decoder_loss, Remote(decoder_loss)):
        with pytest.raises(CheckFailed) as failed:
            decoder_check(function)
        messages.append(str(failed.value))
    assert "h0" in messages[0] and messages[1] == messages[0]


def test_does_a_batched_check_fail_a_loss_that_changes_away_from_the_checked_point(seq2seq_ref):
    """The analytic gradients come from a plain call, the numerical ones from the batch: a loss that
    is right only at the unnudged point must not pass."""
    center = seq2seq_course.decoder_inputs(3, [4, 1, 3], V=6, D_dec=2, H_dec=3, seed=0)["h0"]

    def decoder_loss(params, h0, tgt, tgt_lengths):
        loss, dh0, grads = seq2seq_ref.decoder_loss(params, h0, tgt, tgt_lengths)
        return (loss if np.array_equal(h0, center) else 0.0), dh0, grads

    with pytest.raises(CheckFailed, match="h0"):
        decoder_check(Remote(decoder_loss))


def test_does_a_batch_that_returns_no_loss_fail_the_check_by_name(seq2seq_ref):
    class NoTupleInBatches(Remote):
        def map_calls_dropping_last(self, calls):
            super().map_calls_dropping_last(calls)
            return ["not a tuple"] * len(calls)

    with pytest.raises(CheckFailed, match="decoder_loss must return its loss first"):
        decoder_check(NoTupleInBatches(seq2seq_ref.decoder_loss))


def _params(point: dict, data: tuple[str, ...]) -> dict:
    return {name: value for name, value in point.items() if name not in data}


@pytest.mark.parametrize("make_adapter, function, called_as_documented", [
    (seq2seq_course.seq2seq_loss_and_grads, "seq2seq_loss",
     lambda f, p: f(_params(p, ("src", "src_lengths", "tgt", "tgt_lengths")), p["src"], p["src_lengths"], p["tgt"],
                    p["tgt_lengths"])),
    (bptt_course.char_loss_and_grads, "char_rnn_loss", lambda f, p: f(_params(p, ("x", "y", "h0")), p["x"], p["y"], p["h0"])),
    (lambda f: bptt_course.tbptt_loss_and_grads(f, 2), "tbptt_gradients",
     lambda f, p: f(_params(p, ("x", "y", "h0")), p["x"], p["y"], p["h0"], 2)),
    (bptt_course.softmax_loss_and_grads, "temporal_softmax_loss", lambda f, p: f(p["scores"], p["y"])),
])
def test_does_every_loss_adapter_batch_its_calls_as_the_function_is_called(make_adapter, function, called_as_documented):
    """Each batched call is the learner's function called as its assignment defines it."""
    slug = "seq2seq" if function == "seq2seq_loss" else "bptt"
    reference = getattr(load_reference(slug), function)
    point = seq2seq_course.model_inputs([3, 1], [2, 3], V_src=5, V_tgt=5, D=2, H=2, D_dec=2, H_dec=3, seed=0) \
        if slug == "seq2seq" else bptt_inputs(function)
    remote = make_adapter(Remote(reference))
    name = next(key for key, value in point.items() if np.issubdtype(np.asarray(value).dtype, np.floating))
    # every entry by its own amount: a shift of all scores alike would leave a softmax unchanged
    nudged = point[name] + 0.1 * np.random.default_rng(0).normal(size=np.shape(point[name]))
    points = [point, {**point, name: nudged}]
    batched = [result[0] for result in remote.map_dropping_last(points)]
    assert batched == [called_as_documented(reference, p)[0] for p in points] and batched[0] != batched[1]
    assert remote.__wrapped__.batches == [2] and remote.__wrapped__.direct_calls == 0


def bptt_inputs(function: str) -> dict:
    if function == "temporal_softmax_loss":
        rng = np.random.default_rng(0)
        return {"scores": rng.normal(size=(2, 3, 4)), "y": rng.integers(0, 4, size=(2, 3))}
    params, x, y, h0 = bptt_course.char_problem(N=2, T=3, V=4, H=3, seed=0)
    return {"x": x, "y": y, "h0": h0, **params}


def test_do_the_forward_adapters_of_the_bidirectional_assignment_batch_their_calls():
    """Each batched call is the learner's function called as its assignment defines it."""
    ref = load_reference("bidirectional")
    birnn = bidirectional_course.birnn_inputs(2, 3, 2, 3, seed=0)
    stacked = bidirectional_course.stacked_inputs(2, 3, 2, [3, 2], seed=0)
    layers = [(stacked[f"Wx_{l}"], stacked[f"Wh_{l}"], stacked[f"b_{l}"]) for l in range(2)]
    for adapter, inputs, expected in [
        (bidirectional_course.birnn_forward_with(Remote(ref.birnn_forward), [3, 1]), birnn,
         ref.birnn_forward(**birnn, lengths=[3, 1])),
        (bidirectional_course.stacked_forward_flat(Remote(ref.stacked_rnn_forward)), stacked,
         ref.stacked_rnn_forward(stacked["x"], [stacked["h0_0"], stacked["h0_1"]], layers)),
    ]:
        batched = adapter.map_dropping_last([inputs])[0]
        assert batched[-1] is None and adapter.__wrapped__.batches == [1]  # the cache stayed behind
        assert len(batched) == len(expected)
        assert all(np.array_equal(a, b) for a, b in zip(batched[:-1], expected[:-1]))
        assert adapter.__wrapped__.direct_calls == 0


def test_does_an_adapter_of_a_plain_function_offer_no_batches(seq2seq_ref):
    """In a learner's notebook every point is a plain call: there is nothing to batch with."""
    assert not hasattr(seq2seq_course.decoder_loss_and_grads(seq2seq_ref.decoder_loss), "map_dropping_last")
    assert seq2seq_course.decoder_loss_and_grads(seq2seq_ref.decoder_loss).__name__ == "decoder_loss"
