"""The primitives as the model knows them (:class:`Prim`): who holds and who waits, what went
through, their timing, and the most holders they had at once (:class:`Overlap`)."""

from __future__ import annotations

import heapq
from array import array
from collections import Counter, deque
from dataclasses import dataclass, field
from itertools import accumulate

from mpviz import lang
from mpviz.model.actors import HISTORY, gaps
from mpviz.model.timing import PrimTiming
from mpviz.model.words import FAMILY_WORDS
from mpviz.telemetry import Event


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
        times = gaps(t for t, _ in pending)
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
    # Conditions: how often notified (``notify`` or ``notify_all``); the last notify that found
    # nobody waiting (who, and its site): not kept for a later wait(), often why one waits for ever.
    notifies: int = 0
    lost_notify: tuple[int, object] | None = None
    # Barriers: broken (until reset), how many processes passed, and every process that reached it.
    broken: bool = False
    passed: int = 0
    reached: set[int] = field(default_factory=set)
    # Seen from outside (an attached program's stacks): who waits is known, who holds is not; a
    # queue's ``putters`` are then every process that held its write end (``feeders_known``).
    outside: bool = False
    feeders_known: bool = False
    # Pools: tasks handed out, results got back, the workers that said they work for it
    # (each waits on it for a task: ``waiting_on`` is the pool's id), who waits for its results.
    tasks: int = 0
    results: int = 0
    failed: int = 0  # of the results, those that are an exception (or a cancelled future)
    workers: set[int] = field(default_factory=set)
    busy: set[int] = field(default_factory=set)  # workers that took a task and have not asked for the next
    # Workers started for it that have not asked for a task yet (in its initializer, if it has one).
    starting: set[int] = field(default_factory=set)
    # Its workers that died in its initializer (``pool.init_failed``), and the first one's function, site and error.
    init_failures: int = 0
    init_failure: tuple[str, str, str] = ("", "", "")
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
    # Joinable queues: items each process got and has not marked done (task_done); who waits in join().
    undone: dict[int, int] = field(default_factory=dict)
    joiners: set[int] = field(default_factory=set)
    # Pools: when the last task went out and the last result came back.
    last_task_ns: int = 0
    last_result_ns: int = 0
    # Shared memory: its block's name, and whether it was unlinked.  Who made it (the prim.new's process).
    block: str = ""
    # A Value's or an Array's: its lock's id, and who read and then wrote it outside that lock
    # (pid: the site of the write).
    guard: str = ""
    unguarded: dict[int, str] = field(default_factory=dict)
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
    def dying(self) -> bool:
        """A pool whose workers die in their initializer: two or more did, and none got through it
        (asked for a task); each one the pool starts in their place runs the same initializer."""
        return self.init_failures >= 2 and not self.workers

    @property
    def max_holders(self) -> int:
        return self.overlap.max

    def unconsumed(self) -> int:
        return sum(n for n in self.in_flight.values() if n > 0)

    def overconsumed(self) -> list[str]:
        return [item for item, n in self.in_flight.items() if n < 0]
