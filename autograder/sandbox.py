"""Run a submission's code in a separate, limited process, and call it from the grader.

The checks of a test cell must run as written whatever the submission did:
patching NumPy, redefining the checking helpers, changing ``AssertionError``
or the kernel. So the submission's answer cells never run in the process
that runs the checks. They run in a worker process (autograder.sandbox_worker)
with limited memory and CPU, no access to the course directory beyond the
helper package, and no way to start processes. The grader holds a
``LearnerFunction`` for each function the answers define; calling it sends the
arguments to the worker and brings back the result, through a wire format
without pickle (autograder.wire). A per-call timeout ends infinite loops; a
worker that dies (``os._exit``, a segfault, the memory limit) makes every later
call fail with the reason, while results obtained before stay valid.

Usage::

    with Sandbox(course_root) as box:
        box.run(setup_code, "setup")          # read-only cells: imports, given helpers
        box.run(answer_code, "rnn_step_forward")
        rnn_step_forward = box.function("rnn_step_forward", source=answer_code)
        next_h, cache = rnn_step_forward(x, prev_h, Wx, Wh, b)   # cache is a Handle
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import wire
from .paths import ROOT


class SubmissionError(Exception):
    """The submission's code raised an exception; the message holds its type, text and traceback.

    ``kind`` is the original exception's type name and ``learner_traceback`` the
    frames of the submission's own code: ``rnnlab.checks.call`` shows those
    instead of the grader's frames, so a learner reads the same message as in
    their own kernel.
    """

    def __init__(self, kind: str, text: str, learner_traceback: str = "") -> None:
        where = f"\nWhere it happened (most recent call last):\n{learner_traceback}" if learner_traceback else ""
        super().__init__(f"{kind}: {text}{where}")
        self.kind = kind
        self.text = text
        self.learner_traceback = learner_traceback

    @staticmethod
    def from_reply(reply: dict) -> SubmissionError:
        # A stub that still raises NotImplementedError must read as "not implemented
        # yet" to the checks, as it does in the learner's kernel.
        cls = SubmissionNotImplemented if reply["type"] == "NotImplementedError" else SubmissionError
        return cls(reply["type"], reply["message"], reply["traceback"])


class SubmissionNotImplemented(SubmissionError, NotImplementedError):
    """The submission's function raised NotImplementedError (an unfilled stub)."""


class SandboxFailure(Exception):
    """The worker timed out or died; every later call fails with the same reason."""


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}"
    return f"exited with status {returncode}"


@dataclass(frozen=True)
class PrintedOutput:
    text: str  # bounded, with a note of how much was dropped
    characters: int  # how many the submission printed in all


class LearnerFunction:
    """A function defined by the submission, called in the sandbox."""

    def __init__(self, sandbox: Sandbox, name: str, source: str | None = None) -> None:
        self._sandbox = sandbox
        self.__name__ = self.__qualname__ = name
        self.__source__ = source  # read by checks.assert_loops_at_most

    def __call__(self, *args, **kwargs):
        return self._sandbox.call(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<submission function {self.__name__}>"


class Sandbox:
    """A worker process that holds one submission's namespace.

    Parameters
    ----------
    course_root : Path
        Everything under it is out of the submission's reach, except the helper
        package (src/) and the virtual environment (.venv/).
    call_timeout : float
        Seconds one request may run before the worker is killed; after
        ``start_cell``, the seconds the whole cell's requests may run together.
    memory_mb : int
        Address-space limit of the worker.
    cpu_seconds : int
        CPU-time limit of the worker over its whole life.
    forbidden : tuple of Path
        More places out of the submission's reach (e.g. a gradebook kept
        outside the course directory).
    """

    def __init__(self, course_root: Path = ROOT, call_timeout: float = 60.0, memory_mb: int = 2048,
                 cpu_seconds: int = 900, forbidden: tuple[Path, ...] = ()) -> None:
        self.course_root = Path(course_root).resolve()
        self.call_timeout = call_timeout
        self.memory_mb = memory_mb
        self.cpu_seconds = cpu_seconds
        self.forbidden = tuple(Path(p) for p in forbidden)
        self.failure: str | None = None
        self._deadline: float | None = None
        self._cell = ""
        self._process: subprocess.Popen | None = None
        self._workdir: tempfile.TemporaryDirectory | None = None

    # -- life cycle ---------------------------------------------------------
    def start(self) -> Sandbox:
        self._workdir = tempfile.TemporaryDirectory(prefix="submission-")
        config = {
            "memory_mb": self.memory_mb,
            "cpu_seconds": self.cpu_seconds,
            # The course being graded and the repository the grader runs from (which
            # holds solutions/) are both out of reach, except the helper package
            # and the Python environment.
            "forbidden": [str(self.course_root), str(ROOT), *map(str, self.forbidden)],
            "allowed": [str(ROOT / "src"), str(ROOT / ".venv"), sys.prefix],
        }
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),  # for autograder.wire; the guard then blocks the folder
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MPLBACKEND": "Agg",
            "HOME": self._workdir.name,
        }
        self._process = subprocess.Popen(
            [sys.executable, "-m", "autograder.sandbox_worker", json.dumps(config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=self._workdir.name, env=env,
        )
        return self

    def close(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
            for stream in (self._process.stdin, self._process.stdout):
                stream.close()
        if self._workdir is not None:
            self._workdir.cleanup()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- requests -------------------------------------------------------------
    def start_cell(self, label: str) -> None:
        """From now on, the requests of cell ``label`` share one budget of ``call_timeout`` seconds.

        A test cell calls the submission's functions hundreds of times (gradient
        checks); the budget is for the whole cell, as a notebook's cell timeout is.
        """
        self._cell = label
        self._deadline = time.monotonic() + self.call_timeout

    def _seconds_left(self) -> float:
        if self._deadline is None:
            return self.call_timeout
        return self._deadline - time.monotonic()

    def _stop(self, reason: str):
        self._process.kill()
        self._process.wait()
        self._fail(reason)

    def _request(self, message: dict):
        if self.failure:
            raise SandboxFailure(self.failure)
        process = self._process
        where = f"cell {self._cell}" if self._cell else "the submission"
        try:
            wire.send(process.stdin, message)
        except (BrokenPipeError, OSError):
            process.wait()
            self._fail(f"the submission's process {describe_exit(process.returncode)}")
        ready, _, _ = select.select([process.stdout], [], [], max(self._seconds_left(), 0.0))
        if not ready:
            self._stop(f"{where} ran for more than {self.call_timeout:g} s (an infinite loop?) and was stopped")
        try:
            reply = wire.receive(process.stdout)
        except wire.TooLarge as error:
            self._stop(f"the submission sent back {error}; it was stopped")
        if reply is None:
            process.wait()
            reason = describe_exit(process.returncode)
            if process.returncode == -signal.SIGXCPU:
                reason += " (its CPU time limit)"
            self._fail(f"the submission's process {reason}")
        if not reply["ok"]:
            raise SubmissionError.from_reply(reply)
        return reply

    def _fail(self, reason: str):
        self.failure = reason
        raise SandboxFailure(reason)

    def run(self, code: str, label: str) -> None:
        """Execute a cell's code in the submission's namespace."""
        self._request({"op": "exec", "code": code, "label": label})

    def call(self, name: str, args: tuple, kwargs: dict):
        """Call the submission's function ``name``.

        Arrays are copied both ways. What the function did to its arguments in
        place is written back into the caller's arrays, lists and dicts, so a
        check that an input was left unmodified sees what it would see in the
        learner's kernel.
        """
        reply = self._request({"op": "call", "function": name, "args": wire.encode(list(args)),
                               "kwargs": wire.encode(dict(kwargs))})
        if reply["arguments_after"] is not None:
            args_after, kwargs_after = wire.decode(reply["arguments_after"])
            wire.write_back(list(args), args_after)
            wire.write_back(kwargs, kwargs_after)
        return wire.decode(reply["result"])

    def output(self) -> PrintedOutput:
        """What the submission printed so far: the first 20,000 characters, and the count of all."""
        reply = self._request({"op": "stdout"})
        return PrintedOutput(reply["result"], reply["printed"])

    def function(self, name: str, source: str | None = None) -> LearnerFunction:
        return LearnerFunction(self, name, source)
