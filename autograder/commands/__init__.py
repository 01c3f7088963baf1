"""The instructor's commands, one module each: ``python -m autograder <command>``.

Each module defines ``configure(parser)`` (its options, each with help text) and
``run(args)``. Commands may import ``autograder.engine``, ``autograder.sandbox``
(to check isolation before grading), ``autograder.course`` and ``autograder.paths``;
nothing imports a command.
"""
