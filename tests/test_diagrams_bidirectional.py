"""The drawings of the chapter on bidirectional and stacked RNNs draw without error, with the expected parts."""

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from rnnlab import diagrams_bidirectional as bd
from rnnlab.diagrams import COLORS


def _patches(fig: Figure, kind) -> list:
    return [p for ax in fig.axes for p in ax.patches if isinstance(p, kind)]


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _render(fig: Figure) -> None:
    """Draw for real, so that mathtext errors in labels surface here and not in the book."""
    fig.canvas.draw()


def _filled_with(patches, colour) -> int:
    rgb = matplotlib.colors.to_rgb(colour)
    return sum(p.get_facecolor()[:3] == rgb for p in patches)


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
    # per step: 2 from the input, 2 into the output; 2 recurrent per step after the first; 2 from h0
    assert len(_patches(fig, FancyArrowPatch)) == 4 * steps + 2 * (steps - 1) + 2
    texts = _texts(fig)
    assert "$x_{0}$" in texts and f"$x_{{{steps - 1}}}$" in texts
    assert r"$\overleftarrow{h}_{0}$" in texts
    assert f"enters at $t = {steps - 1}$" in texts
    assert any("h[:, t, H:]" in t for t in texts)


def test_birnn_backward_initial_state_feeds_the_last_step():
    fig = bd.draw_birnn(4)
    ax = fig.axes[0]
    boxes = {t.get_text(): (t.get_position()) for t in ax.texts}
    h0_b, last_backward = boxes["$h_0^b$"], boxes[r"$\overleftarrow{h}_{3}$"]
    first_backward = boxes[r"$\overleftarrow{h}_{0}$"]
    assert h0_b[0] > last_backward[0] > first_backward[0]
    h0_f, first_forward = boxes["$h_0^f$"], boxes[r"$\overrightarrow{h}_{0}$"]
    assert h0_f[0] < first_forward[0]


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
    # each layer: 4 arrows per step, 2 recurrent per step after the first
    assert len(_patches(fig, FancyArrowPatch)) == layers * (4 * steps + 2 * (steps - 1))
    texts = _texts(fig)
    for layer in range(1, layers + 1):
        assert f"layer {layer}" in texts
    assert "outputs" in texts


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
