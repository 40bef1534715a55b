"""A process's ring of records in shared memory: the writer (every watched process's side).

Each watched process writes its records into a ring of its own, a sealed
``memfd`` mapped in the process and, once handed over on its connection
(``SCM_RIGHTS``, with its first message), in the dashboard, which reads it
with :mod:`mpviz.telemetry.ring_reader`.  A record costs the writer a few
stores in memory and no system call: the dashboard drains the rings.  The
ring's layout (its header, its entries' forms) is :mod:`mpviz.telemetry.ring_layout`'s.

Wake-ups are batched: the reader sets ``asleep`` in a ring it found empty,
and the writer that finds it set clears it and sends one empty frame on its
connection (the socket the dashboard waits on anyway: no other descriptor to
hand over or to trust).  A reader that keeps finding records does not sleep:
it looks again a few milliseconds later, and the writer pays nothing.

A watched process loads this module when it first maps its ring, at its first
record into it (the reporter's ``_map_ring``; before a fork, in the thread that
forks): the standard library and the wire, nothing more.  The reader's module
is the dashboard's alone.
"""

from __future__ import annotations

import marshal
import os
import struct
import time

from mpviz.telemetry import record
from mpviz.telemetry.framing import MAX_OBJ, MAX_RECORD_BYTES, encode
from mpviz.telemetry.record import Event, operation_event
from mpviz.telemetry.ring_layout import (
    ASLEEP,
    AT,
    BARE_ENTRY,
    BARE_FIRST,
    BARE_SIZE,
    ENTRY,
    HEAD_WORD,
    HOT,
    HOT_CODE,
    HOT_ENTRY,
    HOT_SIZE,
    LOST_WORD,
    MARSHAL,
    MAX_TEXTS,
    PAGE,
    RING_BYTES,
    SAID,
    SAID_ENTRY,
    SAID_KIND,
    SAID_OVER,
    SAID_SIZE,
    TAIL_WORD,
    TEXT,
    TH,
    hot_fields,
    ring_file,
)
from mpviz.telemetry.ring_straight import Straight

TYPE_CHECKING = False  # (not typing's: loaded in a watched program's processes)
if TYPE_CHECKING:
    from typing import Any

# How often a print waits for another thread's record to end before it goes on the pipe, and how
# (the interpreter's own sleep, taken before a watched program's --speed replaces it: it lets go of
# the GIL, so the other thread can finish).
TAKE_TRIES = 20
_let_others_run = time.sleep


class RingWriter(Straight):
    """A process's side of its ring.  ``write`` never blocks and never makes a system call;
    it says whether the reader is asleep and must be woken (the caller wakes it)."""

    def __init__(self, size: int = RING_BYTES, fd: int | None = None) -> None:
        """A new ring (its descriptor in ``fd`` until :meth:`handed`), or the one ``fd`` holds
        (made by :func:`ring_file`, of ``size``; the caller keeps its descriptor)."""
        # (Here, not at the top: ctypes costs a process ~2 ms, and most write nothing for a while.)
        from mpviz.telemetry.mapping import Mapping

        made = fd is None
        if fd is None:
            fd = ring_file(size)
        try:
            self._map = Mapping(fd, PAGE + size)
        except BaseException:
            if made:
                os.close(fd)
            raise
        self._mm = self._map.view
        self._words = self._map.words
        self.fd: int | None = fd if made else None  # until handed over (then closed: see handed)
        self.size = size
        # The most the ring may hold before a HOT entry, and the last place one fits before the end.
        self._most = size - HOT_SIZE
        self._last = PAGE + size - HOT_SIZE
        self._mask = size - 1
        self._head = 0
        self._tail = 0  # the reader's, as last looked at
        # Where the head is in the mapping, and the furthest a BARE entry may start there (before the
        # end of the ring, and with room as last seen): kept with the head (``_moved``), so that ``bare``
        # computes neither.
        self._start = PAGE
        self._stop = min(self._last, PAGE + self._most)
        self._lost = 0
        self._texts: dict[str, int] = {}
        self._forks = record.forks
        self.pid = os.getpid()
        # Who writes holds the token: taken by a list's pop, given back by its append, each one step
        # of the interpreter (no thread switch, no signal handler in the middle).  A record that finds
        # it taken (another thread's, or this thread's own interrupted by a signal handler) never waits:
        # it goes into ``_later``, which whoever holds the token writes before its own record and again
        # after it gives the token back (``_catch_up``).  An RLock and a flag cost a record ~2 300
        # instructions of ~15 000; the token ~200.
        self._token = [True]
        self._later: list[Event] = []
        # What mpviz.sync told this ring (``learn``), for ``bare``: a user's instruction's site (its
        # number + 1) with its code, by its offset alone (the first code told one there), else by its
        # code's id and its offset (the code kept, so that its id is not reused); each thread's number in
        # records (0: the main thread), by its ident.  (A primitive's name: ``_texts``.)
        self.places: dict[int, tuple[object, int]] = {}
        self.elsewhere: dict[int, tuple[object, int]] = {}
        self.threads: dict[int, int] = {}

    def handed(self) -> None:
        """The ring is the dashboard's to read now: this process's descriptor of it is closed (a
        process it starts inherits no way to map it)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def forget(self) -> None:
        """In a child just forked: let go of the parent's ring (this process's mapping of it)."""
        self._token = [True]  # (another thread of the parent may have held it at the fork)
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self._map.close()

    def ours(self) -> bool:
        """False in a child forked since this writer was made: the parent's ring is not mapped there."""
        return self._forks == record.forks

    def write(self, event: Event) -> bool:
        """Put the record in the ring (or drop and count it if the ring is full).  True: the reader is
        asleep (the caller wakes it, after this call: the lock's release orders the two)."""
        t_ns, pid, kind, obj, data = event
        if pid != self.pid or kind not in HOT_CODE or not ({"at", "th"} & data.keys()):
            return self._write(kind, obj, data, "", 0, t_ns, event)
        rest = dict(data)
        at = rest.pop("at", "")
        th = rest.pop("th", 0)
        if type(at) is not str or type(th) is not int:
            return self._write(kind, obj, data, "", 0, t_ns, event)
        return self._write(kind, obj, rest, at, th, t_ns, event)

    def record(self, kind: str, obj: str, data: dict[str, Any] | None, at: str, th: int, t_ns: int) -> None:
        """An operation of this process, as ``mpviz.sync`` says it (its site and its thread apart, no
        record built: ``record.operation``); the reader woken (``wake``) if it sleeps.  Nothing in a
        child forked since this writer was made (the ring is its parent's).

        A frequent kind goes straight to ``_hot`` (not through ``_write``); one with no data (a lock's,
        an rlock's: most of a busy program's) is packed right here when its names are defined and it
        fits before the ring's end: a Python call is a good part of a record's cost."""
        if self._forks != record.forks:
            return
        code = HOT_CODE.get(kind)
        if code is None:
            if self._write(kind, obj, data, at, th, t_ns, None):
                self.wake()
            return
        token = self._token
        try:
            token.pop()
        except IndexError:  # another record in progress: this one follows it
            self._later.append(self._event(kind, obj, data, at, th, t_ns))
            self._catch_up()
        else:
            try:
                if self._later:
                    self._write_later()
                packed = False
                if data is None:
                    texts = self._texts
                    o = texts.get(obj)
                    a = texts.get(at) if at else 0
                    head = self._head
                    start = PAGE + (head & self._mask)
                    # (Else a name to define first, a full ring, or the ring's end: _hot's care.)
                    if o is not None and a is not None and head - self._tail <= self._most and start <= self._last:
                        try:
                            BARE_ENTRY.pack_into(self._mm, start, BARE_FIRST[code], o, a + 1 if at else 0, t_ns, th)
                            packed = True
                        except struct.error:  # (a field out of BARE's range: what it wrote is past the head, unread)
                            pass
                    if packed:
                        self._moved(head + BARE_SIZE)
                if not packed and not self._hot(code, obj, data, at, th, t_ns):
                    self._put(self._marshalled(self._event(kind, obj, data, at, th, t_ns)))
            finally:
                token.append(True)
        if self._later or self._mm[ASLEEP]:
            self._after_writing()

    def _catch_up(self) -> None:
        """The records waiting in ``_later`` written, unless another holds the token: it will (it
        looks at ``_later`` after it gives the token back, and so does this)."""
        token = self._token
        while self._later:
            try:
                token.pop()
            except IndexError:
                return
            try:
                self._write_later()
            finally:
                token.append(True)

    def _write_later(self) -> None:
        """With the token: the records waiting in ``_later``, in their order."""
        later = self._later
        while later:
            self.write_later(later.pop(0))

    @staticmethod
    def wake() -> None:
        """Wake the reader: the reporter's (it owns the connection), once the ring is handed over."""

    def _write(
        self, kind: str, obj: str, data: dict[str, Any] | None, at: str, th: int, t_ns: int, event: Event | None
    ) -> bool:
        """The record (``event``, or its parts: this process's, if there is no event) into the ring;
        True if the reader is asleep (and no longer marked so: the caller wakes it)."""
        token = self._token
        try:
            token.pop()
        except IndexError:  # another record in progress: this one follows it
            self._later.append(self._event(kind, obj, data, at, th, t_ns) if event is None else event)
            self._catch_up()
        else:
            try:
                if self._later:
                    self._write_later()
                own = event is None or event.pid == self.pid
                code = HOT_CODE.get(kind) if own else None
                if code is not None:
                    done = self._hot(code, obj, data, at, th, t_ns)
                else:
                    done = own and kind == SAID_KIND and not at and not th and self._said(obj, data, t_ns)
                if not done:
                    if event is None:
                        event = self._event(kind, obj, data, at, th, t_ns)
                    self._put(self._marshalled(event))
            finally:
                token.append(True)
            if self._later:
                self._catch_up()
        mm = self._mm
        if mm[ASLEEP]:
            mm[ASLEEP] = 0
            return True
        return False

    def take(self, event: Event) -> tuple[bool, bool]:
        """The record into the ring whole, or not at all (what a process printed: written on its pipe
        instead, so never lost, nor counted lost): (taken, the reader asleep — the caller wakes it).

        Another thread's record in progress is waited for a moment (a print is no hot path, and one
        that went on the pipe would send the stream's later lines there too, to stay in order); a
        signal handler's print in the middle of this thread's own record is not: the token never
        comes back while it waits."""
        token = self._token
        for _ in range(TAKE_TRIES):
            try:
                token.pop()
                break
            except IndexError:
                _let_others_run(0)
        else:
            return False, False
        try:
            if self._later:
                self._write_later()
            entry = self._marshalled(event)
            if self._head + len(entry) - self._tail > self.size:
                self._tail = self._words[TAIL_WORD]
                if self._head + len(entry) - self._tail > self.size:
                    return False, False  # full
            self._put(entry)
        finally:
            token.append(True)
        if self._later:
            self._catch_up()
        mm = self._mm
        if mm[ASLEEP]:
            mm[ASLEEP] = 0
            return True, True
        return True, False

    def write_later(self, event: Event) -> None:
        """With the token: a record that waited (made by a signal handler mid-record, or by another thread)."""
        code = HOT_CODE.get(event.kind)
        data = event.data
        if code is None or event.pid != self.pid or not self._hot(code, event.obj, data, "", 0, event.t_ns):
            self._put(self._marshalled(event))

    def _event(self, kind: str, obj: str, data: dict[str, Any] | None, at: str, th: int, t_ns: int) -> Event:
        return operation_event(kind, obj, data, at, th, t_ns, self.pid)

    def _put(self, entry: bytes) -> None:
        """With the token: an entry into the ring, or dropped and counted if there is no room."""
        n = len(entry)
        head = self._head
        if head + n - self._tail > self.size:
            self._tail = self._words[TAIL_WORD]
            if head + n - self._tail > self.size:
                self._lost += 1
                self._words[LOST_WORD] = self._lost
                return
        start = PAGE + (head & self._mask)
        end = start + n
        mm = self._mm
        if end <= PAGE + self.size:
            mm[start:end] = entry
        else:
            first = PAGE + self.size - start
            mm[start:] = entry[:first]
            mm[PAGE : PAGE + n - first] = entry[first:]
        self._moved(head + n)

    def _moved(self, head: int) -> None:
        """With the token: the head moved to ``head`` (its place in the mapping, and how far ``bare``
        may go, with it), and then told the reader."""
        self._head = head
        start = self._start = PAGE + (head & self._mask)
        stop = start + self._tail + self._most - head
        self._stop = stop if stop < self._last else self._last
        self._words[HEAD_WORD] = head

    @staticmethod
    def _marshalled(event: Event) -> bytes:
        payload = encode(event)
        return ENTRY.pack(ENTRY.size + len(payload), MARSHAL) + payload

    def _hot(self, code: int, obj: str, data: dict[str, Any] | None, at: str, th: int, t_ns: int) -> bool:
        """With the token: the record as a HOT entry into the ring (its names defined first if new),
        packed in place unless it wraps round the end; False if it has a field HOT does not carry, or
        one of another type (the caller marshals it)."""
        texts = self._texts
        o = texts.get(obj)
        if o is None:
            o = self._text(obj)
            if o is None:
                return False
        flags = value = of = a = 0
        if at:
            flags = AT
            known = texts.get(at)
            if known is None:
                known = self._text(at)
                if known is None:
                    return False
            a = known
        if th:
            flags |= TH
        item = b""
        try:
            if data:
                fields = hot_fields(data)
                if fields is None:
                    return False
                carried, value, of, item, lock = fields
                flags |= carried
                if lock is not None:
                    known = self._text(lock)
                    if known is None:
                        return False
                    of = known
            n = HOT_SIZE + len(item)
            head = self._head
            start = PAGE + (head & self._mask)
            if head + n - self._tail > self.size or start + n > PAGE + self.size:
                # Full as last seen (_put looks at the reader's tail again), or round the end.
                self._put(HOT_ENTRY.pack(n, HOT, t_ns, code, flags, o, a, th, value, of) + item)
                return True
            HOT_ENTRY.pack_into(self._mm, start, n, HOT, t_ns, code, flags, o, a, th, value, of)
        except (TypeError, AttributeError, struct.error, UnicodeError):
            return False  # a field of another type than the usual: the general form says it (nothing moved)
        if item:
            self._mm[start + HOT_SIZE : start + n] = item
        # (_moved's body: a Python call is a good part of a queue record's cost)
        self._head = head = head + n
        self._start = start = start + n
        stop = start + self._tail + self._most - head
        self._stop = stop if stop < self._last else self._last
        self._words[HEAD_WORD] = head
        return True

    def _said(self, obj: str, data: dict[str, Any] | None, t_ns: int) -> bool:
        """With the token: a ``proc.state`` of this process's as a SAID entry (its name defined first if
        new); False if it cannot be one (its data not a dict marshal takes, too big, a name that cannot
        be defined, a time out of the layout's range: the caller marshals the record, which says why)."""
        if type(data) is not dict or type(t_ns) is not int:
            return False
        o = self._texts.get(obj)
        if o is None:
            o = self._text(obj)
            if o is None:
                return False
        try:
            payload = marshal.dumps(data)
            entry = SAID_ENTRY.pack(SAID_SIZE + len(payload), SAID, t_ns, o)
        except (ValueError, struct.error):
            return False
        if len(payload) + 4 * len(obj) > MAX_RECORD_BYTES - SAID_OVER:
            return False
        self._put(entry + payload)
        return True

    def _text(self, text: str) -> int | None:
        """With the token: a name's number in this ring, defined (a TEXT entry) the first time; None if
        it cannot be (too many, too long, or no room: the record then goes as MARSHAL)."""
        known = self._texts.get(text)
        if known is not None:
            return known
        if type(text) is not str or len(self._texts) >= MAX_TEXTS or len(text) > MAX_OBJ:
            return None
        payload = text.encode("utf-8", "surrogatepass")
        lost = self._lost
        self._put(ENTRY.pack(ENTRY.size + len(payload), TEXT) + payload)
        if self._lost != lost:
            self._lost = lost  # not a record: nothing lost yet
            self._words[LOST_WORD] = lost
            return None
        self._texts[text] = n = len(self._texts)
        return n

    @property
    def lost(self) -> int:
        return self._lost
