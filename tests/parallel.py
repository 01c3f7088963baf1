"""How the test command spreads the tests over the cores: pytest-xdist, one worker per core, and a
scheduler that hands out *groups* of tests, each run whole by one worker.

    python3 dev.py test    passes  -n <cores> --dist loadgroup

A group is what must not be split, because splitting it would make its expensive fixture twice:

- ``graded-class``: every test of the synthetic class graded once per session (``graded``);
- otherwise the test's file (its module fixtures: a PostgreSQL server, a Dask cluster, a fresh
  learner environment, a browser...).

The website is built once per test run whichever worker asks first (``built_site`` in conftest.py
takes a lock and leaves a mark), so the files that need it need not share a worker; they are handed
out last, when the build is long finished, and the file that builds it first. The order of the
queue is therefore: the build, the graded class (the two longest), the other files, then the files
that read the website; the longest files first within each part.

Why a scheduler of our own: pytest-xdist 3.8's ``loadgroup`` marks a group by rewriting a test's
``_nodeid``, which pytest 9 no longer reads, so its groups are silently ignored. Here each worker
writes the group of every test it collected into a folder the controller names, and the scheduler
(xdist's own ``LoadScopeScheduling``, which keeps a scope on one worker) reads the groups from there.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

#: The file whose tests build the website: its group goes first.
BUILDS_THE_WEBSITE = "tests/test_book.py"
GRADED_CLASS = "graded-class"
#: The files that take longest (a serial run's --durations, summed per file), handed out first within
#: their part of the queue, so that no worker is left alone with a long one at the end. A missing or
#: stale entry costs some speed, never correctness.
LONGEST_FILES = ("tests/test_learner.py", "tests/test_cluster.py", "tests/test_escapes.py", "tests/test_term.py",
                 "tests/test_browser.py", "tests/test_bad_input.py", "tests/test_gradebook_safety.py",
                 "tests/test_cli.py", "tests/test_sandbox_memory.py", "tests/test_leaks.py")


def group_of(item) -> str:
    """The group ``item`` belongs to (see the module's docstring)."""
    fixtures = set(getattr(item, "fixturenames", ()))  # every fixture it needs, directly or not
    if fixtures & {"graded", "class_course"}:
        return GRADED_CLASS
    return item.nodeid.split("::")[0]


def order_and_group(config, items: list) -> None:
    """Sort ``items`` into the queue's order (stable: each file keeps its own order) and, in an
    xdist worker, write each test's group where the controller's scheduler reads it."""
    groups = {id(item): group_of(item) for item in items}
    reads_the_website = {groups[id(item)] for item in items if "built_site" in getattr(item, "fixturenames", ())}

    def rank(item) -> tuple[int, int]:
        group = groups[id(item)]
        if group == BUILDS_THE_WEBSITE:
            return 0, 0
        if group == GRADED_CLASS:
            return 1, 0
        longest = LONGEST_FILES.index(group) if group in LONGEST_FILES else len(LONGEST_FILES)
        return (3 if group in reads_the_website else 2), longest

    items.sort(key=rank)
    folder = getattr(config, "workerinput", {}).get("course_test_groups")
    if folder:
        mine = Path(folder) / f"{config.workerinput['workerid']}.json"
        mine.with_suffix(".part").write_text(json.dumps({item.nodeid: groups[id(item)] for item in items}))
        os.replace(mine.with_suffix(".part"), mine)  # whole or not at all


class _Groups:
    """The controller's side: the folder the workers write their groups into."""

    folder: Path | None = None

    @classmethod
    def read(cls) -> dict[str, str]:
        for written in sorted(cls.folder.glob("*.json")) if cls.folder else ():
            return json.loads(written.read_text())
        return {}


def configure_controller(config) -> None:
    if getattr(config.option, "dist", "no") == "loadgroup" and not hasattr(config, "workerinput"):
        _Groups.folder = Path(tempfile.mkdtemp(prefix="course-test-groups-"))


def unconfigure_controller(config) -> None:
    if _Groups.folder is not None:
        shutil.rmtree(_Groups.folder, ignore_errors=True)
        _Groups.folder = None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """xdist's hook, in the controller, for each worker it starts: where to write the groups."""
    if _Groups.folder is not None:
        node.workerinput["course_test_groups"] = str(_Groups.folder)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """xdist's hook: with ``--dist loadgroup``, a scheduler that keeps each group on one worker."""
    if _Groups.folder is None:
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        """xdist's scope scheduling, a scope being a group; the queue in the collection's order."""

        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:  # called only once every worker has collected (and written)
                self.groups = _Groups.read()
            return self.groups.get(nodeid, nodeid)

    config.option.loadscopereorder = False  # keep our order, not "most tests first"
    return ByGroup(config, log)
