"""Matplotlib drawings used by the book: boxes, arrows and the course's diagrams.

Every diagram is drawn by code so that it can be regenerated, corrected and
restyled in one place. The small building blocks (:func:`new_canvas`,
:func:`box`, :func:`op_node`, :func:`arrow`, :func:`matrix_block`) draw on a
given Axes; the diagrams built from them return the Figure they drew, or draw
on an Axes passed as ``ax``.

Colours follow one convention throughout the book:

* inputs ``x`` are blue,
* hidden states ``h`` are orange,
* outputs ``y`` are green,
* context vectors and parameters are purple and grey.

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
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

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
]

#: Fill colours by role; edges are a darker shade of the same hue.
COLORS = {
    "input": "#cfe2f3",
    "hidden": "#fcd9b0",
    "output": "#d3ecc9",
    "context": "#e4d4f0",
    "param": "#e6e6e6",
    "op": "#ffffff",
    "grad": "#c0392b",
}
_EDGES = {
    "input": "#2b6cb0",
    "hidden": "#c05621",
    "output": "#2f855a",
    "context": "#6b46c1",
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
    ``"output"``, ``"context"``, ``"param"``, ``"op"``). Returns the patch, which
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
    state :math:`h_0`, inputs :math:`x_1\\ldots x_T` and outputs :math:`y_1\\ldots y_T`.
    """
    if steps < 1:
        raise ValueError("steps must be at least 1")
    width = 4.2 + 2.0 * (steps + 1)
    fig, ax = new_canvas(width=min(1.05 * width, 12), height=4.2, xlim=(0, width), ylim=(0.2, 5.0), ax=ax)
    # Folded cell.
    fx = 1.2
    xf = box(ax, (fx, 1.0), r"$x_t$", "input")
    hf = box(ax, (fx, 2.6), r"$h_t$", "hidden")
    yf = box(ax, (fx, 4.2), r"$y_t$", "output")
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
    ax.text(fx + 1.2, 2.6, r"$W_h$", ha="center", va="center", fontsize=_FONT - 1)
    ax.text(fx + 1.95, 2.6, "=", ha="center", va="center", fontsize=20)
    ax.text(fx, 0.35, "folded", ha="center", fontsize=_FONT - 1, style="italic")
    # Unrolled network.
    x0 = fx + 2.9
    h_prev = box(ax, (x0, 2.6), r"$h_0$", "hidden")
    for t in range(1, steps + 1):
        cx = x0 + 2.0 * t
        last = t == steps and steps > 3
        label = "T" if last else str(t)
        xt = box(ax, (cx, 1.0), rf"$x_{{{label}}}$", "input")
        ht = box(ax, (cx, 2.6), rf"$h_{{{label}}}$", "hidden")
        yt = box(ax, (cx, 4.2), rf"$y_{{{label}}}$", "output")
        arrow(ax, xt, ht, r"$W_x$", text_offset=(-0.38, 0), fontsize=_FONT - 2)
        arrow(ax, ht, yt, r"$W_y$", text_offset=(-0.38, 0), fontsize=_FONT - 2)
        arrow(ax, h_prev, ht, r"$W_h$", text_offset=(0, 0.25), fontsize=_FONT - 2)
        h_prev = ht
    ax.text(x0 + 1.0 + steps, 0.35, "unrolled over time", ha="center", fontsize=_FONT - 1, style="italic")
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
        [("output", "output $y$"), ("hidden", "hidden state $h$"), ("input", "input $x$"), ("context", "context vector $c$")]
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
    equals one row of length ``H``: the pre-activation minus the bias.
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
    matrix_block(ax, (xr, y_row), 1, H, "context", c, r"$a_t - b$")
    ax.text(xr + H * c / 2, y_row - 0.35, f"(1, H) = (1, {H})", fontsize=_FONT - 2, ha="center", va="top")
    return fig
