"""The drawings of the chapter on the vanilla RNN (rnnlab.diagrams.rnn) draw without error, with the expected parts."""

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

from rnnlab import diagrams

from diagram_helpers import _assert_texts_readable, _count, _positions, _render, _texts


@pytest.mark.parametrize("steps", [1, 3, 4])
def test_unrolled_rnn_has_three_boxes_per_step(steps):
    fig = diagrams.draw_unrolled_rnn(steps)
    _render(fig)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    # folded cell (3 boxes) + h0 + (x, h, y) per step
    assert _count(fig, FancyBboxPatch) == 3 + 1 + 3 * steps
    # folded: 2 arrows + loop; unrolled: 3 arrows per step, and one more into the ellipsis
    assert _count(fig, FancyArrowPatch) == 3 + 3 * steps + (steps > 3)
    texts = _texts(fig)
    assert "$h_0$" in texts
    assert ("$x_{T}$" in texts) == (steps > 3)


@pytest.mark.parametrize("steps", [1, 3, 4, 6])
def test_unrolled_rnn_sets_the_last_step_apart_with_an_ellipsis(steps):
    fig = diagrams.draw_unrolled_rnn(steps)
    _render(fig)
    ax = fig.axes[0]
    texts = _texts(fig)
    # outputs are scores, written y-hat, in the folded cell and at every step
    assert r"$\hat y_t$" in texts and r"$\hat y_{1}$" in texts
    assert not any(t.startswith("$y_") for t in texts)
    ellipses = _positions(ax, r"$\cdots$")
    if steps <= 3:
        # every step drawn, numbered 1..steps
        assert not ellipses and "$x_{T}$" not in texts
        for row in ["x", "h", r"\hat y"]:
            assert f"${row}_{{{steps}}}$" in texts
        return
    # one ellipsis per row (x, h, y-hat), between the last numbered column and the column of T
    assert len(ellipses) == 3
    for row in ["x", "h", r"\hat y"]:
        assert f"${row}_{{{steps - 1}}}$" in texts and f"${row}_{{{steps}}}$" not in texts
        (x_before, _), = _positions(ax, f"${row}_{{{steps - 1}}}$")
        (x_last, _), = _positions(ax, f"${row}_{{T}}$")
        assert sum(x_before < x < x_last for x, _ in ellipses) == 3, row
    _assert_texts_readable(fig)


def test_unrolled_rnn_rejects_zero_steps():
    with pytest.raises(ValueError):
        diagrams.draw_unrolled_rnn(0)


def test_unrolled_rnn_draws_on_a_given_axes():
    fig, ax = plt.subplots()
    assert diagrams.draw_unrolled_rnn(2, ax=ax) is fig


@pytest.mark.parametrize("show_gradients", [False, True])
def test_step_graph(show_gradients):
    fig = diagrams.draw_step_graph(show_gradients)
    _render(fig)
    assert len(fig.axes) == 1
    assert _count(fig, FancyBboxPatch) == 6  # x, Wx, h_prev, Wh, b, h
    assert _count(fig, Circle) == 4  # two products, a sum, tanh
    texts = " ".join(_texts(fig))
    assert ("\\partial L" in texts) == show_gradients
    assert ("backward" in texts) == show_gradients


def test_concatenation_blocks_have_the_right_shapes():
    D, H = 3, 5
    fig = diagrams.draw_concatenation(D, H)
    _render(fig)
    assert len(fig.axes) == 1
    # cells of x (D), h (H), Wx (D*H), Wh (H*H), result (H), plus one outline per block
    assert _count(fig, Rectangle) == D + H + D * H + H * H + H + 5


def test_concatenation_result_has_a_colour_of_its_own():
    # the pre-activation gets the palette's pre-activation colour, which means nothing else
    others = {k: v for k, v in diagrams.COLORS.items() if k != "preact"}
    assert matplotlib.colors.to_rgb(diagrams.COLORS["preact"]) not in {
        matplotlib.colors.to_rgb(v) for v in others.values()}
    D, H = 3, 4
    fig = diagrams.draw_concatenation(D, H)
    _render(fig)
    ax = fig.axes[0]
    (x_result, y_result), = _positions(ax, "$a_t - b$")
    cells = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_fill()]
    result = [p for p in cells if abs(p.get_x() + p.get_width() / 2 - x_result) < H * p.get_width() / 2
              and abs(p.get_y() + p.get_height() / 2 - y_result) < p.get_height() / 2]
    assert len(result) == H
    for p in result:
        assert p.get_facecolor()[:3] == matplotlib.colors.to_rgb(diagrams.COLORS["preact"])
    # no block of this figure is drawn in the colour of context vectors
    context = matplotlib.colors.to_rgb(diagrams.COLORS["context"])
    assert not any(p.get_facecolor()[:3] == context for p in cells)
    _assert_texts_readable(fig)


def test_concatenation_rejects_empty_sizes():
    with pytest.raises(ValueError):
        diagrams.draw_concatenation(0, 3)


def test_figures_have_white_backgrounds():
    for fig in [diagrams.draw_unrolled_rnn(), diagrams.draw_step_graph(), diagrams.draw_concatenation()]:
        assert matplotlib.colors.to_hex(fig.get_facecolor()) == "#ffffff"
