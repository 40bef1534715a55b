"""Where the dashboard's records come from: a live run, or a recording.

Both give the screens the same things: the model the screen feeds with
records (the source makes it; the screen is the only one that applies records
to it, on its event loop), the lesson (a watched program is one too: its
name, keys and verdict), a clock, and ``read()`` for the reader worker.  What
only one of them can do is a capability, not a type to probe: ``controls``
(a live run: keys that act on processes) and ``player`` (a replay: pause and
step).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterable
from copy import deepcopy
from dataclasses import replace
from typing import Any, Protocol

from mpviz.lesson import Lesson, Verdict
from mpviz.model import Model
from mpviz.recording.player import Player as RecordingPlayer
from mpviz.runtime.run import Run, Settings
from mpviz.runtime.scheduler import Scheduler, Turns
from mpviz.schedule.choice import Nobody
from mpviz.telemetry import Event


class Controls(Protocol):
    """What a live run lets the keys do."""

    def act(self, method: str, *args: Any) -> None: ...

    def send_signal(self, pid: int, sig: signal.Signals) -> bool: ...

    def signal_all(self, sig: signal.Signals) -> int: ...

    def show(self, pids: Iterable[int] | None) -> None:
        """The processes whose psutil figures are on screen (None: every one's may be)."""
        ...

    def ask_stacks(self, pid: int) -> None:
        """Ask a process for its stacks (they come back as records)."""
        ...

    def look(self, model: Model, now: int | None = None) -> None:
        """Ask for the stacks of processes whose records do not say what they do."""
        ...

    @property
    def record_error(self) -> str: ...

    @property
    def scheduler(self) -> Scheduler | None:
        """A scheduled run's scheduler: step mode's keys choose through it."""
        ...


class Player(Protocol):
    """What a replay lets the keys do."""

    @property
    def paused(self) -> bool: ...

    @property
    def problem(self) -> str:
        """What is wrong with the recording (where it breaks off), for the screen."""
        ...

    def toggle_pause(self) -> None: ...

    def step(self) -> list[Event]: ...

    def seek(self, seconds: float) -> None: ...

    def seek_to(self, t_ns: int) -> None: ...

    def position(self) -> tuple[float, float]: ...

    @property
    def t0(self) -> int: ...

    @property
    def end_ns(self) -> int: ...


class Source(Protocol):
    @property
    def model(self) -> Model: ...

    @property
    def lesson(self) -> type[Lesson]:
        """The lesson (a watched program's is :class:`~mpviz.program.Watched`)."""
        ...

    @property
    def name(self) -> str:
        """The lesson's name, or the program's (``ktv``, ``ticket.py``)."""
        ...

    @property
    def controls(self) -> Controls | None: ...

    @property
    def player(self) -> Player | None: ...

    @property
    def values(self) -> dict[str, Any]:
        """The lesson's parameters (a program's: the program)."""
        ...

    @property
    def frozen(self) -> bool:
        """Nothing moves: a replay stopped at one moment (the snapshot tests)."""
        ...

    @property
    def scheduled(self) -> bool:
        """A scheduled run (step mode, a schedule replayed): its decisions are shown."""
        ...

    @property
    def where(self) -> str:
        """``live``, ``replay`` or ``replay, paused``: for the title."""
        ...

    def now_ns(self) -> int: ...

    def read(self, timeout: float) -> list[Event]: ...

    def verdict(self) -> Verdict: ...

    def named(self) -> list[str]:
        """The pitfalls named earlier in the run that its verdict still counts."""
        ...

    @property
    def speed(self) -> float: ...

    def set_speed(self, speed: float) -> None: ...

    def again(self, flip: str | None = None, step: bool = False) -> Source:
        """A new source for the same run (a switch flipped, for a live lesson; ``step``: in step mode).
        Call after ``close``."""
        ...

    def begin(self) -> None:
        """Start what runs (a live run's processes), once the screen shows it; safe to call more
        than once.  A replay has nothing to start."""
        ...

    def close(self) -> None:
        """Stop whatever runs; safe to call more than once."""
        ...


class LiveSource:
    """A lesson or a program running now, as real processes: the run, and the model its records go to."""

    player = None
    frozen = False
    where = "live"

    def __init__(self, run: Run, settings: Settings | None = None) -> None:
        self.run = run
        # What started it, its chooser as it was before the run made any choice (a restart starts from it).
        self.settings = settings or run.settings
        self.scheduled = run.scheduler is not None
        self.model = Model()
        self.name = run.name
        self.lesson: type[Lesson] = run.cls
        self.values = run.values
        self.controls: Controls = run
        self._closed = False
        self._stopping = False  # closing: a read returns at once instead of waiting
        self._closing = threading.Lock()
        self._begun = False

    @classmethod
    def start(cls, settings: Settings) -> LiveSource:
        turns = settings.turns
        running = (
            settings if turns is None else replace(settings, turns=replace(turns, chooser=deepcopy(turns.chooser)))
        )
        return cls(
            Run(running, keys=True), settings
        )  # ValueError (a bad --db file, no such program) before any process starts

    def begin(self) -> None:
        # Not before: a short program would be over before the first picture of it.
        with self._closing:
            if not self._begun and not self._stopping:
                self._begun = True
                self.run.begin()

    def now_ns(self) -> int:
        return time.monotonic_ns()

    def read(self, timeout: float) -> list[Event]:
        # Under the lock: a restart may close this source while a reader is in here.
        # Records wake it up: it can wait long, and the screen's reader wakes once a
        # second instead of four times.
        with self._closing:
            return [] if self._stopping else self.run.read(timeout)  # set before _closed, and with it

    def verdict(self) -> Verdict:
        return self.run.verdict(self.model)

    def named(self) -> list[str]:
        return self.run.lesson.named()

    @property
    def speed(self) -> float:
        return self.run.speed

    def set_speed(self, speed: float) -> None:
        self.run.speed = speed

    def again(self, flip: str | None = None, step: bool = False) -> LiveSource:
        settings = self.settings
        params = dict(settings.params)
        if flip is not None:
            params[flip] = self.run.cls.flipped(flip, params)
        turns = Turns(Nobody(), seed=settings.seed or 0) if step else settings.turns
        return LiveSource.start(replace(settings, params=params, speed=self.speed, record=None, turns=turns))

    def close(self) -> None:
        self._stopping = True
        self.run.wake()  # a reader waiting for records lets go of the lock now
        with self._closing:  # the app may close a source from a worker while quitting
            if not self._closed:
                self._closed = True
                self.run.close()


class ReplaySource(RecordingPlayer):
    """A recording played back (:class:`mpviz.recording.player.Player`), as a source of the screens."""

    def begin(self) -> None:
        """Nothing to start: the recording plays as it is read."""

    controls = None

    @property
    def player(self) -> Player:
        return self

    @property
    def where(self) -> str:
        return "replay, paused" if self.paused else "replay"

    @property
    def scheduled(self) -> bool:
        return self.header.get("scheduled") is True

    def again(self, flip: str | None = None, step: bool = False) -> ReplaySource:
        return ReplaySource(self.path, speed=self.speed)
