"""The grading engine: one submission in, one result out; the gradebook; the cluster.

``runner.grade_submission(plan, notebook bytes, limits)`` is the grading core,
run by the local process pool (``autograder.commands.grade``) and by a Dask
cluster's workers (``cluster``) alike. It runs the learner's code through
``autograder.sandbox`` and the course's check cells here, in the grader's own
process. ``gradebook`` is the only writer of nbgrader's gradebook, called by the
``grade`` command's own process alone.

May import ``autograder.sandbox``, ``autograder.course`` and ``autograder.paths``;
never ``autograder.commands``.
"""
