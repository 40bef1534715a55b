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
"""

from __future__ import annotations

import json
import operator
import tempfile
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any, TextIO

from mpviz.model import Model, Prim, Proc, find_anomalies
from mpviz.telemetry import Event

# Tracks that are not a process's own: above every real pid (at most 2**22 on Linux).
SYNTHETIC = 1 << 30
PRIMITIVES_PID = SYNTHETIC - 1
HANDOVERS = 0  # the hand-over track's slot among a process's synthetic tracks
SLOTS = 64
# Anomalies are looked for at most this often, in record time.
ANOMALY_STEP_NS = 100_000_000
# Events waiting to be put in place: at this many the builder settles them (more often when it has
# more to look at), and past ``MOST_WAITING`` the moments that hold them back become holes.
SETTLE_EVENTS = 10_000
MOST_WAITING = 100_000
# A slice's line up to its moment, kept for this many (name, process, track): the same few come again and again.
SLICE_HEADS = 10_000
# Moments kept as written (``TraceBuilder._moment``).
MOMENTS = 4096
# Causes kept waiting for their effect (puts of items never got, releases nobody took): the oldest
# are forgotten past this, so that a long run's waiting causes stay bounded.
MAX_CAUSES = 100_000


# The families of records that make arrows or counters.
_TRACED = frozenset(["lock", "rlock", "sem", "queue", "event", "pipe"])

# Every event is written as a line of JSON as soon as it is made, by hand (its keys are always the
# same): a dict for each and a general encoder cost most of an export.  Texts go through JSON's own
# string encoder.
_text = json.encoder.encode_basestring
_line = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

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


@dataclass
class _Open:
    name: str
    start_ns: int
    site: str = ""  # where in the user's code (a wait's): the slice's argument


@dataclass
class TraceBuilder:
    """Records in (in time order), trace events out: :meth:`finish`, then :meth:`write` (the trace
    file) or :meth:`trace` (the whole trace, for a short run)."""

    model: Model = field(default_factory=Model)
    timed: Timeline = field(default_factory=Timeline)
    slices: int = 0
    arrows: int = 0
    _handing: set[int] = field(default_factory=set)  # processes with a hand-over track
    _t0: int | None = None
    _states: dict[int, _Open] = field(default_factory=dict)  # pid → its open state slice
    _holds: dict[tuple[int, str], int] = field(default_factory=dict)  # (pid, prim id) → since
    _holding: dict[str, set[int]] = field(default_factory=dict)  # prim id → who has a hold open
    _slots_used: dict[int, int] = field(default_factory=dict)  # pid → hold tracks it has
    _slots: dict[tuple[int, str], int] = field(default_factory=dict)  # (pid, prim id) → its track's slot
    # Causes waiting for their effect: releases by primitive, puts by (queue, item), sets by event, sends by (pipe, end).
    _releases: dict[str, deque[tuple[int, int]]] = field(default_factory=dict)
    _puts: dict[tuple[str, str], deque[tuple[int, int]]] = field(default_factory=dict)
    _sets: dict[str, tuple[int, int]] = field(default_factory=dict)
    _sends: dict[tuple[str, int], deque[tuple[int, int]]] = field(default_factory=dict)
    _flows: int = 0
    _anomalies_ns: int = 0
    _seen: set[str] = field(default_factory=set)
    _counter_heads: dict[str, str] = field(default_factory=dict)  # a counter's name → its line up to its moment
    _slice_heads: dict[tuple[str, int, int], str] = field(default_factory=dict)  # (name, pid, tid) → the same
    _moments: dict[int, str] = field(default_factory=dict)  # moments as written (``_moment``)

    def feed(self, records: Iterable[Event]) -> None:
        for event in records:
            self.add(event)

    def add(self, event: Event) -> None:
        t_ns, pid, kind, obj, _ = event
        if self._t0 is None:
            self._t0 = t_ns
        model = self.model
        # Before the record is applied: was its process waiting on this primitive?
        prim = model.prims.get(obj)
        waited = prim is not None and pid in prim.waiters
        model.apply_one(event)
        prims = model.prims
        family, _, op = kind.partition(".")
        if family in _TRACED:  # the only records that make arrows or counters
            prim = prims.get(obj)
            if family == "sem" or family == "lock" or family == "rlock":
                self._acquirable(event, family, op, prim, waited)
            else:
                self._cause_and_effect(event, family, op, prim)
                if prim is not None:
                    self._counters(event, family, op, prim)
        # What changed, read and emptied in place (the builder is the model's only reader).
        dirty, all_procs = model.dirty_procs, model.procs
        if dirty:
            for each in dirty | {pid}:
                proc = all_procs.get(each)
                if proc is not None:
                    self._state(proc, t_ns)
            dirty.clear()
        else:
            proc = all_procs.get(pid)
            if proc is not None:
                self._state(proc, t_ns)
        dirty_prims = model.dirty_prims
        if dirty_prims:
            for prim_id in dirty_prims:
                prim = prims.get(prim_id)
                if prim is not None:
                    self._held(prim, t_ns)
            dirty_prims.clear()
        if t_ns - self._anomalies_ns >= ANOMALY_STEP_NS:
            self._look_for_anomalies(t_ns)
        if len(self.timed.waiting) >= self.timed.settle_at:
            self.timed.settle(self._at(t_ns), self._open_moments())

    def finish(self) -> None:
        """Every slice still open closed at the last record."""
        end = self.model.last_ns
        self._look_for_anomalies(end)
        for pid in list(self._states):
            self._close_state(pid, end)
        for pid, prim_id in list(self._holds):
            self._close_hold(pid, prim_id, end)
        self.timed.settle(self._at(end) + 1, set())

    def write(self, out: TextIO) -> None:
        """The trace, finished, as a file: the names of processes and tracks, then every event in
        time order, one a line.  Once."""
        head = "".join(f"{_line(event)},\n" for event in self._names())
        out.write('{"displayTimeUnit": "ms", "traceEvents": [\n')
        out.flush()
        try:
            self.timed.write(head.encode(), out.buffer)
        finally:
            self.timed.close()
        out.write("\n]}\n")

    def trace(self) -> dict[str, Any]:
        """The whole trace in memory (a short run's)."""
        with tempfile.TemporaryFile("w+", encoding="utf-8") as f:
            self.write(f)
            f.seek(0)
            return {"traceEvents": json.load(f)["traceEvents"], "displayTimeUnit": "ms"}

    def _open_moments(self) -> set[int]:
        """Every moment an event still to come may be at, but now: where an open slice starts, when
        a cause waiting for its effect was."""
        t0 = self._t0 or 0
        moments = {state.start_ns - t0 for state in self._states.values()}
        moments.update(since - t0 for since in self._holds.values())
        for causes in (self._releases, self._puts, self._sends):
            for waiting in causes.values():
                moments.update(t - t0 for t, _ in waiting)
        moments.update(t - t0 for t, _ in self._sets.values())
        return moments

    # --- tracks -------------------------------------------------------------------------------

    def _at(self, t_ns: int) -> int:
        """Nanoseconds since the first record (written as microseconds: a float's shortest form,
        exact to the nanosecond)."""
        return t_ns - (t_ns if self._t0 is None else self._t0)

    def _slice(self, pid: int, tid: int, name: str, start_ns: int, end_ns: int, extra: str = "") -> None:
        """A complete slice; ``extra``: more of its fields, as JSON (``,"args":{…}``)."""
        at, lasts = start_ns - self._t0, max(end_ns - start_ns, 0)  # type: ignore[operator]  # set by the first record
        head = self._slice_heads.get((name, pid, tid))
        if head is None:
            if len(self._slice_heads) >= SLICE_HEADS:
                self._slice_heads.clear()
            head = f'{{"ph":"X","name":{_text(name)},"cat":"mpviz","pid":{pid},"tid":{tid},"ts":'
            self._slice_heads[name, pid, tid] = head
        timed = self.timed
        timed.serial += 1
        dur = _us(lasts) if lasts else "0.0"  # an arrow's ends last nothing
        timed.waiting.append((at, -lasts, timed.serial, f'{head}{self._moment(at)},"dur":{dur}{extra}}}'))

    def _moment(self, at: int) -> str:
        """``_us(at)``, kept for the last few thousand moments: most are written more than once (a
        counter and an arrow's end at a record's moment, the slices that start there)."""
        text = self._moments.get(at)
        if text is None:
            if len(self._moments) >= MOMENTS:
                self._moments.clear()
            text = self._moments[at] = _us(at)
        return text

    @staticmethod
    def _synthetic(pid: int, slot: int) -> int:
        return SYNTHETIC + pid * SLOTS + slot

    def _names(self) -> list[dict[str, Any]]:
        """Names for every process and track (``M`` events)."""
        meta = [_meta("process_name", PRIMITIVES_PID, PRIMITIVES_PID, "primitives")]
        for pid, proc in self.model.procs.items():
            meta.append(_meta("process_name", pid, pid, f"{proc.name} (pid {pid})"))
            meta.append(_meta("thread_name", pid, pid, "waits"))
        for pid in sorted(self._handing):
            meta.append(_meta("thread_name", pid, self._synthetic(pid, HANDOVERS), "hand-overs"))
        for (pid, prim_id), slot in self._slots.items():
            holds = f"holds '{self.model.prim_name(prim_id)}'"
            meta.append(_meta("thread_name", pid, self._synthetic(pid, slot), holds))
        return meta

    # --- states and holds ------------------------------------------------------------------------

    def _state(self, proc: Proc, t_ns: int) -> None:
        """The process's state slice: a new one when what it waits for (or sleep, or a pause) changes."""
        blocked = False
        if proc.exited_ns is not None:  # not alive
            name = ""
        elif proc.stopped:
            name = "paused"
        elif proc.blocked:
            name, blocked = proc.blocked, True
        elif proc.elsewhere:
            name = proc.elsewhere
        elif proc.sleeping:
            name = "sleeping"
        else:
            name = ""
        current = self._states.get(proc.pid)
        if current is not None:
            if current.name == name:
                return
            self._close_state(proc.pid, t_ns)
        if name:
            self._states[proc.pid] = _Open(name, t_ns, self.model.where(proc.at) if blocked else "")

    def _close_state(self, pid: int, t_ns: int) -> None:
        current = self._states.pop(pid)
        extra = f',"args":{{"site":{_text(current.site)}}}' if current.site else ""
        self._slice(pid, pid, current.name, current.start_ns, t_ns, extra)
        self.slices += 1

    def _held(self, prim: Prim, t_ns: int) -> None:
        holders = prim.holders.keys()
        holding = self._holding.get(prim.id)
        if holding is None:
            holding = self._holding[prim.id] = set()
        elif holding == holders:
            return  # no hold began or ended
        began = holders - holding
        if began:
            # In the holders' order, as the tracks' slots are numbered in it (one, nearly always).
            for pid in began if len(began) == 1 else [pid for pid in holders if pid in began]:
                holding.add(pid)
                self._holds[pid, prim.id] = prim.held_since.get(pid, t_ns)
                if (pid, prim.id) not in self._slots:
                    used = self._slots_used[pid] = self._slots_used.get(pid, 0) + 1
                    self._slots[pid, prim.id] = min(used, SLOTS - 1)
        if len(holding) > len(holders):
            ended = holding - holders
            for pid in ended if len(ended) == 1 else [pid for pid in holding if pid in ended]:
                self._close_hold(pid, prim.id, t_ns)

    def _close_hold(self, pid: int, prim_id: str, t_ns: int) -> None:
        since = self._holds.pop((pid, prim_id))
        self._holding[prim_id].discard(pid)
        tid = SYNTHETIC + pid * SLOTS + self._slots[pid, prim_id]  # _synthetic
        self._slice(pid, tid, f"holding '{self.model.prim_name(prim_id)}'", since, t_ns)
        self.slices += 1

    # --- cause and effect ---------------------------------------------------------------------------

    def _acquirable(self, event: Event, family: str, op: str, prim: Prim | None, waited: bool) -> None:
        """A lock's, an rlock's or a semaphore's record: its arrow, and a semaphore's value.  ``prim``
        is the record's primitive once it is applied, ``waited`` whether its process was waiting on
        it before."""
        if op == "released":
            if prim is not None and prim.waiters:
                # A release with someone waiting hands over: to the next acquire after a wait.
                self._cause(self._releases, event.obj, (event.t_ns, event.pid))
        elif op == "acquired" and waited and self._releases.get(event.obj):
            name = self.model.prim_name(event.obj)
            self._effect(self._releases, event.obj, (event.t_ns, event.pid), f"release '{name}'", f"acquire '{name}'")
        if family == "sem" and prim is not None and prim.value is not None:
            self._count(f"semaphore '{prim.name}'", event.t_ns, prim.value)

    def _cause_and_effect(self, event: Event, family: str, op: str, prim: Prim | None) -> None:
        """Arrows of queues, events and pipes: ``prim`` is the record's primitive once it is applied."""
        here = (event.t_ns, event.pid)
        if family == "queue":
            if op == "put":
                self._cause(self._puts, (event.obj, str(event.data.get("item", ""))), here)
            elif op == "get":
                name = self.model.prim_name(event.obj)
                key = (event.obj, str(event.data.get("item", "")))
                self._effect(self._puts, key, here, f"put into '{name}'", f"get from '{name}'")
        elif family == "event":
            if op == "set":
                self._sets[event.obj] = here
            elif op == "woke" and event.data.get("waited") and event.obj in self._sets:
                name = self.model.prim_name(event.obj)
                self._flow(self._sets[event.obj], here, f"set '{name}'", f"woke on '{name}'")
        elif family == "pipe":
            if op not in ("send", "recv"):
                return
            end = event.data.get("end")
            if not isinstance(end, int):
                return
            if op == "send":
                self._cause(self._sends, (event.obj, end), here)
            else:
                name = self.model.prim_name(event.obj)
                self._effect(self._sends, (event.obj, 1 - end), here, f"send on '{name}'", f"recv on '{name}'")

    def _cause(self, causes: dict[Any, deque[tuple[int, int]]], key: Any, here: tuple[int, int]) -> None:
        """A cause waits for its effect; past ``MAX_CAUSES`` waiting, the oldest key's are forgotten."""
        waiting = causes.get(key)
        if waiting is None:
            if len(causes) >= MAX_CAUSES:
                del causes[next(iter(causes))]
            waiting = causes[key] = deque(maxlen=MAX_CAUSES)
        waiting.append(here)

    def _effect(
        self, causes: dict[Any, deque[tuple[int, int]]], key: Any, here: tuple[int, int], out: str, into: str
    ) -> None:
        """The effect of the oldest cause waiting under ``key``, if any: an arrow."""
        waiting = causes.get(key)
        if waiting:
            self._flow(waiting.popleft(), here, out, into)
            if not waiting:
                del causes[key]

    def _flow(self, cause: tuple[int, int], effect: tuple[int, int], out_name: str, in_name: str) -> None:
        """An arrow from the cause's moment to the effect's: a zero-length slice at each end."""
        self._flows += 1
        self.arrows += 1
        (t_out, pid_out), (t_in, pid_in) = cause, effect
        self._handing.update((pid_out, pid_in))
        bind = self._flows
        self._slice(
            pid_out, self._synthetic(pid_out, HANDOVERS), out_name, t_out, t_out, f',"bind_id":{bind},"flow_out":true'
        )
        self._slice(
            pid_in, self._synthetic(pid_in, HANDOVERS), in_name, t_in, t_in, f',"bind_id":{bind},"flow_in":true'
        )

    # --- counters and anomalies ----------------------------------------------------------------------

    def _counters(self, event: Event, family: str, op: str, prim: Prim) -> None:
        """Queues' depths and events' flags (a semaphore's value: ``_acquirable``)."""
        if family == "queue":
            if op in ("put", "get"):
                self._count(f"queue '{prim.name}' depth", event.t_ns, max(prim.depth, 0))
        elif family == "event" and op in ("set", "clear"):
            self._count(f"event '{prim.name}' flag", event.t_ns, int(prim.is_set))

    def _count(self, name: str, t_ns: int, value: int) -> None:
        at = t_ns - self._t0  # type: ignore[operator]  # set by the first record
        head = self._counter_heads.get(name)
        if head is None:
            pid = PRIMITIVES_PID
            head = self._counter_heads[name] = (
                f'{{"ph":"C","name":{_text(name)},"cat":"mpviz","pid":{pid},"tid":{pid},"ts":'
            )
        timed = self.timed
        timed.serial += 1
        timed.waiting.append((at, 0, timed.serial, f'{head}{self._moment(at)},"args":{{"value":{value}}}}}'))

    def _look_for_anomalies(self, t_ns: int) -> None:
        self._anomalies_ns = t_ns
        for anomaly in find_anomalies(self.model, t_ns):
            if anomaly.text not in self._seen:
                self._seen.add(anomaly.text)
                at, pid = self._at(t_ns), PRIMITIVES_PID
                ts, name = _us(at), _text(anomaly.text)
                self.timed.add(
                    at, 0, f'{{"ph":"i","s":"g","name":{name},"cat":"mpviz","pid":{pid},"tid":{pid},"ts":{ts}}}'
                )


def _meta(what: str, pid: int, tid: int, name: str) -> dict[str, Any]:
    return {"ph": "M", "name": what, "pid": pid, "tid": tid, "args": {"name": name}}
