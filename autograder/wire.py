"""A safe wire format between the grader and a sandboxed submission.

Values cross the process boundary as JSON, with NumPy arrays as ``.npy`` bytes
written without pickle. Nothing the submission sends can run code in the
grader: there is no pickle anywhere. Values that cannot be encoded (a cache of
any Python type, a function) stay in the sandbox and travel as a ``Handle``.

Encodable: None, bool, int, float, str, NumPy arrays and scalars of numeric
dtype, and tuples, lists and str-keyed dicts of encodable values.
"""

from __future__ import annotations

import base64
import io
import json
import struct
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

HEADER = struct.Struct(">Q")  # message length, 8 bytes big-endian
MAX_MESSAGE = 512 * 1024 * 1024


@dataclass(frozen=True)
class Handle:
    """A value that lives in the sandbox, referred to by number."""

    id: int


class NotEncodable(TypeError):
    """The value cannot cross the wire (it becomes a Handle instead)."""


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
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        return {"__ndarray__": base64.b64encode(buffer.getvalue()).decode("ascii")}
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
            raw = base64.b64decode(data["__ndarray__"])
            return np.load(io.BytesIO(raw), allow_pickle=False)
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
        raise ValueError(f"message of {length} bytes is larger than {MAX_MESSAGE}")
    payload = stream.read(length)
    if len(payload) < length:
        return None
    return json.loads(payload.decode("utf-8"))
