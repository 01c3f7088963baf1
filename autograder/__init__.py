"""The instructor's tooling over nbgrader: release, grade, and load reference code.

Run it from the repository root as ``python -m autograder --help``. Nothing here
is distributed to learners.
"""
