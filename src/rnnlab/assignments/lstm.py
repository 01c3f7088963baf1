"""Assignment 3 (lstm): the LSTM cell and layer. Inputs and hints of its checks.

Shapes: x (N, D), prev_h and prev_c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,),
with the four H-wide blocks in the order i, f, o, g; sequences x (N, T, D), h (N, T, H),
and the optional initial cell state c0 (N, H).
"""

from __future__ import annotations

import numpy as np

from ..checks import fixed_array


def lstm_step_inputs(N: int, D: int, H: int, seed: int, scale: float = 0.5) -> dict[str, np.ndarray]:
    """Deterministic inputs for one LSTM step, as keyword arguments.

    x: (N, D), prev_h: (N, H), prev_c: (N, H), Wx: (D, 4H), Wh: (H, 4H), b: (4H,).
    """
    return {
        "x": fixed_array((N, D), seed),
        "prev_h": fixed_array((N, H), seed + 1),
        "prev_c": fixed_array((N, H), seed + 2, 2.0),
        "Wx": fixed_array((D, 4 * H), seed + 3, scale),
        "Wh": fixed_array((H, 4 * H), seed + 4, scale),
        "b": fixed_array(4 * H, seed + 5, scale),
    }


def saturated_lstm_step_inputs(N: int, D: int, H: int, seed: int) -> dict[str, np.ndarray]:
    """Inputs with large pre-activations: gates pinned near 0 or 1, the candidate near -1 or 1."""
    inputs = lstm_step_inputs(N, D, H, seed, scale=4.0)
    inputs["b"][::3] = 40.0
    inputs["b"][1::3] = -40.0
    return inputs


def lstm_sequence_inputs(N: int, T: int, D: int, H: int, seed: int, scale: float = 0.5,
                         with_c0: bool = False) -> dict[str, np.ndarray]:
    """Deterministic inputs for lstm_forward: x (N, T, D), h0 (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,),
    and with ``with_c0=True`` an initial cell state c0 (N, H) too (without it, c0 is left out: zeros)."""
    inputs = {
        "x": fixed_array((N, T, D), seed),
        "h0": fixed_array((N, H), seed + 1),
        "Wx": fixed_array((D, 4 * H), seed + 2, scale),
        "Wh": fixed_array((H, 4 * H), seed + 3, scale),
        "b": fixed_array(4 * H, seed + 4, scale),
    }
    if with_c0:
        inputs["c0"] = fixed_array((N, H), seed + 5, 2.0)
    return inputs


_BLOCKS = ("Are the four H-wide blocks of the pre-activation taken in the order i, f, o, g, "
           "with the sigmoid for the three gates and tanh for the candidate?")

STEP_FORWARD_HINTS = {
    "next_h": "next_h is the output gate applied to a squashed cell state: the NEW one, next_c, "
              "squashed by tanh? " + _BLOCKS,
    "next_c": "next_c keeps part of the old cell state (through the forget gate) and writes part of "
              "the candidate (through the input gate). " + _BLOCKS,
}

_SHARED_FACTOR = (
    "each comes from the (N, 4H) gradient of the pre-activations. Check each block's "
    "local derivative (a gate's is written with the gate's OUTPUT, the candidate's with g), and that "
    "the four blocks are put together in the order i, f, o, g."
)
STEP_BACKWARD_HINTS = {
    "dx": _SHARED_FACTOR, "dprev_h": _SHARED_FACTOR, "dWx": _SHARED_FACTOR, "dWh": _SHARED_FACTOR,
    "db": _SHARED_FACTOR,
    "dprev_c": "The cell path carries no matrix product: dprev_c is the total gradient of next_c, "
               "scaled elementwise by one gate. Which gate multiplied prev_c?",
}
STEP_BACKWARD_HINT_ALL_WRONG = (
    "Every gradient is wrong, so look at what they share: the total gradient of next_c. It has two "
    "parts: dnext_c, and what reaches next_c from next_h, through the output gate and the "
    "derivative of tanh. Did you add both, and use the NEW cell state in that derivative?"
)

#: The four H-wide blocks of Wx, Wh and b (and of their gradients).
BLOCKS = {name: ("i", "f", "o", "g") for name in ("dWx", "dWh", "db")}

FORWARD_HINTS = {
    "h": "h[:, t] is the hidden state after step t. Does the first step start from h0 and the cell "
         "state c0 (ZEROS when c0 is None), and does every step pass both its new h and its new c to "
         "the next?",
}
#: For the check with a given initial cell state: the same input, now with c0.
C0_FORWARD_HINTS = {
    "h": "With c0 given, h is wrong: is c0 ignored? The first step must start from the c0 passed in; "
         "zeros are only for c0 = None.",
}
BACKWARD_HINTS = {
    "dx": "dx[:, t] comes from step t alone: is step t given dh[:, t] plus the dprev_h of step t+1?",
    "dh0": "dh0 is the dprev_h of the FIRST step (t = 0), once the loop has visited every step.",
    "dWx": "Shared weights: dWx is a sum over every time step (add, do not overwrite).",
    "dWh": "dWh is a sum over every time step. Does each step receive BOTH gradients from step t+1: "
           "dprev_h (added to dh[:, t]) and dprev_c (as its dnext_c)?",
    "db": "db is a sum over every time step.",
}
BACKWARD_HINT_ALL_WRONG = (
    "Every gradient is wrong. Does the loop run backwards in time, and does step t receive "
    "dh[:, t] plus the dprev_h of step t+1 as dnext_h, and the dprev_c of step t+1 as dnext_c "
    "(zero at the last step)?"
)

STEP_GRADIENTS = ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db")
SEQUENCE_GRADIENTS = ("dx", "dh0", "dWx", "dWh", "db")
