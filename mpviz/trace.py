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
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable
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


def _us(ns: int) -> float:
    return round(ns / 1000, 3)


@dataclass
class _Open:
    name: str
    start_ns: int
    site: str = ""  # where in the user's code (a wait's): the slice's argument


@dataclass
class TraceBuilder:
    """Records in (in time order), trace events out (:meth:`finish`)."""

    model: Model = field(default_factory=Model)
    events: list[dict[str, Any]] = field(default_factory=list)
    _t0: int | None = None
    _states: dict[int, _Open] = field(default_factory=dict)  # pid → its open state slice
    _holds: dict[tuple[int, str], int] = field(default_factory=dict)  # (pid, prim id) → since
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
        if self._t0 is None:
            self._t0 = event.t_ns
        waited = self._waiting(event)
        self.model.apply_one(event)
        self._cause_and_effect(event, waited)
        self._counters(event)
        procs, prims = self.model.take_dirty()
        for pid in procs | {event.pid}:
            proc = self.model.procs.get(pid)
            if proc is not None:
                self._state(proc, event.t_ns)
        for prim_id in prims:
            prim = self.model.prims.get(prim_id)
            if prim is not None:
                self._held(prim, event.t_ns)
        if event.t_ns - self._anomalies_ns >= ANOMALY_STEP_NS:
            self._look_for_anomalies(event.t_ns)

    def finish(self) -> dict[str, Any]:
        """The trace: every slice still open closed at the last record."""
        end = self.model.last_ns
        self._look_for_anomalies(end)
        for pid in list(self._states):
            self._close_state(pid, end)
        for pid, prim_id in list(self._holds):
            self._close_hold(pid, prim_id, end)
        meta = self._names()
        timed = sorted(self.events, key=lambda e: (e["ts"], -e.get("dur", 0)))
        return {"traceEvents": meta + timed, "displayTimeUnit": "ms"}

    # --- tracks -------------------------------------------------------------------------------

    def _ts(self, t_ns: int) -> float:
        return _us(t_ns - (t_ns if self._t0 is None else self._t0))

    def _slice(self, pid: int, tid: int, name: str, start_ns: int, end_ns: int, **extra: Any) -> dict[str, Any]:
        ts = self._ts(start_ns)
        dur = round(self._ts(max(end_ns, start_ns)) - ts, 3)
        event = {"ph": "X", "name": name, "cat": "mpviz", "pid": pid, "tid": tid, "ts": ts, "dur": dur, **extra}
        self.events.append(event)
        return event

    @staticmethod
    def _synthetic(pid: int, slot: int) -> int:
        return SYNTHETIC + pid * SLOTS + slot

    def _names(self) -> list[dict[str, Any]]:
        """Names for every process and track (``M`` events)."""
        meta = [_meta("process_name", PRIMITIVES_PID, PRIMITIVES_PID, "primitives")]
        for pid, proc in self.model.procs.items():
            meta.append(_meta("process_name", pid, pid, f"{proc.name} (pid {pid})"))
            meta.append(_meta("thread_name", pid, pid, "waits"))
        for pid in sorted({e["pid"] for e in self.events if "bind_id" in e}):
            meta.append(_meta("thread_name", pid, self._synthetic(pid, HANDOVERS), "hand-overs"))
        for (pid, prim_id), slot in self._slots.items():
            holds = f"holds '{self.model.prim_name(prim_id)}'"
            meta.append(_meta("thread_name", pid, self._synthetic(pid, slot), holds))
        return meta

    # --- states and holds ------------------------------------------------------------------------

    def _state(self, proc: Proc, t_ns: int) -> None:
        """The process's state slice: a new one when what it waits for (or sleep, or a pause) changes."""
        site = ""
        if not proc.alive:
            name = ""
        elif proc.stopped:
            name = "paused"
        elif proc.blocked:
            name, site = proc.blocked, self.model.where(proc.at)
        elif proc.elsewhere:
            name = proc.elsewhere
        elif proc.sleeping:
            name = "sleeping"
        else:
            name = ""
        current = self._states.get(proc.pid)
        if current is not None and current.name == name:
            return
        if current is not None:
            self._close_state(proc.pid, t_ns)
        if name:
            self._states[proc.pid] = _Open(name, t_ns, site)

    def _close_state(self, pid: int, t_ns: int) -> None:
        current = self._states.pop(pid)
        extra = {"args": {"site": current.site}} if current.site else {}
        self._slice(pid, pid, current.name, current.start_ns, t_ns, **extra)

    def _held(self, prim: Prim, t_ns: int) -> None:
        for pid in prim.holders:
            if (pid, prim.id) not in self._holds:
                self._holds[pid, prim.id] = prim.held_since.get(pid, t_ns)
                if (pid, prim.id) not in self._slots:
                    used = [slot for (p, _), slot in self._slots.items() if p == pid]
                    self._slots[pid, prim.id] = min(len(used) + 1, SLOTS - 1)
        for pid, prim_id in [key for key in self._holds if key[1] == prim.id and key[0] not in prim.holders]:
            self._close_hold(pid, prim_id, t_ns)

    def _close_hold(self, pid: int, prim_id: str, t_ns: int) -> None:
        since = self._holds.pop((pid, prim_id))
        tid = self._synthetic(pid, self._slots[pid, prim_id])
        self._slice(pid, tid, f"holding '{self.model.prim_name(prim_id)}'", since, t_ns)

    # --- cause and effect ---------------------------------------------------------------------------

    def _waiting(self, event: Event) -> bool:
        """Before the record is applied: was its process waiting on this primitive?"""
        prim = self.model.prims.get(event.obj)
        return prim is not None and event.pid in prim.waiters

    def _cause_and_effect(self, event: Event, waited: bool) -> None:
        family, _, op = event.kind.partition(".")
        here = (event.t_ns, event.pid)
        name = self.model.prim_name(event.obj)
        if family in ("lock", "rlock", "sem"):
            prim = self.model.prims.get(event.obj)
            if op == "released" and prim is not None and prim.waiters:
                # A release with someone waiting hands over: to the next acquire after a wait.
                self._releases.setdefault(event.obj, deque()).append(here)
            elif op == "acquired" and waited and self._releases.get(event.obj):
                self._flow(self._releases[event.obj].popleft(), here, f"release '{name}'", f"acquire '{name}'")
        elif family == "queue" and op in ("put", "get"):
            key = (event.obj, str(event.data.get("item", "")))
            if op == "put":
                self._puts.setdefault(key, deque()).append(here)
            elif self._puts.get(key):
                self._flow(self._puts[key].popleft(), here, f"put into '{name}'", f"get from '{name}'")
        elif family == "event":
            if op == "set":
                self._sets[event.obj] = here
            elif op == "woke" and event.data.get("waited") and event.obj in self._sets:
                self._flow(self._sets[event.obj], here, f"set '{name}'", f"woke on '{name}'")
        elif family == "pipe" and op in ("send", "recv"):
            end = event.data.get("end")
            if not isinstance(end, int):
                return
            if op == "send":
                self._sends.setdefault((event.obj, end), deque()).append(here)
            elif self._sends.get((event.obj, 1 - end)):
                self._flow(self._sends[event.obj, 1 - end].popleft(), here, f"send on '{name}'", f"recv on '{name}'")

    def _flow(self, cause: tuple[int, int], effect: tuple[int, int], out_name: str, in_name: str) -> None:
        """An arrow from the cause's moment to the effect's: a zero-length slice at each end."""
        self._flows += 1
        (t_out, pid_out), (t_in, pid_in) = cause, effect
        self._slice(
            pid_out, self._synthetic(pid_out, HANDOVERS), out_name, t_out, t_out, bind_id=self._flows, flow_out=True
        )
        self._slice(pid_in, self._synthetic(pid_in, HANDOVERS), in_name, t_in, t_in, bind_id=self._flows, flow_in=True)

    # --- counters and anomalies ----------------------------------------------------------------------

    def _counters(self, event: Event) -> None:
        prim = self.model.prims.get(event.obj)
        if prim is None:
            return
        family, _, op = event.kind.partition(".")
        if family == "sem" and prim.value is not None:
            self._count(f"semaphore '{prim.name}'", event.t_ns, prim.value)
        elif family == "queue" and op in ("put", "get"):
            self._count(f"queue '{prim.name}' depth", event.t_ns, max(prim.depth, 0))
        elif family == "event" and op in ("set", "clear"):
            self._count(f"event '{prim.name}' flag", event.t_ns, int(prim.is_set))

    def _count(self, name: str, t_ns: int, value: int) -> None:
        self.events.append(
            {
                "ph": "C",
                "name": name,
                "cat": "mpviz",
                "pid": PRIMITIVES_PID,
                "tid": PRIMITIVES_PID,
                "ts": self._ts(t_ns),
                "args": {"value": value},
            }
        )

    def _look_for_anomalies(self, t_ns: int) -> None:
        self._anomalies_ns = t_ns
        for anomaly in find_anomalies(self.model, t_ns):
            if anomaly.text not in self._seen:
                self._seen.add(anomaly.text)
                self.events.append(
                    {
                        "ph": "i",
                        "s": "g",
                        "name": anomaly.text,
                        "cat": "mpviz",
                        "pid": PRIMITIVES_PID,
                        "tid": PRIMITIVES_PID,
                        "ts": self._ts(t_ns),
                    }
                )


def _meta(what: str, pid: int, tid: int, name: str) -> dict[str, Any]:
    return {"ph": "M", "name": what, "pid": pid, "tid": tid, "args": {"name": name}}


def write_trace(trace: dict[str, Any], out: IO[str]) -> None:
    """One event a line: readable, and as valid JSON as one long line."""
    out.write('{"displayTimeUnit": "ms", "traceEvents": [\n')
    events = trace["traceEvents"]
    for i, event in enumerate(events):
        out.write(
            json.dumps(event, ensure_ascii=False, separators=(",", ":")) + (",\n" if i < len(events) - 1 else "\n")
        )
    out.write("]}\n")
