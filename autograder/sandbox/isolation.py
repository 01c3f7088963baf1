"""The operating-system boundary around a submission's process, built with bubblewrap.

A submission is hostile code, and an audit hook inside its interpreter is not a
boundary (PEP 578 says so). The boundary is the kernel's: autograder.sandbox.client
starts the worker process through ``bwrap`` (the sandbox of Flatpak), which
gives it

- its own user, PID, mount, network, IPC and UTS namespaces; inside, the
  unprivileged uid and gid 1000, every capability dropped, no new privileges,
  no further user namespaces, a new session (no terminal to type into), and
  death with its parent;
- a filesystem view built from an empty root, adding only what Python needs,
  all **read-only**: ``/usr`` and the root's links into it, the dynamic
  loader's cache, the Python runtime, the environment's packages, the helper
  package and the worker's own two modules. The root itself is read-only, and
  so is ``/dev`` (with ``/dev/shm``): only its device nodes are usable. The one
  writable place is a private ``/tmp`` of ``tmp_mb`` megabytes. There is no
  ``/proc``, no ``/sys``, no home directory, nothing else of the course
  directory: not ``solutions/``, the gradebook, other submissions or ``.git``;
- an empty environment but for a few variables set here (the grader's may hold
  a gradebook password);
- a network namespace with only its own loopback: no server of the machine is
  reachable, on 127.0.0.1 or elsewhere;
- a seccomp filter: no new processes (fork, vfork, clone without
  CLONE_THREAD), so a fork bomb ends at its first fork, inside its sandbox
  (threads are allowed, bounded by the memory limit); no memory outside the
  address space (memfd, SysV shared memory); and none of the system calls a
  submission never needs that widen the kernel's attack surface.

Memory: where the machine allows it, each sandbox runs in a memory cgroup of
its own (autograder.sandbox.cgroups) whose limit, the grader's ``--memory``,
counts all the memory its processes hold: their own, the files of its /tmp,
what the kernel keeps for them. Going over it, the submission alone is killed,
and the grader says it exceeded its memory limit. Where no cgroup can be used
``memory_guarantee()`` says what holds instead, and a warning says it once.
CPU time, open files, the address space and printed output are limited
inside, by the worker (autograder.sandbox.worker); time per cell by the grader.

``check()`` starts one sandbox and says, with the fix, why isolation is not
available: bubblewrap missing or too old, user namespaces disabled, libseccomp
missing.
"""

from __future__ import annotations

import errno
import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from autograder.paths import ROOT
from autograder.sandbox import cgroups

BWRAP = "bwrap"
MIN_VERSION = (0, 8, 0)  # --size for the /tmp tmpfs, --disable-userns
UID = GID = 1000
#: Where the worker's own modules appear inside the sandbox.
WORKER_LIBRARY = "/opt/grader"
WORKER_MODULES = ("__init__.py", "sandbox/__init__.py", "sandbox/wire.py", "sandbox/worker.py")
HOST_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")  # symlinks into /usr on merged-/usr systems

CLONE_THREAD = 0x00010000
#: System calls refused with EPERM. Starting processes (the fork bomb's door), and
#: what widens the kernel's attack surface while a submission never needs it:
#: tracing and reading other processes' memory, performance counters, BPF,
#: userfaultfd and io_uring (favourite exploit primitives), kernel keyrings,
#: namespaces and mounts, modules, kexec, and the handle-based open of the
#: classic container escape. And memory the address-space limit cannot see:
#: a memfd (an anonymous file: written with write(2), its pages are never
#: mapped), a secret memfd, and SysV shared memory (a segment holds its pages
#: after it is detached, until the IPC namespace ends with the sandbox).
#: NumPy, Matplotlib's Agg backend and the standard library use none of them.
DENIED_CALLS = (
    "fork", "vfork",
    "memfd_create", "memfd_secret", "shmget",
    "ptrace", "process_vm_readv", "process_vm_writev", "perf_event_open", "bpf", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl", "add_key", "request_key",
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
    "fsopen", "fsmount", "fsconfig", "fspick", "open_by_handle_at", "name_to_handle_at",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
    "swapon", "swapoff", "acct", "syslog", "quotactl",
)


class IsolationUnavailable(RuntimeError):
    """Submissions cannot be isolated on this machine; the message says why and how to fix it."""


@dataclass(frozen=True)
class Launch:
    """A command line that runs a program inside the boundary, and the descriptors it needs."""

    argv: list[str]
    pass_fds: tuple[int, ...]


def bwrap_path() -> str | None:
    return shutil.which(BWRAP)


@functools.lru_cache(maxsize=1)
def bwrap_version() -> tuple[int, ...]:
    output = subprocess.run([BWRAP, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", output)
    return tuple(int(n) for n in match.groups()) if match else (0, 0, 0)


@functools.lru_cache(maxsize=1)
def process_filter() -> bytes:
    """The seccomp program (classic BPF, as bwrap --seccomp reads it) for this machine's architecture."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as error:  # OSError: pyseccomp found no libseccomp
        raise IsolationUnavailable(
            f"the seccomp filter needs libseccomp and pyseccomp ({error}). "
            "Install them: sudo apt-get install libseccomp2; pip install pyseccomp") from None
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)  # other architectures' calls: killed

    def refuse(name: str, code: int, *conditions) -> None:
        if seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) >= 0:  # not every call exists everywhere
            rules.add_rule(seccomp.ERRNO(code), name, *conditions)

    for name in DENIED_CALLS:
        refuse(name, errno.EPERM)
    # clone makes a thread when CLONE_THREAD is set, a process otherwise.
    refuse("clone", errno.EPERM, seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_THREAD, 0))
    # clone3 passes its flags in memory, which a filter cannot read: "not implemented"
    # makes the C library fall back to clone, which the rule above sees.
    refuse("clone3", errno.ENOSYS)
    with tempfile.TemporaryFile() as program:
        rules.export_bpf(program)
        program.seek(0)
        return program.read()


def helper_package() -> Path | None:
    """The folder of the helper package ``rnnlab`` as this environment imports it."""
    spec = importlib.util.find_spec("rnnlab")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def runtime_folders() -> list[Path]:
    """What the worker needs to run: the Python runtime, the environment, the helper package."""
    folders = [Path(p).resolve() for p in (sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix)]
    helper = helper_package()
    if helper is not None:
        folders.append(helper)
    kept: list[Path] = []
    for folder in sorted(set(folders), key=lambda p: len(p.parts)):
        if folder == Path("/usr") or Path("/usr") in folder.parents:
            continue  # all of /usr is there already
        if not any(parent in folder.parents for parent in kept):
            kept.append(folder)
    return kept


def filesystem_view(secrets: tuple[Path, ...], tmp_mb: int) -> list[str]:
    """bwrap arguments for the sandbox's filesystem, from an empty root.

    ``secrets`` (the course directory, the gradebook) must not be inside any
    folder the view shows: if one is, isolation refuses to start rather than
    show it.
    """
    # /dev and the writable /tmp first: a folder of the view may live under /tmp (a checkout
    # in /tmp/...), and a tmpfs mounted after it would hide it.
    # bwrap's /dev is a tmpfs of half the machine's RAM that the sandbox's user owns, with
    # /dev/shm a plain folder in it (where shm_open creates its files): read-only, nothing
    # can be stored there (EROFS). Its device nodes still work: a read-only mount refuses
    # changes to the filesystem, not reads and writes of a device.
    args = ["--dev", "/dev", "--remount-ro", "/dev",
            "--size", str(tmp_mb * 1024 * 1024), "--tmpfs", "/tmp", "--ro-bind", "/usr", "/usr"]
    for name in HOST_LINKS:
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    if Path("/etc/ld.so.cache").is_file():  # where the loader finds the system's libraries
        args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    for folder in runtime_folders():
        for secret in secrets:
            secret = secret.resolve()
            if secret == folder or folder in secret.parents:
                raise IsolationUnavailable(
                    f"the Python environment folder {folder} holds {secret}, which submissions must not "
                    "see. Keep the course directory and the gradebook outside the environment.")
        args += ["--ro-bind", str(folder), str(folder)]
    for module in WORKER_MODULES:
        args += ["--ro-bind", str(ROOT / "autograder" / module), f"{WORKER_LIBRARY}/autograder/{module}"]
    args += ["--chdir", "/tmp"]
    return args


def environment() -> dict[str, str]:
    """The only environment variables inside the sandbox."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONPATH": WORKER_LIBRARY,
        "PYTHONDONTWRITEBYTECODE": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/matplotlib",
    }


def launch(command: list[str], secrets: tuple[Path, ...] = (), tmp_mb: int = 64) -> Launch:
    """The bwrap command line that runs ``command`` inside the boundary.

    The seccomp program is handed over on a pipe (a few hundred bytes: it fits
    in the pipe's buffer, so writing it cannot block).
    """
    if bwrap_path() is None:
        raise IsolationUnavailable(missing_bwrap_message())
    read_end, write_end = os.pipe()
    os.write(write_end, process_filter())
    os.close(write_end)
    # With a memory group (cgroups.MemoryGroup.joined), bwrap starts in it, and a new cgroup
    # namespace makes that group the root of whatever cgroup view the sandbox could get.
    args = [BWRAP, "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--disable-userns", "--uid", str(UID), "--gid", str(GID),
            "--hostname", "sandbox", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--clearenv"]
    for name, value in environment().items():
        args += ["--setenv", name, value]
    args += filesystem_view(secrets, tmp_mb)
    args += ["--remount-ro", "/", "--seccomp", str(read_end), "--", *command]
    return Launch(args, (read_end,))


# -- memory ------------------------------------------------------------------------

#: What limits a submission's memory where no cgroup can be used.
WITHOUT_MEMORY_GROUP = (
    "no memory cgroup can be used on this machine ({why}), so a submission's memory is not counted "
    "in one limit. What holds instead, in the sandbox: its address space is limited to --memory "
    "(RLIMIT_AS: all it maps), its private /tmp to its size (64 MB by default), memfd and SysV shared "
    "memory are refused and /dev, with /dev/shm, is read-only; the kernel's memory for its pipes, "
    "sockets and page tables is not limited per submission. To count all of it in one limit per "
    "sandbox, run grade as root where cgroup v1 is mounted, or on cgroup v2 in a delegated cgroup: "
    "systemd-run --user --scope -p Delegate=yes python -m autograder grade ...")
#: Set once the warning was given: the grader's worker processes inherit it, so one run warns once.
WARNED = "AUTOGRADER_MEMORY_WARNING_GIVEN"


def memory_guarantee() -> str:
    """What limits a submission's memory on this machine, in a sentence."""
    place = cgroups.place()
    if place is None:
        return WITHOUT_MEMORY_GROUP.format(why=cgroups.why_none())
    return (f"each sandbox runs in a memory cgroup (v{place.version}, under {place.directory}) whose "
            "limit, --memory, counts all the memory its processes hold: their own, its /tmp files, "
            "the kernel's memory for them; over it, the submission alone is killed")


def warn_without_memory_group() -> None:
    """Say once what limits memory here when no cgroup can be used; nothing when one can."""
    if cgroups.place() is None and not os.environ.get(WARNED):
        os.environ[WARNED] = "1"
        warnings.warn(memory_guarantee(), cgroups.MemoryGroupWarning, stacklevel=2)


def memory_group(memory_mb: int) -> cgroups.MemoryGroup | None:
    """A new memory group limited to ``memory_mb`` for one sandbox; None where there is no place
    for it (after the warning). OSError if the kernel refuses this one."""
    place = cgroups.place()
    if place is None:
        warn_without_memory_group()
        return None
    return cgroups.MemoryGroup.create(place, memory_mb * 1024 * 1024)


# -- is isolation available here? --------------------------------------------------

def missing_bwrap_message() -> str:
    return ("bubblewrap (bwrap) is not installed. Install it: sudo apt-get install bubblewrap "
            "(Debian, Ubuntu) or sudo dnf install bubblewrap (Fedora).")


def read_setting(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def namespaces_message(bwrap_error: str) -> str:
    """Why bwrap could not create its namespaces, with the setting that allows it."""
    advice = []
    if read_setting("/proc/sys/kernel/unprivileged_userns_clone") == "0":
        advice.append("sudo sysctl -w kernel.unprivileged_userns_clone=1")
    if read_setting("/proc/sys/user/max_user_namespaces") == "0":
        advice.append("sudo sysctl -w user.max_user_namespaces=15000")
    if read_setting("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
        advice.append("sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 "
                      "(or give bwrap an AppArmor profile that allows user namespaces)")
    fix = ("Allow unprivileged user namespaces: " + "; ".join(advice)) if advice else (
        "Check that this machine (or container) allows user namespaces.")
    return f"bubblewrap could not create the sandbox ({bwrap_error.strip() or 'no message'}). {fix}"


@functools.lru_cache(maxsize=1)
def check() -> str:
    """Start one sandbox that runs Python and imports NumPy; IsolationUnavailable says why not.

    Returns what limits a submission's memory here (``memory_guarantee``).
    Without a memory cgroup isolation still holds and grading goes on, after a
    warning (once) of what holds instead: the address-space limit, the size of
    /tmp, no memfd or SysV shared memory, a read-only /dev/shm.
    """
    if bwrap_path() is None:
        raise IsolationUnavailable(missing_bwrap_message())
    if bwrap_version() < MIN_VERSION:
        have = ".".join(map(str, bwrap_version()))
        raise IsolationUnavailable(f"bubblewrap {'.'.join(map(str, MIN_VERSION))} or newer is needed "
                                   f"(this machine has {have}): upgrade the bubblewrap package.")
    trial = launch([sys.executable, "-c", "import numpy"])
    try:
        result = subprocess.run(trial.argv, pass_fds=trial.pass_fds, capture_output=True, text=True,
                                env={"PATH": os.environ.get("PATH", "")}, timeout=60, check=False)
    finally:
        for fd in trial.pass_fds:
            os.close(fd)
    if result.returncode != 0:
        error = result.stderr[-2000:]
        if "namespace" in error or "uid map" in error or "Operation not permitted" in error:
            raise IsolationUnavailable(namespaces_message(error))
        raise IsolationUnavailable(f"a test sandbox failed (exit status {result.returncode}): {error.strip()}")
    warn_without_memory_group()
    return memory_guarantee()
