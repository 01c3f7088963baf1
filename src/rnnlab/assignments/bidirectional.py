"""Assignment 5 (bidirectional): bidirectional and stacked RNNs, padded batches.
Inputs, hints and adapters of its checks.

Shapes: x (N, T, D); each direction's h0 (N, H), Wx (D, H), Wh (H, H), b (H,);
h (N, T, 2H); lengths (N,) ints; a stack of L layers of sizes H_0 ... H_{L-1}.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..adapters import adapter, named_like
from ..checks import fixed_array


def birnn_inputs(N: int, T: int, D: int, H: int, seed: int, scale: float = 0.5) -> dict[str, np.ndarray]:
    """Deterministic keyword arguments for birnn_forward (without lengths)."""
    return {
        "x": fixed_array((N, T, D), seed),
        "h0_f": fixed_array((N, H), seed + 1),
        "h0_b": fixed_array((N, H), seed + 2),
        "Wx_f": fixed_array((D, H), seed + 3, scale),
        "Wh_f": fixed_array((H, H), seed + 4, scale),
        "b_f": fixed_array(H, seed + 5, scale),
        "Wx_b": fixed_array((D, H), seed + 6, scale),
        "Wh_b": fixed_array((H, H), seed + 7, scale),
        "b_b": fixed_array(H, seed + 8, scale),
    }


def stacked_inputs(N: int, T: int, D: int, sizes: Sequence[int], seed: int, scale: float = 0.5) -> dict[str, np.ndarray]:
    """Deterministic inputs for a stack of len(sizes) layers, flattened into named arrays:
    x (N, T, D); for each layer l: h0_l (N, sizes[l]), Wx_l, Wh_l, b_l."""
    inputs = {"x": fixed_array((N, T, D), seed)}
    below = D
    for l, H in enumerate(sizes):
        s = seed + 10 * (l + 1)
        inputs[f"h0_{l}"] = fixed_array((N, H), s)
        inputs[f"Wx_{l}"] = fixed_array((below, H), s + 1, scale)
        inputs[f"Wh_{l}"] = fixed_array((H, H), s + 2, scale)
        inputs[f"b_{l}"] = fixed_array(H, s + 3, scale)
        below = H
    return inputs


STEP_HINTS = {"next_h": "Paste your rnn_step_forward from Assignment 1, unchanged."}
SEQUENCE_HINTS = {"h": "Paste your rnn_forward from Assignment 2, unchanged."}

REVERSE_HINTS = {
    "reversed": "Each row is reversed within ITS OWN length; the positions past its end stay where "
                "they are. Reversing the whole padded row puts the padding first.",
}
BIRNN_HINTS = {
    "h": "h[:, t, :H] is the forward RNN's state after x_0..x_t; h[:, t, H:] is the BACKWARD RNN's "
         "state after x_{T-1}..x_t, so it must be put back in the original time order, and h0_b "
         "enters at the last step. With lengths, both halves are zero past each sequence's end.",
}
_BACKWARD_HALF = ("The backward RNN must receive the SECOND half of dh, reversed (within each length) "
                  "like its outputs.")
_FORWARD_HALF = "The forward RNN receives the FIRST half of dh, dh[:, :, :H], in its own time order."
BIRNN_GRADIENT_HINTS = {
    "dx": "x feeds both directions: dx is the sum of both, the backward direction's put back in "
          "time order.",
    "dh0_b": "dh0_b is the dh0 of the RNN that reads the reversed sequence.",
    "dWx_b": _BACKWARD_HALF, "dWh_b": _BACKWARD_HALF, "db_b": _BACKWARD_HALF,
    "dWx_f": _FORWARD_HALF, "dWh_f": _FORWARD_HALF, "db_f": _FORWARD_HALF,
}
BIRNN_GRADIENT_HINT_ALL_WRONG = (
    "Every gradient is wrong. Are the halves of dh sent to the right directions (first half "
    "forward, second half backward, reversed within lengths), and, with lengths, is dh zeroed past "
    "each sequence's end?"
)
STACKED_HINTS = {
    "h": "Layer 0 reads x; every layer above reads the hidden states of the layer below; return the "
         "top layer's states.",
}
STACKED_GRADIENT_HINTS = {
    "dx": "Going down the stack, the dx that a layer's rnn_backward returns is the upstream gradient "
          "(dh) of the layer below; the bottom layer's dx is the answer.",
}
BIRNN_GRADIENTS = ("dx", "dh0_f", "dh0_b", "dWx_f", "dWh_f", "db_f", "dWx_b", "dWh_b", "db_b")


def birnn_forward_with(birnn_forward: Callable, lengths) -> Callable:
    """birnn_forward with its lengths fixed (None: every sequence full length), so the checks
    can differentiate it with respect to the arrays alone."""
    return adapter(birnn_forward, lambda **arrays: ((), {**arrays, "lengths": lengths}))


def stacked_forward_flat(stacked_rnn_forward: Callable) -> Callable:
    """stacked_rnn_forward called with the flattened names of stacked_inputs (x, h0_0, Wx_0, ...)."""
    def arguments(x, **named):
        L = sum(name.startswith("h0_") for name in named)
        return (x, [named[f"h0_{l}"] for l in range(L)],
                [(named[f"Wx_{l}"], named[f"Wh_{l}"], named[f"b_{l}"]) for l in range(L)]), {}
    return adapter(stacked_rnn_forward, arguments)


def stacked_backward_flat(stacked_rnn_backward: Callable) -> Callable:
    """stacked_rnn_backward's results flattened in the order of stacked_gradient_names."""
    def backward(dh, cache):
        dx, dh0s, dparams = stacked_rnn_backward(dh, cache)
        return (dx, *dh0s, *[gradient for layer in dparams for gradient in layer])
    return named_like(backward, stacked_rnn_backward)


_PARAMETERS = ("Wx", "Wh", "b")


def stacked_gradient_names(L: int) -> tuple[str, ...]:
    """The names the flattened stacked gradients are checked under (dx, dh0_0, ..., dWx_0, ...)."""
    return ("dx", *[f"dh0_{l}" for l in range(L)], *[f"d{p}_{l}" for l in range(L) for p in _PARAMETERS])


def stacked_labels(L: int) -> dict[str, str]:
    """How the messages name the flattened gradients: as stacked_rnn_backward returns them."""
    labels = {f"dh0_{l}": f"dh0s[{l}]" for l in range(L)}
    labels.update({f"d{p}_{l}": f"dparams[{l}][{k}]" for l in range(L) for k, p in enumerate(_PARAMETERS)})
    return labels
