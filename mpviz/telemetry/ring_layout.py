"""A process's ring of records in shared memory: its memory and layout, what its writer and its reader both know.

The writer (:mod:`mpviz.telemetry.ring`, in every watched process) and the
reader (:mod:`mpviz.telemetry.ring_reader`, the dashboard's) each import this
module, never each other.  The layout, one page of header (native words: the
same interpreter at both ends) then the data::

    0   magic "MPVR", version          (writer, once)
    64  head: bytes ever written       (writer)
    72  lost: records dropped, full    (writer)
    128 tail: bytes ever read          (reader)
    192 asleep: 1 while the reader waits for a wake-up (reader sets, writer clears)
    4096 … the data, a power of two bytes

The counters are native 8-byte words, each read and written whole.  An entry is ``u16 size, u8 tag``
then its payload; a record is never split
from its header, but the data wraps around the end.  Tags: ``MARSHAL`` (the
wire's payload, any record), ``HOT`` (a fixed ``struct`` for the frequent
kinds: acquire, release, wait, put, get …), ``BARE`` (a shorter one for those
with no data: a lock's acquired and released), ``SAID`` (a ``proc.state``, what
a lesson's ``report`` says: its time and name fixed, its data alone marshalled),
``TEXT`` (a name defined once per ring, then named by its number in ``HOT``,
``BARE`` and ``SAID`` entries).

Measured before choosing (``marshal.dumps`` of a lock record's tuple 1.05 µs,
``struct.pack`` of the fixed layout 0.20 µs, the frame 2.0 µs), the frequent
kinds go as ``HOT`` and the rest as ``MARSHAL``.

The standard library and the wire's bounds, nothing more: every process of a watched program imports it.
"""

from __future__ import annotations

import fcntl
import os
import struct
import sys

from mpviz.telemetry.framing import MAX_RECORD_BYTES

TYPE_CHECKING = False  # (not typing's: a watched program's every process imports this module)
if TYPE_CHECKING:
    from typing import Any

# A ring's data: 4 MiB (about 100 000 lock records) holds a burst while the dashboard is busy; its
# pages are given back as they are read (ring_reader.RELEASE_BYTES at a time), so a quiet ring
# costs a page or two.
RING_BYTES = 1 << 22
# The bounds of a ring's data (a power of two between them): the reader refuses a ring outside them.
MIN_RING_BYTES = 1 << 12
MAX_RING_BYTES = 1 << 26
PAGE = 4096

MAGIC = b"MPVR\x01\x00\x00\x00"
HEAD, LOST, TAIL, ASLEEP = 64, 72, 128, 192
# The header's counters are native 8-byte words, read and written through a memoryview of them
# (``words``): each store and load is one, whole.  Not struct.pack_into: it zeroes its bytes before it
# writes them, so a reader could see a head of 0 for a moment (measured: records read twice, or lost).
HEAD_WORD, LOST_WORD, TAIL_WORD = HEAD // 8, LOST // 8, TAIL // 8

ENTRY = struct.Struct(
    "=HB"
)  # (native order, no padding: the same bytes as HOT's "<" on the little-endian machines it runs on)
MARSHAL, HOT, TEXT, BARE, SAID = 0, 1, 2, 3, 4
MAX_ENTRY = ENTRY.size + MAX_RECORD_BYTES

# The frequent kinds, by number: a HOT entry names its kind by its place here.
HOT_KINDS = tuple(
    [f"{family}.{op}" for family in ("lock", "rlock", "sem") for op in ("wait", "acquired", "released", "timeout")]
    + ["queue.put", "queue.get", "queue.put_blocked", "queue.get_blocked", "queue.task_done"]
    + ["event.wait", "event.woke", "event.set", "event.clear", "event.timeout"]
    + ["cond.wait", "cond.woke", "cond.timeout", "cond.notify", "cond.notify_all"]
    + ["pipe.send", "pipe.recv", "pipe.recv_blocked"]
)
HOT_CODE = {kind: i for i, kind in enumerate(HOT_KINDS)}
# t_ns, kind, flags (which fields), obj, at, th, value, of; then the item's text (flag ITEM), to the entry's end.
HOT_BODY = struct.Struct("<qBHIIIqq")
HOT_ENTRY = struct.Struct("<HB" + HOT_BODY.format[1:])
HOT_SIZE = HOT_ENTRY.size
AT, TH, VALUE, ITEM, NONE, NONE_TRUE, WAITED, WAITED_TRUE, END, END_1, N, LOCK = (1 << i for i in range(12))
MAX_TEXTS = 1 << 14  # names a ring may define (each at most MAX_OBJ characters)


def hot_fields(data: dict[str, Any]) -> tuple[int, int, int, bytes, str | None] | None:
    """What a HOT entry carries of a record's data: its flags, value, of, the item's text as bytes,
    and the name of a lock (a condition's: its number goes in ``of`` once the writer has defined it);
    None if the data has a field HOT does not carry.  (A field of another type raises: TypeError,
    AttributeError or UnicodeError; the writer then marshals the record.)"""
    flags = value = of = 0
    item = b""
    lock = None
    for key, v in data.items():  # (a queue's item and none first: the most frequent)
        if key == "item":
            flags |= ITEM
            item = v.encode("utf-8", "surrogatepass")
        elif key == "none":
            flags |= NONE | (NONE_TRUE if v else 0)
        elif key == "value":
            flags |= VALUE
            value = v
        elif key == "of":
            of = v
        elif key == "waited":
            flags |= WAITED | (WAITED_TRUE if v else 0)
        elif key == "end":
            flags |= END | (END_1 if v else 0)
        elif key == "n":
            flags |= N
            value = v
        elif key == "lock":
            flags |= LOCK
            lock = v
        else:
            return None
    if ((flags & VALUE) and "of" not in data) or len(item) > MAX_ENTRY - HOT_SIZE:
        return None
    return flags, value, of, item, lock


# A record of a frequent kind with no data but its site and thread (a lock's acquired and released:
# most of a busy program's), in 20 bytes: size, tag, kind, obj, site + 1 (0: none), t_ns, th.  The
# writer packs its first four bytes as one native word it keeps made (``BARE_FIRST``, by kind) and its
# time with struct's native long: the standard "q" turns a time (a two-digit int) into bytes through
# _PyLong_AsByteArray, ~200 instructions a field.  (Not the first eight bytes as one word, obj and site
# OR-ed in: two ORs of 64-bit ints cost more than two native shorts packed, ~340 instructions an entry.)
BARE_FIELDS = struct.Struct("=HBBHHqI")  # the reader's view
_LONG = "l" if struct.calcsize("l") == 8 else "q"
BARE_ENTRY = struct.Struct("@IHH" + _LONG + "I")  # the writer's: first word, obj, site + 1, t_ns, th
BARE_SIZE = BARE_FIELDS.size
assert BARE_ENTRY.size == BARE_SIZE
_FIRST = struct.Struct("=HBB")  # the first word's fields
BARE_FIRST = tuple(int.from_bytes(_FIRST.pack(BARE_SIZE, BARE, code), sys.byteorder) for code in range(len(HOT_KINDS)))


# A process's ``proc.state`` (``report``: a lesson's hot path, and a flood's) in its fixed part: size,
# tag, t_ns, the name's number; then ``marshal`` of its data alone, to the entry's end.  Measured: the
# reader's marshal.loads and wire.check of the whole record 0.87 µs, of the data alone 0.3 µs.
SAID_KIND = "proc.state"
SAID_ENTRY = struct.Struct("<HBqI")
SAID_SIZE = SAID_ENTRY.size
# What the whole record's marshal takes beyond its data's and its name's text (4 bytes a character at
# most): its tuple, time, pid and kind, the name's header (42 bytes at most).  A record whose data
# comes near the wire's bound is marshalled whole, and cut there as any record is.
SAID_OVER = 48


def supported() -> bool:
    return hasattr(os, "memfd_create") and hasattr(fcntl, "F_ADD_SEALS")


def ring_file(size: int = RING_BYTES) -> int:
    """A new ring's memory, not mapped yet: a sealed memfd (it can neither shrink nor grow) of
    ``size`` bytes of data, its header marked.  Its reader may map it at once (an empty ring); its
    writer maps it when it first writes (``ring.RingWriter``)."""
    if size & (size - 1) or not MIN_RING_BYTES <= size <= MAX_RING_BYTES:
        raise ValueError(f"a ring's size is a power of two in [{MIN_RING_BYTES}, {MAX_RING_BYTES}]")
    fd = os.memfd_create("mpviz-ring", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        os.ftruncate(fd, PAGE + size)
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
        os.pwrite(fd, MAGIC, 0)
    except BaseException:
        os.close(fd)
        raise
    return fd
