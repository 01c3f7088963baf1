"""The instructor's tooling over nbgrader: ``python -m autograder --help``, run from the repository root.

Four layers; each imports only the ones below it (and ``paths``, where things live,
which imports nothing of the course):

``autograder.commands``
    One module per command an instructor runs: ``release``, ``collect``, ``grade``,
    ``feedback``, ``report`` (``autograder/__main__.py`` is the command line).
``autograder.engine``
    The grading engine: ``runner`` grades one submission (the learner's code in a
    sandbox, the course's check cells here, in the grader), ``intake`` reads a
    submission, ``results`` holds what grading produced, ``gradebook`` writes
    nbgrader's gradebook (only ``grade``'s own process calls it), ``cluster`` runs
    ``runner`` as Dask tasks, ``nbgrader_cli`` drives nbgrader's command line.
``autograder.sandbox``
    Where a submission's code runs: ``client`` (the grader's side), ``worker`` (the
    process inside), ``wire`` (their protocol), ``isolation`` (the bubblewrap boundary).
``autograder.course``
    The course's own notebooks, read: ``reference`` (solutions/ as code), ``plan``
    (an assignment's grading plan), ``submissions`` (filling a release), ``links``
    (the site's address in released notebooks), and the leak finders ``leaks`` and
    ``near_copies``. Imports nothing above it.

The website's build tools and the chapters' experiments are not grading: they are
in ``tools/`` at the repository root. Nothing here is distributed to learners.
"""
