"""Drawings for the chapter *Backpropagation through time* (``book/bptt.md``).

Public diagrams
---------------
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
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

from .common import _EDGES, _FONT, _GRAD_STYLE, COLORS, arrow, box, new_canvas

__all__ = ["draw_bptt_graph", "draw_two_descendants", "draw_tbptt_windows", "draw_clipping", "draw_char_lm"]


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
