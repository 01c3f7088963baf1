"""A grading task whose process dies on one student's submission, as a grading process killed
by the system would (imported by the spawned grading processes of tests/test_gradebook_safety.py)."""

from __future__ import annotations

import os

from autograder.commands.grade import Task, make_task

KILLER = "killer"


class DyingTask(Task):
    def run(self):
        if self.student == KILLER:
            os._exit(9)  # the whole grading process, at once
        return super().run()


def make_dying_task(job, limits, course_root) -> DyingTask:
    task = make_task(job, limits, course_root)
    return DyingTask(task.plan, task.notebook, task.student, task.limits, task.name)
