"""Records in, trace events out: the slices, counters, instants and names of :mod:`mpviz.trace`.

The model is fed the records as the dashboard is, and the slices follow what
it says: a process's state (what it waits for, asleep, paused) on its own
track, each hold on a track of its own, counters for what primitives hold,
an instant per anomaly; the arrows come from :mod:`mpviz.trace.handovers`.
Each event is made as a line of JSON and handed to the time order
(:class:`~mpviz.trace.Timeline`).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from mpviz.model import Model, Prim, Proc, find_anomalies
from mpviz.telemetry import Event
from mpviz.trace import Timeline, _us
from mpviz.trace.handovers import Handovers

# Tracks that are not a process's own: above every real pid (at most 2**22 on Linux).
SYNTHETIC = 1 << 30
PRIMITIVES_PID = SYNTHETIC - 1
HANDOVERS = 0  # the hand-over track's slot among a process's synthetic tracks
SLOTS = 64
# Anomalies are looked for at most this often, in record time.
ANOMALY_STEP_NS = 100_000_000
# A slice's line up to its moment, kept for this many (name, process, track): the same few come again and again.
SLICE_HEADS = 10_000
# Moments kept as written (``TraceBuilder._moment``).
MOMENTS = 4096


# The families of records that make arrows or counters.
_TRACED = frozenset(["lock", "rlock", "sem", "queue", "event", "pipe"])

# Every event is written as a line of JSON as soon as it is made, by hand (its keys are always the
# same): a dict for each and a general encoder cost most of an export.  Texts go through JSON's own
# string encoder.
_text = json.encoder.encode_basestring
_line = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


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
    handovers: Handovers = field(init=False)  # the arrows, and the causes waiting for their effect
    _t0: int | None = None
    _states: dict[int, _Open] = field(default_factory=dict)  # pid → its open state slice
    _holds: dict[tuple[int, str], int] = field(default_factory=dict)  # (pid, prim id) → since
    _holding: dict[str, set[int]] = field(default_factory=dict)  # prim id → who has a hold open
    _slots_used: dict[int, int] = field(default_factory=dict)  # pid → hold tracks it has
    _slots: dict[tuple[int, str], int] = field(default_factory=dict)  # (pid, prim id) → its track's slot
    _anomalies_ns: int = 0
    _seen: set[str] = field(default_factory=set)
    _counter_heads: dict[str, str] = field(default_factory=dict)  # a counter's name → its line up to its moment
    _slice_heads: dict[tuple[str, int, int], str] = field(default_factory=dict)  # (name, pid, tid) → the same
    _moments: dict[int, str] = field(default_factory=dict)  # moments as written (``_moment``)

    def __post_init__(self) -> None:
        self.handovers = Handovers(self.model, self._handover_end)

    @property
    def arrows(self) -> int:
        """Arrows drawn so far."""
        return self.handovers.arrows

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
                self.handovers.acquirable(event, op, prim, waited)
            else:
                self.handovers.cause_and_effect(event, family, op)
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
        moments.update(t - t0 for t in self.handovers.waiting_since())
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

    def _handover_end(self, pid: int, name: str, t_ns: int, flow: str) -> None:
        """One end of an arrow: a zero-length slice on its process's hand-over track."""
        self._slice(pid, self._synthetic(pid, HANDOVERS), name, t_ns, t_ns, flow)

    @staticmethod
    def _synthetic(pid: int, slot: int) -> int:
        return SYNTHETIC + pid * SLOTS + slot

    def _names(self) -> list[dict[str, Any]]:
        """Names for every process and track (``M`` events)."""
        meta = [_meta("process_name", PRIMITIVES_PID, PRIMITIVES_PID, "primitives")]
        for pid, proc in self.model.procs.items():
            meta.append(_meta("process_name", pid, pid, f"{proc.name} (pid {pid})"))
            meta.append(_meta("thread_name", pid, pid, "waits"))
        for pid in sorted(self.handovers.handing):
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

    # --- counters and anomalies ----------------------------------------------------------------------

    def _counters(self, event: Event, family: str, op: str, prim: Prim) -> None:
        """Semaphores' values, queues' depths and events' flags (after the record's arrow)."""
        if family == "sem":
            if prim.value is not None:
                self._count(f"semaphore '{prim.name}'", event.t_ns, prim.value)
        elif family == "queue":
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
