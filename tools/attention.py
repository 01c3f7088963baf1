"""The encoder-decoder with additive (Bahdanau) attention of the chapter *Sequence to sequence*.

The chapter's last section adds attention to the encoder-decoder of ``tools.encoder_decoder`` and
compares the two on string reversal, by input length. Everything but attention is the plain
model's: the reference bidirectional GRU encoder (``encoder_forward`` / ``encoder_backward`` of the
``seq2seq`` assignment), the initial state s_0 = tanh(final W_init + b_init), the decoder GRU step
(``gru_step_forward`` / ``gru_step_backward``), teacher forcing and the masked cross-entropy, and
the training loop of ``train_seq2seq`` (same batches, budget, sizes, Adam, clipping, evaluation).

At decoder step j = 1 .. S, with the previous state s_{j-1} and the encoder states h_t
(t < L, the source's length), in the course's row-vector convention::

    e_jt  = tanh(s_{j-1} W_a + h_t U_a + b_a) v        scores        (N, T)
    α_jt  = softmax over t < L of e_jt (0 for t >= L)   weights       (N, T)
    c_j   = Σ_t α_jt h_t                                context       (N, 2H)
    s_j   = GRU_d([e'(y_{j-1}), c_j], s_{j-1})          decoder state (N, H')
    o_j   = [s_j, c_j] W_y + b_y                        output scores (N, V)

Shapes: N sequences, T source positions (padded), S target positions (padded, END counted),
H units per encoder direction, H' decoder units, A attention units, D and D' the source and
target embedding sizes, V the target vocabulary.

Parameter counts at the chapter's sizes (reversal: V = 13 with the special tokens, D = D' = 16,
H = 32, H' = 64, A = 32), by ``parameter_count``: the plain model has 30,765, this one 48,045.
Every weight of the plain model is kept; the 17,280 more are the decoder GRU's input weights for
c_j (64 x 192 = 12,288), the output weights for c_j (64 x 13 = 832) and the scorer W_a, U_a, b_a,
v (64 x 32 + 64 x 32 + 32 + 32 = 4,160). Nothing here is distributed to learners.
"""

from __future__ import annotations

import functools

import numpy as np

from autograder.course.reference import load_reference
from tools.encoder_decoder import REVERSAL_LENGTHS, Seq2SeqRun, batch_ids, init_seq2seq, seq2seq_task
from tools.training import Adam

#: The weights attention adds to the plain model's (whose Wx_d and Wy it also widens).
ATTENTION_PARAMS = ("W_a", "U_a", "b_a", "v")


@functools.cache
def _ref():
    """The reference functions of the ``seq2seq`` assignment, loaded once (loading runs the notebook)."""
    return load_reference("seq2seq")


def init_attention(V_src: int, V_tgt: int, D: int, H: int, D_dec: int, H_dec: int, A: int,
                   rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Small random weights of the encoder-decoder with attention.

    The keys of ``init_seq2seq`` (with Wx_d (D' + 2H, 3H') and Wy (H' + 2H, V_tgt) widened for
    the context c_j) and the scorer's W_a (H', A), U_a (2H, A), b_a (A,), v (A,). Weights are
    scaled by 1/sqrt(fan-in), embeddings by 0.3, biases zero, as in ``init_seq2seq``.

    So that a comparison with the plain model is controlled, the weights the two share (E_src,
    E_tgt, the encoder, W_init, b_init, Wh_d and the biases) are drawn by ``init_seq2seq`` from
    ``rng`` exactly as the plain model draws them, and the new or widened ones (Wx_d, Wy, W_a,
    U_a, v) from a child generator (``rng.spawn``), which leaves ``rng``'s stream where
    ``init_seq2seq`` leaves it: trained with the same seed, both models then see the same batches.
    """
    params = init_seq2seq(V_src, V_tgt, D, H, D_dec, H_dec, rng)
    extra = rng.spawn(1)[0]

    def weights(fan_in, *shape):
        return extra.normal(0.0, 1.0 / np.sqrt(fan_in), shape)

    params.update({"Wx_d": weights(D_dec + 2 * H, D_dec + 2 * H, 3 * H_dec),
                   "Wy": weights(H_dec + 2 * H, H_dec + 2 * H, V_tgt),
                   "W_a": weights(H_dec, H_dec, A), "U_a": weights(2 * H, 2 * H, A),
                   "b_a": np.zeros(A), "v": weights(A, A)})
    return params


def parameter_count(params: dict[str, np.ndarray]) -> int:
    """The number of trained numbers in a model's weights (either model's)."""
    return int(sum(np.size(value) for value in params.values()))


# -- the three equations, one decoder step ------------------------------------------------------
#
# The scorer's tanh is the costliest part of the model (S x N x T x A of them per batch), and a
# padded batch of reversal strings is about 45 % padding; so the scorer runs on the real positions
# only, packed: P = sum_n L_n rows (n, t), t < L_n, in row order (those of np.nonzero(mask)).
# The weights alpha stay (N, T), with exact zeros at the padded positions.

def _attend(s_prev, keys, states, mask, rows, W_a, v):
    """Attention at one decoder step.

    s_prev (N, H') the decoder's previous state; keys (P, A) = h_t U_a + b_a at the P real
    positions, computed once per batch; states (N, T, 2H) the encoder's; mask (N, T) bool, True at
    the real positions t < L_n; rows (P,) the sequence n of each real position; W_a (H', A); v (A,).

    Returns the context c (N, 2H), the weights alpha (N, T) (exactly 0 at padded positions, rows
    summing to 1) and pre (P, A), the scorer's tanh at the real positions, for the backward pass.
    """
    pre = np.take(s_prev @ W_a, rows, axis=0)                     # s_{j-1} W_a, at each (n, t)
    np.tanh(pre + keys, out=pre)                                  # (P, A)
    e = np.full(mask.shape, -np.inf)                              # e_jt (N, T): -inf where padded,
    e[mask] = pre @ v                                             # so that exp gives exactly 0 there
    alpha = np.exp(e - e.max(axis=1, keepdims=True))              # the max is over real positions
    alpha /= alpha.sum(axis=1, keepdims=True)
    c = np.einsum("nt,nth->nh", alpha, states)                    # c_j = sum_t alpha_jt h_t (N, 2H)
    return c, alpha, pre


def _attend_backward(dc, s_prev, alpha, pre, states, mask, starts, W_a, v):
    """Backward pass of ``_attend``: the three equations' gradients, from the last to the first.

    dc (N, 2H) the gradient of the context; s_prev (N, H'), alpha (N, T), pre (P, A), states
    (N, T, 2H), mask (N, T), W_a (H', A) and v (A,) as in ``_attend``; starts (N,) the first packed
    row of each sequence.

    Returns ds_prev (N, H'), dkeys (P, A) (the gradient of h_t U_a + b_a), dW_a (H', A) and dv (A,).
    The context's gradient with respect to the states, alpha_jt dc_j, is left to the caller
    (summed over the steps at once).
    """
    # c_j = sum_t alpha_jt h_t:  dalpha_jt = dc_j . h_t   (and dh_t += alpha_jt dc_j, by the caller)
    dalpha = np.einsum("nth,nh->nt", states, dc)                     # (N, T)
    # alpha_j = softmax(e_j):  de_jt = alpha_jt (dalpha_jt - sum_t' alpha_jt' dalpha_jt')
    # (0 at padded positions, where alpha is 0: no gradient reaches their scores)
    de = alpha * (dalpha - np.sum(alpha * dalpha, axis=1, keepdims=True))   # (N, T)
    # e_jt = tanh(a_jt) v,  a_jt = s_{j-1} W_a + h_t U_a + b_a:
    #   dv = sum_t de_jt tanh(a_jt),  da_jt = de_jt v (1 - tanh(a_jt)^2)
    de = de[mask]                                                     # (P,), packed
    dv = de @ pre
    da = de[:, None] * v * (1.0 - pre * pre)                          # (P, A)
    da_s = np.add.reduceat(da, starts, axis=0)                        # (N, A): s_{j-1} W_a, shared by every t
    return da_s @ W_a.T, da, s_prev.T @ da_s, dv


# -- the whole model ----------------------------------------------------------------------------

def _encode(params, src, src_lengths):
    """The reference encoder, s_0 and the attention keys.

    src (N, T) ids, src_lengths (N,) (each >= 1). Returns states (N, T, 2H), final (N, 2H), the
    encoder's cache, s0 (N, H') and the packing of the real positions: mask (N, T) bool, rows (P,),
    starts (N,) (see ``_attend``), and keys (P, A) = h_t U_a + b_a, precomputed once: they do not
    depend on the decoder step.
    """
    states, final, encoder_cache = _ref().encoder_forward(params["E_src"][src], src_lengths, params)
    s0 = np.tanh(final @ params["W_init"] + params["b_init"])
    lengths = np.asarray(src_lengths)
    mask = np.arange(src.shape[1])[None, :] < lengths[:, None]
    rows, starts = np.nonzero(mask)[0], np.cumsum(lengths) - lengths
    keys = states[mask] @ params["U_a"] + params["b_a"]
    return states, final, encoder_cache, s0, (mask, rows, starts, keys)


def _decoder_step(params, previous, s_prev, states, packed):
    """One decoder step: attend, then the GRU reads [e'(y_{j-1}), c_j], then the output scores.

    previous (N,) the ids read (y_{j-1}); s_prev (N, H'); states, packed as ``_encode`` returns
    them. Returns s (N, H'), c (N, 2H), scores (N, V), alpha (N, T), pre (P, A) and the GRU
    step's cache.
    """
    mask, rows, _, keys = packed
    c, alpha, pre = _attend(s_prev, keys, states, mask, rows, params["W_a"], params["v"])
    x = np.concatenate([params["E_tgt"][previous], c], axis=1)            # (N, D' + 2H)
    s, gru_cache = _ref().gru_step_forward(x, s_prev, params["Wx_d"], params["Wh_d"],
                                           params["bx_d"], params["bh_d"])
    # The output reads [s_j, c_j], not s_j alone, as in Bahdanau et al. (their output layer reads
    # c_j too): the character to copy is in c_j at the step it is written, one layer from the
    # scores, rather than only after the GRU's gates. (Measured on reversal, seeds 0 and 1, it
    # learns no faster than s_j alone, 97-99 % of strings exact after 200 updates either way; it
    # costs 2H x V = 832 weights.)
    scores = np.concatenate([s, c], axis=1) @ params["Wy"] + params["by"]
    return s, c, scores, alpha, pre, gru_cache


def attention_forward(params, src, src_lengths, inputs):
    """The model run with teacher forcing: the decoder reads ``inputs`` (N, S) ids, y_{j-1}.

    params: the dict of ``init_attention``; src (N, T) ids, PAD past each end; src_lengths (N,).
    Returns scores (N, S, V), alpha (N, S, T) and the cache of ``attention_backward``.
    """
    states, final, encoder_cache, s0, packed = _encode(params, src, src_lengths)
    N, S = inputs.shape
    s_all = np.zeros((S + 1, N, s0.shape[1]))      # s_0 .. s_S
    c_all = np.zeros((S, N, states.shape[2]))
    scores = np.zeros((N, S, params["Wy"].shape[1]))
    alpha = np.zeros((N, S, states.shape[1]))
    pres, gru_caches = [], []
    s_all[0] = s0
    for j in range(S):
        s_all[j + 1], c_all[j], scores[:, j], alpha[:, j], pre, gru_cache = _decoder_step(
            params, inputs[:, j], s_all[j], states, packed)
        pres.append(pre)
        gru_caches.append(gru_cache)
    cache = (src, inputs, states, final, encoder_cache, packed, s_all, c_all, alpha, pres, gru_caches)
    return scores, alpha, cache


def attention_backward(dscores, params, cache):
    """Backward pass of ``attention_forward``: dscores (N, S, V) -> grads (every key of params).

    The gradient reaches the encoder's states by two roads, attention (every c_j and every key
    h_t U_a) and s_0 (through final), and ``encoder_backward`` takes both.
    """
    ref = _ref()
    src, inputs, states, final, encoder_cache, packed, s_all, c_all, alpha, pres, gru_caches = cache
    mask, _, starts, _ = packed
    N, S, V = dscores.shape
    H_dec, H2 = s_all.shape[2], states.shape[2]
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    # o_j = [s_j, c_j] W_y + b_y
    read = np.concatenate([s_all[1:], c_all], axis=2)                     # (S, N, H' + 2H)
    dscores_s = dscores.transpose(1, 0, 2)                                # (S, N, V)
    grads["Wy"] = read.reshape(S * N, -1).T @ dscores_s.reshape(S * N, V)
    grads["by"] = dscores.sum(axis=(0, 1))
    dread = dscores_s @ params["Wy"].T                                    # (S, N, H' + 2H)
    ds_out, dc_all = dread[:, :, :H_dec], dread[:, :, H_dec:]
    dkeys = np.zeros_like(pres[0])                                        # (P, A)
    dx_all = np.zeros((S, N, params["Wx_d"].shape[0]))
    ds = np.zeros((N, H_dec))                                             # from step j + 1
    for j in reversed(range(S)):
        # s_j = GRU_d([e'(y_{j-1}), c_j], s_{j-1}): the reference step's backward
        dx, ds, dWx, dWh, dbx, dbh = ref.gru_step_backward(ds + ds_out[j], gru_caches[j])
        grads["Wx_d"] += dWx
        grads["Wh_d"] += dWh
        grads["bx_d"] += dbx
        grads["bh_d"] += dbh
        dx_all[j] = dx
        # c_j feeds the GRU and the output: attention's backward from the sum of their gradients
        dc_all[j] += dx[:, -H2:]
        ds_att, dkeys_j, dW_a, dv = _attend_backward(dc_all[j], s_all[j], alpha[:, j], pres[j], states,
                                                     mask, starts, params["W_a"], params["v"])
        ds += ds_att                                                      # s_{j-1} also scored step j
        dkeys += dkeys_j
        grads["W_a"] += dW_a
        grads["v"] += dv
    # the embeddings read: every y_{j-1}, repeated ids adding up
    np.add.at(grads["E_tgt"], inputs.T, dx_all[:, :, :-H2])
    # c_j = sum_t alpha_jt h_t, every step at once: dh_t = sum_j alpha_jt dc_j
    dstates = alpha.transpose(0, 2, 1) @ dc_all.transpose(1, 0, 2)       # (N, T, 2H)
    # keys = h_t U_a + b_a (computed once, so their gradient was summed over the steps first)
    grads["U_a"] = states[mask].T @ dkeys
    grads["b_a"] = dkeys.sum(axis=0)
    dstates[mask] += dkeys @ params["U_a"].T
    # s_0 = tanh(final W_init + b_init)
    da0 = ds * (1.0 - s_all[0] ** 2)
    grads["W_init"], grads["b_init"] = final.T @ da0, da0.sum(axis=0)
    # the encoder: states (through attention) and final (through s_0)
    dx_src, encoder_grads = ref.encoder_backward(dstates, da0 @ params["W_init"].T, encoder_cache)
    grads.update(encoder_grads)
    np.add.at(grads["E_src"], src, dx_src)
    return grads


def attention_loss(params, src, src_lengths, tgt, tgt_lengths):
    """The loss of the model with attention, trained with teacher forcing, and every gradient.

    params: the dict of ``init_attention``; src (N, T) ids, PAD past each end; src_lengths (N,);
    tgt (N, S) ids ending in END, PAD after; tgt_lengths (N,) (END counted). The loss is the plain
    model's: the cross-entropy of every real target token (END counted, PAD not), averaged.

    Returns (loss, grads), grads with the keys and shapes of params.
    """
    from rnnlab.assignments.seq2seq import START

    N, S = tgt.shape
    inputs = np.concatenate([np.full((N, 1), START), tgt[:, :-1]], axis=1)    # shifted right
    scores, _, cache = attention_forward(params, src, src_lengths, inputs)
    mask = (np.arange(S)[None, :] < np.asarray(tgt_lengths)[:, None]).astype(np.float64)
    count = mask.sum()
    shifted = scores - scores.max(axis=2, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    picked = np.take_along_axis(log_p, tgt[:, :, None], axis=2)[:, :, 0]       # (N, S)
    loss = -np.sum(picked * mask) / count
    dscores = np.exp(log_p)
    dscores[np.arange(N)[:, None], np.arange(S)[None, :], tgt] -= 1.0
    dscores *= mask[:, :, None] / count
    return float(loss), attention_backward(dscores, params, cache)


# -- decoding and training ----------------------------------------------------------------------

def _greedy(params, src, src_lengths, max_length):
    """Greedy decoding, as the graded ``greedy_decode``: ids (N, max_length), PAD after each END,
    and the attention weights of every step, alpha (N, max_length, T)."""
    from rnnlab.assignments.seq2seq import END, PAD, START

    states, _, _, s, packed = _encode(params, src, src_lengths)
    N = src.shape[0]
    ids, finished = np.full((N, max_length), PAD), np.zeros(N, dtype=bool)
    alpha = np.zeros((N, max_length, src.shape[1]))
    previous = np.full(N, START)
    for j in range(max_length):
        s, _, scores, alpha[:, j], _, _ = _decoder_step(params, previous, s, states, packed)
        previous = scores.argmax(axis=1)
        ids[:, j] = np.where(finished, PAD, previous)
        finished |= previous == END
    return ids, alpha


def _max_length(task, max_length):
    return max_length or (11 if task == "dates" else REVERSAL_LENGTHS[1] + 1)


def translate_attention(task: str, params: dict, sources: list[str], max_length: int | None = None) -> list[str]:
    """Decode ``sources`` greedily with the trained weights (at most ``max_length`` tokens, by
    default the task's longest target with END)."""
    from rnnlab.tasks import decode, encode

    source_alphabet, target_alphabet, _ = seq2seq_task(task)
    src, src_lengths = encode(sources, source_alphabet)
    ids, _ = _greedy(params, src, src_lengths, _max_length(task, max_length))
    return decode(ids, target_alphabet)


def attention_weights(task: str, params: dict, source: str, max_length: int | None = None):
    """What the model reads while writing: (output, alpha) for one ``source`` string.

    output is the greedy translation; alpha (S_out, L) holds the weights α_jt of each decoded
    token (a row per character of output, and one more for the token that ended it, END, unless
    decoding stopped at ``max_length``) over the L characters of the source. Rows sum to 1.
    """
    from rnnlab.assignments.seq2seq import END, PAD
    from rnnlab.tasks import decode, encode

    source_alphabet, target_alphabet, _ = seq2seq_task(task)
    src, src_lengths = encode([source], source_alphabet)
    ids, alpha = _greedy(params, src, src_lengths, _max_length(task, max_length))
    stops = np.flatnonzero((ids[0] == END) | (ids[0] == PAD))
    rows = stops[0] + 1 if stops.size else ids.shape[1]
    return decode(ids, target_alphabet)[0], alpha[0, :rows, :len(source)]


def train_attention(task: str = "reversal", *, updates: int = 2000, batch: int = 64, D: int = 16, H: int = 32,
                    H_dec: int = 64, A: int = 32, learning_rate: float = 3e-3, max_norm: float = 5.0,
                    seed: int = 0, every: int = 100, validation: int = 500) -> Seq2SeqRun:
    """Train the model with attention as ``train_seq2seq`` trains the plain one: the same fresh
    batches (same seed, same stream), sizes, Adam, clipping by global norm, and evaluation (the
    exact-match accuracy of greedy decoding on the same ``validation`` pairs every ``every``
    updates). Only attention differs (and its A units).

    An update costs about 1.4 to 1.7 times the plain model's on one core (the scorer's tanh at
    every step and real source position, S x P x A of them, is the largest extra); on reversal
    the model decodes 97 to 99 % of the validation strings exactly after 200 updates (seeds 0, 1).
    """
    import time

    clip = load_reference("bptt").clip_by_global_norm
    source_alphabet, target_alphabet, make = seq2seq_task(task)
    rng = np.random.default_rng(seed)
    params = init_attention(len(source_alphabet) + 3, len(target_alphabet) + 3, D, H, D, H_dec, A, rng)
    sources, targets = make(np.random.default_rng(seed + 10_000), validation)
    adam = Adam(params, learning_rate)
    run, start = Seq2SeqRun(task), time.perf_counter()
    for step in range(1, updates + 1):
        loss, grads = attention_loss(params, *batch_ids(task, *make(rng, batch)))
        grads, _ = clip(grads, max_norm)
        adam.step(grads)
        run.losses.append(loss)
        if step % every == 0:
            run.evaluate(step, translate_attention(task, params, sources), targets)
    run.params, run.seconds = params, time.perf_counter() - start
    return run
