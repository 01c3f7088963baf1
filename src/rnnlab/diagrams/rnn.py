"""Drawings for the chapter *The vanilla RNN* (``book/rnn.md``).

Public diagrams
---------------
draw_unrolled_rnn
    A vanilla RNN folded (one cell with a loop) and unrolled over time.
draw_step_graph
    The computational graph of one RNN step, optionally with its gradients.
draw_concatenation
    The product ``[x_t, h_{t-1}] [W_x; W_h]`` drawn as blocks of the right shapes.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from .common import _FONT, COLORS, arrow, box, matrix_block, new_canvas, op_node

__all__ = ["draw_unrolled_rnn", "draw_step_graph", "draw_concatenation"]


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
