"""A safe wire format between the grader and a sandboxed submission.

Values cross the process boundary as JSON, with NumPy arrays as raw bytes
plus dtype and shape (numeric dtypes only). Nothing the submission sends can run code in the
grader: there is no pickle anywhere. Values that cannot be encoded (a cache of
any Python type, a function) stay in the sandbox and travel as a ``Handle``.

Encodable: None, bool, int, float, str, NumPy arrays and scalars of numeric
dtype, and tuples, lists and str-keyed dicts of encodable values.
"""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

HEADER = struct.Struct(">Q")  # message length, 8 bytes big-endian
#: The largest message accepted. The checks exchange small arrays; a submission
#: that returns more is stopped before the grader spends memory on it.
MAX_MESSAGE = 64 * 1024 * 1024
#: Characters of a submission's printed output kept (the rest is counted).
OUTPUT_LIMIT = 20_000


def bounded(kept: str, total: int | None = None) -> str:
    """The first OUTPUT_LIMIT characters of a text of ``total`` characters (default: all of ``kept``),
    with a note of how many were dropped."""
    total = len(kept) if total is None else total
    dropped = total - min(len(kept), OUTPUT_LIMIT)
    return kept[:OUTPUT_LIMIT] + (f"\n[... {dropped} more characters not kept]" if dropped > 0 else "")


@dataclass(frozen=True)
class Handle:
    """A value that lives in the sandbox, referred to by number."""

    id: int


#: Stands for a part that is not sent back (an opaque object the sandbox keeps).
OPAQUE = Handle(0)


class NotEncodable(TypeError):
    """The value cannot cross the wire (it becomes a Handle instead)."""


class TooLarge(ValueError):
    """A message longer than MAX_MESSAGE."""


def encode(value, keep=None):
    """A JSON-ready structure for ``value``.

    ``keep``, if given, is called with every part that cannot be encoded and
    returns a Handle for it (the sandbox keeps the object); without it such a
    part raises NotEncodable.
    """
    try:
        return _encode(value, keep)
    except NotEncodable:
        if keep is None:
            raise
        return _encode(keep(value), None)


def _encode(value, keep):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise NotEncodable(f"array of dtype {value.dtype}")
        # Raw bytes, dtype and shape: as safe as .npy without pickle, and much faster
        # to read back than parsing an .npy header for each of thousands of arrays.
        data = np.ascontiguousarray(value)
        return {"__ndarray__": base64.b64encode(data.tobytes()).decode("ascii"),
                "dtype": data.dtype.str, "shape": list(data.shape)}
    if isinstance(value, Handle):
        return {"__handle__": value.id}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, keep) for v in value]}
    if isinstance(value, list):
        return [encode(v, keep) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise NotEncodable("dict with non-string keys")
        return {"__dict__": [[k, encode(v, keep)] for k, v in value.items()]}
    raise NotEncodable(type(value).__name__)


def decode(data):
    """The value ``encode`` produced; never runs code."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if isinstance(data, dict):
        if "__ndarray__" in data:
            return _array(data)
        if "__tuple__" in data:
            return tuple(decode(v) for v in data["__tuple__"])
        if "__dict__" in data:
            return {str(k): decode(v) for k, v in data["__dict__"]}
        if "__handle__" in data:
            return Handle(int(data["__handle__"]))
        raise ValueError(f"unknown structure with keys {sorted(data)}")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    raise ValueError(f"unexpected {type(data).__name__} on the wire")


def _array(data: dict) -> np.ndarray:
    dtype = np.dtype(str(data["dtype"]))
    if dtype.kind not in "biuf":  # never object arrays: nothing decoded may run code
        raise ValueError(f"arrays of dtype {dtype} are not accepted")
    shape = tuple(int(n) for n in data["shape"])
    raw = base64.b64decode(data["__ndarray__"])
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()  # a writable array of its own


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


def write_back(original, after) -> None:
    """Make ``original`` (arrays, lists, dicts, nested) equal to ``after`` in place.

    ``after`` is the decoded state of the same arguments after a call in the
    sandbox. Arrays are overwritten element-wise, dict entries and list items
    replaced, so the caller sees in-place changes the function made. Opaque
    parts (Handles) are left alone; tuples are immutable, so only their
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
