"""Drawings for the chapter *Sequences* (``book/sequences.md``).

Public diagrams
---------------
draw_architectures
    One-to-one, one-to-many, many-to-one, many-to-many (synchronised and delayed).
draw_recurrence_kinds
    Hidden-to-hidden, output-to-hidden, teacher forcing and free running.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .common import _EDGES, _FONT, arrow, box, new_canvas

__all__ = ["draw_architectures", "draw_recurrence_kinds"]


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
