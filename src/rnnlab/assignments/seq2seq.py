"""Assignment 6 (seq2seq): an encoder-decoder built from the learner's GRU.
Special tokens, inputs, hints and adapters of its checks.

Shapes: source ids src (N, T) and lengths src_lengths (N,); target ids tgt (N, S), ending in
END and padded with PAD, and tgt_lengths (N,) (END counted). The parameters travel as one
dict: E_src (V_src, D); the encoder's two GRU directions Wx_f (D, 3H), Wh_f (H, 3H),
bx_f, bh_f (3H,) and the same with _b; the bridge W_init (2H, H'), b_init (H',); the
decoder's E_tgt (V_tgt, D'), Wx_d (D', 3H'), Wh_d (H', 3H'), bx_d, bh_d (3H',), Wy (H', V_tgt),
by (V_tgt,).
"""

from __future__ import annotations

#: The special tokens, the first three ids of every vocabulary: PAD fills the positions past a
#: sequence's end, START is the decoder's first input, END closes every target sequence.
PAD = 0
START = 1
END = 2

import sys
from collections.abc import Callable, Mapping

import numpy as np

from ..adapters import adapter, named_like
from ..checks import CheckFailed, assert_close, call, first_sentence, fixed_array, last_failure, remember

#: The keys of the parameter dict, by part of the model, in the order the checks report them.
ENCODER_PARAMS = ("Wx_f", "Wh_f", "bx_f", "bh_f", "Wx_b", "Wh_b", "bx_b", "bh_b")
DECODER_PARAMS = ("E_tgt", "Wx_d", "Wh_d", "bx_d", "bh_d", "Wy", "by")
MODEL_PARAMS = ("E_src", *ENCODER_PARAMS, "W_init", "b_init", *DECODER_PARAMS)


# ----------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------

def _ids(shape, seed: int, low: int, high: int) -> np.ndarray:
    """Deterministic int64 ids in [low, high)."""
    return low + (np.abs(fixed_array(shape, seed)) * 1000).astype(np.int64) % (high - low)


def encoder_params(D: int, H: int, seed: int, scale: float = 0.5) -> dict[str, np.ndarray]:
    """The encoder's eight weights: Wx_f (D, 3H), Wh_f (H, 3H), bx_f, bh_f (3H,), and the same _b."""
    shapes = {"Wx": (D, 3 * H), "Wh": (H, 3 * H), "bx": (3 * H,), "bh": (3 * H,)}
    return {f"{name}_{d}": fixed_array(shapes[name], seed + 10 * j + k, scale)
            for j, d in enumerate(("f", "b")) for k, name in enumerate(shapes)}


def encoder_inputs(N: int, T: int, D: int, H: int, seed: int, scale: float = 0.5) -> dict[str, np.ndarray]:
    """Keyword arguments for the encoder checks: x (N, T, D) and the eight encoder weights."""
    return {"x": fixed_array((N, T, D), seed), **encoder_params(D, H, seed + 1, scale)}


def model_params(V_src: int, V_tgt: int, D: int, H: int, D_dec: int, H_dec: int, seed: int,
                 scale: float = 0.5) -> dict[str, np.ndarray]:
    """Every weight of the encoder-decoder, deterministic, in the layout of MODEL_PARAMS."""
    params = {"E_src": fixed_array((V_src, D), seed, 1.0), **encoder_params(D, H, seed + 1, scale),
              "W_init": fixed_array((2 * H, H_dec), seed + 30, scale), "b_init": fixed_array(H_dec, seed + 31, scale)}
    params.update(decoder_params(V_tgt, D_dec, H_dec, seed + 40, scale))
    return params


def decoder_params(V: int, D_dec: int, H_dec: int, seed: int, scale: float = 0.5) -> dict[str, np.ndarray]:
    """The decoder's seven weights: E_tgt (V, D'), Wx_d (D', 3H'), Wh_d (H', 3H'), bx_d, bh_d (3H',),
    Wy (H', V), by (V,)."""
    return {"E_tgt": fixed_array((V, D_dec), seed, 1.0), "Wx_d": fixed_array((D_dec, 3 * H_dec), seed + 1, scale),
            "Wh_d": fixed_array((H_dec, 3 * H_dec), seed + 2, scale), "bx_d": fixed_array(3 * H_dec, seed + 3, scale),
            "bh_d": fixed_array(3 * H_dec, seed + 4, scale), "Wy": fixed_array((H_dec, V), seed + 5, 1.0),
            "by": fixed_array(V, seed + 6, scale)}


def source_batch(lengths, V_src: int, seed: int, T: int | None = None) -> np.ndarray:
    """Source ids (N, T): characters (ids 3 .. V_src-1) up to each length, PAD after it."""
    lengths = np.asarray(lengths)
    T = T or int(lengths.max())
    src = _ids((len(lengths), T), seed, END + 1, V_src)
    return np.where(np.arange(T)[None, :] < lengths[:, None], src, PAD)


def target_batch(lengths, V_tgt: int, seed: int, S: int | None = None) -> np.ndarray:
    """Target ids (N, S): characters before each sequence's last position, END there, PAD after."""
    lengths = np.asarray(lengths)
    S = S or int(lengths.max())
    tgt = _ids((len(lengths), S), seed, END + 1, V_tgt)
    position = np.arange(S)[None, :]
    tgt = np.where(position == lengths[:, None] - 1, END, tgt)
    return np.where(position < lengths[:, None], tgt, PAD)


def decoder_inputs(N: int, tgt_lengths, V: int, D_dec: int, H_dec: int, seed: int,
                   score_shift: float = 0.0) -> dict[str, np.ndarray]:
    """Keyword arguments for the decoder_loss checks: h0 (N, H'), tgt (N, S), tgt_lengths (N,) and the
    decoder's seven weights. ``score_shift`` is added to the output bias by, so to every score:
    the probabilities stay the same, but at several hundred exp of a score overflows float64,
    as it does in a softmax computed without care."""
    tgt_lengths = np.asarray(tgt_lengths, dtype=np.int64)
    params = decoder_params(V, D_dec, H_dec, seed + 2)
    params["by"] = params["by"] + score_shift
    return {"h0": fixed_array((N, H_dec), seed, 0.8), "tgt": target_batch(tgt_lengths, V, seed + 1),
            "tgt_lengths": tgt_lengths, **params}


def model_inputs(src_lengths, tgt_lengths, V_src: int, V_tgt: int, D: int, H: int, D_dec: int, H_dec: int,
                 seed: int) -> dict[str, np.ndarray]:
    """Keyword arguments for the seq2seq_loss checks: src, src_lengths, tgt, tgt_lengths and every weight."""
    src_lengths = np.asarray(src_lengths, dtype=np.int64)
    tgt_lengths = np.asarray(tgt_lengths, dtype=np.int64)
    return {"src": source_batch(src_lengths, V_src, seed), "src_lengths": src_lengths,
            "tgt": target_batch(tgt_lengths, V_tgt, seed + 1), "tgt_lengths": tgt_lengths,
            **model_params(V_src, V_tgt, D, H, D_dec, H_dec, seed + 2)}


# ----------------------------------------------------------------------------
# Hints
# ----------------------------------------------------------------------------

#: The functions the learner pastes into Part 0, which everything after it is built on.
PART0 = ("gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward", "reverse_within_lengths")

STEP_HINTS = {"next_h": "Paste your gru_step_forward from Assignment 4, unchanged."}
SEQUENCE_HINTS = {"h": "Paste your gru_forward from Assignment 4, unchanged."}
REVERSE_HINTS = {"reversed": "Paste your reverse_within_lengths from Assignment 5, unchanged."}
_PASTED_BACKWARD = ("{name} is pasted from Assignment 4: paste it unchanged. If it passed there, "
                    "something was lost on the way (a line, a helper such as sigmoid); if it did "
                    "not, fix it there first, where its checks have hints for each gradient.")
STEP_GRADIENT_HINT = _PASTED_BACKWARD.format(name="gru_step_backward")
SEQUENCE_GRADIENT_HINT = _PASTED_BACKWARD.format(name="gru_backward")

ENCODER_HINTS = {
    "states": "states[:, t, :H] is the forward GRU's state, states[:, t, H:] the backward GRU's, put "
              "back in time order; the backward GRU reads each sequence from ITS OWN last step; both "
              "start from zero states; every position past a sequence's end is zero.",
    "final": "final holds the state of each direction after it has read the WHOLE sequence: the "
             "forward state at each sequence's own last step (not at T-1 when the sequence is "
             "shorter), then the backward state at the step where the backward GRU ends.",
}
ENCODER_GRADIENTS = ("dx", *[f"d{name}" for name in ENCODER_PARAMS])
_FORWARD_DIRECTION = ("The forward GRU receives the first half of dstates and the first half of dfinal, "
                      "at the step where final's forward half was taken.")
_BACKWARD_DIRECTION = ("The backward GRU receives the second half of dstates and of dfinal, in its own "
                       "(reversed within lengths) time order: where does final's backward half sit in it?")
ENCODER_GRADIENT_HINTS = {
    "dx": "x feeds both directions: dx adds the two directions' input gradients, the backward one put "
          "back in time order. Nothing flows into the padding.",
    **{f"d{name}": _FORWARD_DIRECTION for name in ENCODER_PARAMS if name.endswith("_f")},
    **{f"d{name}": _BACKWARD_DIRECTION for name in ENCODER_PARAMS if name.endswith("_b")},
}
ENCODER_GRADIENT_HINT_ALL_WRONG = (
    "Every gradient is wrong. Do both dstates and dfinal reach the GRUs (final is a copy of two "
    "of the states, so its gradient adds to theirs), and is dstates zeroed past each end?"
)

DECODER_HINTS = {
    "loss": "Teacher forcing: at step s the decoder reads the token BEFORE the one it must predict "
            "(START at the first step), never the target itself. The loss counts only the real "
            "positions (up to and including END) and divides by their number, and the decoder "
            "starts from h0.",
    "h0": "dh0 is what gru_backward returns for the initial state, given the gradient of every "
          "decoder state from the output layer.",
    "E_tgt": "A token can appear at several positions: each position's input gradient must be ADDED "
             "to its row of dE_tgt (plain fancy-index assignment keeps only one of them).",
    "Wy": "Positions past each target's end must contribute nothing to the loss, so nothing to the "
          "gradients either.",
    "by": "Positions past each target's end must contribute nothing to the loss, so nothing to the "
          "gradients either.",
}
DECODER_HINT_ALL_WRONG = (
    "Every gradient is wrong: look at what they share. Is the gradient of the scores divided by "
    "the same count as the loss, and zero at padded positions?"
)
DECODER_GRADIENTS = ("h0", *DECODER_PARAMS)

#: The mistakes of decoder_loss that its loss value tells apart, each with the hint that names it.
#: A check cell passes the loss each one gives on its inputs (decoder_bugs): one wrong loss, many
#: possible causes, and the value says which.
DECODER_LOSS_BUGS = {
    "reads_its_target": "At each step your decoder reads the very token it must predict. Teacher "
                        "forcing feeds the token BEFORE it: START at the first step, then the "
                        "target shifted one step to the right.",
    "reads_the_next_token": "Your decoder reads the token AFTER the one it must predict (the shift "
                            "goes the wrong way): feed START first, then the target shifted one "
                            "step to the right.",
    "reads_start_only": "Your decoder reads START at every step: after the first step it must read "
                        "the previous target token (teacher forcing).",
    "counts_padding": "Your loss scores the PAD positions too: only the positions up to and "
                      "including END count, both in the sum and in the number you divide by.",
    "per_position_mean": "Your loss is divided by N*S, padded positions included: divide by the "
                         "number of real target tokens (END counted, PAD not).",
    "per_sequence_mean": "Your loss is divided by the number of sequences: divide by the number of "
                         "real target tokens (END counted, PAD not).",
    "ignores_h0": "Your decoder starts from zeros: it must start from the h0 it is given (the "
                  "encoder's summary of the source, in the whole model).",
}

#: The hint of a loss that is wrong only when the scores are large.
OVERFLOW_HINT = ("The scores here are in the hundreds, and exp of a few hundred overflows float64 "
                 "(inf, then nan). Compute the log-softmax stably, as in Assignment 2: shift each "
                 "row of scores by its own maximum first (subtract it: that changes no probability).")
LARGE_SCORE_HINTS = {**DECODER_HINTS, "loss": OVERFLOW_HINT}


def decoder_bugs(**losses: float) -> list[tuple[float, str]]:
    """``(loss, hint)`` for the named bugs of DECODER_LOSS_BUGS: the loss each bug gives on the inputs
    of one check (for ``checks.check_loss_gradients(..., wrong_losses=...)``)."""
    unknown = sorted(set(losses) - set(DECODER_LOSS_BUGS))
    if unknown:
        raise KeyError(f"no such decoder_loss bug: {', '.join(unknown)}")
    return [(float(loss), DECODER_LOSS_BUGS[name]) for name, loss in losses.items()]

MODEL_HINTS = {
    "loss": "If decoder_loss and the encoder pass their checks, look at the composition: the source "
            "embedding, encoder_forward with the source lengths, then the decoder's initial state "
            "made from the encoder's final states (not from its states at the last step).",
    "E_src": "Every source position's dx goes to its token's row of dE_src, added up over repeats.",
    "W_init": "The decoder's initial state passes through a tanh: its gradient must go back through "
              "the tanh's derivative before it reaches W_init, b_init and final.",
    "b_init": "The decoder's initial state passes through a tanh: its gradient must go back through "
              "the tanh's derivative before it reaches W_init, b_init and final.",
    **{name: "The encoder learns only through the decoder's initial state: pass the gradient of "
             "final (from dh0, through the tanh and W_init) to encoder_backward." for name in ENCODER_PARAMS},
}
MODEL_HINT_ALL_WRONG = ("Every gradient is wrong: look at what the whole model shares, the loss "
                        "normalisation and the masks. If decoder_loss passes its own check, the "
                        "composition is at fault.")

GREEDY_HINTS = {
    "first": "The first token is chosen after reading START, from the initial state made from the "
             "encoder's final states (as in seq2seq_loss).",
    "later": "At every step the decoder reads the token IT chose at the step before (the highest "
             "score), not START again and not nothing, and carries its own state forward.",
    "after_end": "Once a sequence has produced END, every later position must hold PAD.",
    "keep_end": "END itself belongs in the output: write the END a sequence chooses at its step, "
                "and PAD only at the positions after it.",
}


# ----------------------------------------------------------------------------
# Adapters and checks
# ----------------------------------------------------------------------------

def _gradient_dict(name: str, grads, keys) -> dict:
    if not isinstance(grads, Mapping):
        raise CheckFailed(f"{name} must return its parameter gradients as a dict, got {type(grads).__name__}.")
    missing = [key for key in keys if key not in grads]
    if missing:
        raise CheckFailed(f"{name} returned no gradient for {', '.join(missing)}: grads needs the "
                          "same keys as the parameters it was given.")
    return grads


def encoder_forward_with(encoder_forward: Callable, lengths) -> Callable:
    """encoder_forward(x, lengths, params) called with x and the weights as keyword arrays."""
    return adapter(encoder_forward, lambda x, **params: ((x, np.array(lengths), params), {}))


def encoder_backward_flat(encoder_backward: Callable) -> Callable:
    """encoder_backward's (dx, grads) as the flat tuple (dx, dWx_f, ..., dbh_b) the checks compare."""
    def backward(dstates, dfinal, cache):
        result = encoder_backward(dstates, dfinal, cache)
        if not isinstance(result, tuple) or len(result) != 2:
            raise CheckFailed("encoder_backward must return a tuple of 2 values (dx, grads).")
        dx, grads = result
        grads = _gradient_dict("encoder_backward", grads, ENCODER_PARAMS)
        return (dx, *[grads[key] for key in ENCODER_PARAMS])
    return named_like(backward, encoder_backward)


def decoder_loss_and_grads(decoder_loss: Callable) -> Callable:
    """(h0, tgt, tgt_lengths, **params) -> (loss, grads with dh0 under "h0"): decoder_loss as the
    loss checks call it."""
    def loss_and_grads(result, point):
        if not isinstance(result, tuple) or len(result) != 3:
            raise CheckFailed("decoder_loss must return a tuple of 3 values (loss, dh0, grads).")
        loss, dh0, grads = result
        return loss, {"h0": dh0, **_gradient_dict("decoder_loss", grads, DECODER_PARAMS)}
    return adapter(decoder_loss, lambda h0, tgt, tgt_lengths, **params: ((params, h0, tgt, tgt_lengths), {}),
                   loss_and_grads)


def seq2seq_loss_and_grads(seq2seq_loss: Callable) -> Callable:
    """(src, src_lengths, tgt, tgt_lengths, **params) -> (loss, grads): seq2seq_loss as the loss
    checks call it."""
    data = ("src", "src_lengths", "tgt", "tgt_lengths")  # the point's other arrays are params

    def arguments(src, src_lengths, tgt, tgt_lengths, **params):
        return (params, src, src_lengths, tgt, tgt_lengths), {}

    def loss_and_grads(result, point):
        if not isinstance(result, tuple) or len(result) != 2:
            raise CheckFailed("seq2seq_loss must return a tuple of 2 values (loss, grads).")
        loss, grads = result
        return loss, _gradient_dict("seq2seq_loss", grads, tuple(key for key in point if key not in data))
    return adapter(seq2seq_loss, arguments, loss_and_grads)


class after_part0:
    """``with course.after_part0():`` around a check of a function built on Part 0: when a pasted
    function failed its own check (in the Part 0 cell), a failure here opens with "Fix Part 0
    first", as a backward check says "fix the forward step first". The pasted functions are
    looked up by name where the check runs (a missing one is no verdict, not an error).
    """

    def __init__(self) -> None:
        self.namespace = sys._getframe(1).f_globals  # the notebook's (or the grader's) namespace

    def __enter__(self) -> "after_part0":
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        if not isinstance(error, CheckFailed) or str(error).startswith("Fix Part 0 first"):
            return False
        failed = [(name, verdict) for name in PART0 if name in self.namespace
                  and (verdict := last_failure(self.namespace[name])) is not None]
        if not failed:
            return False
        name, verdict = failed[0]
        raise CheckFailed(f"Fix Part 0 first: your {name} fails its own check ({verdict}). Every "
                          "function of this assignment is built on Part 0, so its checks cannot be "
                          f"trusted until Part 0 passes.\n{error}") from None


def check_reverse(reverse_within_lengths: Callable, x: np.ndarray, lengths, expected: np.ndarray) -> None:
    """reverse_within_lengths(x, lengths) equals ``expected``; the verdict is remembered for after_part0."""
    try:
        assert_close(f"reverse_within_lengths(x, {list(lengths)})",
                     call(reverse_within_lengths, np.array(x, copy=True), np.array(lengths)), expected,
                     REVERSE_HINTS["reversed"])
    except CheckFailed as error:
        remember(reverse_within_lengths, first_sentence(str(error)))
        raise
    remember(reverse_within_lengths, None)


def token_name(token: int) -> str:
    """A target id as messages name it: PAD, START and END by name, any other as "token <id>"."""
    return {PAD: "PAD", START: "START", END: "END"}.get(int(token), f"token {int(token)}")


def check_greedy(greedy_decode: Callable, inputs: Mapping[str, np.ndarray], max_length: int,
                 expected: np.ndarray, case: str | None = None) -> None:
    """greedy_decode(params, src, src_lengths, max_length) returns ``expected`` (N, max_length) ids and
    leaves its inputs unmodified. ``inputs`` holds src, src_lengths and every weight."""
    from ..checks import assert_unmodified

    on = f" (on {case})" if case else ""
    arrays = {name: np.array(value, copy=True) for name, value in inputs.items()}
    params = {name: value for name, value in arrays.items() if name not in ("src", "src_lengths")}
    ids = call(greedy_decode, params, arrays["src"], arrays["src_lengths"], max_length)
    assert_unmodified("greedy_decode", dict(inputs), {**params, "src": arrays["src"],
                                                      "src_lengths": arrays["src_lengths"]})
    expected = np.asarray(expected)
    if not isinstance(ids, np.ndarray) or ids.shape != expected.shape or not np.issubdtype(ids.dtype, np.integer):
        got = f"an array of shape {ids.shape} and dtype {ids.dtype}" if isinstance(ids, np.ndarray) \
            else type(ids).__name__
        raise CheckFailed(f"greedy_decode must return an integer array of shape {expected.shape} "
                          f"(N, max_length){on}; it returned {got}.")
    wrong = np.argwhere(ids != expected)
    if len(wrong) == 0:
        return
    n, s = (int(i) for i in wrong[0])
    want, got = int(expected[n, s]), int(ids[n, s])
    ended = s > 0 and END in expected[n, :s]
    if ended:
        hint = GREEDY_HINTS["after_end"]
    elif want == END and got == PAD:
        hint = GREEDY_HINTS["keep_end"]
    elif s == 0:
        hint = GREEDY_HINTS["first"]
    else:
        hint = GREEDY_HINTS["later"]
    before = " (the steps before it are right)" if s > 0 else ""
    raise CheckFailed(f"greedy_decode: ids is wrong{on}.\nHint: {hint}\n"
                      f"  {len(wrong)} of {ids.size} tokens differ; the first in sequence {n} at step "
                      f"{s}: expected {token_name(want)}, got {token_name(got)}{before}.")


#: The gradients of the pasted GRU functions, in the order they return them.
STEP_GRADIENTS = ("dx", "dprev_h", "dWx", "dWh", "dbx", "dbh")
SEQUENCE_GRADIENTS = ("dx", "dh0", "dWx", "dWh", "dbx", "dbh")


def greedy_inputs(src_lengths, V_src: int, V_tgt: int, D: int, H: int, D_dec: int, H_dec: int, seed: int,
                  end_bias: float = 0.0) -> dict[str, np.ndarray]:
    """Keyword arrays for the greedy_decode checks: src, src_lengths and every weight, with ``end_bias``
    added to the score of END (so that some sequences end before max_length)."""
    src_lengths = np.asarray(src_lengths, dtype=np.int64)
    params = model_params(V_src, V_tgt, D, H, D_dec, H_dec, seed + 2, scale=1.0)
    params["W_init"] = 3.0 * params["W_init"]    # the source decides much of the output
    params["Wy"] = 3.0 * params["Wy"]            # and the scores differ clearly: no near-ties
    params["by"][[PAD, START]] = -10.0           # never chosen, as in a trained model
    params["by"][END] += end_bias
    return {"src": source_batch(src_lengths, V_src, seed), "src_lengths": src_lengths, **params}
