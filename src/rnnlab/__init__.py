"""rnnlab: the helper package of *Recurrent Neural Networks from Scratch*.

Modules
-------
gradcheck
    Numerical gradients by central differences and a gradient checker.
checks
    The assertions used by the assignments' tests: shapes, values, gradients,
    unmodified inputs, each failing with a message that names what is wrong,
    by how much, and where to look.
data
    The shipped public-domain corpus and text utilities for language models.
tasks
    Synthetic tasks that need a long memory (delayed recall).
diagrams
    Matplotlib drawings used by the book (unrolled networks, cells, architectures),
    a package: the shared style in ``diagrams.common``, then one module per
    chapter, named by its slug (``diagrams.lstm``, ``diagrams.bidirectional``...).

This package never contains a solution to a graded function: learners install it.
"""

__version__ = "0.3.0"  # keep equal to pyproject.toml
