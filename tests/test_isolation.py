"""Does the operating-system boundary alone hold what autograder.sandbox.isolation promises?

Every sandbox here runs *without* the audit hook, so what is refused is refused
by the kernel (namespaces, read-only mounts, seccomp), not by Python. The
escape catalogue (test_escapes.py) then attacks it through ``grade``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from autograder.sandbox import isolation
from autograder.paths import ROOT
from autograder.sandbox.client import Sandbox, SandboxFailure
from conftest import requires_isolation

pytestmark = requires_isolation


@pytest.fixture(scope="module")
def bare():
    """A sandbox with no audit hook: the boundary alone."""
    with Sandbox(call_timeout=20, audit_hook=False, tmp_mb=8) as box:
        box.run("import errno, os, socket, sys\n"
                "def attempt(code):\n"
                "    try:\n"
                "        exec(code, {'os': os, 'socket': socket, 'sys': sys})\n"
                "    except OSError as error:\n"
                "        return errno.errorcode.get(error.errno, str(error.errno))\n"
                "    return 'done'\n", "helpers")
        yield box


def attempt(box: Sandbox, code: str) -> str:
    """Run ``code`` in the sandbox: 'done', or the errno name (ENOENT, EROFS, EPERM, ...)."""
    return box.function("attempt")(textwrap.dedent(code))


def test_is_the_filesystem_built_from_an_empty_root(bare):
    bare.run("import os\ndef listing(path):\n    return sorted(os.listdir(path)) if os.path.isdir(path) else None\n",
             "listing")
    listing = bare.function("listing")
    runtime = isolation.runtime_folders()
    on_the_way = {part for folder in runtime for part in folder.parts[1:]}  # folders bwrap made to mount them
    assert set(listing("/")) <= {"bin", "dev", "etc", "lib", "lib64", "opt", "sbin", "tmp", "usr"} | on_the_way
    assert listing("/etc") == ["ld.so.cache"]
    assert set(listing(str(ROOT))) <= {".venv", "src"}  # of the repository, only the environment and rnnlab
    assert set(listing(os.path.expanduser("~")) or []) <= on_the_way  # nothing of the home directory
    for secret in (ROOT / "solutions", ROOT / ".git", ROOT / "autograder", ROOT / "nbgrader_config.py",
                   "/proc", "/sys", "/var", "/home", "/run", "/etc/passwd"):
        assert listing(str(secret)) is None and attempt(bare, f"open({str(secret)!r})") == "ENOENT", secret


@pytest.mark.parametrize("path", ["/evil", "/usr/evil", "/etc/evil", "{prefix}/evil.pth", "{helper}/evil.py",
                                  "{worker}/autograder/wire.py"])
def test_is_everything_but_tmp_read_only(bare, path):
    target = path.format(prefix=sys.prefix, helper=isolation.helper_package(), worker=isolation.WORKER_LIBRARY)
    assert attempt(bare, f"open({target!r}, 'w')") in ("EROFS", "EACCES")


def test_is_tmp_writable_and_limited_in_size(bare):
    assert attempt(bare, "open('/tmp/small', 'wb').write(b'x' * 1000)") == "done"
    assert attempt(bare, "open('/tmp/big', 'wb').write(b'x' * 20 * 2**20)") == "ENOSPC"  # more than 8 MB


def test_does_the_submission_run_as_an_unprivileged_user_that_cannot_gain_rights(bare):
    bare.run("import os, socket\ndef who():\n    return os.getuid(), os.getgid(), socket.gethostname()\n", "who")
    assert bare.function("who")() == (isolation.UID, isolation.GID, "sandbox")
    assert attempt(bare, "os.setuid(0)") in ("EINVAL", "EPERM")  # EINVAL: root does not even exist in here
    assert attempt(bare, "open('/tmp/mine', 'w').close(); os.chown('/tmp/mine', 0, 0)") in ("EPERM", "EINVAL")


def test_are_all_capabilities_dropped_and_new_privileges_refused(bare):
    bare.run("import ctypes\n"
             "def privileges():\n"
             "    prctl = ctypes.CDLL(None, use_errno=True).prctl\n"
             "    no_new_privileges = prctl(39, 0, 0, 0, 0)  # PR_GET_NO_NEW_PRIVS\n"
             "    bounding = [cap for cap in range(64) if prctl(23, cap, 0, 0, 0) == 1]  # PR_CAPBSET_READ\n"
             "    return no_new_privileges, bounding\n", "privileges")
    assert bare.function("privileges")() == (1, [])


def test_does_the_sandbox_see_none_of_the_graders_environment(monkeypatch):
    monkeypatch.setenv("GRADEBOOK_PASSWORD", "s3cret")
    with Sandbox(call_timeout=20, audit_hook=False) as box:
        box.run("import os\ndef environment():\n    return dict(os.environ)\n", "env")
        seen = box.function("environment")()
    assert "GRADEBOOK_PASSWORD" not in seen and "s3cret" not in repr(seen)
    assert set(seen) <= set(isolation.environment()) | {"PWD", "LC_CTYPE"}


def test_is_no_server_of_the_machine_reachable(bare):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    try:
        assert attempt(bare, f"socket.create_connection(('127.0.0.1', {port}), timeout=5)") == "ECONNREFUSED"
        bare.run("import socket\ndef interfaces():\n    return [name for _, name in socket.if_nameindex()]\n", "if")
        assert bare.function("interfaces")() == ["lo"]
        time.sleep(0.2)
        assert not accepted
    finally:
        server.close()


@pytest.mark.parametrize("code", [
    "os.fork()",
    "import _posixsubprocess, subprocess; subprocess.Popen(['/bin/true'])",  # no audit hook is needed to stop it
    "os.posix_spawn('/bin/true', ['true'], {})",
])
def test_are_new_processes_refused(bare, code):
    assert attempt(bare, code) == "EPERM"


def test_do_threads_still_work(bare):
    bare.run("import threading\ndef threads():\n    out = []\n"
             "    ts = [threading.Thread(target=out.append, args=(i,)) for i in range(4)]\n"
             "    [t.start() for t in ts]; [t.join() for t in ts]\n    return sorted(out)\n", "threads")
    assert bare.function("threads")() == [0, 1, 2, 3]


def test_is_numpy_usable_inside(bare):
    bare.run("import numpy as np\ndef solve(a, b):\n    return np.linalg.solve(a, b)\n", "numpy")
    assert np.allclose(bare.function("solve")(np.eye(3) * 2, np.ones(3)), 0.5)


def test_does_the_sandbox_die_with_the_grader(tmp_path):
    """Kill the process that started a sandbox busy in an endless loop: nothing of it is left running."""
    marker = tmp_path / "grader-marker"
    marker.mkdir()
    script = ("import threading, time\nfrom pathlib import Path\nfrom autograder.sandbox.client import Sandbox\n"
              f"box = Sandbox(Path({str(marker)!r}), call_timeout=600).start()\n"
              "threading.Thread(target=box.run, args=('while True: pass', 'loop'), daemon=True).start()\n"
              "time.sleep(0.5)\nprint('started', flush=True)\ntime.sleep(600)\n")
    grader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=ROOT, text=True)
    try:
        assert grader.stdout.readline().strip() == "started"
        assert sandbox_processes(marker), "the sandbox did not start"
        os.kill(grader.pid, signal.SIGKILL)
        grader.wait()
        deadline = time.monotonic() + 10
        while sandbox_processes(marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not sandbox_processes(marker)
    finally:
        grader.kill()
        grader.wait()


def sandbox_processes(marker) -> list[str]:
    listing = subprocess.run(["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if str(marker) in line]


def test_is_a_crash_reported_as_the_submissions_and_the_sandbox_then_closed():
    with Sandbox(call_timeout=5, audit_hook=False) as box:
        with pytest.raises(SandboxFailure, match="killed by SIGSEGV"):
            box.run("import ctypes\nctypes.string_at(0)", "crash")


def test_does_a_machine_without_bubblewrap_get_a_refusal_that_names_the_fix(monkeypatch):
    monkeypatch.setattr(isolation, "bwrap_path", lambda: None)
    isolation.check.cache_clear()
    try:
        with pytest.raises(isolation.IsolationUnavailable, match="apt-get install bubblewrap"):
            isolation.check()
    finally:
        isolation.check.cache_clear()


def test_does_a_machine_without_user_namespaces_get_a_refusal_that_names_the_setting(monkeypatch):
    settings = {"/proc/sys/kernel/unprivileged_userns_clone": "0", "/proc/sys/user/max_user_namespaces": "0",
                "/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1"}
    monkeypatch.setattr(isolation, "read_setting", settings.get)
    message = isolation.namespaces_message("bwrap: No permissions to create new namespace")
    assert "No permissions to create new namespace" in message
    for fix in ("kernel.unprivileged_userns_clone=1", "user.max_user_namespaces=15000",
                "kernel.apparmor_restrict_unprivileged_userns=0"):
        assert fix in message


def test_is_a_runtime_folder_under_tmp_mounted_after_the_private_tmp(monkeypatch):
    """A checkout in /tmp/...: its environment must not be hidden by the sandbox's own /tmp."""
    monkeypatch.setattr(isolation, "runtime_folders", lambda: [Path("/tmp/checkout/.venv")])
    view = isolation.filesystem_view((), 8)
    tmpfs = view.index("--tmpfs")
    assert view[tmpfs + 1] == "/tmp" and view.index("/tmp/checkout/.venv") > tmpfs


def test_is_the_environment_folder_refused_when_it_holds_the_course(tmp_path):
    with pytest.raises(isolation.IsolationUnavailable, match="holds"):
        isolation.filesystem_view((isolation.runtime_folders()[-1] / "course",), 8)
