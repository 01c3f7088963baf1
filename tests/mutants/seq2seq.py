"""Wrong implementations of the sequence-to-sequence assignment that learners write."""

from rnnlab.assignments.seq2seq import DECODER_LOSS_BUGS, GREEDY_HINTS, OVERFLOW_HINT

from . import Mutant

PART0, ENC, DEC, MOD, GREEDY = ("gru_functions", "encoder_functions", "decoder_functions", "model_functions",
                                "greedy_functions")
_SHIFT = "inputs = np.concatenate([np.full((N, 1), START), tgt[:, :-1]], axis=1)"
_STABLE = "shifted = scores - scores.max(axis=2, keepdims=True)"
#: The check cells built on Part 0.
_LATER = ("test_encoder_forward", "test_encoder_backward", "test_decoder_loss", "test_seq2seq_loss",
          "test_greedy_decode")

#: Fragments of the graded equations' right-hand sides: no hint or message may print one.
FORMULAS = ("lengths - 1]", "tgt[:, :-1]", "np.add.at(", "1.0 - h0 ** 2", "np.full((N, 1), START)", "h_b[:, 0]",
            "* mask[:, :, None] / count")

_GREEDY_CHOICE = 'previous = np.argmax(h @ params["Wy"] + params["by"], axis=1)'

MUTANTS = [
    # -- the encoder's final states: the "which final states" question of the bidirectional chapter
    Mutant("final-states-from-the-last-step", "takes both halves of final from the last time step, "
           "where the backward direction has read one character",
           edits=((ENC, "final = np.concatenate([h_f[np.arange(N), last], h_b[:, 0]], axis=1)",
                   "final = states[:, -1]"),),
           trap=("test_encoder_forward",), fix_forward_first=("test_encoder_backward",)),
    Mutant("forward-final-at-the-padded-end", "takes the forward final state at T-1, on padding, "
           "for sequences shorter than T",
           edits=((ENC, "last = lengths - 1", "last = np.full(N, T - 1)"),),
           trap=("test_encoder_forward",)),
    Mutant("backward-final-at-the-wrong-end", "takes the backward final state at the sequence's last step "
           "(after one character) instead of its first",
           edits=((ENC, "h_b[:, 0]], axis=1)", "h_b[np.arange(N), last]], axis=1)"),),
           trap=("test_encoder_forward",)),
    Mutant("encoder-states-not-masked", "leaves the states past each sequence's end in states",
           edits=((ENC, "states = np.concatenate([h_f, h_b], axis=2) * mask",
                   "states = np.concatenate([h_f, h_b], axis=2)"),),
           trap=("test_encoder_forward",)),
    Mutant("encoder-backward-ignores-dstates", "sends only dfinal back, as if states had no gradient",
           edits=((ENC, "dh = dstates * mask", "dh = np.zeros_like(dstates)"),),
           must_fail=("test_encoder_backward",)),
    Mutant("dfinal-at-the-padded-end", "adds the forward half of dfinal at T-1 instead of at each "
           "sequence's own last step",
           edits=((ENC, "dh_f[np.arange(N), lengths - 1] += dfinal[:, :H]", "dh_f[:, -1] += dfinal[:, :H]"),),
           must_fail=("test_encoder_backward",)),
    # -- the decoder in training
    Mutant("teacher-forcing-off-by-one", "feeds the decoder the token it must predict instead of the one before it",
           edits=((DEC, _SHIFT, "inputs = tgt"),),
           trap=("test_decoder_loss",), hint=DECODER_LOSS_BUGS["reads_its_target"]),
    Mutant("teacher-forcing-shifted-the-wrong-way", "feeds the token after the one to predict (the target "
           "shifted left), PAD at the end",
           edits=((DEC, _SHIFT, "inputs = np.concatenate([tgt[:, 1:], np.full((N, 1), PAD)], axis=1)"),),
           trap=("test_decoder_loss",), hint=DECODER_LOSS_BUGS["reads_the_next_token"]),
    Mutant("decoder-not-fed-its-previous-token", "feeds START at every step, so the decoder never reads "
           "the previous token",
           edits=((DEC, _SHIFT, "inputs = np.full((N, S), START)"),),
           trap=("test_decoder_loss",), hint=DECODER_LOSS_BUGS["reads_start_only"]),
    Mutant("padding-in-the-loss", "scores the padded positions too",
           edits=((DEC, "mask = sequence_mask(tgt_lengths, S)", "mask = np.ones((N, S))"),),
           trap=("test_decoder_loss",), hint=DECODER_LOSS_BUGS["counts_padding"]),
    Mutant("loss-averaged-over-every-position", "divides by N*S, padded positions included, not by the "
           "number of real target tokens",
           edits=((DEC, "count = mask.sum()", "count = N * S"),),
           trap=("test_decoder_loss",), hint=DECODER_LOSS_BUGS["per_position_mean"]),
    Mutant("loss-averaged-over-the-batch", "divides by the number of sequences, not of real target tokens",
           edits=((DEC, "loss = -np.sum(picked * mask) / count", "loss = -np.sum(picked * mask) / N"),
                  (DEC, "dscores = dscores * mask[:, :, None] / count", "dscores = dscores * mask[:, :, None] / N")),
           trap=("test_decoder_loss",), hint=DECODER_LOSS_BUGS["per_sequence_mean"]),
    Mutant("decoder-ignores-h0", "runs the decoder from a zero state, so the encoder never reaches it",
           edits=((DEC, 'gru_forward(x, h0, params["Wx_d"]', 'gru_forward(x, np.zeros_like(h0), params["Wx_d"]'),),
           trap=("test_decoder_loss",), hint=DECODER_LOSS_BUGS["ignores_h0"]),
    Mutant("softmax-without-the-max-shift", "computes the softmax of the raw scores, which overflows for "
           "scores in the hundreds",
           edits=((DEC, _STABLE, "shifted = scores"),),
           trap=("test_decoder_loss",), hint=OVERFLOW_HINT),
    Mutant("softmax-shift-added", "adds each row's maximum instead of subtracting it",
           edits=((DEC, _STABLE, "shifted = scores + scores.max(axis=2, keepdims=True)"),),
           trap=("test_decoder_loss",), hint=OVERFLOW_HINT),
    Mutant("embedding-gradient-overwrites-repeats", "writes dE_tgt with fancy indexing, so a token read at "
           "several positions keeps one gradient",
           edits=((DEC, "np.add.at(dE, inputs, dx)", "dE[inputs] += dx"),),
           must_fail=("test_decoder_loss",)),
    # -- the whole model
    Mutant("gradient-into-the-encoder-dropped", "never sends the gradient of the decoder's initial state "
           "back into the encoder",
           edits=((MOD, 'encoder_backward(np.zeros_like(states), da @ params["W_init"].T, encoder_cache)',
                   "encoder_backward(np.zeros_like(states), np.zeros_like(final), encoder_cache)"),),
           trap=("test_seq2seq_loss",)),
    Mutant("tanh-derivative-of-the-bridge-missing", "sends dh0 straight into W_init, b_init and final",
           edits=((MOD, "da = dh0 * (1.0 - h0 ** 2)", "da = dh0"),),
           must_fail=("test_seq2seq_loss",)),
    # -- inference
    Mutant("start-token-forgotten-at-inference", "starts decoding from PAD instead of START",
           edits=((GREEDY, "previous = np.full(N, START)", "previous = np.full(N, PAD)"),),
           trap=("test_greedy_decode",)),
    Mutant("greedy-not-fed-its-output", "feeds START at every step instead of the token just chosen",
           edits=((GREEDY, _GREEDY_CHOICE, _GREEDY_CHOICE.replace("previous =", "chosen =")),
                  (GREEDY, "ids[:, s] = np.where(finished, PAD, previous)", "ids[:, s] = np.where(finished, PAD, chosen)"),
                  (GREEDY, "finished = finished | (previous == END)", "finished = finished | (chosen == END)")),
           trap=("test_greedy_decode",)),
    Mutant("no-pad-after-end", "keeps writing tokens after a sequence has produced END",
           edits=((GREEDY, "ids[:, s] = np.where(finished, PAD, previous)", "ids[:, s] = previous"),),
           trap=("test_greedy_decode",), hint=GREEDY_HINTS["after_end"]),
    Mutant("end-replaced-by-pad", "writes PAD at the step where a sequence chooses END, so END never appears",
           edits=((GREEDY, "ids[:, s] = np.where(finished, PAD, previous)",
                   "ids[:, s] = np.where(finished | (previous == END), PAD, previous)"),),
           trap=("test_greedy_decode",), hint=GREEDY_HINTS["keep_end"]),
    # -- Part 0: a bug in a pasted function shows up in every later check
    Mutant("pasted-gru-backward-loses-the-direct-path", "pastes a gru_step_backward without the gradient that "
           "reaches prev_h directly through z",
           edits=((PART0, "dx, dprev_h = dax @ Wx.T, dah @ Wh.T + dnext_h * z", "dx, dprev_h = dax @ Wx.T, dah @ Wh.T"),),
           trap=("check_gru_functions",), fix_part0_first=("test_encoder_backward", "test_seq2seq_loss")),
]
