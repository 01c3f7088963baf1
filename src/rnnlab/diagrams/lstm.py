"""Drawings for the chapter *Long short-term memory* (``book/lstm.md``).

Public diagrams
---------------
draw_sigmoid
    The logistic sigmoid and its slope (at most 1/4), with tanh for comparison.
draw_lstm_cell
    One LSTM step: the cell state running along the top, the four gates in
    the order of their blocks (i, f, o, g) and the elementwise operations,
    optionally with the three backward paths or with one stage highlighted.
draw_lstm_gate_steps
    The LSTM step four times, one stage highlighted in each: forget, write,
    the new cell state, output.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch
from matplotlib.path import Path

from .common import _EDGES, _FONT, _GRAD_STYLE, COLORS, arrow, box, new_canvas, op_node

__all__ = ["draw_sigmoid", "LSTM_STAGES", "draw_lstm_cell", "draw_lstm_gate_steps"]

#: The gradient from h_t into c_t in :func:`draw_lstm_cell`, told apart from the other paths by its dashes.
_GRAD_H_TO_C_STYLE = dict(color=COLORS["grad"], linestyle="-.", linewidth=1.5)

# --------------------------------------------------------------------------- #
# Gates
# --------------------------------------------------------------------------- #


def draw_sigmoid(ax: Axes | None = None) -> Figure:
    """The logistic sigmoid :math:`\\sigma(z)` and its slope for :math:`z` in :math:`[-6, 6]`.

    :math:`\\sigma` (dark) takes its values in :math:`(0, 1)`: the two
    asymptotes are dotted and the range is marked by a bracket. Its slope
    :math:`\\sigma'(z) = \\sigma(z)\\,(1 - \\sigma(z))` (red, the colour of
    gradients) is largest at :math:`z = 0`, where it is :math:`1/4`, marked
    by a dot. :math:`\\tanh` (light grey), with values in :math:`(-1, 1)`, is
    drawn for comparison. Labelled axes and a legend.
    """
    import numpy as np

    if ax is None:
        fig, ax = plt.subplots(figsize=(7.6, 4.6), facecolor="white")
    else:
        fig = ax.figure
    ax.set_facecolor("white")
    z = np.linspace(-6.0, 6.0, 601)
    s = 1.0 / (1.0 + np.exp(-z))
    dark, red = "#333333", COLORS["grad"]
    ax.axhline(0, color="0.8", lw=0.8, zorder=0)
    ax.axvline(0, color="0.8", lw=0.8, zorder=0)
    ax.axhline(1, color=dark, lw=0.9, ls=":", zorder=1)
    ax.plot(z, s, color=dark, lw=2.2, zorder=2, label=r"$\sigma(z) = 1/(1 + e^{-z})$")
    ax.plot(z, s * (1.0 - s), color=red, lw=2.0, zorder=2, label=r"$\sigma'(z) = \sigma(z)\,(1 - \sigma(z))$")
    ax.plot(z, np.tanh(z), color="#b3b3b3", lw=1.6, zorder=1, label=r"$\tanh(z)$, for comparison")
    # The range (0, 1), as a bracket on the right.
    ax.annotate("", xy=(5.0, 1.0), xytext=(5.0, 0.0),
                arrowprops=dict(arrowstyle="<->", color=dark, lw=1.1, shrinkA=0, shrinkB=0))
    ax.text(5.15, 0.5, "range\n$(0, 1)$", ha="left", va="center", fontsize=_FONT - 2, color=dark)
    # The largest slope, 1/4 at z = 0.
    ax.plot([0.0], [0.25], "o", color=red, ms=7, zorder=4, gid="max-slope")
    ax.annotate(r"largest slope: $\sigma'(0) = 1/4$", xy=(0.0, 0.25), xytext=(1.1, -0.32),
                ha="left", va="center", fontsize=_FONT - 2, color=red,
                arrowprops=dict(arrowstyle="-|>", color=red, lw=1.1, shrinkA=2, shrinkB=5))
    ax.set_xlim(-6.0, 6.0)
    ax.set_ylim(-1.1, 1.15)
    ax.set_yticks([-1.0, -0.5, 0.0, 0.25, 0.5, 1.0], labels=["−1", "−0.5", "0", "0.25", "0.5", "1"])
    ax.set_xlabel("$z$", fontsize=_FONT)
    ax.set_ylabel("value", fontsize=_FONT)
    ax.legend(loc="lower right", fontsize=_FONT - 2, frameon=True, framealpha=1.0, edgecolor="0.85")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig

# --------------------------------------------------------------------------- #
# Long short-term memory
# --------------------------------------------------------------------------- #


#: The stages of an LSTM step that :func:`draw_lstm_cell` can highlight, in the order of the computation.
LSTM_STAGES = ("forget", "input", "cell", "output")
_FADED = 0.16


class _Stages:
    """Remembers which stages the artists drawn inside each ``with stages(...)`` block belong to.

    After the drawing, :meth:`highlight` fades every artist that is not part
    of the chosen stage. Artists of the stage ``"always"`` are never faded.
    """

    def __init__(self, ax: Axes):
        self.ax = ax
        self.members: list[tuple[object, frozenset[str]]] = []

    @contextmanager
    def __call__(self, *stages: str):
        before = set(self.ax.get_children())
        yield
        self.members += [(a, frozenset(stages)) for a in self.ax.get_children() if a not in before]

    def highlight(self, stage: str) -> None:
        for artist, stages in self.members:
            if stage not in stages and "always" not in stages:
                artist.set_alpha(_FADED)


def _hop(ax: Axes, x: float, y: float, vertical: bool = True, size: float = 0.14) -> None:
    """A white gap in a line at ``(x, y)``, so that a line crossing it there is seen to pass over it."""
    xs, ys = ([x, x], [y - size, y + size]) if vertical else ([x - size, x + size], [y, y])
    ax.plot(xs, ys, color="white", lw=5, solid_capstyle="butt", zorder=1.5)


def _route(ax: Axes, points: Sequence[tuple[float, float]], color: str = "#333333", linestyle: str = "-",
           linewidth: float = 1.4, zorder: float = 1) -> FancyArrowPatch:
    """An arrow along the broken line through ``points``, its head at the last point (not shortened)."""
    patch = FancyArrowPatch(path=Path(points), arrowstyle="-|>", mutation_scale=14, color=color,
                            linewidth=linewidth, linestyle=linestyle, zorder=zorder)
    ax.add_patch(patch)
    return patch


def draw_lstm_cell(show_gradients: bool = False, ax: Axes | None = None, highlight: str | None = None) -> Figure:
    """One LSTM step, with the cell state running along the top.

    :math:`h_{t-1}` and :math:`x_t` feed four gate layers, drawn left to right
    in the order of their blocks in the weights, :math:`i, f, o, g`: the input
    gate :math:`i_t`, the forget gate :math:`f_t` and the output gate
    :math:`o_t` (sigmoids) and the candidate :math:`g_t` (a tanh). The cell
    state (purple) is changed only elementwise: multiplied by :math:`f_t`, then
    added :math:`i_t \\odot g_t`. The new hidden state is
    :math:`h_t = o_t \\odot \\tanh(c_t)`. Under each gate, what it decides.
    Keeping the gates in that order makes two wires cross; a gap in the lower
    wire shows which passes over.

    With ``show_gradients`` the three backward paths are drawn in red and
    numbered: (1) along the cell state (dashed), where the gradient is
    multiplied elementwise by :math:`f_t` and meets no matrix; (2) from
    :math:`h_t` into :math:`c_t` (dash-dotted), through the output gate and
    the slope of the tanh, :math:`\\partial L/\\partial h_t \\odot o_t \\odot
    (1 - \\tanh^2 c_t)`, which adds to the gradient of :math:`c_t`; (3) from
    :math:`h_t` back to :math:`h_{t-1}` (dashed) through the gates and
    :math:`W_h`.

    ``highlight``, one of :data:`LSTM_STAGES`, fades everything but one stage
    of the step: ``"forget"`` (the forget gate scaling :math:`c_{t-1}`),
    ``"input"`` (the input gate and the candidate writing into the cell),
    ``"cell"`` (the new cell state :math:`c_t`) or ``"output"`` (the output
    gate producing :math:`h_t` from :math:`\\tanh(c_t)`).
    """
    if highlight is not None and highlight not in LSTM_STAGES:
        raise ValueError(f"highlight must be None or one of {LSTM_STAGES}, got {highlight!r}")
    fig, ax = new_canvas(width=11.8, height=6.5 if show_gradients else 5.8, xlim=(-0.6, 17.2),
                         ylim=(-1.2, 8.0) if show_gradients else (-0.45, 7.7), ax=ax)
    _lstm_cell_on(ax, show_gradients, highlight, _FONT, compact=False)
    return fig


def _lstm_cell_on(ax: Axes, show_gradients: bool, highlight: str | None, fs: float, compact: bool) -> None:
    """Draw the LSTM cell of :func:`draw_lstm_cell` on a prepared canvas, with base font size ``fs``.

    ``compact`` leaves out the notes under the gates and under :math:`h_t`,
    for the small panels of :func:`draw_lstm_gate_steps`.
    """
    grey = "#555555"
    cell_edge = _EDGES["context"]
    y_c, y_w, y_tanh, y_o, y_gate, y_bus = 6.6, 5.1, 5.35, 4.2, 3.3, 1.85
    x_i, x_f, x_o, x_g, x_out, x_end = 3.3, 5.5, 7.7, 9.9, 12.1, 16.0
    wide = dict(color=cell_edge, linewidth=2.6)
    stage = _Stages(ax)
    # The cell state: the top line, changed only by elementwise operations.
    with stage("forget"):
        c_prev = box(ax, (0.35, y_c), r"$c_{t-1}$", "context", 1.0, 0.6, fontsize=fs)
    with stage("forget", "cell"):
        forget = op_node(ax, (x_f, y_c), r"$\times$", fontsize=fs)
    with stage("forget"):
        arrow(ax, c_prev, forget, **wide)
    with stage("input", "cell"):
        add = op_node(ax, (x_g, y_c), "+", fontsize=fs)
    with stage("cell", "output"):
        c_next = box(ax, (x_end, y_c), r"$c_t$", "context", 0.9, 0.6, fontsize=fs)
    with stage("cell"):
        arrow(ax, forget, add, **wide)
        ax.text((x_f + x_g) / 2, y_c + 0.42, "cell state", ha="center", fontsize=fs - 2, color=cell_edge,
                style="italic")
        ax.text((x_f + x_g) / 2, y_c - 0.55, r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t$", ha="center",
                va="center", fontsize=fs - 2)
    with stage("cell", "output"):
        arrow(ax, add, c_next, **wide)
    # The inputs: h_{t-1} and x_t on a common bus under the gates.
    with stage("forget", "input", "output"):
        box(ax, (0.35, y_bus), r"$h_{t-1}$", "hidden", 1.0, 0.6, fontsize=fs)
        box(ax, (1.95, 0.35), r"$x_t$", "input", 0.8, 0.6, fontsize=fs)
        ax.plot([0.85, x_g], [y_bus, y_bus], color=grey, lw=1.4, zorder=1)
        ax.plot([1.95, 1.95], [0.65, y_bus], color=grey, lw=1.4, zorder=1)
        ax.add_patch(Circle((1.95, y_bus), 0.07, color=grey, zorder=2))
    # The four gate layers, in the order of their blocks: i, f, o, g.
    gates = {}
    for name, cx, symbol, decides, part in [
        ("i", x_i, r"$\sigma$", "input gate:\nhow much to write", "input"),
        ("f", x_f, r"$\sigma$", "forget gate:\nwhat to erase", "forget"),
        ("o", x_o, r"$\sigma$", "output gate:\nwhat to show", "output"),
        ("g", x_g, r"$\tanh$", "candidate:\nwhat to write", "input"),
    ]:
        with stage(part):
            gates[name] = box(ax, (cx, y_gate), symbol, "param", 0.9, 0.6, fontsize=fs - 1)
            arrow(ax, (cx, y_bus), gates[name], color=grey)
            ax.text(cx - 0.12, y_gate + 0.52, f"${name}_t$", ha="right", va="center", fontsize=fs - 1,
                    color=grey)
            if not compact:
                ax.text(cx, y_bus - 0.3, decides, ha="center", va="top", fontsize=fs - 3, color="#333333")
    with stage("always"):
        _hop(ax, x_f, y_w)  # the input gate's wire passes over the forget gate's
        _hop(ax, x_g, y_o)  # the output gate's wire passes over the candidate's
    # Forget: multiply the old cell state by f_t.
    with stage("forget"):
        arrow(ax, gates["f"], forget, color=grey)
    # Write: add i_t * g_t.
    with stage("input", "cell"):
        write = op_node(ax, (x_g, y_w), r"$\times$", fontsize=fs)
    with stage("input"):
        arrow(ax, gates["g"], write, color=grey)
        _route(ax, [(x_i, y_gate + 0.32), (x_i, y_w), (x_g - 0.31, y_w)], color=grey, zorder=1.6)
    with stage("input", "cell"):
        arrow(ax, write, add, color=grey)
    # Show: h_t = o_t * tanh(c_t).
    with stage("output"):
        ax.plot([x_out, x_out], [y_c, y_tanh + 0.38], color=cell_edge, lw=1.6, zorder=1)
        ax.add_patch(Circle((x_out, y_c), 0.07, color=cell_edge, zorder=2))
        squash = op_node(ax, (x_out, y_tanh), "tanh", radius=0.38, fontsize=fs - 3)
        show = op_node(ax, (x_out, y_o), r"$\times$", fontsize=fs)
        arrow(ax, squash, show, color=grey)
        _route(ax, [(x_o, y_gate + 0.32), (x_o, y_o), (x_out - 0.31, y_o)], color=grey, zorder=1.6)
        h_next = box(ax, (x_end, y_o), r"$h_t$", "hidden", 0.9, 0.6, fontsize=fs)
        arrow(ax, show, h_next, color=grey)
        ax.text(x_out + 0.4, y_o - 0.42, r"$h_t = o_t \odot \tanh(c_t)$", ha="left", va="center",
                fontsize=fs - 2)
        if not compact:
            ax.text(x_end, y_o - 0.45, "to the output\nand to step $t+1$", ha="center", va="top",
                    fontsize=fs - 3)
    if show_gradients:
        red = COLORS["grad"]
        with stage("always"):
            # (1) along the cell state
            arrow(ax, (x_end - 0.5, y_c + 0.75), (0.9, y_c + 0.75), **_GRAD_STYLE)
            ax.text(7.7, y_c + 1.05, r"(1) along the cell state, $c_{t-1}$ receives "
                    r"$\partial L/\partial c_t \odot f_t$: elementwise, no matrix",
                    ha="center", va="center", color=red, fontsize=fs - 2)
            # (2) from h_t into c_t, back through the output gate and the tanh
            x2, y2 = x_out + 0.55, y_o + 0.45
            _route(ax, [(x_end - 0.5, y2), (x2, y2), (x2, y_c - 0.2)], **_GRAD_H_TO_C_STYLE)
            ax.text(x2 + 0.2, (y2 + y_c) / 2 + 0.05,
                    "(2) from $h_t$ into $c_t$, through $o_t$\nand the tanh's slope, adding to "
                    r"$\partial L/\partial c_t$:" "\n" r"$\partial L/\partial h_t \odot o_t \odot (1 - \tanh^2 c_t)$",
                    ha="left", va="center", color=red, fontsize=fs - 2, linespacing=1.35)
            # (3) from h_t back to h_{t-1}, through the gates and W_h
            _route(ax, [(x_end, y_o - 1.25), (x_end, -0.4), (-0.05, -0.4), (-0.05, y_bus - 0.34)], **_GRAD_STYLE)
            ax.text(7.7, -0.8, r"(3) through $h$: $\partial L/\partial h_{t-1} = \delta_t W_h^\top$, "
                    r"a product with a matrix and the gates' slopes",
                    ha="center", va="center", color=red, fontsize=fs - 2)
    if highlight is not None:
        stage.highlight(highlight)


def draw_lstm_gate_steps() -> Figure:
    """The LSTM step of :func:`draw_lstm_cell` four times, in a 2 by 2 grid, one stage highlighted in each.

    (a) the forget gate scaling :math:`c_{t-1}`; (b) the input gate and the
    candidate writing :math:`i_t \\odot g_t` into the cell; (c) the new cell
    state :math:`c_t = f_t \\odot c_{t-1} + i_t \\odot g_t`; (d) the output
    gate producing :math:`h_t = o_t \\odot \\tanh(c_t)`. The rest of the cell is
    faded. Returns a Figure with four Axes.
    """
    fig, axes = plt.subplots(2, 2, figsize=(14, 7.2), facecolor="white")
    titles = [
        "(a) the forget gate scales $c_{t-1}$",
        "(b) the input gate and the candidate write",
        "(c) the new cell state $c_t$",
        "(d) the output gate shows $\\tanh(c_t)$ as $h_t$",
    ]
    for ax, part, title in zip(axes.ravel(), LSTM_STAGES, titles):
        new_canvas(ax=ax, xlim=(-0.6, 17.0), ylim=(-0.1, 7.3))
        _lstm_cell_on(ax, False, part, _FONT - 1, compact=True)
        ax.set_title(title, fontsize=_FONT)
    fig.tight_layout()
    return fig
