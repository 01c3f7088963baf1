"""Wrong implementations of the GRU assignment's functions that learners write."""

from . import Mutant

SF, SB, F, B = "gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward"

#: Fragments of the graded equations' right-hand sides: no hint or message may print one.
FORMULAS = ("(1 - z) * n + z * prev_h", "tanh(x W_xn", "dnext_h * (1 - z)", "dnext_h * (prev_h - n)",
            "r * (prev_h", "1 - n**2", "1.0 - n ** 2", "z * (1 - z)", "dan * hn")

MUTANTS = [
    # --- step forward ---------------------------------------------------------
    Mutant("z-and-one-minus-z-swapped", "lets z weight the candidate and 1 - z the old state",
           edits=((SF, "next_h = (1.0 - z) * n + z * prev_h", "next_h = z * n + (1.0 - z) * prev_h"),)),
    Mutant("reset-before-the-product", "applies the reset to prev_h before the product (the other GRU form)",
           edits=((SF, "n = np.tanh(ax[:, 2 * H:] + r * hn)",
                   "n = np.tanh(ax[:, 2 * H:] + (r * prev_h) @ Wh[:, 2 * H:] + bh[2 * H:])"),)),
    Mutant("bhn-outside-the-reset", "leaves the bias b_hn outside the reset product",
           edits=((SF, "n = np.tanh(ax[:, 2 * H:] + r * hn)", "n = np.tanh(ax[:, 2 * H:] + r * (hn - bh[2 * H:]) + bh[2 * H:])"),)),
    Mutant("r-and-z-blocks-swapped", "reads the reset and update gates from each other's block",
           edits=((SF, "r = sigmoid(ax[:, :H] + ah[:, :H])", "r = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])"),
                  (SF, "z = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])", "z = sigmoid(ax[:, :H] + ah[:, :H])"))),
    # --- step backward --------------------------------------------------------
    Mutant("gradient-through-r-forgotten", "forgets that r receives a gradient from the candidate",
           edits=((SB, "dr = dan * hn", "dr = 0.0 * hn"),)),
    Mutant("direct-path-missing", "forgets the direct z * prev_h path in dprev_h",
           edits=((SB, "dprev_h = dah @ Wh.T + dnext_h * z", "dprev_h = dah @ Wh.T"),),
           must_fail=("test_gru_step_backward_gradients",)),
    Mutant("hidden-candidate-not-gated", "forgets the factor r on the hidden side of the candidate block",
           edits=((SB, "dhn = dan * r", "dhn = dan"),)),
    Mutant("reset-gradient-without-bhn", "gives the reset gate the gradient of prev_h W_hn alone, without b_hn",
           edits=((SB, "dr = dan * hn", "dr = dan * (prev_h @ Wh[:, 2 * hn.shape[1]:])"),)),
    Mutant("candidate-tanh-prime-wrong", "writes the candidate's tanh' as 1 - n instead of 1 - n**2",
           edits=((SB, "dan = dn * (1.0 - n ** 2)", "dan = dn * (1.0 - n)"),)),
    Mutant("dz-sign-flipped", "writes dz as dnext_h * (n - prev_h)",
           edits=((SB, "dz = dnext_h * (prev_h - n)", "dz = dnext_h * (n - prev_h)"),)),
    Mutant("dbh-equals-dbx", "returns the input-side bias gradient for both biases",
           edits=((SB, "dbh = dah.sum(axis=0)", "dbh = dax.sum(axis=0)"),)),
    Mutant("sigmoid-prime-from-preactivation", "writes the gates' sigmoid' as a(1 - a) with a the pre-activation",
           edits=((SB, "dar = dr * r * (1.0 - r)",
                   "dar = dr * np.log(r / (1.0 - r)) * (1.0 - np.log(r / (1.0 - r)))"),
                  (SB, "daz = dz * z * (1.0 - z)",
                   "daz = dz * np.log(z / (1.0 - z)) * (1.0 - np.log(z / (1.0 - z)))"))),
    # --- sequence -------------------------------------------------------------
    Mutant("gru-future-gradient-dropped", "passes only dh[:, t] to each step",
           edits=((B, "dh[:, t, :] + dh_from_future, cache[t]", "dh[:, t, :], cache[t]"),)),
    Mutant("gru-time-not-reversed", "walks forward in time in the backward loop",
           edits=((B, "for t in reversed(range(T)):", "for t in range(T):"),)),
    Mutant("gru-dbh-overwritten", "overwrites dbh at every step instead of accumulating it",
           edits=((B, "dbh += dbh_t", "dbh = dbh_t"),)),
    Mutant("gru-forward-from-zero", "starts from a zero state instead of h0",
           edits=((F, "prev_h = h0", "prev_h = np.zeros_like(h0)"),)),
]
