"""Wrong implementations of the LSTM assignment's functions that learners write."""

from . import Mutant

SF, SB, F, B = "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward"

LOOPED_STEP_FORWARD = '''
def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    # Right values, but one example at a time: not vectorised.
    N, H = prev_h.shape
    next_h, next_c = np.zeros((N, H)), np.zeros((N, H))
    caches = []
    for n in range(N):
        a = x[n] @ Wx + prev_h[n] @ Wh + b
        i, f, o = sigmoid(a[:H]), sigmoid(a[H:2 * H]), sigmoid(a[2 * H:3 * H])
        g = np.tanh(a[3 * H:])
        next_c[n] = f * prev_c[n] + i * g
        next_h[n] = o * np.tanh(next_c[n])
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, np.tanh(next_c))
    return next_h, next_c, cache
'''

LOGIT = "np.log({s} / (1.0 - {s}))"  # the pre-activation, recovered from the gate's output


def sigmoid_prime_of_preactivation(gate: str) -> tuple[str, str, str]:
    logit = LOGIT.format(s=gate)
    return (SB, f"{gate} * (1.0 - {gate})", f"{logit} * (1.0 - {logit})")


#: Fragments of the graded equations' right-hand sides: no hint or message may print one.
FORMULAS = ("o * tanh(next_c)", "f * prev_c + i * g", "s * (1 - s)", "1 - g**2", "dnext_h * o", "1 - tanh(next_c)",
            "dnext_c +", "= o * ", "tanh_c")

MUTANTS = [
    # --- step forward ---------------------------------------------------------
    Mutant("gates-i-f-swapped", "reads the input and forget gates from each other's block of the 4H pre-activation",
           edits=((SF, "i = sigmoid(a[:, :H])", "i = sigmoid(a[:, H:2 * H])"),
                  (SF, "f = sigmoid(a[:, H:2 * H])", "f = sigmoid(a[:, :H])"))),
    Mutant("prev-c-changed-in-place", "scales prev_c by the forget gate in place, changing the caller's array",
           edits=((SF, "next_c = f * prev_c + i * g", "prev_c *= f\n    next_c = prev_c + i * g"),),
           fix_forward_first=("test_lstm_step_backward_gradients", "test_lstm_step_backward_edge_cases")),
    Mutant("candidate-sigmoid", "squashes the candidate g with a sigmoid instead of tanh",
           edits=((SF, "g = np.tanh(a[:, 3 * H:])", "g = sigmoid(a[:, 3 * H:])"),)),
    Mutant("h-without-tanh-of-c", "outputs o * c instead of o * tanh(c)",
           edits=((SF, "next_h = o * tanh_c", "next_h = o * next_c"),)),
    Mutant("step-loops-over-batch", "computes the right values one example at a time (not vectorised)",
           replace={SF: LOOPED_STEP_FORWARD}, must_fail=("test_lstm_step_forward",)),
    # --- step backward --------------------------------------------------------
    Mutant("tanh-prime-of-c-forgotten", "forgets tanh'(c) on the path from next_h to next_c",
           edits=((SB, "dnext_h * o * (1.0 - tanh_c ** 2)", "dnext_h * o"),)),
    Mutant("cell-gradient-from-h-not-added", "takes dnext_c alone as the gradient of next_c, ignoring the path from next_h",
           edits=((SB, "dc = dnext_c + dnext_h * o * (1.0 - tanh_c ** 2)", "dc = dnext_c"),)),
    Mutant("dprev-c-missing-f", "passes the cell gradient back without the factor f",
           edits=((SB, "dprev_c = dc * f", "dprev_c = dc"),), must_fail=("test_lstm_step_backward_gradients",)),
    Mutant("sigmoid-prime-of-preactivation", "writes sigmoid' as a(1 - a) with a the pre-activation",
           edits=tuple(sigmoid_prime_of_preactivation(gate) for gate in ("i", "f", "o"))),
    Mutant("output-gate-gradient-uses-c", "uses c instead of tanh(c) in the output gate's gradient",
           edits=((SB, "do = dnext_h * tanh_c", "do = dnext_h * np.arctanh(tanh_c)"),)),
    Mutant("step-db-wrong-axis", "sums db over the 4H axis instead of the batch",
           edits=((SB, "db = da.sum(axis=0)", "db = da.sum(axis=1)"),)),
    # --- sequence -------------------------------------------------------------
    Mutant("c0-equals-h0", "starts the cell state from h0 instead of zero when no c0 is given",
           edits=((F, "prev_h, prev_c = h0, np.zeros((N, H)) if c0 is None else c0",
                   "prev_h, prev_c = h0, h0 if c0 is None else c0"),)),
    Mutant("c0-ignored", "takes the optional c0 but always starts the cell state from zeros",
           edits=((F, "np.zeros((N, H)) if c0 is None else c0", "np.zeros((N, H))"),),
           trap=("test_lstm_forward",), hint="With c0 given, h is wrong: is c0 ignored?"),
    Mutant("c0-none-not-handled", "starts the cell state from c0 without turning the default None into zeros",
           edits=((F, "np.zeros((N, H)) if c0 is None else c0", "c0"),), trap=("test_lstm_forward",),
           hint="An optional argument that is left out arrives as None"),
    Mutant("future-cell-gradient-dropped", "gives every step dnext_c = 0 instead of the next step's dprev_c",
           edits=((B, "dh[:, t, :] + dh_from_future, dc_from_future, cache[t]",
                   "dh[:, t, :] + dh_from_future, np.zeros((N, H)), cache[t]"),)),
    Mutant("future-hidden-gradient-dropped", "passes only dh[:, t] to each step, dropping dprev_h of step t+1",
           edits=((B, "dh[:, t, :] + dh_from_future, dc_from_future", "dh[:, t, :], dc_from_future"),)),
    Mutant("lstm-time-not-reversed", "walks forward in time in the backward loop",
           edits=((B, "for t in reversed(range(T)):", "for t in range(T):"),)),
    Mutant("lstm-dwh-overwritten", "overwrites dWh at every step instead of accumulating it",
           edits=((B, "dWh += dWh_t", "dWh = dWh_t"),)),
]
