"""Wrong implementations of the bptt assignment's functions that learners write."""

from . import Mutant

FWD, BWD, LOSS, CLIP, MODEL, TBPTT = (
    "rnn_forward", "rnn_backward", "temporal_softmax_loss", "clip_by_global_norm", "char_rnn_loss", "tbptt_functions",
)

#: Fragments of the graded equations' right-hand sides: no hint or message may print one.
FORMULAS = ("probabilities - one-hot", "p - e_y", "max_norm / norm", "old - learning_rate", "sqrt(sum",
            "h[:, -1].", "one_hot(x, V) ->", "exp(scores - ", "scores.max(")

MUTANTS = [
    # --- rnn_forward / rnn_backward ------------------------------------------
    Mutant("initial-state-from-h-minus-1", "starts from h[:, -1, :] (still zeros) instead of h0: the source notes' bug",
           edits=((FWD, "prev_h = h0", "prev_h = h[:, -1, :]"),)),
    Mutant("future-gradient-not-added", "passes only dh[:, t] to each step, dropping the gradient from h_{t+1}",
           edits=((BWD, "dh[:, t, :] + dnext_from_future", "dh[:, t, :]"),)),
    Mutant("time-not-reversed", "walks forward in time in the backward loop",
           edits=((BWD, "for t in reversed(range(T)):", "for t in range(T):"),)),
    Mutant("dwh-overwritten", "overwrites dWh at every step instead of accumulating it",
           edits=((BWD, "dWh += dWh_t", "dWh = dWh_t"),)),
    Mutant("dh0-from-upstream-at-t0", "returns the upstream gradient at t = 0 as dh0",
           edits=((BWD, "dh0 = dnext_from_future", "dh0 = dh[:, 0, :]"),)),
    # --- temporal_softmax_loss ------------------------------------------------
    Mutant("softmax-overflows", "exponentiates raw scores, overflowing for large ones",
           edits=((LOSS, "shifted = scores - scores.max(axis=2, keepdims=True)", "shifted = scores"),),
           must_fail=("test_temporal_softmax_loss",), trap=("test_temporal_softmax_loss",)),
    Mutant("loss-averaged-over-time", "divides the loss and its gradient by N*T instead of N",
           edits=((LOSS, "loss = -log_probs[n_index, t_index, y].sum() / N", "loss = -log_probs[n_index, t_index, y].sum() / (N * T)"),
                  (LOSS, "dscores /= N", "dscores /= N * T"))),
    Mutant("dscores-not-divided-by-n", "forgets to divide the gradient by N",
           edits=((LOSS, "dscores /= N", "dscores /= 1"),)),
    # --- clip_by_global_norm --------------------------------------------------
    Mutant("clip-per-element", "clips each entry to [-max_norm, max_norm], which changes the direction",
           edits=((CLIP, "clipped = {name: g * scale for name, g in grads.items()}",
                   "clipped = {name: np.clip(g, -max_norm, max_norm) for name, g in grads.items()}"),)),
    Mutant("clip-squared-norm", "compares the squared norm with the threshold: the source notes' bug",
           edits=((CLIP, "norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))",
                   "norm = float(sum(np.sum(g * g) for g in grads.values()))"),)),
    Mutant("clip-compares-squared-norm", "clips when the SQUARED norm exceeds max_norm (the norm itself is right)",
           edits=((CLIP, "if norm > max_norm", "if norm ** 2 > max_norm"),), trap=("test_clip_by_global_norm",)),
    Mutant("clip-always-rescales", "rescales to max_norm even when the norm is already smaller",
           edits=((CLIP, "scale = max_norm / norm if norm > max_norm else 1.0", "scale = max_norm / norm"),)),
    # --- char_rnn_loss --------------------------------------------------------
    Mutant("model-ignores-h0", "starts every window from zeros instead of the given h0",
           edits=((MODEL, "one_hot(x, V), h0,", "one_hot(x, V), np.zeros_like(h0),"),)),
    Mutant("h-last-from-first-step", "returns the state after the first step as h_last",
           edits=((MODEL, "h_last = h[:, -1, :]", "h_last = h[:, 0, :]"),)),
    # --- truncated BPTT and training -----------------------------------------
    Mutant("state-reset-between-windows", "starts every window from h0 instead of carrying the state",
           edits=((TBPTT, "y[:, start:stop], h)", "y[:, start:stop], h0)"),)),
    Mutant("window-gradients-overwritten", "keeps only the last window's gradients",
           edits=((TBPTT, "grads[name] = grads[name] + window_grads[name]", "grads[name] = window_grads[name]"),)),
    Mutant("train-step-in-place", "updates the caller's parameters in place",
           edits=((TBPTT, "new_params = {name: p - learning_rate * grads[name] for name, p in params.items()}",
                   "for name in params:\n        params[name] -= learning_rate * grads[name]\n    new_params = params"),),
           must_fail=("test_tbptt_train_step",)),
    Mutant("train-step-without-clipping", "forgets to clip before the update",
           edits=((TBPTT, "grads, _ = clip_by_global_norm(grads, max_norm)", "grads = grads"),),
           must_fail=("test_tbptt_train_step",)),
]
