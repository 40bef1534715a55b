"""What the channels believe: who may connect, which records a process may send, what the run's
limits are, and the count of what was refused.

Any process of a watched program can reach the run's socket and write
anything: a connection's pid is the kernel's word (``SO_PEERCRED``), never a
frame's; a record is its sender's own, or a parent's word on a child of the
run it started; records only the dashboard makes are never taken from a
process.  What is refused is counted and said in ``run.refused`` records.
"""

from __future__ import annotations

import os
import resource
from collections import Counter
from collections.abc import Callable

from mpviz.runtime.guardian import parent
from mpviz.telemetry import Event

# Connections open at once, over the run and per process (a process has one; a
# forked child holds its parent's for a moment).  Each process costs the
# dashboard three descriptors (its connection, its stdout and its stderr):
# the run's share of the descriptors bounds them too.
MAX_CONNECTIONS = 4096
MAX_CONNECTIONS_PER_PROCESS = 4
FDS_PER_PROCESS = 3
FDS_KEPT = 256  # for everything else: the sentinels, the recording, the terminal, psutil
# How often the counts of what was refused are said (a ``run.refused`` record each).
REFUSED_EVERY_NS = 1_000_000_000

# What a parent may say of a child it said it started (``proc.spawn``): its end, and that it was joined.
AFTER_SPAWN = ("proc.exit", "proc.reaped")

# Records only the dashboard makes (a scheduled run's decisions too): a process that sends one is not believed.
DASHBOARD_KINDS = (
    "proc.stats",
    "proc.output",
    "proc.signal",
    "run.",
    "ui.",
    "turn.go",
    "turn.offer",
    "turn.free",
    "turn.stuck",
)


# Kinds a process may send (not the dashboard's own), remembered as met, up to this many: a
# ring's records are believed one by one, and the test of a kind's prefixes was most of that.
MAX_KINDS_KNOWN = 1024


def connection_limit() -> int:
    """How many connections the run may hold open at once, within this process's descriptors."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(16, min(MAX_CONNECTIONS, (soft - FDS_KEPT) // FDS_PER_PROCESS))


class Trust:
    """``on_connect(pid)`` is asked about each process that connects, the first time it does:
    False refuses it (not a process of the run).  ``vouch(pid)`` says whether a child a
    process says it started is of the run."""

    def __init__(self, on_connect: Callable[[int], bool], vouch: Callable[[int], bool | None]) -> None:
        self._on_connect = on_connect
        self._vouch = vouch
        self.limit = connection_limit()
        # Every process that ever connected: the processes of the run.
        self.seen: set[int] = set()
        self._refused_pids: set[int] = set()
        # Children a process said it started (child → parent): the parent may say how they ended.
        self._spawned: dict[int, int] = {}
        # Each process's parent when it first connected (its /proc stat's; none if gone by then): a
        # parent that reaps a child it forked or ran (os.fork, subprocess) may say how it ended too.
        self._parents: dict[int, int] = {}
        # What was refused, by what: connections past the limit (``connections``), from processes
        # not of the run (``foreign``), records that named a process not their sender (``forged``),
        # rings that could not be read (``rings``).
        self.refused: Counter[str] = Counter()
        self._said: Counter[str] = Counter()
        self._said_when = 0
        self._sendable: dict[str, bool] = {}  # kind → not one only the dashboard makes

    def welcome(self, pid: int, open_: int, own: int) -> bool:
        """Whether a new connection from ``pid`` is taken (and counted if not), with ``open_``
        connections open, ``own`` of them its own."""
        if pid in self._refused_pids:
            self.refused["foreign"] += 1
            return False
        if open_ >= self.limit or own >= MAX_CONNECTIONS_PER_PROCESS:
            self.refused["connections"] += 1
            return False
        if pid not in self.seen:
            if not self._on_connect(pid):
                self._refused_pids.add(pid)
                self.refused["foreign"] += 1
                return False
            self.seen.add(pid)
        # Its parent now (at each connection: a pid used again in the run is another process).
        up = parent(pid)
        if up is not None:
            self._parents[pid] = up
        return True

    def believed(self, sender: int, event: Event, accept: Callable[[], None]) -> bool:
        """A record is its sender's own; or a parent's word on a child of the run it started
        (``proc.spawn``, then ``AFTER_SPAWN``).  ``accept``: take the connections waiting (a
        child's may be among them).  A record not believed is counted."""
        believed = self._believed(sender, event, accept)
        if believed:
            return True
        if believed is False:
            self.refused["forged"] += 1
        return False

    def believe_all(self, sender: int, events: list[Event], into: list[Event], accept: Callable[[], None]) -> None:
        """Records read from ``sender``'s ring (the pid of the connection that handed it over):
        those believed as that connection's records are go ``into``; the others are counted."""
        believed, append, sendable = self.believed, into.append, self._sendable
        for event in events:
            # (Nearly every record of a ring is its writer's own, of a kind met before, and no
            # dashboard's: said at once.)
            own = sendable.get(event.kind)
            if own is None:
                own = not event.kind.startswith(DASHBOARD_KINDS)
                if len(sendable) < MAX_KINDS_KNOWN:
                    sendable[event.kind] = own
            if (own and event.pid == sender) or believed(sender, event, accept):
                append(event)

    def _believed(self, sender: int, event: Event, accept: Callable[[], None]) -> bool | None:
        """True: believed; False: forged; None: nobody can tell (a word on a process gone before it
        connected, or never of the run): not believed, and not counted as forged."""
        if event.kind.startswith(DASHBOARD_KINDS):
            return False
        if event.pid == sender:
            return True
        if event.kind == "proc.spawn" and event.pid > 1:
            if event.pid not in self.seen:
                vouched = self._vouch(event.pid)
                if not vouched:
                    # Gone already (a pool's worker ends quickly)?  Then it connected, if it was
                    # real: its connection may still wait in the listener's queue.
                    accept()
                    if event.pid not in self.seen:
                        return vouched  # (None: gone, a worker dead before it connected, or none such)
            self._spawned[event.pid] = sender
            return True
        if event.kind not in AFTER_SPAWN:
            return False
        if self._spawned.get(event.pid) == sender:
            return True
        if event.pid not in self.seen:
            accept()  # (its connection, made at its start, may still wait in the listener's queue)
            if event.pid not in self.seen:
                return None  # a child never of the run (``ls``, run by subprocess): nothing to tell of it
        # Its parent as it was when it connected (or, gone before it could be read, taken at its word).
        return self._parents.get(event.pid, sender) == sender

    def say_refused(self, now: int, into: list[Event], at_once: bool = False) -> None:
        """What was refused since it was last said, once a second at most (``at_once``: now,
        the run ends): a record each."""
        if at_once:
            self._said_when = 0
        if now - self._said_when < REFUSED_EVERY_NS or self.refused == self._said:
            return
        self._said_when = now
        for what, n in self.refused.items():
            if n != self._said[what]:
                into.append(Event(now, os.getpid(), "run.refused", what, {"n": n}))
        self._said = Counter(self.refused)
