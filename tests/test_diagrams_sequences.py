"""The drawings of the chapter on sequences (rnnlab.diagrams.sequences) draw without error, with the expected panels."""

import matplotlib
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from rnnlab import diagrams

from diagram_helpers import _assert_texts_readable, _render


def test_architectures_has_five_panels_and_a_key():
    fig = diagrams.draw_architectures()
    _render(fig)
    assert len(fig.axes) == 6
    titles = [ax.get_title() for ax in fig.axes]
    for name in ["one-to-one", "one-to-many", "many-to-one", "synchronised", "delayed", "key"]:
        assert any(name in t for t in titles), name
    boxes = [sum(isinstance(p, FancyBboxPatch) for p in ax.patches) for ax in fig.axes]
    # one-to-one 3; one-to-many 1 + 4 + 4; many-to-one 4 + 4 + 1; synchronised 12;
    # delayed 3 + 3 encoder, context, 3 + 3 decoder; key 4.
    assert boxes == [3, 9, 9, 12, 13, 4]
    assert any(isinstance(p, FancyBboxPatch) and p.get_facecolor()[:3] == matplotlib.colors.to_rgb(
        diagrams.COLORS["context"]) for p in fig.axes[4].patches)


def test_architectures_key_calls_outputs_y_hat():
    fig = diagrams.draw_architectures()
    key = fig.axes[5]
    texts = [t.get_text() for t in key.texts]
    # outputs are scores, y-hat; y alone is kept for the targets
    assert r"output $\hat y$" in texts
    assert "output $y$" not in texts and not any("$y$" in t for t in texts)
    assert {"hidden state $h$", "input $x$", "context vector $c$"} <= set(texts)
    _assert_texts_readable(fig)


def test_recurrence_kinds_has_four_panels_of_three_steps():
    fig = diagrams.draw_recurrence_kinds()
    _render(fig)
    assert len(fig.axes) == 4
    for ax in fig.axes:
        assert sum(isinstance(p, FancyBboxPatch) for p in ax.patches) == 9
        # 2 arrows inside each of 3 steps + 2 recurrent connections
        assert sum(isinstance(p, FancyArrowPatch) for p in ax.patches) == 8
    titles = " ".join(ax.get_title() for ax in fig.axes)
    assert "Elman" in titles and "Jordan" in titles and "teacher forcing" in titles


def test_figures_have_white_backgrounds():
    for fig in [diagrams.draw_architectures(), diagrams.draw_recurrence_kinds()]:
        assert matplotlib.colors.to_hex(fig.get_facecolor()) == "#ffffff"
