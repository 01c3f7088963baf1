"""Is all of a submission's memory inside one limit, its own sandbox's?

Memory a process holds outside its address space escaped the worker's only
limit (RLIMIT_AS): a memfd, files in /dev/shm or in the /dev tmpfs, SysV shared
memory. Filled by many submissions at once, the machine runs out and the
kernel's OOM killer picks anyone: the grader, a classmate's sandbox. So those
doors are shut (seccomp, a read-only /dev), and where the machine allows it
each sandbox runs in a memory cgroup of its own (autograder.sandbox.cgroups)
that counts everything, its /tmp files included; a submission that goes over
it is killed alone and told why, and the group goes away with its sandbox.

As in test_isolation.py, the sandboxes here run without the audit hook: what
is refused is refused by the kernel.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

from autograder.commands.grade import find_jobs, grade
from autograder.commands.release import generate
from autograder.course.submissions import fill, reference_answers
from autograder.engine.results import GRADED
from autograder.engine.runner import Limits
from autograder.paths import ROOT, gradebook_url, release_notebook, source_notebook
from autograder.sandbox import cgroups, isolation
from autograder.sandbox.client import Sandbox, SandboxFailure, SandboxUnavailable, SubmissionError
from conftest import requires_isolation

MB = 2**20
PLACE = cgroups.place()
requires_memory_group = pytest.mark.skipif(
    PLACE is None, reason=f"MEMORY GROUP TESTS SKIPPED, no memory cgroup here: {cgroups.why_none()}")

#: Fills the sandbox's /tmp (a tmpfs), then keeps allocating memory, well inside the address-space
#: limit: past the memory limit only if the /tmp files count in it.
FILL_TMP_THEN_MEMORY = textwrap.dedent("""
    with open("/tmp/filler", "wb") as filler:
        for _ in range({tmp}):
            filler.write(b"x" * 2**20)
    held = []
    for _ in range({memory} // 10):
        held.append(b"x" * (10 * 2**20))
""")


def fill_tmp_then_memory(tmp_mb: int, memory_mb: int) -> str:
    return FILL_TMP_THEN_MEMORY.format(tmp=tmp_mb, memory=memory_mb)


@pytest.fixture(scope="module")
def bare():
    """A sandbox with no audit hook: the boundary alone."""
    with Sandbox(call_timeout=20, audit_hook=False, tmp_mb=8) as box:
        box.run("import ctypes, errno, os\n"
                "def attempt(code):\n"
                "    try:\n"
                "        exec(code, {'os': os, 'ctypes': ctypes})\n"
                "    except OSError as error:\n"
                "        return errno.errorcode.get(error.errno, str(error.errno))\n"
                "    return 'done'\n"
                "def stored(opener, megabytes=16):\n"
                "    written = 0\n"
                "    try:\n"
                "        file = eval(opener, {'os': os, 'shm': __import__('_posixshmem')})\n"
                "        for _ in range(megabytes):\n"
                "            written += file.write(b'x' * 2**20)\n"
                "    except OSError:\n"
                "        pass\n"
                "    return written\n", "helpers")
        yield box


# -- doors to memory outside the address space -----------------------------------

@requires_isolation
def test_is_a_memfd_refused(bare):
    assert bare.function("attempt")("os.memfd_create('hidden')") == "EPERM"


@requires_isolation
def test_is_sysv_shared_memory_refused(bare):
    """A SysV segment keeps its pages after it is detached: memory no address space shows."""
    code = ("libc = ctypes.CDLL(None, use_errno=True)\n"
            "if libc.shmget(0, 2**20, 0o1600) < 0:  # IPC_PRIVATE, IPC_CREAT | 0600\n"
            "    raise OSError(ctypes.get_errno(), 'shmget')\n")
    assert bare.function("attempt")(code) == "EPERM"


@requires_isolation
def test_are_message_queues_refused(bare):
    """A POSIX message queue keeps its messages in kernel memory (the worker's RLIMIT_MSGQUEUE is 0)."""
    code = ("libc = ctypes.CDLL(None, use_errno=True)\n"
            "if libc.mq_open(b'/hidden', os.O_CREAT | os.O_RDWR, 0o600, None) < 0:\n"
            "    raise OSError(ctypes.get_errno(), 'mq_open')\n")
    assert bare.function("attempt")(code) == "EMFILE"


@requires_isolation
@pytest.mark.parametrize("opener", [
    "os.fdopen(shm.shm_open('/hidden', os.O_CREAT | os.O_RDWR, 0o600), 'wb', buffering=0)",
    "open('/dev/shm/hidden', 'wb', buffering=0)",
    "open('/dev/hidden', 'wb', buffering=0)",  # /dev itself is a tmpfs of half the machine's RAM
], ids=["shm_open", "dev-shm-file", "dev-file"])
def test_can_dev_shm_hold_no_more_than_a_few_bytes(bare, opener):
    assert bare.function("stored")(opener) <= 64 * 1024


@requires_isolation
def test_do_the_devices_still_work(bare):
    code = "open('/dev/null', 'wb').write(b'x'); assert len(open('/dev/urandom', 'rb').read(8)) == 8"
    assert bare.function("attempt")(code) == "done"


# -- one limit for all of it: the memory cgroup ------------------------------------

def leftover_groups() -> set[str]:
    """The sandbox groups that nobody will remove: this process's (its sandboxes are closed when
    this is asked), and those whose creator has ended (the grader's pool workers, after grading).
    Other graders may be running sandboxes in the same place meanwhile: their groups are theirs."""
    def creator(path: Path) -> int:
        return int(path.name.split("-")[1])

    return {path.name for path in PLACE.directory.glob("sandbox-*-*")
            if creator(path) == os.getpid() or not cgroups.alive(creator(path))}


def file_hashes(*folders: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest()
            for folder in folders for path in sorted(folder.rglob("*"))
            if path.is_file() and not any(part in skip for part in path.relative_to(folder).parts)}


@requires_isolation
@requires_memory_group
def test_does_a_submission_over_its_memory_limit_with_tmp_files_and_memory_get_stopped_and_told(tmp_path):
    """Graded by ``grade``: 280 MB of /tmp files and 300 MB of memory, with --memory 400 (an address
    space the memory alone never fills): stopped by its group, told why, nothing outside changed."""
    slug = "rnn"
    course = tmp_path / "course"
    course.mkdir()
    generate(slug, course)
    answers = reference_answers(json.loads(source_notebook(slug).read_text(encoding="utf-8")))
    last = list(answers)[-1]
    answers[last] += "\n" + fill_tmp_then_memory(280, 300)
    notebook = fill(json.loads(release_notebook(slug).read_text(encoding="utf-8")), answers)
    folder = course / "submitted" / "greedy" / slug
    folder.mkdir(parents=True)
    (folder / f"{slug}.ipynb").write_text(json.dumps(notebook), encoding="utf-8")

    def outside() -> dict[str, str]:  # all but what the grader itself writes
        return file_hashes(course, ROOT / "solutions", skip=("autograded", "feedback", "autograder"))

    before, groups_before = outside(), leftover_groups()

    limits = Limits(cell_timeout=60, memory_mb=400, tmp_mb=300)
    [result] = grade(find_jobs(course, [slug], ["greedy"]), gradebook_url(course), course, 1, limits,
                     progress=False)

    assert result.status == GRADED
    assert 0 < result.score < 8  # the checks before the cell keep their points, the later ones score 0
    recorded = result.notes + [cell.message for cell in result.cells]
    assert any("exceeded its memory limit of 400 MB" in text for text in recorded), recorded
    assert outside() == before
    assert leftover_groups() <= groups_before


def sandbox_with_group(**options) -> tuple[Sandbox, Path]:
    """A started sandbox (the caller closes it) and its memory group's directory."""
    box = Sandbox(audit_hook=False, **options).start()
    return box, box._memory.directory


@requires_isolation
@requires_memory_group
def test_does_the_sandbox_start_inside_its_group():
    """bwrap joins the group before it runs: every process of the sandbox is in it from the start."""
    box, group = sandbox_with_group(call_timeout=20)
    with contextlib.closing(box):
        members = set(cgroups.MemoryGroup(group, PLACE.version).pids())
        assert box._process.pid in members
        assert len(members) == 3  # bwrap, bwrap's init in the sandbox, the worker
        assert int((group / ("memory.max" if PLACE.version == 2 else "memory.limit_in_bytes")).read_text()) \
            == box.memory_mb * MB


@requires_isolation
@requires_memory_group
@pytest.mark.parametrize("ending", ["closed", "over-memory", "over-time", "crashed"])
def test_is_the_group_removed_when_the_sandbox_ends(ending):
    box, group = sandbox_with_group(call_timeout=3, memory_mb=400, tmp_mb=300)
    code = {"closed": "x = 1", "over-memory": fill_tmp_then_memory(280, 300),
            "over-time": "while True: pass", "crashed": "import ctypes\nctypes.string_at(0)"}[ending]
    with contextlib.closing(box):
        assert group.is_dir()
        if ending == "closed":
            box.run(code, ending)
        else:
            with pytest.raises(SandboxFailure) as stopped:
                box.run(code, ending)
            assert ("exceeded its memory limit" in str(stopped.value)) == (ending == "over-memory")
    assert not group.exists()
    assert box.memory_peak_mb is not None and box.memory_peak_mb <= 400


@requires_isolation
@requires_memory_group
def test_is_the_group_removed_when_the_sandbox_cannot_start(monkeypatch):
    def refuse(*args, **kwargs):
        raise isolation.IsolationUnavailable("no sandbox today")

    created = []

    def memory_group(memory_mb):
        created.append(make_group(memory_mb))
        return created[-1]

    make_group = isolation.memory_group
    monkeypatch.setattr(isolation, "memory_group", memory_group)
    monkeypatch.setattr(isolation, "launch", refuse)
    with pytest.raises(SandboxUnavailable, match="no sandbox today"):
        Sandbox(audit_hook=False).start()
    [group] = created
    assert not group.directory.exists()


@requires_isolation
@requires_memory_group
def test_does_check_describe_the_memory_group():
    assert "memory cgroup" in isolation.check()


# -- where no memory cgroup can be used ---------------------------------------------

@pytest.fixture
def no_memory_group(monkeypatch):
    monkeypatch.setattr(cgroups, "discover", lambda: "cgroup v2: nothing delegated (a test)")
    monkeypatch.setenv(isolation.WARNED, "")  # as in a fresh grader


def test_does_a_machine_without_memory_group_say_once_what_holds_instead(no_memory_group):
    with pytest.warns(cgroups.MemoryGroupWarning) as warned:
        assert isolation.memory_group(700) is None
    message = str(warned[0].message)
    for holds in ("nothing delegated (a test)", "RLIMIT_AS", "/tmp", "memfd", "/dev/shm", "Delegate=yes"):
        assert holds in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert isolation.memory_group(700) is None  # no second warning


@requires_isolation
def test_does_grading_go_on_without_memory_group_with_the_address_space_limit(no_memory_group):
    with pytest.warns(cgroups.MemoryGroupWarning):
        assert "RLIMIT_AS" in isolation.check.__wrapped__()  # check()'s description says what holds
    with Sandbox(call_timeout=20, audit_hook=False, memory_mb=512) as box:
        assert box._memory is None
        with pytest.raises(SubmissionError, match="MemoryError"):
            box.run("hog = b'x' * 2**30", "hog")


# -- finding a place for the groups (a pretend /sys/fs/cgroup) ------------------------

def cgroup_dir(path: Path, **files: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, text in {"cgroup.procs": "", **files}.items():
        (path / name.replace("_", ".", 1)).write_text(text)
    return path


def mountinfo(*mounts: tuple[Path, str, str]) -> str:
    return "".join(f"{30 + i} 23 0:{40 + i} / {point} rw,relatime - {fstype} {fstype} rw{options}\n"
                   for i, (point, fstype, options) in enumerate(mounts))


def mark_delegated(directory: Path) -> None:
    try:
        os.setxattr(directory, "trusted.delegate", b"1")
    except OSError as error:
        pytest.skip(f"cannot set the trusted.delegate attribute here ({errno.errorcode.get(error.errno)})")


def test_is_the_memory_controller_of_cgroup_v1_used_where_v2_has_none(tmp_path):
    """This machine's shape: a v2 hierarchy without the memory controller, and v1 memory."""
    cgroup_dir(tmp_path / "unified", cgroup_controllers="hugetlb", cgroup_subtree_control="")
    own = cgroup_dir(tmp_path / "memory" / "graders" / "one", memory_limit_in_bytes="max")
    mounts = mountinfo((tmp_path / "unified", "cgroup2", ""), (tmp_path / "memory", "cgroup", ",memory"))
    found = cgroups.find_place("4:memory:/graders/one\n0::/\n", mounts)
    assert found == cgroups.Place(own, 1)


def test_is_a_delegated_v2_cgroup_with_memory_for_its_children_used(tmp_path):
    top = cgroup_dir(tmp_path / "v2", cgroup_controllers="cpu memory", cgroup_subtree_control="memory")
    delegated = cgroup_dir(top / "user.slice", cgroup_controllers="memory", cgroup_subtree_control="memory")
    cgroup_dir(delegated / "session.scope", cgroup_controllers="memory", cgroup_subtree_control="")
    mark_delegated(delegated)
    found = cgroups.find_place("0::/user.slice/session.scope\n", mountinfo((top, "cgroup2", "")))
    assert found == cgroups.Place(delegated, 2)


def test_does_a_delegated_v2_cgroup_holding_the_grader_move_it_to_a_leaf(tmp_path):
    """v2 gives controllers to the children of a group that holds no process itself."""
    top = cgroup_dir(tmp_path / "v2", cgroup_controllers="memory", cgroup_subtree_control="")
    own = cgroup_dir(top / "grade.scope", cgroup_controllers="memory", cgroup_subtree_control="")
    (own / "cgroup.procs").write_text(f"{os.getpid()}\n")
    mark_delegated(own)
    found = cgroups.find_place("0::/grade.scope\n", mountinfo((top, "cgroup2", "")))
    assert found == cgroups.Place(own, 2)
    assert (own / cgroups.LEAF / "cgroup.procs").read_text() == str(os.getpid())
    assert (own / "cgroup.subtree_control").read_text() == "+memory"


def test_is_a_v2_cgroup_not_delegated_left_alone(tmp_path):
    """Even root, who may write anywhere, creates no group in a tree systemd did not delegate."""
    top = cgroup_dir(tmp_path / "v2", cgroup_controllers="memory", cgroup_subtree_control="memory")
    own = cgroup_dir(top / "system.slice", cgroup_controllers="memory", cgroup_subtree_control="")
    if os.geteuid() != 0:
        pytest.skip("for a user, a cgroup of the user's own is delegated: only root can make one that is not")
    found = cgroups.find_place("0::/system.slice\n", mountinfo((top, "cgroup2", "")))
    assert isinstance(found, str) and "delegated" in found
    assert not (own / cgroups.LEAF).exists()


@requires_memory_group
def test_are_the_groups_of_a_grader_that_died_removed_and_no_others():
    """A grader killed outright never closes its sandboxes: the next one removes their empty groups."""
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                           text=True, check=True)
    orphan = PLACE.directory / f"sandbox-{int(ended.stdout)}-1"
    ours = cgroups.MemoryGroup.create(PLACE, 64 * MB)
    orphan.mkdir()
    try:
        cgroups.sweep(PLACE)
        assert not orphan.exists()
        assert ours.directory.is_dir()  # its creator, this process, is alive
    finally:
        ours.remove()
        if orphan.exists():
            orphan.rmdir()


@requires_isolation
@requires_memory_group
def test_does_no_memory_group_mean_no_group():
    """``grade --no-memory-group``: the sandbox starts outside any group of its own."""
    from autograder.sandbox.client import Sandbox

    with Sandbox(memory_group=False) as box:
        assert box._memory is None
        box.run("x = 1", "cell")
