"""Is the encoder-decoder with attention of *Sequence to sequence* the model its equations say,
trained by its true gradient, decoded greedily, and compared fairly with the plain model?"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.course.reference import load_reference
from rnnlab.assignments.seq2seq import END, PAD, START
from rnnlab.gradcheck import numerical_gradient, relative_error
from tools import attention, encoder_decoder


def tiny_model(seed: int = 0) -> dict[str, np.ndarray]:
    """V_src = 7, V_tgt = 6, D = 3, H = 3, D' = 2, H' = 4, A = 5 (499 weights); biases and a
    large v, so that every gradient is far from zero and the weights alpha far from uniform."""
    rng = np.random.default_rng(seed)
    params = attention.init_attention(7, 6, 3, 3, 2, 4, 5, rng)
    for name in params:
        if name.startswith("b"):
            params[name] = rng.normal(0.0, 0.5, params[name].shape)
    params["v"] = 3.0 * params["v"]
    params["U_a"] = 2.0 * params["U_a"]
    return params


#: A padded batch of unequal lengths (one source of length 1), a repeated source id, a repeated
#: target id in one sequence (so that embedding gradients must add up), and targets of 3, 2 and 1
#: tokens (END counted).
SRC = np.array([[3, 4, 5, 6, 3], [5, 3, 0, 0, 0], [6, 0, 0, 0, 0], [4, 4, 6, 0, 0]])
SRC_LENGTHS = np.array([5, 2, 1, 3])
TGT = np.array([[3, 3, 2], [5, 2, 0], [2, 0, 0], [4, 5, 2]])
TGT_LENGTHS = np.array([3, 2, 1, 3])


def shifted(tgt):
    return np.concatenate([np.full((tgt.shape[0], 1), START), tgt[:, :-1]], axis=1)


def test_are_the_attention_gradients_those_of_the_loss():
    params = tiny_model()
    loss, grads = attention.attention_loss(params, SRC, SRC_LENGTHS, TGT, TGT_LENGTHS)
    assert np.isfinite(loss) and set(grads) == set(params)
    errors = {}
    for name, value in params.items():
        assert grads[name].shape == value.shape, name
        numerical = numerical_gradient(
            lambda x, name=name: attention.attention_loss({**params, name: x}, SRC, SRC_LENGTHS, TGT, TGT_LENGTHS)[0],
            value)
        assert np.abs(numerical).max() > 1e-6, f"{name}: this batch does not exercise it"
        errors[name] = relative_error(grads[name], numerical)
    assert max(errors.values()) < 1e-6, {k: f"{e:.1e}" for k, e in errors.items() if e >= 1e-6}


def test_do_padded_positions_get_no_weight_and_every_row_sum_to_one():
    params = tiny_model()
    _, alpha, _ = attention.attention_forward(params, SRC, SRC_LENGTHS, shifted(TGT))
    assert alpha.shape == (4, 3, 5)
    for n, length in enumerate(SRC_LENGTHS):
        assert np.all(alpha[n, :, length:] == 0.0)
        assert np.all(alpha[n, :, :length] > 0.0)
    np.testing.assert_allclose(alpha.sum(axis=2), 1.0, atol=1e-12)
    # Large scores (a saturated scorer) neither overflow nor give NaN.
    loud = {**params, "v": 1e4 * params["v"]}
    _, alpha, _ = attention.attention_forward(loud, SRC, SRC_LENGTHS, shifted(TGT))
    assert np.all(np.isfinite(alpha)) and np.allclose(alpha.sum(axis=2), 1.0)


def test_does_padding_change_neither_the_loss_nor_the_gradients():
    """The padded batch's loss is the mean over all real target tokens of each pair's own loss,
    each pair run alone without any padding: padding is invisible (the masks work)."""
    params = tiny_model(1)
    loss, grads = attention.attention_loss(params, SRC, SRC_LENGTHS, TGT, TGT_LENGTHS)
    total, summed = 0.0, {k: np.zeros_like(v) for k, v in params.items()}
    for n in range(len(SRC)):
        L, S = SRC_LENGTHS[n], TGT_LENGTHS[n]
        alone, alone_grads = attention.attention_loss(params, SRC[n:n + 1, :L], SRC_LENGTHS[n:n + 1],
                                                      TGT[n:n + 1, :S], TGT_LENGTHS[n:n + 1])
        total += S * alone
        for k in summed:
            summed[k] += S * alone_grads[k]
    count = TGT_LENGTHS.sum()
    assert loss == pytest.approx(total / count, rel=1e-12)
    for k in params:
        np.testing.assert_allclose(grads[k], summed[k] / count, rtol=1e-9, atol=1e-13, err_msg=k)


def one_sequence_by_the_equations(params, src_ids, inputs):
    """The chapter's equations for one unpadded sequence, position by position: scores (S, V) and
    alpha (S, L), written independently of the module's batched, packed code."""
    ref = load_reference("seq2seq")
    L = len(src_ids)
    states, final, _ = ref.encoder_forward(params["E_src"][np.array([src_ids])], np.array([L]), params)
    h = states[0]                                                      # (L, 2H)
    s = np.tanh(final[0] @ params["W_init"] + params["b_init"])
    all_scores, all_alpha = [], []
    for y_previous in inputs:
        e = np.array([np.tanh(s @ params["W_a"] + h[t] @ params["U_a"] + params["b_a"]) @ params["v"]
                      for t in range(L)])
        alpha = np.exp(e) / np.exp(e).sum()
        c = sum(alpha[t] * h[t] for t in range(L))
        x = np.concatenate([params["E_tgt"][y_previous], c])
        s = ref.gru_step_forward(x[None], s[None], params["Wx_d"], params["Wh_d"], params["bx_d"], params["bh_d"])[0][0]
        all_scores.append(np.concatenate([s, c]) @ params["Wy"] + params["by"])
        all_alpha.append(alpha)
    return np.array(all_scores), np.array(all_alpha)


def test_is_the_batched_model_the_chapters_equations():
    params = tiny_model(2)
    inputs = shifted(TGT)
    scores, alpha, _ = attention.attention_forward(params, SRC, SRC_LENGTHS, inputs)
    for n, L in enumerate(SRC_LENGTHS):
        expected_scores, expected_alpha = one_sequence_by_the_equations(params, SRC[n, :L], inputs[n])
        np.testing.assert_allclose(scores[n], expected_scores, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(alpha[n, :, :L], expected_alpha, rtol=1e-10, atol=1e-12)


def test_is_greedy_decoding_the_teacher_forced_run_fed_its_own_outputs():
    """Fed the tokens greedy decoding chose, the teacher-forced model picks them again (highest
    score) and attends the same way, up to each sequence's END; and the strings and weights the
    chapter plots are those."""
    from rnnlab.tasks import decode, encode

    task = "reversal"
    params = attention.init_attention(13, 13, 6, 5, 4, 7, 3, np.random.default_rng(3))
    params.update(Wy=4.0 * params["Wy"], v=4.0 * params["v"], U_a=2.0 * params["U_a"])  # varied outputs
    params["by"][PAD] = -20.0                                            # (the model never writes PAD)
    sources = encoder_decoder.seq2seq_task(task)[2](np.random.default_rng(6), 24)[0]
    src, src_lengths = encode(sources, encoder_decoder.REVERSAL_ALPHABET)
    max_length = 17
    ids, greedy_alpha = attention._greedy(params, src, src_lengths, max_length)
    stops = [list(row).index(END) + 1 if END in row else max_length for row in ids]
    assert len(set(stops)) > 5 and max_length in stops and len(np.unique(ids)) > 8  # END early, late, never
    scores, alpha, _ = attention.attention_forward(params, src, src_lengths, shifted(ids))
    for n, stop in enumerate(stops):
        assert np.array_equal(scores[n, :stop].argmax(axis=1), ids[n, :stop])
        np.testing.assert_allclose(greedy_alpha[n, :stop], alpha[n, :stop], atol=1e-12)
        assert np.all(ids[n, stop:] == PAD)
    assert attention.translate_attention(task, params, sources) == decode(ids, encoder_decoder.REVERSAL_ALPHABET)
    for n in np.argsort(stops)[[0, len(stops) // 2, -1]]:              # the shortest, middle, longest
        output, weights = attention.attention_weights(task, params, sources[n])
        assert output == decode(ids[n:n + 1], encoder_decoder.REVERSAL_ALPHABET)[0]
        rows = len(output) + 1 if END in ids[n] else max_length
        assert weights.shape == (rows, len(sources[n]))
        np.testing.assert_allclose(weights, alpha[n, :rows, :len(sources[n])], atol=1e-12)


def test_is_the_comparison_with_the_plain_model_controlled():
    """Same seed: the weights both models have start equal, and the generator that then makes the
    training batches is left in the same state (same data); the parameter counts are as stated."""
    plain_rng, attention_rng = np.random.default_rng(0), np.random.default_rng(0)
    plain = encoder_decoder.init_seq2seq(13, 13, 16, 32, 16, 64, plain_rng)
    params = attention.init_attention(13, 13, 16, 32, 16, 64, 32, attention_rng)
    assert plain_rng.bit_generator.state == attention_rng.bit_generator.state
    widened = {"Wx_d": (16 + 64, 192), "Wy": (64 + 64, 13)}
    for name, value in plain.items():
        if name in widened:
            assert params[name].shape == widened[name]
        else:
            assert np.array_equal(params[name], value), name
    assert set(params) - set(plain) == set(attention.ATTENTION_PARAMS) == {"W_a", "U_a", "b_a", "v"}
    assert attention.parameter_count(plain) == 30_765 and attention.parameter_count(params) == 48_045
    assert "30,765" in attention.__doc__ and "48,045" in attention.__doc__


@pytest.mark.slow
def test_does_the_attention_model_learn_in_a_short_run():
    """A reduced run of the chapter's comparison: the loss falls, and greedy decoding is evaluated."""
    run = attention.train_attention("reversal", updates=150, every=75, validation=100)
    assert run.evaluated_at == [75, 150] and len(run.losses) == 150
    assert np.mean(run.losses[-20:]) < 0.6 * np.mean(run.losses[:20]), run.losses[::25]
    assert set(run.params) == set(attention.init_attention(13, 13, 16, 32, 16, 64, 32, np.random.default_rng(0)))
