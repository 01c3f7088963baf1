"""The drawings of the chapter on the GRU (rnnlab.diagrams.gru) draw without error, with the expected parts."""

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from rnnlab import diagrams

from diagram_helpers import _assert_texts_readable, _count, _dashed_red_arrows, _positions, _render, _texts


@pytest.mark.parametrize("show_gradients", [False, True])
def test_gru_cell_has_two_gates_a_candidate_and_no_cell_state(show_gradients):
    fig = diagrams.draw_gru_cell(show_gradients)
    _render(fig)
    assert len(fig.axes) == 1
    # h_{t-1}, x_t, h_t, the two gates, the two sides of the candidate and its tanh
    assert _count(fig, FancyBboxPatch) == 8
    # keep x, +, reset x, candidate +, 1 -, write x; plus seven junction dots
    assert _count(fig, Circle) == 6 + 7
    texts = _texts(fig)
    assert texts.count(r"$\sigma$") == 2 and r"$\tanh$" in texts
    for label in ["$h_{t-1}$", "$x_t$", "$h_t$", "$r$", "$z$", "$n$", "$1 - z$", r"$W_{hn}, b_{hn}$", r"$W_{xn}, b_{xn}$"]:
        assert label in texts, label
    assert not any("c_t" in t or "c_{t-1}" in t for t in texts), "a GRU has no cell state"
    for decides in ["update gate", "reset gate", "candidate"]:
        assert any(decides in t for t in texts), decides
    # the reset gate multiplies the hidden side after its product (the cuDNN and PyTorch form)
    assert any(r"r \odot (h_{t-1} W_{hn} + b_{hn})" in t for t in texts)
    # the gradient: one road directly along the state, one through the gates and W_h
    assert _dashed_red_arrows(fig) == (2 if show_gradients else 0)
    assert any("no matrix" in t for t in texts) == show_gradients


def test_gru_cell_draws_on_a_given_axes_with_a_white_background():
    fig, ax = plt.subplots()
    assert diagrams.draw_gru_cell(ax=ax) is fig
    assert matplotlib.colors.to_hex(diagrams.draw_gru_cell().get_facecolor()) == "#ffffff"


def test_gru_candidate_forms_draws_both_and_marks_where_they_differ():
    fig = diagrams.draw_gru_candidate_forms()
    _render(fig)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    after, before = fig.axes
    assert "after" in after.get_title() and "PyTorch" in after.get_title() and "cuDNN" in after.get_title()
    assert "before" in before.get_title() and "Cho" in before.get_title()
    texts_after = [t.get_text() for t in after.texts]
    texts_before = [t.get_text() for t in before.texts]
    assert r"$r_t \odot (h_{t-1} W_{hn} + b_{hn})$" in texts_after
    assert r"$(r_t \odot h_{t-1})\, W_{hn}$" in texts_before
    # two biases after, one before
    assert "$b_{hn}$" in texts_after and "$b_{xn}$" in texts_after and "$b_n$" not in texts_after
    assert "$b_n$" in texts_before and "$b_{hn}$" not in texts_before
    for ax in fig.axes:
        texts = [t.get_text() for t in ax.texts]
        for label in ["$h_{t-1}$", "$x_t$", "$r_t$", "$W_{hn}$", "$W_{xn}$", "$n_t$", "tanh"]:
            assert label in texts, label
        # one highlighted frame (dashed) around the hidden side
        frames = [p for p in ax.patches
                  if isinstance(p, FancyBboxPatch) and p.get_linestyle() not in ("-", "solid")]
        assert len(frames) == 1
        # a small computation graph: boxes joined by arrows
        assert sum(isinstance(p, FancyArrowPatch) for p in ax.patches) >= 10

    def hidden_side_order(ax):
        (_, y_h), = _positions(ax, "$h_{t-1}$")
        ops = [(x, t) for (x, y), t in ((t.get_position(), t.get_text()) for t in ax.texts)
               if t in (r"$\times$", r"$\odot$") and y == y_h]
        return [t for _, t in sorted(ops)]

    # the reset gate after the product with W_hn, or before it
    assert hidden_side_order(after) == [r"$\times$", r"$\odot$"]
    assert hidden_side_order(before) == [r"$\odot$", r"$\times$"]
    assert matplotlib.colors.to_hex(fig.get_facecolor()) == "#ffffff"
    _assert_texts_readable(fig)
