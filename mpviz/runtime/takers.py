"""The processes' threads that take turns in a scheduled run, as the records tell: where each is.

Whether each runs, waits at a point, is blocked, runs free or has ended; the
processes started and not yet at their first point; what the records say would
block (:class:`~mpviz.schedule.world.World`); the names of processes, threads
and sites.  The decisions are :class:`~mpviz.runtime.scheduler.Scheduler`'s,
which is a :class:`Takers`.
"""

from __future__ import annotations

import os
import select
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from mpviz.schedule.choice import Chooser, Step
from mpviz.schedule.world import Actor, World, actor_of
from mpviz.sync.process import UNSCHEDULED
from mpviz.telemetry import Event, now_ns
from mpviz.telemetry.framing import BLOCKS, GO

# How long a process let go has to come back to a point (or to start, once started) before it runs free.
STEP_TIMEOUT_S = 5.0

# The records a process let go into a wait (``BLOCKS``) sends just before it blocks.
BLOCKING = {
    "lock.wait",
    "rlock.wait",
    "sem.wait",
    "queue.get_blocked",
    "queue.put_blocked",
    "queue.join_wait",
    "pipe.recv_blocked",
    "event.wait",
    "cond.wait",
    "barrier.wait",
    "proc.join",
    "manager.wait",  # a call through a proxy let go into a wait in the server (nobody could go on)
}


class State(Enum):
    WAITING = "waiting at a point"
    RUNNING = "running"
    BLOCKED = "blocked"
    FREE = "running free"
    AWAY = "away"  # a lesson's main part in its own chores (a real-time sleep)
    ENDED = "ended"


@dataclass
class Turns:
    """How a run is scheduled: who chooses, sleeps in virtual time or not, how long a process
    may take to its next point, and the seed of every process's ``random``."""

    chooser: Chooser
    virtual_time: bool = False
    step_timeout: float = STEP_TIMEOUT_S
    seed: int = 0


@dataclass
class Entity:
    """A process's thread that takes turns."""

    actor: Actor
    who: str
    state: State = State.RUNNING
    ask: Event | None = None
    since_ns: int = 0
    answer: bytes = GO
    wake: float = 0.0  # virtual time: when its sleep (or its timed wait) ends
    waits_on: str = ""  # what it is blocked on (a condition, a barrier)


@dataclass
class Note:
    """Something the schedule must say besides the choices: a process let run free, a divergence."""

    step: int
    text: str


@dataclass
class Takers:
    """Every thread that takes turns, kept from the records (the scheduler's, under its lock)."""

    turns: Turns
    send: Callable[[int, bytes], bool]  # a request to a process on its connection
    post: Callable[[Event], None]  # a record of this process's, into the run's
    here: int = field(default_factory=os.getpid)  # this process: a lesson's main part asks here

    def __post_init__(self) -> None:
        self.world = World()
        self.entities: dict[Actor, Entity] = {}
        self.expected: dict[int, int] = {}  # processes started, not yet at their first point → since
        self.labels: dict[int, str] = {}
        self.threads: dict[int, str] = {}
        self.sites: dict[str, tuple[str, str]] = {}  # site id → (file:line, its source)
        self.steps: list[Step] = []
        self.notes: list[Note] = []
        self.vnow = 0.0  # virtual time (seconds)
        self._waking: Counter[str] = Counter()  # woken waiters on their way back, by what woke them
        # Processes that said they end, until they have (a pidfd, readable then): their parent's
        # end joins only the children that have not ended, and must see the same ones at every run.
        self._ending: dict[int, int] = {}

    # --- keeping track ------------------------------------------------------------------------

    def _note(self, event: Event) -> None:
        kind, data = event.kind, event.data
        if kind == "turn.ask":
            self._asked(event)
        elif kind == "site.new":
            where = f"{os.path.basename(str(data.get('file', '')))}:{data.get('line', '')}"
            self.sites[event.obj] = (where, str(data.get("text", "")))
        elif kind == "proc.spawn":
            label = data.get("label")
            if isinstance(label, str) and label:
                self.labels.setdefault(event.pid, label)
            unscheduled = data.get("role") in UNSCHEDULED
            if not unscheduled and event.pid not in self.world.ended and event.pid not in self._pids():
                self.expected.setdefault(event.pid, now_ns())
        elif kind == "proc.start":
            label = data.get("label")
            if isinstance(label, str) and label:
                self.labels.setdefault(event.pid, label)
            if data.get("role") in UNSCHEDULED:
                self.expected.pop(event.pid, None)
        elif kind == "proc.thread":
            th = data.get("th")
            if type(th) is int:
                self.threads[th] = event.obj
        elif kind == "proc.exit":
            self._end(event.pid)
        elif kind == "proc.thread_end":
            entity = self.entities.get((event.pid, data.get("th", 0)))
            if entity is not None:
                entity.state = State.ENDED
        elif kind in BLOCKING:
            self._blocking(event)
        elif kind in ("cond.notify", "cond.notify_all"):
            waiters = [e for e in self.entities.values() if e.state is State.BLOCKED and e.waits_on == event.obj]
            n = data.get("n", 1) if kind == "cond.notify" else len(waiters)
            self._waking[event.obj] += min(n if type(n) is int else 1, len(waiters))

    def _asked(self, ask: Event) -> None:
        actor = actor_of(ask)
        entity = self.entities.get(actor)
        if entity is None:
            entity = self.entities[actor] = Entity(actor, self._who(actor))
        elif entity.state is State.BLOCKED and self._waking[entity.waits_on] > 0:
            self._waking[entity.waits_on] -= 1
        self.expected.pop(ask.pid, None)
        entity.state = State.WAITING
        entity.ask = ask
        entity.waits_on = ""
        entity.wake = 0.0
        data = ask.data
        if data.get("op") == "proc.sleep":
            entity.wake = self.vnow + _seconds(data.get("s"))
        elif data.get("timeout") is not None:
            entity.wake = self.vnow + _seconds(data.get("timeout"))

    def _blocking(self, event: Event) -> None:
        """A record a process sends just before it blocks: blocked, if it was let go into that wait."""
        if event.kind == "barrier.wait" and event.data.get("n_waiting") == event.data.get("parties"):
            # The last one in: every one waiting there is on its way back to a point.
            waiting = [e for e in self.entities.values() if e.state is State.BLOCKED and e.waits_on == event.obj]
            self._waking[event.obj] += len(waiting)
        entity = self.entities.get(actor_of(event))
        if entity is None or entity.state is not State.RUNNING or entity.answer != BLOCKS:
            return
        entity.state = State.BLOCKED
        entity.waits_on = event.obj

    def _end(self, pid: int) -> None:
        """``pid`` said it ends, or its connection closed: ended once it has (see ``_ending``)."""
        self.expected.pop(pid, None)
        if pid in self._ending:
            return
        if pid != self.here:
            try:
                self._ending[pid] = os.pidfd_open(pid)
                return
            except OSError:
                pass  # gone already
        self._ended(pid)

    def _ended(self, pid: int) -> None:
        for entity in self.entities.values():
            if entity.actor[0] == pid:
                entity.state = State.ENDED

    def _all_ended(self) -> bool:
        """Every process that said it ends has (its pidfd readable: a zombie, or gone)."""
        if self._ending:
            done, _, _ = select.select(list(self._ending.values()), [], [], 0)
            for pid, fd in list(self._ending.items()):
                if fd in done:
                    os.close(fd)
                    del self._ending[pid]
                    self._ended(pid)
        return not self._ending

    def _pids(self) -> set[int]:
        return {actor[0] for actor in self.entities}

    def _who(self, actor: Actor) -> str:
        """A name for a process's thread that is the same from run to run: its label (and its thread's name)."""
        pid, tid = actor
        who = self.labels.get(pid) or ("main" if pid == self.here else f"pid {pid}")
        if tid != pid:
            who = f"{who}: {self.threads.get(tid) or f'thread {tid}'}"
        taken = {e.who for e in self.entities.values()}
        unique, n = who, 1
        while unique in taken:
            n += 1
            unique = f"{who} ({n})"
        return unique

    def _by_who(self, who: str) -> Entity | None:
        return next((e for e in self.entities.values() if e.who == who), None)

    def _timeouts(self, now: int) -> None:
        """A process let go that has not come back within the bound runs free; one started that has
        not come to its first point is no longer waited for."""
        bound = int(self.turns.step_timeout * 1e9)
        for entity in self.entities.values():
            if entity.state is State.RUNNING and now - entity.since_ns > bound:
                if stopped(entity.actor[0]):
                    entity.since_ns = now  # paused (z): its time to come back does not run meanwhile
                    continue
                entity.state = State.FREE
                self._say(
                    f"{entity.who} did not come back to a point within {self.turns.step_timeout:g} s: it runs free"
                )
                self.post(Event(now, entity.actor[0], "turn.free", "", {"who": entity.who}))
        for pid, since in list(self.expected.items()):
            if now - since > bound:
                if stopped(pid):
                    self.expected[pid] = now
                    continue
                del self.expected[pid]
                who = self.labels.get(pid, f"pid {pid}")
                self._say(f"{who} did not come to its first point within {self.turns.step_timeout:g} s: it runs free")
                self.post(Event(now, pid, "turn.free", "", {"who": who}))

    def _say(self, text: str) -> None:
        self.notes.append(Note(len(self.steps), text))


def stopped(pid: int) -> bool:
    """Is ``pid`` stopped (paused by a key, SIGSTOP)?  Its state in ``/proc/PID/stat``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2][1:2] in (b"T", b"t")
    except OSError:
        return False


def _seconds(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and value == value and value >= 0 else 0.0
