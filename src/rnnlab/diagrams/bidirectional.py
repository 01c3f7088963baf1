"""Drawings for the chapter *Bidirectional and stacked RNNs* (``book/bidirectional.md``).

Built from the primitives of :mod:`rnnlab.diagrams.common` (:func:`~rnnlab.diagrams.new_canvas`,
:func:`~rnnlab.diagrams.box`, :func:`~rnnlab.diagrams.arrow`) and drawn in the
same style: inputs blue, outputs green, white backgrounds, Matplotlib's bundled
fonts. The two directions of a bidirectional layer get two colours of their own:
the forward states orange (the course's colour of hidden states), the backward
states pink.

Time steps are numbered as in the equations, from 1: the inputs are
:math:`x_1, \\ldots, x_T`, the forward initial state :math:`\\overrightarrow{h}_0`
(``h0_f``) is drawn at the left, before the first step, and the backward initial
state :math:`\\overleftarrow{h}_{T+1}` (``h0_b``) at the right, where it enters at
the last step. Up to three steps are numbered :math:`1, 2, 3`; with more, the
columns are numbered :math:`1` to ``steps - 1`` and the last one, :math:`T`, is
set apart by an ellipsis :math:`\\cdots` in each row, for the steps not drawn
(as in :func:`~rnnlab.diagrams.draw_unrolled_rnn`).

Public diagrams
---------------
draw_birnn
    A bidirectional RNN unrolled over time: a forward row read left to right, a
    backward row read right to left, and their states concatenated per step.
draw_stacked_birnn
    A stack of bidirectional layers: the concatenated states of layer ``l`` are
    the inputs of both directions of layer ``l + 1``.
draw_padded_batch
    A padded batch of sequences of unequal length, and the order in which the
    backward direction reads it when the whole row is reversed (wrong) and when
    each sequence is reversed within its length (right).
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle

from .common import _EDGES, _FONT, COLORS, arrow, box, new_canvas

__all__ = ["DIRECTION_COLORS", "draw_birnn", "draw_stacked_birnn", "draw_padded_batch"]

#: Fill and edge colours of the two directions: ``"forward"`` and ``"backward"``.
DIRECTION_COLORS = {
    "forward": ("#fcd9b0", "#c05621"),
    "backward": ("#f8cfe0", "#b83280"),
}
_GREY = "#555555"


def _state_box(ax: Axes, center, text: str, direction: str, width: float = 0.8, height: float = 0.52,
               fontsize: float = _FONT - 1) -> FancyBboxPatch:
    """A rounded box in the colours of one direction, usable as an end of :func:`~rnnlab.diagrams.arrow`."""
    face, edge = DIRECTION_COLORS[direction]
    x, y = center
    patch = FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                           boxstyle="round,pad=0.02,rounding_size=0.12", facecolor=face, edgecolor=edge,
                           linewidth=1.5, zorder=2)
    patch.rnnlab_center = (x, y)
    ax.add_patch(patch)
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=3)
    return patch


def _concat_box(ax: Axes, center, width: float = 1.0, height: float = 0.5, text_left: str = "",
                text_right: str = "", fontsize: float = _FONT - 2) -> Rectangle:
    """A two-part box: the forward half (left, orange) and the backward half (right, pink)."""
    x, y = center
    for k, direction in enumerate(("forward", "backward")):
        face, _ = DIRECTION_COLORS[direction]
        ax.add_patch(Rectangle((x - width / 2 + k * width / 2, y - height / 2), width / 2, height,
                               facecolor=face, edgecolor="none", zorder=2))
        label = text_left if k == 0 else text_right
        if label:
            ax.text(x - width / 4 + k * width / 2, y, label, ha="center", va="center", fontsize=fontsize, zorder=3)
    outline = Rectangle((x - width / 2, y - height / 2), width, height, fill=False, edgecolor=_GREY,
                        linewidth=1.5, zorder=3)
    outline.rnnlab_center = (x, y)
    ax.add_patch(outline)
    ax.plot([x, x], [y - height / 2, y + height / 2], color=_GREY, lw=1.0, zorder=3)
    return outline


#: With more steps than this, the figures draw the last column as :math:`T`, after an ellipsis.
_MOST_NUMBERED = 3


def _time_axis(steps: int, first: float, spacing: float) -> tuple[list[float], list[str], float | None]:
    """The columns of ``steps`` time steps: their x positions, their labels and the ellipsis's x.

    Steps are numbered from 1, as in the equations. With more than three steps the last column is
    labelled ``T`` and moved one ``spacing`` further right, to make room for an ellipsis column
    (whose x is returned; ``None`` when every step is drawn).
    """
    if steps <= _MOST_NUMBERED:
        return [first + spacing * k for k in range(steps)], [str(t) for t in range(1, steps + 1)], None
    xs = [first + spacing * k for k in range(steps - 1)] + [first + spacing * steps]
    labels = [str(t) for t in range(1, steps)] + ["T"]
    return xs, labels, first + spacing * (steps - 1)


def _ellipsis(ax: Axes, x: float, y: float) -> None:
    ax.text(x, y, r"$\cdots$", ha="center", va="center", fontsize=_FONT + 4)


def _recurrent_arrow(ax: Axes, start, end, direction: str, x_ellipsis: float | None) -> None:
    """A recurrent arrow of one direction, split around the ellipsis column if it crosses it."""
    style = dict(color=DIRECTION_COLORS[direction][1], linewidth=1.8)
    a, b = start.rnnlab_center, end.rnnlab_center
    if x_ellipsis is None or not min(a[0], b[0]) < x_ellipsis < max(a[0], b[0]):
        arrow(ax, start, end, **style)
        return
    step = 0.45 if b[0] > a[0] else -0.45
    arrow(ax, start, (x_ellipsis - step, a[1]), **style)
    arrow(ax, (x_ellipsis + step, b[1]), end, **style)


def _layer(ax: Axes, xs: Sequence[float], names: Sequence[str], below: Sequence, y_f: float, y_b: float,
           y_out: float, labels: bool, layer: int | None, x_ellipsis: float | None = None, offset: float = 0.42):
    """One bidirectional layer over the columns ``xs`` (steps ``names``), fed by the patches ``below``.

    With ``x_ellipsis``, an ellipsis stands in each row at that x, and the recurrent arrows that
    cross it are split around it. Returns the forward boxes, the backward boxes and the
    concatenated output boxes.
    """
    steps = len(xs)
    sup = "" if layer is None else f"^{{({layer})}}"
    forward, backward, outputs = [], [], []
    for name, cx in zip(names, xs):
        fwd_text = rf"$\overrightarrow{{h}}{sup}_{{{name}}}$" if labels else ""
        bwd_text = rf"$\overleftarrow{{h}}{sup}_{{{name}}}$" if labels else ""
        forward.append(_state_box(ax, (cx - offset, y_f), fwd_text, "forward"))
        backward.append(_state_box(ax, (cx + offset, y_b), bwd_text, "backward"))
    for t in range(steps):
        arrow(ax, below[t], forward[t], color=DIRECTION_COLORS["forward"][1])
        arrow(ax, below[t], backward[t], color=DIRECTION_COLORS["backward"][1])
        if t > 0:
            _recurrent_arrow(ax, forward[t - 1], forward[t], "forward", x_ellipsis)
            _recurrent_arrow(ax, backward[t], backward[t - 1], "backward", x_ellipsis)
    for t, cx in enumerate(xs):
        out = _concat_box(ax, (cx, y_out), width=1.1, height=0.5,
                          text_left=r"$\rightarrow$" if labels else "", text_right=r"$\leftarrow$" if labels else "")
        arrow(ax, forward[t], out, color=_GREY)
        arrow(ax, backward[t], out, color=_GREY)
        outputs.append(out)
    if x_ellipsis is not None:
        for y in (y_f, y_b, y_out):
            _ellipsis(ax, x_ellipsis, y)
    return forward, backward, outputs


def draw_birnn(steps: int = 4, ax: Axes | None = None) -> Figure:
    """A bidirectional RNN unrolled over ``steps`` time steps, numbered from 1 as in the equations.

    The inputs :math:`x_t` (blue, bottom) feed two independent RNNs with their own
    weights: the forward RNN (orange) reads left to right from
    :math:`\\overrightarrow{h}_0` (``h0_f``, at the left), the backward RNN (pink)
    reads right to left from :math:`\\overleftarrow{h}_{T+1}` (``h0_b``, at the
    right), which enters at the last step. At every step the two states are
    concatenated (top), forward half first: for step :math:`t`, ``h[:, t-1, :H]``
    and ``h[:, t-1, H:]``. Up to three steps are numbered :math:`1, 2, 3`, and the
    backward initial state is then :math:`\\overleftarrow{h}_{4}` (for three steps);
    with more, the last column is :math:`T`, after an ellipsis, and the backward
    initial state :math:`\\overleftarrow{h}_{T+1}`.
    """
    if steps < 1:
        raise ValueError("steps must be at least 1")
    spacing = 2.3
    xs, names, x_ellipsis = _time_axis(steps, 2.0, spacing)
    last = names[-1]
    after = "T+1" if last == "T" else str(steps + 1)
    width = xs[-1] + 4.3
    left = -2.7
    fig_width = min(0.7 * (width - left), 12)
    fig, ax = new_canvas(width=fig_width, height=fig_width * 4.9 / (width - left), xlim=(left, width),
                         ylim=(-0.05, 4.85), ax=ax)
    y_x, y_f, y_b, y_out = 0.45, 1.7, 2.95, 4.25
    inputs = [box(ax, (cx, y_x), rf"$x_{{{name}}}$", "input", 0.75, 0.5) for name, cx in zip(names, xs)]
    if x_ellipsis is not None:
        _ellipsis(ax, x_ellipsis, y_x)
    forward, backward, outputs = _layer(ax, xs, names, inputs, y_f, y_b, y_out, labels=True, layer=None,
                                        x_ellipsis=x_ellipsis)
    h0_f = _state_box(ax, (0.3, y_f), r"$\overrightarrow{h}_{0}$", "forward", 0.75)
    x_h0_b = xs[-1] + 1.95
    h0_b = _state_box(ax, (x_h0_b, y_b), rf"$\overleftarrow{{h}}_{{{after}}}$", "backward", 0.95)
    arrow(ax, h0_f, forward[0], color=DIRECTION_COLORS["forward"][1], linewidth=1.8)
    arrow(ax, h0_b, backward[-1], color=DIRECTION_COLORS["backward"][1], linewidth=1.8)
    ax.text(0.3, y_f - 0.4, "enters at $t = 1$", ha="center", va="top", fontsize=_FONT - 3)
    ax.text(x_h0_b, y_b - 0.4, f"enters at $t = {last}$", ha="center", va="top", fontsize=_FONT - 3)
    for y, text, color in [
        (y_x, "inputs", _EDGES["input"]),
        (y_f, "forward RNN\nreads $x_1, x_2, \\ldots$", DIRECTION_COLORS["forward"][1]),
        (y_b, "backward RNN\nreads $x_T, x_{T-1}, \\ldots$", DIRECTION_COLORS["backward"][1]),
        (y_out, "outputs $h_t$,\nconcatenated", "#333333"),
    ]:
        ax.text(left + 0.1, y, text, ha="left", va="center", fontsize=_FONT - 2, color=color)
    ax.text(xs[-1] + 0.75, y_out + 0.12, "h[:, t-1, :H] | h[:, t-1, H:]", ha="left", va="bottom",
            fontsize=_FONT - 3, family="monospace", color="#333333")
    ax.text(xs[-1] + 0.75, y_out - 0.12, "forward | backward", ha="left", va="top",
            fontsize=_FONT - 3, color="#333333")
    return fig


def draw_stacked_birnn(layers: int = 2, steps: int = 4, ax: Axes | None = None) -> Figure:
    """A stack of ``layers`` bidirectional layers unrolled over ``steps`` steps, numbered from 1.

    Each layer has a forward row (orange) and a backward row (pink); its
    concatenated states (two-coloured boxes) are the inputs of *both* directions
    of the layer above, and those of the top layer are the stack's outputs. Up to
    three steps are numbered :math:`t = 1, 2, 3`; with more, the last column is
    :math:`t = T`, after an ellipsis in each row.
    """
    if layers < 1 or steps < 1:
        raise ValueError("layers and steps must be at least 1")
    spacing = 2.3
    xs, names, x_ellipsis = _time_axis(steps, 1.9, spacing)
    width = xs[-1] + 1.7
    per_layer = 3.2
    height = 1.2 + per_layer * layers + 0.1
    scale = min(0.75, 9.5 / (width + 0.8), 8.5 / height)
    fig, ax = new_canvas(width=scale * (width + 0.8), height=scale * height, xlim=(-0.8, width),
                         ylim=(0.0, height), ax=ax)
    y = 0.6
    below = [box(ax, (cx, y), rf"$x_{{{name}}}$", "input", 0.75, 0.5) for name, cx in zip(names, xs)]
    if x_ellipsis is not None:
        _ellipsis(ax, x_ellipsis, y)
    ax.text(xs[0] - 1.0, y, "inputs", ha="right", va="center", fontsize=_FONT - 2, style="italic")
    for layer in range(1, layers + 1):
        y_f, y_b, y_out = y + 1.1, y + 2.1, y + per_layer
        _, _, below = _layer(ax, xs, names, below, y_f, y_b, y_out, labels=False, layer=layer,
                             x_ellipsis=x_ellipsis)
        name = "outputs" if layer == layers else f"layer {layer}\noutputs"
        ax.text(xs[0] - 1.0, y_out, name, ha="right", va="center", fontsize=_FONT - 2, style="italic")
        ax.text(xs[0] - 1.0, (y_f + y_b) / 2, f"layer {layer}", ha="right", va="center", fontsize=_FONT - 1,
                weight="bold")
        y = y_out
    for name, cx in zip(names, xs):
        ax.text(cx, height - 0.05, f"$t = {name}$", ha="center", va="top", fontsize=_FONT - 2)
    return fig


def draw_padded_batch(sequences: Sequence[Sequence[str]] = (
        ("the", "cat", "sat", "on", "the", "mat"), ("dogs", "chase", "the", "cat"), ("cats", "sleep")),
        T: int | None = None) -> Figure:
    """A padded batch and the backward direction's reading order, wrong (top) and right (bottom).

    Row ``n`` holds sequence ``n`` followed by padding up to length ``T`` (the
    longest sequence by default). Top: the whole padded row reversed, so the
    backward RNN starts at step :math:`T` (column ``T - 1``) and reads the
    padding first (red). Bottom: each sequence reversed within its own length,
    so the backward RNN starts at its own last token, step :math:`L_n` (column
    ``L_n - 1``). The dot marks where the backward initial state (``h0_b``)
    enters. Rows are named by their index in the batch, ``n``, from 0 as in code.
    Returns a Figure with two Axes, one above the other.
    """
    import matplotlib.pyplot as plt

    sequences = [list(s) for s in sequences]
    if not sequences or any(len(s) == 0 for s in sequences):
        raise ValueError("every sequence needs at least one token")
    T = max(len(s) for s in sequences) if T is None else T
    if T < max(len(s) for s in sequences):
        raise ValueError("T is shorter than the longest sequence")
    N = len(sequences)
    cw, ch = 1.0, 0.62
    x_range, y_range = T * cw + 1.9, N * (ch + 0.45) + 1.1
    panel_width = min(0.95 * x_range, 7.5)
    panel_height = panel_width * y_range / x_range + 0.6
    fig, axes = plt.subplots(2, 1, figsize=(panel_width, 2 * panel_height), facecolor="white")
    titles = ["reversing the whole padded row (wrong):\nthe backward RNN starts on padding",
              "reversing each sequence within its length (right):\nit starts at its own last token"]
    pad_face, pad_edge = "#eeeeee", "#999999"
    bad = COLORS["grad"]
    backward_edge = DIRECTION_COLORS["backward"][1]
    for panel, (ax, title) in enumerate(zip(axes, titles)):
        new_canvas(ax=ax, xlim=(-1.5, T * cw + 0.4), ylim=(-1.0, N * (ch + 0.45) + 0.1))
        ax.set_title(title, fontsize=_FONT - 1)
        for n, tokens in enumerate(sequences):
            L = len(tokens)
            y0 = (N - 1 - n) * (ch + 0.45) + 0.1
            ax.text(-0.15, y0 + ch / 2, f"$L_{n} = {L}$", ha="right", va="center", fontsize=_FONT - 2)
            for t in range(T):
                valid = t < L
                read_first = panel == 0 and not valid
                ax.add_patch(Rectangle((t * cw + 0.04, y0), cw - 0.08, ch,
                                       facecolor=COLORS["input"] if valid else pad_face,
                                       edgecolor=bad if read_first else (_EDGES["input"] if valid else pad_edge),
                                       linewidth=2.0 if read_first else 1.0, zorder=1))
                ax.text(t * cw + cw / 2, y0 + ch / 2, tokens[t] if valid else "pad", ha="center", va="center",
                        fontsize=_FONT - 3, color="#222222" if valid else "#888888", zorder=2)
            start = T - 1 if panel == 0 else L - 1
            y_arrow = y0 - 0.16
            x_start = start * cw + cw - 0.15
            ax.plot([x_start], [y_arrow], "o", color=bad if (panel == 0 and start >= L) else backward_edge, ms=5,
                    zorder=3)
            arrow(ax, (x_start, y_arrow), (0.15, y_arrow), color=backward_edge, linewidth=1.3)
        ax.plot([0.2], [-0.5], "o", color=backward_edge, ms=5)
        where = "$t = T$ in every row" if panel == 0 else "$t = L_n$, each sequence's own last step"
        ax.text(0.4, -0.5, f"where the backward initial state enters: {where}", ha="left",
                va="center", fontsize=_FONT - 3, color=backward_edge)
        if panel == 0:
            ax.text(0.4, -0.85, "red: padding read before the sequence's own last token", ha="left",
                    va="center", fontsize=_FONT - 3, color=bad)
    fig.tight_layout()
    return fig
