"""The drawings of the chapter on bidirectional and stacked RNNs draw without error, with the expected parts."""

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from rnnlab.diagrams import COLORS
from rnnlab.diagrams import bidirectional as bd

from diagram_helpers import _assert_texts_readable, _positions, _render, _texts


def _patches(fig: Figure, kind) -> list:
    return [p for ax in fig.axes for p in ax.patches if isinstance(p, kind)]


def _filled_with(patches, colour) -> int:
    rgb = matplotlib.colors.to_rgb(colour)
    return sum(p.get_facecolor()[:3] == rgb for p in patches)


def _step_names(steps: int) -> list[str]:
    """The column labels of a drawing over ``steps`` steps: 1, 2, ... and, after an ellipsis, T."""
    return [str(t) for t in range(1, steps + 1)] if steps <= 3 else [str(t) for t in range(1, steps)] + ["T"]


@pytest.mark.parametrize("steps", [1, 3, 5])
def test_birnn_has_two_directions_and_concatenated_outputs(steps):
    fig = bd.draw_birnn(steps)
    _render(fig)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    boxes = _patches(fig, FancyBboxPatch)
    # inputs, forward states (+ h0_f), backward states (+ h0_b)
    assert len(boxes) == 3 * steps + 2
    assert _filled_with(boxes, COLORS["input"]) == steps
    assert _filled_with(boxes, bd.DIRECTION_COLORS["forward"][0]) == steps + 1
    assert _filled_with(boxes, bd.DIRECTION_COLORS["backward"][0]) == steps + 1
    # each output: two halves and an outline
    assert len(_patches(fig, Rectangle)) == 3 * steps
    # per step: 2 from the input, 2 into the output; 2 recurrent per step after the first; 2 from h0;
    # with more than three steps, the two recurrent arrows into the last step cross an ellipsis in two pieces
    assert len(_patches(fig, FancyArrowPatch)) == 4 * steps + 2 * (steps - 1) + 2 + 2 * (steps > 3)
    texts = _texts(fig)
    last = _step_names(steps)[-1]
    assert "$x_{1}$" in texts and f"$x_{{{last}}}$" in texts
    assert r"$\overleftarrow{h}_{1}$" in texts
    assert f"enters at $t = {last}$" in texts
    assert any("h[:, t-1, H:]" in t for t in texts)


def test_birnn_backward_initial_state_feeds_the_last_step():
    fig = bd.draw_birnn(4)
    ax = fig.axes[0]
    boxes = {t.get_text(): (t.get_position()) for t in ax.texts}
    h0_b, last_backward = boxes[r"$\overleftarrow{h}_{T+1}$"], boxes[r"$\overleftarrow{h}_{T}$"]
    first_backward = boxes[r"$\overleftarrow{h}_{1}$"]
    assert h0_b[0] > last_backward[0] > first_backward[0]
    h0_f, first_forward = boxes[r"$\overrightarrow{h}_{0}$"], boxes[r"$\overrightarrow{h}_{1}$"]
    assert h0_f[0] < first_forward[0]


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_birnn_numbers_steps_from_one_and_names_the_initial_states(steps):
    fig = bd.draw_birnn(steps)
    ax = fig.axes[0]
    texts = _texts(fig)
    # steps 1..T as in the equations, every one drawn
    for t in range(1, steps + 1):
        for label in [f"$x_{{{t}}}$", rf"$\overrightarrow{{h}}_{{{t}}}$", rf"$\overleftarrow{{h}}_{{{t}}}$"]:
            assert label in texts, label
    assert "$x_{0}$" not in texts and r"$\overleftarrow{h}_{0}$" not in texts
    assert not _positions(ax, r"$\cdots$")
    # the initial states: forward h_0 at the left, backward h_{T+1} at the right, entering at the last step
    assert not any("h_0^" in t for t in texts)
    (x_h0_f, _), = _positions(ax, r"$\overrightarrow{h}_{0}$")
    (x_h0_b, _), = _positions(ax, rf"$\overleftarrow{{h}}_{{{steps + 1}}}$")
    columns = [x for t in range(1, steps + 1) for x, _ in _positions(ax, f"$x_{{{t}}}$")]
    assert x_h0_f < min(columns) and x_h0_b > max(columns)
    assert "enters at $t = 1$" in texts and f"enters at $t = {steps}$" in texts
    assert any("reads $x_1, x_2" in t for t in texts) and any("reads $x_T, x_{T-1}" in t for t in texts)
    assert any("h[:, t-1, :H]" in t for t in texts)
    _assert_texts_readable(fig)


@pytest.mark.parametrize("steps", [4, 6])
def test_birnn_sets_the_last_step_apart_with_an_ellipsis(steps):
    fig = bd.draw_birnn(steps)
    ax = fig.axes[0]
    texts = _texts(fig)
    # columns 1..steps-1, then an ellipsis, then T; the backward initial state is h_{T+1}
    for row in ["x", r"\overrightarrow{h}", r"\overleftarrow{h}"]:
        for t in range(1, steps):
            assert f"${row}_{{{t}}}$" in texts
        assert f"${row}_{{{steps}}}$" not in texts and f"${row}_{{T}}$" in texts
    assert r"$\overleftarrow{h}_{T+1}$" in texts and r"$\overrightarrow{h}_{0}$" in texts
    assert "enters at $t = T$" in texts
    # one ellipsis per row (inputs, forward, backward, outputs), between column steps-1 and column T
    ellipses = _positions(ax, r"$\cdots$")
    assert len(ellipses) == 4
    (x_before, _), = _positions(ax, f"$x_{{{steps - 1}}}$")
    (x_last, _), = _positions(ax, "$x_{T}$")
    assert all(x_before < x < x_last for x, _ in ellipses)
    (x_h0_b, _), = _positions(ax, r"$\overleftarrow{h}_{T+1}$")
    assert x_h0_b > x_last
    _assert_texts_readable(fig)


def test_birnn_rejects_zero_steps_and_draws_on_a_given_axes():
    with pytest.raises(ValueError):
        bd.draw_birnn(0)
    fig, ax = plt.subplots()
    assert bd.draw_birnn(2, ax=ax) is fig


@pytest.mark.parametrize("layers, steps", [(1, 2), (2, 4), (3, 3)])
def test_stacked_birnn_has_two_rows_per_layer(layers, steps):
    fig = bd.draw_stacked_birnn(layers, steps)
    _render(fig)
    boxes = _patches(fig, FancyBboxPatch)
    assert len(boxes) == steps + 2 * layers * steps
    assert _filled_with(boxes, bd.DIRECTION_COLORS["backward"][0]) == layers * steps
    # each layer: 4 arrows per step, 2 recurrent per step after the first (in two pieces across an ellipsis)
    assert len(_patches(fig, FancyArrowPatch)) == layers * (4 * steps + 2 * (steps - 1) + 2 * (steps > 3))
    texts = _texts(fig)
    for layer in range(1, layers + 1):
        assert f"layer {layer}" in texts
    assert "outputs" in texts


@pytest.mark.parametrize("layers, steps", [(1, 3), (2, 4), (1, 6)])
def test_stacked_birnn_numbers_steps_from_one(layers, steps):
    fig = bd.draw_stacked_birnn(layers, steps)
    ax = fig.axes[0]
    texts = _texts(fig)
    names = _step_names(steps)
    headers = [f"$t = {name}$" for name in names]
    inputs = [f"$x_{{{name}}}$" for name in names]
    for label in headers + inputs:
        assert label in texts, label
    assert "$t = 0$" not in texts and "$x_{0}$" not in texts
    # with more than three steps: an ellipsis in every row (inputs, and 3 per layer) before the column of T
    ellipses = _positions(ax, r"$\cdots$")
    assert len(ellipses) == (1 + 3 * layers if steps > 3 else 0)
    if steps > 3:
        assert f"$t = {steps}$" not in texts
        (x_before, _), = _positions(ax, inputs[-2])
        (x_last, _), = _positions(ax, "$t = T$")
        assert all(x_before < x < x_last for x, _ in ellipses)
    _assert_texts_readable(fig)


def test_stacked_birnn_rejects_empty_stacks():
    with pytest.raises(ValueError):
        bd.draw_stacked_birnn(0, 3)


def test_padded_batch_marks_the_padding_read_first_only_when_the_row_is_reversed():
    sequences = [("a", "b", "c", "d"), ("e", "f"), ("g",)]
    fig = bd.draw_padded_batch(sequences)
    _render(fig)
    assert len(fig.axes) == 2
    wrong, right = fig.axes
    assert "wrong" in wrong.get_title() and "right" in right.get_title()
    red = matplotlib.colors.to_rgb(COLORS["grad"])
    for ax, expected in [(wrong, 0 + 2 + 3), (right, 0)]:
        cells = [p for p in ax.patches if isinstance(p, Rectangle)]
        assert len(cells) == 3 * 4
        assert sum(p.get_edgecolor()[:3] == red for p in cells) == expected
        assert sum(t.get_text() == "pad" for t in ax.texts) == 5
    # one arrow per row in each panel; it starts at column T-1 (wrong) or at L-1 (right)
    starts = [[p._posA_posB[0][0] for p in ax.patches if isinstance(p, FancyArrowPatch)] for ax in fig.axes]
    assert len(starts[0]) == len(starts[1]) == 3
    assert len(set(starts[0])) == 1
    assert starts[1][0] > starts[1][1] > starts[1][2]


def test_padded_batch_says_where_the_backward_initial_state_enters_in_one_based_steps():
    fig = bd.draw_padded_batch()
    wrong, right = fig.axes
    texts = _texts(fig)
    assert not any("h_0" in t for t in texts)
    # whole row reversed: at the last column, step T; within lengths: at each sequence's step L_n
    assert any("backward initial state enters" in t.get_text() and "$t = T$" in t.get_text() for t in wrong.texts)
    assert any("backward initial state enters" in t.get_text() and "$t = L_n$" in t.get_text()
               for t in right.texts)
    _assert_texts_readable(fig)


def test_padded_batch_validates_its_input():
    with pytest.raises(ValueError):
        bd.draw_padded_batch([("a",), ()])
    with pytest.raises(ValueError):
        bd.draw_padded_batch([("a", "b", "c")], T=2)
    fig = bd.draw_padded_batch([("a", "b")], T=4)
    assert sum(t.get_text() == "pad" for t in fig.axes[0].texts) == 2


def test_figures_have_white_backgrounds():
    for fig in [bd.draw_birnn(), bd.draw_stacked_birnn(), bd.draw_padded_batch()]:
        assert matplotlib.colors.to_hex(fig.get_facecolor()) == "#ffffff"
