"""The wire format: a record as a frame on a connection, and frames back into records.

A frame is the record's payload with its length in front (4 bytes, network
order).  The payload is ``marshal`` of the plain tuple: fast, and unlike
pickle it cannot make the dashboard import or run anything, whatever a
watched program writes on its connection.  Every process of a run is the
same interpreter, so the format is the same at both ends.

A payload is at most ``MAX_RECORD_BYTES``: a record is a few dozen bytes,
and one too big to be a record (a huge item's text) loses its data rather
than its place in the story.  A reader takes a longer length for a stream
that is not ours and drops what it holds.
"""

from __future__ import annotations

import marshal
import struct
from typing import Any

from mpviz.telemetry.record import Event, Malformed, short

MAX_RECORD_BYTES = 4096 - 4
_LENGTH = struct.Struct("!I")
HEADER = _LENGTH.size

PLAIN = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    """``value`` made of plain types only (anything else as its short repr)."""
    if type(value) in PLAIN:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return short(value)


def encode(event: Event) -> bytes:
    try:
        payload = marshal.dumps(tuple(event))
    except ValueError:  # a value of a type marshal does not know (an enum, a user's class)
        payload = marshal.dumps((*event[:4], _plain(event.data)))
    if len(payload) > MAX_RECORD_BYTES:
        # Keep the record, drop what made it too big.
        payload = marshal.dumps((*event[:4], {"truncated": True}))
    return payload


def frame(event: Event) -> bytes:
    """The record with its length in front, as it goes down a connection."""
    payload = encode(event)
    return _LENGTH.pack(len(payload)) + payload


def decode(payload: bytes) -> Event:
    try:
        value = marshal.loads(payload)
    except (ValueError, EOFError, TypeError) as exc:  # all mean "malformed"
        raise Malformed(f"undecodable record: {exc.__class__.__name__}") from exc
    return validate(value)


def validate(value: Any) -> Event:
    if (
        isinstance(value, (tuple, list))
        and len(value) == 5
        and type(value[0]) is int
        and type(value[1]) is int
        and isinstance(value[2], str)
        and isinstance(value[3], str)
        and isinstance(value[4], dict)
    ):
        return Event(*value)
    raise Malformed(f"not an event: {short(value)}")


def frames(data: bytes | bytearray) -> int:
    """How many records (whole or begun) a run of frames holds."""
    pos = count = 0
    while pos < len(data):
        if len(data) - pos < HEADER:
            return count + 1
        pos += HEADER + _LENGTH.unpack_from(data, pos)[0]
        count += 1
    return count


class Splitter:
    """One connection's bytes, as they come, into records.

    ``malformed`` counts what was not a record: a frame that does not decode,
    and a length no record has (then the rest of the chunk is dropped: the
    stream is not ours).  ``pending`` is what is left of a record not yet
    complete."""

    def __init__(self) -> None:
        self.pending = bytearray()
        self.malformed = 0

    def feed(self, chunk: bytes) -> list[Event]:
        buf = self.pending
        buf += chunk
        got: list[Event] = []
        pos, end = 0, len(buf)
        while end - pos >= HEADER:
            (size,) = _LENGTH.unpack_from(buf, pos)
            if size > MAX_RECORD_BYTES:
                self.malformed += 1
                pos = end
                break
            if end - pos - HEADER < size:
                break
            try:
                got.append(decode(bytes(buf[pos + HEADER : pos + HEADER + size])))
            except Malformed:
                self.malformed += 1
            pos += HEADER + size
        del buf[:pos]
        return got
