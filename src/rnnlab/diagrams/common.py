"""What the course's drawings share: the colours, the fonts and the building blocks.

Every diagram is drawn by code so that it can be regenerated, corrected and
restyled in one place. The small building blocks (:func:`new_canvas`,
:func:`box`, :func:`op_node`, :func:`arrow`, :func:`matrix_block`) draw on a
given Axes; the diagrams built from them, in the chapters' modules of
:mod:`rnnlab.diagrams`, return the Figure they drew, or draw on an Axes passed
as ``ax``.

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

The private names ``_EDGES`` (edge colours by role), ``_FONT`` (the base font
size) and ``_GRAD_STYLE`` (the dashed red of gradient arrows) are shared by the
chapters' modules and are not part of the public interface.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

__all__ = ["COLORS", "new_canvas", "box", "op_node", "arrow", "matrix_block"]

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
#: The arrows along which a gradient flows back: dashed red.
_GRAD_STYLE = dict(color=COLORS["grad"], linestyle="--", linewidth=1.5)


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
