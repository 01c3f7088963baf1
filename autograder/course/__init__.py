"""The course's own notebooks, read: reference code, grading plans, releases, leaks.

``reference`` turns solutions/ into code (for the grader and the chapters'
experiments), ``plan`` reads an assignment's grading plan, ``submissions`` fills a
released notebook with answers (tests, benchmarks), ``links`` puts the site's
address into released notebooks, ``leaks`` and ``near_copies`` find solution code
where learners could see it (as text, and up to renaming), and ``similarity`` finds code
that submissions share with each other (up to renaming, with ``near_copies``' normaliser).

Imports only ``autograder.paths`` and itself.
"""
