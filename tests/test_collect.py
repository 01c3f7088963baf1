"""``python -m autograder collect``: LMS downloads and folders into nbgrader's submitted layout."""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import zipfile
from pathlib import Path

import pytest

from autograder.commands import collect as collect_module
from autograder.commands.collect import CollectError, Problem, collect, configure, run
from autograder.paths import SLUGS

BLACKBOARD = r"[^/]*_(?P<student_id>[^_/]+)_attempt_(?P<timestamp>[\d-]+)_(?P<file_id>.+)"


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


def write_folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root``, by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


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


@pytest.mark.parametrize("damage", ["not a zip", "truncated", "damaged entry"])
def test_does_a_corrupt_zip_give_a_clear_error(course, downloads, damage):
    good = zip_bytes({"smithjohn_12345_67890_rnn.ipynb": notebook("john" * 200)})
    content = {"not a zip": b"<html>session expired</html>",
               "truncated": good[: len(good) // 2],
               "damaged entry": good.replace(good[60:90], bytes(30))}[damage]
    source = downloads / "submissions.zip"
    source.parent.mkdir(parents=True)
    source.write_bytes(content)
    with pytest.raises(CollectError, match=r"cannot read .*submissions\.zip as a zip .*download it again"):
        collect(source, "rnn", course)
    assert not (course / "submitted" / "12345" / "rnn" / "rnn.ipynb").exists()


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
    assert {a.dest for a in actions} == {"slug", "source", "regexp", "force"}
    assert all(a.help for a in actions)
    regexp_help = next(a.help for a in actions if a.dest == "regexp")
    for word in ("student_id", "file_id", "timestamp", "Canvas", "Moodle", "Blackboard"):
        assert word in regexp_help
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
