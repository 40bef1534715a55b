"""What the model knows: processes and primitives, as plain dataclasses, and the model that holds them.

No I/O, no clock of its own, no Textual: feed a :class:`Model` records with
:meth:`Model.apply` and read processes, primitives, counts and facts.  The
time "now", where an answer depends on it, is always an argument.

What a record does to the model is its kind's handler, in the table
:data:`HANDLERS` that this module owns and knows nothing else of: the handler
modules (``procs.py``, ``locks.py``, ``queues.py``, ``events.py``,
``pools.py``, with the steps they share in ``reducer.py``) fill it with
:func:`handles` as ``mpviz.model`` imports them.  They import this module and
it imports none of them, so the model's modules make no import circle.  The
readers that need more than the state (``find_anomalies``, the contention
figures of ``stats.py``, the wait-for graph) are functions of a model in
modules of their own, for the same reason.
"""

from __future__ import annotations

import heapq
import os
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from itertools import accumulate
from typing import Any, NamedTuple, TypeAlias

from mpviz import lang
from mpviz.lang import T
from mpviz.model.samples import Samples
from mpviz.model.stacks import ThreadStack
from mpviz.model.timing import PrimTiming, TimeSplit
from mpviz.model.words import FAMILY_WORDS, describe, line, refusal
from mpviz.shown import needs_showing, shown, visible
from mpviz.telemetry import Event


class Phase(Enum):
    """What a process is doing, in the few kinds the timeline colours."""

    STARTING = "starting"
    RUNNING = "running"
    BLOCKED = "blocked"
    HOLDING = "holding"
    STOPPED = "stopped"
    EXITED = "exited"
    SLEEPING = "sleeping"  # in time.sleep (last: a replay's checkpoints number the phases)

    # Each is one object: hashed as one (Enum's own hash is a call in Python, and processes' time
    # in each phase is kept by phase).
    __hash__ = object.__hash__


PHASES = list(Phase)


def _gaps(times: Iterable[int]) -> array[int]:
    """Times as the gaps between them (the first from 0): small numbers, which compress well."""
    out, last = array("q"), 0
    for t in times:
        out.append(t - last)
        last = t
    return out


class Stats(NamedTuple):
    """One psutil sample of a process."""

    cpu: float
    rss: int
    threads: int
    status: str


STARTING_WORDS = T("starting", "启动中")

# Bounds of what is kept per process: enough for the timeline's window and the
# details pane, flat however long the lesson runs.
HISTORY = 512
RECENT_EVENTS = 64


@dataclass
class Said:
    """Everything a process said about one state, kept for the whole run.

    A display keeps a bounded log; a verdict needs counts that a long run
    cannot push out of a buffer: how often, first and last, numeric fields
    added up (``bytes``) and true flags counted (``matched``).
    """

    count: int = 0
    first_ns: int = 0
    last_ns: int = 0
    last: dict[str, Any] = field(default_factory=dict)
    sums: dict[str, float] = field(default_factory=dict)
    trues: dict[str, int] = field(default_factory=dict)

    def add(self, t_ns: int, data: dict[str, Any]) -> None:
        if not self.count:
            self.first_ns = t_ns
        self.count += 1
        self.last_ns = max(self.last_ns, t_ns)
        self.last = data
        for key, value in data.items():
            if isinstance(value, bool):
                if value:
                    self.trues[key] = self.trues.get(key, 0) + 1
            elif isinstance(value, (int, float)):
                self.sums[key] = self.sums.get(key, 0) + value


class Site(NamedTuple):
    """Where in the user's code an operation was made (``site.new``)."""

    file: str
    line: int
    func: str
    text: str  # the line's source

    @property
    def where(self) -> str:
        """``consumer.py:9 in consume``."""
        return f"{os.path.basename(self.file)}:{self.line} in {self.func}"


@dataclass
class Thread:
    """A thread of a process other than its main thread (which is the :class:`Proc` itself):
    what it waits for and holds, known from its records (``th``: its native id, ``tid``)."""

    tid: int
    pid: int
    name: str = ""
    blocked: str = ""
    waiting_on: str | None = None
    holds: dict[str, int] = field(default_factory=dict)
    sleeping: bool = False
    turn: str = ""  # a scheduled run: what it waits at a point to do, in words ("" while it may run)
    at: str = ""  # the site of what it waits for now
    held_at: dict[str, str] = field(default_factory=dict)  # what it holds → the site it took it at
    # What its last stack says it waits in, when no record of it does (a socket, a C call), and
    # whether that is a sleep.
    elsewhere: str = ""
    elsewhere_sleeps: bool = False
    state: str = ""
    phase: Phase = Phase.RUNNING
    since_ns: int = 0
    ended: bool = False  # (kept only while it holds something)

    @property
    def label(self) -> str:
        return self.name or f"thread {self.tid}"


@dataclass
class Proc:
    pid: int
    role: str = "process"
    label: str = ""
    ppid: int | None = None
    started_ns: int = 0
    # What the process last said it does (``report``), and what it is blocked on.
    said: str = ""
    blocked: str = ""
    # The id of the primitive it is blocked on, or "pid N" while it joins process N.
    waiting_on: str | None = None
    holds: dict[str, int] = field(default_factory=dict)
    stopped: bool = False
    sleeping: bool = False  # in a sleep of its own (``proc.sleep`` … ``proc.slept``)
    turn: str = ""  # a scheduled run: what it waits at a point to do, in words ("" while it may run)
    at: str = ""  # the site of what its main thread waits for now
    held_at: dict[str, str] = field(default_factory=dict)  # what it holds → the site it took it at
    # What its main thread's last stack says it waits in, when no record of it does, and whether it sleeps.
    elsewhere: str = ""
    elsewhere_sleeps: bool = False
    # Its other threads that ever waited for or held something, by native id.
    threads: dict[int, Thread] = field(default_factory=dict)
    # Its last stacks (every thread's, innermost frame last), when they were read, or why they could not be.
    stacks: tuple[ThreadStack, ...] = ()
    stacks_ns: int = 0
    stacks_missing: str = ""
    # Its last record but samples: a stack read before it is out of date.
    acted_ns: int = 0
    exited_ns: int | None = None
    exit_code: int | None = None
    exit_signal: str | None = None
    ran: bool = False  # its target returned (what is left is its exit)
    ran_ns: int = 0  # when
    # Ended but not yet waited for by its parent (the kernel keeps it as a zombie), and the site
    # of the line that started it (its ``proc.spawn``).
    zombie: bool = False
    started_at: str = ""
    error: str = ""
    # The state in words (the current language's) and since when; the phase and since when.
    state: str = field(default_factory=lambda: str(STARTING_WORDS))
    since_ns: int = 0
    phase: Phase = Phase.STARTING
    phase_since_ns: int = 0
    # Nanoseconds spent in each phase before the current one.
    totals: dict[Phase, int] = field(default_factory=dict)
    history: deque[tuple[int, Phase, str]] = field(default_factory=lambda: deque(maxlen=HISTORY))
    recent: deque[Event] = field(default_factory=lambda: deque(maxlen=RECENT_EVENTS))
    stats: Stats | None = None
    # Its psutil figures over the last minutes: the sparklines, and a replay's spikes.
    samples: Samples = field(default_factory=Samples)
    # Seen from outside (an attached program's, ``proc.seen``): its stacks say what it does, not
    # records; what it runs in ("running at busy.py in spin"), and what its other threads do.
    outside: bool = False
    seen: str = ""
    seen_threads: tuple[str, ...] = ()
    lines: int = 0  # lines it printed, over the run
    last_err: str = ""  # the last line it printed on stderr (a traceback's last: what went wrong)
    # What the process said (``report``), per state, over the whole run: verdicts read these.
    facts: dict[str, Said] = field(default_factory=dict)
    # Its lifetime cut into running, holding, waiting …: the contention figures.
    split: TimeSplit = field(init=False)

    def __post_init__(self) -> None:
        self.split = TimeSplit(self.started_ns)

    # A replay's checkpoints pickle the model: the history as columns pickles far quicker than tuples.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        history = self.history
        state["history"] = (
            _gaps(t for t, _, _ in history),
            bytes(PHASES.index(phase) for _, phase, _ in history),
            [words for _, _, words in history],
        )
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        times, phases, words = state["history"]
        phases = map(PHASES.__getitem__, phases)
        state["history"] = deque(zip(accumulate(times), phases, words, strict=True), maxlen=HISTORY)
        self.__dict__.update(state)

    @property
    def alive(self) -> bool:
        return self.exited_ns is None

    @property
    def name(self) -> str:
        """Its label in the current language ("group 3"), or its pid."""
        return lang.label(self.label) if self.label else f"pid {self.pid}"

    def recorded(self) -> dict[int, str]:
        """What its records say its threads (by native id; the main thread's is the pid) wait for or hold."""
        known = {self.pid: self.state} if self.blocked or self.holds else {}
        known.update((tid, t.state) for tid, t in self.threads.items() if t.blocked or t.holds)
        return known

    def said_count(self, state: str) -> int:
        fact = self.facts.get(state)
        return fact.count if fact else 0

    def first_said(self, state: str) -> int | None:
        """When the process first said ``state`` (None: never)."""
        fact = self.facts.get(state)
        return fact.first_ns if fact else None

    def time_in(self, phase: Phase, now_ns: int) -> int:
        """Nanoseconds spent in ``phase`` so far, the current stretch included."""
        total = self.totals.get(phase, 0)
        if self.phase is phase and phase is not Phase.EXITED:
            total += max(0, now_ns - self.phase_since_ns)
        return total

    def exit_words(self) -> str:
        if self.exit_signal:
            return EXIT_WORDS["killed"](signal=self.exit_signal)
        if self.exit_code is None:
            return str(EXIT_WORDS["gone"])
        if self.exit_code == 0:
            return str(EXIT_WORDS["done"])
        return EXIT_WORDS["code"](code=self.exit_code)


EXIT_WORDS = {
    "killed": T("killed by {signal}", "被 {signal} 杀死"),
    "gone": T("gone", "已消失"),
    "done": T("done", "已结束"),
    "code": T("exited with code {code}", "已退出,退出码 {code}"),
}


class Overlap:
    """The most holders a primitive had at once, from +1/-1 steps.

    Steps come from different processes' pipes and can arrive a little out of
    order; they are held back for a window of record time and counted in time
    order, so the maximum is exact as long as no record is later than that.
    """

    WINDOW_NS = 5_000_000_000

    def __init__(self) -> None:
        # The steps held back, in time order: a deque while they come in order (nearly always),
        # a heap from the first that does not, until it is empty again.  A sorted deque is a heap too.
        self._pending: deque[tuple[int, int]] | list[tuple[int, int]] = deque()
        self._in_order = True
        self._count = 0
        self._max = 0
        self._latest = 0

    def step(self, t_ns: int, delta: int) -> None:
        pending = self._pending
        step = (t_ns, delta)
        if not self._in_order:
            heapq.heappush(pending, step)  # type: ignore[arg-type]
        elif not pending or step >= pending[-1]:
            pending.append(step)
        else:
            self._pending = pending = list(pending)
            self._in_order = False
            heapq.heappush(pending, step)
        if t_ns > self._latest:
            self._latest = t_ns
        edge = self._latest - self.WINDOW_NS
        if pending[0][0] > edge:
            return
        count, most = self._count, self._max
        if self._in_order:
            while pending and pending[0][0] <= edge:
                count += pending.popleft()[1]  # type: ignore[union-attr]
                most = max(most, count)
        else:
            while pending and pending[0][0] <= edge:
                count += heapq.heappop(pending)[1]  # type: ignore[arg-type]
                most = max(most, count)
            if not pending:
                self._pending, self._in_order = deque(), True
        self._count, self._max = count, most

    # A replay's checkpoints pickle the model: the steps as two arrays pickle far quicker than tuples.
    # Sorted first: a sorted list is a heap too, and the gaps between sorted times compress well.
    def __getstate__(self) -> tuple[int, int, int, array[int], array[int]]:
        pending = sorted(self._pending)
        times = _gaps(t for t, _ in pending)
        deltas = array("b", (d for _, d in pending))
        return self._count, self._max, self._latest, times, deltas

    def __setstate__(self, state: tuple[int, int, int, array[int], array[int]]) -> None:
        self._count, self._max, self._latest, gaps, deltas = state
        self._pending = deque(zip(accumulate(gaps), deltas, strict=True))
        self._in_order = True

    @property
    def max(self) -> int:
        count, most = self._count, self._max
        for _, delta in sorted(self._pending):
            count += delta
            most = max(most, count)
        return most


@dataclass
class Prim:
    """A primitive as the records describe it.

    ``id`` is what its records carry (unique in the run); ``name`` is what a
    person reads: the ``name=`` it was given or the variable it was assigned
    to, made unique by the model ("lock", "lock#2"); ``site`` is where it was
    created ("ticket.py:33").
    """

    id: str
    name: str
    family: str  # lock, rlock, sem, cond, event, barrier, queue, pipe, …
    site: str = ""
    # Locks and semaphores: who holds it (pid → depth), who waits (pid → since), in order.
    holders: dict[int, int] = field(default_factory=dict)
    held_since: dict[int, int] = field(default_factory=dict)
    waiters: dict[int, int] = field(default_factory=dict)
    value: int | None = None
    capacity: int | None = None
    overlap: Overlap = field(default_factory=Overlap)
    acquisitions: int = 0
    waits: int = 0  # how often a process had to wait for it
    put_waits: int = 0  # queues: how often a put found it full and waited
    # Events: the flag, when it last changed, how often set and cleared, the first set and pass.
    is_set: bool = False
    changed_ns: int | None = None
    sets: int = 0
    clears: int = 0
    first_set_ns: int | None = None
    first_pass_ns: int | None = None
    # Conditions: how often notified (``notify`` or ``notify_all``).
    notifies: int = 0
    # Barriers: broken (until reset), and how many processes passed.
    broken: bool = False
    passed: int = 0
    # Seen from outside (an attached program's stacks): who waits is known, who holds is not; a
    # queue's ``putters`` are then every process that held its write end (``feeders_known``).
    outside: bool = False
    feeders_known: bool = False
    # Pools: tasks handed out, results got back, the workers that said they work for it
    # (each waits on it for a task: ``waiting_on`` is the pool's id), who waits for its results.
    tasks: int = 0
    results: int = 0
    workers: set[int] = field(default_factory=set)
    # Managers: calls through their proxies, by proxy ("d (dict)"), and the last one (pid, record).
    calls: int = 0
    proxies: Counter[str] = field(default_factory=Counter)
    last_call: Event | None = None
    # An object a manager's server holds, waited on through its proxies: that manager's id.
    via: str = ""
    # Queues and pipes.
    depth: int = 0
    deepest: int = 0
    puts: int = 0
    gets: int = 0
    pills_put: int = 0
    pills_got: int = 0
    putters: set[int] = field(default_factory=set)
    # Pipes: messages sent from each end, and received at each end.
    sent: dict[int, int] = field(default_factory=dict)
    received: dict[int, int] = field(default_factory=dict)
    blocked_get: dict[int, int] = field(default_factory=dict)
    blocked_put: dict[int, int] = field(default_factory=dict)
    # Items put and not yet taken (item → count).  A count below zero means
    # more gets than puts of that item; it can be so for a moment while a put's
    # record is still on its way, and for good if an item was taken twice.
    in_flight: dict[str, int] = field(default_factory=dict)
    # What is in it now, oldest first, for display: an item taken in another process's words
    # takes out the oldest (first in, first out); bounded.
    contents: deque[str] = field(default_factory=lambda: deque(maxlen=HISTORY))
    # (time, depth) after each put and get, for the depth-over-time chart.
    depth_history: deque[tuple[int, int]] = field(default_factory=lambda: deque(maxlen=HISTORY))
    # How long waits, holds and blocked gets and puts lasted, over the whole run.
    timing: PrimTiming = field(default_factory=PrimTiming)
    # Queues: how many items each putter put that are still in it (gets take the oldest first).
    outstanding: dict[int, int] = field(default_factory=dict)
    put_order: deque[int] = field(default_factory=deque)
    # Pools: when the last task went out and the last result came back.
    last_task_ns: int = 0
    last_result_ns: int = 0
    # Shared memory: its block's name, and whether it was unlinked.  Who made it (the prim.new's process).
    block: str = ""
    unlinked: bool = False
    maker: int = 0
    # Where it was waited for (any wait: an acquire, a get, a recv …) and taken, by site id: how often.
    wait_sites: Counter[str] = field(default_factory=Counter)
    hold_sites: Counter[str] = field(default_factory=Counter)

    @property
    def word(self) -> str:
        """What kind of primitive it is, in words of the current language ("semaphore")."""
        return lang.words_for(self.family, FAMILY_WORDS)

    def depth_over(self, start_ns: int, step_ns: int, columns: int) -> list[int]:
        """The deepest the queue was in each of ``columns`` steps from ``start_ns``."""
        out = [0] * columns
        depth = 0
        history = iter(self.depth_history)
        pending = next(history, None)
        while pending is not None and pending[0] < start_ns:
            depth = pending[1]
            pending = next(history, None)
        for c in range(columns):
            end = start_ns + (c + 1) * step_ns
            deepest = depth
            while pending is not None and pending[0] < end:
                depth = pending[1]
                deepest = max(deepest, depth)
                pending = next(history, None)
            out[c] = deepest
        return out

    @property
    def max_holders(self) -> int:
        return self.overlap.max

    def unconsumed(self) -> int:
        return sum(n for n in self.in_flight.values() if n > 0)

    def overconsumed(self) -> list[str]:
        return [item for item, n in self.in_flight.items() if n < 0]


class Taking(NamedTuple):
    """One taker's first taking of ``second`` while it held ``first``."""

    actor: int
    first_at: str  # site ids
    second_at: str
    gates: frozenset[str]  # everything else it held then


class Potential(NamedTuple):
    """A cycle in the lock order: its locks in order, and the taking of each edge."""

    locks: tuple[str, ...]  # prim ids, each taken after the one before (and the first after the last)
    takings: tuple[Taking, ...]


class Anomaly(NamedTuple):
    """Something the lesson should make the user see: a deadlock, a hang."""

    kind: str  # deadlock, dead-holder, paused-holder, starved, lost, hang, order, doubt
    text: str
    pids: tuple[int, ...] = ()


# Who takes part in a wait or a hold: a process's main thread (the Proc) or another of its threads.
# Primitives key their holders and waiters by its id: the pid, or the thread's native id.
Actor: TypeAlias = Proc | Thread

# Records that come every second and say nothing a log line would: kept out of the logs.
UNLOGGED = frozenset({"proc.stats", "proc.stack", "proc.stacks"})
LOG_LENGTH = 2000
OUTPUT_LENGTH = 2000
# The most primitives a run shows: more are counted (``refused["primitives"]``), their records
# dropped.  A primitive costs the model a few KiB; a program that makes a hundred thousand
# (or a forged stream of ``prim.new``) must not take the dashboard's memory.
MAX_PRIMITIVES = 20_000
# The families of records that are about a primitive (their ``obj`` is its id).
PRIM_FAMILIES = frozenset({"prim", "lock", "rlock", "sem", "cond", "event", "barrier", "queue", "pipe", "pool"})
TURNS_SHOWN = 12


@dataclass
class Turns:
    """A scheduled run's decisions (``turn.*`` records): what is offered now — each option ``[who,
    op, what, at, may go]`` — while a person chooses, how many went, the last ones, who runs free,
    and whether nobody could go on."""

    offer: list[list[Any]] | None = None
    made: int = 0
    recent: deque[Event] = field(default_factory=lambda: deque(maxlen=TURNS_SHOWN))
    free: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)


class Model:
    """A run's state, from its records: processes, primitives, counts, what was printed."""

    def __init__(self) -> None:
        self.procs: dict[int, Proc] = {}
        # By id (what the records carry); ``_named`` finds them by display name.
        self.prims: dict[str, Prim] = {}
        self._named: dict[str, str] = {}
        # The last number given to a name made unique ("lock#7"): the next one starts there.
        self._numbered: dict[str, int] = {}
        # Where operations were made (``site.new``), by id; which process each thread belongs to.
        self.sites: dict[str, Site] = {}
        self._wheres: dict[str, str] = {}  # each site in words, made once
        self._checked: Event | None = None  # the last record applied, if it needed nothing made visible
        self.thread_pid: dict[int, int] = {}
        self.thread_names: dict[int, str] = {}  # kept when a thread ends: its records still name it
        # The lock order (first, second) → taker → its taking, and the cycles in it (lock ids → cycle).
        self.order: dict[tuple[str, str], dict[int, Taking]] = {}
        self.potentials: dict[frozenset[str], Potential] = {}
        # Pitfalls said (by their key, once), and who ends which child with which signal, where.
        self.pitfalls: dict[tuple[object, ...], Anomaly] = {}
        self.endings: dict[int, tuple[int, str, str]] = {}
        # Stacks of a request being answered, by (pid, request): one record per thread.
        self.stacks_coming: dict[tuple[int, int], list[ThreadStack]] = {}
        self.counts: Counter[str] = Counter()
        # Facts main observed about the lesson's world (what a file holds), by name.
        self.values: dict[str, dict] = {}
        self.log: deque[Event] = deque(maxlen=LOG_LENGTH)
        # What the processes printed, newest last (for display: bounded).  A line
        # still being written (a partial ``proc.output``) is replaced as it grows,
        # where it stands; ``unended`` holds it, by process and stream.
        self.output: deque[Event] = deque(maxlen=OUTPUT_LENGTH)
        self.unended: dict[tuple[int, str], Event] = {}
        # Counts every change to ``output``: the printed pane redraws when it moves.
        self.output_changes = 0
        # Records a process could not send in time and dropped (``proc.lost``), over the run.
        self.lost = 0
        self.lost_by: dict[int, int] = {}
        # What the run refused, by what (``run.refused``: connections, forged records …; and the
        # primitives past ``MAX_PRIMITIVES``, counted here), over the run.
        self.refused: Counter[str] = Counter()
        self.t0: int | None = None
        self.last_ns: int = 0
        self.applied = 0
        # Changes since the views last looked: they redraw only what moved.
        self.dirty_procs: set[int] = set()
        self.dirty_prims: set[str] = set()
        # Counts every new entry in any process's history: the timeline redraws when it moves.
        self.history_changes = 0
        # A scheduled run's decisions (mpviz/model/turns.py).
        self.turns = Turns()

    # --- entry points ----------------------------------------------------

    def apply(self, events: Iterable[Event]) -> None:
        """Apply a batch of records, in time order."""
        for event in sorted(events, key=_time):
            self.apply_one(event)

    def apply_one(self, event: Event) -> None:
        t_ns, pid, kind, obj, data = event
        if not obj.isprintable() or needs_showing(data):
            event = _shown(event)
            obj = event.obj
        else:
            self._checked = event  # its line need not look again (``_visible``)
        if self.t0 is None:
            self.t0 = t_ns
        if t_ns > self.last_ns:
            self.last_ns = t_ns
        self.applied += 1
        if len(self.prims) >= MAX_PRIMITIVES and obj not in self.prims and self._about_a_primitive(event):
            if kind == "prim.new":
                self.refused["primitives"] += 1
            return
        handler = HANDLERS.get(kind)
        if handler is not None:
            handler(self, event)
        if kind not in UNLOGGED:
            self.log.append(event)
            proc = self.procs.get(pid)
            if proc is not None:
                proc.recent.append(event)

    @staticmethod
    def _about_a_primitive(event: Event) -> bool:
        return event.kind.partition(".")[0] in PRIM_FAMILIES

    def add_prim(self, prim_id: str, name: str, family: str, site: str = "") -> Prim:
        """A new primitive, its name made unique ("lock", "lock#2") so that :meth:`prim` finds it."""
        prim = self.prims[prim_id] = Prim(prim_id, self._unique(name), family, site)
        self._named[prim.name] = prim_id
        return prim

    def name_prim(self, prim: Prim, name: str, family: str, site: str) -> None:
        """A primitive made by a record that came before its ``prim.new`` (a pool's workers
        report before the pool has said it exists): its name, kind and site now."""
        del self._named[prim.name]
        prim.name, prim.family, prim.site = self._unique(name), family, site
        self._named[prim.name] = prim.id

    def _unique(self, name: str) -> str:
        unique = name
        if unique in self._named:
            # Numbered from the last number this name got, not from 2 again: ten thousand locks
            # called "lock" cost ten thousand steps, not fifty million.
            n = self._numbered.get(name, 1)
            while unique in self._named:
                n += 1
                unique = f"{name}#{n}"
            self._numbered[name] = n
        return unique

    # --- reading ----------------------------------------------------------

    def name_of(self, pid: int) -> str:
        """A process's name; a thread's (its id in a primitive's tables) as "process: thread"."""
        proc = self.procs.get(pid)
        if proc is not None:
            return proc.name
        owner = self.thread_pid.get(pid)
        if owner is not None and owner in self.procs:
            return f"{self.procs[owner].name}: {self.thread_names.get(pid) or f'thread {pid}'}"
        return f"pid {pid}"

    def pid_of(self, actor: int) -> int:
        """The process an actor id (a pid, or a thread's native id) belongs to."""
        return self.thread_pid.get(actor, actor)

    def actor(self, actor: int) -> Actor | None:
        """A process's main thread (``actor`` is its pid) or another of its threads."""
        proc = self.procs.get(actor)
        if proc is not None:
            return proc
        owner = self.procs.get(self.thread_pid.get(actor, -1))
        return owner.threads.get(actor) if owner is not None else None

    def live_actors(self) -> list[tuple[int, Actor]]:
        """Every thread known to wait or hold, of every live process: (id, actor)."""
        out: list[tuple[int, Actor]] = []
        for proc in self.procs.values():
            if proc.alive:
                out.append((proc.pid, proc))
                out.extend((tid, thread) for tid, thread in proc.threads.items() if not thread.ended)
        return out

    def where(self, site_id: str) -> str:
        """A site in words (``consumer.py:9 in consume``), "" if unknown."""
        words = self._wheres.get(site_id)
        if words is None:
            site = self.sites.get(site_id)
            if site is None:
                return ""
            words = self._wheres[site_id] = site.where
        return words

    def forget_where(self, site_id: str) -> None:
        """A site said anew (its id given again, by a new process with an old pid)."""
        self._wheres.pop(site_id, None)

    def by_role(self, role: str) -> list[Proc]:
        return [p for p in self.procs.values() if p.role == role]

    def prim(self, name: str, family: str = "") -> Prim:
        """The primitive called ``name``; an empty one if it has not reported yet."""
        prim_id = self._named.get(name)
        if prim_id is None:
            return Prim(name, name, family)
        return self.prims[prim_id]

    def prim_name(self, prim_id: str) -> str:
        """The display name of the primitive with this id (the id itself if it never said)."""
        prim = self.prims.get(prim_id)
        return prim.name if prim else prim_id

    def _visible(self, event: Event) -> Event:
        """The record as it may be shown (the same record, nearly always: see ``_shown``)."""
        if event is self._checked or (event.obj.isprintable() and not needs_showing(event.data)):
            return event
        return _shown(event)

    def describe(self, event: Event) -> str | None:
        """The record in words, primitives by their display names, a wait with where it waits."""
        event = self._visible(event)
        return describe(event, self._obj_name(event), self._where(event))

    def line(self, event: Event, colours: bool = False) -> str | None:
        """The record as one log line (the headless output, the event log): by its thread, if not the main one.
        ``colours``: a printed line keeps its colour codes (headless, on a terminal)."""
        # (Made for every record a headless run prints: the usual case is looked up inline.)
        event = self._visible(event)
        kind, data = event.kind, event.data
        if kind.startswith("run."):
            who = "mpviz"
        else:
            th = data.get("th")
            actor = th if type(th) is int and th > 0 and th in self.thread_pid else event.pid
            proc = self.procs.get(actor)
            who = proc.name if proc is not None else self.name_of(actor)
        if kind == "proc.seen":
            obj = self._obj_name(event)
        else:
            prim = self.prims.get(event.obj)
            obj = prim.name if prim is not None else event.obj
        at = data.get("at")
        where = (self._wheres.get(at) or self.where(at)) if type(at) is str else ""
        return line(event, self.t0 or event.t_ns, who, obj, where, colours)

    def _obj_name(self, event: Event) -> str:
        """What the record is about, by its display name: a primitive, or the child a join seen from outside waits for."""
        child = event.data.get("child") if event.kind == "proc.seen" else None
        if type(child) is int:
            return self.procs[child].name if child in self.procs else ""
        return self.prim_name(event.obj)

    def _where(self, event: Event) -> str:
        at = event.data.get("at")
        return self.where(at) if isinstance(at, str) else ""

    def refusals(self) -> list[str]:
        """What the run refused, a sentence each: shown with the alerts, printed at the end."""
        return [refusal(what, n, MAX_PRIMITIVES) for what, n in sorted(self.refused.items()) if n]

    def said(self, state: str) -> int:
        """How often any process said ``state``, over the whole run."""
        return self.counts[state]

    def seconds(self, t_ns: int) -> float:
        """Seconds since the first record."""
        return (t_ns - (self.t0 or t_ns)) / 1e9

    def take_dirty(self) -> tuple[set[int], set[str]]:
        procs, prims = self.dirty_procs, self.dirty_prims
        self.dirty_procs, self.dirty_prims = set(), set()
        return procs, prims


def _time(event: Event) -> int:
    return event.t_ns


def _shown(event: Event) -> Event:
    """The record with the texts a program supplied made visible (``mpviz.shown``), once, before
    any view has them: names, states, previews, errors.  What a process printed stays as it
    printed it: the printed pane renders its colour codes (and makes the rest visible itself)."""
    data = event.data
    if event.kind == "proc.output":
        data = {**shown({k: v for k, v in data.items() if k != "text"}), "text": data.get("text", "")}
    else:
        data = shown(data)
    return event._replace(obj=visible(event.obj), data=data)


# What a record of a kind does to the model.  Plain functions, not bound methods kept by
# each model: a model refers to nothing that refers back to it, so a dropped one (a
# replay's seek) goes at once.
Handler = Callable[[Model, Event], None]
HANDLERS: dict[str, Handler] = {}


def handles(*kinds: str) -> Callable[[Handler], Handler]:
    """Make the decorated function the handler of records of these kinds (one handler a kind)."""

    def register(handler: Handler) -> Handler:
        for kind in kinds:
            if HANDLERS.setdefault(kind, handler) is not handler:
                raise ValueError(f"{kind} has a handler already: {HANDLERS[kind].__qualname__}")
        return handler

    return register
