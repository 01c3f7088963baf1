"""Due dates and late work, kept and judged where and as nbgrader keeps and judges them.

- **When a submission was handed in** is ``submitted/<student>/<slug>/timestamp.txt``, as in
  nbgrader (``collect`` writes it from a timestamp in the LMS's file name; nbgrader's exchange
  writes it when a student submits). ``grade`` records it as the gradebook submission's
  ``timestamp``, as ``nbgrader autograde`` does. A timestamp without a time zone is UTC.
  The file is input like any other: it is read without following a symbolic link, at most
  MAX_TIMESTAMP_BYTES of it, and one that cannot be read as a date leaves the recorded
  timestamp as it was, with a note on the result saying lateness was not judged from it.
- **When it was due** is the gradebook assignment's ``duedate``, where nbgrader keeps it (the
  formgrader shows and edits it; ``nbgrader db assignment add rnn --duedate=...`` sets it). The
  course's commands set it too: ``grade SLUG --duedate`` or, for every run,
  ``c.Autograder.duedates = {"rnn": "2026-10-05 23:59:00 Europe/London", ...}`` in
  ``nbgrader_config.py`` (``set_duedates``). A student's extension (nbgrader's
  ``SubmittedAssignment.extension``) moves their own due date, as in nbgrader.
- **The penalty** is decided by nbgrader's own late-submission plugin, configured as for
  ``nbgrader autograde``: ``c.AssignLatePenalties.plugin_class`` (default
  ``LateSubmissionPlugin``; a subclass the instructor names, e.g. ``"late.HalfOffPerDay"``
  from a ``late.py`` in the course directory) and its options, e.g.
  ``c.LateSubmissionPlugin.penalty_method = "zero"``. ``LatePolicy`` builds nbgrader's
  ``AssignLatePenalties`` preprocessor from the course's configuration and applies its
  plugin and its bounds (a penalty is at least 0 and at most the notebook's score) to each
  notebook of a late submission exactly as the preprocessor does; an on-time submission has
  no penalty. The score shown in nbgrader's export and in ``report`` is then
  ``max(0, score - penalty)``.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from autograder.engine.untrusted import LINK, NOT_REGULAR, NotRead, read_bounded

#: nbgrader's name for the submission time file, beside the notebook.
TIMESTAMP_FILE = "timestamp.txt"
#: A timestamp is a short line; anything longer is not one (and is not read whole).
MAX_TIMESTAMP_BYTES = 100
#: Where the course's ``nbgrader_config.py`` lists due dates: ``c.Autograder.duedates``.
CONFIG_SECTION, CONFIG_DUEDATES = "Autograder", "duedates"


class LatenessError(Exception):
    """A due date or the late-submission configuration cannot be used (said before grading starts)."""


def parse_time(text: str) -> datetime:
    """A date and time as nbgrader reads it (``nbgrader.utils.parse_utc``): naive UTC.

    Raises ValueError for anything that is not one.
    """
    from nbgrader.utils import parse_utc

    try:
        parsed = parse_utc(text)
    except (ValueError, OverflowError, TypeError, LookupError) as error:
        raise ValueError(f"not a date and time: {text[:MAX_TIMESTAMP_BYTES]!r} ({error})") from None
    if not isinstance(parsed, datetime):
        raise ValueError(f"not a date and time: {text[:MAX_TIMESTAMP_BYTES]!r}")
    return parsed


def read_timestamp(folder: Path) -> tuple[datetime | None, str | None]:
    """The submission time in ``folder/timestamp.txt``: (time, None), (None, None) when there is no
    such file, or (None, why) when there is one that does not hold a date and time."""
    try:
        data = read_bounded(folder / TIMESTAMP_FILE, MAX_TIMESTAMP_BYTES)
    except FileNotFoundError:
        return None, None
    except NotRead as error:
        return None, {LINK: f"{TIMESTAMP_FILE} is a symbolic link, not read",
                      NOT_REGULAR: f"{TIMESTAMP_FILE} is not a regular file, not read"}.get(
            error.why, f"{TIMESTAMP_FILE} cannot be read ({error.detail})")
    if len(data) > MAX_TIMESTAMP_BYTES:
        return None, f"{TIMESTAMP_FILE} is longer than {MAX_TIMESTAMP_BYTES} bytes"
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None, f"{TIMESTAMP_FILE} is not UTF-8 text"
    if not text:
        return None, f"{TIMESTAMP_FILE} is empty"
    try:
        return parse_time(text), None
    except ValueError as error:
        return None, f"{TIMESTAMP_FILE}: {error}"


@dataclass(frozen=True)
class Lateness:
    """How one recorded submission stands against its due date (times in UTC, ISO format)."""

    submitted_at: str | None  # the gradebook's timestamp; None: unknown
    duedate: str | None  # the student's due date, extension included; None: no due date
    seconds_late: float  # 0 when on time or unknown
    penalty: float  # points taken off the assignment's score (0: none)
    note: str | None = None  # why the submission time could not be taken from timestamp.txt

    @property
    def late(self) -> bool:
        return self.seconds_late > 0

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> Lateness | None:
        return cls(**data) if data else None

    def describe(self) -> str:
        """One sentence for a feedback page or a summary line."""
        if self.submitted_at is None:
            when = "The time of submission is not known"
            return f"{when} ({self.note})." if self.note else f"{when}."
        if self.duedate is None:
            return f"Submitted {self.submitted_at} UTC; the assignment has no due date."
        if not self.late:
            return f"Submitted {self.submitted_at} UTC, on time (due {self.duedate} UTC)."
        penalty = f"late penalty: {self.penalty:g} points" if self.penalty else "no late penalty"
        return (f"Submitted {self.submitted_at} UTC, {duration(self.seconds_late)} after the due date "
                f"({self.duedate} UTC); {penalty}.")


def duration(seconds: float) -> str:
    """``seconds`` as a person says it: "3 days 2 h", "5 h 12 min", "40 s"."""
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(" ") if moment is not None else None


def course_config(course_root: Path):
    """The course's ``nbgrader_config.py``, loaded as nbgrader loads it (an empty config if none)."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    if not (course_root / "nbgrader_config.py").is_file():
        return Config()
    return PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()


class LatePolicy:
    """nbgrader's late-submission penalty, as the course's configuration sets it.

    Built once per run, before grading starts, so a plugin that cannot be imported stops
    ``grade`` with the reason instead of failing at the first late submission.
    """

    def __init__(self, course_root: Path):
        from nbgrader.preprocessors import AssignLatePenalties

        # A plugin named by a dotted string ("late.HalfOffPerDay") is found as nbgrader, run in
        # the course directory, finds it: in the course directory.
        if str(course_root) not in sys.path:
            sys.path.append(str(course_root))
        try:
            self._assigner = AssignLatePenalties(config=course_config(course_root))
            self._assigner.init_plugin()
        except Exception as error:  # noqa: BLE001 - an instructor's plugin may fail in any way
            raise LatenessError(f"the late-submission plugin set in nbgrader_config.py cannot be used: "
                                f"{type(error).__name__}: {error}") from error

    @property
    def plugin(self) -> str:
        kind = type(self._assigner.plugin_inst)
        return f"{kind.__module__}.{kind.__qualname__}"

    def penalty(self, student: str, notebook, seconds_late: float) -> float | None:
        """The penalty for ``notebook`` (nbgrader's SubmittedNotebook) of a submission
        ``seconds_late`` seconds late, bounded as nbgrader bounds it; None: no penalty."""
        if seconds_late <= 0:
            return None
        penalty = self._assigner.plugin_inst.late_submission_penalty(student, notebook.score, seconds_late)
        if penalty is None:
            return None
        return self._assigner._check_late_penalty(notebook, penalty)  # nbgrader's own bounds: 0..score


def judge(gradebook, submission, policy: LatePolicy, note: str | None = None) -> Lateness:
    """Set the late penalty of each notebook of ``submission`` (nbgrader's SubmittedAssignment,
    whose scores and timestamp are already written in this session) and say how it stands."""
    gradebook.db.flush()
    seconds_late = float(submission.total_seconds_late) if submission.timestamp is not None else 0.0
    penalty = 0.0
    for notebook in submission.notebooks:
        gradebook.db.expire(notebook)  # its score is computed by the database from the grades just written
        value = policy.penalty(submission.student_id, notebook, seconds_late)
        if notebook.late_submission_penalty != value:
            notebook.late_submission_penalty = value
        penalty += value or 0.0
    return Lateness(_iso(submission.timestamp), _iso(submission.duedate), seconds_late, penalty, note)


def configured_duedates(course_root: Path) -> dict[str, str]:
    """``c.Autograder.duedates`` of the course's ``nbgrader_config.py`` ({} when not set)."""
    config = course_config(course_root)
    if CONFIG_SECTION not in config or CONFIG_DUEDATES not in config[CONFIG_SECTION]:
        return {}
    duedates = config[CONFIG_SECTION][CONFIG_DUEDATES]
    if not isinstance(duedates, dict):
        raise LatenessError(f"c.{CONFIG_SECTION}.{CONFIG_DUEDATES} in nbgrader_config.py must be a dict "
                            f"from assignment to due date, not {type(duedates).__name__}")
    return {str(slug): str(when) for slug, when in duedates.items()}


def parse_duedates(duedates: dict[str, str]) -> dict[str, datetime]:
    """Each assignment's due date read as nbgrader reads it (UTC); LatenessError names a bad one."""
    parsed = {}
    for slug, text in duedates.items():
        try:
            parsed[slug] = parse_time(text)
        except ValueError as error:
            raise LatenessError(f"due date of {slug}: {error}") from None
    return parsed


def set_duedates(gradebook, duedates: dict[str, datetime]) -> None:
    """Write each assignment's due date (UTC, from ``parse_duedates``) into the gradebook, where
    nbgrader keeps it (``Assignment.duedate``)."""
    for slug, moment in duedates.items():
        gradebook.update_or_create_assignment(slug, duedate=moment)
