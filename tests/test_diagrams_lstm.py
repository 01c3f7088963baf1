"""The drawings of the chapter on the LSTM (rnnlab.diagrams.lstm) draw without error, with the expected parts."""

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from rnnlab import diagrams

from diagram_helpers import _assert_texts_readable, _count, _dashed_red_arrows, _positions, _render, _texts


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
