"""Every public drawing helper of rnnlab.diagrams draws without error, with the expected panels."""

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

from rnnlab import diagrams


def _count(fig: Figure, kind) -> int:
    return sum(isinstance(p, kind) for ax in fig.axes for p in ax.patches)


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _render(fig: Figure) -> None:
    """Draw for real, so that mathtext errors in labels surface here and not in the book."""
    fig.canvas.draw()


def test_building_blocks_draw_on_a_given_axes():
    fig, ax = diagrams.new_canvas()
    a = diagrams.box(ax, (2, 2), "$x_t$", "input")
    b = diagrams.box(ax, (6, 2), "$h_t$", "hidden")
    c = diagrams.op_node(ax, (4, 4), "+")
    diagrams.arrow(ax, a, b, "$W_x$")
    diagrams.arrow(ax, c, (8, 5))
    diagrams.matrix_block(ax, (1, 4), 2, 3, "param", label="$W$")
    _render(fig)
    assert len(fig.axes) == 1
    assert _count(fig, FancyBboxPatch) == 2
    assert _count(fig, Circle) == 1
    assert _count(fig, FancyArrowPatch) == 2
    assert _count(fig, Rectangle) == 2 * 3 + 1
    assert not ax.axison


def test_box_rejects_an_unknown_kind():
    fig, ax = diagrams.new_canvas()
    with pytest.raises(KeyError):
        diagrams.box(ax, (0, 0), "?", "nonsense")


@pytest.mark.parametrize("steps", [1, 3, 4])
def test_unrolled_rnn_has_three_boxes_per_step(steps):
    fig = diagrams.draw_unrolled_rnn(steps)
    _render(fig)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    # folded cell (3 boxes) + h0 + (x, h, y) per step
    assert _count(fig, FancyBboxPatch) == 3 + 1 + 3 * steps
    # folded: 2 arrows + loop; unrolled: 3 arrows per step
    assert _count(fig, FancyArrowPatch) == 3 + 3 * steps
    texts = _texts(fig)
    assert "$h_0$" in texts
    assert ("$x_{T}$" in texts) == (steps > 3)


def test_unrolled_rnn_rejects_zero_steps():
    with pytest.raises(ValueError):
        diagrams.draw_unrolled_rnn(0)


def test_unrolled_rnn_draws_on_a_given_axes():
    fig, ax = plt.subplots()
    assert diagrams.draw_unrolled_rnn(2, ax=ax) is fig


def test_architectures_has_five_panels_and_a_key():
    fig = diagrams.draw_architectures()
    _render(fig)
    assert len(fig.axes) == 6
    titles = [ax.get_title() for ax in fig.axes]
    for name in ["one-to-one", "one-to-many", "many-to-one", "synchronised", "delayed", "key"]:
        assert any(name in t for t in titles), name
    boxes = [sum(isinstance(p, FancyBboxPatch) for p in ax.patches) for ax in fig.axes]
    # one-to-one 3; one-to-many 1 + 4 + 4; many-to-one 4 + 4 + 1; synchronised 12;
    # delayed 3 + 3 encoder, context, 3 + 3 decoder; key 4.
    assert boxes == [3, 9, 9, 12, 13, 4]
    assert any(isinstance(p, FancyBboxPatch) and p.get_facecolor()[:3] == matplotlib.colors.to_rgb(
        diagrams.COLORS["context"]) for p in fig.axes[4].patches)


def test_recurrence_kinds_has_four_panels_of_three_steps():
    fig = diagrams.draw_recurrence_kinds()
    _render(fig)
    assert len(fig.axes) == 4
    for ax in fig.axes:
        assert sum(isinstance(p, FancyBboxPatch) for p in ax.patches) == 9
        # 2 arrows inside each of 3 steps + 2 recurrent connections
        assert sum(isinstance(p, FancyArrowPatch) for p in ax.patches) == 8
    titles = " ".join(ax.get_title() for ax in fig.axes)
    assert "Elman" in titles and "Jordan" in titles and "teacher forcing" in titles


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


def test_concatenation_rejects_empty_sizes():
    with pytest.raises(ValueError):
        diagrams.draw_concatenation(0, 3)


def test_figures_have_white_backgrounds():
    for fig in [diagrams.draw_unrolled_rnn(), diagrams.draw_architectures(), diagrams.draw_recurrence_kinds(),
                diagrams.draw_step_graph(), diagrams.draw_concatenation()]:
        assert matplotlib.colors.to_hex(fig.get_facecolor()) == "#ffffff"


# --------------------------------------------------------------------------- #
# Backpropagation through time
# --------------------------------------------------------------------------- #

def _dashed_red_arrows(fig: Figure) -> int:
    red = matplotlib.colors.to_rgb(diagrams.COLORS["grad"])
    return sum(isinstance(p, FancyArrowPatch) and p.get_edgecolor()[:3] == red and p.get_linestyle() != "-"
               for ax in fig.axes for p in ax.patches)


@pytest.mark.parametrize("steps", [1, 4])
def test_bptt_graph_with_a_loss_at_every_step(steps):
    fig = diagrams.draw_bptt_graph(steps, loss="sum")
    _render(fig)
    assert len(fig.axes) == 1
    # h0 + (x, h, y_hat, L) per step
    assert _count(fig, FancyBboxPatch) == 1 + 4 * steps
    # gradient: one back in time per step, two down from each loss
    assert _dashed_red_arrows(fig) == 3 * steps
    assert "many-to-many" in fig.axes[0].get_title()
    assert ("$L_{T}$" in _texts(fig)) == (steps > 3)


def test_bptt_graph_with_a_loss_at_the_last_step():
    steps = 4
    fig = diagrams.draw_bptt_graph(steps, loss="last")
    _render(fig)
    assert _count(fig, FancyBboxPatch) == 1 + 2 * steps + 2
    assert _dashed_red_arrows(fig) == steps + 2
    assert "many-to-one" in fig.axes[0].get_title()
    assert "$L = L_T$" in _texts(fig)


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


# --------------------------------------------------------------------------- #
# Long short-term memory
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("show_gradients", [False, True])
def test_lstm_cell_has_four_gates_and_five_elementwise_operations(show_gradients):
    fig = diagrams.draw_lstm_cell(show_gradients)
    _render(fig)
    assert len(fig.axes) == 1
    # c_{t-1}, c_t, h_{t-1}, x_t, h_t and the four gate layers
    assert _count(fig, FancyBboxPatch) == 9
    # forget x, write x, +, tanh(c_t), output x; plus two junction dots
    assert _count(fig, Circle) == 5 + 2
    texts = _texts(fig)
    assert texts.count(r"$\sigma$") == 3 and r"$\tanh$" in texts
    for decides in ["what to erase", "how much to write", "what to write", "what to show"]:
        assert any(decides in t for t in texts), decides
    for label in ["$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$x_t$", "$h_t$", "$f_t$", "$i_t$", "$g_t$", "$o_t$"]:
        assert label in texts, label
    # the gradient: one path along the cell state, one back through h
    assert _dashed_red_arrows(fig) == (2 if show_gradients else 0)
    assert any("no matrix" in t for t in texts) == show_gradients


def test_lstm_cell_draws_on_a_given_axes_with_a_white_background():
    fig, ax = plt.subplots()
    assert diagrams.draw_lstm_cell(ax=ax) is fig
    assert matplotlib.colors.to_hex(diagrams.draw_lstm_cell().get_facecolor()) == "#ffffff"


# --------------------------------------------------------------------------- #
# Gated recurrent units
# --------------------------------------------------------------------------- #

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
