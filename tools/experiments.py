"""The character language model the chapters train, built from the reference implementations.

The chapters' experiments need pieces that are graded in an assignment: the loss of
a character language model is ``char_rnn_loss`` of ``bptt``. Printed in a chapter,
even with its recurrent layer renamed, it would hand that answer to everyone one
chapter ahead. So the chapters import these builders instead, and only their results
reach the website. Nothing in ``tools`` is distributed to learners.

- ``language_model_loss`` (here): a character language model with any recurrent layer;
- ``tools.recall``: the delayed-recall experiment of *Remembering across long delays*;
- ``tools.encoder_decoder``: the encoder-decoder of *Sequence to sequence*;
- ``tools.attention``: the same with additive attention (that chapter's last section);
- ``tools.training``: the optimiser they share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from autograder.course.reference import load_reference


def language_model_loss(layer_forward: Callable, layer_backward: Callable,
                        layer_parameters: Sequence[str] = ("Wx", "Wh", "b")) -> Callable:
    """The loss of a character language model whose recurrent layer is any of the course's.

    Parameters
    ----------
    layer_forward, layer_backward : callable
        ``layer_forward(x, h0, *weights) -> (h, cache)`` with x (N, T, V), h0 (N, H),
        h (N, T, H); ``layer_backward(dh, cache) -> (dx, dh0, *dweights)``
        (``rnn_forward``, ``lstm_forward``, ``gru_forward`` and their backwards).
    layer_parameters : names of the layer's weights in ``params``, in the order the layer takes them.

    Returns
    -------
    ``loss(params, x, y, h0) -> (loss, grads, h_last)``: x, y (N, T) character ids,
    params the layer's weights and Wy (H, V), by (V,); the loss is summed over the
    window and averaged over the batch; grads has the keys of params; h_last (N, H).
    """
    bptt = load_reference("bptt")

    def loss(params, x, y, h0):
        vocabulary = params["Wy"].shape[1]
        states, layer_cache = layer_forward(bptt.one_hot(x, vocabulary), h0,
                                            *(params[name] for name in layer_parameters))
        scores, output_cache = bptt.temporal_affine_forward(states, params["Wy"], params["by"])
        value, dscores = bptt.temporal_softmax_loss(scores, y)
        dstates, dWy, dby = bptt.temporal_affine_backward(dscores, output_cache)
        layer_gradients = layer_backward(dstates, layer_cache)[2:]
        grads = dict(zip(layer_parameters, layer_gradients), Wy=dWy, by=dby)
        return value, grads, states[:, -1]

    return loss
