"""Every public drawing helper of rnnlab.diagrams draws without error, with the expected panels."""

import itertools

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.text import Text

from rnnlab import diagrams


def _count(fig: Figure, kind) -> int:
    return sum(isinstance(p, kind) for ax in fig.axes for p in ax.patches)


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _render(fig: Figure) -> None:
    """Draw for real, so that mathtext errors in labels surface here and not in the book."""
    fig.canvas.draw()


def _text_extents(fig: Figure) -> list[tuple[str, object]]:
    """Every visible, non-empty text of the figure (labels, titles, legends) with its box in pixels."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    found = []
    for ax in fig.axes:
        texts = list(ax.texts) + [ax.title]
        if ax.get_legend() is not None:
            texts += ax.get_legend().get_texts()
        for t in texts:
            if t.get_visible() and t.get_text().strip():
                # Text's own extent: for an annotation, the text without its arrow
                found.append((t.get_text(), Text.get_window_extent(t, renderer)))
    return found


def _assert_texts_readable(fig: Figure, pad: float = 1.0) -> None:
    """No two texts overlap (by more than ``pad`` pixels) and none sticks out of the figure."""
    extents = _text_extents(fig)
    overlapping = [(a, b) for (a, p), (b, q) in itertools.combinations(extents, 2)
                   if p.x0 + pad < q.x1 and q.x0 + pad < p.x1 and p.y0 + pad < q.y1 and q.y0 + pad < p.y1]
    assert not overlapping, f"overlapping texts: {overlapping}"
    page = fig.bbox
    clipped = [a for a, p in extents if p.x0 < page.x0 or p.y0 < page.y0 or p.x1 > page.x1 or p.y1 > page.y1]
    assert not clipped, f"texts cut off at the edge of the figure: {clipped}"


def _positions(ax, text: str) -> list[tuple[float, float]]:
    """Data coordinates of every text of ``ax`` that is exactly ``text``."""
    return [t.get_position() for t in ax.texts if t.get_text() == text]


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


def test_architectures_key_calls_outputs_y_hat():
    fig = diagrams.draw_architectures()
    key = fig.axes[5]
    texts = [t.get_text() for t in key.texts]
    # outputs are scores, y-hat; y alone is kept for the targets
    assert r"output $\hat y$" in texts
    assert "output $y$" not in texts and not any("$y$" in t for t in texts)
    assert {"hidden state $h$", "input $x$", "context vector $c$"} <= set(texts)
    _assert_texts_readable(fig)


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
    # the gradient: along the cell state, from h_t into c_t, and back through h
    assert _dashed_red_arrows(fig) == (3 if show_gradients else 0)
    assert any("no matrix" in t for t in texts) == show_gradients


def _red_arrows(ax) -> list[FancyArrowPatch]:
    red = matplotlib.colors.to_rgb(diagrams.COLORS["grad"])
    return [p for p in ax.patches if isinstance(p, FancyArrowPatch) and p.get_edgecolor()[:3] == red]


def test_lstm_cell_draws_the_gradient_from_h_into_c():
    """The path the text calls the one needing most care: dnext_h reaches c_t through o_t and tanh'."""
    fig = diagrams.draw_lstm_cell(show_gradients=True)
    _render(fig)
    ax = fig.axes[0]
    texts = _texts(fig)
    label = [t for t in texts if "from $h_t$ into $c_t$" in t]
    assert len(label) == 1
    assert r"o_t \odot (1 - \tanh^2 c_t)" in label[0]
    # drawn in its own style, so that it can be told apart from the two other paths
    styles = [p.get_linestyle() for p in _red_arrows(ax)]
    assert len(styles) == 3
    own = [p for p in _red_arrows(ax) if styles.count(p.get_linestyle()) == 1]
    assert len(own) == 1
    # it ends, pointing up, on the cell state, between the tanh's junction and c_t
    (x_c, y_c), = _positions(ax, "$c_t$")
    (x_tanh, _), = _positions(ax, "tanh")
    path = own[0].get_path().vertices  # data coordinates
    x_tip, y_tip = path[path[:, 1].argmax()]
    assert abs(y_tip - y_c) < 0.5
    assert x_tanh < x_tip < x_c
    _assert_texts_readable(fig)


def test_lstm_gates_read_i_f_o_g_from_left_to_right():
    fig = diagrams.draw_lstm_cell()
    _render(fig)
    ax = fig.axes[0]
    # the notes under the gates and the names of their outputs
    notes = {name: x for t in ax.texts for name in ["input gate", "forget gate", "output gate", "candidate"]
             for x in [t.get_position()[0]] if t.get_text().startswith(name)}
    assert sorted(notes, key=notes.get) == ["input gate", "forget gate", "output gate", "candidate"]
    outputs = {name: _positions(ax, f"${name}_t$")[0][0] for name in "ifog"}
    assert sorted(outputs, key=outputs.get) == ["i", "f", "o", "g"]
    # the gate layers themselves: three sigmoids, then the candidate's tanh
    param = matplotlib.colors.to_rgb(diagrams.COLORS["param"])
    layers = sorted(p.rnnlab_center for p in ax.patches
                    if isinstance(p, FancyBboxPatch) and p.get_facecolor()[:3] == param)
    symbols = [next(t.get_text() for t in ax.texts if t.get_position() == c) for c in layers]
    assert symbols == [r"$\sigma$", r"$\sigma$", r"$\sigma$", r"$\tanh$"]
    # still the same cell: the forget gate's layer sits under the first x on the cell state,
    # and the candidate's under the +
    top = max(p.center[1] for p in ax.patches if isinstance(p, Circle))
    on_cell_state = sorted(p.center[0] for p in ax.patches if isinstance(p, Circle) and p.center[1] == top
                           and p.radius > 0.2)
    assert on_cell_state[:2] == [layers[1][0], layers[3][0]]
    _assert_texts_readable(fig)


def _faded(artist) -> bool:
    alpha = artist.get_alpha()
    return alpha is not None and alpha < 0.5


# For each stage: labels that must stand out, and labels that must be faded.
_LSTM_STAGE_LABELS = {
    "forget": (["$c_{t-1}$", "$f_t$"], ["$i_t$", "$o_t$", "$g_t$", "$h_t$"]),
    "input": (["$i_t$", "$g_t$"], ["$f_t$", "$o_t$", "$c_{t-1}$", "$h_t$"]),
    "cell": (["$c_t$", r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t$"],
             ["$i_t$", "$f_t$", "$o_t$", "$g_t$", "$h_t$"]),
    "output": (["$o_t$", "$h_t$", r"$h_t = o_t \odot \tanh(c_t)$"], ["$i_t$", "$f_t$", "$g_t$", "$c_{t-1}$"]),
}


@pytest.mark.parametrize("stage", list(_LSTM_STAGE_LABELS))
def test_lstm_cell_highlights_one_stage(stage):
    fig = diagrams.draw_lstm_cell(highlight=stage)
    _render(fig)
    ax = fig.axes[0]
    vivid, faded = _LSTM_STAGE_LABELS[stage]
    by_text = {t.get_text(): t for t in ax.texts}
    for label in vivid:
        assert not _faded(by_text[label]), label
    for label in faded:
        assert _faded(by_text[label]), label
    # the rest of the cell is still drawn, faded
    assert any(_faded(p) for p in ax.patches) and not all(_faded(p) for p in ax.patches)


def test_lstm_cell_without_highlight_fades_nothing_and_rejects_unknown_stages():
    fig = diagrams.draw_lstm_cell()
    assert not any(_faded(a) for a in fig.axes[0].get_children())
    with pytest.raises(ValueError):
        diagrams.draw_lstm_cell(highlight="reset")


def test_lstm_gate_steps_has_four_highlighted_panels():
    fig = diagrams.draw_lstm_gate_steps()
    _render(fig)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 4
    titles = [ax.get_title() for ax in fig.axes]
    assert [t[:3] for t in titles] == ["(a)", "(b)", "(c)", "(d)"]
    assert "forget" in titles[0] and "input" in titles[1] and "cell state" in titles[2] and "output" in titles[3]
    for ax, stage in zip(fig.axes, _LSTM_STAGE_LABELS):
        # the same cell in every panel
        assert sum(isinstance(p, FancyBboxPatch) for p in ax.patches) == 9
        by_text = {t.get_text(): t for t in ax.texts}
        vivid, faded = _LSTM_STAGE_LABELS[stage]
        for label in vivid:
            assert not _faded(by_text[label]), (stage, label)
        for label in faded:
            assert _faded(by_text[label]), (stage, label)
    assert matplotlib.colors.to_hex(fig.get_facecolor()) == "#ffffff"
    _assert_texts_readable(fig)


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


# --------------------------------------------------------------------------- #
# The sigmoid
# --------------------------------------------------------------------------- #

def test_sigmoid_marks_its_range_and_its_largest_slope():
    import numpy as np

    fig = diagrams.draw_sigmoid()
    _render(fig)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert lo <= -5.5 and hi >= 5.5
    assert ax.get_xlabel() and ax.get_ylabel()
    assert not ax.get_title()
    handles, labels = ax.get_legend_handles_labels()
    assert ax.get_legend() is not None and len(labels) == 3
    curves = dict(zip(labels, handles))
    sigma = next(h for label, h in curves.items() if label.startswith(r"$\sigma(z)"))
    slope = next(h for label, h in curves.items() if label.startswith(r"$\sigma'(z)"))
    assert any("tanh" in label for label in labels)
    z, s = sigma.get_data()
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-z)))
    assert np.all((s > 0) & (s < 1))
    z, ds = slope.get_data()
    np.testing.assert_allclose(ds, s * (1 - s))
    # the marked maximum of the slope: 1/4, at z = 0
    marked = [line for line in ax.lines if line.get_gid() == "max-slope"]
    assert len(marked) == 1
    assert list(marked[0].get_xdata()) == [0.0] and list(marked[0].get_ydata()) == [0.25]
    assert abs(ds.max() - 0.25) < 1e-4
    texts = _texts(fig)
    assert any("1/4" in t for t in texts)
    assert any("(0, 1)" in t for t in texts)
    assert matplotlib.colors.to_hex(fig.get_facecolor()) == "#ffffff"
    _assert_texts_readable(fig)


def test_sigmoid_draws_on_a_given_axes():
    fig, ax = plt.subplots()
    assert diagrams.draw_sigmoid(ax=ax) is fig
    assert len(ax.get_legend_handles_labels()[1]) == 3
