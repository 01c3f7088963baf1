"""A safe wire format between the grader and a sandboxed submission.

A message is a JSON header and a binary payload: NumPy arrays (numeric dtypes
only) travel as raw bytes in the payload, named in the header by offset,
length, dtype and shape. Nothing the submission sends can run code in the
grader: there is no pickle anywhere. (Raw bytes rather than base64 in the JSON:
a gradient check calls a learner's function thousands of times, and encoding
was most of the grader's time.)

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

``pack(value)`` without ``keep`` is a *snapshot*: stand-ins become
placeholders, nothing is kept. The sandbox uses snapshots to tell whether a
call changed its arguments.
"""

from __future__ import annotations

import json
import math
import struct
from typing import BinaryIO, Callable, NamedTuple

import numpy as np

FRAME = struct.Struct(">QQ")  # lengths of the JSON header and of the payload, big-endian
#: The largest message accepted. The checks exchange small arrays; a submission
#: that returns more is stopped before the grader spends memory on it.
MAX_MESSAGE = 64 * 1024 * 1024
#: The largest JSON header of a reply from a submission. Arrays travel in the payload,
#: so an honest header is small (a cache of thousands of arrays is well under 1 MB),
#: while parsing JSON multiplies its size in memory (a header of 60 MB of nested empty
#: lists took a grader to 2.1 GB): a reply's header is held to this.
MAX_REPLY_HEADER = 4 * 1024 * 1024
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


class Malformed(ValueError):
    """A message that does not follow the format: from a submission, a forged or broken reply."""


class TooLarge(Malformed):
    """A message longer than allowed (MAX_MESSAGE, or MAX_REPLY_HEADER for a reply's header)."""


# -- encoding -------------------------------------------------------------------

class Packer:
    """Encodes the values of one message: JSON-ready structures, and the payload of their arrays.

    ``keep`` (the sandbox's side) is called with every object that does not
    cross as data and returns the number it is kept under. Without it, such
    objects become placeholders (a snapshot). Stand-ins the grader holds
    (``Remote`` and mirrored containers) are sent as references to their
    originals.
    """

    ALIGN = 8  # every array starts at a multiple of 8 bytes of the payload

    def __init__(self, keep: Callable[[object], int] | None = None) -> None:
        self.keep = keep
        self._chunks: list[bytes] = []
        self._size = 0
        # An array met twice in one message is sent once and decoded as one object, as it
        # is one object here (``f(a, a)``, or the same input in every call of a batch).
        self._packed: dict[int, tuple[np.ndarray, list[int]]] = {}

    def payload(self) -> bytes:
        return b"".join(self._chunks)

    def snapshot(self, value):
        """``value`` packed without keeping anything (placeholders for what cannot cross)."""
        keep, self.keep = self.keep, None
        try:
            return self.pack(value)
        finally:
            self.keep = keep

    def _bytes(self, array: np.ndarray) -> list[int]:
        seen = self._packed.get(id(array))
        if seen is not None and seen[0] is array:
            return seen[1]
        raw = np.ascontiguousarray(array).tobytes()
        offset, padding = self._size, -len(raw) % self.ALIGN
        self._chunks += [raw, b"\0" * padding] if padding else [raw]
        self._size += len(raw) + padding
        self._packed[id(array)] = (array, [offset, len(raw)])  # the array itself is held: its id stays its own
        return [offset, len(raw)]

    def pack(self, value):
        kind = type(value)
        if kind in ATOMS:
            return value
        if kind is np.ndarray:
            if value.dtype.kind not in NUMERIC_KINDS:
                return self._reference(value)
            return {"__ndarray__": self._bytes(value), "dtype": value.dtype.str, "shape": list(value.shape)}
        if isinstance(value, np.generic) and kind is value.dtype.type and value.dtype.kind in NUMERIC_KINDS:
            return {"__scalar__": self._bytes(np.asarray(value)), "dtype": value.dtype.str}
        if isinstance(value, Handle):
            return {"__handle__": value.id}
        if isinstance(value, _Mirror) and value.remote is not None and value.remote.id:
            return {"__handle__": value.remote.id}
        if kind is tuple:
            return {"__tuple__": [self.pack(v) for v in value]}
        if kind is list:
            return [self.pack(v) for v in value]
        if kind is dict and _keys_cross(value):
            return {"__dict__": [[_key(k), self.pack(v)] for k, v in value.items()]}
        for container, tag in ((tuple, "tuple"), (list, "list"), (dict, "dict")):
            if kind is not container and isinstance(value, container) and (container is not dict or _keys_cross(value)):
                return {"__mirror__": tag, "items": self.pack(container(value)), **self._reference(value)}
        return self._reference(value)

    def _reference(self, value) -> dict:
        return {"__handle__": self.keep(value) if self.keep is not None else 0, "type": type(value).__name__}


def pack(value, keep: Callable[[object], int] | None = None) -> tuple[object, bytes]:
    """``value`` as a JSON-ready structure and its payload (see Packer)."""
    packer = Packer(keep)
    return packer.pack(value), packer.payload()


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


# -- decoding -------------------------------------------------------------------

def decode(data, payload: bytes = b"", remote: Callable[[int, str], Handle] | None = None):
    """The value a Packer packed, its arrays read from ``payload``; never runs code.

    ``remote(id, type_name)`` makes the stand-in of a kept object (the grader's
    side); without it, references decode to plain Handles (the sandbox's side,
    which resolves them to its own objects). An array packed once for several
    places is one object in all of them.
    """
    return _Unpacker(payload, remote).decode(data)


class _Unpacker:
    """Decodes one message. The arrays it makes add up to at most the payload's size: an honest
    sender packs each array once (two places naming the same bytes as the same array decode to
    one object), so more can only come from a reply that names its payload again and again
    (an 8 MB payload named 200 times took a grader to 1.65 GB)."""

    def __init__(self, payload: bytes, remote) -> None:
        self.payload = payload
        self.remote = remote
        self.arrays: dict[tuple, np.ndarray] = {}
        self.budget = len(payload)

    def spend(self, nbytes: int) -> None:
        self.budget -= nbytes
        if self.budget < 0:
            raise Malformed("its arrays add up to more bytes than the message carries")

    def decode(self, data):
        if isinstance(data, list):
            return [self.decode(v) for v in data]
        if isinstance(data, dict):
            if "__ndarray__" in data:
                return self.array(data["__ndarray__"], data["dtype"], data["shape"])
            if "__scalar__" in data:
                scalar = _array(data["__scalar__"], data["dtype"], [], self.payload)
                self.spend(scalar.nbytes)
                return scalar[()]
            if "__tuple__" in data:
                return tuple(self.decode(v) for v in data["__tuple__"])
            if "__dict__" in data:
                return {_hashable(self.decode(k)): self.decode(v) for k, v in data["__dict__"]}
            if "__mirror__" in data:
                kind = MIRRORS[("tuple", "list", "dict").index(data["__mirror__"])]
                mirror = kind(self.decode(data["items"]))
                mirror.remote = _handle(data, self.remote)
                return mirror
            if "__handle__" in data:
                return _handle(data, self.remote)
            raise ValueError(f"unknown structure with keys {sorted(data)}")
        if data is None or isinstance(data, (bool, int, float, str)):
            return data
        raise ValueError(f"unexpected {type(data).__name__} on the wire")

    def array(self, where, dtype_name, shape) -> np.ndarray:
        key = (tuple(where), str(dtype_name), tuple(shape))
        array = self.arrays.get(key)
        if array is None:
            array = _array(where, dtype_name, shape, self.payload)
            self.spend(array.nbytes)
            self.arrays[key] = array
        return array


def _hashable(key):
    if isinstance(key, (list, dict)):
        raise ValueError("a dict key must be an atom or a tuple of atoms")
    return key


def _handle(data: dict, remote) -> Handle:
    number, type_name = int(data["__handle__"]), str(data.get("type", "object"))[:100]
    if number == 0 or remote is None:
        return Handle(number, type_name)
    return remote(number, type_name)


_DTYPES: dict[str, np.dtype] = {}


def _array(where, dtype_name, shape, payload: bytes) -> np.ndarray:
    dtype = _DTYPES.get(dtype_name)
    if dtype is None:
        dtype = np.dtype(str(dtype_name))
        if dtype.kind not in NUMERIC_KINDS:  # never object arrays: nothing decoded may run code
            raise ValueError(f"arrays of dtype {dtype} are not accepted")
        _DTYPES[dtype_name] = dtype
    offset, length = (int(n) for n in where)
    shape = tuple(int(n) for n in shape)
    count = math.prod(shape)
    if offset < 0 or length != count * dtype.itemsize or offset + length > len(payload):
        raise ValueError("an array that does not fit its payload")
    if count == 0:
        return np.empty(shape, dtype)
    return np.frombuffer(payload, dtype, count, offset).reshape(shape).copy()  # writable, and its own


# -- messages -------------------------------------------------------------------

class Message(NamedTuple):
    """A message as received: its JSON header, and the payload its arrays are read from."""

    header: dict
    payload: bytes


def send(stream: BinaryIO, header: dict, payload: bytes = b"") -> None:
    text = json.dumps(header).encode("utf-8")
    stream.write(FRAME.pack(len(text), len(payload)) + text)
    if payload:
        stream.write(payload)
    stream.flush()


def receive(stream: BinaryIO, max_header: int = MAX_MESSAGE) -> Message | None:
    """The next message, or None at end of stream (the other side is gone).

    Raises TooLarge for a message longer than MAX_MESSAGE or a header longer than
    ``max_header``, before reading it; Malformed for a header that is not a JSON object
    (nested too deep for the parser included).
    """
    frame = stream.read(FRAME.size)
    if len(frame) < FRAME.size:
        return None
    header_length, payload_length = FRAME.unpack(frame)
    if header_length + payload_length > MAX_MESSAGE:
        raise TooLarge(f"a message of {header_length + payload_length:,} bytes, "
                       f"more than the {MAX_MESSAGE:,} allowed")
    if header_length > max_header:
        raise TooLarge(f"a message whose header is {header_length:,} bytes, more than the {max_header:,} allowed")
    text, payload = stream.read(header_length), stream.read(payload_length)
    if len(text) < header_length or len(payload) < payload_length:
        return None
    try:
        header = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise Malformed(f"a message whose header is not JSON ({type(error).__name__})") from None
    if not isinstance(header, dict):
        raise Malformed(f"a message whose header is a {type(header).__name__}, not an object")
    return Message(header, payload)


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
