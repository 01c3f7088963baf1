"""Where a submission's code runs: a separate process inside an operating-system boundary.

``client`` (the grader's side: start, call, stop), ``worker`` (the process that
holds the submission's namespace), ``wire`` (the protocol between them: only
exact built-in types cross, never pickle), ``isolation`` (bubblewrap:
namespaces, a read-only view built from an empty root, seccomp, limits) and
``cgroups`` (one memory group per sandbox, counting all its memory in one limit).

``worker`` and ``wire`` (with this file and ``autograder/__init__.py``) are all of
the course's code mounted inside the sandbox; they import nothing of the course.
``client``, ``isolation`` and ``cgroups`` may import ``autograder.paths`` and each other only. Nothing here
imports the engine or the commands. Keep this file free of imports.
"""
