r"""Collect a class's submissions into nbgrader's layout.

Usage, from the repository root::

    python -m autograder collect rnn ~/Downloads/submissions.zip
    python -m autograder collect rnn ~/marking/rnn/            # a folder of notebooks
    python -m autograder collect rnn moodle.zip --regexp '(?P<student_id>[^/_]+)_\d+_assignsubmission_file_/(?P<file_id>.+)'

Every file handed in is hostile input: an LMS zip, a shared folder, a file name, a
student id. One bad file never stops the class: each entry is handled on its own, and
whatever goes wrong with it becomes a problem reported for that entry (as a last
resort ``unexpected error: <type>: <message>``) while the rest is collected.

**Staging.** The source is a folder or a .zip downloaded from an LMS. Its notebooks
and zips are copied into a private temporary directory (never inside the course),
each under a serial number rather than its own name, so that no entry name can escape
that directory, clash with another (a file and a folder of the same name, ``a.zip``
beside ``a``) or be too long for the file system. Other files are never read, only
reported. Zips found inside (a student who uploaded a zip) are opened in turn, the
download's own entries first. Each file is known by its *label*, its path inside the
source with ``/`` separators; a zip's entries are labelled as if it had been extracted
into a folder named after it (``smithjohn_12345_67890_rnn.zip`` holding ``rnn.ipynb``
gives ``smithjohn_12345_67890_rnn/rnn.ipynb``), as nbgrader's ``ExtractorPlugin`` does.

**Refused**, each reported while the rest is collected:

- symbolic links, to files or folders, in a folder or as zip entries (Unix mode bits):
  ``symbolic link: not collected``. A link to ``solutions/rnn/rnn.ipynb`` would
  otherwise hand in the reference answers. The source you name yourself may be a link;
  nothing inside it is followed;
- named pipes, sockets and devices (a pipe would block collect), and hard links (a
  regular file with more than one name may be another file of this machine): files are
  opened with ``O_NOFOLLOW | O_NONBLOCK`` and ``fstat`` must then show a regular file
  with one name;
- zip entries whose name is absolute or climbs with ``..`` (zip slip), or is flagged
  UTF-8 but is not valid UTF-8;
- corrupt, encrypted or unsupported zip entries, and corrupt zips inside the source.

**Limits**, each a command-line option; sizes are bytes or a number with kB, MB or GB
(powers of 1000). Bytes are counted as they are written, never taken from a zip's
headers, and a file is stopped, deleted and reported as soon as it passes a limit:

- ``--max-file-size`` (default 50 MB): one notebook or zip copied or extracted;
- ``--max-total-size`` (default 2 GB): all the bytes written by one run;
- ``--max-depth`` (default 3): how deep zips inside the source are opened: a zip in the
  folder or download is level 1, a zip inside it level 2, and so on;
- ``--max-entries`` (default 20,000): the files and folders one run examines; a folder
  or zip with more entries than are left is refused whole;
- ``--max-notebook-size`` (default 20 MB): a larger notebook is not collected, and is
  reported with its size.

Folders nested more than 32 deep are not examined (a fixed limit: each level holds an
open directory). zipfile hands all of a 4 kB compressed read to the bzip2 decompressor
at once, and bzip2 inflates 4 kB of zeros to about 5 GB, so bzip2 entries are inflated
here in bounded steps; deflate (bounded by the read size) and LZMA (at most about
35 MB from one 4 kB read) are left to zipfile.

**Matching.** Each notebook's label (e.g. ``smithjohn_12345_67890_rnn.ipynb`` or
``alice/rnn.ipynb``) is matched from its start, as nbgrader's ``FileNameCollectorPlugin``
does for ``nbgrader zip_collect``, with a regular expression with the named groups
``student_id`` and ``file_id``, and optionally ``timestamp`` (read with nbgrader's
``parse_utc``), ``first_name``, ``last_name`` and ``email``. A student's notebook lands
in ``submitted/<student_id>/<slug>/<slug>.ipynb``, whatever the LMS renamed it to
(``rnn-1.ipynb``, ``RNN (2).ipynb``); a timestamp goes to ``timestamp.txt`` beside it,
written as nbgrader writes it.

A student id must be valid UTF-8, printable, at most 64 characters (nbgrader's
database allows 128), without control characters or path separators, and must not
start with a dot or with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (a
spreadsheet would read ``grades.csv``'s cell as a formula). Other ids are refused with
the rule they break.

**Several notebooks for one student.** They are read as attempts, and the latest is
kept, only when every one has a distinct timestamp and their names are the same apart
from the timestamp and the file part. Otherwise they are a conflict: every one is
reported and nothing is collected for that student (no guessing, and no file name can
quietly replace another student's work). Existing submissions are kept unless
``--force``; an identical one is left as is, so collecting twice is harmless.

The default regular expression, ``DEFAULT_REGEXP``, reads two kinds of names:

- Canvas, ``lastfirst_12345_67890_rnn.ipynb`` or ``lastfirst_LATE_12345_67890_rnn-1.ipynb``
  (also a folder of that name, from a zip the student uploaded). The student id is
  the numeric Canvas user id (12345), not ``lastfirst``: two students can share a name,
  a name can change during a term, and the number is the ``ID`` column of Canvas's
  gradebook export, so grades can be joined back. 67890 is the submission id.
- A plain folder: ``<student_id>.ipynb`` or ``<student_id>/<anything>.ipynb``.

Other LMSes pass ``--regexp`` (``EXAMPLE_REGEXPS``; copy them from here, the help text wraps them):

- Canvas, explicitly:
  ``[^/_]+_(?:LATE_)?(?P<student_id>\d+)_\d+_(?P<file_id>.+)``
- Moodle, folders ``First Last_PARTICIPANT_assignsubmission_file_/`` (the number is a
  per-assignment participant id, so the name is the stable id):
  ``(?P<student_id>[^/_]+)_\d+_assignsubmission_file_/(?P<file_id>.+)``
- Blackboard, ``RNN_USERNAME_attempt_2024-03-01-10-00-00_rnn.ipynb`` for an assignment
  named RNN (write your assignment's name, as Blackboard writes it and with
  ``re.escape``, in place of ``RNN``):
  ``(?!.*_attempt_.*_attempt_)RNN_(?P<student_id>[^/]+?)_attempt_(?P<timestamp>\d{4}(?:-\d\d){5})_(?P<file_id>.+)``

  The student chooses only the part after the timestamp. The pattern is anchored on
  the assignment's name, takes the shortest id after it, and refuses any name with a
  second ``_attempt_``: the once-documented ``[^/]*_(?P<student_id>...)_attempt_...``
  read the *last* ``_X_attempt_`` of the name, so a file named
  ``x_bob_attempt_2099-..._rnn.ipynb`` became bob's latest attempt, or backdated its
  sender's own.

Exit status: 0 when every file was collected, 1 when some were not (the rest are
collected all the same), 2 when nothing could be done (e.g. a corrupt zip).
"""

from __future__ import annotations

import argparse
import bz2
import errno
import logging
import lzma
import os
import re
import stat
import struct
import sys
import tempfile
import unicodedata
import zipfile
import zlib
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

from autograder.paths import ROOT, SLUGS
from autograder.shown import FORMULA_STARTS, terminal_text as _shown

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

#: ``--regexp`` values for other LMSes, as the module docstring and the help text show them.
EXAMPLE_REGEXPS = {
    "Canvas": r"[^/_]+_(?:LATE_)?(?P<student_id>\d+)_\d+_(?P<file_id>.+)",
    "Moodle": r"(?P<student_id>[^/_]+)_\d+_assignsubmission_file_/(?P<file_id>.+)",
    "Blackboard": r"(?!.*_attempt_.*_attempt_)RNN_(?P<student_id>[^/]+?)_attempt_"
                  r"(?P<timestamp>\d{4}(?:-\d\d){5})_(?P<file_id>.+)",
}

KB, MB, GB = 10**3, 10**6, 10**9


@dataclass(frozen=True)
class Limits:
    """How much one run will unpack; each is an option (see "Limits" in the module docstring)."""

    notebook_bytes: int = 20 * MB
    file_bytes: int = 50 * MB
    total_bytes: int = 2 * GB
    zip_depth: int = 3
    entries: int = 20_000


_NOTEBOOK = ".ipynb"
_MAX_FOLDER_DEPTH = 32
_CHUNK = 4096  # zipfile inflates at least 4 kB of input per read; asking for no more bounds its output
_UTF8_NAME = 0x0800  # general-purpose flag bit 11 of a zip entry: "the name is UTF-8"
_SYMLINK = "symbolic link: not collected"
_KINDS = {stat.S_IFLNK: "symbolic link", stat.S_IFIFO: "named pipe", stat.S_IFSOCK: "socket",
          stat.S_IFCHR: "device", stat.S_IFBLK: "device", stat.S_IFDIR: "folder"}
_MAX_ID_LENGTH = 64
# What a damaged archive or entry raises while its directory is read or an entry inflated.
_CORRUPT = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, lzma.LZMAError, EOFError,
            NotImplementedError, UnicodeDecodeError, struct.error)
_log = logging.getLogger(__name__)
_log.addHandler(logging.NullHandler())


class CollectError(Exception):
    """The source cannot be collected at all (missing, corrupt zip, bad regexp)."""


class _Refused(Exception):
    """One entry is deliberately not collected; the message is the reason reported."""


class _Reader(Protocol):
    """What staging copies from: a folder's file, a zip entry, a bzip2 entry inflated in steps."""

    def read(self, size: int, /) -> bytes: ...


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
class _Staged:
    """A file of the source, by label; ``path`` is its staged copy (None: never read)."""

    label: str
    path: Path | None


@dataclass
class _Candidate:
    """A staged notebook matched to a student."""

    source: str
    path: Path
    student_id: str
    file_id: str
    timestamp: datetime | None
    claim: str  # the label without its timestamp and file part: who the name says sent it


def collect(source: Path, slug: str, course_root: Path = ROOT, regexp: str | None = None,
            force: bool = False, limits: Limits = Limits()) -> CollectReport:
    """Put the submissions in ``source`` (a folder or .zip) into ``course_root/submitted/``."""
    if slug not in SLUGS:
        raise CollectError(f"unknown assignment {slug!r}; known: {', '.join(SLUGS)}")
    pattern = _pattern(regexp or DEFAULT_REGEXP)
    report = CollectReport()
    with tempfile.TemporaryDirectory(prefix="collect-") as scratch:
        staged = _Stager(Path(scratch), limits, report.problems).stage(Path(source))
        by_student: dict[str, list[_Candidate]] = {}
        for item in sorted(staged, key=lambda s: s.label):
            with _reported(report.problems, item.label):
                found = _candidate(item, pattern, limits)
                if isinstance(found, Problem):
                    report.problems.append(found)
                else:
                    by_student.setdefault(found.student_id, []).append(found)
        for student_id in sorted(by_student):
            chosen = _choose(by_student[student_id], report.problems)
            if chosen:
                with _reported(report.problems, chosen[0].source):
                    outcome = _place(*chosen, slug, Path(course_root), force)
                    (report.problems if isinstance(outcome, Problem) else report.collected).append(outcome)
    return report


def _pattern(regexp: str) -> re.Pattern[str]:
    """The compiled regexp, after checking it names the groups collect needs."""
    try:
        pattern = re.compile(regexp)
    except re.error as error:
        raise CollectError(f"invalid --regexp {regexp!r}: {error}") from None
    missing = {"student_id", "file_id"} - set(pattern.groupindex)
    if missing:
        raise CollectError(f"--regexp must have the named group(s) {', '.join(sorted(missing))}, "
                           "e.g. (?P<student_id>...)")
    return pattern


@contextmanager
def _reported(problems: list[Problem], label: str, corrupt: str = "corrupt zip entry") -> Iterator[None]:
    """Handle one entry: whatever goes wrong becomes that entry's problem, never the class's."""
    try:
        yield
        return
    except _Refused as refusal:
        reason = str(refusal)
    except _CORRUPT as error:
        reason = f"{corrupt}: {_said(error)}"
    except RuntimeError as error:  # zipfile: encrypted, password required
        reason = f"cannot extract: {_said(error)}"
    except OSError as error:
        reason = f"cannot copy: {_said(error)}"
    except Exception as error:  # hostile input: one file's surprise must not stop the class
        reason = f"unexpected error: {type(error).__name__}: {error}"
    problems.append(Problem(label, reason))


def _said(error: BaseException) -> str:
    """An exception's message, or its type when it has none (e.g. a bare EOFError)."""
    return str(error) or type(error).__name__


# --- Staging: the source's notebooks and zips, copied under serial numbers ----------------


class _Stager:
    """Copies a source's notebooks and zips into ``root``, within ``limits``, reporting the rest."""

    def __init__(self, root: Path, limits: Limits, problems: list[Problem]) -> None:
        self._root, self._limits, self._problems = root, limits, problems
        self._staged: list[_Staged] = []
        self._zips: deque[tuple[str, Path, int]] = deque()  # (label, staged copy, level)
        self._serial = self._written = self._entries = 0

    def stage(self, source: Path) -> list[_Staged]:
        """Stage ``source``, then the zips found inside it, breadth first (the download's own files first)."""
        self._source(source)
        while self._zips:
            label, copy, level = self._zips.popleft()
            with _reported(self._problems, label, corrupt="corrupt zip"):
                try:
                    self._zip(copy, label[: -len(".zip")] + "/", level)
                finally:
                    copy.unlink()
        return self._staged

    def _source(self, source: Path) -> None:
        """Stage the folder or zip the instructor named; one that cannot be opened is a CollectError."""
        if source.is_dir():
            fd = os.open(source, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                self._folder(fd, "", 0)
            except _Refused as refusal:
                raise CollectError(f"{source}: {refusal}") from None
            finally:
                os.close(fd)
        elif source.is_file() and source.suffix.lower() == ".zip":
            try:
                self._zip(source, "", 0)
            except _Refused as refusal:
                raise CollectError(f"{source}: {refusal}") from None
            except (*_CORRUPT, OSError) as error:
                raise CollectError(f"cannot read {source} as a zip ({_said(error)}); download it again") from None
        else:
            raise CollectError(f"{source} is neither a folder nor a .zip file")

    def _folder(self, fd: int, prefix: str, depth: int) -> None:
        """Stage a folder's entries, opened relative to ``fd`` so that no link is followed."""
        names = sorted(os.listdir(fd))
        self._count(len(names), "folder")
        for name in names:
            with _reported(self._problems, prefix + name):
                self._folder_entry(fd, name, prefix + name, depth)

    def _folder_entry(self, parent: int, name: str, label: str, depth: int) -> None:
        """One name in a folder: a folder to walk or a regular file to take, never a link."""
        mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode  # the name itself, not its target
        if stat.S_ISDIR(mode):
            self._subfolder(parent, name, label, depth)
            return
        _refuse_unless_regular(mode)
        if not self._skipped(label):
            with _open_regular(name, parent) as reader:  # checks again: the file may have been swapped
                self._take(label, reader, zip_level=1)

    def _subfolder(self, parent: int, name: str, label: str, depth: int) -> None:
        if depth >= _MAX_FOLDER_DEPTH:
            raise _Refused(f"folder nested more than {_MAX_FOLDER_DEPTH} deep: not examined")
        fd = _open_no_follow(name, parent, os.O_DIRECTORY)
        try:
            self._folder(fd, label + "/", depth + 1)
        finally:
            os.close(fd)

    def _zip(self, path: Path, prefix: str, level: int) -> None:
        """Stage the entries of the zip at ``path``, itself at ``level`` (the download: 0)."""
        with _open_zip(path) as (archive, misnamed):
            members = archive.infolist()
            self._count(len(members), "zip")
            for index, info in enumerate(members):
                label = prefix + misnamed.get(index, info.filename)
                with _reported(self._problems, label):
                    if index in misnamed:
                        raise _Refused("name is flagged UTF-8 but is not valid UTF-8: not collected")
                    self._zip_entry(archive, info, label, level)

    def _zip_entry(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, level: int) -> None:
        """One entry of a zip: a regular file to take; never a link, a pipe or a path that climbs out."""
        if _is_unsafe(info.filename):
            raise _Refused("unsafe path in zip (absolute or '..'); skipped")
        if info.is_dir():
            return
        _refuse_unless_regular(info.external_attr >> 16)
        if self._skipped(label):
            return
        with _open_entry(archive, info) as reader:
            self._take(label, reader, zip_level=level + 1)

    def _skipped(self, label: str) -> bool:
        """Record, without reading it, a file that can be neither a notebook nor a zip to open."""
        if _is_zip(label) and not _is_macos_litter(PurePosixPath(label)):
            return False
        if _not_a_submission(PurePosixPath(label)) is None:
            return False
        self._staged.append(_Staged(label, None))
        return True

    def _take(self, label: str, reader: _Reader, zip_level: int) -> None:
        """Copy a notebook, or a zip to open later (if it is not nested too deep)."""
        if not _is_zip(label):
            self._staged.append(_Staged(label, self._write(reader)))
        elif zip_level > self._limits.zip_depth:
            raise _Refused(f"zip nested {zip_level} deep, more than --max-depth {self._limits.zip_depth}: "
                           "not extracted")
        else:
            self._zips.append((label, self._write(reader), zip_level))

    def _write(self, reader: _Reader) -> Path:
        """Copy ``reader`` to a new staged file, counting bytes as written; on any failure delete it."""
        self._serial += 1
        path = self._root / f"{self._serial:06d}"
        written = 0
        try:
            with open(path, "xb") as out:
                while chunk := reader.read(_CHUNK):
                    self._check_size(written + len(chunk))
                    out.write(chunk)
                    written += len(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        finally:
            self._written += written
        return path

    def _check_size(self, size: int) -> None:
        """Refuse a file growing past ``--max-file-size``, or the run past ``--max-total-size``."""
        if size > self._limits.file_bytes:
            raise _Refused(f"larger than --max-file-size {_human(self._limits.file_bytes)}: stopped, not collected")
        if self._written + size > self._limits.total_bytes:
            raise _Refused(f"the run's --max-total-size of {_human(self._limits.total_bytes)} was reached: "
                           "not collected")

    def _count(self, entries: int, what: str) -> None:
        """Take ``entries`` from the run's ``--max-entries``, or refuse the whole folder or zip."""
        left = self._limits.entries - self._entries
        if entries > left:
            raise _Refused(f"{what} of {entries:,} entries, more than the {left:,} left of --max-entries "
                           f"{self._limits.entries:,}: not examined")
        self._entries += entries


def _refuse_unless_regular(mode: int) -> None:
    """Refuse anything but a regular file: a link may point at solutions/, a pipe would block."""
    kind = _KINDS.get(stat.S_IFMT(mode))
    if kind:
        raise _Refused(f"{kind}: not collected")


def _open_no_follow(name: str, parent: int, flags: int = 0) -> int:
    """``os.open`` relative to ``parent`` that never follows a link (one swapped in meanwhile included)."""
    try:
        return os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | flags, dir_fd=parent)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _Refused(_SYMLINK) from None
        raise


def _open_regular(name: str, parent: int) -> BinaryIO:
    """A folder's file opened for reading, if ``fstat`` says it is a regular file with one name."""
    fd = _open_no_follow(name, parent)
    try:
        info = os.fstat(fd)
        _refuse_unless_regular(info.st_mode)
        if info.st_nlink > 1:
            raise _Refused(f"hard link (one of {info.st_nlink} names of a file): not collected")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _is_zip(label: str) -> bool:
    return label.lower().endswith(".zip")


def _is_unsafe(name: str) -> bool:
    """Would writing this zip entry escape the folder it is extracted into (zip slip)?"""
    posix = name.replace("\\", "/")
    return posix.startswith("/") or ".." in posix.split("/") or re.match(r"[A-Za-z]:", posix) is not None


# --- Reading zips: lying name flags, bounded bzip2 -----------------------------------------


@contextmanager
def _open_zip(path: Path) -> Iterator[tuple[zipfile.ZipFile, dict[int, str]]]:
    """An open archive, and its entries (by position) whose names are flagged UTF-8 but are not.

    zipfile refuses a whole archive when one entry's name lies about being UTF-8. Such an
    archive is read again through a view that clears the flag on those entries only, so
    that the others can be collected; the liars are named with ``\\x..`` escapes.
    """
    with open(path, "rb") as handle:
        try:
            archive, misnamed = zipfile.ZipFile(handle), {}
        except UnicodeDecodeError:
            misnamed = _false_utf8_names(handle)
            archive = zipfile.ZipFile(_FlagsCleared(handle, set(misnamed)))
        with archive:
            yield archive, {index: name for index, name in misnamed.values()}


def _false_utf8_names(handle: BinaryIO) -> dict[int, tuple[int, str]]:
    """Central directory records whose names are flagged UTF-8 and are not.

    Returns ``{file offset of the byte holding the flag: (entry position, escaped name)}``.
    """
    start, size = _central_directory(handle)
    handle.seek(start)
    directory = handle.read(size)
    found: dict[int, tuple[int, str]] = {}
    at = index = 0
    while at + zipfile.sizeCentralDir <= len(directory):
        fields = struct.unpack(zipfile.structCentralDir, directory[at: at + zipfile.sizeCentralDir])
        if fields[0] != zipfile.stringCentralDir:
            break
        flags, (name_length, extra_length, comment_length) = fields[5], fields[12:15]
        name = directory[at + zipfile.sizeCentralDir: at + zipfile.sizeCentralDir + name_length]
        if flags & _UTF8_NAME and not _is_utf8(name):
            found[start + at + 9] = (index, name.decode("utf-8", "backslashreplace"))  # flags: bytes 8-9
        at += zipfile.sizeCentralDir + name_length + extra_length + comment_length
        index += 1
    return found


def _central_directory(handle: BinaryIO) -> tuple[int, int]:
    """Where the central directory starts and its size, found from the end record as zipfile finds it."""
    handle.seek(0, os.SEEK_END)
    tail_start = max(0, handle.tell() - zipfile.sizeEndCentDir - 0xFFFF)
    handle.seek(tail_start)
    tail = handle.read()
    at = len(tail) - zipfile.sizeEndCentDir
    if not (tail[at: at + 4] == zipfile.stringEndArchive and tail.endswith(b"\0\0")):
        at = tail.rfind(zipfile.stringEndArchive)
    if at < 0 or at + zipfile.sizeEndCentDir > len(tail):
        return 0, 0
    size, end = struct.unpack(zipfile.structEndArchive, tail[at: at + zipfile.sizeEndCentDir])[5], tail_start + at
    locator = at - zipfile.sizeEndCentDir64Locator
    if locator >= zipfile.sizeEndCentDir64 and tail[locator: locator + 4] == zipfile.stringEndArchive64Locator:
        record = tail[locator - zipfile.sizeEndCentDir64: locator]
        size = struct.unpack(zipfile.structEndArchive64, record)[8]
        end -= zipfile.sizeEndCentDir64Locator + zipfile.sizeEndCentDir64
    return max(0, end - size), size


def _is_utf8(name: bytes) -> bool:
    try:
        name.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class _FlagsCleared:
    """A read-only view of an archive file with the UTF-8 flag cleared in the given flag bytes."""

    def __init__(self, handle: BinaryIO, flag_bytes: set[int]) -> None:
        self._handle, self._flag_bytes = handle, flag_bytes

    def read(self, size: int = -1) -> bytes:
        start = self._handle.tell()
        data = self._handle.read(size)
        hits = [offset - start for offset in self._flag_bytes if start <= offset < start + len(data)]
        if not hits:
            return data
        patched = bytearray(data)
        for at in hits:
            patched[at] &= ~(_UTF8_NAME >> 8) & 0xFF
        return bytes(patched)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()

    def seekable(self) -> bool:
        return True


def _open_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> zipfile.ZipExtFile | _Bzip2Entry:
    """A zip entry opened for reading, in steps whose output stays small (see ``_Bzip2Entry``)."""
    if info.compress_type == zipfile.ZIP_BZIP2:
        return _Bzip2Entry(archive, info)
    return archive.open(info)


class _Bzip2Entry:
    """A bzip2 entry inflated at most ``size`` bytes at a time.

    zipfile gives the bzip2 decompressor each compressed read whole, without a bound
    on the output, and 4 kB of bzip2 can inflate to about 5 GB: memory would run out
    before any byte could be counted. So the compressed bytes are read as zipfile reads
    a stored entry, inflated here in bounded steps, and checked against the entry's CRC.
    """

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        raw = zipfile.ZipInfo(info.orig_filename)  # no CRC: zipfile checks none, this class does
        raw.header_offset, raw.flag_bits = info.header_offset, info.flag_bits
        raw.compress_size = raw.file_size = info.compress_size
        self._raw = archive.open(raw)
        self._inflate = bz2.BZ2Decompressor()
        self._crc, self._expected_crc, self._name = 0, info.CRC, info.filename

    def read(self, size: int) -> bytes:
        while not self._inflate.eof:
            data = self._raw.read(size) if self._inflate.needs_input else b""
            if self._inflate.needs_input and not data:
                raise EOFError("bzip2 data ends before its end marker")
            try:
                out = self._inflate.decompress(data, size)
            except OSError as error:
                raise zipfile.BadZipFile(f"bzip2: {error}") from None
            if out:
                self._crc = zlib.crc32(out, self._crc)
                return out
        if self._crc != self._expected_crc:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {self._name!r}")
        return b""

    def __enter__(self) -> _Bzip2Entry:
        return self

    def __exit__(self, *exc: object) -> None:
        self._raw.close()


# --- Matching: which student a notebook belongs to ------------------------------------------


def _candidate(staged: _Staged, pattern: re.Pattern[str], limits: Limits) -> _Candidate | Problem:
    """Match one staged file to a student, or say why it cannot be."""
    label = staged.label
    skip = _not_a_submission(PurePosixPath(label))
    if skip or staged.path is None:
        return Problem(label, skip or "not a notebook")
    match = pattern.match(label)
    if match is None:
        return Problem(label, f"does not match the regular expression {pattern.pattern!r}")
    student_id, file_id = match["student_id"], match["file_id"] or ""
    bad = _invalid_student_id(student_id)
    if bad:
        return Problem(label, bad)
    size = staged.path.stat().st_size
    if size > limits.notebook_bytes:
        return Problem(label, f"notebook of {size:,} bytes, larger than --max-notebook-size "
                              f"{_human(limits.notebook_bytes)}: not collected")
    raw_stamp = match.groupdict().get("timestamp")
    try:
        timestamp = _parse_timestamp(raw_stamp) if raw_stamp else None
    except (ValueError, OverflowError):
        return Problem(label, f"unreadable timestamp {raw_stamp!r}")
    # As nbgrader does: the file id names the notebook, whatever extension it captured.
    notebook_name = os.path.splitext(file_id)[0] + _NOTEBOOK if file_id else label
    return _Candidate(label, staged.path, student_id, notebook_name, timestamp, _claim(match))


def _claim(match: re.Match[str]) -> str:
    """The name without its timestamp and file part: what it says about who sent it.

    Two attempts of one student differ only there; a name that differs elsewhere yet
    gives the same student id (``..._bob_attempt_...`` hidden in another's file) is not
    one of that student's attempts.
    """
    cut = [match.span(group) for group in ("timestamp", "file_id")
           if group in match.re.groupindex and match[group] is not None]
    return "".join(char for at, char in enumerate(match.string) if not any(a <= at < b for a, b in cut))


def _parse_timestamp(raw: str) -> datetime:
    """A timestamp from a file name, read as nbgrader reads it (``parse_utc``).

    Blackboard's ``2024-03-02-09-30-00`` is first rewritten as ``2024-03-02 09:30:00``:
    dateutil would read ``-30-00`` as a time zone and give 09:00 in the local zone.
    """
    from nbgrader.utils import parse_utc  # imported late: nbgrader takes seconds to import, `--help` none

    dashed = re.fullmatch(r"(\d{4}-\d\d-\d\d)[-_T ](\d\d)[-_:.](\d\d)[-_:.](\d\d)", raw)
    return parse_utc(f"{dashed[1]} {dashed[2]}:{dashed[3]}:{dashed[4]}" if dashed else raw)


def _is_macos_litter(rel: PurePosixPath) -> bool:
    return "__MACOSX" in rel.parts or rel.name.startswith("._")


def _not_a_submission(rel: PurePosixPath) -> str | None:
    """Why a file is no student's notebook (OS litter, other files), or None."""
    if _is_macos_litter(rel):
        return "not a notebook (macOS metadata)"
    if rel.suffix != _NOTEBOOK:
        return "not a notebook"
    if any(part.startswith(".") for part in rel.parts):
        return "hidden notebook (e.g. a Jupyter checkpoint); skipped"
    return None


def _invalid_student_id(student_id: str | None) -> str | None:
    """Why a student id cannot name a student's folder and gradebook row, or None if it can."""
    if not student_id:
        return "empty student id"
    shown = f"invalid student id {student_id!r}"
    try:
        student_id.encode("utf-8")
    except UnicodeEncodeError:  # a folder name's undecodable bytes, kept as lone surrogates
        return f"{shown} (not valid UTF-8)"
    if student_id.startswith(FORMULA_STARTS):
        return f"{shown} (starts with = + - @, a tab or a carriage return: a spreadsheet formula)"
    if any(unicodedata.category(char) == "Cc" for char in student_id):
        return f"{shown} (a control character)"
    if "/" in student_id or "\\" in student_id or student_id.startswith("."):
        return f"{shown} (a path separator or a leading dot)"
    if len(student_id) > _MAX_ID_LENGTH:
        return f"{shown} (more than {_MAX_ID_LENGTH} characters)"
    if not student_id.isprintable():
        return f"{shown} (not printable)"
    return None


# --- Choosing and placing -------------------------------------------------------------------


def _choose(candidates: list[_Candidate], problems: list[Problem]) -> tuple[_Candidate, list[_Candidate]] | None:
    """One student's notebook to keep and the attempts it supersedes, or None on a conflict."""
    if len(candidates) == 1:
        return candidates[0], []
    names = ", ".join(c.source for c in candidates)
    student, count = candidates[0].student_id, len(candidates)
    stamps = [c.timestamp for c in candidates]
    if None in stamps or len(set(stamps)) < len(stamps):
        reason = (f"conflict: {count} notebooks for {student} ({names}) "
                  "and no distinct timestamps to choose; nothing collected for them")
    elif len({c.claim for c in candidates}) > 1:
        reason = (f"conflict: {count} notebooks for {student} ({names}) whose names differ beyond "
                  "the timestamp and file part, so not all are theirs; nothing collected for them")
    else:
        ordered = sorted(candidates, key=lambda c: c.timestamp)
        return ordered[-1], ordered[:-1]
    problems.extend(Problem(c.source, reason) for c in candidates)
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


# --- Command line ---------------------------------------------------------------------------


def _human(size: int) -> str:
    """A size as the options take it: ``20 MB``, ``1.5 kB``, ``300 bytes``."""
    for unit, scale in (("GB", GB), ("MB", MB), ("kB", KB)):
        if size >= scale:
            return f"{size / scale:.4g} {unit}"
    return f"{size} bytes"


def _size(text: str) -> int:
    """A size option: bytes, or a number followed by kB, MB or GB (powers of 1000)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:(k|m|g)b?|b)?\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 20MB, 500kB or 2GB")
    scale = {"k": KB, "m": MB, "g": GB}.get((match[2] or "").lower(), 1)
    return int(float(match[1]) * scale)


def _count(text: str) -> int:
    """A non-negative whole number option."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    return int(text)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``collect`` command's arguments to ``parser``."""
    parser.add_argument("slug", choices=SLUGS, help="the assignment the submissions are for")
    parser.add_argument("source", type=Path,
                        help="a folder of notebooks or an LMS download (.zip; zips inside it are extracted too)")
    examples = "; ".join(f"{lms}: '{regexp}'" for lms, regexp in EXAMPLE_REGEXPS.items())
    parser.add_argument(
        "--regexp", default=None,
        help="regular expression matched from the start of each file's path inside the zip or folder "
             "(with / separators), as nbgrader zip_collect's named_regexp: named groups student_id and "
             "file_id are required; timestamp (keeps a student's latest attempt, written to timestamp.txt), "
             "first_name, last_name and email are optional. Default: Canvas names "
             "(lastfirst_[LATE_]USERID_SUBMISSIONID_file.ipynb, student id = Canvas user id) or a plain folder "
             "(STUDENT.ipynb or STUDENT/any.ipynb). Moodle folders are 'First Last_PARTICIPANT_assignsubmission_"
             "file_/' (the number changes per assignment, so the name is the id); Blackboard names are "
             "'RNN_USERNAME_attempt_2024-03-01-10-00-00_rnn.ipynb' (put your assignment's name, regex-escaped, "
             f"in place of RNN). Examples: {examples}.")
    parser.add_argument("--force", action="store_true",
                        help="overwrite a student's already collected notebook when the new one differs")
    defaults = Limits()
    parser.add_argument("--max-notebook-size", type=_size, default=defaults.notebook_bytes, metavar="SIZE",
                        help="a larger notebook is not collected (default: 20MB; sizes take kB, MB, GB)")
    parser.add_argument("--max-file-size", type=_size, default=defaults.file_bytes, metavar="SIZE",
                        help="largest notebook or zip copied or extracted; a larger one is stopped there "
                             "and reported (default: 50MB)")
    parser.add_argument("--max-total-size", type=_size, default=defaults.total_bytes, metavar="SIZE",
                        help="most bytes one run writes while copying and extracting (default: 2GB)")
    parser.add_argument("--max-depth", type=_count, default=defaults.zip_depth, metavar="N",
                        help="how deep zips inside the source are opened: a zip in the folder or download is "
                             "level 1, a zip inside it level 2 (default: 3)")
    parser.add_argument("--max-entries", type=_count, default=defaults.entries, metavar="N",
                        help="most files and folders one run examines; a folder or zip with more than are "
                             "left is refused whole (default: 20000)")


def run(args: argparse.Namespace) -> int:
    """Collect, print a report; 0 if every file was collected, 1 if some were not, 2 on a fatal error."""
    limits = Limits(args.max_notebook_size, args.max_file_size, args.max_total_size, args.max_depth,
                    args.max_entries)
    try:
        report = collect(args.source, args.slug, args.course, args.regexp, args.force, limits)
    except CollectError as error:
        print(_shown(f"error: {error}"), file=sys.stderr)
        return 2
    for c in report.collected:
        where = c.destination.relative_to(c.destination.parents[3])  # submitted/<id>/<slug>/<slug>.ipynb
        extra = "".join(f"  [{text}]" for text in (c.timestamp and str(c.timestamp), c.note) if text)
        print(_shown(f"{c.student_id:<20} {where}  <- {c.source}{extra}"))
    if report.problems:
        print("not collected:")
    for p in report.problems:
        print(_shown(f"  {p.file}: {p.reason}"))
    print(f"collected {len(report.collected)} submissions for {args.slug}; {len(report.problems)} files not matched")
    return 1 if report.problems else 0
