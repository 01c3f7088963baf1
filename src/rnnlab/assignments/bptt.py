"""Assignment 2 (bptt): backpropagation through time and a character-level language model.
Inputs, hints and adapters of its checks.

Shapes: x (N, T, D), h0 (N, H), h (N, T, H); scores (N, T, V), y (N, T) ids; the
language model's parameters Wx (V, H), Wh (H, H), b (H,), Wy (H, V), by (V,).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..adapters import adapter
from ..checks import fixed_array


def sequence_inputs(N: int, T: int, D: int, H: int, seed: int, scale: float = 0.5) -> dict[str, np.ndarray]:
    """Deterministic inputs for rnn_forward: x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,)."""
    return {
        "x": fixed_array((N, T, D), seed),
        "h0": fixed_array((N, H), seed + 1),
        "Wx": fixed_array((D, H), seed + 2, scale),
        "Wh": fixed_array((H, H), seed + 3, scale),
        "b": fixed_array(H, seed + 4, scale),
    }


def char_problem(N: int, T: int, V: int, H: int, seed: int):
    """A small deterministic language-model problem.

    Returns params (dict: Wx (V, H), Wh (H, H), b (H,), Wy (H, V), by (V,)),
    x and y (N, T) int ids (y is x shifted by one step), and h0 (N, H).
    """
    params = {
        "Wx": fixed_array((V, H), seed, 0.5),
        "Wh": fixed_array((H, H), seed + 1, 0.5),
        "b": fixed_array(H, seed + 2, 0.2),
        "Wy": fixed_array((H, V), seed + 3, 0.5),
        "by": fixed_array(V, seed + 4, 0.2),
    }
    ids = (np.abs(fixed_array((N, T + 1), seed + 5)) * V).astype(np.int64) % V
    h0 = fixed_array((N, H), seed + 6, 0.3)
    return params, ids[:, :-1], ids[:, 1:], h0


def large_scores(N: int, T: int, V: int, seed: int, size: float = 1000.0):
    """Scores (N, T, V) of magnitude up to ``size`` and targets y (N, T): exponentials of
    such scores overflow unless the softmax is computed with care."""
    scores = fixed_array((N, T, V), seed, size)
    y = (np.abs(fixed_array((N, T), seed + 1)) * V).astype(np.int64) % V
    return scores, y


STEP_HINTS = {"next_h": "Paste your rnn_step_forward from Assignment 1, unchanged."}

FORWARD_HINTS = {
    "h": (
        "h[:, t] is the state after step t, and step 0 starts from h0. Does the first step use h0 "
        "(not a row of zeros, not h[:, -1]), and does every later step start from the state just computed?"
    ),
}

BACKWARD_HINTS = {
    "dx": "dx[:, t] comes from step t alone. Is each step given dh[:, t] PLUS the gradient that "
          "flows back from step t+1?",
    "dh0": "dh0 is the gradient that flows out of the FIRST step (t = 0), once the loop has visited "
           "every step.",
    "dWx": "The weights are shared by every step, so dWx is a sum over t: are you adding, not "
           "overwriting?",
    "dWh": "dWh is a sum over every time step. If it is off, check that it is accumulated and that each "
           "step's upstream gradient includes what flows back from h[:, t+1].",
    "db": "db is a sum over every time step (and, inside each step, over the batch).",
}

BACKWARD_HINT_ALL_WRONG = (
    "Every gradient is wrong. Does the loop run BACKWARDS in time (from t = T-1 down to 0), and does "
    "step t receive dh[:, t] plus the gradient that step t+1 sent back to its prev_h?"
)

LOSS_HINTS = {
    "loss": "The loss sums over every sequence and every time step, and is averaged over the batch "
            "only (not over time): check what you divide by. NaN or infinity on large scores? "
            "Exponentials overflow: the chapter shows how to compute the softmax safely.",
    "scores": "The chapter derives this gradient: it compares the predicted probabilities with the "
              "targets, and is scaled like the loss. NaN on large scores? Compute the probabilities "
              "without overflow, as for the loss.",
}

PARAM_HINTS = {
    "loss": "Check the chain of Part 5, layer by layer: one-hot inputs, rnn_forward from the given h0, "
            "the output layer, the loss.",
    "Wy": "dWy comes from the output layer's backward step, fed with the gradient of the scores.",
    "Wh": "If the checks of rnn_forward or rnn_backward above fail, fix those first. Otherwise: does "
          "rnn_forward start from the given h0, and does rnn_backward receive the output layer's dh?",
}

TBPTT_HINTS = {
    "loss": "Two usual causes. The state must be CARRIED: each window starts from the state the "
            "previous window ended in (only the gradient stops at the boundary). And the sequence's "
            "loss adds up the windows' losses.",
    "Wh": "If the checks of char_rnn_loss above fail, fix those first. Otherwise, across windows: is "
          "the state carried (each window starts from the previous window's h_last, not from h0 "
          "again), and are the windows' gradients added rather than overwritten?",
}

CLIP_HINTS = {
    "norm": "The global norm treats ALL entries of ALL gradients as one long vector.",
    "direction": "Scale every gradient by the same factor: clipping each entry on its own bends "
                 "the direction.",
    "clipped": "Clip only when the norm itself is above max_norm, and then to exactly max_norm. "
               "Compare the norm with max_norm, not its square.",
}

TRAIN_STEP_HINTS = {
    "loss": "The loss is the one computed before the update, as tbptt_gradients returns it.",
    "new_params": "Each parameter takes a step against its gradient, scaled by the learning rate, "
                  "after ALL the gradients were clipped together by their global norm.",
}

PARAM_NAMES = ("Wx", "Wh", "b", "Wy", "by")
SEQUENCE_GRADIENTS = ("dx", "dh0", "dWx", "dWh", "db")
STEP_GRADIENTS = ("dx", "dprev_h", "dWx", "dWh", "db")


def softmax_loss_and_grads(temporal_softmax_loss: Callable) -> Callable:
    """(scores, y) -> (loss, {"scores": dscores}): the learner's function as the loss checks call it."""
    def loss_and_grads(value, point):
        loss, dscores = value
        return loss, {"scores": dscores}
    return adapter(temporal_softmax_loss, lambda scores, y: ((scores, y), {}), loss_and_grads)


def char_loss_and_grads(char_rnn_loss: Callable) -> Callable:
    """(x, y, h0, **params) -> (loss, grads): char_rnn_loss as the loss checks call it."""
    return adapter(char_rnn_loss, lambda x, y, h0, **params: ((params, x, y, h0), {}), _loss_and_grads)


def tbptt_loss_and_grads(tbptt_gradients: Callable, window: int) -> Callable:
    """(x, y, h0, **params) -> (loss, grads): tbptt_gradients with its window fixed."""
    return adapter(tbptt_gradients, lambda x, y, h0, **params: ((params, x, y, h0, window), {}), _loss_and_grads)


def _loss_and_grads(value, point):
    """(loss, grads, last state) -> (loss, grads)."""
    loss, grads, _ = value
    return loss, grads
