"""The dashboard's side of a process's ring (:mod:`mpviz.telemetry.ring`): its records read back.

Nothing in a ring is believed: the dashboard knows whose ring it is from the
connection it came on (the kernel's pid), bounds ``head`` by what it has read
and the ring's size, decodes every entry with the wire's own check, and maps
only a sealed memfd (the writer cannot shrink it under the reader).

The dashboard's alone: a watched process imports the writer's module, never this one.
"""

from __future__ import annotations

import fcntl
import marshal
import os
import stat
from collections.abc import Callable
from typing import Any

from mpviz.telemetry.mapping import Mapping
from mpviz.telemetry.record import Event, Malformed, now_ns
from mpviz.telemetry.ring_layout import (
    ASLEEP,
    AT,
    BARE,
    BARE_FIELDS,
    END,
    END_1,
    ENTRY,
    HEAD_WORD,
    HOT,
    HOT_ENTRY,
    HOT_KINDS,
    ITEM,
    LOCK,
    LOST_WORD,
    MAGIC,
    MARSHAL,
    MAX_RING_BYTES,
    MAX_TEXTS,
    MIN_RING_BYTES,
    NONE,
    NONE_TRUE,
    PAGE,
    SAID,
    SAID_ENTRY,
    SAID_KIND,
    TAIL_WORD,
    TEXT,
    TH,
    VALUE,
    WAITED,
    WAITED_TRUE,
    N,
)
from mpviz.telemetry.wire import MAX_INT, MAX_ITEMS, MAX_OBJ, check, check_fields, plain_fields

# Pages are given back as they are read, this much at a time: a quiet ring costs a page or two.
RELEASE_BYTES = 1 << 16
# A take reads this much of a ring at most: a flooding process cannot hold up the others.
TAKE_BYTES = 1 << 18

_new = tuple.__new__
_HEADER = ENTRY.size
_HOT_SIZE = HOT_ENTRY.size
_BARE_SIZE = BARE_FIELDS.size
_SAID_SIZE = SAID_ENTRY.size
# A HOT entry's flags beyond its site and thread: rarer, decoded by a call of their own.
_MORE = ~(AT | TH)
# Of those, what a queue's put or get carries: decoded in the loop too.
_ITEM_ONLY = AT | TH | ITEM | NONE | NONE_TRUE


class RingReader:
    """The dashboard's side of one process's ring: what it handed over, checked before it is mapped."""

    def __init__(self, fd: int) -> None:
        """Takes ``fd`` (closed here, whatever happens).  ValueError: not a ring."""
        try:
            st = os.fstat(fd)
            size = st.st_size - PAGE
            if not stat.S_ISREG(st.st_mode) or size & (size - 1) or not MIN_RING_BYTES <= size <= MAX_RING_BYTES:
                raise ValueError("not a ring: its size")
            seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS)
            if not seals & fcntl.F_SEAL_SHRINK:
                raise ValueError("not a ring: it could shrink under its reader")
            self._map = Mapping(fd, PAGE + size)
        except OSError as exc:
            raise ValueError(f"not a ring: {exc}") from None
        finally:
            os.close(fd)
        self._mm = self._map.view
        self._words = self._map.words
        if self._mm[: len(MAGIC)] != MAGIC:
            self._map.close()
            raise ValueError("not a ring: its mark")
        self.size = size
        self._mask = size - 1
        self._tail = 0
        self._texts: list[str | None] = []
        self.lost = 0  # as the writer says, never less than it said before
        self.malformed = 0

    def pending(self) -> bool:
        return self._words[HEAD_WORD] != self._tail

    def arm(self) -> None:
        """Ask to be woken by the next record.  The caller orders this store before its next look
        at ``pending`` (a lock: a barrier), else a record written meanwhile may wake nobody."""
        self._mm[ASLEEP] = 1

    def disarm(self) -> None:
        self._mm[ASLEEP] = 0

    def take(self, pid: int, into: list[Event]) -> int:
        """The records written since the last take (``TAKE_BYTES`` of them at most: the other rings
        and connections get their turn), as ``pid``'s (the writer's word on whose they are is never
        asked), checked, into ``into``; and a ``proc.lost`` if it dropped more.  Returns how many
        were taken."""
        head = self._words[HEAD_WORD]
        n = head - self._tail
        if n < 0 or n > self.size:
            self.malformed += 1  # a head no writer of ours writes: skip to it
            self._skip(head)
            return 0
        got = 0
        if n:
            whole = n <= TAKE_BYTES
            n = min(n, TAKE_BYTES)
            start = self._tail & self._mask
            first = min(n, self.size - start)
            # Copied once (the writer's bytes read once, whatever it does meanwhile); across the
            # ring's end, both parts joined in the one copy.
            if first == n:
                data = bytes(self._mm[PAGE + start : PAGE + start + n])
            else:
                data = b"".join((self._mm[PAGE + start : PAGE + start + first], self._mm[PAGE : PAGE + n - first]))
            got, used = self._entries(data, pid, into, whole)
            self._release(self._tail, self._tail + used)
            self._skip(self._tail + used)
        lost = self._words[LOST_WORD]
        if lost > self.lost:
            into.append(Event(now_ns(), pid, "proc.lost", "", {"n": min(lost - self.lost, 2**62)}))
            self.lost = lost
        return got

    def take_all(self, pid: int, into: list[Event]) -> int:
        """Everything the ring holds (at most a ring's worth: a writer that keeps writing cannot keep
        this going)."""
        got = 0
        for _ in range(self.size // TAKE_BYTES + 1):
            got += self.take(pid, into)
            if not self.pending():
                break
        return got

    def _release(self, tail: int, head: int) -> None:
        """The whole pages read between ``tail`` and ``head`` given back, before the writer may write
        there again (the tail is published after this)."""
        first = -(-tail // PAGE) * PAGE
        last = head // PAGE * PAGE
        if last - first < RELEASE_BYTES:
            return
        start = first & self._mask
        length = last - first
        upto = min(length, self.size - start)
        self._map.release(PAGE + start, upto)
        if upto < length:
            self._map.release(PAGE, length - upto)

    def _skip(self, head: int) -> None:
        self._tail = head
        self._words[TAIL_WORD] = head

    def _entries(self, data: bytes, pid: int, into: list[Event], whole: bool) -> tuple[int, int]:
        """The entries of ``data`` into ``into``: how many records, and how many bytes were used
        (``whole``: ``data`` ends where the writer's last entry ends; else the entry it cuts is
        left for the next take).  The data of its SAID entries (reports) are checked at once, after
        (see ``wire.plain_fields``); one by one, the bad ones taken out, if they may not pass."""
        start, said = len(into), list[dict[Any, Any]]()
        got, used = self._decode(data, pid, into, whole, said.append)
        if said and not plain_fields(SAID_KIND, said):
            kept = []
            for event in into[start:]:
                if event[2] is SAID_KIND and event[4]:
                    try:
                        check_fields(SAID_KIND, event[4], None)
                    except Malformed:
                        self.malformed += 1
                        got -= 1
                        continue
                kept.append(event)
            into[start:] = kept
        return got, used

    def _decode(
        self, data: bytes, pid: int, into: list[Event], whole: bool, said_fields: Callable[[dict[Any, Any]], None]
    ) -> tuple[int, int]:
        """``_entries``, the data of each SAID entry given to ``said_fields`` unchecked.

        Nearly every entry of a busy ring is a HOT one: it is decoded here, without a call, its
        header and body unpacked at once (the tag looked at first), names and unpackers bound
        once.  Checked as it is read, to what ``wire.check`` asks of its kind: every field's type
        is fixed by the layout, and its bounds are checked here (a time that is not negative, a
        value within 64 bits both ways, names defined and short)."""
        pos, end, got = 0, len(data), 0
        texts = self._texts
        append = into.append
        header = ENTRY.unpack_from
        hot = HOT_ENTRY.unpack_from
        bare = BARE_FIELDS.unpack_from
        said = SAID_ENTRY.unpack_from
        loads = marshal.loads
        kinds = HOT_KINDS
        while end - pos >= _HEADER:
            tag = data[pos + 2]
            if tag == HOT and end - pos >= _HOT_SIZE:
                size, _, t_ns, code, flags, obj, at, th, value, of = hot(data, pos)
                stop = pos + size
                if size >= _HOT_SIZE and stop <= end:
                    try:
                        name = texts[obj]
                        if t_ns < 0 or name is None or value < -MAX_INT or of < -MAX_INT:
                            raise Malformed("a HOT entry out of bounds")
                        if flags & AT:
                            site = texts[at]
                            if site is None:
                                raise Malformed("a HOT entry naming a name not defined")
                            fields: dict[str, Any] = {"at": site}
                        else:
                            fields = {}
                        if flags & TH:
                            fields["th"] = th
                        if flags & _MORE:
                            if (flags & _ITEM_ONLY) == flags:  # a queue's put or get: its item, maybe none
                                if flags & ITEM:
                                    fields["item"] = data[pos + _HOT_SIZE : stop].decode("utf-8", "replace")
                                if flags & NONE:
                                    fields["none"] = (flags & NONE_TRUE) != 0
                            else:
                                self._more(fields, flags, value, of, data[pos + _HOT_SIZE : stop])
                        append(_new(Event, (t_ns, pid, kinds[code], name, fields)))
                        got += 1
                    except (Malformed, IndexError):
                        self.malformed += 1
                    pos = stop
                    continue
            if tag == BARE and end - pos >= _BARE_SIZE:  # a lock's record: its site and thread alone
                size, _, code, obj, at, t_ns, th = bare(data, pos)
                if size == _BARE_SIZE:
                    try:
                        name = texts[obj]
                        site = texts[at - 1] if at else ""
                        if t_ns < 0 or name is None or site is None:
                            raise Malformed("a BARE entry out of bounds")
                        fields = {"at": site} if at else {}
                        if th:
                            fields["th"] = th
                        append(_new(Event, (t_ns, pid, kinds[code], name, fields)))
                        got += 1
                    except (Malformed, IndexError):
                        self.malformed += 1
                    pos += size
                    continue
            if tag == SAID and end - pos >= _SAID_SIZE:  # a lesson's report: its data alone marshalled
                size, _, t_ns, obj = said(data, pos)
                stop = pos + size
                if size >= _SAID_SIZE and stop <= end:
                    try:
                        name = texts[obj]
                        fields = loads(data[pos + _SAID_SIZE : stop])
                        if t_ns < 0 or name is None or type(fields) is not dict or len(fields) > MAX_ITEMS:
                            raise Malformed("a SAID entry out of bounds")
                        said_fields(fields)  # (checked as wire.check checks a record's data: see _entries)
                        append(_new(Event, (t_ns, pid, SAID_KIND, name, fields)))
                        got += 1
                    except (Malformed, IndexError, ValueError, EOFError, TypeError):
                        self.malformed += 1
                    pos = stop
                    continue
            # Any other entry; or a HOT, BARE or SAID one too short to be one, or cut by the end of ``data``.
            size, tag = header(data, pos)
            stop = pos + size
            if stop > end or size < _HEADER:
                if size >= _HEADER and not whole:
                    return got, pos  # cut by the bound of a take: the rest next time
                self.malformed += 1
                return got, end  # the rest cannot be cut into entries
            try:
                if tag == MARSHAL:
                    # Its pid as it says: the caller believes it or not, as for a connection's records.
                    append(check(marshal.loads(data[pos + _HEADER : stop])))
                    got += 1
                elif tag == TEXT and len(texts) < MAX_TEXTS:
                    # A name too long to be one keeps its number (the writer's count), unusable.
                    text = data[pos + _HEADER : pos + min(size, _HEADER + 4 * MAX_OBJ)].decode("utf-8", "replace")
                    texts.append(text if size - _HEADER <= 4 * MAX_OBJ and len(text) <= MAX_OBJ else None)
                else:
                    self.malformed += 1  # a HOT entry too short to be one, a tag not known, a name too many
            except (Malformed, ValueError, EOFError, TypeError):
                self.malformed += 1
            pos = stop
        if pos < end and whole:
            self.malformed += 1  # a few bytes that cannot be an entry
        return got, pos if not whole else end

    def _more(self, fields: dict[str, Any], flags: int, value: int, of: int, item: bytes) -> None:
        """A HOT entry's fields after its site and thread (a semaphore's value, a condition's lock …),
        into ``fields``, in the layout's order."""
        if flags & VALUE:
            fields["value"] = value
            fields["of"] = of
        if flags & ITEM:
            fields["item"] = item.decode("utf-8", "replace")
        if flags & NONE:
            fields["none"] = bool(flags & NONE_TRUE)
        if flags & WAITED:
            fields["waited"] = bool(flags & WAITED_TRUE)
        if flags & END:
            fields["end"] = 1 if flags & END_1 else 0
        if flags & N:
            fields["n"] = value
        if flags & LOCK:
            lock = self._texts[of] if of >= 0 else None
            if lock is None:
                raise Malformed("a HOT entry naming a name not defined")
            fields["lock"] = lock

    def close(self) -> None:
        self._map.close()
