"""Do the reference layers compute what PyTorch computes, with the weight mapping the chapters teach?

Compared with outputs and gradients recorded from torch.nn.RNN, LSTM and GRU by
tests/fixtures/make_pytorch_fixtures.py (PyTorch itself is not needed here).
Mapping: our W = PyTorch's weight.T; PyTorch's LSTM blocks are (i, f, g, o) and
ours (i, f, o, g); the RNN and LSTM add PyTorch's two biases into one; the GRU
keeps both, blocks (r, z, n) in the same order.

The capstone's encoder-decoder is compared with one built from PyTorch's own layers
(tests/fixtures/make_pytorch_seq2seq_fixture.py): a bidirectional torch.nn.GRU over a packed
batch, whose h_n is exactly the course's `final`, a GRU decoder with teacher forcing and
cross_entropy with ignore_index=PAD.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autograder.course.reference import load_reference

FIXTURES = np.load(Path(__file__).with_name("fixtures") / "pytorch_layers.npz")
X, H0, DH = FIXTURES["x"], FIXTURES["h0"], FIXTURES["dh"]
TOLERANCE = 1e-12


def torch_param(layer: str, name: str) -> np.ndarray:
    return FIXTURES[f"{layer}.{name}"]


def lstm_blocks(rows: np.ndarray) -> np.ndarray:
    """PyTorch's LSTM row blocks (i, f, g, o) -> the course's (i, f, o, g)."""
    i, f, g, o = np.split(rows, 4, axis=0)
    return np.concatenate([i, f, o, g], axis=0)


def assert_matches(name: str, ours: np.ndarray, theirs: np.ndarray) -> None:
    assert ours.shape == theirs.shape, f"{name}: shape {ours.shape} versus PyTorch's {theirs.shape}"
    assert np.max(np.abs(ours - theirs)) < TOLERANCE, f"{name} differs from PyTorch by {np.max(np.abs(ours - theirs)):.2e}"


def assert_layer_matches(layer: str, outputs: dict[str, np.ndarray], weight_grads: dict[str, np.ndarray]) -> None:
    """The sequence h and the gradients dx, dh0 against PyTorch's, then each weight gradient
    (already mapped to the course's layout) against the expected array."""
    for name in ("h", "dx", "dh0"):
        assert_matches(f"{layer} {name}", outputs[name], FIXTURES[f"{layer}.{name}"])
    for name, (ours, theirs) in weight_grads.items():
        assert_matches(f"{layer} {name}", ours, theirs)


def test_does_the_vanilla_rnn_match_torch_nn_rnn():
    ref = load_reference("bptt")
    Wx, Wh = torch_param("rnn", "weight_ih_l0").T, torch_param("rnn", "weight_hh_l0").T
    b = torch_param("rnn", "bias_ih_l0") + torch_param("rnn", "bias_hh_l0")
    h, cache = ref.rnn_forward(X, H0, Wx, Wh, b)
    dx, dh0, dWx, dWh, db = ref.rnn_backward(DH, cache)
    assert_layer_matches("rnn", {"h": h, "dx": dx, "dh0": dh0}, {
        "dWx": (dWx, torch_param("rnn", "grad_weight_ih_l0").T),
        "dWh": (dWh, torch_param("rnn", "grad_weight_hh_l0").T),
        "db": (db, torch_param("rnn", "grad_bias_ih_l0")),
    })


def test_does_the_lstm_match_torch_nn_lstm_after_reordering_the_gates():
    ref = load_reference("lstm")
    Wx = lstm_blocks(torch_param("lstm", "weight_ih_l0")).T
    Wh = lstm_blocks(torch_param("lstm", "weight_hh_l0")).T
    b = lstm_blocks(torch_param("lstm", "bias_ih_l0") + torch_param("lstm", "bias_hh_l0"))
    h, cache = ref.lstm_forward(X, H0, Wx, Wh, b)
    dx, dh0, dWx, dWh, db = ref.lstm_backward(DH, cache)
    assert_layer_matches("lstm", {"h": h, "dx": dx, "dh0": dh0}, {
        "dWx": (dWx, lstm_blocks(torch_param("lstm", "grad_weight_ih_l0")).T),
        "dWh": (dWh, lstm_blocks(torch_param("lstm", "grad_weight_hh_l0")).T),
        "db": (db, lstm_blocks(torch_param("lstm", "grad_bias_ih_l0"))),
    })


def test_does_the_gru_match_torch_nn_gru_with_the_same_blocks_and_two_biases():
    ref = load_reference("gru")
    Wx, Wh = torch_param("gru", "weight_ih_l0").T, torch_param("gru", "weight_hh_l0").T
    bx, bh = torch_param("gru", "bias_ih_l0"), torch_param("gru", "bias_hh_l0")
    h, cache = ref.gru_forward(X, H0, Wx, Wh, bx, bh)
    dx, dh0, dWx, dWh, dbx, dbh = ref.gru_backward(DH, cache)
    assert_layer_matches("gru", {"h": h, "dx": dx, "dh0": dh0}, {
        "dWx": (dWx, torch_param("gru", "grad_weight_ih_l0").T),
        "dWh": (dWh, torch_param("gru", "grad_weight_hh_l0").T),
        "dbx": (dbx, torch_param("gru", "grad_bias_ih_l0")),
        "dbh": (dbh, torch_param("gru", "grad_bias_hh_l0")),
    })


SEQ2SEQ = np.load(Path(__file__).with_name("fixtures") / "pytorch_seq2seq.npz")


def seq2seq_params() -> dict[str, np.ndarray]:
    """The weights PyTorch's encoder-decoder used, already in the course's layout (W = weight.T)."""
    return {key.removeprefix("param."): SEQ2SEQ[key] for key in SEQ2SEQ.files if key.startswith("param.")}


def test_does_the_seq2seq_encoder_match_a_packed_bidirectional_torch_gru():
    """states and final (forward at each sequence's last real step, backward at step 1) against
    torch.nn.GRU(bidirectional=True) over a packed batch, and every encoder gradient."""
    ref = load_reference("seq2seq")
    params = seq2seq_params()
    x = params["E_src"][SEQ2SEQ["src"]]
    states, final, cache = ref.encoder_forward(x, SEQ2SEQ["src_lengths"], params)
    assert_matches("encoder states", states, SEQ2SEQ["encoder.states"])
    assert_matches("encoder final", final, SEQ2SEQ["encoder.final"])
    _, grads = ref.encoder_backward(SEQ2SEQ["encoder.dstates"], SEQ2SEQ["encoder.dfinal"], cache)
    for name, grad in grads.items():
        assert_matches(f"encoder d{name}", grad, SEQ2SEQ[f"encoder.grad.{name}"])


def test_does_the_seq2seq_loss_match_torch_with_teacher_forcing_and_ignored_padding():
    """The loss and the gradient of every weight of the whole model against PyTorch's."""
    ref = load_reference("seq2seq")
    params = seq2seq_params()
    loss, grads = ref.seq2seq_loss(params, SEQ2SEQ["src"], SEQ2SEQ["src_lengths"], SEQ2SEQ["tgt"], SEQ2SEQ["tgt_lengths"])
    assert abs(loss - float(SEQ2SEQ["loss"])) < TOLERANCE, (loss, float(SEQ2SEQ["loss"]))
    assert set(grads) == set(params)
    for name, grad in grads.items():
        assert_matches(f"d{name}", grad, SEQ2SEQ[f"grad.{name}"])
