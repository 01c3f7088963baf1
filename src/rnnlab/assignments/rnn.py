"""Assignment 1 (rnn): one step of a vanilla RNN. Inputs and hints of its checks.

Shapes: x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,).
"""

from __future__ import annotations

import numpy as np

from ..checks import fixed_array


def step_inputs(N: int, D: int, H: int, seed: int, scale: float = 0.5) -> dict[str, np.ndarray]:
    """Deterministic inputs for one RNN step, as keyword arguments.

    x: (N, D), prev_h: (N, H), Wx: (D, H), Wh: (H, H), b: (H,), all float64.
    Entries of x and prev_h lie in [-1, 1], those of the parameters in [-scale, scale].
    """
    return {
        "x": fixed_array((N, D), seed),
        "prev_h": fixed_array((N, H), seed + 1),
        "Wx": fixed_array((D, H), seed + 2, scale),
        "Wh": fixed_array((H, H), seed + 3, scale),
        "b": fixed_array(H, seed + 4, scale),
    }


def saturated_step_inputs(N: int, D: int, H: int, seed: int) -> dict[str, np.ndarray]:
    """Inputs whose pre-activations are large: most tanh units saturate, and the first
    two are driven to about +800 and -800, where a tanh written by hand overflows.
    Needs H >= 2."""
    inputs = step_inputs(N, D, H, seed, scale=3.0)
    inputs["b"][0] = 800.0
    inputs["b"][1] = -800.0
    return inputs


FORWARD_HINTS = {
    "next_h": (
        "next_h is tanh of the WHOLE pre-activation, all three terms added. Is tanh applied to the sum "
        "(not to one term), does each weight matrix multiply the array whose last axis matches its first "
        "axis, and is the bias added once? NaN or infinity on large inputs: a tanh written with "
        "exponentials overflows; NumPy's tanh does not."
    ),
}

BACKWARD_HINTS = {
    "dx": "dx flows back through Wx, the matrix that multiplied x. It has the shape of x, (N, D): "
          "which product of the pre-activation's gradient with Wx has that shape?",
    "dprev_h": "dprev_h flows back through Wh, the matrix that multiplied prev_h in the forward step.",
    "dWx": "dWx has the shape of Wx, (D, H). It pairs the input x with the gradient of the "
           "pre-activation, summed over the batch: which product of the two has that shape?",
    "dWh": "dWh pairs the gradient of the pre-activation with the state that ENTERED this step "
           "(not the one it produced). Which state is that?",
    "db": "b was added to every row of the batch, so its gradient sums over the batch axis, "
          "and has shape (H,).",
}

BACKWARD_HINT_ALL_WRONG = (
    "All five gradients are wrong, so the mistake is in what they share: the gradient of the "
    "pre-activation, which combines dnext_h with the derivative of tanh at this step. Is that "
    "derivative written with the tanh your forward step already computed, and is dnext_h in it?"
)

STEP_GRADIENTS = ("dx", "dprev_h", "dWx", "dWh", "db")
