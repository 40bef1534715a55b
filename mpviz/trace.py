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
draw them) in bounded memory, however long the run: the events are sorted in
runs of ``RUN_EVENTS``, each run kept in a temporary file as JSON lines, and
the runs merged as the trace is written (:class:`Runs`).
"""

from __future__ import annotations

import heapq
import json
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from mpviz.model import Model, Prim, Proc, find_anomalies
from mpviz.telemetry import Event

# Tracks that are not a process's own: above every real pid (at most 2**22 on Linux).
SYNTHETIC = 1 << 30
PRIMITIVES_PID = SYNTHETIC - 1
HANDOVERS = 0  # the hand-over track's slot among a process's synthetic tracks
SLOTS = 64
# Anomalies are looked for at most this often, in record time.
ANOMALY_STEP_NS = 100_000_000
# Trace events sorted and set aside at a time: a run of them is a few dozen MB in memory.
RUN_EVENTS = 100_000
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


class Runs:
    """Trace events as lines of JSON, kept in sorted runs of at most ``RUN_EVENTS`` set aside in
    temporary files; given back whole and in time order (a longer slice before the ones it holds,
    equal ones in the order they came) by merging the runs.

    Each line is kept behind its sort key, written as digits of a fixed width, so that the runs
    merge as plain strings: no number is read back."""

    def __init__(self) -> None:
        self.current: list[str] = []  # the run being made: lines behind their keys (``keyed``)
        self._files: list[IO[str]] = []
        self.serial = 0

    def add(self, at_ns: int, lasts_ns: int, line: str) -> None:
        """An event ``at_ns`` from the trace's start, lasting ``lasts_ns``."""
        self.serial += 1
        self.keyed(f"{at_ns:020d}{LONGEST - lasts_ns:020d}{self.serial:012d}{line}")

    def keyed(self, line: str) -> None:
        """A line already behind its key (made as :meth:`add` makes it, ``serial`` counted: the
        trace's own events are, in one string)."""
        current = self.current
        current.append(line)
        if len(current) >= RUN_EVENTS:
            self._set_aside()

    def _set_aside(self) -> None:
        run = tempfile.TemporaryFile("w+", encoding="utf-8", prefix="mpviz-trace-")  # noqa: SIM115 - closed by close()
        self.current.sort()
        run.write("\n".join(self.current))
        run.write("\n")
        run.seek(0)
        self._files.append(run)
        self.current = []

    def lines(self) -> Iterator[str]:
        """Every event's line, in order."""
        self.current.sort()
        for keyed in heapq.merge(*(_read_run(f) for f in self._files), self.current):
            yield keyed[KEY:]

    def close(self) -> None:
        for run in self._files:
            run.close()
        self._files = []


# A sort key's width (time, what is left of the longest duration, serial number), and that duration.
KEY = 52
LONGEST = 10**20 - 1


def _read_run(run: IO[str]) -> Iterator[str]:
    for line in run:
        yield line[:-1]


@dataclass
class _Open:
    name: str
    start_ns: int
    site: str = ""  # where in the user's code (a wait's): the slice's argument


@dataclass
class TraceBuilder:
    """Records in (in time order), trace events out: :meth:`finish`, then :meth:`lines` (JSON, for
    a file: :func:`write_trace`) or :meth:`trace` (the whole trace, for a short run)."""

    model: Model = field(default_factory=Model)
    timed: Runs = field(default_factory=Runs)
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
            self._cause_and_effect(event, family, op, prim, waited)
            if prim is not None:
                self._counters(event, family, op, prim)
        procs, dirty_prims = model.take_dirty()
        if procs:
            for each in procs | {pid}:
                proc = model.procs.get(each)
                if proc is not None:
                    self._state(proc, t_ns)
        else:
            proc = model.procs.get(pid)
            if proc is not None:
                self._state(proc, t_ns)
        for prim_id in dirty_prims:
            prim = prims.get(prim_id)
            if prim is not None:
                self._held(prim, t_ns)
        if t_ns - self._anomalies_ns >= ANOMALY_STEP_NS:
            self._look_for_anomalies(t_ns)

    def finish(self) -> None:
        """Every slice still open closed at the last record."""
        end = self.model.last_ns
        self._look_for_anomalies(end)
        for pid in list(self._states):
            self._close_state(pid, end)
        for pid, prim_id in list(self._holds):
            self._close_hold(pid, prim_id, end)

    def lines(self) -> Iterator[str]:
        """The trace's events as lines of JSON: the names of processes and tracks, then the rest in
        time order.  Once."""
        try:
            for event in self._names():
                yield _line(event)
            yield from self.timed.lines()
        finally:
            self.timed.close()

    def trace(self) -> dict[str, Any]:
        """The whole trace in memory (a short run's)."""
        return {"traceEvents": [json.loads(line) for line in self.lines()], "displayTimeUnit": "ms"}

    # --- tracks -------------------------------------------------------------------------------

    def _at(self, t_ns: int) -> int:
        """Nanoseconds since the first record (written as microseconds: a float's shortest form,
        exact to the nanosecond)."""
        return t_ns - (t_ns if self._t0 is None else self._t0)

    def _slice(self, pid: int, tid: int, name: str, start_ns: int, end_ns: int, extra: str = "") -> None:
        """A complete slice; ``extra``: more of its fields, as JSON (``,"args":{…}``)."""
        at, lasts = self._at(start_ns), max(end_ns - start_ns, 0)
        timed = self.timed
        timed.serial += 1
        timed.keyed(
            f"{at:020d}{LONGEST - lasts:020d}{timed.serial:012d}"
            f'{{"ph":"X","name":{_text(name)},"cat":"mpviz","pid":{pid},"tid":{tid},'
            f'"ts":{at / 1000!r},"dur":{lasts / 1000!r}{extra}}}'
        )

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
        if not proc.alive:
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
        holding = self._holding.get(prim.id)
        if holding is None:
            holding = self._holding[prim.id] = set()
        elif holding == prim.holders.keys():
            return  # no hold began or ended
        for pid in prim.holders:
            if pid not in holding:
                holding.add(pid)
                self._holds[pid, prim.id] = prim.held_since.get(pid, t_ns)
                if (pid, prim.id) not in self._slots:
                    used = self._slots_used[pid] = self._slots_used.get(pid, 0) + 1
                    self._slots[pid, prim.id] = min(used, SLOTS - 1)
        for pid in [pid for pid in holding if pid not in prim.holders]:
            self._close_hold(pid, prim.id, t_ns)

    def _close_hold(self, pid: int, prim_id: str, t_ns: int) -> None:
        since = self._holds.pop((pid, prim_id))
        self._holding[prim_id].discard(pid)
        tid = self._synthetic(pid, self._slots[pid, prim_id])
        self._slice(pid, tid, f"holding '{self.model.prim_name(prim_id)}'", since, t_ns)
        self.slices += 1

    # --- cause and effect ---------------------------------------------------------------------------

    def _cause_and_effect(self, event: Event, family: str, op: str, prim: Prim | None, waited: bool) -> None:
        """Arrows: ``prim`` is the record's primitive once it is applied, ``waited`` whether its process
        was waiting on it before."""
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
        elif op == "released":  # lock, rlock, sem
            if prim is not None and prim.waiters:
                # A release with someone waiting hands over: to the next acquire after a wait.
                self._cause(self._releases, event.obj, here)
        elif op == "acquired" and waited and self._releases.get(event.obj):
            name = self.model.prim_name(event.obj)
            self._effect(self._releases, event.obj, here, f"release '{name}'", f"acquire '{name}'")

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
        if family == "sem":
            if prim.value is not None:
                self._count(f"semaphore '{prim.name}'", event.t_ns, prim.value)
        elif family == "queue":
            if op in ("put", "get"):
                self._count(f"queue '{prim.name}' depth", event.t_ns, max(prim.depth, 0))
        elif family == "event" and op in ("set", "clear"):
            self._count(f"event '{prim.name}' flag", event.t_ns, int(prim.is_set))

    def _count(self, name: str, t_ns: int, value: int) -> None:
        at, pid = self._at(t_ns), PRIMITIVES_PID
        timed = self.timed
        timed.serial += 1
        timed.keyed(
            f"{at:020d}{LONGEST:020d}{timed.serial:012d}"
            f'{{"ph":"C","name":{_text(name)},"cat":"mpviz","pid":{pid},"tid":{pid},'
            f'"ts":{at / 1000!r},"args":{{"value":{value}}}}}'
        )

    def _look_for_anomalies(self, t_ns: int) -> None:
        self._anomalies_ns = t_ns
        for anomaly in find_anomalies(self.model, t_ns):
            if anomaly.text not in self._seen:
                self._seen.add(anomaly.text)
                at, pid = self._at(t_ns), PRIMITIVES_PID
                ts, name = at / 1000, _text(anomaly.text)
                self.timed.add(
                    at, 0, f'{{"ph":"i","s":"g","name":{name},"cat":"mpviz","pid":{pid},"tid":{pid},"ts":{ts!r}}}'
                )


def _meta(what: str, pid: int, tid: int, name: str) -> dict[str, Any]:
    return {"ph": "M", "name": what, "pid": pid, "tid": tid, "args": {"name": name}}


def write_trace(lines: Iterable[str], out: IO[str]) -> None:
    """One event a line: readable, and as valid JSON as one long line; written as they come, a
    thousand lines at a time."""
    out.write('{"displayTimeUnit": "ms", "traceEvents": [\n')
    batch: list[str] = []
    first = True
    for line in lines:
        batch.append(line)
        if len(batch) == 1000:
            out.write(("" if first else ",\n") + ",\n".join(batch))
            batch, first = [], False
    if batch:
        out.write(("" if first else ",\n") + ",\n".join(batch))
    out.write("\n]}\n")
