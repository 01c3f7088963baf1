"""The process that runs a submission's code, started by autograder.sandbox.

Run as ``python -m autograder.sandbox_worker CONFIG_JSON``. It speaks the
autograder.wire protocol on its original stdin/stdout, which it keeps on
private file descriptors: the submission's own prints go to a bounded buffer,
and reading standard input gives end-of-file.

Before any submission code runs it:
- limits its address space and CPU time (``resource``), so a memory bomb fails
  with MemoryError and a runaway process ends;
- installs an audit hook (which Python code cannot remove) that refuses to open
  or list anything under the course directory except the helper package and
  the virtual environment (so solutions/, the gradebook, other submissions and
  the git history are out of reach), and refuses to start processes, load
  native libraries through ctypes or open sockets.

Commands (one JSON message each):
- {"op": "exec", "code": str, "label": str}: execute code in the namespace
- {"op": "call", "function": str, "args": [...], "kwargs": {...}}: call a function;
  the reply holds the result and, if the call changed them, the arguments after it
- {"op": "stdout"}: what the submission printed so far (bounded), and how many characters in all
"""

from __future__ import annotations

import io
import json
import os
import resource
import sys
import traceback

# Descriptors for the protocol are taken before anything can print.
PROTOCOL_IN = os.fdopen(os.dup(0), "rb")
PROTOCOL_OUT = os.fdopen(os.dup(1), "wb")
_devnull = os.open(os.devnull, os.O_RDWR)
for fd in (0, 1, 2):
    os.dup2(_devnull, fd)

from autograder import wire  # noqa: E402  (after the descriptors are safe)

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
PATH_EVENTS = {"open": 0, "sqlite3.connect": 0, "os.listdir": 0, "os.scandir": 0, "os.remove": 0, "os.rename": 0, "os.chdir": 0,
               "shutil.copyfile": 0, "os.mkdir": 0, "os.rmdir": 0, "glob.glob": 0}


def install_guard(forbidden: list[str], allowed: list[str]) -> None:
    """Refuse file access under ``forbidden`` (except ``allowed``) and process creation."""
    forbidden = [os.path.realpath(p) for p in forbidden]
    allowed = [os.path.realpath(p) for p in allowed]

    def inside(path: str, roots: list[str]) -> bool:
        return any(path == root or path.startswith(root + os.sep) for root in roots)

    def guard(event: str, args: tuple) -> None:
        if event.startswith(BLOCKED_EVENTS):
            raise PermissionError(f"the grader does not allow {event} in a submission")
        if event in PATH_EVENTS and args:
            target = args[PATH_EVENTS[event]]
            if isinstance(target, int) or target is None:
                return
            if isinstance(target, bytes):
                target = target.decode(errors="replace")
            path = os.path.realpath(os.fspath(target))
            if inside(path, forbidden) and not inside(path, allowed):
                raise PermissionError(f"a submission may not access {target}")

    sys.addaudithook(guard)


def limit_resources(memory_mb: int, cpu_seconds: int) -> None:
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))


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
    """The traceback frames of the submission's code only (not this worker's)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith("<cell")]
    return "".join(traceback.format_list(frames)).rstrip()


def main() -> None:
    config = json.loads(sys.argv[1])
    import numpy  # noqa: F401  (imported before the limits: it maps large virtual areas)

    limit_resources(config["memory_mb"], config["cpu_seconds"])
    install_guard(config["forbidden"], config["allowed"])
    output = BoundedOutput()
    sys.stdout = sys.stderr = output
    sys.stdin = io.StringIO("")
    namespace: dict = {"__name__": "__main__"}
    shell = NotebookShell(namespace)
    namespace["get_ipython"] = lambda: shell
    handles: dict[int, object] = {}

    def keep(value):
        handles[len(handles) + 1] = value
        return wire.Handle(len(handles))

    def to_wire(value):
        return wire.encode(value, keep)

    def from_wire(data):
        value = wire.decode(data)
        return _resolve(value, handles)

    while True:
        message = wire.receive(PROTOCOL_IN)
        if message is None:
            return
        try:
            if message["op"] == "exec":
                exec(compile(message["code"], f"<cell {message['label']}>", "exec"), namespace)  # noqa: S102
                reply = {"ok": True}
            elif message["op"] == "call":
                function = namespace.get(message["function"])
                if not callable(function):
                    raise NameError(f"name {message['function']!r} is not defined by the submission")
                args = from_wire(message["args"])
                kwargs = from_wire(message["kwargs"])
                before = wire.encode([args, kwargs], lambda _: wire.OPAQUE)
                result = function(*args, **kwargs)
                # If the function changed its arguments in place, they go back, so the
                # change reaches the grader's copies (a check for unmodified inputs sees it).
                after = wire.encode([args, kwargs], lambda _: wire.OPAQUE)
                reply = {"ok": True, "result": to_wire(result), "arguments_after": None if after == before else after}
            elif message["op"] == "stdout":
                reply = {"ok": True, "result": output.text(), "printed": output.size}
            else:
                raise ValueError(f"unknown operation {message['op']!r}")
        except BaseException as error:  # noqa: BLE001 - every failure is reported to the grader
            if isinstance(error, KeyboardInterrupt):
                raise
            reply = {"ok": False, "type": type(error).__name__, "message": str(error)[:2000],
                     "traceback": learner_traceback(error)[:4000]}
        wire.send(PROTOCOL_OUT, reply)


def _resolve(value, handles):
    """Replace Handles received from the grader with the objects they stand for."""
    if isinstance(value, wire.Handle):
        return handles[value.id]
    if isinstance(value, list):
        return [_resolve(v, handles) for v in value]
    if isinstance(value, tuple):
        return tuple(_resolve(v, handles) for v in value)
    if isinstance(value, dict):
        return {k: _resolve(v, handles) for k, v in value.items()}
    return value


if __name__ == "__main__":
    main()
