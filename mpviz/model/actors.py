"""Who acts in a run, as the model knows them: processes (:class:`Proc`) and their other threads
(:class:`Thread`), with their phases, what they said, where their operations were made (:class:`Site`)
and their psutil samples; bounded however long the run."""

from __future__ import annotations

import os
from array import array
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from itertools import accumulate
from typing import Any, NamedTuple, TypeAlias

from mpviz import lang
from mpviz.lang import T
from mpviz.model.samples import Samples
from mpviz.model.stacks import ThreadStack
from mpviz.model.timing import TimeSplit
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


def gaps(times: Iterable[int]) -> array[int]:
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

    def add(self, records: Sequence[Event]) -> None:
        """What each of these reports of the state says, in turn (a run of them: one call, not one each)."""
        if not self.count:
            self.first_ns = records[0].t_ns
        self.count += len(records)
        sums = self.sums
        for t_ns, _, _, _, data in records:
            if t_ns > self.last_ns:
                self.last_ns = t_ns
            for key, value in data.items():
                # (A plain number first, without isinstance: a flood of reports passes here.)
                kind = type(value)
                if kind is int or kind is float:
                    sums[key] = sums.get(key, 0) + value
                elif isinstance(value, bool):
                    if value:
                        self.trues[key] = self.trues.get(key, 0) + 1
                elif isinstance(value, (int, float)):
                    sums[key] = sums.get(key, 0) + value
        self.last = records[-1].data


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
    gives_up_ns: int | None = None  # see Proc.gives_up_ns
    holds: dict[str, int] = field(default_factory=dict)
    sleeping: bool = False
    turn: str = ""  # a scheduled run: what it waits at a point to do, in words ("" while it may run)
    at: str = ""  # the site of what it waits for now
    held_at: dict[str, str] = field(default_factory=dict)  # what it holds → the site it took it at
    # What its last stack says it waits in, when no record of it does (a socket, a C call), whether
    # that is a sleep, and whether it is outside what the program's own waits are (see stacks.waiting).
    elsewhere: str = ""
    elsewhere_sleeps: bool = False
    elsewhere_outside: bool = False
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
    script: str = ""  # what it runs, for one no label names (a subprocess's "child.py", "-m tool")
    target: str = ""  # the function it runs (its proc.start's), multiprocessing's own for a pool's worker
    ppid: int | None = None
    started_ns: int = 0
    # What the process last said it does (``report``), and what it is blocked on.
    said: str = ""
    blocked: str = ""
    # The id of the primitive it is blocked on, or "pid N" while it joins process N.
    waiting_on: str | None = None
    # When that wait gives up by its timeout, on the records' clock; None: it has none, and only
    # another process can end it.  A wait with a timeout ends by itself: it is never part of a hang.
    gives_up_ns: int | None = None
    holds: dict[str, int] = field(default_factory=dict)
    stopped: bool = False
    stopped_ns: int = 0  # when ``stopped`` last changed (a SIGSTOP said, or psutil's status seen)
    stopped_outside: bool = False  # stopped by no pause of mpviz's (its own SIGSTOP, kill -STOP, Ctrl+Z)
    sleeping: bool = False  # in a sleep of its own (``proc.sleep`` … ``proc.slept``)
    turn: str = ""  # a scheduled run: what it waits at a point to do, in words ("" while it may run)
    at: str = ""  # the site of what its main thread waits for now
    held_at: dict[str, str] = field(default_factory=dict)  # what it holds → the site it took it at
    # What its main thread's last stack says it waits in, when no record of it does, whether it sleeps,
    # and whether it is outside what the program's own waits are (see stacks.waiting).
    elsewhere: str = ""
    elsewhere_sleeps: bool = False
    elsewhere_outside: bool = False
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
            gaps(t for t, _, _ in history),
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
        if self.label:
            return lang.label(self.label)
        return f"{self.script} (pid {self.pid})" if self.script else f"pid {self.pid}"

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


# Who takes part in a wait or a hold: a process's main thread (the Proc) or another of its threads.
# Primitives key their holders and waiters by its id: the pid, or the thread's native id.
Actor: TypeAlias = Proc | Thread
