"""``python -m autograder collect``: LMS downloads and folders into nbgrader's submitted layout."""

from __future__ import annotations

import argparse
import io
import json
import os
import stat
import tempfile
import threading
import time
import tracemalloc
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from autograder.commands import collect as collect_module
from autograder.commands.collect import MB, CollectError, Limits, Problem, collect, configure, run
from autograder.paths import SLUGS

#: The pattern the module docstring once gave for Blackboard: greedy, so exploitable. Kept for
#: the tests that show collect itself stays safe with it (and for the older tests' names).
BLACKBOARD = r"[^/]*_(?P<student_id>[^_/]+)_attempt_(?P<timestamp>[\d-]+)_(?P<file_id>.+)"
DOCUMENTED_BLACKBOARD = collect_module.EXAMPLE_REGEXPS["Blackboard"]
SYMLINK = "symbolic link: not collected"


def notebook(marker: str) -> bytes:
    """A small valid notebook whose bytes identify it."""
    return json.dumps({"cells": [], "metadata": {"marker": marker}, "nbformat": 4, "nbformat_minor": 5}).encode()


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in entries.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def write_zip(path: Path, entries: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zip_bytes(entries))
    return path


def write_file(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def write_folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root``, by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(autouse=True)
def scratch(tmp_path: Path, monkeypatch) -> Path:
    """Collect's staging goes under tmp_path, so a test can see that nothing is left or escapes."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def assert_wrote_only_the_course(tmp_path: Path) -> None:
    """Nothing was written but submitted/ (the inputs aside), and the staging folder is gone."""
    assert list((tmp_path / "scratch").iterdir()) == []
    for path in tmp_path.rglob("*"):
        assert path.parts[len(tmp_path.parts)] in {"downloads", "course", "solutions", "scratch"}, path
    if (tmp_path / "course").exists():
        assert {p.relative_to(tmp_path).parts[:2] for p in (tmp_path / "course").rglob("*")} <= {
            ("course", "submitted")}


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return tmp_path / "course"


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    return tmp_path / "downloads"


def test_does_a_canvas_zip_land_in_the_submitted_layout(course, downloads):
    source = write_zip(downloads / "submissions.zip", {
        "smithjohn_12345_67890_rnn.ipynb": notebook("john"),
        "doejane_LATE_23456_78901_rnn-1.ipynb": notebook("jane"),
    })
    report = collect(source, "rnn", course)
    assert tree(course) == {
        "submitted/12345/rnn/rnn.ipynb": notebook("john"),
        "submitted/23456/rnn/rnn.ipynb": notebook("jane"),
    }
    assert [(c.student_id, c.source, c.destination, c.timestamp, c.note) for c in report.collected] == [
        ("12345", "smithjohn_12345_67890_rnn.ipynb", course / "submitted/12345/rnn/rnn.ipynb", None, ""),
        ("23456", "doejane_LATE_23456_78901_rnn-1.ipynb", course / "submitted/23456/rnn/rnn.ipynb", None,
         "renamed from rnn-1.ipynb"),
    ]
    assert report.problems == []


def test_does_a_plain_folder_land_in_the_submitted_layout_with_renamed_notebooks_noted(course, downloads):
    source = write_folder(downloads / "lstm", {
        "alice.ipynb": notebook("alice"),
        "bob/LSTM (2).ipynb": notebook("bob"),
        "carol/lstm.ipynb": notebook("carol"),
    })
    report = collect(source, "lstm", course)
    assert tree(course) == {
        "submitted/alice/lstm/lstm.ipynb": notebook("alice"),
        "submitted/bob/lstm/lstm.ipynb": notebook("bob"),
        "submitted/carol/lstm/lstm.ipynb": notebook("carol"),
    }
    assert [(c.student_id, c.note) for c in report.collected] == [
        ("alice", "renamed from alice.ipynb"),
        ("bob", "renamed from LSTM (2).ipynb"),
        ("carol", ""),
    ]
    assert report.problems == []


def test_is_a_zip_a_student_uploaded_inside_the_download_extracted_and_collected(course, downloads):
    inner = zip_bytes({"rnn.ipynb": notebook("john"), "__MACOSX/._rnn.ipynb": b"\x00\x05"})
    source = write_zip(downloads / "submissions.zip", {
        "smithjohn_12345_67890_rnn.zip": inner,
        "doejane_23456_78901_rnn.ipynb": notebook("jane"),
    })
    report = collect(source, "rnn", course)
    assert tree(course) == {
        "submitted/12345/rnn/rnn.ipynb": notebook("john"),
        "submitted/23456/rnn/rnn.ipynb": notebook("jane"),
    }
    assert [(c.student_id, c.source, c.note) for c in report.collected] == [
        ("12345", "smithjohn_12345_67890_rnn/rnn.ipynb", "renamed from rnn/rnn.ipynb"),
        ("23456", "doejane_23456_78901_rnn.ipynb", ""),
    ]
    assert report.problems == [
        Problem("smithjohn_12345_67890_rnn/__MACOSX/._rnn.ipynb", "not a notebook (macOS metadata)"),
    ]


def test_is_a_corrupt_zip_inside_the_download_reported_while_the_rest_is_collected(course, downloads):
    source = write_zip(downloads / "submissions.zip", {
        "smithjohn_12345_67890_rnn.zip": b"this is not a zip",
        "doejane_23456_78901_rnn.ipynb": notebook("jane"),
    })
    report = collect(source, "rnn", course)
    assert tree(course) == {"submitted/23456/rnn/rnn.ipynb": notebook("jane")}
    assert report.problems == [Problem("smithjohn_12345_67890_rnn.zip", "corrupt zip: File is not a zip file")]


def test_are_files_that_are_not_notebooks_reported_and_skipped(course, downloads):
    source = write_zip(downloads / "submissions.zip", {
        ".DS_Store": b"\x00",
        "__MACOSX/._smithjohn_12345_67890_rnn.ipynb": b"\x00",
        "smithjohn_12345_67890_rnn.ipynb": notebook("john"),
        "smithjohn_12345_67890_report.pdf": b"%PDF-1.4",
        "alice/.ipynb_checkpoints/rnn-checkpoint.ipynb": notebook("old alice"),
        "alice/rnn.ipynb": notebook("alice"),
    })
    report = collect(source, "rnn", course)
    assert tree(course) == {
        "submitted/12345/rnn/rnn.ipynb": notebook("john"),
        "submitted/alice/rnn/rnn.ipynb": notebook("alice"),
    }
    assert report.problems == [
        Problem(".DS_Store", "not a notebook"),
        Problem("__MACOSX/._smithjohn_12345_67890_rnn.ipynb", "not a notebook (macOS metadata)"),
        Problem("alice/.ipynb_checkpoints/rnn-checkpoint.ipynb", "hidden notebook (e.g. a Jupyter checkpoint); skipped"),
        Problem("smithjohn_12345_67890_report.pdf", "not a notebook"),
    ]


def test_is_a_file_the_regexp_does_not_match_reported_with_the_regexp(course, downloads):
    source = write_zip(downloads / "blackboard.zip", {
        "RNN_jsmith_attempt_2024-03-01-10-00-00_rnn.ipynb": notebook("jsmith"),
        "rnn_notes.ipynb": notebook("who?"),
    })
    report = collect(source, "rnn", course, regexp=BLACKBOARD)
    assert tree(course) == {
        "submitted/jsmith/rnn/rnn.ipynb": notebook("jsmith"),
        "submitted/jsmith/rnn/timestamp.txt": b"2024-03-01 10:00:00",
    }
    assert report.problems == [Problem("rnn_notes.ipynb", f"does not match the regular expression {BLACKBOARD!r}")]


def test_do_two_notebooks_without_timestamps_collect_nothing_for_that_student(course, downloads):
    source = write_folder(downloads / "gru", {
        "alice/gru.ipynb": notebook("alice 1"),
        "alice/gru-scratch.ipynb": notebook("alice 2"),
        "bob.ipynb": notebook("bob"),
    })
    report = collect(source, "gru", course)
    assert tree(course) == {"submitted/bob/gru/gru.ipynb": notebook("bob")}
    reason = ("conflict: 2 notebooks for alice (alice/gru-scratch.ipynb, alice/gru.ipynb) "
              "and no distinct timestamps to choose; nothing collected for them")
    assert report.problems == [Problem("alice/gru-scratch.ipynb", reason), Problem("alice/gru.ipynb", reason)]
    assert [c.student_id for c in report.collected] == ["bob"]


def test_does_a_timestamp_keep_the_latest_notebook_and_write_timestamp_txt(course, downloads):
    source = write_zip(downloads / "blackboard.zip", {
        "RNN_jsmith_attempt_2024-03-02-09-30-00_rnn.ipynb": notebook("second"),
        "RNN_jsmith_attempt_2024-03-01-10-00-00_rnn.ipynb": notebook("first"),
        "RNN_jsmith_attempt_2024-03-01-11-00-00_RNN (1).ipynb": notebook("first, again"),
    })
    report = collect(source, "rnn", course, regexp=BLACKBOARD)
    assert tree(course) == {
        "submitted/jsmith/rnn/rnn.ipynb": notebook("second"),
        "submitted/jsmith/rnn/timestamp.txt": b"2024-03-02 09:30:00",
    }
    [kept] = report.collected
    assert str(kept.timestamp) == "2024-03-02 09:30:00"
    assert kept.note == ("superseded RNN_jsmith_attempt_2024-03-01-10-00-00_rnn.ipynb; "
                         "superseded RNN_jsmith_attempt_2024-03-01-11-00-00_RNN (1).ipynb")
    assert report.problems == []


def test_is_an_unreadable_timestamp_reported(course, downloads):
    source = write_zip(downloads / "blackboard.zip", {"RNN_jsmith_attempt_2024-13-45-99_rnn.ipynb": notebook("x")})
    report = collect(source, "rnn", course, regexp=BLACKBOARD)
    assert not course.exists()
    assert report.problems == [Problem("RNN_jsmith_attempt_2024-13-45-99_rnn.ipynb", "unreadable timestamp '2024-13-45-99'")]


def test_is_a_zip_slip_entry_rejected_and_nothing_written_outside_submitted(tmp_path, course, downloads, monkeypatch):
    scratch = tmp_path / "scratch" / "deep"
    scratch.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # so an escape would land under tmp_path
    source = write_zip(downloads / "evil.zip", {
        "../evil.ipynb": notebook("evil"),
        "../../evil.ipynb": notebook("evil"),
        "/tmp/evil.ipynb": notebook("evil"),
        "..\\evil.ipynb": notebook("evil"),
        "smithjohn_12345_67890_rnn.ipynb": notebook("john"),
    })
    report = collect(source, "rnn", course)
    assert tree(tmp_path) == {
        "course/submitted/12345/rnn/rnn.ipynb": notebook("john"),
        "downloads/evil.zip": source.read_bytes(),
    }
    unsafe = "unsafe path in zip (absolute or '..'); skipped"
    assert report.problems == [Problem(name, unsafe) for name in
                               ["../evil.ipynb", "../../evil.ipynb", "/tmp/evil.ipynb", "..\\evil.ipynb"]]


def test_are_student_ids_with_a_path_separator_or_leading_dot_rejected(course, downloads):
    source = write_folder(downloads / "rnn", {"sub/alice_rnn.ipynb": notebook("a"), "x.evil_rnn.ipynb": notebook("b")})
    report = collect(source, "rnn", course, regexp=r"x?(?P<student_id>.+)_(?P<file_id>.+)")
    assert not course.exists()
    assert report.problems == [
        Problem("sub/alice_rnn.ipynb", "invalid student id 'sub/alice' (a path separator or a leading dot)"),
        Problem("x.evil_rnn.ipynb", "invalid student id '.evil' (a path separator or a leading dot)"),
    ]


def test_is_a_student_folder_symlinked_out_of_submitted_refused(tmp_path, course, downloads):
    outside = tmp_path / "outside"
    outside.mkdir()
    (course / "submitted").mkdir(parents=True)
    (course / "submitted" / "alice").symlink_to(outside)
    report = collect(write_folder(downloads / "rnn", {"alice.ipynb": notebook("a")}), "rnn", course)
    assert list(outside.iterdir()) == []
    assert [(p.file, p.reason.endswith("; skipped")) for p in report.problems] == [("alice.ipynb", True)]
    assert report.collected == []


@pytest.mark.parametrize("damage", ["not a zip", "truncated"])
def test_does_a_corrupt_zip_give_a_clear_error(course, downloads, damage):
    good = zip_bytes({"smithjohn_12345_67890_rnn.ipynb": notebook("john" * 200)})
    content = {"not a zip": b"<html>session expired</html>",
               "truncated": good[: len(good) // 2]}[damage]
    source = downloads / "submissions.zip"
    source.parent.mkdir(parents=True)
    source.write_bytes(content)
    with pytest.raises(CollectError, match=r"cannot read .*submissions\.zip as a zip .*download it again"):
        collect(source, "rnn", course)
    assert not (course / "submitted" / "12345" / "rnn" / "rnn.ipynb").exists()


def test_is_a_damaged_entry_of_the_download_reported_while_the_rest_is_collected(course, downloads):
    good = zip_bytes({"smithjohn_12345_67890_rnn.ipynb": notebook("john" * 200),
                      "doejane_23456_78901_rnn.ipynb": notebook("jane")})
    source = write_file(downloads / "submissions.zip", good[:60] + bytes(30) + good[90:])  # john's header, data
    report = collect(source, "rnn", course)
    assert tree(course) == {"submitted/23456/rnn/rnn.ipynb": notebook("jane")}
    [problem] = report.problems
    assert problem.file == "smithjohn_12345_67890_rnn.ipynb"
    assert problem.reason.startswith("corrupt zip entry: ")


def test_are_a_missing_source_and_a_bad_regexp_clear_errors(course, downloads):
    with pytest.raises(CollectError, match="is neither a folder nor a .zip file"):
        collect(downloads / "nothing.zip", "rnn", course)
    folder = write_folder(downloads / "rnn", {"alice.ipynb": notebook("a")})
    with pytest.raises(CollectError, match=r"must have the named group\(s\) file_id"):
        collect(folder, "rnn", course, regexp=r"(?P<student_id>\w+)")
    with pytest.raises(CollectError, match="invalid --regexp"):
        collect(folder, "rnn", course, regexp=r"(?P<student_id>")
    with pytest.raises(CollectError, match="unknown assignment 'cnn'"):
        collect(folder, "cnn", course)


def test_is_collecting_twice_a_no_op(course, downloads):
    source = write_zip(downloads / "blackboard.zip", {"RNN_jsmith_attempt_2024-03-01-10-00-00_rnn.ipynb": notebook("j")})
    collect(source, "rnn", course, regexp=BLACKBOARD)
    before = tree(course)
    stamps = {p: p.stat().st_mtime_ns for p in course.rglob("*") if p.is_file()}
    again = collect(source, "rnn", course, regexp=BLACKBOARD)
    assert tree(course) == before
    assert {p: p.stat().st_mtime_ns for p in course.rglob("*") if p.is_file()} == stamps
    assert again.problems == []
    assert [(c.student_id, c.note) for c in again.collected] == [("jsmith", "unchanged")]


def test_is_a_different_existing_submission_kept_without_force_and_replaced_with_force(course, downloads):
    existing = write_folder(course / "submitted" / "12345" / "rnn", {
        "rnn.ipynb": notebook("earlier"), "timestamp.txt": b"2024-01-01 00:00:00"})
    source = write_zip(downloads / "submissions.zip", {"smithjohn_12345_67890_rnn.ipynb": notebook("new")})

    report = collect(source, "rnn", course)
    assert tree(existing) == {"rnn.ipynb": notebook("earlier"), "timestamp.txt": b"2024-01-01 00:00:00"}
    assert report.collected == []
    assert report.problems == [Problem("smithjohn_12345_67890_rnn.ipynb",
                                       "already collected in submitted/12345/rnn/rnn.ipynb with different content; "
                                       "use --force")]

    forced = collect(source, "rnn", course, force=True)
    # The old timestamp would date the new notebook, so it goes too.
    assert tree(existing) == {"rnn.ipynb": notebook("new")}
    assert forced.problems == []
    assert [c.student_id for c in forced.collected] == ["12345"]


def cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    configure(parser)
    args = parser.parse_args(argv)
    args.course = collect_module.ROOT  # the top-level --course option (tests point ROOT at a scratch course)
    return args


def test_does_configure_document_every_option_and_restrict_slugs():
    parser = argparse.ArgumentParser()
    configure(parser)
    actions = [a for a in parser._actions if a.dest != "help"]
    assert {a.dest for a in actions} == {"slug", "source", "regexp", "force", "max_notebook_size", "max_file_size",
                                         "max_total_size", "max_depth", "max_entries"}
    assert all(a.help for a in actions)
    regexp_help = next(a.help for a in actions if a.dest == "regexp")
    for word in ("student_id", "file_id", "timestamp", "Canvas", "Moodle", "Blackboard"):
        assert word in regexp_help
    for example in collect_module.EXAMPLE_REGEXPS.values():  # copyable, exactly as documented
        assert example in regexp_help and example in collect_module.__doc__
    assert next(a.choices for a in actions if a.dest == "slug") == SLUGS
    args = cli("rnn", "subs.zip", "--force")
    assert (args.slug, args.source, args.regexp, args.force) == ("rnn", Path("subs.zip"), None, True)
    with pytest.raises(SystemExit):
        cli("cnn", "subs.zip")


def test_does_run_print_each_student_the_problems_and_a_summary(course, downloads, monkeypatch, capsys):
    monkeypatch.setattr(collect_module, "ROOT", course)
    source = write_zip(downloads / "submissions.zip", {
        "smithjohn_12345_67890_rnn-1.ipynb": notebook("john"),
        "doejane_23456_78901_rnn.ipynb": notebook("jane"),
        "doejane_23456_78901_notes.pdf": b"%PDF",
    })
    assert run(cli("rnn", str(source))) == 1
    assert capsys.readouterr().out.splitlines() == [
        "12345                submitted/12345/rnn/rnn.ipynb  <- smithjohn_12345_67890_rnn-1.ipynb  [renamed from rnn-1.ipynb]",
        "23456                submitted/23456/rnn/rnn.ipynb  <- doejane_23456_78901_rnn.ipynb",
        "not collected:",
        "  doejane_23456_78901_notes.pdf: not a notebook",
        "collected 2 submissions for rnn; 1 files not matched",
    ]
    clean = write_zip(downloads / "clean.zip", {"doejane_23456_78901_rnn.ipynb": notebook("jane")})
    assert run(cli("rnn", str(clean))) == 0
    assert capsys.readouterr().out.splitlines() == [
        "23456                submitted/23456/rnn/rnn.ipynb  <- doejane_23456_78901_rnn.ipynb  [unchanged]",
        "collected 1 submissions for rnn; 0 files not matched",
    ]


def test_does_run_report_a_corrupt_zip_without_a_traceback(course, downloads, monkeypatch, capsys):
    monkeypatch.setattr(collect_module, "ROOT", course)
    source = downloads / "submissions.zip"
    source.parent.mkdir(parents=True)
    source.write_bytes(b"not a zip")
    assert run(cli("rnn", str(source))) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: cannot read {source} as a zip (File is not a zip file)")
    assert "Traceback" not in err


# --- Hostile classes --------------------------------------------------------------------------
# Every file handed in is attacker-controlled. Each test builds its hostile input itself and
# checks that the rest of the class is collected, and that nothing is written but submitted/.


def zip_with(entries: list[tuple[zipfile.ZipInfo | str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of crafted entries, in order (names may repeat, modes may say link or pipe)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for info, content in entries:
            zf.writestr(info, content)
    return buffer.getvalue()


def entry(name: str, mode: int) -> zipfile.ZipInfo:
    """A zip entry whose Unix mode bits say ``mode`` (e.g. a symbolic link)."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix
    info.external_attr = mode << 16
    return info


@pytest.fixture
def solution(tmp_path: Path) -> Path:
    """A stand-in for solutions/rnn/rnn.ipynb: the file a hostile class would like to hand in."""
    path = tmp_path / "solutions" / "rnn" / "rnn.ipynb"
    path.parent.mkdir(parents=True)
    path.write_bytes(notebook("REFERENCE ANSWERS"))
    return path


@contextmanager
def fifo(path: Path):
    """A named pipe at ``path``. Yields a list that records a reader stuck on it.

    Collect needs milliseconds. If it is still running 5 s later, a writer opens the pipe
    without blocking (which succeeds only while a reader waits on it), releasing that
    reader: a collect that blocks on the pipe fails the test instead of hanging it.
    """
    os.mkfifo(path)
    stuck: list[bool] = []
    done = threading.Event()

    def release() -> None:
        if done.wait(timeout=5):
            return
        while not done.is_set():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: nobody reads it
                time.sleep(0.01)
                continue
            stuck.append(True)
            os.close(fd)

    releaser = threading.Thread(target=release, daemon=True)
    releaser.start()
    try:
        yield stuck
    finally:
        done.set()
        releaser.join()


def test_is_a_symlinked_notebook_refused_and_the_rest_collected(tmp_path, course, downloads, solution):
    folder = write_folder(downloads / "rnn", {"bob.ipynb": notebook("bob")})
    (folder / "mallory.ipynb").symlink_to(solution)
    (folder / "eve").symlink_to(solution.parent, target_is_directory=True)  # a student folder that is a link
    (folder / "trudy").mkdir()
    (folder / "trudy" / "rnn.ipynb").symlink_to("../../../solutions/rnn/rnn.ipynb")
    report = collect(folder, "rnn", course)
    assert tree(course) == {"submitted/bob/rnn/rnn.ipynb": notebook("bob")}
    assert report.problems == [Problem("eve", SYMLINK), Problem("mallory.ipynb", SYMLINK),
                               Problem("trudy/rnn.ipynb", SYMLINK)]
    assert_wrote_only_the_course(tmp_path)


def test_is_a_symlink_or_pipe_entry_in_a_zip_refused_and_the_rest_collected(tmp_path, course, downloads):
    student_zip = zip_with([(entry("rnn.ipynb", stat.S_IFLNK | 0o777), b"../../solutions/rnn/rnn.ipynb")])
    source = write_file(downloads / "submissions.zip", zip_with([
        (entry("mallory_11111_1_rnn.ipynb", stat.S_IFLNK | 0o777), b"../solutions/rnn/rnn.ipynb"),
        (entry("eve_22222_2_rnn.ipynb", stat.S_IFIFO | 0o644), notebook("eve")),
        ("trudy_33333_3_rnn.zip", student_zip),
        (entry("doejane_23456_78901_rnn.ipynb", stat.S_IFREG | 0o644), notebook("jane")),
    ]))
    report = collect(source, "rnn", course)
    assert tree(course) == {"submitted/23456/rnn/rnn.ipynb": notebook("jane")}
    assert report.problems == [Problem("mallory_11111_1_rnn.ipynb", SYMLINK),
                               Problem("eve_22222_2_rnn.ipynb", "named pipe: not collected"),
                               Problem("trudy_33333_3_rnn/rnn.ipynb", SYMLINK)]
    assert_wrote_only_the_course(tmp_path)


def test_are_hard_links_and_named_pipes_never_read(tmp_path, course, downloads, solution):
    folder = write_folder(downloads / "rnn", {"bob.ipynb": notebook("bob")})
    os.link(solution, folder / "mallory.ipynb")
    with fifo(folder / "eve.ipynb") as stuck:
        report = collect(folder, "rnn", course)
    assert stuck == []
    assert tree(course) == {"submitted/bob/rnn/rnn.ipynb": notebook("bob")}
    assert report.problems == [Problem("eve.ipynb", "named pipe: not collected"),
                               Problem("mallory.ipynb", "hard link (one of 2 names of a file): not collected")]
    assert_wrote_only_the_course(tmp_path)


def test_are_files_swapped_for_a_link_or_a_pipe_after_listing_still_refused(tmp_path, course, downloads,
                                                                            solution, monkeypatch):
    folder = write_folder(downloads / "rnn", {"bob.ipynb": notebook("bob")})
    (folder / "mallory.ipynb").symlink_to(solution)
    real_stat, regular = os.stat, os.stat(solution)

    def listed_before_the_swap(path, *args, follow_symlinks=True, **kwargs):
        if not follow_symlinks and os.fsdecode(path) in {"mallory.ipynb", "eve.ipynb"}:
            return regular  # what a listing saw a moment before a student swapped the file
        return real_stat(path, *args, follow_symlinks=follow_symlinks, **kwargs)

    monkeypatch.setattr(os, "stat", listed_before_the_swap)
    with fifo(folder / "eve.ipynb") as stuck:
        report = collect(folder, "rnn", course)
    assert stuck == []  # opened without blocking, seen to be a pipe, closed unread
    assert tree(course) == {"submitted/bob/rnn/rnn.ipynb": notebook("bob")}
    assert report.problems == [Problem("eve.ipynb", "named pipe: not collected"), Problem("mallory.ipynb", SYMLINK)]


def test_are_folders_nested_too_deep_not_examined(course, downloads, monkeypatch):
    monkeypatch.setattr(collect_module, "_MAX_FOLDER_DEPTH", 2)
    source = write_folder(downloads / "rnn", {"alice/a/rnn.ipynb": notebook("a"), "bob/a/b/c/rnn.ipynb": notebook("b")})
    report = collect(source, "rnn", course, regexp=r"(?P<student_id>[^/]+)/(?P<file_id>.+)")
    assert tree(course) == {"submitted/alice/rnn/rnn.ipynb": notebook("a")}
    assert report.problems == [Problem("bob/a/b", "folder nested more than 2 deep: not examined")]


def test_does_a_symlink_loop_stop_nothing(tmp_path, course, downloads):
    folder = write_folder(downloads / "rnn", {"bob.ipynb": notebook("bob")})
    (folder / "loop.ipynb").symlink_to("loop.ipynb")
    (folder / "ping").symlink_to("pong")
    (folder / "pong").symlink_to("ping")
    report = collect(folder, "rnn", course)
    assert tree(course) == {"submitted/bob/rnn/rnn.ipynb": notebook("bob")}
    assert report.problems == [Problem(name, SYMLINK) for name in ("loop.ipynb", "ping", "pong")]


def test_does_the_documented_blackboard_regexp_refuse_a_name_claiming_another_student(tmp_path, course, downloads):
    forged = "RNN_mallory_attempt_2024-03-08-10-00-00_x_bob_attempt_2024-03-09-23-59-59_rnn.ipynb"
    backdated = "RNN_eve_attempt_2024-03-12-10-00-00_x_eve_attempt_2024-03-01-10-00-00_rnn.ipynb"
    source = write_zip(downloads / "blackboard.zip", {
        "RNN_bob_attempt_2024-03-01-10-00-00_rnn.ipynb": notebook("bob"),
        forged: notebook("mallory"),
        backdated: notebook("eve, late"),
        "RNN_j_smith_attempt_2024-03-01-10-00-00_rnn.ipynb": notebook("j_smith"),  # ids may hold _
    })
    report = collect(source, "rnn", course, regexp=DOCUMENTED_BLACKBOARD)
    assert tree(course) == {
        "submitted/bob/rnn/rnn.ipynb": notebook("bob"),
        "submitted/bob/rnn/timestamp.txt": b"2024-03-01 10:00:00",
        "submitted/j_smith/rnn/rnn.ipynb": notebook("j_smith"),
        "submitted/j_smith/rnn/timestamp.txt": b"2024-03-01 10:00:00",
    }
    unmatched = f"does not match the regular expression {DOCUMENTED_BLACKBOARD!r}"
    assert report.problems == [Problem(backdated, unmatched), Problem(forged, unmatched)]


def test_is_a_name_claiming_another_students_id_a_conflict_even_with_a_greedy_regexp(course, downloads):
    real = "RNN_bob_attempt_2024-03-01-10-00-00_rnn.ipynb"
    forged = "RNN_mallory_attempt_2024-03-08-10-00-00_x_bob_attempt_2024-03-09-23-59-59_rnn.ipynb"
    source = write_zip(downloads / "blackboard.zip", {real: notebook("bob"), forged: notebook("mallory")})
    report = collect(source, "rnn", course, regexp=BLACKBOARD)  # reads the forged file as bob's, later
    assert not course.exists()
    reason = (f"conflict: 2 notebooks for bob ({real}, {forged}) whose names differ beyond the timestamp "
              "and file part, so not all are theirs; nothing collected for them")
    assert report.problems == [Problem(real, reason), Problem(forged, reason)]


def test_are_a_file_and_a_folder_of_the_same_name_both_handled(tmp_path, course, downloads):
    with pytest.warns(UserWarning, match="Duplicate name"):
        hostile = zip_with([
            ("alice", b"a file"), ("alice/rnn.ipynb", notebook("alice")),
            ("bob/rnn.ipynb", notebook("bob")), ("bob", b"a file after the folder"),
            ("carol.ipynb", notebook("carol 1")), ("carol.ipynb", notebook("carol 2")),  # one name twice
        ])
    source = write_file(downloads / "submissions.zip", hostile)
    report = collect(source, "rnn", course)
    assert tree(course) == {"submitted/alice/rnn/rnn.ipynb": notebook("alice"),
                            "submitted/bob/rnn/rnn.ipynb": notebook("bob")}
    twice = ("conflict: 2 notebooks for carol (carol.ipynb, carol.ipynb) and no distinct timestamps to choose; "
             "nothing collected for them")
    assert report.problems == [Problem("alice", "not a notebook"), Problem("bob", "not a notebook"),
                               Problem("carol.ipynb", twice), Problem("carol.ipynb", twice)]
    assert_wrote_only_the_course(tmp_path)


def test_is_a_300_character_entry_name_reported_and_the_rest_collected(tmp_path, course, downloads):
    long_name = "x" * 294 + ".ipynb"
    source = write_zip(downloads / "submissions.zip", {
        long_name: notebook("long"),
        f"bob/{long_name}": notebook("bob"),  # the file part may be long: it names nothing on disk
        "carol.ipynb": notebook("carol"),
    })
    report = collect(source, "rnn", course)
    assert tree(course) == {"submitted/bob/rnn/rnn.ipynb": notebook("bob"),
                            "submitted/carol/rnn/rnn.ipynb": notebook("carol")}
    assert report.problems == [Problem(long_name, f"invalid student id {'x' * 294!r} (more than 64 characters)")]
    assert_wrote_only_the_course(tmp_path)


def test_is_an_entry_name_that_is_not_the_utf8_it_claims_reported_and_the_rest_collected(course, downloads):
    def with_bad_name(entries: dict[str, bytes]) -> bytes:
        # zipfile flags a non-ASCII name UTF-8; é (2 bytes) then becomes two bytes no UTF-8 has.
        return zip_bytes(entries).replace("é".encode(), b"\xff\xfe")

    student_zip = with_bad_name({"ré.ipynb": notebook("?"), "rnn.ipynb": notebook("carol")})
    source = write_file(downloads / "submissions.zip", with_bad_name({
        "bad_é.ipynb": notebook("?"),
        "doejane_23456_78901_rnn.ipynb": notebook("jane"),
        "carol.zip": student_zip,
    }))
    report = collect(source, "rnn", course)
    assert tree(course) == {"submitted/23456/rnn/rnn.ipynb": notebook("jane"),
                            "submitted/carol/rnn/rnn.ipynb": notebook("carol")}
    lie = "name is flagged UTF-8 but is not valid UTF-8: not collected"
    assert report.problems == [Problem("bad_\\xff\\xfe.ipynb", lie), Problem("carol/r\\xff\\xfe.ipynb", lie)]


@pytest.mark.parametrize("method", ["bzip2", "lzma"])
def test_are_corrupt_bzip2_and_lzma_entries_reported_and_the_rest_collected(tmp_path, course, downloads, method):
    compression = {"bzip2": zipfile.ZIP_BZIP2, "lzma": zipfile.ZIP_LZMA}[method]
    name = "smithjohn_12345_67890_rnn.ipynb"
    good = zip_with([(name, notebook("john")), ("doejane_23456_78901_rnn.ipynb", notebook("jane"))], compression)
    data = 30 + len(name)  # john's compressed data starts after his local header and name
    damaged = {"bzip2": good[: data + 4] + bytes(6) + good[data + 10:],  # the first block's magic number
               "lzma": good[: data + 4] + b"\xff" + good[data + 5:]}[method]  # its properties
    source = write_file(downloads / "submissions.zip", damaged)
    report = collect(source, "rnn", course)
    assert tree(course) == {"submitted/23456/rnn/rnn.ipynb": notebook("jane")}
    [problem] = report.problems
    assert (problem.file, problem.reason.split(":")[0]) == (name, "corrupt zip entry")
    assert_wrote_only_the_course(tmp_path)


def test_is_a_zip_beside_a_file_of_its_folders_name_collected(tmp_path, course, downloads):
    source = write_zip(downloads / "submissions.zip", {
        "smithjohn_12345_67890_rnn": b"no extension",
        "smithjohn_12345_67890_rnn.zip": zip_bytes({"rnn.ipynb": notebook("john")}),
    })
    report = collect(source, "rnn", course)
    assert tree(course) == {"submitted/12345/rnn/rnn.ipynb": notebook("john")}
    assert report.problems == [Problem("smithjohn_12345_67890_rnn", "not a notebook")]
    assert_wrote_only_the_course(tmp_path)


def test_is_an_unexpected_error_reported_for_that_file_only(course, downloads, monkeypatch):
    original = collect_module._invalid_student_id

    def fails_for_bob(student_id):
        if student_id == "bob":
            raise KeyError("something nobody foresaw")
        return original(student_id)

    monkeypatch.setattr(collect_module, "_invalid_student_id", fails_for_bob)
    source = write_folder(downloads / "rnn", {"alice.ipynb": notebook("alice"), "bob.ipynb": notebook("bob")})
    report = collect(source, "rnn", course)
    assert tree(course) == {"submitted/alice/rnn/rnn.ipynb": notebook("alice")}
    assert report.problems == [Problem("bob.ipynb", "unexpected error: KeyError: 'something nobody foresaw'")]


def test_is_an_entry_larger_than_max_file_size_stopped_deleted_and_reported(tmp_path, course, downloads,
                                                                           monkeypatch):
    bomb = bytes(3 * MB)  # deflates to about 3 kB
    source = write_zip(downloads / "submissions.zip", {
        "smithjohn_12345_67890_rnn.ipynb": bomb,
        "smithjohn_12345_67890_rnn.zip": zip_bytes({"rnn.ipynb": bomb}),
        "doejane_23456_78901_rnn.ipynb": notebook("jane"),
    })
    staging: list[list[int]] = []
    match = collect_module._candidate

    def spy(staged, *args):  # the staging folder as matching begins: no partial file may be left
        staging.append(sorted(p.stat().st_size for p in Path(tempfile.tempdir).glob("collect-*/*")))
        return match(staged, *args)

    monkeypatch.setattr(collect_module, "_candidate", spy)
    report = collect(source, "rnn", course, limits=Limits(file_bytes=1 * MB))
    assert staging[0] == [len(notebook("jane"))]
    assert tree(course) == {"submitted/23456/rnn/rnn.ipynb": notebook("jane")}
    too_big = "larger than --max-file-size 1 MB: stopped, not collected"
    assert report.problems == [Problem("smithjohn_12345_67890_rnn.ipynb", too_big),
                               Problem("smithjohn_12345_67890_rnn/rnn.ipynb", too_big)]
    assert_wrote_only_the_course(tmp_path)


def test_is_a_bzip2_bomb_stopped_without_inflating_it_in_memory(course, downloads):
    source = downloads / "submissions.zip"
    source.parent.mkdir(parents=True)
    with zipfile.ZipFile(source, "w", zipfile.ZIP_BZIP2) as zf:  # 64 MB of zeros, bzipped as they are written
        with zf.open("smithjohn_12345_67890_rnn.ipynb", "w", force_zip64=True) as out:
            for _ in range(64):
                out.write(bytes(MB))
        zf.writestr("doejane_23456_78901_rnn.ipynb", notebook("jane"))
    assert source.stat().st_size < 10_000
    tracemalloc.start()
    try:
        report = collect(source, "rnn", course, limits=Limits(file_bytes=1 * MB))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * MB  # zipfile would inflate the whole 64 MB at once
    assert tree(course) == {"submitted/23456/rnn/rnn.ipynb": notebook("jane")}
    assert report.problems == [Problem("smithjohn_12345_67890_rnn.ipynb",
                                       "larger than --max-file-size 1 MB: stopped, not collected")]


def test_does_max_total_size_stop_a_nested_zip_bomb(tmp_path, course, downloads):
    megabyte_notebook = zip_bytes({"rnn.ipynb": bytes(MB)})  # each inflates to 1 MB
    student = zip_bytes({f"part{i}.zip": megabyte_notebook for i in range(4)})
    source = write_zip(downloads / "submissions.zip", {f"s{i}.zip": student for i in range(4)})
    report = collect(source, "rnn", course, limits=Limits(total_bytes=5 * MB))
    stopped = [p.file for p in report.problems
               if p.reason == "the run's --max-total-size of 5 MB was reached: not collected"]
    assert len(stopped) == 12  # 4 notebooks of 1 MB fit beside the staged zips; 12 do not
    assert stopped[0] == "s1/part0/rnn.ipynb"
    assert_wrote_only_the_course(tmp_path)


def test_are_zips_nested_deeper_than_max_depth_not_opened(tmp_path, course, downloads):
    deeper = zip_bytes({"rnn.ipynb": notebook("deeper")})
    source = write_folder(downloads / "rnn", {
        "alice.zip": zip_bytes({"rnn.ipynb": notebook("alice"), "deeper.zip": deeper}),
        "bob.ipynb": notebook("bob"),
    })
    report = collect(source, "rnn", course, limits=Limits(zip_depth=1))
    assert tree(course) == {"submitted/alice/rnn/rnn.ipynb": notebook("alice"),
                            "submitted/bob/rnn/rnn.ipynb": notebook("bob")}
    assert report.problems == [Problem("alice/deeper.zip", "zip nested 2 deep, more than --max-depth 1: not extracted")]
    assert_wrote_only_the_course(tmp_path)


def test_is_a_zip_or_folder_with_more_than_max_entries_refused_whole(tmp_path, course, downloads):
    crowded = zip_bytes({f"file{i}.txt": b"" for i in range(20)})
    source = write_zip(downloads / "submissions.zip", {
        "alice.ipynb": notebook("alice"), "bob.ipynb": notebook("bob"), "carol.zip": crowded})
    report = collect(source, "rnn", course, limits=Limits(entries=10))
    assert tree(course) == {"submitted/alice/rnn/rnn.ipynb": notebook("alice"),
                            "submitted/bob/rnn/rnn.ipynb": notebook("bob")}
    assert report.problems == [Problem("carol.zip", "zip of 20 entries, more than the 7 left of --max-entries 10: "
                                                    "not examined")]
    folder = write_folder(downloads / "rnn", {f"s{i}.ipynb": notebook(str(i)) for i in range(11)})
    with pytest.raises(CollectError, match="folder of 11 entries, more than the 10 left of --max-entries 10"):
        collect(folder, "rnn", course, limits=Limits(entries=10))
    assert_wrote_only_the_course(tmp_path)


def test_is_a_notebook_over_max_notebook_size_reported_with_its_size(course, downloads):
    big = notebook("x" * 2000)
    source = write_folder(downloads / "rnn", {"alice.ipynb": big, "bob.ipynb": notebook("bob")})
    report = collect(source, "rnn", course, limits=Limits(notebook_bytes=2000))
    assert tree(course) == {"submitted/bob/rnn/rnn.ipynb": notebook("bob")}
    assert report.problems == [Problem("alice.ipynb", f"notebook of {len(big):,} bytes, larger than "
                                                      "--max-notebook-size 2 kB: not collected")]


def test_do_the_limit_options_take_sizes_and_reach_collect(course, downloads, monkeypatch):
    args = cli("rnn", "subs.zip", "--max-notebook-size", "1.5MB", "--max-file-size", "500kB",
               "--max-total-size", "2gb", "--max-depth", "0", "--max-entries", "7")
    assert (args.max_notebook_size, args.max_file_size, args.max_total_size, args.max_depth, args.max_entries) == (
        1_500_000, 500_000, 2_000_000_000, 0, 7)
    defaults = cli("rnn", "subs.zip")
    assert (defaults.max_notebook_size, defaults.max_file_size, defaults.max_total_size) == (20 * MB, 50 * MB, 2000 * MB)
    for bad in (["--max-file-size", "lots"], ["--max-depth", "-1"]):
        with pytest.raises(SystemExit):
            cli("rnn", "subs.zip", *bad)
    seen = []

    def spy(source, slug, course, regexp, force, limits):
        seen.append(limits)
        return collect_module.CollectReport()

    monkeypatch.setattr(collect_module, "collect", spy)
    run(args)
    assert seen == [Limits(1_500_000, 500_000, 2_000_000_000, 0, 7)]


@pytest.mark.parametrize("name, rule", [
    ("al\x1bice", "a control character"),
    ("al\u202eice", "not printable"),  # right-to-left override: reverses what a terminal shows
    ("a" * 65, "more than 64 characters"),
    ("=HYPERLINK(0)", "starts with = + - @, a tab or a carriage return: a spreadsheet formula"),
    ("+33", "starts with = + - @, a tab or a carriage return: a spreadsheet formula"),
    ("-1", "starts with = + - @, a tab or a carriage return: a spreadsheet formula"),
    ("@SUM(1)", "starts with = + - @, a tab or a carriage return: a spreadsheet formula"),
    ("\tx", "starts with = + - @, a tab or a carriage return: a spreadsheet formula"),
    ("\rx", "starts with = + - @, a tab or a carriage return: a spreadsheet formula"),
])
def test_are_student_ids_that_break_a_rule_refused_with_the_rule(course, downloads, name, rule):
    source = write_zip(downloads / "submissions.zip", {f"{name}.ipynb": notebook(name), "bob.ipynb": notebook("bob")})
    report = collect(source, "rnn", course)
    assert tree(course) == {"submitted/bob/rnn/rnn.ipynb": notebook("bob")}
    assert report.problems == [Problem(f"{name}.ipynb", f"invalid student id {name!r} ({rule})")]


def test_is_a_student_id_that_is_not_utf8_refused(course, downloads):
    folder = write_folder(downloads / "rnn", {"bob.ipynb": notebook("bob")})
    os.mkdir(os.fsencode(folder) + b"/al\xffice")
    (Path(os.fsdecode(os.fsencode(folder) + b"/al\xffice")) / "rnn.ipynb").write_bytes(notebook("?"))
    report = collect(folder, "rnn", course)
    assert tree(course) == {"submitted/bob/rnn/rnn.ipynb": notebook("bob")}
    assert report.problems == [Problem("al\udcffice/rnn.ipynb", "invalid student id 'al\\udcffice' (not valid UTF-8)")]


def test_does_run_escape_control_characters_in_everything_it_prints(course, downloads, monkeypatch, capsys):
    monkeypatch.setattr(collect_module, "ROOT", course)
    source = write_zip(downloads / "submissions.zip", {
        "evil\x1b]0;owned\x07.pdf": b"%PDF",
        "bob/\x1b[2J\u202eRNN.ipynb": notebook("bob"),
    })
    folder = write_folder(downloads / "rnn", {"bob.ipynb": notebook("bob")})
    undecodable = Path(os.fsdecode(os.fsencode(folder) + b"/\xff\x1b"))
    write_folder(undecodable, {"rnn.ipynb": notebook("?")})
    assert run(cli("rnn", str(source))) == 1
    assert run(cli("rnn", str(folder), "--force")) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "evil\\x1b]0;owned\\x07.pdf: not a notebook" in out
    assert "[renamed from \\x1b[2J\\u202eRNN.ipynb]" in out
    assert "  \\udcff\\x1b/rnn.ipynb: invalid student id '\\udcff\\x1b' (not valid UTF-8)" in out
