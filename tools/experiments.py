"""The character language model the chapters train, built from the reference implementations.

The chapters' experiments need pieces that are graded in an assignment: the loss of
a character language model is ``char_rnn_loss`` of ``bptt``. Printed in a chapter,
even with its recurrent layer renamed, it would hand that answer to everyone one
chapter ahead. So the chapters import these builders instead, and only their results
reach the website. Nothing in ``tools`` is distributed to learners.

- ``language_model_loss`` (here): a character language model with any recurrent layer
  (with ``lstm_last_cell``, the LSTM's model carries its cell state too);
- ``tools.recall``: the delayed-recall experiment of *Remembering across long delays*;
- ``tools.encoder_decoder``: the encoder-decoder of *Sequence to sequence*;
- ``tools.attention``: the same with additive attention (that chapter's last section);
- ``tools.training``: the optimiser they share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from autograder.course.reference import load_reference


def language_model_loss(layer_forward: Callable, layer_backward: Callable,
                        layer_parameters: Sequence[str] = ("Wx", "Wh", "b"),
                        last_cell: Callable | None = None) -> Callable:
    """The loss of a character language model whose recurrent layer is any of the course's.

    Parameters
    ----------
    layer_forward, layer_backward : callable
        ``layer_forward(x, h0, *weights) -> (h, cache)`` with x (N, T, V), h0 (N, H),
        h (N, T, H); ``layer_backward(dh, cache) -> (dx, dh0, *dweights)``
        (``rnn_forward``, ``lstm_forward``, ``gru_forward`` and their backwards).
    layer_parameters : names of the layer's weights in ``params``, in the order the layer takes them.
    last_cell : callable, optional
        For a layer with a cell state (the LSTM): ``last_cell(cache) -> c_T`` (N, H), the cell
        state after the last step, read from the layer's cache (``lstm_last_cell``). The layer is
        then called as ``layer_forward(x, h0, *weights, c0)``, and the state carried from one
        window to the next is the pair ``(h, c)``: the LSTM keeps its whole memory across windows,
        as the vanilla RNN and the GRU do with theirs, h.

    Returns
    -------
    ``loss(params, x, y, state) -> (loss, grads, state_last)``: x, y (N, T) character ids,
    params the layer's weights and Wy (H, V), by (V,); the loss is summed over the
    window and averaged over the batch; grads has the keys of params. ``state`` is h0 (N, H)
    and ``state_last`` h_T (N, H); with ``last_cell``, ``state_last`` is the pair (h_T, c_T), and
    ``state`` may be such a pair or h0 alone (then c0 is zero). As in truncated backpropagation
    through time, no gradient goes back into the state a window starts from.
    """
    bptt = load_reference("bptt")

    def loss(params, x, y, state):
        vocabulary = params["Wy"].shape[1]
        weights = [params[name] for name in layer_parameters]
        if last_cell is None:
            h0, carried = state, []
        else:
            h0, c0 = state if isinstance(state, tuple) else (state, None)
            carried = [c0]
        states, layer_cache = layer_forward(bptt.one_hot(x, vocabulary), h0, *weights, *carried)
        scores, output_cache = bptt.temporal_affine_forward(states, params["Wy"], params["by"])
        value, dscores = bptt.temporal_softmax_loss(scores, y)
        dstates, dWy, dby = bptt.temporal_affine_backward(dscores, output_cache)
        layer_gradients = layer_backward(dstates, layer_cache)[2:]
        grads = dict(zip(layer_parameters, layer_gradients), Wy=dWy, by=dby)
        h_last = states[:, -1]
        return value, grads, h_last if last_cell is None else (h_last, last_cell(layer_cache))

    return loss


def lstm_last_cell(cache) -> np.ndarray:
    """The cell state c_T (N, H) after the last step, read from the cache of the reference
    ``lstm_forward`` (a list of its steps' caches). Only for the reference: a learner's cache
    may hold anything."""
    _, _, prev_c, _, _, i, f, _, g, _ = cache[-1]
    return f * prev_c + i * g
