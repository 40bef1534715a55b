"""Each process's CPU, memory, threads and status, from ``/proc/PID/stat``, once a second.

One read of that file gives all four (psutil reads it, and ``statm`` and
``status`` besides, through several layers of calls): 10 µs a process instead
of 35 to 90, measured here with 100 processes.  And not every process is read
every round: one out of view (the screen says which are in it) that did not
run at its last read is read every ``IDLE_EVERY`` rounds, a process seen
running, or in view, every round.  Most lesson processes wait out of view
most of the time; the one that starts running again is seen within
``IDLE_EVERY`` seconds, and its CPU over that time is its average over it,
never a figure it did not reach.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass

from mpviz.telemetry import Event, now_ns

# A process out of view that did not run since its last read is read again this many rounds later.
IDLE_EVERY = 5
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
# /proc/PID/stat's state letters, in psutil's words (what the table, the model and recordings know).
STATUS = {
    "R": "running",
    "S": "sleeping",
    "D": "disk-sleep",
    "T": "stopped",
    "t": "tracing-stop",
    "Z": "zombie",
    "X": "dead",
    "x": "dead",
    "K": "wake-kill",
    "W": "waking",
    "I": "idle",
    "P": "parked",
}
# Out of descriptors: the process waits for the next round (psutil reads /proc as we do).
_SHORT = (errno.EMFILE, errno.ENFILE, errno.ENOMEM)


class Gone(Exception):
    """The process is no more (or its pid is another process's now)."""


@dataclass(frozen=True)
class Stat:
    status: str
    cpu_s: float  # user + system, in seconds
    threads: int
    rss: int  # bytes
    start: int  # clock ticks after boot: a pid reused is a process with another start


def read_stat(pid: int) -> Stat:
    """``/proc/PID/stat`` read and cut into what is sampled; :class:`Gone` if there is no such
    process. (Fields after the command, which may hold spaces and parentheses: see proc(5).)"""
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    except OSError as exc:
        if exc.errno in _SHORT:
            raise
        raise Gone from exc  # ENOENT; EACCES on a /proc mounted with hidepid: not ours to watch
    try:
        data = os.read(fd, 4096)
    except OSError as exc:  # ESRCH: it ended between the two calls
        raise Gone from exc
    finally:
        os.close(fd)
    fields = data[data.rfind(b")") + 2 :].split()
    if len(fields) < 22:
        raise Gone  # a kernel thread's, or a file cut short: nothing of a process to sample
    state = fields[0].decode("ascii", "replace")
    return Stat(
        status=STATUS.get(state, state),
        cpu_s=(int(fields[11]) + int(fields[12])) / TICKS,
        threads=int(fields[17]),
        rss=int(fields[21]) * PAGE,
        start=int(fields[19]),
    )


@dataclass
class _Tracked:
    start: int
    cpu_s: float | None = None  # at the last read (None: never read yet)
    read_at: float = 0.0  # time.monotonic() of the last read
    ran: bool = True  # its CPU time moved at the last read (a new process counts as running)
    due: int = 0  # the round it is read next


class Sampler:
    """Samples the tracked PIDs.

    It never waits for a process (``waitpid``): that would reap a
    multiprocessing child and steal its exit code from the supervisor.
    """

    def __init__(self) -> None:
        self._procs: dict[int, _Tracked] = {}
        self._rounds = 0
        # PIDs found gone (or zombie) since the last call of ``take_gone``; the zombies, until reaped.
        self._gone: list[int] = []
        self._zombies: set[int] = set()
        # pid → the figures last sent: a process whose figures did not move sends nothing
        # (most lesson processes wait most of the time; the model keeps the last figures).
        self._sent: dict[int, dict[str, object]] = {}
        # PIDs that could not be followed when asked (no descriptor to spare): asked again each round.
        self._later: set[int] = set()
        # The processes on screen (None: no screen says, every process counts as in view).
        self._shown: frozenset[int] | None = None

    def track(self, pid: int) -> None:
        try:
            stat = read_stat(pid)
        except Gone:
            self._gone.append(pid)  # ended already: said gone at the next round
            return
        except OSError:
            # Out of descriptors for a moment: followed from the next round on.
            self._later.add(pid)
            return
        if pid not in self._procs or self._procs[pid].start != stat.start:
            self._procs[pid] = _Tracked(stat.start, due=self._rounds)

    def show(self, pids: Iterable[int] | None) -> None:
        """The processes on screen: read every round (None: all of them)."""
        self._shown = None if pids is None else frozenset(pids)

    def sample(self) -> list[Event]:
        for pid in list(self._later):
            self._later.discard(pid)
            self.track(pid)
        t = now_ns()
        events: list[Event] = []
        shown = self._shown
        rounds = self._rounds
        self._rounds += 1
        for pid, tracked in list(self._procs.items()):
            if tracked.due > rounds and not (shown is None or pid in shown or pid in self._zombies):
                continue
            try:
                stat = read_stat(pid)
                if stat.start != tracked.start:
                    raise Gone
            except Gone:
                # (Unless the pid was tracked anew meanwhile, by a connection's thread: another
                # process now has it, and is followed from here on.)
                if self._procs.get(pid) is tracked:
                    self._forget(pid, t, events)
                continue
            except OSError:  # out of file descriptors for a moment: this one waits for the next round
                continue
            if stat.status == "zombie":
                # Ended, not yet waited for by its parent: said once, and watched until it is.
                if pid not in self._zombies:
                    self._zombies.add(pid)
                    self._gone.append(pid)
                    events.append(Event(t, pid, "proc.stats", "", {"status": stat.status}))
                continue
            cpu = self._percent(tracked, stat.cpu_s)
            # Idle: read at the next round of its own phase (by pid), so that the idle are spread over rounds.
            tracked.due = rounds + 1 + (0 if tracked.ran else (pid - rounds - 1) % IDLE_EVERY)
            data: dict[str, object] = {"cpu": cpu, "status": stat.status, "rss": stat.rss, "threads": stat.threads}
            if self._sent.get(pid) == data:
                continue
            self._sent[pid] = data
            events.append(Event(t, pid, "proc.stats", "", data))
        return events

    def _forget(self, pid: int, t: int, events: list[Event]) -> None:
        del self._procs[pid]
        self._sent.pop(pid, None)
        if pid in self._zombies:
            self._zombies.discard(pid)
            events.append(Event(t, pid, "proc.reaped", "", {}))
        else:
            self._gone.append(pid)

    @staticmethod
    def _percent(tracked: _Tracked, cpu_s: float) -> float:
        """CPU % as a share of one core since the last read (psutil's ``cpu_percent(None)``)."""
        now = time.monotonic()
        last, then = tracked.cpu_s, tracked.read_at
        tracked.cpu_s, tracked.read_at = cpu_s, now
        tracked.ran = last is None or cpu_s != last  # a first read counts as running
        if last is None or now <= then:
            return 0.0
        return round(100 * (cpu_s - last) / (now - then), 1)

    def status(self, pid: int) -> str:
        """A tracked process's status now ("" if it is not tracked or gone)."""
        tracked = self._procs.get(pid)
        if tracked is None:
            return ""
        try:
            stat = read_stat(pid)
        except (Gone, OSError):
            return ""
        return stat.status if stat.start == tracked.start else ""

    def take_gone(self) -> list[int]:
        gone, self._gone = self._gone, []
        return gone
