"""The instructor's tooling over nbgrader: ``python -m autograder --help``, run from the repository root.

Four layers; each imports only the ones below it (and ``paths``, where things live,
which imports nothing of the course):

``autograder.commands``
    One module per command an instructor runs: ``release``, ``collect``, ``grade``,
    ``feedback``, ``report``, ``similarity`` (``autograder/__main__.py`` is the command line).
``autograder.engine``
    The grading engine: ``runner`` grades one submission (the learner's code in a
    sandbox, the course's check cells here, in the grader), ``intake`` reads a
    submission, ``results`` holds what grading produced, ``gradebook`` writes
    nbgrader's gradebook (only ``grade``'s own process calls it), ``unchanged`` recognises a
    submission that need not be graded again, ``lateness`` judges it against its due date,
    ``misconceptions`` counts the hints a class hit, ``withheld`` keeps compared values off
    every page, ``untrusted`` reads a file anyone may have put there (no link followed, bounded), ``cluster`` runs ``runner`` as Dask tasks, ``nbgrader_cli`` drives nbgrader's
    command line.
``autograder.shown`` (with ``autograder.paths``, beneath every layer)
    How text anyone may have chosen is shown: escaped HTML, formula-safe CSV, terminal-safe.
``autograder.sandbox``
    Where a submission's code runs: ``client`` (the grader's side), ``worker`` (the
    process inside), ``wire`` (their protocol), ``isolation`` (the bubblewrap boundary).
``autograder.course``
    The course's own notebooks, read: ``reference`` (solutions/ as code), ``plan``
    (an assignment's grading plan), ``submissions`` (filling a release), ``links``
    (the site's address in released notebooks), the leak finders ``leaks`` and
    ``near_copies``, and ``similarity`` (which submissions share code). Imports nothing above it.

The website's build tools and the chapters' experiments are not grading: they are
in ``tools/`` at the repository root. Nothing here is distributed to learners.
"""
