"""The dashboard's drain of the processes' rings (read with :mod:`mpviz.telemetry.ring_reader`).

A ring is known by the process whose connection handed it over (the
kernel's pid of that connection), and kept until that process is known to
have ended: a process killed a moment after a burst still has its last
records read, from the ring that outlives it here.

A ring that had records is *active*: it is looked at again ``POLL_S``
later (not sooner: records are taken in batches, and a dashboard reading as
fast as a process writes would cost as much as the process), and its writer
makes no system call.  A ring found empty at two looks in a row is *armed*:
it is not looked at until its writer wakes the dashboard (one empty frame on
its connection), and costs nothing while its process is quiet.  (Armed at
the first empty look, a ring written in bursts, its writer's core taken a
moment by another process, was woken for hundreds of times a second, each
wake-up a system call in the writer.)  Every ring is looked at once a ``SWEEP_NS`` anyway:
a wake-up lost to the order of two stores and two loads on two cores is
late by that much at worst.
"""

from __future__ import annotations

import threading

from mpviz.telemetry import Event
from mpviz.telemetry.ring_reader import RingReader

# How soon an active ring is looked at again while the dashboard waits.
POLL_S = 0.01
POLL_NS = int(POLL_S * 1e9)
# Every ring, armed or not, is looked at this often.
SWEEP_NS = 1_000_000_000


class Rings:
    """Only the channels' reading thread calls these."""

    def __init__(self) -> None:
        self._rings: dict[int, RingReader] = {}  # pid → its ring
        self._active: set[int] = set()
        self._empty: set[int] = set()  # active rings found empty at the last look: armed at the next
        # Rings left with records after a take (a take is bounded): the time of the last record
        # taken from each.  Nothing later than that may be given out yet: the rest of that ring,
        # read at a later turn, would come out of time order.
        self._behind: dict[int, int] = {}
        self._polled = 0
        self._fence = threading.Lock()
        self._swept = 0
        self.malformed = 0  # in rings already closed

    def __bool__(self) -> bool:
        return bool(self._rings)

    def __contains__(self, pid: int) -> bool:
        return pid in self._rings

    def add(self, pid: int, fd: int, into: list[Event]) -> bool:
        """The ring ``pid`` handed over on its connection (``fd``, taken); False if it is not one.
        A ring the pid had before (an earlier process of that pid) is read to its end first."""
        try:
            ring = RingReader(fd)
        except ValueError:
            return False
        self.end(pid, into)
        self._rings[pid] = ring
        self._active.add(pid)
        return True

    def take(self, pid: int, into: list[Event], everything: bool = False) -> None:
        """What ``pid``'s ring holds (none: nothing), a take's worth or ``everything``; the ring is
        active from now on."""
        ring = self._rings.get(pid)
        if ring is not None:
            start = len(into)
            if everything:
                ring.take_all(pid, into)
            else:
                ring.take(pid, into)
            self._left(pid, ring, into, start)
            ring.disarm()
            self._active.add(pid)
            self._empty.discard(pid)

    def _left(self, pid: int, ring: RingReader, taken: list[Event], start: int = 0) -> None:
        """After a take: whether ``pid``'s ring still holds records, and the time it got to."""
        if ring.pending():
            if len(taken) > start:
                self._behind[pid] = taken[-1].t_ns
        else:
            self._behind.pop(pid, None)

    def frontier(self) -> int | None:
        """The time up to which every ring is read (None: every ring is read to its end)."""
        return min(self._behind.values()) if self._behind else None

    def next_poll_s(self, now: int) -> float | None:
        """How soon :meth:`poll` has something to look at: the active rings' next look (None: no
        ring is active; an armed one wakes the dashboard)."""
        if not self._active:
            return None
        return max(0.0, (self._polled + POLL_NS - now) / 1e9)

    def poll(self, now: int, into: dict[int, list[Event]]) -> None:
        """Read the active rings, ``POLL_S`` after the last look (every ring, once a sweep), into
        ``into`` by pid; arm those found empty twice in a row."""
        if now - self._swept >= SWEEP_NS:
            self._swept = self._polled = now
            pids = list(self._rings)
        elif now - self._polled >= POLL_NS:
            self._polled = now
            pids = list(self._active)
        else:
            return
        quiet = []
        for pid in pids:
            ring = self._rings[pid]
            taken: list[Event] = []
            if ring.take(pid, taken):
                self._active.add(pid)
            self._left(pid, ring, taken)
            if taken:
                into[pid] = taken
                self._empty.discard(pid)
            elif pid in self._empty:
                quiet.append((pid, ring))
                self._active.discard(pid)
                self._empty.discard(pid)
            elif pid in self._active:
                self._empty.add(pid)
        if quiet:
            for _, ring in quiet:
                ring.arm()
            with self._fence:  # the stores above before the loads below (a lock is a barrier)
                pass
            for pid, ring in quiet:
                if ring.pending():  # written between the look and the arming: no wake-up comes for it
                    ring.disarm()
                    self._active.add(pid)

    def end(self, pid: int, into: list[Event]) -> None:
        """``pid`` ended: its ring read to its end, and let go."""
        ring = self._rings.pop(pid, None)
        if ring is not None:
            ring.take_all(pid, into)
            self._active.discard(pid)
            self._empty.discard(pid)
            self._behind.pop(pid, None)
            self._empty.discard(pid)
            self.malformed += ring.malformed
            ring.close()

    def pids(self) -> list[int]:
        return list(self._rings)

    @property
    def malformed_now(self) -> int:
        return self.malformed + sum(r.malformed for r in self._rings.values())
