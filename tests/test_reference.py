"""Does the reference loader give the book and the tests the solutions' functions, quickly and quietly?"""

from __future__ import annotations

import time

import pytest

from autograder.paths import SLUGS
from autograder.course.reference import load_reference

GRADED = {
    "rnn": ["rnn_step_forward", "rnn_step_backward"],
    "bptt": ["rnn_forward", "rnn_backward", "temporal_softmax_loss", "clip_by_global_norm",
             "char_rnn_loss", "tbptt_gradients", "tbptt_train_step"],
    "lstm": ["lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward"],
    "gru": ["gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward"],
    "bidirectional": ["reverse_within_lengths", "birnn_forward", "birnn_backward",
                      "stacked_rnn_forward", "stacked_rnn_backward"],
    "seq2seq": ["encoder_forward", "encoder_backward", "decoder_loss", "seq2seq_loss", "greedy_decode"],
}


@pytest.mark.parametrize("slug", SLUGS)
def test_does_the_reference_define_every_graded_function_without_running_demonstrations(slug, capsys):
    start = time.perf_counter()
    reference = load_reference(slug)
    elapsed = time.perf_counter() - start
    for name in GRADED[slug]:
        assert callable(getattr(reference, name)), name
    assert capsys.readouterr().out == "", "loading the reference printed output: a demonstration cell ran"
    assert elapsed < 5, f"loading took {elapsed:.1f} s"

