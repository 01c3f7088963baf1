"""The drawings of the chapter on backpropagation through time (rnnlab.diagrams.bptt) draw, with the expected parts."""

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

from rnnlab import diagrams

from diagram_helpers import _assert_texts_readable, _count, _dashed_red_arrows, _positions, _render, _texts


@pytest.mark.parametrize("steps", [1, 4])
def test_bptt_graph_with_a_loss_at_every_step(steps):
    fig = diagrams.draw_bptt_graph(steps, loss="sum")
    _render(fig)
    assert len(fig.axes) == 1
    # h0 + (x, h, y_hat, L) per step
    assert _count(fig, FancyBboxPatch) == 1 + 4 * steps
    # gradient: one back in time per step (in two pieces across the ellipsis), two down from each loss
    assert _dashed_red_arrows(fig) == 3 * steps + (steps > 3)
    assert "many-to-many" in fig.axes[0].get_title()
    assert ("$L_{T}$" in _texts(fig)) == (steps > 3)


def test_bptt_graph_with_a_loss_at_the_last_step():
    steps = 4
    fig = diagrams.draw_bptt_graph(steps, loss="last")
    _render(fig)
    assert _count(fig, FancyBboxPatch) == 1 + 2 * steps + 2
    assert _dashed_red_arrows(fig) == steps + 1 + 2
    assert "many-to-one" in fig.axes[0].get_title()
    assert "$L = L_T$" in _texts(fig)


@pytest.mark.parametrize("steps", [4, 6])
@pytest.mark.parametrize("loss", ["sum", "last"])
def test_bptt_graph_sets_the_last_step_apart_with_an_ellipsis(steps, loss):
    fig = diagrams.draw_bptt_graph(steps, loss=loss)
    _render(fig)
    ax = fig.axes[0]
    texts = _texts(fig)
    assert "$h_0$" in texts
    # columns 1..steps-1, then an ellipsis, then T (as in draw_unrolled_rnn)
    rows = ["x", "h", r"\hat y", "L"] if loss == "sum" else ["x", "h"]
    for row in rows:
        for t in range(1, steps):
            assert f"${row}_{{{t}}}$" in texts, (row, t)
        assert f"${row}_{{{steps}}}$" not in texts and f"${row}_{{T}}$" in texts, row
    # one ellipsis per drawn row, between column steps-1 and column T
    ellipses = _positions(ax, r"$\cdots$")
    assert len(ellipses) == len(rows)
    (x_before, _), = _positions(ax, f"$x_{{{steps - 1}}}$")
    (x_last, _), = _positions(ax, "$x_{T}$")
    assert all(x_before < x < x_last for x, _ in ellipses)
    # the forward edge into h_T crosses the ellipsis in two pieces, and so does the gradient back
    grey = matplotlib.colors.to_rgb("#666666")
    forward_in_time = sum(isinstance(p, FancyArrowPatch) and p.get_edgecolor()[:3] == grey
                          and p.get_linestyle() == "-" for p in ax.patches)
    per_loss = 2 * (steps if loss == "sum" else 1)
    assert forward_in_time == steps + (steps + 1) + per_loss  # x -> h, h -> h (+1), h -> y_hat -> L
    assert _dashed_red_arrows(fig) == steps + 1 + per_loss
    total = r"$L = L_1 + L_2 + \cdots + L_T$" if loss == "sum" else "$L = L_T$"
    assert total in texts
    _assert_texts_readable(fig)


def test_bptt_graph_pair_is_readable_side_by_side():
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    diagrams.draw_bptt_graph(4, loss="sum", ax=axes[0])
    diagrams.draw_bptt_graph(4, loss="last", ax=axes[1])
    fig.tight_layout()
    for ax in axes:
        assert len(_positions(ax, r"$\cdots$")) >= 2 and "$h_{T}$" in [t.get_text() for t in ax.texts]
    _assert_texts_readable(fig)


def test_bptt_graph_rejects_bad_arguments():
    with pytest.raises(ValueError):
        diagrams.draw_bptt_graph(0)
    with pytest.raises(ValueError):
        diagrams.draw_bptt_graph(3, loss="mean")


def test_bptt_graph_draws_on_a_given_axes():
    fig, ax = plt.subplots()
    assert diagrams.draw_bptt_graph(2, ax=ax) is fig


def test_two_descendants_shows_both_gradient_paths():
    fig = diagrams.draw_two_descendants()
    _render(fig)
    assert len(fig.axes) == 1
    assert _count(fig, FancyBboxPatch) == 6  # h_{t-1}, h_t, h_{t+1}, y_hat_t, L_t, later losses
    assert _dashed_red_arrows(fig) == 4
    texts = " ".join(_texts(fig))
    assert "(1) from the output" in texts and "(2) from the future" in texts


@pytest.mark.parametrize("windows, k", [(3, 4), (2, 5), (1, 3)])
def test_tbptt_windows_cut_the_gradient_at_each_boundary(windows, k):
    fig = diagrams.draw_tbptt_windows(windows, k)
    _render(fig)
    assert len(fig.axes) == 2
    full, truncated = fig.axes
    steps = windows * k
    for ax in fig.axes:
        assert sum(isinstance(p, FancyBboxPatch) for p in ax.patches) == steps + 1
    red = matplotlib.colors.to_rgb(diagrams.COLORS["grad"])

    def back_in_time(ax):
        return sum(isinstance(p, FancyArrowPatch) and p.get_edgecolor()[:3] == red and p.get_linestyle() != "-"
                   for p in ax.patches)

    assert back_in_time(full) == steps - 1
    assert back_in_time(truncated) == steps - windows
    assert sum("window" in t.get_text() for t in truncated.texts) == windows
    assert f"k = {k}" in truncated.get_title()


def test_tbptt_windows_rejects_empty_windows():
    with pytest.raises(ValueError):
        diagrams.draw_tbptt_windows(0, 3)


def test_clipping_by_value_turns_and_by_norm_keeps_the_direction():
    fig = diagrams.draw_clipping((3.0, 1.0), threshold=1.0)
    _render(fig)
    assert len(fig.axes) == 2
    by_value, by_norm = fig.axes
    value_labels = [t.get_text() for t in by_value.get_legend().get_texts()]
    norm_labels = [t.get_text() for t in by_norm.get_legend().get_texts()]
    assert value_labels == ["gradient $g$ (18°)", "clipped (45°)"]
    assert norm_labels == ["gradient $g$ (18°)", "clipped (18°)"]
    assert any(isinstance(p, Rectangle) for p in by_value.patches)
    assert any(isinstance(p, Circle) for p in by_norm.patches)


def test_clipping_rejects_bad_arguments():
    with pytest.raises(ValueError):
        diagrams.draw_clipping((1.0, 2.0, 3.0))
    with pytest.raises(ValueError):
        diagrams.draw_clipping((1.0, 2.0), threshold=0)


def test_char_lm_hello():
    fig = diagrams.draw_char_lm("hello", "helo")
    _render(fig)
    assert len(fig.axes) == 1
    V, steps = 4, 4
    assert _count(fig, FancyBboxPatch) == steps  # one hidden state per step
    assert _count(fig, Rectangle) == 2 * V * steps  # one-hot cells and score cells
    texts = _texts(fig)
    assert [t for t in texts if t in ("'h'", "'e'", "'l'", "'o'")].count("'l'") >= 2
    # exactly one hot cell per step
    assert texts.count("1") == steps and texts.count("0") == steps * (V - 1)


def test_char_lm_rejects_unknown_characters():
    with pytest.raises(ValueError):
        diagrams.draw_char_lm("help", "helo")
    with pytest.raises(ValueError):
        diagrams.draw_char_lm("h", "helo")


def test_bptt_figures_have_white_backgrounds():
    for fig in [diagrams.draw_bptt_graph(), diagrams.draw_two_descendants(), diagrams.draw_tbptt_windows(),
                diagrams.draw_clipping(), diagrams.draw_char_lm()]:
        assert matplotlib.colors.to_hex(fig.get_facecolor()) == "#ffffff"
