"""A safe wire format between the grader and a sandboxed submission.

Values cross the process boundary as JSON, with NumPy arrays as raw bytes plus
dtype and shape (numeric dtypes only). Nothing the submission sends can run
code in the grader: there is no pickle anywhere.

Only values of the **exact** built-in types cross as data: None, bool, int,
float, str, NumPy arrays (``type(a) is np.ndarray``) and scalars of numeric
dtype, and tuples, lists and dicts of such values. Anything else stays in the
sandbox, where the submission's own code keeps using it, and the grader gets a
stand-in (``Remote``):

- a subclass of tuple, list or dict (a namedtuple, an ``OrderedDict``, a dict
  with attribute access) arrives as a ``MirroredTuple``/``List``/``Dict``: it
  holds a copy of the contents, so the checks can unpack, index and compare it
  as they would in the learner's kernel, and it refers to the original, which
  is what the submission's functions receive when the grader passes it back;
- any other object (a dataclass, a closure, an array subclass) arrives as an
  opaque ``Remote``.

So a learner's step function may keep its cache in any type it likes and read
it back by attribute in the backward step: what the backward step receives is
the very object the forward step returned. (Before this rule, a namedtuple
crossed as a plain tuple, and ``cache.next_h`` failed under the grader alone.)

``encode(value)`` without ``keep`` is a *snapshot*: stand-ins become
placeholders, nothing is kept. The sandbox uses snapshots to tell whether a
call changed its arguments.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import BinaryIO, Callable

import numpy as np

HEADER = struct.Struct(">Q")  # message length, 8 bytes big-endian
#: The largest message accepted. The checks exchange small arrays; a submission
#: that returns more is stopped before the grader spends memory on it.
MAX_MESSAGE = 64 * 1024 * 1024
#: Characters of a submission's printed output kept (the rest is counted).
OUTPUT_LIMIT = 20_000
#: NumPy kinds that cross as data: bool, signed and unsigned int, float, complex.
NUMERIC_KINDS = "biufc"
ATOMS = (type(None), bool, int, float, str)
CONTAINERS = (tuple, list, dict)


def bounded(kept: str, total: int | None = None) -> str:
    """The first OUTPUT_LIMIT characters of a text of ``total`` characters (default: all of ``kept``),
    with a note of how many were dropped."""
    total = len(kept) if total is None else total
    dropped = total - min(len(kept), OUTPUT_LIMIT)
    return kept[:OUTPUT_LIMIT] + (f"\n[... {dropped} more characters not kept]" if dropped > 0 else "")


class Handle:
    """A reference, by number, to an object the sandbox keeps (0: a placeholder in a snapshot)."""

    __slots__ = ("id", "type_name")

    def __init__(self, id: int, type_name: str = "object") -> None:  # noqa: A002 - the wire's own word
        self.id = id
        self.type_name = type_name

    def __eq__(self, other) -> bool:
        return isinstance(other, Handle) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"<{self.type_name} kept in the sandbox>"


class Remote(Handle):
    """The grader's stand-in for an object kept in the sandbox.

    When the last stand-in of an object is garbage collected, ``on_release`` is
    called with its number, so the sandbox can let the object go. Copies of a
    stand-in are the stand-in itself: they all refer to the same object.
    """

    __slots__ = ("_on_release",)

    def __init__(self, id: int, type_name: str, on_release: Callable[[int], None]) -> None:  # noqa: A002
        super().__init__(id, type_name)
        self._on_release = on_release

    def __del__(self) -> None:
        self._on_release(self.id)

    def __copy__(self) -> Remote:
        return self

    def __deepcopy__(self, memo) -> Remote:
        return self


class _Mirror:
    """Mixin of the mirrored containers: a copy of the contents, and the Remote of the original."""

    remote: Handle | None = None

    def __repr__(self) -> str:
        name = self.remote.type_name if self.remote is not None else ""
        return name + super().__repr__()


class MirroredTuple(_Mirror, tuple):
    """A tuple subclass from the sandbox (e.g. a namedtuple): its items, and the original."""


class MirroredList(_Mirror, list):
    """A list subclass from the sandbox: its items, and the original."""


class MirroredDict(_Mirror, dict):
    """A dict subclass from the sandbox (e.g. OrderedDict, defaultdict): its items, and the original."""


MIRRORS = (MirroredTuple, MirroredList, MirroredDict)

#: Stands for a part that is not sent (in a snapshot).
OPAQUE = Handle(0)


class NotEncodable(TypeError):
    """The value cannot cross the wire as data."""


class TooLarge(ValueError):
    """A message longer than MAX_MESSAGE."""


# -- encoding -------------------------------------------------------------------

def encode(value, keep: Callable[[object], int] | None = None):
    """A JSON-ready structure for ``value``.

    ``keep`` (the sandbox's side) is called with every object that does not
    cross as data and returns the number it is kept under. Without it, such
    objects become placeholders (a snapshot). Stand-ins the grader holds
    (``Remote`` and mirrored containers) are sent as references to their
    originals.
    """
    kind = type(value)
    if kind in ATOMS:
        return value
    if kind is np.ndarray:
        if value.dtype.kind not in NUMERIC_KINDS:
            return _reference(value, keep)
        # Raw bytes, dtype and shape: as safe as .npy without pickle, and much faster
        # to read back than parsing an .npy header for each of thousands of arrays.
        data = np.ascontiguousarray(value)
        return {"__ndarray__": _b64(data), "dtype": data.dtype.str, "shape": list(data.shape)}
    if isinstance(value, np.generic) and kind is value.dtype.type and value.dtype.kind in NUMERIC_KINDS:
        return {"__scalar__": _b64(np.asarray(value)), "dtype": value.dtype.str}
    if isinstance(value, Handle):
        return {"__handle__": value.id}
    if isinstance(value, _Mirror) and value.remote is not None and value.remote.id:
        return {"__handle__": value.remote.id}
    if kind is tuple:
        return {"__tuple__": [encode(v, keep) for v in value]}
    if kind is list:
        return [encode(v, keep) for v in value]
    if kind is dict and _keys_cross(value):
        return {"__dict__": [[_key(k), encode(v, keep)] for k, v in value.items()]}
    for container, tag in ((tuple, "tuple"), (list, "list"), (dict, "dict")):
        if kind is not container and isinstance(value, container) and (container is not dict or _keys_cross(value)):
            return {"__mirror__": tag, "items": encode(container(value), keep), **_reference(value, keep)}
    return _reference(value, keep)


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(array.tobytes()).decode("ascii")


def _keys_cross(mapping: dict) -> bool:
    try:
        for key in mapping:
            _key(key)
    except NotEncodable:
        return False
    return True


def _key(key):
    """A dict key that crosses as data: an atom, or a tuple of atoms."""
    if type(key) in ATOMS:
        return key
    if type(key) is tuple and all(type(k) in ATOMS for k in key):
        return {"__tuple__": list(key)}
    raise NotEncodable(f"dict key of type {type(key).__name__}")


def _reference(value, keep) -> dict:
    return {"__handle__": keep(value) if keep is not None else 0, "type": type(value).__name__}


# -- decoding -------------------------------------------------------------------

def decode(data, remote: Callable[[int, str], Handle] | None = None):
    """The value ``encode`` produced; never runs code.

    ``remote(id, type_name)`` makes the stand-in of a kept object (the grader's
    side); without it, references decode to plain Handles (the sandbox's side,
    which resolves them to its own objects).
    """
    if isinstance(data, list):
        return [decode(v, remote) for v in data]
    if isinstance(data, dict):
        if "__ndarray__" in data:
            return _array(data)
        if "__scalar__" in data:
            return _array({"__ndarray__": data["__scalar__"], "dtype": data["dtype"], "shape": []})[()]
        if "__tuple__" in data:
            return tuple(decode(v, remote) for v in data["__tuple__"])
        if "__dict__" in data:
            return {_hashable(decode(k)): decode(v, remote) for k, v in data["__dict__"]}
        if "__mirror__" in data:
            mirror = MIRRORS[("tuple", "list", "dict").index(data["__mirror__"])](decode(data["items"], remote))
            mirror.remote = _handle(data, remote)
            return mirror
        if "__handle__" in data:
            return _handle(data, remote)
        raise ValueError(f"unknown structure with keys {sorted(data)}")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    raise ValueError(f"unexpected {type(data).__name__} on the wire")


def _hashable(key):
    if isinstance(key, (list, dict)):
        raise ValueError("a dict key must be an atom or a tuple of atoms")
    return key


def _handle(data: dict, remote) -> Handle:
    number, type_name = int(data["__handle__"]), str(data.get("type", "object"))[:100]
    if number == 0 or remote is None:
        return Handle(number, type_name)
    return remote(number, type_name)


def _array(data: dict) -> np.ndarray:
    dtype = np.dtype(str(data["dtype"]))
    if dtype.kind not in NUMERIC_KINDS:  # never object arrays: nothing decoded may run code
        raise ValueError(f"arrays of dtype {dtype} are not accepted")
    shape = tuple(int(n) for n in data["shape"])
    raw = base64.b64decode(data["__ndarray__"])
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()  # a writable array of its own


# -- messages -------------------------------------------------------------------

def send(stream: BinaryIO, message: dict) -> None:
    payload = json.dumps(message).encode("utf-8")
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


def receive(stream: BinaryIO) -> dict | None:
    """The next message, or None at end of stream (the other side is gone)."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (length,) = HEADER.unpack(header)
    if length > MAX_MESSAGE:
        raise TooLarge(f"a message of {length:,} bytes, more than the {MAX_MESSAGE:,} allowed")
    payload = stream.read(length)
    if len(payload) < length:
        return None
    return json.loads(payload.decode("utf-8"))


# -- in-place changes -------------------------------------------------------------

def write_back(original, after) -> None:
    """Make ``original`` (arrays, lists, dicts, nested) equal to ``after`` in place.

    ``after`` is the decoded snapshot of the same arguments after a call in the
    sandbox. Arrays are overwritten element-wise, dict entries and list items
    replaced, so the caller sees in-place changes the function made. Kept
    objects (Handles) are left alone; tuples are immutable, so only their
    contents are visited.
    """
    if isinstance(original, np.ndarray) and isinstance(after, np.ndarray):
        if (original.shape == after.shape and original.flags.writeable
                and not np.array_equal(original, after, equal_nan=True)):
            np.copyto(original, after, casting="unsafe")
    elif isinstance(original, dict) and isinstance(after, dict):
        for key in [k for k in original if k not in after]:
            del original[key]
        for key, value in after.items():
            if key in original and _same_container(original[key], value):
                write_back(original[key], value)
            elif not isinstance(value, Handle):
                original[key] = value
    elif isinstance(original, list) and isinstance(after, list):
        if len(original) != len(after):
            original[:] = [v for v in after if not isinstance(v, Handle)]
            return
        for index, value in enumerate(after):
            if _same_container(original[index], value):
                write_back(original[index], value)
            elif not isinstance(value, Handle):
                original[index] = value
    elif isinstance(original, tuple) and isinstance(after, tuple) and len(original) == len(after):
        for item, value in zip(original, after):
            write_back(item, value)


def _same_container(a, b) -> bool:
    return any(isinstance(a, kind) and isinstance(b, kind) for kind in (np.ndarray, dict, list, tuple))
