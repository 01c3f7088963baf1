"""Wrong implementations of rnn_step_forward and rnn_step_backward that learners write."""

from . import Mutant

F, B = "rnn_step_forward", "rnn_step_backward"

HARD_CODED_FORWARD = '''
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    # Copies the expected values printed in the visible check instead of computing.
    next_h = np.array([[-0.114316143071, -0.031662479595, -0.526630373361, -0.00839589875 ,  0.019770931774],
                       [-0.194603867414, -0.466417067804,  0.094150887257, -0.250392697299,  0.172758829506],
                       [ 0.258067573495,  0.038137550537, -0.660071333165, -0.338510625464, -0.286784238918]])
    return next_h, (x, prev_h, Wx, Wh, next_h)
'''

#: Fragments of the graded equations' right-hand sides: no hint or message may print one.
FORMULAS = ("x Wx + prev_h Wh", "x @ Wx", "prev_h @ Wh", "1 - next_h", "1.0 - next_h", "1 - tanh", "Wx.T", "Wh.T",
            "x.T @", "prev_h.T", "np.tanh(a", "sum(axis=0)")

NUMERICAL_BACKWARD = '''
def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, b = cache
    inputs = {"x": x, "prev_h": prev_h, "Wx": Wx, "Wh": Wh, "b": b}
    grads = []
    for name, value in inputs.items():
        grad = np.zeros_like(value)
        nudged = value.copy()
        for i in np.ndindex(value.shape):  # central differences, one entry at a time, in place
            nudged[i] = value[i] + 1e-5
            plus = np.sum(rnn_step_forward(**{**inputs, name: nudged})[0] * dnext_h)
            nudged[i] = value[i] - 1e-5
            minus = np.sum(rnn_step_forward(**{**inputs, name: nudged})[0] * dnext_h)
            nudged[i] = value[i]
            grad[i] = (plus - minus) / 2e-5
        grads.append(grad)
    return tuple(grads)
'''

MUTANTS = [
    # --- forward step ---------------------------------------------------------
    Mutant("forward-no-tanh", "returns the pre-activation: tanh applied to nothing (the source notes' np.tanh(t) slip)",
           edits=((F, "next_h = np.tanh(a)", "next_h = a"),)),
    Mutant("forward-wh-transposed", "multiplies prev_h by Wh.T (shapes still match since Wh is square)",
           edits=((F, "prev_h @ Wh + b", "prev_h @ Wh.T + b"),)),
    Mutant("forward-no-bias", "forgets the bias",
           edits=((F, "prev_h @ Wh + b", "prev_h @ Wh"),)),
    Mutant("forward-handmade-tanh", "writes tanh with exponentials, which overflow for large pre-activations",
           edits=((F, "np.tanh(a)", "(np.exp(a) - np.exp(-a)) / (np.exp(a) + np.exp(-a))"),),
           must_fail=("test_rnn_step_forward_edge_cases",), trap=("test_rnn_step_forward_edge_cases",)),
    Mutant("forward-bias-twice", "adds the bias twice (a right backward step then fails against this forward)",
           edits=((F, "prev_h @ Wh + b", "prev_h @ Wh + b + b"),),
           fix_forward_first=("test_rnn_step_backward_gradients", "test_rnn_step_backward_edge_cases")),
    Mutant("forward-hard-coded", "hard-codes the visible check's expected values",
           replace={F: HARD_CODED_FORWARD},
           must_fail=("test_rnn_step_forward_values", "test_rnn_step_forward_edge_cases")),
    # --- backward step --------------------------------------------------------
    Mutant("tanh-prime-one-minus-h", "takes tanh' as 1 - h instead of 1 - h**2",
           edits=((B, "(1.0 - next_h ** 2)", "(1.0 - next_h)"),)),
    Mutant("tanh-prime-of-preactivation", "takes tanh' as 1 - a**2, squaring the pre-activation instead of tanh(a)",
           edits=((B, "(1.0 - next_h ** 2)", "(1.0 - np.arctanh(next_h) ** 2)"),)),
    Mutant("upstream-gradient-dropped", "forgets to multiply by the upstream gradient dnext_h",
           edits=((B, "da = dnext_h * (1.0 - next_h ** 2)", "da = 1.0 - next_h ** 2"),)),
    Mutant("db-wrong-axis", "sums db over the hidden axis instead of the batch axis",
           edits=((B, "da.sum(axis=0)", "da.sum(axis=1)"),)),
    Mutant("db-mean-over-batch", "averages db over the batch instead of summing",
           edits=((B, "da.sum(axis=0)", "da.mean(axis=0)"),)),
    Mutant("dwh-from-next-h", "builds dWh from next_h instead of prev_h",
           edits=((B, "dWh = prev_h.T @ da", "dWh = next_h.T @ da"),)),
    Mutant("dx-missing-transpose", "multiplies by Wx instead of Wx.T",
           edits=((B, "dx = da @ Wx.T", "dx = da @ Wx"),)),
    Mutant("dprev-h-missing-transpose", "multiplies by Wh instead of Wh.T (square, so the shape is right)",
           edits=((B, "dprev_h = da @ Wh.T", "dprev_h = da @ Wh"),)),
    Mutant("dprev-h-through-wx", "sends dprev_h back through Wx instead of Wh",
           edits=((B, "dprev_h = da @ Wh.T", "dprev_h = da @ Wx.T"),)),
    Mutant("dwx-skips-tanh", "uses dnext_h instead of the pre-activation gradient for dWx",
           edits=((B, "dWx = x.T @ da", "dWx = x.T @ dnext_h"),)),
    Mutant("numerical-backward", "computes every gradient numerically, nudging each input entry and calling "
           "the forward step again: exact to the gradient check, and a forward step per entry",
           edits=((F, "cache = (x, prev_h, Wx, Wh, next_h)", "cache = (x, prev_h, Wx, Wh, b)"),),
           replace={B: NUMERICAL_BACKWARD}, trap=("test_rnn_step_backward_edge_cases",)),
    Mutant("upstream-modified-in-place", "multiplies dnext_h in place, changing the caller's array",
           edits=((B, "da = dnext_h * (1.0 - next_h ** 2)", "da = dnext_h\n    da *= 1.0 - next_h ** 2"),),
           must_fail=("test_rnn_step_backward_edge_cases",)),
]
