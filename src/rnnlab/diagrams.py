"""Matplotlib drawings used by the book: boxes, arrows and the course's diagrams.

Every diagram is drawn by code so that it can be regenerated, corrected and
restyled in one place. The small building blocks (:func:`new_canvas`,
:func:`box`, :func:`op_node`, :func:`arrow`, :func:`matrix_block`) draw on a
given Axes; the diagrams built from them return the Figure they drew, or draw
on an Axes passed as ``ax``.

Colours follow one convention throughout the book:

* inputs ``x`` are blue,
* hidden states ``h`` are orange,
* outputs, the scores :math:`\\hat y`, are green,
* pre-activations, the sums of products before a nonlinearity (such as
  :math:`a_t = x_t W_x + h_{t-1} W_h + b`), are yellow,
* context vectors and the LSTM's cell state are purple, parameters grey,
* gradients are red.

Only Matplotlib's bundled fonts are used and backgrounds are white, so the
figures read the same on every machine, printed or on a phone.

Public diagrams
---------------
draw_unrolled_rnn
    A vanilla RNN folded (one cell with a loop) and unrolled over time.
draw_architectures
    One-to-one, one-to-many, many-to-one, many-to-many (synchronised and delayed).
draw_recurrence_kinds
    Hidden-to-hidden, output-to-hidden, teacher forcing and free running.
draw_step_graph
    The computational graph of one RNN step, optionally with its gradients.
draw_concatenation
    The product ``[x_t, h_{t-1}] [W_x; W_h]`` drawn as blocks of the right shapes.
draw_bptt_graph
    An unrolled RNN with its losses (summed over time, or at the last step)
    and the paths along which the gradient flows back.
draw_two_descendants
    The two children of ``h_t`` (the output at ``t``, the state at ``t+1``)
    and the two gradients that add up in it.
draw_tbptt_windows
    Full versus truncated backpropagation through time, in windows.
draw_clipping
    Clipping a 2-D gradient by value and by norm.
draw_char_lm
    A character-level language model on a word, with one-hot inputs and targets.
draw_sigmoid
    The logistic sigmoid and its slope (at most 1/4), with tanh for comparison.
draw_lstm_cell
    One LSTM step: the cell state running along the top, the four gates in
    the order of their blocks (i, f, o, g) and the elementwise operations,
    optionally with the three backward paths or with one stage highlighted.
draw_lstm_gate_steps
    The LSTM step four times, one stage highlighted in each: forget, write,
    the new cell state, output.
draw_gru_cell
    One GRU step (reset applied after the hidden-side product, as in cuDNN and
    PyTorch): the hidden state along the top, the update and reset gates, the
    candidate, optionally with the two roads back from h_t to h_{t-1}.
draw_gru_candidate_forms
    The GRU's candidate with the reset gate applied after the hidden-side
    product (this course, PyTorch, cuDNN) and before it (Cho et al. 2014).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.path import Path

__all__ = [
    "COLORS",
    "new_canvas",
    "box",
    "op_node",
    "arrow",
    "matrix_block",
    "draw_unrolled_rnn",
    "draw_architectures",
    "draw_recurrence_kinds",
    "draw_step_graph",
    "draw_concatenation",
    "draw_bptt_graph",
    "draw_two_descendants",
    "draw_tbptt_windows",
    "draw_clipping",
    "draw_char_lm",
    "draw_sigmoid",
    "LSTM_STAGES",
    "draw_lstm_cell",
    "draw_lstm_gate_steps",
    "draw_gru_cell",
    "draw_gru_candidate_forms",
]

#: Fill colours by role; edges are a darker shade of the same hue.
COLORS = {
    "input": "#cfe2f3",
    "hidden": "#fcd9b0",
    "output": "#d3ecc9",
    "context": "#e4d4f0",
    "preact": "#fbefb0",
    "param": "#e6e6e6",
    "op": "#ffffff",
    "grad": "#c0392b",
}
_EDGES = {
    "input": "#2b6cb0",
    "hidden": "#c05621",
    "output": "#2f855a",
    "context": "#6b46c1",
    "preact": "#b7791f",
    "param": "#555555",
    "op": "#333333",
}
_FONT = 12


def new_canvas(
    width: float = 6.0,
    height: float = 4.0,
    xlim: tuple[float, float] = (0.0, 10.0),
    ylim: tuple[float, float] = (0.0, 6.0),
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """A blank drawing area: white, no ticks, equal aspect, data limits ``xlim``, ``ylim``.

    If ``ax`` is given it is cleared of decorations and reused; otherwise a new
    Figure of ``width`` by ``height`` inches is made.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(width, height), facecolor="white")
    else:
        fig = ax.figure
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_facecolor("white")
    return fig, ax


def box(
    ax: Axes,
    center: tuple[float, float],
    text: str = "",
    kind: str = "hidden",
    width: float = 0.9,
    height: float = 0.6,
    fontsize: float = _FONT,
) -> FancyBboxPatch:
    """A rounded box centred on ``center``, filled by role ``kind``, labelled ``text``.

    ``kind`` is one of the keys of :data:`COLORS` (``"input"``, ``"hidden"``,
    ``"output"``, ``"preact"``, ``"context"``, ``"param"``, ``"op"``). Returns the patch, which
    :func:`arrow` accepts as an end point.
    """
    x, y = center
    patch = FancyBboxPatch(
        (x - width / 2, y - height / 2),
        width,
        height,
        boxstyle="round,pad=0.02,rounding_size=0.12",
        facecolor=COLORS[kind],
        edgecolor=_EDGES[kind],
        linewidth=1.5,
        zorder=2,
    )
    patch.rnnlab_center = (x, y)
    ax.add_patch(patch)
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=3)
    return patch


def op_node(
    ax: Axes,
    center: tuple[float, float],
    symbol: str,
    radius: float = 0.28,
    fontsize: float = _FONT,
) -> Circle:
    """A circle labelled with an operation (``"+"``, ``"×"``, ``"tanh"``...)."""
    patch = Circle(center, radius, facecolor=COLORS["op"], edgecolor=_EDGES["op"], linewidth=1.5, zorder=2)
    patch.rnnlab_center = tuple(center)
    ax.add_patch(patch)
    ax.text(*center, symbol, ha="center", va="center", fontsize=fontsize, zorder=3)
    return patch


def _point(end) -> tuple[float, float]:
    return getattr(end, "rnnlab_center", end)


def arrow(
    ax: Axes,
    start,
    end,
    text: str = "",
    color: str = "#333333",
    rad: float = 0.0,
    linestyle: str = "-",
    text_offset: tuple[float, float] = (0.0, 0.0),
    fontsize: float = _FONT - 1,
    text_color: str | None = None,
    linewidth: float = 1.4,
) -> FancyArrowPatch:
    """An arrow from ``start`` to ``end``, each a point or a patch made by :func:`box`.

    Arrows between patches stop at their borders. ``rad`` bends the arrow
    (positive to the left of its direction); ``text`` is written at the
    midpoint of the straight line, moved by ``text_offset``.
    """
    a, b = _point(start), _point(end)
    patch = FancyArrowPatch(
        a,
        b,
        patchA=start if hasattr(start, "rnnlab_center") else None,
        patchB=end if hasattr(end, "rnnlab_center") else None,
        arrowstyle="-|>",
        mutation_scale=14,
        shrinkA=2,
        shrinkB=2,
        connectionstyle=f"arc3,rad={rad}",
        color=color,
        linewidth=linewidth,
        linestyle=linestyle,
        zorder=1,
    )
    ax.add_patch(patch)
    if text:
        mx = (a[0] + b[0]) / 2 + text_offset[0]
        my = (a[1] + b[1]) / 2 + text_offset[1]
        ax.text(mx, my, text, ha="center", va="center", fontsize=fontsize, color=text_color or color, zorder=3)
    return patch


def matrix_block(
    ax: Axes,
    origin: tuple[float, float],
    rows: int,
    cols: int,
    kind: str = "param",
    cell: float = 0.35,
    label: str = "",
    fontsize: float = _FONT,
) -> Rectangle:
    """A ``rows`` by ``cols`` grid of cells, lower-left corner at ``origin``, labelled in the middle."""
    x0, y0 = origin
    for i in range(rows):
        for j in range(cols):
            ax.add_patch(
                Rectangle(
                    (x0 + j * cell, y0 + i * cell),
                    cell,
                    cell,
                    facecolor=COLORS[kind],
                    edgecolor="white",
                    linewidth=1.0,
                    zorder=1,
                )
            )
    outline = Rectangle(
        (x0, y0), cols * cell, rows * cell, fill=False, edgecolor=_EDGES[kind], linewidth=1.6, zorder=2
    )
    ax.add_patch(outline)
    if label:
        ax.text(
            x0 + cols * cell / 2, y0 + rows * cell / 2, label, ha="center", va="center", fontsize=fontsize, zorder=3
        )
    return outline


# --------------------------------------------------------------------------- #
# Diagrams
# --------------------------------------------------------------------------- #


def draw_unrolled_rnn(steps: int = 3, ax: Axes | None = None) -> Figure:
    """A vanilla RNN folded (left) and unrolled over ``steps`` time steps (right).

    The folded cell has a loop labelled :math:`W_h`; the unrolled network shows
    the same three matrices :math:`W_x, W_h, W_y` at every step, the initial
    state :math:`h_0`, the inputs :math:`x_t`, the states :math:`h_t` and the
    output scores :math:`\\hat y_t`. Up to three steps are numbered
    :math:`1, 2, 3`; with more, the columns are numbered :math:`1` to
    ``steps - 1`` and the last one, :math:`T`, is set apart by an ellipsis
    :math:`\\cdots` in each row, for the steps not drawn.
    """
    if steps < 1:
        raise ValueError("steps must be at least 1")
    elided = steps > 3
    gap = 1.0 if elided else 0.0
    width = 4.2 + 2.0 * (steps + 1) + gap
    fig, ax = new_canvas(width=min(1.05 * width, 12), height=4.2, xlim=(0, width), ylim=(0.2, 5.0), ax=ax)
    y_x, y_h, y_y = 1.0, 2.6, 4.2
    # Folded cell.
    fx = 1.2
    xf = box(ax, (fx, y_x), r"$x_t$", "input")
    hf = box(ax, (fx, y_h), r"$h_t$", "hidden")
    yf = box(ax, (fx, y_y), r"$\hat y_t$", "output")
    arrow(ax, xf, hf, r"$W_x$", text_offset=(-0.4, 0))
    arrow(ax, hf, yf, r"$W_y$", text_offset=(-0.4, 0))
    loop = FancyArrowPatch(
        (fx + 0.47, 2.8),
        (fx + 0.47, 2.4),
        connectionstyle="arc3,rad=-1.8",
        arrowstyle="-|>",
        mutation_scale=14,
        color="#333333",
        linewidth=1.4,
    )
    ax.add_patch(loop)
    ax.text(fx + 1.2, y_h, r"$W_h$", ha="center", va="center", fontsize=_FONT - 1)
    ax.text(fx + 1.95, y_h, "=", ha="center", va="center", fontsize=20)
    ax.text(fx, 0.35, "folded", ha="center", fontsize=_FONT - 1, style="italic")
    # Unrolled network.
    x0 = fx + 2.9
    h_prev = box(ax, (x0, y_h), r"$h_0$", "hidden")
    for t in range(1, steps + 1):
        last = elided and t == steps
        cx = x0 + 2.0 * t + (2 * gap if last else 0.0)
        label = "T" if last else str(t)
        xt = box(ax, (cx, y_x), rf"$x_{{{label}}}$", "input")
        ht = box(ax, (cx, y_h), rf"$h_{{{label}}}$", "hidden")
        yt = box(ax, (cx, y_y), rf"$\hat y_{{{label}}}$", "output")
        arrow(ax, xt, ht, r"$W_x$", text_offset=(-0.38, 0), fontsize=_FONT - 2)
        arrow(ax, ht, yt, r"$W_y$", text_offset=(-0.38, 0), fontsize=_FONT - 2)
        if last:
            # The steps between the last numbered one and T are not drawn.
            xe = cx - 1.0 - gap
            for y in (y_x, y_h, y_y):
                ax.text(xe, y, r"$\cdots$", ha="center", va="center", fontsize=_FONT + 4)
            arrow(ax, h_prev, (xe - 0.45, y_h), r"$W_h$", text_offset=(0.22, 0.25), fontsize=_FONT - 2)
            arrow(ax, (xe + 0.45, y_h), ht, r"$W_h$", text_offset=(0, 0.25), fontsize=_FONT - 2)
        else:
            arrow(ax, h_prev, ht, r"$W_h$", text_offset=(0, 0.25), fontsize=_FONT - 2)
        h_prev = ht
    ax.text((x0 + cx) / 2, 0.35, "unrolled over time", ha="center", fontsize=_FONT - 1, style="italic")
    return fig


def _column(ax, cx, has_in, has_out, y_in=0.7, y_h=1.9, y_out=3.1, w=0.62, h=0.5, hidden_kind="hidden"):
    """One time step drawn as a vertical column; returns the (input, hidden, output) patches."""
    xi = box(ax, (cx, y_in), "", "input", w, h) if has_in else None
    hh = box(ax, (cx, y_h), "", hidden_kind, w, h)
    yo = box(ax, (cx, y_out), "", "output", w, h) if has_out else None
    if xi is not None:
        arrow(ax, xi, hh)
    if yo is not None:
        arrow(ax, hh, yo)
    return xi, hh, yo


def _chain(ax, columns):
    for (_, a, _), (_, b, _) in zip(columns, columns[1:]):
        arrow(ax, a, b)


def draw_architectures() -> Figure:
    """The five ways to map sequences to sequences, one panel each, plus a colour key.

    Panels: one-to-one, one-to-many, many-to-one, many-to-many synchronised,
    many-to-many delayed (an encoder, a context vector, a decoder). Blue boxes
    are inputs, orange hidden states, green outputs, purple the context vector.
    Returns a Figure with six Axes (the sixth holds the key).
    """
    fig, axes = plt.subplots(2, 3, figsize=(11, 6.4), facecolor="white")
    axes = axes.ravel()
    titles = [
        "one-to-one\n(no recurrence: an image classifier)",
        "one-to-many\n(image captioning, generation)",
        "many-to-one\n(sentiment of a review)",
        "many-to-many, synchronised\n(tagging words, labelling video frames)",
        "many-to-many, delayed\n(translation: encoder–decoder)",
        "",
    ]
    for ax, title in zip(axes, titles):
        new_canvas(ax=ax, xlim=(0, 7.2), ylim=(-0.1, 3.8))
        ax.set_title(title, fontsize=_FONT - 1)
    # one-to-one
    _column(axes[0], 3.6, True, True)
    # one-to-many
    cols = [_column(axes[1], 1.2 + 1.6 * t, t == 0, True) for t in range(4)]
    _chain(axes[1], cols)
    # many-to-one
    cols = [_column(axes[2], 1.2 + 1.6 * t, True, t == 3) for t in range(4)]
    _chain(axes[2], cols)
    # many-to-many synchronised
    cols = [_column(axes[3], 1.2 + 1.6 * t, True, True) for t in range(4)]
    _chain(axes[3], cols)
    # many-to-many delayed: encoder, context, decoder
    ax = axes[4]
    enc = [_column(ax, 0.55 + 1.0 * t, True, False) for t in range(3)]
    _chain(ax, enc)
    context = box(ax, (3.6, 1.9), r"$c$", "context", 0.62, 0.5)
    arrow(ax, enc[-1][1], context)
    dec = [_column(ax, 4.65 + 1.0 * t, False, True) for t in range(3)]
    arrow(ax, context, dec[0][1])
    _chain(ax, dec)
    ax.text(1.55, 0.05, "encoder", ha="center", fontsize=_FONT - 2, style="italic")
    ax.text(5.65, 1.2, "decoder", ha="center", fontsize=_FONT - 2, style="italic")
    # key
    ax = axes[5]
    ax.set_title("key", fontsize=_FONT - 1)
    for i, (kind, text) in enumerate(
        [("output", r"output $\hat y$"), ("hidden", "hidden state $h$"), ("input", "input $x$"), ("context", "context vector $c$")]
    ):
        y = 3.3 - 0.7 * i
        box(ax, (1.6, y), "", kind, 0.62, 0.5)
        ax.text(2.2, y, text, va="center", fontsize=_FONT - 1)
    ax.annotate("", xy=(1.9, 0.5), xytext=(1.3, 0.5), arrowprops=dict(arrowstyle="-|>", color="#333333"))
    ax.text(2.2, 0.5, "a matrix product\n(then a nonlinearity)", va="center", fontsize=_FONT - 1)
    fig.tight_layout()
    return fig


def _steps_panel(ax, title, kind):
    """One panel of :func:`draw_recurrence_kinds`: three time steps t-1, t, t+1."""
    new_canvas(ax=ax, xlim=(0, 7.0), ylim=(0.1, 4.4))
    ax.set_title(title, fontsize=_FONT - 1)
    labels = ["t-1", "t", "t+1"]
    xs = [1.3, 3.5, 5.7]
    cols = []
    for cx, lab in zip(xs, labels):
        if kind in ("teacher", "free") and lab != "t-1":
            x_text = r"$y_{%s}$" % ("t-1" if lab == "t" else "t") if kind == "teacher" else r"$\hat y_{%s}$" % (
                "t-1" if lab == "t" else "t"
            )
        else:
            x_text = rf"$x_{{{lab}}}$"
        xi = box(ax, (cx, 0.75), x_text, "input", 0.95, 0.55, fontsize=_FONT - 1)
        hh = box(ax, (cx, 2.15), rf"$h_{{{lab}}}$", "hidden", 0.95, 0.55, fontsize=_FONT - 1)
        out_text = rf"$\hat y_{{{lab}}}$"
        yo = box(ax, (cx, 3.55), out_text, "output", 0.95, 0.55, fontsize=_FONT - 1)
        arrow(ax, xi, hh)
        arrow(ax, hh, yo)
        cols.append((xi, hh, yo))
    for (xa, ha, ya), (xb, hb, yb) in zip(cols, cols[1:]):
        if kind == "hidden":
            arrow(ax, ha, hb, r"$W_h$", text_offset=(0, 0.25), fontsize=_FONT - 2)
        elif kind == "jordan":
            arrow(ax, ya, hb, color=_EDGES["output"])
        elif kind == "teacher":
            # the true target of step t-1 is the next input
            arrow(ax, (xa.rnnlab_center[0] + 0.5, 3.1), xb, color=_EDGES["input"], linestyle="--")
        elif kind == "free":
            arrow(ax, ya, xb, color=_EDGES["output"], rad=0.0)
    return cols


def draw_recurrence_kinds() -> Figure:
    """Four ways to connect one time step to the next, one panel each (a 2 by 2 grid).

    (a) hidden to hidden, the Elman network and the vanilla RNN of this course;
    (b) output to hidden, the Jordan network; (c) output to output in training
    with teacher forcing: the true previous target is the next input; (d) the
    same network generating freely: its own previous output is the next input.
    """
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.6), facecolor="white")
    axes = axes.ravel()
    _steps_panel(axes[0], "(a) hidden → hidden (Elman)", "hidden")
    _steps_panel(axes[1], "(b) output → hidden (Jordan)", "jordan")
    cols = _steps_panel(axes[2], "(c) output → next input, training:\nteacher forcing feeds the true $y_{t-1}$", "teacher")
    for xi, _, _ in cols[:-1]:
        cx = xi.rnnlab_center[0] + 0.5
        axes[2].text(cx + 0.05, 3.2, "target", fontsize=_FONT - 3, color=_EDGES["input"], ha="left")
    _steps_panel(axes[3], "(d) output → next input, generation:\nthe model's own $\\hat y_{t-1}$ is fed back", "free")
    fig.tight_layout()
    return fig


def draw_step_graph(show_gradients: bool = False, ax: Axes | None = None) -> Figure:
    """The computational graph of one vanilla RNN step, left to right.

    Leaves :math:`x_t, W_x, h_{t-1}, W_h, b` feed two matrix products, a sum
    giving the pre-activation :math:`a_t`, and a tanh giving :math:`h_t`. With
    ``show_gradients`` each edge is annotated in red with the gradient that
    flows backwards along it.
    """
    fig, ax = new_canvas(width=11, height=5.2, xlim=(-0.2, 13.4), ylim=(-0.2, 6.2), ax=ax)
    x = box(ax, (0.8, 5.2), r"$x_t$", "input", 1.0, 0.6)
    wx = box(ax, (0.8, 3.9), r"$W_x$", "param", 1.0, 0.6)
    hp = box(ax, (0.8, 2.3), r"$h_{t-1}$", "hidden", 1.0, 0.6)
    wh = box(ax, (0.8, 1.0), r"$W_h$", "param", 1.0, 0.6)
    bb = box(ax, (5.4, 0.3), r"$b$", "param", 1.0, 0.6)
    m1 = op_node(ax, (3.6, 4.55), r"$\times$")
    m2 = op_node(ax, (3.6, 1.65), r"$\times$")
    plus = op_node(ax, (6.6, 3.1), "+")
    tanh = op_node(ax, (9.2, 3.1), "tanh", radius=0.42, fontsize=_FONT - 1)
    h = box(ax, (12.2, 3.1), r"$h_t$", "hidden", 1.0, 0.6)
    arrow(ax, x, m1)
    arrow(ax, wx, m1)
    arrow(ax, hp, m2)
    arrow(ax, wh, m2)
    arrow(ax, m1, plus, r"$x_t W_x$", text_offset=(0.1, 0.45) if not show_gradients else (0.55, 0.35))
    arrow(ax, m2, plus, r"$h_{t-1} W_h$", text_offset=(0.1, -0.45) if not show_gradients else (0.55, -0.35))
    arrow(ax, bb, plus)
    arrow(ax, plus, tanh, r"$a_t$", text_offset=(0, 0.3))
    arrow(ax, tanh, h, r"$h_t = \tanh(a_t)$", text_offset=(0, 0.35), fontsize=_FONT - 2)
    if show_gradients:
        red = COLORS["grad"]
        fs = _FONT - 1
        ax.text(12.2, 2.25, r"$\partial L/\partial h_t$" "\n(given)", ha="center", va="center", color=red, fontsize=fs)
        ax.text(7.9, 2.35, r"$\delta_t = \partial L/\partial h_t \odot (1 - h_t^2)$", ha="center",
                color=red, fontsize=fs)
        ax.text(2.2, 5.55, r"$\partial L/\partial x_t = \delta_t W_x^\top$", ha="center", color=red, fontsize=fs)
        ax.text(2.35, 3.45, r"$\partial L/\partial W_x = x_t^\top \delta_t$", ha="center", color=red, fontsize=fs)
        ax.text(2.35, 0.45, r"$\partial L/\partial W_h = h_{t-1}^\top \delta_t$", ha="center", color=red,
                fontsize=fs)
        ax.text(2.35, 2.75, r"$\partial L/\partial h_{t-1} = \delta_t W_h^\top$", ha="center", color=red,
                fontsize=fs)
        ax.text(7.4, 0.3, r"$\partial L/\partial b = \sum_{n} \delta_{t,n}$", ha="left", va="center",
                color=red, fontsize=fs)
        ax.annotate("", xy=(8.0, 3.75), xytext=(11.4, 3.75),
                    arrowprops=dict(arrowstyle="-|>", color=red, linestyle="--", linewidth=1.3))
        ax.text(9.7, 3.95, "backward", color=red, ha="center", fontsize=fs - 1, style="italic")
    return fig


def draw_concatenation(D: int = 3, H: int = 4, ax: Axes | None = None) -> Figure:
    """The product :math:`[x_t, h_{t-1}] \\, [W_x; W_h]` as blocks of their real shapes.

    One row ``[x_t, h_{t-1}]`` of length ``D + H`` times the ``(D + H, H)``
    stack of :math:`W_x` (top ``D`` rows) on :math:`W_h` (bottom ``H`` rows)
    equals one row of length ``H``: the pre-activation minus the bias, in the
    pre-activations' colour (yellow).
    """
    if D < 1 or H < 1:
        raise ValueError("D and H must be positive")
    c = 0.42
    width = (D + H) * c + H * c + H * c + 3.6
    height = (D + H) * c + 1.6
    fig, ax = new_canvas(width=min(1.1 * width + 0.5, 11), height=min(1.1 * height + 0.6, 6),
                         xlim=(-0.3, width), ylim=(-0.9, height - 0.3), ax=ax)
    y_row = (D + H) * c / 2 - c / 2
    matrix_block(ax, (0, y_row), 1, D, "input", c, r"$x_t$")
    matrix_block(ax, (D * c, y_row), 1, H, "hidden", c, r"$h_{t-1}$")
    ax.text(-0.05, y_row - 0.35, f"(1, D + H) = (1, {D + H})", fontsize=_FONT - 2, ha="left", va="top")
    xm = (D + H) * c + 0.9
    ax.text(xm - 0.45, y_row + c / 2, r"$\times$", ha="center", va="center", fontsize=16)
    matrix_block(ax, (xm, H * c), D, H, "input", c, r"$W_x$")
    matrix_block(ax, (xm, 0), H, H, "hidden", c, r"$W_h$")
    ax.text(xm + H * c / 2, -0.2, f"(D + H, H) = ({D + H}, {H})", fontsize=_FONT - 2, ha="center", va="top")
    xr = xm + H * c + 0.9
    ax.text(xr - 0.45, y_row + c / 2, "=", ha="center", va="center", fontsize=16)
    matrix_block(ax, (xr, y_row), 1, H, "preact", c, r"$a_t - b$")
    ax.text(xr + H * c / 2, y_row - 0.35, f"(1, H) = (1, {H})", fontsize=_FONT - 2, ha="center", va="top")
    return fig


# --------------------------------------------------------------------------- #
# Backpropagation through time
# --------------------------------------------------------------------------- #

_GRAD_STYLE = dict(color=COLORS["grad"], linestyle="--", linewidth=1.5)
#: The gradient from h_t into c_t in :func:`draw_lstm_cell`, told apart from the other paths by its dashes.
_GRAD_H_TO_C_STYLE = dict(color=COLORS["grad"], linestyle="-.", linewidth=1.5)


def draw_bptt_graph(steps: int = 4, loss: str = "sum", ax: Axes | None = None) -> Figure:
    """An RNN unrolled over ``steps`` steps with its loss, and the paths of the gradient.

    Forward edges are grey; the gradient flows back along the dashed red
    edges. With ``loss="sum"`` (many-to-many) every step has an output
    :math:`\\hat y_t` and a loss :math:`L_t`, and :math:`L = \\sum_t L_t`; with
    ``loss="last"`` (many-to-one) only the last step has one, and
    :math:`L = L_T`. As in :func:`draw_unrolled_rnn`, up to three steps are
    numbered :math:`1, 2, 3`; with more, the columns are numbered :math:`1` to
    ``steps - 1`` and the last one, :math:`T`, is set apart by an ellipsis
    :math:`\\cdots` in each row, for the steps not drawn; the forward edge and
    the gradient cross it in two pieces.
    """
    if steps < 1:
        raise ValueError("steps must be at least 1")
    if loss not in ("sum", "last"):
        raise ValueError(f"loss must be 'sum' or 'last', got {loss!r}")
    elided = steps > 3
    gap = 1.0 if elided else 0.0
    width = 2.0 * steps + 1.2 + 2 * gap
    fig, ax = new_canvas(width=min(0.95 * width, 11), height=5.0, xlim=(-0.2, width), ylim=(0.2, 6.5), ax=ax)
    grey = "#666666"
    red = COLORS["grad"]
    y_x, y_h, y_y, y_l = 0.8, 2.4, 4.0, 5.4
    h_prev = box(ax, (0.6, y_h), r"$h_0$", "hidden", 0.8, 0.55)
    losses = []
    for t in range(1, steps + 1):
        last = elided and t == steps
        cx = 0.6 + 2.0 * t + (2 * gap if last else 0.0)
        label = "T" if last else str(t)
        xt = box(ax, (cx, y_x), rf"$x_{{{label}}}$", "input", 0.8, 0.55)
        ht = box(ax, (cx, y_h), rf"$h_{{{label}}}$", "hidden", 0.8, 0.55)
        arrow(ax, xt, ht, color=grey)
        if last:
            # The steps between the last numbered one and T are not drawn: both the forward edge
            # and the gradient back in time cross the ellipsis in two pieces.
            xe = cx - 1.0 - gap
            rows = (y_x, y_h, y_y, y_l) if loss == "sum" else (y_x, y_h)
            for y in rows:
                ax.text(xe, y, r"$\cdots$", ha="center", va="center", fontsize=_FONT + 4)
            arrow(ax, h_prev, (xe - 0.45, y_h), color=grey)
            arrow(ax, (xe + 0.45, y_h), ht, color=grey)
            arrow(ax, (cx - 0.42, y_h - 0.2), (xe + 0.45, y_h - 0.2), rad=-0.35, **_GRAD_STYLE)
            x_before = h_prev.rnnlab_center[0]
            arrow(ax, (xe - 0.45, y_h - 0.2), (x_before + 0.42, y_h - 0.2), rad=-0.35, **_GRAD_STYLE)
        else:
            arrow(ax, h_prev, ht, color=grey)
            # gradient back in time, under the forward edge
            arrow(ax, (cx - 0.42, y_h - 0.2), (cx - 1.58, y_h - 0.2), rad=-0.35, **_GRAD_STYLE)
        if loss == "sum" or t == steps:
            yt = box(ax, (cx, y_y), rf"$\hat y_{{{label}}}$", "output", 0.8, 0.55)
            lt = box(ax, (cx, y_l), rf"$L_{{{label}}}$", "param", 0.8, 0.55)
            arrow(ax, ht, yt, color=grey)
            arrow(ax, yt, lt, color=grey)
            arrow(ax, (cx + 0.28, y_l - 0.3), (cx + 0.28, y_y + 0.3), **_GRAD_STYLE)
            arrow(ax, (cx + 0.28, y_y - 0.3), (cx + 0.28, y_h + 0.3), **_GRAD_STYLE)
            losses.append((cx, lt))
        h_prev = ht
    if loss == "sum":
        total = r"$L = L_1 + L_2 + \cdots + L_T$" if elided else "$L = " + " + ".join(
            f"L_{t}" for t in range(1, steps + 1)) + "$"
        ax.text((losses[0][0] + losses[-1][0]) / 2, 6.15, total, ha="center", va="center", fontsize=_FONT)
        title = "many-to-many: a loss at every step"
    else:
        ax.text(losses[0][0], 6.15, r"$L = L_T$" if elided else f"$L = L_{steps}$", ha="center",
                va="center", fontsize=_FONT)
        title = "many-to-one: one loss, at the last step"
    ax.set_title(title, fontsize=_FONT - 1)
    ax.plot([], [], color=grey, lw=1.4, label="forward")
    ax.plot([], [], color=red, lw=1.5, ls="--", label="gradient")
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 0.0), fontsize=_FONT - 2, frameon=False)
    return fig


def draw_two_descendants(ax: Axes | None = None) -> Figure:
    """The two ways :math:`h_t` reaches the loss, and the two gradients that flow back into it.

    :math:`h_t` feeds the output :math:`\\hat y_t` (and so :math:`L_t`) and the
    next state :math:`h_{t+1}` (and so every later loss). The gradient of the
    loss with respect to :math:`h_t` is the sum of what flows back along each.
    """
    fig, ax = new_canvas(width=10, height=4.6, xlim=(0, 12.4), ylim=(0.0, 5.8), ax=ax)
    grey = "#666666"
    red = COLORS["grad"]
    hp = box(ax, (1.2, 1.6), r"$h_{t-1}$", "hidden", 1.1, 0.6)
    ht = box(ax, (5.0, 1.6), r"$h_t$", "hidden", 1.1, 0.6)
    hn = box(ax, (9.4, 1.6), r"$h_{t+1}$", "hidden", 1.1, 0.6)
    yt = box(ax, (5.0, 3.5), r"$\hat y_t$", "output", 1.1, 0.6)
    lt = box(ax, (5.0, 5.0), r"$L_t$", "param", 1.1, 0.6)
    later = box(ax, (11.1, 3.5), "$L_{t+1}, L_{t+2}, \\ldots$", "param", 2.0, 0.6, fontsize=_FONT - 1)
    arrow(ax, hp, ht, r"$W_h$", color=grey, text_offset=(0, 0.28))
    arrow(ax, ht, hn, r"$W_h$", color=grey, text_offset=(0, 0.28))
    arrow(ax, ht, yt, r"$W_y$", color=grey, text_offset=(-0.35, 0))
    arrow(ax, yt, lt, color=grey)
    arrow(ax, hn, later, color=grey)
    # gradients
    arrow(ax, (5.45, 3.15), (5.45, 1.95), **_GRAD_STYLE)
    arrow(ax, (11.35, 3.17), (10.0, 1.62), **_GRAD_STYLE)
    ax.text(5.6, 2.55, "(1) from the output at $t$:\n" r"$\partial L_t/\partial h_t = (p_t - e_{y_t})\,W_y^\top$",
            ha="left", va="center", color=red, fontsize=_FONT - 1)
    arrow(ax, (8.8, 1.3), (5.6, 1.3), **_GRAD_STYLE)
    ax.text(7.2, 0.75, "(2) from the future, through $h_{t+1}$:\n" r"$\delta_{t+1}\, W_h^\top$",
            ha="center", va="center", color=red, fontsize=_FONT - 1)
    arrow(ax, (4.4, 1.3), (1.8, 1.3), **_GRAD_STYLE)
    ax.text(3.1, 0.75, r"$\delta_t\, W_h^\top$", ha="center", va="center", color=red, fontsize=_FONT - 1)
    ax.text(0.3, 4.6, r"$\partial L/\partial h_t$ = (1) + (2)", ha="left", va="center", color=red,
            fontsize=_FONT + 3)
    return fig


def draw_tbptt_windows(windows: int = 3, k: int = 4) -> Figure:
    """Full BPTT (top) versus truncated BPTT in windows of ``k`` steps (bottom).

    Both rows run the same forward pass over ``windows * k`` steps, carrying
    the hidden state across every step (grey arrows). In the full version the
    gradient (red) flows back to the first step; in the truncated version it
    flows back only to the start of its window: the state crosses a window
    boundary, the gradient does not (a red bar marks the cut).
    Returns a Figure with two Axes.
    """
    if windows < 1 or k < 1:
        raise ValueError("windows and k must be at least 1")
    steps = windows * k
    width = 1.0 * steps + 1.6
    fig, axes = plt.subplots(2, 1, figsize=(min(0.72 * width + 1, 12), 4.8), facecolor="white")
    grey = "#666666"
    red = COLORS["grad"]
    for row, ax in enumerate(axes):
        truncated = row == 1
        new_canvas(ax=ax, xlim=(-0.2, width), ylim=(0.0, 2.6))
        ax.set_title(f"truncated BPTT, windows of k = {k} steps" if truncated else "full BPTT",
                     fontsize=_FONT - 1)
        xs = [0.6 + 1.0 * t for t in range(steps + 1)]
        if truncated:
            for w in range(windows):
                left = xs[w * k] + 0.5
                ax.add_patch(Rectangle((left, 0.15), k * 1.0, 2.3, facecolor="#fff7d6" if w % 2 == 0 else "#eef4fb",
                                       edgecolor="none", zorder=0))
                ax.text(left + k / 2, 2.35, f"window {w + 1}", ha="center", va="center", fontsize=_FONT - 2)
        boxes = [box(ax, (xs[0], 0.9), "$h_0$", "hidden", 0.55, 0.45, fontsize=_FONT - 2)]
        for t in range(1, steps + 1):
            b = box(ax, (xs[t], 0.9), "", "hidden", 0.55, 0.45)
            arrow(ax, boxes[-1], b, color=grey)
            ax.plot([xs[t]], [1.75], "s", color=_EDGES["param"], ms=7, zorder=2)
            arrow(ax, (xs[t], 1.65), (xs[t], 1.15), color=red, linewidth=1.2)
            boundary = truncated and (t - 1) % k == 0
            if t > 1 and not boundary:
                arrow(ax, (xs[t] - 0.2, 0.6), (xs[t - 1] + 0.2, 0.6), rad=-0.5, **_GRAD_STYLE)
            if boundary and t > 1:
                ax.plot([xs[t] - 0.5] * 2, [0.25, 0.7], color=red, lw=3, zorder=3)
            boxes.append(b)
        ax.text(xs[1] - 0.25, 1.75, "$L_t$", ha="right", va="center", fontsize=_FONT - 2)
    return fig


def draw_clipping(g: Sequence[float] = (3.0, 1.0), threshold: float = 1.0) -> Figure:
    """What clipping does to a 2-D gradient ``g``: by value (left) and by norm (right).

    Clipping by value limits each component to ``[-threshold, threshold]``
    (the square) and turns the vector; clipping by norm rescales it onto the
    circle of radius ``threshold`` and keeps its direction. Each panel's
    legend gives the angle of the vectors. Returns a Figure with two Axes.
    """
    import numpy as np

    if threshold <= 0:
        raise ValueError("threshold must be positive")
    g = np.asarray(g, dtype=float)
    if g.shape != (2,):
        raise ValueError("g must be a 2-D vector")
    by_value = np.clip(g, -threshold, threshold)
    norm = float(np.linalg.norm(g))
    by_norm = g * (threshold / norm) if norm > threshold else g.copy()

    def angle(v):
        return float(np.degrees(np.arctan2(v[1], v[0])))

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), facecolor="white")
    panels = [
        (axes[0], by_value, "clipping by value: each component\ncut to $[-c, c]$; the direction turns"),
        (axes[1], by_norm, "clipping by norm: the whole vector\nrescaled to length $c$; the direction is kept"),
    ]
    for ax, clipped, title in panels:
        ax.set_facecolor("white")
        ax.axhline(0, color="0.8", lw=0.8, zorder=0)
        ax.axvline(0, color="0.8", lw=0.8, zorder=0)
        if ax is axes[0]:
            ax.add_patch(Rectangle((-threshold, -threshold), 2 * threshold, 2 * threshold, facecolor="#e6e6e6",
                                   edgecolor="#555555", lw=1.2, zorder=1))
        else:
            ax.add_patch(Circle((0, 0), threshold, facecolor="#e6e6e6", edgecolor="#555555", lw=1.2, zorder=1))
        ax.annotate("", xy=tuple(g), xytext=(0, 0), zorder=3,
                    arrowprops=dict(arrowstyle="-|>", color=COLORS["grad"], lw=2, mutation_scale=16))
        ax.annotate("", xy=tuple(clipped), xytext=(0, 0), zorder=4,
                    arrowprops=dict(arrowstyle="-|>", color=_EDGES["input"], lw=2.4, mutation_scale=16))
        ax.plot([g[0] * 3, -g[0] * 3], [g[1] * 3, -g[1] * 3], color=COLORS["grad"], lw=0.8, ls=":", zorder=2)
        ax.plot([], [], color=COLORS["grad"], lw=2, label=f"gradient $g$ ({angle(g):.0f}°)")
        ax.plot([], [], color=_EDGES["input"], lw=2.4, label=f"clipped ({angle(clipped):.0f}°)")
        ax.set_xlim(min(g[0], 0) - 1.3 * threshold, max(g[0], 0) + 0.6 * threshold)
        ax.set_ylim(min(g[1], 0) - 1.3 * threshold, max(g[1], 0) + 1.3 * threshold)
        ax.set_aspect("equal")
        ax.set_title(title, fontsize=_FONT - 1)
        ax.set_xlabel("$g_1$")
        ax.set_ylabel("$g_2$")
        ax.legend(loc="upper left", fontsize=_FONT - 2)
    fig.tight_layout()
    return fig


def draw_char_lm(text: str = "hello", vocab: Sequence[str] = ("h", "e", "l", "o"), ax: Axes | None = None) -> Figure:
    """A character-level language model reading ``text[:-1]`` and predicting ``text[1:]``.

    Each column is one time step: the input character and its one-hot vector
    (one cell per character of ``vocab``, the hot one dark), the hidden
    state, the output scores (one per character, the target's cell outlined)
    and the target, the next character.
    """
    vocab = list(vocab)
    if len(text) < 2:
        raise ValueError("text needs at least two characters")
    missing = sorted(set(text) - set(vocab))
    if missing:
        raise ValueError(f"characters {missing} are not in the vocabulary")
    V = len(vocab)
    steps = len(text) - 1
    c = 0.36
    width = 2.2 * steps + 1.6
    height = 2 * V * c + 3.3
    fig, ax = new_canvas(width=min(1.0 * width + 0.6, 11), height=min(0.95 * height, 7.5), xlim=(-0.2, width),
                         ylim=(-0.3, height), ax=ax)
    grey = "#666666"
    y_in = 0.55
    y_oh = 1.05
    y_h = y_oh + V * c + 0.75
    y_sc = y_h + 0.75
    y_tg = y_sc + V * c + 0.45
    for i, ch in enumerate(vocab):
        ax.text(1.05, y_oh + (V - 1 - i) * c + c / 2, f"'{ch}'", ha="right", va="center", fontsize=_FONT - 3,
                family="monospace")
        ax.text(1.05, y_sc + (V - 1 - i) * c + c / 2, f"'{ch}'", ha="right", va="center", fontsize=_FONT - 3,
                family="monospace")
    ax.text(0.1, y_oh + V * c / 2, "one-hot\ninput", ha="left", va="center", fontsize=_FONT - 3, rotation=90)
    ax.text(0.1, y_sc + V * c / 2, "scores", ha="left", va="center", fontsize=_FONT - 3, rotation=90)
    prev = None
    for t in range(steps):
        cx = 1.9 + 2.2 * t
        current, target = vocab.index(text[t]), vocab.index(text[t + 1])
        ax.text(cx, y_in, f"'{text[t]}'", ha="center", va="center", fontsize=_FONT, family="monospace",
                color=_EDGES["input"])
        for i in range(V):
            hot = i == current
            ax.add_patch(Rectangle((cx - c / 2, y_oh + (V - 1 - i) * c), c, c,
                                   facecolor=_EDGES["input"] if hot else COLORS["input"], edgecolor="white",
                                   zorder=1))
            ax.text(cx, y_oh + (V - 1 - i) * c + c / 2, "1" if hot else "0", ha="center", va="center",
                    fontsize=_FONT - 3, color="white" if hot else "#333333", zorder=2)
            ax.add_patch(Rectangle((cx - c / 2, y_sc + (V - 1 - i) * c), c, c, facecolor=COLORS["output"],
                                   edgecolor=_EDGES["output"] if i == target else "white",
                                   lw=2.2 if i == target else 1.0, zorder=2 if i == target else 1))
        hbox = box(ax, (cx, y_h), f"$h_{t + 1}$", "hidden", 0.8, 0.5, fontsize=_FONT - 1)
        arrow(ax, (cx, y_oh + V * c + 0.05), hbox, color=grey)
        arrow(ax, hbox, (cx, y_sc - 0.05), color=grey)
        if prev is not None:
            arrow(ax, prev, hbox, color=grey)
        prev = hbox
        ax.text(cx, y_tg, f"'{text[t + 1]}'", ha="center", va="center", fontsize=_FONT, family="monospace",
                color=_EDGES["output"])
    ax.text(1.9 + 2.2 * (steps - 1) + 0.75, y_tg, "targets", ha="left", va="center", fontsize=_FONT - 2,
            style="italic")
    ax.text(1.9 + 2.2 * (steps - 1) + 0.75, y_in, "inputs", ha="left", va="center", fontsize=_FONT - 2,
            style="italic")
    return fig


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


# --------------------------------------------------------------------------- #
# Gated recurrent units
# --------------------------------------------------------------------------- #


def draw_gru_cell(show_gradients: bool = False, ax: Axes | None = None) -> Figure:
    """One GRU step in the form of cuDNN and PyTorch, with the hidden state along the top.

    :math:`h_{t-1}` and :math:`x_t` run on two separate lines, because the
    candidate treats them differently. The update gate :math:`z` and the reset
    gate :math:`r` (sigmoids) read both. The candidate :math:`n` (a tanh) adds
    the input side :math:`x_t W_{xn} + b_{xn}` to the hidden side
    :math:`h_{t-1} W_{hn} + b_{hn}`, which the reset gate multiplies *after*
    its matrix product. The hidden state (the only state) is changed
    elementwise: :math:`h_t = z \\odot h_{t-1} + (1 - z) \\odot n`. Beside each
    gate, what it decides.

    With ``show_gradients`` the two roads back from :math:`h_t` to
    :math:`h_{t-1}` are drawn in dashed red: directly along the top, where the
    gradient is multiplied elementwise by :math:`z` and meets no matrix, and
    through the gates, the candidate and :math:`W_h`.
    """
    fig, ax = new_canvas(width=11.5, height=6.9 if show_gradients else 6.3, xlim=(-0.7, 16.2),
                         ylim=(-1.45 if show_gradients else -0.75, 8.45), ax=ax)
    grey = "#555555"
    state_edge = _EDGES["hidden"]
    x_edge = _EDGES["input"]
    y_top, y_mix, y_tanh, y_sum, y_gate, y_lin = 7.4, 6.2, 5.25, 4.3, 3.4, 2.45
    y_hbus, y_xbus = 1.6, 0.8
    x_z, x_r, x_n, x_xn, x_out, x_end = 3.2, 6.3, 8.8, 11.6, 13.0, 15.0
    # The hidden state: the top line, changed only by elementwise operations.
    h_prev = box(ax, (0.35, y_top), r"$h_{t-1}$", "hidden", 1.0, 0.6)
    h_next = box(ax, (x_end, y_top), r"$h_t$", "hidden", 0.9, 0.6)
    keep = op_node(ax, (x_z, y_top), r"$\times$")
    add = op_node(ax, (x_out, y_top), "+")
    wide = dict(color=state_edge, linewidth=2.6)
    arrow(ax, h_prev, keep, **wide)
    arrow(ax, keep, add, **wide)
    arrow(ax, add, h_next, **wide)
    ax.text((x_r + x_out) / 2, y_top + 0.38, "hidden state: the only state, and the output", ha="center",
            fontsize=_FONT - 2, color=state_edge, style="italic")
    ax.text(x_end, y_top - 0.45, "to the output\nand to step $t+1$", ha="center", va="top", fontsize=_FONT - 3)
    # The inputs: h_{t-1} and x_t on two lines under the gates.
    ax.plot([0.35, 0.35, x_n], [y_top - 0.3, y_hbus, y_hbus], color=state_edge, lw=1.4, zorder=1)
    x_in = box(ax, (1.35, -0.2), r"$x_t$", "input", 0.8, 0.55)
    ax.plot([1.35, 1.35, x_xn], [0.08, y_xbus, y_xbus], color=x_edge, lw=1.4, zorder=1)
    ax.text(0.5, y_hbus + 0.12, r"$h_{t-1}$", ha="left", va="bottom", fontsize=_FONT - 3, color=state_edge)
    ax.text(1.5, y_xbus + 0.12, r"$x_t$", ha="left", va="bottom", fontsize=_FONT - 3, color=x_edge)
    gates = {}
    for name, cx, label in [("z", x_z, r"$\sigma$"), ("r", x_r, r"$\sigma$")]:
        gates[name] = box(ax, (cx, y_gate), label, "param", 0.9, 0.6, fontsize=_FONT - 1)
        for dx, y0, color in [(-0.2, y_hbus, state_edge), (0.2, y_xbus, x_edge)]:
            ax.add_patch(Circle((cx + dx, y0), 0.06, color=color, zorder=2))
            arrow(ax, (cx + dx, y0), (cx + dx, y_gate - 0.32), color=color, linewidth=1.2)
    for cx, decides in [(x_z, "update gate $z$:\nhow much of the old\nstate to keep"),
                        (x_r, "reset gate $r$:\nhow much of the old state\nthe candidate sees"),
                        ((x_n + x_xn) / 2, "candidate $n$:\nthe new content\nit proposes")]:
        ax.text(cx, y_xbus - 0.2, decides, ha="center", va="top", fontsize=_FONT - 3, color="#333333")
    # The candidate: the hidden side is multiplied by r after its product, then the input side is added.
    hidden_side = box(ax, (x_n, y_lin), r"$W_{hn}, b_{hn}$", "param", 1.3, 0.55, fontsize=_FONT - 2)
    ax.add_patch(Circle((x_n, y_hbus), 0.06, color=state_edge, zorder=2))
    arrow(ax, (x_n, y_hbus), hidden_side, color=state_edge, linewidth=1.2)
    reset = op_node(ax, (x_n, y_gate), r"$\times$")
    arrow(ax, hidden_side, reset, color=grey)
    arrow(ax, gates["r"], reset, r"$r$", color=grey, text_offset=(0.0, 0.22))
    input_side = box(ax, (x_xn, y_lin), r"$W_{xn}, b_{xn}$", "param", 1.3, 0.55, fontsize=_FONT - 2)
    ax.add_patch(Circle((x_xn, y_xbus), 0.06, color=x_edge, zorder=2))
    arrow(ax, (x_xn, y_xbus), input_side, color=x_edge, linewidth=1.2)
    total = op_node(ax, (x_n, y_sum), "+")
    arrow(ax, reset, total, color=grey)
    ax.plot([x_xn, x_xn], [y_lin + 0.3, y_sum], color=grey, lw=1.4, zorder=1)
    arrow(ax, (x_xn, y_sum), total, color=grey)
    squash = box(ax, (x_n, y_tanh), r"$\tanh$", "param", 0.9, 0.55, fontsize=_FONT - 1)
    arrow(ax, total, squash, color=grey)
    # Keep z of the old state, and write (1 - z) of the candidate.
    arrow(ax, gates["z"], keep, color=grey)
    ax.text(x_z - 0.2, y_top - 0.75, "$z$", ha="right", va="center", fontsize=_FONT - 1, color=grey)
    ax.add_patch(Circle((x_z, y_mix), 0.07, color=grey, zorder=2))
    one_minus = op_node(ax, (x_r - 1.0, y_mix), r"$1-$", radius=0.3, fontsize=_FONT - 2)
    arrow(ax, (x_z, y_mix), one_minus, color=grey)
    write = op_node(ax, (x_out, y_mix), r"$\times$")
    arrow(ax, one_minus, write, r"$1 - z$", color=grey, text_offset=(0.9, 0.22))
    ax.plot([x_n + 0.45, x_out], [y_tanh, y_tanh], color=grey, lw=1.4, zorder=1)
    arrow(ax, (x_out, y_tanh), write, color=grey)
    ax.text((x_n + x_out) / 2 + 0.3, y_tanh + 0.2, "$n$", ha="center", va="bottom", fontsize=_FONT - 1,
            color=grey)
    arrow(ax, write, add, color=grey)
    ax.text(x_out + 0.3, y_tanh - 0.1, r"$h_t = z \odot h_{t-1}$" "\n" r"$\quad + (1 - z) \odot n$", ha="left",
            va="center", fontsize=_FONT - 2)
    ax.text(x_n + 0.45, y_gate - 0.02, r"$r \odot (h_{t-1} W_{hn} + b_{hn})$", ha="left", va="center",
            fontsize=_FONT - 3)
    if show_gradients:
        red = COLORS["grad"]
        arrow(ax, (x_end - 0.5, y_top + 0.8), (0.9, y_top + 0.8), **_GRAD_STYLE)
        ax.text(7.6, y_top + 0.98, r"directly, $h_{t-1}$ receives $\partial L/\partial h_t \odot z$: "
                "elementwise, no matrix", ha="center", va="bottom", color=red, fontsize=_FONT - 2)
        ax.plot([x_end + 0.47, x_end + 0.95, x_end + 0.95, -0.35], [y_top, y_top, -1.0, -1.0], color=red, lw=1.5,
                ls="--", zorder=1)
        arrow(ax, (-0.35, -1.0), (-0.35, y_top - 0.35), **_GRAD_STYLE)
        ax.text(7.6, -1.25, r"through $r$, $z$, $n$: $\partial L/\partial h_{t-1}$ gets products with "
                r"$W_h^\top$ and the gates' slopes", ha="center", va="center", color=red, fontsize=_FONT - 2)
    return fig


def draw_gru_candidate_forms() -> Figure:
    """The GRU's candidate :math:`n_t` in its two forms, as two small computation graphs side by side.

    Left, the form of this course, PyTorch and cuDNN: the reset gate is applied
    *after* the hidden-side product, :math:`n_t = \\tanh(x_t W_{xn} + b_{xn} +
    r_t \\odot (h_{t-1} W_{hn} + b_{hn}))`. Right, the form of Cho et al. (2014):
    it is applied *before*, :math:`n_t = \\tanh(x_t W_{xn} + (r_t \\odot
    h_{t-1}) W_{hn} + b_n)`, with one bias. Matrix products are circles marked
    :math:`\\times`, elementwise products :math:`\\odot`; the reset gate's value
    :math:`r_t` is a white box. In each panel a shaded, dashed frame highlights
    the hidden side, where the two differ, with its formula under it. Returns a Figure with
    two Axes.
    """
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), facecolor="white")
    grey = "#555555"
    y_h, y_x, y_top, y_sum = 4.2, 1.4, 5.35, 2.8
    x_1, x_2, x_3, x_sum, x_tanh, x_n = 2.2, 3.6, 5.0, 6.7, 8.0, 9.4
    panels = [
        (axes[0], "after", "reset after the product\n(this course, PyTorch, cuDNN)",
         r"$r_t \odot (h_{t-1} W_{hn} + b_{hn})$",
         r"$n_t = \tanh(x_t W_{xn} + b_{xn} + r_t \odot (h_{t-1} W_{hn} + b_{hn}))$"),
        (axes[1], "before", "reset before the product\n(Cho et al. 2014)",
         r"$(r_t \odot h_{t-1})\, W_{hn}$",
         r"$n_t = \tanh(x_t W_{xn} + (r_t \odot h_{t-1})\, W_{hn} + b_n)$"),
    ]
    for ax, form, title, hidden_side, formula in panels:
        new_canvas(ax=ax, xlim=(-0.1, 10.2), ylim=(-0.75, 6.0))
        ax.set_title(title, fontsize=_FONT - 1)
        h_prev = box(ax, (0.5, y_h), r"$h_{t-1}$", "hidden", 0.9, 0.55, fontsize=_FONT - 1)
        x_in = box(ax, (0.5, y_x), r"$x_t$", "input", 0.9, 0.55, fontsize=_FONT - 1)
        # The hidden side: where the two forms differ.
        if form == "after":
            steps = [(x_1, r"$\times$", r"$W_{hn}$", "param"), (x_2, "+", r"$b_{hn}$", "param"),
                     (x_3, r"$\odot$", r"$r_t$", "op")]
        else:
            steps = [(x_1, r"$\odot$", r"$r_t$", "op"), (x_2, r"$\times$", r"$W_{hn}$", "param")]
        prev = h_prev
        for cx, symbol, operand, kind in steps:
            node = op_node(ax, (cx, y_h), symbol)
            arrow(ax, prev, node, color=grey)
            arrow(ax, box(ax, (cx, y_top), operand, kind, 0.85, 0.5, fontsize=_FONT - 2), node, color=grey)
            prev = node
        right = steps[-1][0] + 0.55
        frame = FancyBboxPatch((x_1 - 0.55, y_h - 0.5), right - x_1 + 0.55, y_top - y_h + 0.85,
                               boxstyle="round,pad=0.02,rounding_size=0.15", facecolor="#f4f4f4",
                               edgecolor="#333333", linestyle="--", linewidth=1.3, zorder=0)
        ax.add_patch(frame)
        ax.text((x_1 - 0.55 + right) / 2, y_h - 0.78, hidden_side, ha="center", va="center",
                fontsize=_FONT - 1)
        # The input side and the sum.
        total = op_node(ax, (x_sum, y_sum), "+")
        arrow(ax, prev, total, color=grey)
        product = op_node(ax, (x_1, y_x), r"$\times$")
        arrow(ax, x_in, product, color=grey)
        arrow(ax, box(ax, (x_1, y_x - 1.1), r"$W_{xn}$", "param", 0.85, 0.5, fontsize=_FONT - 2), product,
              color=grey)
        if form == "after":
            bias = op_node(ax, (x_2, y_x), "+")
            arrow(ax, product, bias, color=grey)
            arrow(ax, box(ax, (x_2, y_x - 1.1), r"$b_{xn}$", "param", 0.85, 0.5, fontsize=_FONT - 2), bias,
                  color=grey)
            arrow(ax, bias, total, color=grey)
        else:
            arrow(ax, product, total, color=grey)
            arrow(ax, box(ax, (x_sum, y_x - 0.3), r"$b_n$", "param", 0.85, 0.5, fontsize=_FONT - 2), total,
                  color=grey)
        squash = op_node(ax, (x_tanh, y_sum), "tanh", radius=0.36, fontsize=_FONT - 2)
        arrow(ax, total, squash, color=grey)
        arrow(ax, squash, box(ax, (x_n, y_sum), r"$n_t$", "hidden", 0.8, 0.55, fontsize=_FONT - 1), color=grey)
        ax.text(5.05, -0.45, formula, ha="center", va="center", fontsize=_FONT - 2)
    fig.tight_layout()
    return fig
