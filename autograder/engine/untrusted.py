"""Reading a file that anyone may have put there: a submission, a result, a timestamp.

``submitted/`` may be a shared folder and ``autograded/`` could be tampered with, so such a
file is opened without following a symbolic link (``O_NOFOLLOW``), without blocking on a
named pipe (``O_NONBLOCK``), must then be a regular file (``fstat``), and is read only up to
one byte past the most it may hold, so an oversized file is refused by its size and never
read whole.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class NotRead(Exception):
    """The file exists but is not read. ``why`` is LINK, NOT_REGULAR or UNOPENABLE; the message is
    the system's reason when it could not be opened."""

    def __init__(self, why: str, detail: str = ""):
        super().__init__(detail or why)
        self.why, self.detail = why, detail


LINK, NOT_REGULAR, UNOPENABLE = "symbolic link", "not a regular file", "cannot be opened"


def read_bounded(path: Path, most: int) -> bytes:
    """At most ``most + 1`` bytes of the regular file ``path`` (more than ``most``: it is too large).

    Raises FileNotFoundError when there is no such file, and NotRead for a symbolic link,
    anything but a regular file, or a file that cannot be opened.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise NotRead(LINK) from None
        raise NotRead(UNOPENABLE, error.strerror or type(error).__name__) from None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise NotRead(NOT_REGULAR)
        return handle.read(most + 1)
