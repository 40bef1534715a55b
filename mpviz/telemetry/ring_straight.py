"""A ring's straight writes: a lock's acquire or release, a queue's put or get, packed into the ring
in one call, without a record built (``RingWriter.bare``, ``RingWriter.item``), once ``mpviz.sync``
has told the ring the call's site and thread (``learn``).

The writer's state is :class:`mpviz.telemetry.ring.RingWriter`'s; these are its fastest paths,
on every lock and queue operation of a watched program.  ``bare`` and ``item`` begin and end
alike (the caller's site and thread looked up, the token taken; the head published, the reader
woken if asleep): written out in each, not a call more on every operation.
"""

from __future__ import annotations

import struct
import sys
from _thread import get_ident

from mpviz.telemetry.ring_layout import (
    ASLEEP,
    AT,
    BARE_ENTRY,
    BARE_FIRST,
    BARE_SIZE,
    HEAD_WORD,
    HOT,
    HOT_CODE,
    HOT_ENTRY,
    HOT_SIZE,
    ITEM,
    MAX_ENTRY,
    NONE,
    NONE_TRUE,
    TH,
)

TYPE_CHECKING = False  # (not typing's: a watched program's processes import this module)
if TYPE_CHECKING:
    from mpviz.telemetry.record import Event

_getframe = sys._getframe
_pack_bare = BARE_ENTRY.pack_into


def bare_kind(kind: str) -> int | None:
    """A frequent kind's BARE entry's first word (for :meth:`RingWriter.bare`); None if the kind is
    not one of HOT's."""
    code = HOT_CODE.get(kind)
    return None if code is None else BARE_FIRST[code]


def hot_kind(kind: str) -> int:
    """A frequent kind's code in a HOT entry (for :meth:`RingWriter.item`); KeyError if the kind is
    not one of HOT's."""
    return HOT_CODE[kind]


# What a HOT entry of a queue's put or get carries (ITEM, NONE): its flags, by the item's being None.
_ITEM_FLAGS = (ITEM | NONE, ITEM | NONE | NONE_TRUE)
_pack_hot = HOT_ENTRY.pack_into


class Straight:
    """``RingWriter``'s straight writes (its base: the state below is the writer's)."""

    if TYPE_CHECKING:
        places: dict[int, tuple[object, int]]
        elsewhere: dict[int, tuple[object, int]]
        threads: dict[int, int]
        _texts: dict[str, int]
        _token: list[bool]
        _later: list[Event]
        _start: int
        _stop: int
        _head: int
        _mm: memoryview
        _words: memoryview

        def _catch_up(self) -> None: ...

        def wake(self) -> None: ...

    def bare(self, kind: int, obj: str, t_ns: int) -> bool:
        """A record of a frequent kind with no data (``kind``: :func:`bare_kind`'s), made by the
        caller's caller (a lock's acquire or release, called by the program), packed straight into the
        ring: its site and thread as mpviz.sync told this ring (:meth:`learn`).  False if it cannot be
        told here (a site, a thread or a name not told yet, the ring's end or full as last seen, another
        record in progress): the caller says it the long way (``record``), and tells this ring for next
        time.  (No look at forks: ``record.ring``, the way here, is None in a child just forked.)

        On every lock operation of a watched program: one Python call, no record built."""
        frame = _getframe(2)
        code = frame.f_code
        token = self._token
        try:  # (subscripts, not get: a dictionary's subscript is a step of its own for the interpreter)
            offset = frame.f_lasti
            place = self.places[offset]
            if place[0] is not code:  # (another code's site at this offset: see learn)
                place = self.elsewhere[id(code) + offset]
                if place[0] is not code:
                    return False
            th = self.threads[get_ident()]
            o = self._texts[obj]
            token.pop()
        except (KeyError, IndexError):
            return False
        try:
            start = self._start
            if start > self._stop or self._later:
                return False  # (the long way writes what waits first, and looks at the tail again)
            _pack_bare(self._mm, start, kind, o, place[1], t_ns, th)
            self._start = start + BARE_SIZE
            self._head = head = self._head + BARE_SIZE
            self._words[HEAD_WORD] = head
        except struct.error:  # (a field out of range: what it wrote is past the head, unread)
            return False
        finally:
            token.append(True)
        if self._later or self._mm[ASLEEP]:
            self._after_writing()
        return True

    def item(self, kind: int, obj: str, text: str, none: bool, t_ns: int) -> bool:
        """A queue's put or get (``kind``: :func:`hot_kind`'s) with its item's ``text`` and whether
        the item is None, made by the caller's caller, packed straight into the ring as a HOT entry:
        its site and thread as mpviz.sync told this ring (:meth:`learn`), as :meth:`bare` does.  False
        if it cannot be told here (the same cases as ``bare``'s, an entry that does not fit before the
        ring's end, a text too long): the caller says it the long way, and tells this ring for next time.

        On every put and get of a watched program: the long way (``say``: the walk up the stack for the
        site, then the record's data read field by field) costs ~3 µs, half a plain round trip's time;
        and all of it is taken from the queue's feeder thread, which waits for the interpreter meanwhile."""
        frame = _getframe(2)
        code = frame.f_code
        token = self._token
        try:
            offset = frame.f_lasti
            place = self.places[offset]
            if place[0] is not code:  # (as bare's)
                place = self.elsewhere[id(code) + offset]
                if place[0] is not code:
                    return False
            th = self.threads[get_ident()]
            o = self._texts[obj]
            token.pop()
        except (KeyError, IndexError):
            return False
        try:
            item = text.encode("utf-8", "surrogatepass")
            size = len(item)
            start = self._start
            # (_stop is the furthest an entry of HOT_SIZE may start: this one is longer by its item.)
            if start + size > self._stop or size > MAX_ENTRY - HOT_SIZE or self._later:
                return False
            n = HOT_SIZE + size
            flags = _ITEM_FLAGS[1 if none else 0] | (AT | TH if th else AT)
            _pack_hot(self._mm, start, n, HOT, t_ns, kind, flags, o, place[1] - 1, th, 0, 0)
            if size:
                self._mm[start + HOT_SIZE : start + n] = item
            self._start = start + n
            self._head = head = self._head + n
            self._words[HEAD_WORD] = head
        except (struct.error, UnicodeError):  # (a field out of range: what it wrote is past the head, unread)
            return False
        finally:
            token.append(True)
        if self._later or self._mm[ASLEEP]:
            self._after_writing()
        return True

    def _after_writing(self) -> None:
        """After an entry written past ``_write`` (``bare``, ``item``, ``record``): the records that waited
        for the token written, and the reader woken if it sleeps.  Called only when one of the two
        is so: the caller looks, in one step, and most operations find neither."""
        if self._later:
            self._catch_up()
        mm = self._mm
        if mm[ASLEEP]:
            mm[ASLEEP] = 0
            self.wake()

    def learn(self, code: object, offset: int, at: str) -> None:
        """What :meth:`bare` needs of an operation just written the long way: its site ``at``, found
        in the caller's frame (its ``code``, at instruction ``offset``), if this ring has defined it
        (not if the record waits in ``_later``).  (Its primitive's name is defined by that record
        too; its thread is told in ``threads`` by whoever knows when it ends.)"""
        a = self._texts.get(at)
        if a is not None:
            # By its offset alone, if no other code has told a site there: a small number, most often one
            # of the interpreter's own (below 257), found at once, where id(code) + offset, a new number
            # made for every operation, costs ~630 instructions of bare's ~7 000 (callgrind).  Functions
            # alike have their sites at the same offsets: the second one's goes by its code's id too.
            place = (code, a + 1)
            first = self.places.setdefault(offset, place)
            if first[0] is not code:
                self.elsewhere[id(code) + offset] = place
