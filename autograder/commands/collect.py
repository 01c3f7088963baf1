r"""Collect a class's submissions into nbgrader's layout.

Usage, from the repository root::

    python -m autograder collect rnn ~/Downloads/submissions.zip
    python -m autograder collect rnn ~/marking/rnn/            # a folder of notebooks
    python -m autograder collect rnn moodle.zip --regexp '(?P<student_id>[^/_]+)_\d+_assignsubmission_file_/(?P<file_id>.+)'

The source is a folder or a .zip downloaded from an LMS. It is staged in a temporary
directory (never inside the course): zips are extracted there, and so are zips found
inside it (a student who uploaded a zip), each into a folder named after the archive,
as nbgrader's ``ExtractorPlugin`` does. An entry whose name is absolute or climbs
with ``..`` (zip slip) is reported and not extracted.

Each staged file's path relative to the staging folder (``/`` separators, e.g.
``smithjohn_12345_67890_rnn.ipynb`` or ``alice/rnn.ipynb``) is matched from its
start with nbgrader's ``FileNameCollectorPlugin``, as ``nbgrader zip_collect`` does:
a regular expression with the named groups ``student_id`` and ``file_id``, and
optionally ``timestamp`` (read with nbgrader's ``parse_utc``), ``first_name``,
``last_name`` and ``email``. A student's notebook lands in
``submitted/<student_id>/<slug>/<slug>.ipynb``, whatever the LMS renamed it to
(``rnn-1.ipynb``, ``RNN (2).ipynb``); a timestamp goes to ``timestamp.txt`` beside it,
written as nbgrader writes it. A student with several notebooks gets the latest when
every one has a timestamp; otherwise nothing is collected for them (no guessing).
Existing submissions are kept unless ``--force``; an identical one is left as is,
so collecting twice is harmless.

The default regular expression, ``DEFAULT_REGEXP``, reads two kinds of names:

- Canvas, ``lastfirst_12345_67890_rnn.ipynb`` or ``lastfirst_LATE_12345_67890_rnn-1.ipynb``
  (also a folder of that name, from a zip the student uploaded). The student id is
  the numeric Canvas user id (12345), not ``lastfirst``: two students can share a name,
  a name can change during a term, and the number is the ``ID`` column of Canvas's
  gradebook export, so grades can be joined back. 67890 is the submission id.
- A plain folder: ``<student_id>.ipynb`` or ``<student_id>/<anything>.ipynb``.

Other LMSes pass ``--regexp`` (copyable here; the help text wraps them):

- Moodle, folders ``First Last_PARTICIPANT_assignsubmission_file_/`` (the number is a
  per-assignment participant id, so the name is the stable id):
  ``(?P<student_id>[^/_]+)_\d+_assignsubmission_file_/(?P<file_id>.+)``
- Blackboard, ``Assignment_USERNAME_attempt_2024-03-01-10-00-00_rnn.ipynb``:
  ``[^/]*_(?P<student_id>[^_/]+)_attempt_(?P<timestamp>[\d-]+)_(?P<file_id>.+)``

Exit status: 0 when every file was collected, 1 when some were not (the rest are
collected all the same), 2 when nothing could be done (e.g. a corrupt zip).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import sys
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from nbgrader.plugins import FileNameCollectorPlugin
from nbgrader.utils import parse_utc

from autograder.paths import ROOT, SLUGS

#: Canvas names or a plain folder (see the module docstring). The student id is read
#: ahead (a lookahead) so that ``alice.ipynb`` keeps its whole name as the file id.
DEFAULT_REGEXP = r"""(?x)
    (?:[^/_]+_(?i:LATE_)?(?=\d+_\d+_))?     # Canvas: the name part and a LATE_ mark
    (?=(?P<student_id>
        \d+(?=_\d+_)                        #   Canvas: the numeric user id
      | [^/]+?(?=/|\.ipynb$)))              #   plain: the folder, or the notebook's stem
    (?:\d+_\d+_|[^/]+/)?                    # skip Canvas's two ids, or the student's folder
    (?P<file_id>.+)                         # the notebook as the student (or LMS) named it
"""

_NOTEBOOK = ".ipynb"
_MAX_NESTING = 5  # zips in zips: deeper than this is left as a "not a notebook" file
# What a damaged archive raises, from its directory or while inflating an entry.
_ZIP_ERRORS = (zipfile.BadZipFile, EOFError, zlib.error, RuntimeError, NotImplementedError)
_log = logging.getLogger(__name__)
_log.addHandler(logging.NullHandler())  # nbgrader's per-file warnings: we report our own


class CollectError(Exception):
    """The source cannot be collected at all (missing, corrupt zip, bad regexp)."""


@dataclass
class Collected:
    """A submission now in the submitted layout."""

    student_id: str
    source: str  # path in the zip or folder
    destination: Path
    timestamp: datetime | None = None
    note: str = ""


@dataclass
class Problem:
    """A file that was not collected, and why."""

    file: str
    reason: str


@dataclass
class CollectReport:
    """What ``collect`` did: the submissions placed, and every file it could not place."""

    collected: list[Collected] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class _Candidate:
    """A staged notebook matched to a student."""

    source: str
    path: Path
    student_id: str
    file_id: str
    timestamp: datetime | None


def collect(source: Path, slug: str, course_root: Path = ROOT, regexp: str | None = None,
            force: bool = False) -> CollectReport:
    """Put the submissions in ``source`` (a folder or .zip) into ``course_root/submitted/``."""
    if slug not in SLUGS:
        raise CollectError(f"unknown assignment {slug!r}; known: {', '.join(SLUGS)}")
    collector = _collector(regexp or DEFAULT_REGEXP)
    report = CollectReport()
    with tempfile.TemporaryDirectory(prefix="collect-") as scratch:
        staged = Path(scratch)
        _stage(Path(source), staged, report.problems)
        by_student: dict[str, list[_Candidate]] = {}
        for path in sorted((p for p in staged.rglob("*") if p.is_file()), key=lambda p: p.as_posix()):
            found = _candidate(path, staged, collector)
            if isinstance(found, Problem):
                report.problems.append(found)
            else:
                by_student.setdefault(found.student_id, []).append(found)
        for student_id in sorted(by_student):
            chosen = _choose(by_student[student_id], report.problems)
            if chosen:
                outcome = _place(*chosen, slug, Path(course_root), force)
                (report.problems if isinstance(outcome, Problem) else report.collected).append(outcome)
    return report


def _collector(regexp: str) -> FileNameCollectorPlugin:
    """nbgrader's file name matcher, after checking the regexp compiles and names its groups."""
    try:
        groups = re.compile(regexp).groupindex
    except re.error as error:
        raise CollectError(f"invalid --regexp {regexp!r}: {error}") from None
    missing = {"student_id", "file_id"} - set(groups)
    if missing:
        raise CollectError(f"--regexp must have the named group(s) {', '.join(sorted(missing))}, "
                           "e.g. (?P<student_id>...)")
    return FileNameCollectorPlugin(named_regexp=regexp, log=_log)


def _stage(source: Path, staged: Path, problems: list[Problem]) -> None:
    """Copy or extract ``source`` into ``staged``, then extract the zips found inside."""
    if source.is_dir():
        shutil.copytree(source, staged, dirs_exist_ok=True)
    elif source.is_file() and source.suffix.lower() == ".zip":
        try:
            _extract(source, staged, "", problems)
        except _ZIP_ERRORS as error:
            raise CollectError(f"cannot read {source} as a zip ({error}); download it again") from None
    else:
        raise CollectError(f"{source} is neither a folder nor a .zip file")
    for _ in range(_MAX_NESTING):
        inner = sorted(p for p in staged.rglob("*") if p.is_file() and p.suffix.lower() == ".zip")
        if not inner:
            return
        for archive in inner:
            label = archive.relative_to(staged).as_posix()
            try:
                _extract(archive, archive.with_suffix(""), f"{label}/", problems)
            except _ZIP_ERRORS as error:
                problems.append(Problem(label, f"corrupt zip: {error}"))
            archive.unlink()


def _extract(archive: Path, into: Path, label: str, problems: list[Problem]) -> None:
    """Extract the safe entries of ``archive`` into ``into``; report the unsafe ones."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            if _is_unsafe(info.filename):
                problems.append(Problem(label + info.filename, "unsafe path in zip (absolute or '..'); skipped"))
            elif not info.is_dir():
                zf.extract(info, into)


def _is_unsafe(name: str) -> bool:
    """Would writing this zip entry escape the folder it is extracted into (zip slip)?"""
    posix = name.replace("\\", "/")
    return posix.startswith("/") or ".." in posix.split("/") or re.match(r"[A-Za-z]:", posix) is not None


def _candidate(path: Path, staged: Path, collector: FileNameCollectorPlugin) -> _Candidate | Problem:
    """Match one staged file to a student, or say why it cannot be."""
    rel = path.relative_to(staged).as_posix()
    skip = _not_a_submission(PurePosixPath(rel))
    if skip:
        return Problem(rel, skip)
    info = collector.collect(rel)
    if info is None:
        return Problem(rel, f"does not match the regular expression {collector.named_regexp!r}")
    student_id, file_id = info.get("student_id"), info.get("file_id") or ""
    bad = _invalid_student_id(student_id)
    if bad:
        return Problem(rel, bad)
    try:
        timestamp = _parse_timestamp(info["timestamp"]) if info.get("timestamp") else None
    except (ValueError, OverflowError):
        return Problem(rel, f"unreadable timestamp {info['timestamp']!r}")
    # As nbgrader does: the file id names the notebook, whatever extension it captured.
    notebook_name = os.path.splitext(file_id)[0] + _NOTEBOOK if file_id else rel
    return _Candidate(rel, path, student_id, notebook_name, timestamp)


def _parse_timestamp(raw: str) -> datetime:
    """A timestamp from a file name, read as nbgrader reads it (``parse_utc``).

    Blackboard's ``2024-03-02-09-30-00`` is first rewritten as ``2024-03-02 09:30:00``:
    dateutil would read ``-30-00`` as a time zone and give 09:00 in the local zone.
    """
    dashed = re.fullmatch(r"(\d{4}-\d\d-\d\d)[-_T ](\d\d)[-_:.](\d\d)[-_:.](\d\d)", raw)
    return parse_utc(f"{dashed[1]} {dashed[2]}:{dashed[3]}:{dashed[4]}" if dashed else raw)


def _not_a_submission(rel: PurePosixPath) -> str | None:
    """Why a staged file is no student's notebook (OS litter, other files), or None."""
    if "__MACOSX" in rel.parts or rel.name.startswith("._"):
        return "not a notebook (macOS metadata)"
    if rel.suffix != _NOTEBOOK:
        return "not a notebook"
    if any(part.startswith(".") for part in rel.parts):
        return "hidden notebook (e.g. a Jupyter checkpoint); skipped"
    return None


def _invalid_student_id(student_id: str | None) -> str | None:
    """Why a student id cannot name a folder under submitted/, or None if it can."""
    if not student_id:
        return "empty student id"
    if "/" in student_id or "\\" in student_id or student_id.startswith("."):
        return f"invalid student id {student_id!r} (a path separator or a leading dot)"
    return None


def _choose(candidates: list[_Candidate], problems: list[Problem]) -> tuple[_Candidate, list[_Candidate]] | None:
    """One student's notebook to keep and the ones it supersedes, or None on a conflict."""
    if len(candidates) == 1:
        return candidates[0], []
    stamps = [c.timestamp for c in candidates]
    if None not in stamps and len(set(stamps)) == len(stamps):
        ordered = sorted(candidates, key=lambda c: c.timestamp)
        return ordered[-1], ordered[:-1]
    names = ", ".join(c.source for c in candidates)
    for c in candidates:
        problems.append(Problem(c.source, f"conflict: {len(candidates)} notebooks for {c.student_id} ({names}) "
                                          "and no distinct timestamps to choose; nothing collected for them"))
    return None


def _place(chosen: _Candidate, superseded: list[_Candidate], slug: str, course_root: Path,
           force: bool) -> Collected | Problem:
    """Write the chosen notebook (and its timestamp) into submitted/, unless that would lose work."""
    submitted = (course_root / "submitted").resolve()
    folder = submitted / chosen.student_id / slug
    if not folder.resolve().is_relative_to(submitted):  # e.g. a symlinked student folder
        return Problem(chosen.source, f"{folder} is outside {submitted}; skipped")
    notebook, stamp_file = folder / f"{slug}.ipynb", folder / "timestamp.txt"
    content = chosen.path.read_bytes()
    stamp = chosen.timestamp.isoformat(" ") if chosen.timestamp else None
    notes = [f"renamed from {chosen.file_id}"] if chosen.file_id != f"{slug}.ipynb" else []
    notes += [f"superseded {c.source}" for c in superseded]
    if notebook.exists():
        old_stamp = stamp_file.read_text().strip() if stamp_file.exists() else None
        if notebook.read_bytes() == content and old_stamp == stamp:
            return Collected(chosen.student_id, chosen.source, notebook, chosen.timestamp,
                             "; ".join(["unchanged", *notes]))
        if not force:
            return Problem(chosen.source, f"already collected in {notebook.relative_to(submitted.parent)} "
                                          "with different content; use --force")
    folder.mkdir(parents=True, exist_ok=True)
    notebook.write_bytes(content)
    if stamp:
        stamp_file.write_text(stamp)
    else:
        stamp_file.unlink(missing_ok=True)  # a stale one would date the new notebook wrongly
    return Collected(chosen.student_id, chosen.source, notebook, chosen.timestamp, "; ".join(notes))


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``collect`` command's arguments to ``parser``."""
    parser.add_argument("slug", choices=SLUGS, help="the assignment the submissions are for")
    parser.add_argument("source", type=Path,
                        help="a folder of notebooks or an LMS download (.zip; zips inside it are extracted too)")
    parser.add_argument(
        "--regexp", default=None,
        help="regular expression matched from the start of each file's path inside the zip or folder "
             "(with / separators), as nbgrader zip_collect's named_regexp: named groups student_id and "
             "file_id are required; timestamp (keeps a student's latest notebook, written to timestamp.txt), "
             "first_name, last_name and email are optional. Default: Canvas names "
             "(lastfirst_[LATE_]USERID_SUBMISSIONID_file.ipynb, student id = Canvas user id) or a plain folder "
             r"(STUDENT.ipynb or STUDENT/any.ipynb). Canvas explicitly: '[^/_]+_(?:LATE_)?(?P<student_id>\d+)_\d+_"
             r"(?P<file_id>.+)'. Moodle (folders 'First Last_PARTICIPANT_assignsubmission_file_/'; the number "
             r"changes per assignment, so use the name): '(?P<student_id>[^/_]+)_\d+_assignsubmission_file_/"
             r"(?P<file_id>.+)'. Blackboard ('Assignment_USERNAME_attempt_2024-03-01-10-00-00_rnn.ipynb'): "
             r"'[^/]*_(?P<student_id>[^_/]+)_attempt_(?P<timestamp>[\d-]+)_(?P<file_id>.+)'.")
    parser.add_argument("--force", action="store_true",
                        help="overwrite a student's already collected notebook when the new one differs")


def run(args: argparse.Namespace) -> int:
    """Collect, print a report; 0 if every file was collected, 1 if some were not, 2 on a fatal error."""
    try:
        report = collect(args.source, args.slug, args.course, args.regexp, args.force)
    except CollectError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for c in report.collected:
        where = c.destination.relative_to(c.destination.parents[3])  # submitted/<id>/<slug>/<slug>.ipynb
        extra = "".join(f"  [{text}]" for text in (c.timestamp and str(c.timestamp), c.note) if text)
        print(f"{c.student_id:<20} {where}  <- {c.source}{extra}")
    if report.problems:
        print("not collected:")
    for p in report.problems:
        print(f"  {p.file}: {p.reason}")
    print(f"collected {len(report.collected)} submissions for {args.slug}; {len(report.problems)} files not matched")
    return 1 if report.problems else 0
