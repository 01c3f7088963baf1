"""What the tests of rnnlab.diagrams share: counting patches, reading texts, rendering, readability.

Imported by the tests/test_diagrams_*.py files (pytest puts tests/ on the path).
"""

import itertools

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch
from matplotlib.text import Text

from rnnlab import diagrams


def _count(fig: Figure, kind) -> int:
    return sum(isinstance(p, kind) for ax in fig.axes for p in ax.patches)


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _render(fig: Figure) -> None:
    """Draw for real, so that mathtext errors in labels surface here and not in the book."""
    fig.canvas.draw()


def _text_extents(fig: Figure) -> list[tuple[str, object]]:
    """Every visible, non-empty text of the figure (labels, titles, legends) with its box in pixels."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    found = []
    for ax in fig.axes:
        texts = list(ax.texts) + [ax.title]
        if ax.get_legend() is not None:
            texts += ax.get_legend().get_texts()
        for t in texts:
            if t.get_visible() and t.get_text().strip():
                # Text's own extent: for an annotation, the text without its arrow
                found.append((t.get_text(), Text.get_window_extent(t, renderer)))
    return found


def _assert_texts_readable(fig: Figure, pad: float = 1.0) -> None:
    """No two texts overlap (by more than ``pad`` pixels) and none sticks out of the figure."""
    extents = _text_extents(fig)
    overlapping = [(a, b) for (a, p), (b, q) in itertools.combinations(extents, 2)
                   if p.x0 + pad < q.x1 and q.x0 + pad < p.x1 and p.y0 + pad < q.y1 and q.y0 + pad < p.y1]
    assert not overlapping, f"overlapping texts: {overlapping}"
    page = fig.bbox
    clipped = [a for a, p in extents if p.x0 < page.x0 or p.y0 < page.y0 or p.x1 > page.x1 or p.y1 > page.y1]
    assert not clipped, f"texts cut off at the edge of the figure: {clipped}"


def _positions(ax, text: str) -> list[tuple[float, float]]:
    """Data coordinates of every text of ``ax`` that is exactly ``text``."""
    return [t.get_position() for t in ax.texts if t.get_text() == text]


def _dashed_red_arrows(fig: Figure) -> int:
    red = matplotlib.colors.to_rgb(diagrams.COLORS["grad"])
    return sum(isinstance(p, FancyArrowPatch) and p.get_edgecolor()[:3] == red and p.get_linestyle() != "-"
               for ax in fig.axes for p in ax.patches)
