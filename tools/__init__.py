"""The website's tooling, used by dev.py, the chapters and the tests; not part of grading.

``book`` builds the site strictly (the one build dev.py, the tests and the
benchmark run), ``mathjax`` fetches and verifies the MathJax the site serves
itself, ``experiments`` trains the chapters' models from the reference code
(``autograder.course.reference``), so a chapter's figures come from
``rnnlab.diagrams`` (drawings) and from here (trained results).

May import ``autograder.paths``, ``autograder.course`` and ``autograder.engine``
(nbgrader's command-line environment); nothing of ``autograder`` imports tools.
"""
