"""Real servers for the tests and the benchmarks: started on 127.0.0.1, always stopped.

- ``postgres()``: a PostgreSQL server of its own (``initdb`` into a temporary
  folder, a free loopback port, trust authentication for one user), yielding a
  ``postgresql://`` URL of an empty database. Nothing system-wide is started or
  changed. PostgreSQL's programs are found on PATH or where Debian's
  ``postgresql`` package puts them (/usr/lib/postgresql/<version>/bin).
- ``dask_cluster(workers)``: ``dask scheduler`` and ``dask worker`` processes of
  this environment, yielding the scheduler's address and the workers' process
  handles (a test may kill one). A worker can be started in its own mount
  namespace with an empty tmpfs over given folders (``hidden``), so that it
  cannot see the course it grades for.

Both are context managers that stop everything they started when the block
ends, also when it ends with an exception. ``missing_postgres()`` and
``missing_dask()`` say why a machine cannot run them (None when it can).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.paths import ROOT

#: How long a server may take to start before the test fails.
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode} before listening on port {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:g} s")


# -- PostgreSQL ----------------------------------------------------------------------

def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (initdb, pg_ctl), or None."""
    found = shutil.which("initdb")
    if found and (Path(found).resolve().parent / "pg_ctl").is_file():
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    return Path(versions[-1]).parent if versions else None


def missing_postgres() -> str | None:
    if postgres_bin() is None:
        return "PostgreSQL is not installed (no initdb; on Debian: sudo apt-get install postgresql)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg 3 is not installed in this environment"
    return None


def server_user() -> pwd.struct_passwd | None:
    """The user PostgreSQL runs as: it refuses to run as root, so root hands it to an unprivileged one."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root, and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL")


@contextlib.contextmanager
def postgres(database: str = "course"):
    """A fresh PostgreSQL server on a free loopback port; yields the URL of an empty ``database``."""
    programs = postgres_bin()
    if programs is None:
        raise RuntimeError(missing_postgres())
    user = server_user()
    as_user = {"user": user.pw_uid, "group": user.pw_gid} if user else {}
    folder = Path(tempfile.mkdtemp(prefix="course-postgres-"))
    data, log = folder / "data", folder / "server.log"
    if user:
        os.chown(folder, user.pw_uid, user.pw_gid)
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "HOME": str(folder)}

    def run(*command: str) -> None:
        result = subprocess.run([str(programs / command[0]), *command[1:]], env=env, capture_output=True,
                                text=True, check=False, cwd=folder, **as_user)
        if result.returncode != 0:
            server_log = log.read_text(errors="replace")[-3000:] if log.is_file() else ""
            raise RuntimeError(f"{command[0]} failed ({result.returncode}): {result.stdout}{result.stderr}{server_log}")

    started = False
    try:
        run("initdb", "-D", str(data), "-U", "grader", "--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off -c full_page_writes=off"
        run("pg_ctl", "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", str(int(START_TIMEOUT)), "start")
        started = True
        run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "grader", database)
        yield f"postgresql://grader@127.0.0.1:{port}/{database}"
    finally:
        if started:
            with contextlib.suppress(Exception):
                run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


# -- Dask distributed ------------------------------------------------------------------

def missing_dask() -> str | None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return "Dask distributed is not installed in this environment"
    return None


def dask_command(*args: str) -> list[str]:
    """The ``dask`` command of this environment."""
    return [str(Path(sys.executable).parent / "dask"), *args]


@dataclass
class Cluster:
    """A running scheduler and its workers (each its own process group, so it can be killed whole)."""

    address: str
    scheduler: subprocess.Popen
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)

    def kill_worker(self, name: str) -> None:
        """Kill a worker at once (SIGKILL to its nanny, worker and sandboxes), as a machine that dies."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.workers[name].pid, signal.SIGKILL)
        self.workers[name].wait()


def hiding(folders: tuple[Path, ...]) -> list[str]:
    """A command prefix that runs a program in its own mount namespace, each folder an empty tmpfs."""
    if not folders:
        return []
    prefix = ["bwrap", "--dev-bind", "/", "/", "--die-with-parent"]
    for folder in folders:
        prefix += ["--tmpfs", str(Path(folder).resolve())]
    return [*prefix, "--"]


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextlib.contextmanager
def dask_cluster(workers: int = 2, hidden: tuple[Path, ...] = (), allowed_failures: int = 2):
    """A Dask scheduler and ``workers`` single-threaded workers on 127.0.0.1; yields a Cluster.

    Workers run with this checkout's software on their path (PYTHONPATH), from
    a scratch folder, and with an empty tmpfs over every folder of ``hidden``.
    ``allowed_failures`` is the scheduler's ``distributed.scheduler.allowed-failures``.
    """
    scratch = Path(tempfile.mkdtemp(prefix="course-dask-"))
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": str(allowed_failures)}
    logs = []

    def start(name: str, command: list[str]) -> subprocess.Popen:
        log = open(scratch / f"{name}.log", "wb")  # noqa: SIM115 - closed at the end
        logs.append(log)
        return subprocess.Popen(command, cwd=scratch, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    scheduler = start("scheduler", dask_command("scheduler", "--host", "127.0.0.1", "--port", str(port),
                                                "--no-dashboard"))
    cluster = Cluster(f"tcp://127.0.0.1:{port}", scheduler)
    try:
        wait_for_port(port, scheduler, "the Dask scheduler")
        for number in range(1, workers + 1):
            name = f"worker-{number}"
            cluster.workers[name] = start(name, hiding(hidden) + dask_command(
                "worker", cluster.address, "--name", name, "--nthreads", "1", "--nworkers", "1",
                "--no-dashboard", "--memory-limit", "0", "--local-directory", str(scratch / name)))
        wait_for_workers(cluster, workers, scratch)
        yield cluster
    finally:
        for process in [*cluster.workers.values(), scheduler]:
            stop(process)
        for log in logs:
            log.close()
        shutil.rmtree(scratch, ignore_errors=True)


def wait_for_workers(cluster: Cluster, count: int, scratch: Path) -> None:
    from distributed import Client

    with Client(cluster.address, timeout=START_TIMEOUT, set_as_default=False) as client:
        try:
            client.wait_for_workers(count, timeout=START_TIMEOUT)
        except Exception as error:
            logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in scratch.glob("*.log"))
            raise RuntimeError(f"{count} Dask workers did not join: {error}\n{logs}") from None
