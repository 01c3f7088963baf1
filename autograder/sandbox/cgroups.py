"""One memory limit per sandbox that counts all of a submission's memory: a memory cgroup.

Why. The worker's address-space limit (RLIMIT_AS) counts only what is mapped
into its process. Pages kept in a file of a tmpfs (the sandbox's /tmp, a
``/dev/shm``), in a memfd or in SysV shared memory stay allocated once
unmapped, and count nowhere. When the machine runs out, the kernel's OOM
killer chooses among *all* its processes: the grader, or a classmate's
sandbox. A memory cgroup charges to its group every page its processes bring
in (anonymous memory, the tmpfs and shared-memory pages they write, their page
cache and the kernel's memory for them), and when a group goes over its limit
the OOM killer chooses inside that group only.

Where. ``place()`` finds once per process a directory in which this process
may create groups, proves it by moving a short-lived process into a group
there, and removes the empty groups that graders which died left behind:

- cgroup v2 (one hierarchy, usually at /sys/fs/cgroup): only inside a subtree
  delegated to us (systemd's ``user@.service``, a unit or scope started with
  ``Delegate=yes``), the nearest one, from our own cgroup upwards, whose
  children get the memory controller. Creating groups elsewhere, even as root,
  would trespass on systemd's tree. A delegated cgroup that still holds our
  own processes first moves them into a leaf, ``autograder``, because v2
  gives controllers to children only of a group without processes of its own;
- cgroup v1 (a hierarchy per controller): our own group of the memory
  controller, where root may create children.

How. ``MemoryGroup.create`` makes one group per sandbox and sets its limit;
``joined`` is the command that enters the group *before* it execs the
sandbox, so bwrap and everything it starts are born inside; ``oom_kills`` says
whether the kernel killed a process there for the limit; ``remove`` kills
what is left and removes the group.

Nothing here knows about the course: it takes paths and byte counts.
"""

from __future__ import annotations

import errno
import functools
import itertools
import os
import re
import signal
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

#: Enters the group named by $1, then becomes the command that follows. The shell's
#: ``echo`` is a builtin: the shell itself writes its own pid ($$), and ``exec`` keeps
#: that pid, so the sandbox starts inside the group and never runs a step outside it.
JOIN = 'echo $$ > "$1" && shift && exec "$@"'
SHELL = "/bin/sh"
#: The v2 leaf that our own processes move into, to free a delegated cgroup for children.
LEAF = "autograder"
#: How long ``remove`` waits for the processes of a group to end.
PATIENCE = 10.0

_numbers = itertools.count(1)


class MemoryGroupWarning(RuntimeWarning):
    """A memory group could not be removed (or none can be used here)."""


@dataclass(frozen=True)
class Place:
    """A cgroup directory under which this process may create groups with a memory limit."""

    directory: Path
    version: int  # 1 or 2


@dataclass(frozen=True)
class Mount:
    """One line of /proc/self/mountinfo: which part of a hierarchy (``root``) is seen where."""

    root: str
    point: Path
    fstype: str
    options: tuple[str, ...]  # the filesystem's own options: for cgroup v1, its controllers

    def directory(self, cgroup: str) -> Path | None:
        """Where the cgroup ``cgroup`` (a path in the hierarchy) is seen, if this mount shows it."""
        relative = os.path.relpath(cgroup, self.root)
        if relative == ".." or relative.startswith("../"):
            return None
        return self.point if relative == "." else self.point / relative


def unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash in paths as octal escapes (``\\040``)."""
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), field)


def parse_mounts(mountinfo: str) -> list[Mount]:
    mounts = []
    for line in mountinfo.splitlines():
        before, separator, after = line.partition(" - ")  # optional fields end at a lone "-"
        fields, tail = before.split(), after.split()
        if not separator or len(fields) < 5 or len(tail) < 3:
            continue
        mounts.append(Mount(unescape(fields[3]), Path(unescape(fields[4])), tail[0], tuple(tail[2].split(","))))
    return mounts


def parse_membership(proc_cgroup: str) -> dict[str, str]:
    """Our cgroup in each hierarchy, from /proc/self/cgroup: v1 controller names, and "" for v2.

    A line is ``id:controllers:path``; v1 lists its controllers ("4:memory:/a/b"),
    v2 none ("0::/a/b").
    """
    membership = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for controller in controllers.split(",") if controllers else [""]:
            membership[controller] = path
    return membership


# -- where groups can be made ------------------------------------------------------

def read(path: Path) -> str:
    return path.read_text().strip()


def write(path: Path, value: str) -> None:
    """One write(2) of ``value``: a cgroup file takes each write as one command."""
    with open(path, "w") as file:
        file.write(value)


def writable(directory: Path) -> bool:
    """May we create groups here and move processes into them (the v2 rule: write access to
    the cgroup.procs of the common ancestor of where a process is and where it goes)?

    On a cgroup filesystem mounted read-only (as container engines do) access() says EROFS.
    """
    return os.access(directory, os.W_OK | os.X_OK) and os.access(directory / "cgroup.procs", os.W_OK)


def delegated(directory: Path) -> bool:
    """Was this v2 cgroup delegated to us, as systemd delegates?

    systemd (251 and later) marks a delegated cgroup with the extended attribute
    ``trusted.delegate`` (``user.delegate`` for a user's manager) and, delegating
    to a user, gives that user the directory. Root may write anywhere in the
    hierarchy, so for root only the mark counts.
    """
    for name in ("trusted.delegate", "user.delegate"):
        try:
            if os.getxattr(directory, name) == b"1":
                return True
        except OSError:
            pass
    euid = os.geteuid()
    return euid != 0 and directory.stat().st_uid == euid


def controllers(path: Path) -> set[str]:
    try:
        return set(read(path).split())
    except OSError:
        return set()


def v2_place(own: Path, top: Path) -> Place | str:
    """A delegated cgroup at or above ``own`` whose children get the memory controller; the
    reason when there is none."""
    directory = own
    while True:
        if "memory" in controllers(directory / "cgroup.subtree_control") and writable(directory) \
                and delegated(directory):
            return Place(directory, 2)
        if directory == top or top not in directory.parents:
            break
        directory = directory.parent
    if not ("memory" in controllers(own / "cgroup.controllers") and writable(own) and delegated(own)):
        return (f"cgroup v2: neither {own} nor a cgroup above it is delegated to this process with the "
                "memory controller")
    return make_room(own)


def make_room(own: Path) -> Place | str:
    """Move our own processes into a leaf and give the memory controller to ``own``'s children.

    cgroup v2 gives controllers only to the children of a group that holds no
    process itself (its "no internal processes" rule), and a process that
    forks meanwhile lands in ``own`` again: hence the few attempts.
    """
    leaf = own / LEAF
    try:
        leaf.mkdir(exist_ok=True)
        for _ in range(5):
            for pid in read(own / "cgroup.procs").split():
                try:
                    write(leaf / "cgroup.procs", pid)
                except ProcessLookupError:  # it ended meanwhile
                    pass
            try:
                write(own / "cgroup.subtree_control", "+memory")
                return Place(own, 2)
            except OSError as error:
                if error.errno != errno.EBUSY:  # EBUSY: a process is still in own
                    raise
        return f"cgroup v2: processes keep arriving in {own}, which must hold none to give children memory"
    except OSError as error:
        return f"cgroup v2: could not give {own}'s children the memory controller ({error})"


def v1_place(own: Path) -> Place | str:
    if not (own / "memory.limit_in_bytes").is_file():
        return f"cgroup v1: {own} has no memory controller files"
    if not writable(own):
        return f"cgroup v1: {own} is not writable by this process (user {os.geteuid()}; root may create groups)"
    return Place(own, 1)


def find_place(proc_cgroup: str, mountinfo: str) -> Place | str:
    """Where to create memory groups, given /proc/self/cgroup and /proc/self/mountinfo; or why nowhere.

    v2 first: where both are mounted (a "hybrid" machine), the memory controller
    is in one of them only, and the other is passed over for it.
    """
    membership, mounts = parse_membership(proc_cgroup), parse_mounts(mountinfo)
    reasons = []
    for mount in mounts:
        if mount.fstype == "cgroup2" and "" in membership:
            own = mount.directory(membership[""])
            if own is not None and own.is_dir():
                found = v2_place(own, mount.point)
                if isinstance(found, Place):
                    return found
                reasons.append(found)
    for mount in mounts:
        if mount.fstype == "cgroup" and "memory" in mount.options and "memory" in membership:
            own = mount.directory(membership["memory"])
            if own is not None and own.is_dir():
                found = v1_place(own)
                if isinstance(found, Place):
                    return found
                reasons.append(found)
    return "; ".join(reasons) or "no cgroup memory controller is mounted"


def prove(place: Place) -> str | None:
    """Create a group at ``place``, move a short-lived process into it as the sandbox will be,
    and remove it; None if all went well, else what failed.

    A directory can look writable and still refuse (v2 delegation rules, a
    security module), and that is better found once here than at every sandbox.
    """
    try:
        group = MemoryGroup.create(place, 64 * 2**20)
    except OSError as error:
        return f"creating a group in {place.directory} failed ({error})"
    try:
        joined = subprocess.run(group.joined([SHELL, "-c", "exit 0"]), capture_output=True, text=True,
                                check=False, timeout=30)
        if joined.returncode != 0:
            return f"a process could not join a group in {place.directory} ({joined.stderr.strip()})"
        return None
    finally:
        group.remove()


def sweep(place: Place) -> None:
    """Remove the groups that graders which died left behind (named after their pid, now gone).

    A grader process killed outright (a pool worker the system killed) never
    closes its sandbox: the sandbox dies with it (``--die-with-parent``), its
    group stays, empty. A group still holding a process, or whose creator is
    alive, is left alone: the kernel refuses to remove the first, and the
    second may be about to receive its sandbox. (Creators are looked up in this
    process's pid namespace: graders in other containers do not share our
    cgroup, the place being our own.)
    """
    for directory in place.directory.glob("sandbox-*-*"):
        creator = directory.name.split("-")[1]
        if not creator.isdigit() or alive(int(creator)):
            continue
        try:
            directory.rmdir()
        except OSError:  # EBUSY: not empty after all
            pass


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's
        return True
    return True


@functools.lru_cache(maxsize=1)
def discover() -> Place | str:
    """This process's place for memory groups, found and proven once; or why there is none."""
    try:
        found = find_place(Path("/proc/self/cgroup").read_text(), Path("/proc/self/mountinfo").read_text())
    except OSError as error:
        return f"cannot read this process's cgroups ({error})"
    if isinstance(found, Place):
        failure = prove(found)
        if failure is not None:
            return failure
        sweep(found)
    return found


def place() -> Place | None:
    found = discover()
    return found if isinstance(found, Place) else None


def why_none() -> str | None:
    found = discover()
    return None if isinstance(found, Place) else found


# -- one group per sandbox ----------------------------------------------------------

class MemoryGroup:
    """The cgroup of one sandbox: its processes, and a limit on all the memory they hold."""

    def __init__(self, directory: Path, version: int) -> None:
        self.directory = directory
        self.version = version

    @classmethod
    def create(cls, where: Place, limit_bytes: int) -> MemoryGroup:
        """A new group under ``where`` limited to ``limit_bytes``; OSError if the kernel refuses."""
        directory = where.directory / f"sandbox-{os.getpid()}-{next(_numbers)}"
        directory.mkdir()
        group = cls(directory, where.version)
        try:
            group._limit(limit_bytes)
        except BaseException:
            group.remove()
            raise
        return group

    def _limit(self, limit_bytes: int) -> None:
        limit = str(limit_bytes)
        if self.version == 2:
            write(self.directory / "memory.max", limit)
            # memory.max counts memory only: without this, pages pushed to swap would go uncounted.
            self._write_if_present("memory.swap.max", "0")
            # On an OOM kill, kill every process of the sandbox, not the largest alone.
            self._write_if_present("memory.oom.group", "1")
        else:
            # The memory limit first: v1 refuses a memory+swap limit below the memory limit.
            write(self.directory / "memory.limit_in_bytes", limit)
            # Memory plus swap (present where the kernel accounts swap): swapped pages count too.
            self._write_if_present("memory.memsw.limit_in_bytes", limit)

    def _write_if_present(self, name: str, value: str) -> None:
        if (self.directory / name).exists():
            write(self.directory / name, value)

    def joined(self, argv: list[str]) -> list[str]:
        """``argv`` run as a member of this group from its first instruction.

        Not the grader writing the child's pid after starting it: a process that
        joins a group does not take along the children it already has, and bwrap
        starts the sandbox's processes at once, so some could stay outside.
        Not the worker joining from inside the sandbox: it has no /sys there,
        and a handle on the cgroup left in a submission's reach is a door out.
        Not ``preexec_fn``: Python code between fork and exec can deadlock in a
        grader with threads (a Dask worker).
        """
        return [SHELL, "-c", JOIN, "sh", str(self.directory / "cgroup.procs"), *argv]

    def _counters(self) -> dict[str, int]:
        """The group's event counters: "key value" lines (v2 memory.events, v1 memory.oom_control)."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        counters = {}
        try:
            for line in read(self.directory / name).splitlines():
                key, _, value = line.partition(" ")
                if value.strip().isdigit():
                    counters[key] = int(value)
        except OSError:
            pass
        return counters

    def oom_kills(self) -> int:
        """How many processes the kernel killed in this group for its limit (Linux 4.13 and later).

        The kernel counts the kill before it sends the SIGKILL (mm/oom_kill.c:
        "Raise event before sending signal"), so a grader that sees its worker
        dead reads the kill already counted.
        """
        return self._counters().get("oom_kill", 0)

    def peak_bytes(self) -> int | None:
        """The most memory the group held at once (None where the kernel does not say: v2 before 5.19)."""
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        try:
            return int(read(self.directory / name))
        except (OSError, ValueError):
            return None

    def pids(self) -> list[int]:
        try:
            return [int(pid) for pid in read(self.directory / "cgroup.procs").split()]
        except OSError:
            return []

    def _kill_members(self) -> None:
        """SIGKILL every process still in the group: whatever the submission left running.

        v2 (Linux 5.14 and later) does it in one write to cgroup.kill. Otherwise
        each pid listed: one freed meanwhile could only be reused by another
        process after the whole pid space (4 million on 64 bits) turned over.
        """
        if self.version == 2 and (self.directory / "cgroup.kill").exists():
            try:
                write(self.directory / "cgroup.kill", "1")
                return
            except OSError:
                pass
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def remove(self, patience: float = PATIENCE) -> bool:
        """Kill what is left in the group and remove it; False (and a warning) if it stays.

        A group can be removed only once it holds no process. The sandbox's own
        processes die with the bwrap the grader killed (``--die-with-parent``),
        a moment later, so this waits for them. Memory still charged to the
        group does not stop its removal: the sandbox's /tmp is freed with its
        mount namespace, and the kernel reclaims the rest (page cache) later.
        Never raises: it runs while a sandbox is being closed, maybe after a
        failure.
        """
        deadline = time.monotonic() + patience
        while True:
            try:
                self.directory.rmdir()
                return True
            except FileNotFoundError:
                return True
            except OSError as error:
                if error.errno != errno.EBUSY or time.monotonic() > deadline:
                    warnings.warn(f"the memory group {self.directory} could not be removed ({error}); "
                                  f"remove it with: rmdir {self.directory}", MemoryGroupWarning, stacklevel=2)
                    return False
            self._kill_members()
            time.sleep(0.005)
