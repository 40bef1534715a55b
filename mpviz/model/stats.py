"""Contention figures, kept for the whole run in fixed memory.

* :class:`Durations` — how long waits or holds lasted: count, total, exact
  maximum, and quantiles (p50, p99) from a log-scale histogram once there are
  too many to keep each one;
* :class:`PrimTiming` — a primitive's waits, holds and blocked gets and puts;
* :class:`TimeSplit` — a process's lifetime cut into what it was doing
  (running, holding, waiting for a lock, blocked on a queue, waiting on an
  event, sleeping, other), stretch by stretch, so that the parts add up to
  its lifetime.

The reducer feeds them; nothing here knows about records.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mpviz.model.reducer import Model


class Durations:
    """Durations in nanoseconds: every one counted, in bounded memory.

    Up to ``EXACT`` durations are kept as they are, so the quantiles of a
    short run are exact; past that they go into buckets ``2**(1/SUB)`` wide
    (at most 64 × SUB of them), so a quantile is within 2.2 % of the truth.
    The count, the total and the maximum are always exact.
    """

    EXACT = 256
    SUB = 32

    def __init__(self) -> None:
        self.count = 0
        self.total = 0
        self.max = 0
        self._exact: list[int] | None = []
        self._buckets: dict[int, int] = {}

    def add(self, ns: int) -> None:
        ns = max(0, ns)
        self.count += 1
        self.total += ns
        self.max = max(self.max, ns)
        if self._exact is not None:
            self._exact.append(ns)
            if len(self._exact) <= self.EXACT:
                return
            kept, self._exact = self._exact, None
            for value in kept:
                self._bucket(value)
        else:
            self._bucket(ns)

    def _bucket(self, ns: int) -> None:
        index = math.floor(math.log2(ns) * self.SUB) if ns > 0 else -1
        self._buckets[index] = self._buckets.get(index, 0) + 1

    def quantile(self, q: float) -> int:
        """The duration that ``q`` of them do not exceed (nearest rank); 0 when there are none."""
        if not self.count:
            return 0
        rank = max(1, math.ceil(q * self.count))
        if self._exact is not None:
            return sorted(self._exact)[rank - 1]
        seen = 0
        for index in sorted(self._buckets):
            seen += self._buckets[index]
            if seen >= rank:
                # The bucket's upper edge, never above what was really seen.
                return 0 if index < 0 else min(self.max, math.ceil(2 ** ((index + 1) / self.SUB)))
        return self.max

    def figures(self) -> dict[str, float]:
        """count, and p50 / p99 / max / total in seconds: what ``mpviz stats --json`` prints."""
        return {
            "count": self.count,
            "p50_s": _s(self.quantile(0.5)),
            "p99_s": _s(self.quantile(0.99)),
            "max_s": _s(self.max),
            "total_s": _s(self.total),
        }


def _s(ns: int) -> float:
    return round(ns / 1e9, 6)


@dataclass
class PrimTiming:
    """How long processes waited for a primitive, held it, or were blocked on it."""

    waited: Durations = field(default_factory=Durations)  # wait → acquired, woke, passed or gave up
    held: Durations = field(default_factory=Durations)  # acquired → released
    get_blocked: Durations = field(default_factory=Durations)  # a get (recv) that found it empty
    put_blocked: Durations = field(default_factory=Durations)  # a put that found it full
    most_waiting: int = 0  # the most processes waiting on it at once


class Activity(StrEnum):
    """What a process spends its time on, in the few kinds the contention view stacks.

    The values are the keys of ``mpviz stats --json``.
    """

    RUNNING = "running"
    HOLDING = "holding"  # running or asleep with a lock or a semaphore held
    LOCK = "lock"  # waiting for a lock, a semaphore or a condition
    QUEUE = "queue"  # blocked on a queue or a pipe
    EVENT = "event"  # waiting on an event
    SLEEPING = "sleeping"
    OTHER = "other"  # starting, paused, joining a process, at a barrier


class TimeSplit:
    """A process's time, stretch by stretch: the parts add up to its lifetime.

    A stretch ends where the next begins; times that go backwards (records
    from two pipes, a little out of order) make a stretch of zero, never a
    negative one.
    """

    def __init__(self, start_ns: int) -> None:
        self.start_ns = start_ns
        self.activity = Activity.OTHER  # starting
        self.since_ns = start_ns
        self.ended = False
        self._totals: dict[Activity, int] = {}

    def move(self, activity: Activity, t_ns: int) -> None:
        if self.ended or activity is self.activity:
            return
        self._close(t_ns)
        self.activity = activity

    def end(self, t_ns: int) -> None:
        if not self.ended:
            self._close(t_ns)
            self.ended = True

    def _close(self, t_ns: int) -> None:
        t_ns = max(t_ns, self.since_ns)
        self._totals[self.activity] = self._totals.get(self.activity, 0) + t_ns - self.since_ns
        self.since_ns = t_ns

    def totals(self, now_ns: int) -> dict[Activity, int]:
        """Nanoseconds in each activity so far (the current stretch up to ``now_ns``), every activity listed."""
        out = {activity: self._totals.get(activity, 0) for activity in Activity}
        if not self.ended:
            out[self.activity] += max(0, now_ns - self.since_ns)
        return out

    def lifetime(self, now_ns: int) -> int:
        """From its first record to its end (or ``now_ns``)."""
        end = self.since_ns if self.ended else max(now_ns, self.since_ns)
        return end - self.start_ns


# --- the figures of a run, as plain data and as a table ------------------------------------

# The families that have contention figures, and the ones counted like a lock.
HELD_FAMILIES = ("lock", "rlock", "sem", "cond")
SHOWN_FAMILIES = (*HELD_FAMILIES, "queue", "pipe", "event", "barrier")


def contention(model: Model, now_ns: int) -> dict[str, Any]:
    """Every primitive's and every process's figures at ``now_ns``, as plain data (``mpviz stats --json``)."""
    prims = []
    for prim in model.prims.values():
        if prim.family not in SHOWN_FAMILIES:
            continue
        timing = prim.timing
        row: dict[str, Any] = {"name": prim.name, "kind": prim.word, "site": prim.site}
        if prim.family in HELD_FAMILIES:
            row |= {
                "acquisitions": prim.acquisitions,
                "waits": prim.waits,
                "wait": _ongoing(timing.waited, prim.waiters, now_ns).figures(),
                "hold": _ongoing(timing.held, prim.held_since, now_ns).figures(),
            }
        elif prim.family in ("queue", "pipe"):
            row |= {
                "puts": prim.puts,
                "gets": prim.gets,
                "deepest": prim.deepest,
                "get_blocked": _ongoing(timing.get_blocked, prim.blocked_get, now_ns).figures(),
                "put_blocked": _ongoing(timing.put_blocked, prim.blocked_put, now_ns).figures(),
            }
        elif prim.family == "event":
            row |= {
                "sets": prim.sets,
                "clears": prim.clears,
                "waits": prim.waits,
                "wait": _ongoing(timing.waited, prim.waiters, now_ns).figures(),
            }
        else:  # a barrier
            row |= {"passed": prim.gets, "wait": _ongoing(timing.waited, prim.waiters, now_ns).figures()}
        row["most_waiting"] = timing.most_waiting
        prims.append(row)
    procs = []
    for proc in model.procs.values():
        split = proc.split
        procs.append(
            {
                "pid": proc.pid,
                "name": proc.name,
                "role": proc.role,
                "alive": proc.alive,
                "lifetime_s": _s(split.lifetime(now_ns)),
                "time_s": {activity.value: _s(ns) for activity, ns in split.totals(now_ns).items()},
            }
        )
    start = model.t0 if model.t0 is not None else now_ns
    return {"duration_s": _s(max(0, now_ns - start)), "primitives": prims, "processes": procs}


def _ongoing(done: Durations, waiting: dict[int, int], now_ns: int) -> Durations:
    """``done`` with the waits (or holds) still going on counted up to ``now_ns``."""
    if not waiting:
        return done
    out = copy.deepcopy(done)
    for since in waiting.values():
        out.add(now_ns - since)
    return out


def seconds(s: float) -> str:
    """A duration for a person: ``2.41 s``, ``35 ms``, ``120 µs``."""
    if s >= 10:
        return f"{s:.1f} s"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 0.001:
        return f"{s * 1000:.0f} ms"
    if s > 0:
        return f"{s * 1e6:.0f} µs"
    return "0"


def table(figures: dict[str, Any]) -> list[str]:
    """The figures as lines of a plain table: ``mpviz stats`` and the end of ``--headless``."""
    out: list[str] = []
    prims = figures["primitives"]
    held = [p for p in prims if "hold" in p]
    if held:
        out.append(
            f"{'lock / semaphore / condition':<32}{'acquired':>9}{'waited':>8}{'wait p50':>10}{'p99':>9}{'max':>9}"
            f"{'hold p50':>10}{'max':>9}{'most waiting':>14}"
        )
        for p in held:
            w, h = p["wait"], p["hold"]
            out.append(
                f"{_label(p):<32}{p['acquisitions']:>9}{p['waits']:>8}{seconds(w['p50_s']):>10}"
                f"{seconds(w['p99_s']):>9}{seconds(w['max_s']):>9}{seconds(h['p50_s']):>10}{seconds(h['max_s']):>9}"
                f"{p['most_waiting']:>14}"
            )
    queues = [p for p in prims if "deepest" in p]
    if queues:
        out.append(
            f"{'queue / pipe':<32}{'put':>9}{'got':>8}{'deepest':>10}{'getters blocked':>18}{'putters blocked':>18}"
        )
        for p in queues:
            out.append(
                f"{_label(p):<32}{p['puts']:>9}{p['gets']:>8}{p['deepest']:>10}"
                f"{seconds(p['get_blocked']['total_s']):>18}{seconds(p['put_blocked']['total_s']):>18}"
            )
    events = [p for p in prims if "sets" in p]
    if events:
        out.append(f"{'event':<32}{'set':>9}{'cleared':>8}{'waits':>10}{'wait p50':>10}{'p99':>9}{'max':>9}")
        for p in events:
            w = p["wait"]
            out.append(
                f"{_label(p):<32}{p['sets']:>9}{p['clears']:>8}{p['waits']:>10}{seconds(w['p50_s']):>10}"
                f"{seconds(w['p99_s']):>9}{seconds(w['max_s']):>9}"
            )
    if figures["processes"]:
        head = "".join(f"{activity.value:>10}" for activity in Activity)
        out.append(f"{'process':<24}{'lifetime':>10}{head}")
        for p in figures["processes"]:
            parts = "".join(f"{seconds(p['time_s'][activity.value]):>10}" for activity in Activity)
            name = f"{p['name']} ({p['pid']})" if p["name"] != f"pid {p['pid']}" else p["name"]
            out.append(f"{name[:23]:<24}{seconds(p['lifetime_s']):>10}{parts}")
    return out


def _label(prim: dict[str, Any]) -> str:
    label = f"{prim['kind']} '{prim['name']}'"
    return label if len(label) <= 31 else label[:30] + "…"
