"""Wrong implementations of the bidirectional and stacked RNN assignment that learners write."""

from . import Mutant

BI, ST = "birnn_functions", "stacked_functions"

#: Fragments of the graded equations' right-hand sides: no hint or message may print one.
FORMULAS = ("lengths[n] - 1 - t", "x[n, lengths", "take_along_axis(", "[:, ::-1]")

MUTANTS = [
    Mutant("backward-outputs-left-reversed", "leaves the backward direction's states in reversed time order",
           edits=((BI, "h_b = reverse_within_lengths(h_rev, lengths)", "h_b = h_rev"),)),
    Mutant("h0b-fed-at-t0", "runs the backward RNN forwards in time, so h0_b enters at t = 0",
           edits=((BI, "rnn_forward(reverse_within_lengths(x, lengths), h0_b,", "rnn_forward(x, h0_b,"),
                  (BI, "h_b = reverse_within_lengths(h_rev, lengths)", "h_b = h_rev"),
                  (BI, "rnn_backward(reverse_within_lengths(dh[:, :, H:], lengths), cache_b)", "rnn_backward(dh[:, :, H:], cache_b)"),
                  (BI, "dx = dx_f + reverse_within_lengths(dx_rev, lengths)", "dx = dx_f + dx_rev"))),
    Mutant("dh-halves-swapped", "sends the second half of dh to the forward RNN and the first to the backward one",
           edits=((BI, "rnn_backward(dh[:, :, :H], cache_f)", "rnn_backward(dh[:, :, H:], cache_f)"),
                  (BI, "reverse_within_lengths(dh[:, :, H:], lengths)", "reverse_within_lengths(dh[:, :, :H], lengths)")),
           must_fail=("test_birnn_backward",)),
    Mutant("reversed-from-padded-end", "reverses the whole padded row, so the backward direction starts on padding",
           edits=((BI, "index = np.where(t < lengths, lengths - 1 - t, t)",
                   "index = np.broadcast_to(T - 1 - t, (lengths.shape[0], T))"),),
           must_fail=("test_reverse_within_lengths", "test_birnn_lengths")),
    Mutant("halves-concatenated-backward-first", "puts the backward half first in h",
           edits=((BI, "np.concatenate([h_f, h_b], axis=2)", "np.concatenate([h_b, h_f], axis=2)"),)),
    Mutant("padding-not-zeroed", "leaves the states past each sequence's end in h",
           edits=((BI, "h = np.concatenate([h_f, h_b], axis=2) * mask", "h = np.concatenate([h_f, h_b], axis=2)"),),
           must_fail=("test_birnn_lengths",)),
    Mutant("gradient-not-masked", "lets the upstream gradient past each end flow into the RNNs",
           edits=((BI, "dh = dh * mask", "dh = dh * 1.0"),), must_fail=("test_birnn_lengths",)),
    Mutant("backward-dx-not-reordered", "adds the backward direction's dx without putting it back in time order",
           edits=((BI, "dx = dx_f + reverse_within_lengths(dx_rev, lengths)", "dx = dx_f + dx_rev"),)),
    Mutant("lengths-ignored", "treats every sequence as full length",
           edits=((BI, "lengths = np.full(N, T) if lengths is None else np.asarray(lengths)", "lengths = np.full(N, T)"),),
           must_fail=("test_birnn_lengths",)),
    Mutant("layer-gradient-not-passed-down", "gives every layer the top layer's dh instead of the dx of the layer above",
           edits=((ST, "dh, dh0, dWx, dWh, db = rnn_backward(dh, layer_cache)", "_, dh0, dWx, dWh, db = rnn_backward(dh, layer_cache)"),),
           must_fail=("test_stacked_rnn",)),
    Mutant("every-layer-reads-x", "feeds the raw input to every layer",
           edits=((ST, "h, layer_cache = rnn_forward(h, h0, Wx, Wh, b)", "h, layer_cache = rnn_forward(x, h0, Wx, Wh, b)"),)),
    Mutant("stacked-gradients-in-wrong-order", "lists the layers' gradients top layer first",
           edits=((ST, "dh0s.insert(0, dh0)", "dh0s.append(dh0)"),
                  (ST, "dparams.insert(0, (dWx, dWh, db))", "dparams.append((dWx, dWh, db))"))),
]
