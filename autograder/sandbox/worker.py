"""The process that runs a submission's code, started by autograder.sandbox.client.

Run as ``python -m autograder.sandbox.worker CONFIG_JSON``, normally inside the
operating-system boundary that autograder.sandbox.isolation builds (bubblewrap: its own
namespaces, a read-only view of the runtime, no network, no new processes).
It speaks the autograder.sandbox.wire protocol on its original stdin/stdout, which it
keeps on private file descriptors: the submission's own prints go to a bounded
buffer, and reading standard input gives end-of-file.

Before any submission code runs it:
- limits its address space, CPU time, open files and message queues, and
  turns core dumps off (``resource``), so a memory bomb fails with
  MemoryError and a runaway process ends (the sandbox's memory cgroup, set up
  by the grader, counts the rest of its memory: autograder.sandbox.cgroups);
- installs an audit hook (which Python code cannot remove). The hook is not
  the boundary (Python's own documentation says an audit hook cannot be one):
  it is a second layer that turns the common attempts into clear messages. It
  refuses to start processes, open sockets or load native code through ctypes;
  to read anything under the course directory except the helper package and
  the Python environment; and to write, rename, link or change anything
  outside the writable folders (the sandbox's /tmp);
- tells the grader it is ready.

Commands (one JSON message each; any may carry ``"release": [ids]``, kept
objects the grader no longer refers to):
- {"op": "exec", "code": str, "label": str}: execute code in the namespace
- {"op": "call", "function": str, "args": [...], "kwargs": {...}}: call a function;
  the reply holds the result and, if the call changed them, the arguments after it. With
  "seconds": a number, a call still running after that many seconds is stopped (the error
  OutOfTime), and the namespace is kept for the calls after it
- {"op": "map", "function": str, "calls": [[[...], {...}], ...]}: call a function with each
  pair of positional and keyword arguments in turn; the reply holds the results, each
  returned tuple without its last value (a cache, which a gradient check does not use)
- {"op": "stdout"}: what the submission printed so far (bounded), and how many characters in all
"""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import sys
import traceback

from autograder.sandbox import wire

OUTPUT_LIMIT = wire.OUTPUT_LIMIT


class BoundedOutput(io.TextIOBase):
    """A text stream that keeps the first OUTPUT_LIMIT characters and counts the rest."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.size = 0

    def write(self, text: str) -> int:
        room = OUTPUT_LIMIT - sum(map(len, self.kept))
        if room > 0:
            self.kept.append(text[:room])
        self.size += len(text)
        return len(text)

    def text(self) -> str:
        return wire.bounded("".join(self.kept), self.size)


BLOCKED_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                  "os.forkpty", "pty.spawn", "socket.connect", "socket.bind", "ctypes.")
#: Audit events that read a path, with the positions of their path arguments.
READ_EVENTS = {"open": (0,), "os.listdir": (0,), "os.scandir": (0,), "os.chdir": (0,), "glob.glob": (0,),
               "os.link": (0,), "shutil.copyfile": (0,), "shutil.copytree": (0,)}
#: Audit events that change the filesystem, with the positions of the paths they change.
WRITE_EVENTS = {"sqlite3.connect": (0,), "os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,),
                "os.rename": (0, 1), "os.truncate": (0,), "os.chmod": (0,), "os.chown": (0,),
                "os.chflags": (0,), "os.lchflags": (0,), "os.utime": (0,), "os.link": (1,), "os.symlink": (1,),
                "os.setxattr": (0,), "os.removexattr": (0,), "shutil.copyfile": (1,), "shutil.copytree": (1,),
                "shutil.rmtree": (0,), "shutil.move": (0, 1)}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def opens_for_writing(args: tuple) -> bool:
    """Does an ``open`` audit event (path, mode, flags) ask to write?"""
    mode, flags = (list(args) + [None, None])[1:3]
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    return isinstance(flags, int) and bool(flags & WRITE_FLAGS)


def install_guard(forbidden: list[str], allowed: list[str], writable: list[str] | None) -> None:
    """Refuse process creation, sockets and ctypes; reading under ``forbidden`` (except
    ``allowed``); changing anything outside ``writable`` (None: anywhere not forbidden)."""
    forbidden = [os.path.realpath(p) for p in forbidden]
    allowed = [os.path.realpath(p) for p in allowed]
    writable = None if writable is None else [os.path.realpath(p) for p in writable]

    def inside(path: str, roots: list[str]) -> bool:
        return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)

    def resolved(target) -> str | None:
        if isinstance(target, int) or target is None:
            return None  # a file descriptor: it was checked when it was opened
        if isinstance(target, bytes):
            target = target.decode(errors="replace")
        return os.path.realpath(os.fspath(target))

    def guard(event: str, args: tuple) -> None:
        if event.startswith(BLOCKED_EVENTS):
            raise PermissionError(f"the grader does not allow {event} in a submission")
        writes = WRITE_EVENTS.get(event, ())
        if event == "open" and opens_for_writing(args):
            writes = (0,)
        for position in set(READ_EVENTS.get(event, ())) | set(writes):
            path = resolved(args[position]) if position < len(args) else None
            if path is None:
                continue
            if inside(path, forbidden) and not inside(path, allowed):
                raise PermissionError(f"a submission may not access {args[position]}")
            # The runtime (allowed: readable) is never writable, even where it lives under /tmp.
            if position in writes and writable is not None and (not inside(path, writable) or inside(path, allowed)):
                raise PermissionError(f"a submission may only write under {', '.join(writable)}; "
                                      f"{event} on {args[position]} was refused")

    sys.addaudithook(guard)


def limit_resources(memory_mb: int, cpu_seconds: int) -> None:
    """Limits that stay with this process whatever its code does (it cannot raise a hard limit).

    The address space is limited even where the sandbox's memory cgroup counts
    everything (autograder.sandbox.cgroups): a cgroup going over its limit kills
    the sandbox, and every later cell scores 0, while a too-large allocation
    here fails alone, with a MemoryError the learner's cell reports.
    """
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # POSIX message queues keep their messages in kernel memory, outside the address space.
    resource.setrlimit(resource.RLIMIT_MSGQUEUE, (0, 0))
    # SIGXCPU at the soft limit says why the process ended; SIGKILL a second later if it is caught.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file of gigabytes
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


class NotebookShell:
    """What ``get_ipython()`` returns to a submission: enough for IPython syntax
    learners leave in their cells (the grader turns ``%magic`` and ``!command``
    lines into these calls) to do no harm.

    Line magics (``%matplotlib inline``, ``%timeit f(x)``) do nothing: they do
    not define anything the checks use. A timing or capturing cell magic
    (``%%time``) runs its body, which may define functions; other cell magics
    and shell commands are skipped. Nothing else of IPython exists here.
    """

    RUN_BODY = {"time", "timeit", "capture", "prun"}

    def __init__(self, namespace: dict) -> None:
        self._namespace = namespace

    def run_line_magic(self, name: str, line: str, *args):
        return None

    def run_cell_magic(self, name: str, line: str, cell: str):
        if name in self.RUN_BODY:
            from IPython.core.inputtransformer2 import TransformerManager  # the body may hold IPython syntax too

            code = TransformerManager().transform_cell(cell)
            exec(compile(code, f"<cell %%{name}>", "exec"), self._namespace)  # noqa: S102 - the submission's own code
        return None

    def system(self, command: str) -> None:
        return None

    def getoutput(self, command: str) -> list:
        return []


def learner_traceback(error: BaseException) -> str:
    """The traceback frames of the submission's code only (not this worker's), as
    rnnlab.checks shows a traceback in the learner's kernel (its frames_text)."""
    from rnnlab.checks import frames_text

    return frames_text(f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith("<cell"))


class Kept:
    """The objects the submission's functions returned that stay here, by number."""

    def __init__(self) -> None:
        self.objects: dict[int, object] = {}
        self.last = 0

    def keep(self, value) -> int:
        self.last += 1
        self.objects[self.last] = value
        return self.last

    def release(self, numbers) -> None:
        for number in numbers:
            self.objects.pop(number, None)

    def resolve(self, value):
        """Replace the Handles received from the grader with the objects they stand for."""
        if isinstance(value, wire.Handle):
            if value.id not in self.objects:
                raise ValueError(f"the grader referred to object {value.id}, which the sandbox no longer keeps")
            return self.objects[value.id]
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.resolve(v) for v in value)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value


def protocol_streams():
    """The grader's pipes, moved to private descriptors; 0, 1 and 2 become /dev/null.

    So nothing the submission prints or reads, even through the descriptors
    themselves, can mix with the protocol.
    """
    streams = os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    return streams


class OutOfTime(BaseException):
    """Raised in the submission's function when the time the grader gave one call is up (a
    BaseException: ``except Exception`` in the submission does not hold it up)."""


class time_limit:
    """``with time_limit(seconds):`` stops the code inside with OutOfTime after ``seconds`` of
    wall-clock time (no limit for None). The submission can catch or disarm it; then the call
    simply runs on, under the cell's own time budget, and the grader's clock still decides."""

    def __init__(self, seconds) -> None:
        self.seconds = seconds if type(seconds) in (int, float) and 0 < seconds < 3600 else None

    def __enter__(self) -> None:
        if self.seconds is not None:
            signal.signal(signal.SIGALRM, self._stop)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exception) -> None:
        if self.seconds is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)

    def _stop(self, signum, frame):
        raise OutOfTime(f"still running after {self.seconds:g} s")


def defined(namespace: dict, name: str):
    function = namespace.get(name)
    if not callable(function):
        raise NameError(f"name {name!r} is not defined by the submission")
    return function


def serve(namespace: dict, output: BoundedOutput, receive_from, send_to) -> None:
    """Answer the grader's requests until it closes the pipe."""
    kept = Kept()
    while True:
        received = wire.receive(receive_from)
        if received is None:
            return
        message, payload = received
        kept.release(message.get("release", ()))
        packer = wire.Packer(kept.keep)
        try:
            if message["op"] == "exec":
                exec(compile(message["code"], f"<cell {message['label']}>", "exec"), namespace)  # noqa: S102
                reply = {"ok": True}
            elif message["op"] == "call":
                function = defined(namespace, message["function"])
                args = kept.resolve(wire.decode(message["args"], payload))
                kwargs = kept.resolve(wire.decode(message["kwargs"], payload))
                before = wire.pack([args, kwargs])  # a snapshot: nothing kept
                with time_limit(message.get("seconds")):
                    result = function(*args, **kwargs)
                reply = {"ok": True, "result": packer.pack(result), "arguments_after": None}
                # If the function changed its arguments in place, they go back, so the
                # change reaches the grader's copies (a check for unmodified inputs sees it).
                if wire.pack([args, kwargs]) != before:
                    reply["arguments_after"] = packer.snapshot([args, kwargs])
            elif message["op"] == "map":
                function = defined(namespace, message["function"])
                results = []
                for args, kwargs in kept.resolve(wire.decode(message["calls"], payload)):
                    result = function(*args, **kwargs)
                    results.append(result[:-1] + (None,) if type(result) is tuple and result else result)
                reply = {"ok": True, "results": packer.pack(results)}
            elif message["op"] == "stdout":
                reply = {"ok": True, "result": output.text(), "printed": output.size}
            else:
                raise ValueError(f"unknown operation {message['op']!r}")
        except BaseException as error:  # noqa: BLE001 - every failure is reported to the grader
            if isinstance(error, KeyboardInterrupt):
                raise
            reply = {"ok": False, "type": type(error).__name__, "message": str(error)[:2000],
                     "traceback": learner_traceback(error)[:4000]}
        wire.send(send_to, reply, packer.payload())


def main() -> None:
    receive_from, send_to = protocol_streams()  # before anything can print
    config = json.loads(sys.argv[1])
    import numpy  # noqa: F401  (imported before the limits: it maps large virtual areas)

    limit_resources(config["memory_mb"], config["cpu_seconds"])
    if config.get("audit_hook", True):
        install_guard(config["forbidden"], config["allowed"], config.get("writable"))
    output = BoundedOutput()
    sys.stdout = sys.stderr = output
    sys.stdin = io.StringIO("")
    namespace: dict = {"__name__": "__main__"}
    shell = NotebookShell(namespace)
    namespace["get_ipython"] = lambda: shell
    wire.send(send_to, {"ok": True, "ready": True})
    serve(namespace, output, receive_from, send_to)


if __name__ == "__main__":
    main()
