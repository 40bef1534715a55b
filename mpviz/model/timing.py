"""Contention figures, kept for the whole run in fixed memory.

* :class:`Durations` — how long waits or holds lasted: count, total, exact
  maximum, and quantiles (p50, p99) from a log-scale histogram once there are
  too many to keep each one;
* :class:`PrimTiming` — a primitive's waits, holds and blocked gets and puts;
* :class:`TimeSplit` — a process's lifetime cut into what it was doing
  (running, holding, waiting for a lock, blocked on a queue, waiting on an
  event, sleeping, other), stretch by stretch, so that the parts add up to
  its lifetime.

The reducer feeds them; nothing here knows about records or the model (the
reports over a model are in ``stats.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum


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
        if ns < 0:
            ns = 0
        self.count += 1
        self.total += ns
        if ns > self.max:
            self.max = ns
        if self._exact is None:
            # _bucket, written out: a wait's or a hold's end comes with nearly every record.
            index = math.floor(math.log2(ns) * self.SUB) if ns > 0 else -1
            self._buckets[index] = self._buckets.get(index, 0) + 1
            return
        self._exact.append(ns)
        if len(self._exact) <= self.EXACT:
            return
        kept, self._exact = self._exact, None
        for value in kept:
            self._bucket(value)

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
            "p50_s": in_seconds(self.quantile(0.5)),
            "p99_s": in_seconds(self.quantile(0.99)),
            "max_s": in_seconds(self.max),
            "total_s": in_seconds(self.total),
        }


def in_seconds(ns: int) -> float:
    """Nanoseconds as seconds, to the microsecond: the unit of ``mpviz stats --json``."""
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
    ELSEWHERE = "elsewhere"  # waiting in something no record tells of (a socket, a C call): its stack says
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
        # _close, written out: a process's activity changes with nearly every record of it.
        since = self.since_ns
        if t_ns < since:
            t_ns = since
        self._totals[self.activity] = self._totals.get(self.activity, 0) + t_ns - since
        self.since_ns = t_ns
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
