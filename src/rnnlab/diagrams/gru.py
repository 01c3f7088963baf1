"""Drawings for the chapter *Gated recurrent units* (``book/gru.md``).

Public diagrams
---------------
draw_gru_cell
    One GRU step (reset applied after the hidden-side product, as in cuDNN and
    PyTorch): the hidden state along the top, the update and reset gates, the
    candidate, optionally with the two roads back from h_t to h_{t-1}.
draw_gru_candidate_forms
    The GRU's candidate with the reset gate applied after the hidden-side
    product (this course, PyTorch, cuDNN) and before it (Cho et al. 2014).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch

from .common import _EDGES, _FONT, _GRAD_STYLE, COLORS, arrow, box, new_canvas, op_node

__all__ = ["draw_gru_cell", "draw_gru_candidate_forms"]


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
    box(ax, (1.35, -0.2), r"$x_t$", "input", 0.8, 0.55)
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
