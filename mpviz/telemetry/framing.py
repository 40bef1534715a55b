"""A record as a frame on a connection: its bytes and its bounds (what every process of a run writes);
and what the dashboard asks of a process on that connection, the other way.

A frame is the record's payload with its length in front (4 bytes, network
order).  The payload is ``marshal`` of the plain tuple: fast, and unlike
pickle it cannot make the dashboard import or run anything, whatever a
watched program writes on its connection.  Every process of a run is the
same interpreter, so the format is the same at both ends.

A payload is at most ``MAX_RECORD_BYTES``: a record is a few dozen bytes,
and one too big to be a record (a huge item's text) loses its data rather
than its place in the story.

Reading frames back, and the one check of a record, are :mod:`mpviz.telemetry.wire`'s, the
dashboard's: a module of their own, which a watched process never imports (its table of
every kind's fields costs each process ~1 M instructions).
"""

from __future__ import annotations

import marshal
import signal  # (loaded already: multiprocessing's process module imports it)
import struct

from mpviz.telemetry.record import Event, short

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_RECORD_BYTES = 4096 - 4
_LENGTH = struct.Struct("!I")
HEADER = _LENGTH.size
# An empty frame: no record, a process's word that its ring (mpviz.telemetry.ring) has some.
WAKE = _LENGTH.pack(0)

PLAIN = (str, int, float, bool, type(None))

# Bounds of a record's fields.  Numbers: times, pids, counts and sizes fit a
# C long and stay finite when added up.  Texts: a kind is a short dotted
# name, what a record is about (``obj``) a name, a field's text at most what
# a frame can carry; a printed line is cut at 1000 characters before it is a record.
MAX_INT = 2**63 - 1
MAX_FLOAT = 2.0**53
MAX_KIND = 64
MAX_OBJ = 1024
MAX_STRING = MAX_RECORD_BYTES
MAX_ITEMS = 64  # fields of a record's data
MAX_LIST = 1024  # items of a list in it (a stack's frames)
MAX_PID = 2**31 - 1


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
    if len(event.obj) > MAX_OBJ:  # a name of the program's (a process's), too long to be one
        event = event._replace(obj=short(event.obj))
    try:
        payload = marshal.dumps(tuple(event))
    except ValueError:  # a value of a type marshal does not know (an enum, a user's class)
        payload = marshal.dumps((*event[:4], _plain(event.data)))
    if len(payload) > MAX_RECORD_BYTES:
        # Keep the record, drop what made it too big: its data, and the end of a long name.
        payload = marshal.dumps((*event[:3], short(event.obj), {"truncated": True}))
    return payload


def frame(event: Event) -> bytes:
    """The record with its length in front, as it goes down a connection."""
    payload = encode(event)
    return _LENGTH.pack(len(payload)) + payload


def frame_size(data: bytes | bytearray, pos: int) -> int:
    """The size of the frame that starts at ``pos``, its length included."""
    return HEADER + _LENGTH.unpack_from(data, pos)[0]


def frames(data: bytes | bytearray) -> int:
    """How many records (whole or begun) a run of frames holds."""
    pos = n = 0
    while pos < len(data):
        if len(data) - pos < HEADER:
            return n + 1
        size = _LENGTH.unpack_from(data, pos)[0]
        pos += HEADER + size
        n += 1 if size else 0  # (a wake-up is no record)
    return n


# What the dashboard asks of a process, on its connection: an op byte and a request number.
REQUEST = struct.Struct("!cI")
STACKS = b"S"
# The dashboard's answers to a scheduling point (``turn.ask`` number N): go on; time out now;
# go on into a wait that blocks (then take a point again when it ends: ``mpviz.sync.turns``).
GO, EXPIRE, BLOCKS = b"G", b"E", b"B"
ANSWERS = (GO, EXPIRE, BLOCKS)


# A process that answers only once asked (a forkserver's child: see ``SocketReporter.serve_when_asked``)
# says so in its first record (``proc.stdio``, "woken": 1); the dashboard sends it this signal with its
# first request.  One of the real-time signals, which programs seldom use; a process whose program
# handles it already answers at once, as any other.
ASK_SIGNAL = signal.SIGRTMAX - 7


def stacks_request(req: int) -> bytes:
    """The dashboard's request for a process's stacks (answered with ``proc.stack`` records)."""
    return REQUEST.pack(STACKS, req)


def turn_answer(answer: bytes, n: int) -> bytes:
    """The dashboard's answer to a process's scheduling point number ``n`` (see ``mpviz.sync.turns``)."""
    return REQUEST.pack(answer, n)
