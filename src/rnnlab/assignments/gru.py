"""Assignment 4 (gru): the GRU cell and layer, in the form of cuDNN and PyTorch.
Inputs and hints of its checks.

Shapes: x (N, D), prev_h (N, H), Wx (D, 3H), Wh (H, 3H), bx and bh (3H,), with the
three H-wide blocks in the order r, z, n; sequences x (N, T, D), h (N, T, H).
"""

from __future__ import annotations

import numpy as np

from ..checks import fixed_array


def gru_step_inputs(N: int, D: int, H: int, seed: int, scale: float = 0.5) -> dict[str, np.ndarray]:
    """Deterministic inputs for one GRU step, as keyword arguments.

    x: (N, D), prev_h: (N, H), Wx: (D, 3H), Wh: (H, 3H), bx: (3H,), bh: (3H,).
    """
    return {
        "x": fixed_array((N, D), seed),
        "prev_h": fixed_array((N, H), seed + 1),
        "Wx": fixed_array((D, 3 * H), seed + 2, scale),
        "Wh": fixed_array((H, 3 * H), seed + 3, scale),
        "bx": fixed_array(3 * H, seed + 4, scale),
        "bh": fixed_array(3 * H, seed + 5, scale),
    }


def saturated_gru_step_inputs(N: int, D: int, H: int, seed: int) -> dict[str, np.ndarray]:
    """Inputs with large pre-activations: gates pinned near 0 or 1, the candidate near -1 or 1."""
    inputs = gru_step_inputs(N, D, H, seed, scale=4.0)
    inputs["bx"][::3] = 40.0
    inputs["bh"][1::3] = -40.0
    return inputs


def gru_sequence_inputs(N: int, T: int, D: int, H: int, seed: int, scale: float = 0.5) -> dict[str, np.ndarray]:
    """Deterministic inputs for gru_forward: x (N, T, D), h0 (N, H), Wx, Wh, bx, bh."""
    return {
        "x": fixed_array((N, T, D), seed),
        "h0": fixed_array((N, H), seed + 1),
        "Wx": fixed_array((D, 3 * H), seed + 2, scale),
        "Wh": fixed_array((H, 3 * H), seed + 3, scale),
        "bx": fixed_array(3 * H, seed + 4, scale),
        "bh": fixed_array(3 * H, seed + 5, scale),
    }


STEP_FORWARD_HINTS = {
    "next_h": (
        "In the form of this course (and of PyTorch), z KEEPS the old state: next_h blends prev_h, "
        "weighted by z, with the candidate. In the candidate, the reset gate multiplies the WHOLE "
        "hidden-side term, its bias b_hn included, AFTER the matrix product. The blocks are in the "
        "order r, z, n."
    ),
}

_SHARED = (
    "each comes from the three blocks' pre-activation gradients. Check, block by block: the "
    "candidate's tanh derivative (written with n), the gates' sigmoid derivatives (written with "
    "their OUTPUTS r and z), and the reset gate's own gradient: r multiplied the whole hidden-side "
    "term of the candidate, b_hn included, so its gradient uses all of it."
)
STEP_BACKWARD_HINTS = {
    "dx": _SHARED, "dWx": _SHARED, "dbx": _SHARED, "dWh": _SHARED,
    "dbh": "the r and z blocks of dbh equal those of dbx; its n block is gated by r, like the hidden "
           "side of the candidate.",
    "dprev_h": "prev_h reaches next_h by two roads: through the matrix Wh (all three blocks) and "
               "directly, through the update gate. Did you add both?",
}
STEP_BACKWARD_HINT_ALL_WRONG = (
    "Every gradient is wrong, so the mistake is in what they share. Go through it piece by piece "
    "(the blocks listed below as wrong point at the piece): the gradient reaching n from next_h (z "
    "weights the OLD state, 1 - z the candidate); the one reaching z (what does next_h gain when z "
    "grows?); the candidate's tanh derivative (written with n); the reset gate's gradient (r "
    "multiplied the whole hidden-side term, b_hn included); the gates' sigmoid derivatives (written "
    "with their outputs)."
)

#: The three H-wide blocks of Wx, Wh, bx and bh (and of their gradients).
BLOCKS = {name: ("r", "z", "n") for name in ("dWx", "dWh", "dbx", "dbh")}

FORWARD_HINTS = {
    "h": "h[:, t] is the state after step t; the first step starts from h0 and each step from the "
         "one before.",
}
BACKWARD_HINTS = {
    "dx": "dx[:, t] comes from step t alone: is step t given dh[:, t] plus the dprev_h of step t+1?",
    "dh0": "dh0 is the dprev_h of the FIRST step (t = 0), once the loop has visited every step.",
    "dWx": "Shared weights: dWx is a sum over every time step (add, do not overwrite).",
    "dWh": "dWh is a sum over every time step, and each step's upstream gradient includes the "
           "dprev_h of step t+1.",
    "dbx": "dbx is a sum over every time step.",
    "dbh": "dbh is a sum over every time step.",
}
BACKWARD_HINT_ALL_WRONG = (
    "Every gradient is wrong. Does the loop run backwards in time, and does step t receive "
    "dh[:, t] plus the dprev_h of step t+1?"
)

STEP_GRADIENTS = ("dx", "dprev_h", "dWx", "dWh", "dbx", "dbh")
SEQUENCE_GRADIENTS = ("dx", "dh0", "dWx", "dWh", "dbx", "dbh")
