"""The building blocks of rnnlab.diagrams.common draw, and the package re-exports every chapter's drawings."""

import pytest
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

from rnnlab import diagrams

from diagram_helpers import _count, _render


def test_building_blocks_draw_on_a_given_axes():
    fig, ax = diagrams.new_canvas()
    a = diagrams.box(ax, (2, 2), "$x_t$", "input")
    b = diagrams.box(ax, (6, 2), "$h_t$", "hidden")
    c = diagrams.op_node(ax, (4, 4), "+")
    diagrams.arrow(ax, a, b, "$W_x$")
    diagrams.arrow(ax, c, (8, 5))
    diagrams.matrix_block(ax, (1, 4), 2, 3, "param", label="$W$")
    _render(fig)
    assert len(fig.axes) == 1
    assert _count(fig, FancyBboxPatch) == 2
    assert _count(fig, Circle) == 1
    assert _count(fig, FancyArrowPatch) == 2
    assert _count(fig, Rectangle) == 2 * 3 + 1
    assert not ax.axison


def test_box_rejects_an_unknown_kind():
    fig, ax = diagrams.new_canvas()
    with pytest.raises(KeyError):
        diagrams.box(ax, (0, 0), "?", "nonsense")


def test_the_package_re_exports_every_public_name_of_its_modules():
    """Chapters call ``diagrams.draw_x(...)``: every module's public names are the package's."""
    import importlib

    for name in ["common", "sequences", "rnn", "bptt", "lstm", "gru", "bidirectional"]:
        module = importlib.import_module(f"rnnlab.diagrams.{name}")
        for public in module.__all__:
            assert public in diagrams.__all__, (name, public)
            assert getattr(diagrams, public) is getattr(module, public), (name, public)


def test_chapter_modules_import_only_the_common_module():
    """One direction of imports: a chapter's module never imports another chapter's."""
    import ast
    from pathlib import Path

    folder = Path(diagrams.__file__).parent
    for path in sorted(folder.glob("*.py")):
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        relative = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level}
        assert relative <= ({"common"} if path.stem != "common" else set()), (path.name, relative)
        assert not any(isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rnnlab")
                       for node in ast.walk(tree)), path.name
