"""Run a submission's code in a separate, isolated process, and call it from the grader.

The checks of a test cell must run as written whatever the submission did:
patching NumPy, redefining the checking helpers, changing ``AssertionError``
or the kernel. So the submission's answer cells never run in the process
that runs the checks. They run in a worker process (autograder.sandbox.worker)
inside an operating-system boundary (autograder.sandbox.isolation: bubblewrap
namespaces, a read-only view of the runtime and nothing of the course, no
network, no new processes) with limited memory and CPU. The grader holds a
``LearnerFunction`` for each function the answers define; calling it sends the
arguments to the worker and brings back the result, through a wire format
without pickle (autograder.sandbox.wire). A per-call timeout ends infinite loops; a
worker that dies (``os._exit``, a segfault, the memory limit) makes every later
call fail with the reason, while results obtained before stay valid.

Without isolation (``isolation=False``, the grader's ``--no-isolation``) the
worker is a plain child process guarded only by its audit hook and limits:
for machines where bubblewrap cannot run, and never silently.

Usage::

    with Sandbox(course_root) as box:
        box.run(setup_code, "setup")          # read-only cells: imports, given helpers
        box.run(answer_code, "rnn_step_forward")
        rnn_step_forward = box.function("rnn_step_forward", source=answer_code)
        next_h, cache = rnn_step_forward(x, prev_h, Wx, Wh, b)
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

from autograder.sandbox import cgroups, isolation
from autograder.sandbox import wire
from autograder.paths import ROOT


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
        """The error a reply reports, every field bounded: the reply comes from the submission
        (five exception names of 2 MB each once made a 9.8 MB result file)."""
        kind = _text(reply.get("type"))[:TYPE_NAME_LIMIT]
        # A stub that still raises NotImplementedError must read as "not implemented
        # yet" to the checks, as it does in the learner's kernel.
        cls = SubmissionNotImplemented if kind == "NotImplementedError" else SubmissionError
        return cls(kind, wire.bounded(_text(reply.get("message"))), wire.bounded(_text(reply.get("traceback"))))


#: The error a worker reports for a call it stopped at the time the grader gave it
#: (autograder.sandbox.worker.OutOfTime).
OUT_OF_TIME = "OutOfTime"

#: The most characters of an exception's type name kept from a submission's reply.
TYPE_NAME_LIMIT = 100


def _text(value) -> str:
    """A field of a reply as text that can be written anywhere: a string, lone surrogates replaced."""
    text = value if isinstance(value, str) else "" if value is None else repr(value)[:wire.OUTPUT_LIMIT]
    return text.encode("utf-8", "replace").decode("utf-8")


class SubmissionNotImplemented(SubmissionError, NotImplementedError):
    """The submission's function raised NotImplementedError (an unfilled stub)."""


class SandboxFailure(Exception):
    """The worker timed out or died; every later call fails with the same reason.

    rnnlab.checks.call lets it through as it is (``from_grader``): it is the
    grader's verdict, not an error raised by the learner's code.
    """

    from_grader = True


class SandboxUnavailable(RuntimeError):
    """The sandbox could not start: a problem of the grading machine, not of the submission."""


#: Seconds the worker may take to start (Python, NumPy, the boundary) before the machine is blamed.
START_TIMEOUT = 120.0


def describe_exit(returncode: int | None, isolated: bool = False) -> str:
    """How a worker ended, in words. Through bubblewrap, death by signal n is exit status 128 + n."""
    if returncode is None:
        return "still running"
    signal_number = -returncode if returncode < 0 else (returncode - 128 if isolated and returncode > 128 else 0)
    if signal_number:
        try:
            name = signal.Signals(signal_number).name
        except ValueError:
            name = f"signal {signal_number}"
        why = " (its CPU time limit)" if signal_number == signal.SIGXCPU else ""
        return f"killed by {name}{why}"
    return f"exited with status {returncode}"


@dataclass(frozen=True)
class PrintedOutput:
    text: str  # bounded, with a note of how much was dropped
    characters: int  # how many the submission printed in all


class LearnerFunction:
    """A function defined by the submission, called in the sandbox."""

    def __init__(self, sandbox: Sandbox, name: str, source: str | None = None,
                 helpers: dict[str, str] | None = None) -> None:
        self._sandbox = sandbox
        self.__name__ = self.__qualname__ = name
        self.__source__ = source  # read by checks.assert_loops_at_most
        self.__helpers__ = helpers or {}  # the source of every function the submission defined, by name: the same

    def __call__(self, *args, **kwargs):
        return self._sandbox.call(self.__name__, args, kwargs)

    def call_within(self, seconds: float, *args, **kwargs) -> tuple[bool, object]:
        """(True, result), or (False, None) when the call was still running after ``seconds``
        and the sandbox stopped it, keeping the submission's namespace (read by
        rnnlab.checks.call_within: a check that needs only to know that a call is slow)."""
        try:
            return True, self._sandbox.call(self.__name__, args, kwargs, seconds=seconds)
        except SubmissionError as error:
            if error.kind == OUT_OF_TIME:
                return False, None
            raise

    def map_dropping_last(self, calls: list[dict]) -> list:
        """The function called with each set of keyword arguments in turn, in one round trip.

        The last value of each returned tuple (a forward step's cache) is dropped
        in the sandbox (None here): what a gradient check that uses only the
        outputs needs, at a fraction of the cost (read by rnnlab.checks).
        """
        return self._sandbox.map(self.__name__, [((), kwargs) for kwargs in calls])

    def map_calls_dropping_last(self, calls: list[tuple[tuple, dict]]) -> list:
        """As map_dropping_last, each call given as (positional arguments, keyword arguments):
        how an adapter that calls the function positionally batches its calls
        (read by rnnlab.adapters)."""
        return self._sandbox.map(self.__name__, calls)

    def __repr__(self) -> str:
        return f"<submission function {self.__name__}>"


class Sandbox:
    """A worker process that holds one submission's namespace.

    Parameters
    ----------
    course_root : Path
        The course being graded: out of the submission's reach (with isolation
        it is not even in the sandbox's view, but for the helper package and
        the Python environment when they live there).
    call_timeout : float
        Seconds one request may run before the worker is killed; after
        ``start_cell``, the seconds the whole cell's requests may run together.
    memory_mb : int
        The submission's memory limit. Where the machine has a memory cgroup
        for it (autograder.sandbox.cgroups), the limit of the sandbox's group,
        which counts all its processes hold (their memory, its /tmp files,
        the kernel's memory for them); and always the worker's address space.
    cpu_seconds : int
        CPU-time limit of the worker over its whole life.
    forbidden : tuple of Path
        More places out of the submission's reach (e.g. a gradebook kept
        outside the course directory).
    isolation : bool
        Run the worker inside the operating-system boundary of
        autograder.sandbox.isolation (the default). False: a plain child process,
        guarded only by the audit hook and the limits.
    audit_hook : bool
        Install the worker's audit hook, the second layer (the default). The
        test suite turns it off to show that the boundary alone holds.
    tmp_mb : int
        Size of the sandbox's private, writable /tmp (with isolation).
    """

    def __init__(self, course_root: Path = ROOT, call_timeout: float = 60.0, memory_mb: int = 2048,
                 cpu_seconds: int = 900, forbidden: tuple[Path, ...] = (), isolation: bool = True,
                 audit_hook: bool = True, tmp_mb: int = 64, memory_group: bool = True) -> None:
        self.course_root = Path(course_root).resolve()
        self.use_memory_group = memory_group
        self.call_timeout = call_timeout
        self.memory_mb = memory_mb
        self.cpu_seconds = cpu_seconds
        self.forbidden = tuple(Path(p) for p in forbidden)
        self.isolation = isolation
        self.audit_hook = audit_hook
        self.tmp_mb = tmp_mb
        self.failure: str | None = None
        self._deadline: float | None = None
        self._cell = ""
        self._process: subprocess.Popen | None = None
        self._scratch: tempfile.TemporaryDirectory | None = None
        self._stderr = None  # where bwrap's own messages go (a file in the scratch folder)
        self._released: list[int] = []
        self._memory: cgroups.MemoryGroup | None = None  # the sandbox's memory group, while it lives
        #: The most memory the sandbox's group held at once, once closed (None without a group).
        self.memory_peak_mb: float | None = None

    # -- life cycle ---------------------------------------------------------
    def start(self) -> Sandbox:
        """Start the worker and wait until it is ready; SandboxUnavailable if it cannot start."""
        try:
            self._launch()
            self._wait_until_ready()
        except BaseException:
            self.close()
            raise
        return self

    def _launch(self) -> None:
        # The grader's scratch folder: bwrap's messages, and without isolation the worker's home.
        self._scratch = tempfile.TemporaryDirectory(prefix="submission-")
        scratch = Path(self._scratch.name)
        secrets = (self.course_root, ROOT, *self.forbidden)
        config = {
            "memory_mb": self.memory_mb,
            "cpu_seconds": self.cpu_seconds,
            "audit_hook": self.audit_hook,
            # Out of reach: the course being graded and the repository the grader runs
            # from (which holds solutions/), except the Python environment and the
            # helper package, which may live there.
            "forbidden": list(map(str, secrets)),
            "allowed": list(map(str, isolation.runtime_folders())),
            "writable": ["/tmp"] if self.isolation else [str(scratch / "home")],
        }
        command = [sys.executable, "-s", "-B", "-m", "autograder.sandbox.worker", json.dumps(config)]
        self._stderr = open(scratch / "stderr", "w+b")  # noqa: SIM115 - closed in close()
        self._memory = self._memory_group()  # before the seccomp pipe is opened: nothing to close if it fails
        if self.isolation:
            try:
                launch = isolation.launch(command, secrets, self.tmp_mb)
            except isolation.IsolationUnavailable as error:
                raise SandboxUnavailable(f"the grader could not isolate the submission: {error}") from None
            argv, pass_fds, cwd = launch.argv, launch.pass_fds, None
            env = {"PATH": os.environ.get("PATH", "")}  # bwrap's own environment: nothing of the grader's
        else:
            (scratch / "home").mkdir()
            argv, pass_fds, cwd = command, (), scratch / "home"
            env = {**isolation.environment(), "PYTHONPATH": str(ROOT), "HOME": str(cwd), "TMPDIR": str(cwd),
                   "MPLCONFIGDIR": str(cwd / "matplotlib"), "PATH": os.environ.get("PATH", "")}
        if self._memory is not None:
            argv = self._memory.joined(argv)
        try:
            self._process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=self._stderr, cwd=cwd, env=env, pass_fds=pass_fds)
        except OSError as error:
            raise SandboxUnavailable(f"the grader could not start the submission's process: {error}") from None
        finally:
            for fd in pass_fds:
                os.close(fd)

    def _memory_group(self) -> cgroups.MemoryGroup | None:
        """The sandbox's own memory group, or None where the machine has no place for one (or
        the grader was asked to do without: ``grade --no-memory-group``)."""
        if not self.use_memory_group:
            return None
        try:
            return isolation.memory_group(self.memory_mb)
        except OSError as error:  # a place was found, yet the kernel refused this group
            raise SandboxUnavailable(f"the grader could not create the memory group of the submission's "
                                     f"sandbox: {error}") from None

    def _exceeded_memory(self) -> str | None:
        """Why the worker died, if the kernel killed it for its group's memory limit.

        Its exit status cannot tell: an OOM kill is a SIGKILL like any other.
        The group's own count of OOM kills can.
        """
        if self._memory is None or not self._memory.oom_kills():
            return None
        return f"the submission exceeded its memory limit of {self.memory_mb} MB (/tmp files included) and was stopped"

    def _wait_until_ready(self) -> None:
        """The worker says it is ready once its limits and guard are in place."""
        ready, _, _ = select.select([self._process.stdout], [], [], START_TIMEOUT)
        reply = wire.receive(self._process.stdout) if ready else None
        if reply is None or not reply.header.get("ready"):
            self._process.kill()
            self._process.wait()
            self._stderr.flush()
            self._stderr.seek(0)
            message = self._stderr.read()[-2000:].decode(errors="replace").strip()
            where = "its sandbox" if self.isolation else "its process"
            ended = self._exceeded_memory() or describe_exit(self._process.returncode, self.isolation)
            raise SandboxUnavailable(f"the grader could not start {where} for the submission "
                                     f"({ended}): {message or 'no message'}")

    def close(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
            for stream in (self._process.stdin, self._process.stdout):
                stream.close()
        if self._memory is not None:
            peak = self._memory.peak_bytes()
            self.memory_peak_mb = None if peak is None else round(peak / 2**20, 1)
            self._memory.remove()  # kills what the sandbox left, if anything
            self._memory = None
        if self._stderr is not None:
            self._stderr.close()
        if self._scratch is not None:
            self._scratch.cleanup()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- requests -------------------------------------------------------------
    def start_cell(self, label: str, deadline: float | None = None) -> None:
        """From now on, the requests of cell ``label`` share one budget of ``call_timeout`` seconds,
        ending earlier at ``deadline`` (a ``time.monotonic()`` value: the submission's own budget).

        A test cell calls the submission's functions hundreds of times (gradient
        checks); the budget is for the whole cell, as a notebook's cell timeout is.
        """
        self._cell = label
        self._deadline = time.monotonic() + self.call_timeout
        self._submission_deadline = deadline
        if deadline is not None and deadline < self._deadline:
            self._deadline = deadline

    def _seconds_left(self) -> float:
        if self._deadline is None:
            return self.call_timeout
        return self._deadline - time.monotonic()

    def _stop(self, reason: str):
        self._process.kill()
        self._process.wait()
        self._fail(reason)

    def _request(self, message: dict, payload: bytes = b"") -> wire.Message:
        if self.failure:
            raise SandboxFailure(self.failure)
        process = self._process
        where = f"cell {self._cell}" if self._cell else "the submission"
        if self._released:  # objects the grader no longer refers to
            message["release"], self._released = self._released, []
        try:
            wire.send(process.stdin, message, payload)
        except (BrokenPipeError, OSError):
            process.wait()
            self._fail(f"the submission's process {describe_exit(process.returncode, self.isolation)}")
        ready, _, _ = select.select([process.stdout], [], [], max(self._seconds_left(), 0.0))
        if not ready:
            budget = getattr(self, "_submission_deadline", None)
            if budget is not None and time.monotonic() >= budget:
                self._stop(f"{where} was stopped: the submission used up its time budget for all its cells")
            self._stop(f"{where} ran for more than {self.call_timeout:g} s (an infinite loop?) and was stopped")
        try:
            reply = wire.receive(process.stdout, wire.MAX_REPLY_HEADER)
        except wire.TooLarge as error:
            self._stop(f"the submission sent back {error}; it was stopped")
        except wire.Malformed as error:
            self._stop(f"the submission sent back a reply the grader cannot read ({error}); it was stopped")
        if reply is None:
            process.wait()
            self._fail(f"the submission's process {describe_exit(process.returncode, self.isolation)}")
        if not isinstance(reply.header.get("ok"), bool):
            self._stop("the submission sent back a reply the grader cannot read (no status); it was stopped")
        if not reply.header["ok"]:
            raise SubmissionError.from_reply(reply.header)
        return reply

    def _decode(self, data, payload: bytes):
        """A reply's value decoded; a reply that names more than it carries, or is not in the
        wire's format, stops the sandbox (it can only come from a submission that forged it)."""
        try:
            return wire.decode(data, payload, self._remote)
        except (ValueError, TypeError, KeyError, IndexError, RecursionError) as error:
            self._stop(f"the submission sent back a reply the grader cannot read ({type(error).__name__}: "
                       f"{str(error)[:200]}); it was stopped")

    def _fail(self, reason: str):
        self.failure = self._exceeded_memory() or reason
        raise SandboxFailure(self.failure)

    @staticmethod
    def _cannot_send(value) -> int:
        """Only data and the sandbox's own objects can go to it: a check that passes anything
        else is a mistake of the course's, said as such."""
        raise TypeError(f"the grader cannot pass a {type(value).__name__} to the submission's code")

    def _remote(self, number: int, type_name: str) -> wire.Remote:
        return wire.Remote(number, type_name, self._released.append)

    def run(self, code: str, label: str) -> None:
        """Execute a cell's code in the submission's namespace."""
        self._request({"op": "exec", "code": code, "label": label})

    def call(self, name: str, args: tuple, kwargs: dict, seconds: float | None = None):
        """Call the submission's function ``name``; with ``seconds``, stopped if it still runs then
        (the error OutOfTime).

        Arrays are copied both ways; objects of other types than the exact
        built-ins stay in the sandbox (see autograder.sandbox.wire). What the function
        did to its arguments in place is written back into the caller's arrays,
        lists and dicts, so a check that an input was left unmodified sees what
        it would see in the learner's kernel.
        """
        packer = wire.Packer(self._cannot_send)
        request = {"op": "call", "function": name, "args": packer.pack(list(args)), "kwargs": packer.pack(dict(kwargs))}
        if seconds is not None:
            request["seconds"] = float(seconds)
        reply, payload = self._request(request, packer.payload())
        if reply.get("arguments_after") is not None:
            after = self._decode(reply["arguments_after"], payload)
            if not (isinstance(after, list) and len(after) == 2):
                self._stop("the submission sent back a reply the grader cannot read (arguments); it was stopped")
            args_after, kwargs_after = after
            wire.write_back(list(args), args_after)
            wire.write_back(kwargs, kwargs_after)
        return self._decode(reply.get("result"), payload)

    def map(self, name: str, calls: list[tuple[tuple, dict]]) -> list:
        """Call the submission's function ``name`` with each of ``calls`` (positional arguments,
        keyword arguments), in order, in one request; each returned tuple comes back without
        its last value.

        An array that is one object in several calls is one object in the sandbox
        too, so what a call does to it in place, the next calls see, as they would
        in the learner's kernel. Nothing is written back: the caller's points are
        its own copies.
        """
        packer = wire.Packer(self._cannot_send)
        calls = [[list(args), dict(kwargs)] for args, kwargs in calls]
        reply, payload = self._request({"op": "map", "function": name, "calls": packer.pack(calls)},
                                       packer.payload())
        results = self._decode(reply.get("results"), payload)
        if not (isinstance(results, list) and len(results) == len(calls)):
            self._stop("the submission sent back a reply the grader cannot read (results); it was stopped")
        return results

    def output(self) -> PrintedOutput:
        """What the submission printed so far: the first 20,000 characters, and the count of all."""
        reply = self._request({"op": "stdout"}).header
        printed = reply.get("printed")
        return PrintedOutput(wire.bounded(_text(reply.get("result"))), printed if type(printed) is int else 0)

    def function(self, name: str, source: str | None = None, helpers: dict[str, str] | None = None) -> LearnerFunction:
        return LearnerFunction(self, name, source, helpers)
