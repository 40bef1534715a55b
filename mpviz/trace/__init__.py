"""A run as a Perfetto / Chrome trace: ``mpviz export FILE.jsonl -o trace.json`` and ``--trace-out``.

The JSON trace event format, as ui.perfetto.dev and chrome://tracing open it:

* a process per process of the run (``M`` ``process_name``); on its own track
  (tid = pid) a slice for each stretch it could not run: waiting for a lock,
  blocked on a get, waiting for an event, asleep, paused;
* a track per primitive it held (``holds 'fork 0'``): a slice per hold;
* a track of hand-overs: a zero-length slice at each end of a flow arrow
  (flow v2: ``bind_id`` with ``flow_out`` on the cause, ``flow_in`` on the
  effect), from a release to the acquire it let through, a put to the get
  that took that item, a ``set()`` to each wait it woke, a send to its recv;
* counters (``C``) for semaphore values, queue depths and event flags, on a
  process of their own, "primitives";
* an instant (``i``, global) when an anomaly (a deadlock, a hang) appears.

Times are microseconds from the run's first record.  The model is fed the
records as the dashboard is, and the slices follow what it says.

Written in time order (each track's slices nested, as the format's viewers
draw them) in bounded memory, however long the run (:class:`Timeline`).  A
slice is known only when it ends, but the builder knows the earliest moment any
event still to come can be at: the start of a slice still open, a cause still
waiting for its effect, or now.  Events before that moment are in place and go
straight to a temporary file, as the trace will hold them; the few after it wait
in memory.  A moment that keeps the rest waiting too long (a process that waits
for the whole run, an item put and never got) becomes a *hole*: its events are
kept aside and put in at their place in the stream once nothing more can come
at that moment.  The trace file is then the names, then the stream and the
holes copied as they are.

Here: the time order and the trace's times.  The records made into events:
:mod:`mpviz.trace.builder` (:class:`~mpviz.trace.builder.TraceBuilder`), its
arrows :mod:`mpviz.trace.handovers`.
"""

from __future__ import annotations

import operator
import tempfile
from bisect import bisect_left
from typing import IO

# Events waiting to be put in place: at this many the builder settles them (more often when it has
# more to look at), and past ``MOST_WAITING`` the moments that hold them back become holes.
SETTLE_EVENTS = 10_000
MOST_WAITING = 100_000

# Times are written in microseconds, exact to the nanosecond, as a float's shortest form
# (``repr(ns / 1000)``).  Made from the integer, as the same text, for any time below 10**15 ns (eleven
# days: fifteen digits, which a float holds exactly), and twice as quickly: there are two or three a
# record.
_FRACTIONS = [f".{n:03d}".rstrip("0") if n else ".0" for n in range(1000)]
_EXACT_NS = 10**15


def _us(ns: int) -> str:
    """Nanoseconds as the trace's microseconds: ``repr(ns / 1000)``."""
    if 0 <= ns < _EXACT_NS:
        return f"{ns // 1000}{_FRACTIONS[ns % 1000]}"
    return repr(ns / 1000)


# An event waiting for its place: (at, minus how long it lasts, serial number, its line of JSON).  In
# this order: by time, a longer slice before the ones it holds, equal ones in the order they came.
Timed = tuple[int, int, int, str]
_line_of = operator.itemgetter(3)


class Timeline:
    """Trace events (each a line of JSON) put in time order as they come, in bounded memory: see
    the module.  Times ("at") are nanoseconds from the trace's start.

    Events wait in ``waiting`` until :meth:`settle` is told the moments before which nothing more
    can come; those before the earliest go to the stream, a temporary file of lines as the trace
    holds them (each followed by ``,\\n``).  A moment that became a hole has its events kept
    aside, not in the stream; once it is no longer one of the moments told, nothing more can come
    at it and its events go to a second temporary file, with the place in the stream they go at."""

    def __init__(self) -> None:
        self.waiting: list[Timed] = []
        self.serial = 0
        self.settle_at = SETTLE_EVENTS  # settle when this many events wait
        self.holes = 0  # moments that became holes, over the run
        self._floor = 0  # every event in the stream is before it; every one still to come at or after it, or in a hole
        self._stream = tempfile.TemporaryFile(prefix="mpviz-trace-")  # noqa: SIM115 - closed by close()
        self._streamed = 0  # bytes in the stream
        self._holes: dict[int, list[Timed]] = {}  # a moment → its events so far
        self._hole_places: dict[int, int] = {}  # a moment → where in the stream its events go
        self._kept = tempfile.TemporaryFile(prefix="mpviz-trace-")  # noqa: SIM115 - closed by close()
        self._kept_bytes = 0
        self._filled: list[tuple[int, int, int, int]] = []  # holes done: (place, moment, offset in _kept, bytes)

    def add(self, at: int, lasts: int, line: str) -> None:
        """An event ``at`` from the trace's start, lasting ``lasts``."""
        self.serial += 1
        self.waiting.append((at, -lasts, self.serial, line))

    def settle(self, now: int, open_at: set[int]) -> None:
        """Put in place what can be: nothing more will come before ``now`` but at the moments in
        ``open_at`` (a slice still open, a cause waiting for its effect)."""
        waiting = self.waiting
        waiting.sort()
        holes = self._holes
        floor = min([now, *[at for at in open_at if at not in holes]])
        cut = bisect_left(waiting, (floor,))
        new: list[int] = []
        if len(waiting) - cut > MOST_WAITING:
            # Held back too long: the moments before the middle of what waits become holes.
            middle = waiting[cut + (len(waiting) - cut) // 2][0]
            new = sorted(at for at in open_at if at < middle and at not in holes)
            for at in new:
                holes[at] = []
            self.holes += len(new)
            floor = min([now, *[at for at in open_at if at not in holes]])
            cut = bisect_left(waiting, (floor,))
        placed, self.waiting = waiting[:cut], waiting[cut:]
        # Before the last floor: an event at a hole's moment (a slice that ended, an effect's cause).
        late = bisect_left(placed, (self._floor,))
        for event in placed[:late]:
            holes[event[0]].append(event)  # a hole's, always: nothing else can come before the floor
        start = late
        for at in new:  # in time order, at or after the last floor: their places are in this stream
            begin = bisect_left(placed, (at,), start)
            end = bisect_left(placed, (at + 1,), begin)
            self._stream_out(placed[start:begin])
            holes[at].extend(placed[begin:end])
            self._hole_places[at] = self._streamed
            start = end
        self._stream_out(placed[start:])
        self._floor = floor
        for at in [at for at in holes if at not in open_at]:
            self._fill(at)
        self.settle_at = len(self.waiting) + max(SETTLE_EVENTS, len(open_at), len(holes))

    def _stream_out(self, events: list[Timed]) -> None:
        if events:
            data = (",\n".join(map(_line_of, events)) + ",\n").encode()
            self._stream.write(data)
            self._streamed += len(data)

    def _fill(self, at: int) -> None:
        """Nothing more can come at this moment: its events set aside, with their place."""
        events = self._holes.pop(at)
        place = self._hole_places.pop(at)
        if events:
            events.sort()
            data = (",\n".join(map(_line_of, events)) + ",\n").encode()
            self._kept.write(data)
            self._filled.append((place, at, self._kept_bytes, len(data)))
            self._kept_bytes += len(data)

    def write(self, head: bytes, out: IO[bytes]) -> None:
        """``head`` (lines, each followed by ``,\\n``), then every event in time order, the last
        without its ``,\\n``; once every event is in place (``settle`` with nothing open)."""
        if self.waiting or self._holes:
            raise RuntimeError("the trace's events are not all in place")
        pieces: list[tuple[IO[bytes], int, int]] = []
        at = 0
        for place, _, offset, size in sorted(self._filled):
            pieces += [(self._stream, at, place - at), (self._kept, offset, size)]
            at = place
        pieces.append((self._stream, at, self._streamed - at))
        left = len(head) + sum(size for _, _, size in pieces) - 2  # all but the last ",\n"
        out.write(head[:left])
        left -= len(head)
        for source, offset, size in pieces:
            source.seek(offset)
            while size > 0 and left > 0:
                data = source.read(min(size, COPIED))
                size -= len(data)
                out.write(data[:left] if len(data) > left else data)
                left -= len(data)

    def close(self) -> None:
        self._stream.close()
        self._kept.close()


# Copied from the temporary files into the trace at a time.
COPIED = 1 << 20
