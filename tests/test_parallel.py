"""Does the parallel test run keep together what must not be split, in the order that keeps both
cores busy (tests/parallel.py)?"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

import parallel


def item(nodeid: str, *fixtures: str):
    return SimpleNamespace(nodeid=nodeid, fixturenames=list(fixtures))


CLASS = [item("tests/test_feedback.py::test_a", "graded", "class_course"),
         item("tests/test_report.py::test_b", "class_course", "tmp_path")]
WEBSITE_READERS = [item("tests/test_site.py::test_c", "built_site"), item("tests/test_learner.py::test_d", "learner", "built_site")]
BUILDER = item("tests/test_book.py::test_e", "built_site")
PLAIN = [item("tests/test_data.py::test_f"), item("tests/test_cluster.py::test_g", "database"),
         item("tests/test_data.py::test_h", "tmp_path")]


def test_does_every_test_of_the_graded_class_share_one_group_and_every_other_test_its_files():
    assert {parallel.group_of(i) for i in CLASS} == {parallel.GRADED_CLASS}
    assert [parallel.group_of(i) for i in PLAIN + WEBSITE_READERS] == [
        "tests/test_data.py", "tests/test_cluster.py", "tests/test_data.py", "tests/test_site.py", "tests/test_learner.py"]


def test_is_the_queue_the_build_then_the_class_then_the_rest_then_the_website_readers_longest_first(monkeypatch):
    # test_data.py is made the longest file: the class must still come before it.
    monkeypatch.setattr(parallel, "LONGEST_FILES", ("tests/test_data.py", "tests/test_cluster.py", "tests/test_learner.py"))
    items = [*WEBSITE_READERS, *PLAIN, *CLASS, BUILDER]
    parallel.order_and_group(SimpleNamespace(), items)
    assert [i.nodeid.split("::")[1] for i in items] == [
        "test_e",            # builds the website
        "test_a", "test_b",  # the graded class
        "test_f", "test_h",  # test_data.py, the longest of the other files, in its own order
        "test_g",            # test_cluster.py
        "test_d",            # test_learner.py reads the website and is longer than test_site.py
        "test_c"]


def test_does_a_worker_write_the_groups_and_the_scheduler_read_them(tmp_path, monkeypatch):
    items = [*PLAIN, *CLASS]
    config = SimpleNamespace(workerinput={"course_test_groups": str(tmp_path), "workerid": "gw0"})
    parallel.order_and_group(config, items)
    written = json.loads((tmp_path / "gw0.json").read_text())
    assert written["tests/test_report.py::test_b"] == parallel.GRADED_CLASS
    assert written["tests/test_data.py::test_h"] == "tests/test_data.py"
    assert not list(tmp_path.glob("*.part"))

    pytest.importorskip("xdist")
    monkeypatch.setattr(parallel._Groups, "folder", tmp_path)
    controller = SimpleNamespace(option=SimpleNamespace(loadscopereorder=True, maxschedchunk=None),
                                 getvalue={"tx": ["2*popen"]}.get)  # as -n 2 sets it
    scheduler = parallel.pytest_xdist_make_scheduler(controller, log=None)
    assert controller.option.loadscopereorder is False
    assert scheduler._split_scope("tests/test_feedback.py::test_a") == parallel.GRADED_CLASS
    assert scheduler._split_scope("tests/test_cluster.py::test_g") == "tests/test_cluster.py"
