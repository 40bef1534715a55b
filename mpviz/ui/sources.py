"""Where the dashboard's records come from: a live lesson, or a recording.

Both give the screens the same things: a model fed with records, the lesson
(its name, keys and verdict), a clock, and ``read()`` for the reader worker.
What only one of them can do is a capability, not a type to probe:
``controls`` (a live run: keys that act on processes) and ``player`` (a
replay: pause and step).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from mpviz.lessons import lesson_class
from mpviz.lessons.base import Lesson, Verdict
from mpviz.model import Model
from mpviz.runtime.run import LessonRun, Settings
from mpviz.telemetry import Event, read_recording


class Controls(Protocol):
    """What a live run lets the keys do."""

    def act(self, method: str, *args: Any) -> None: ...

    def send_signal(self, pid: int, sig: signal.Signals) -> bool: ...

    def signal_all(self, sig: signal.Signals) -> int: ...

    @property
    def record_error(self) -> str: ...


class Player(Protocol):
    """What a replay lets the keys do."""

    @property
    def paused(self) -> bool: ...

    def toggle_pause(self) -> None: ...

    def step(self) -> list[Event]: ...


class Source(Protocol):
    @property
    def model(self) -> Model: ...

    @property
    def cls(self) -> type[Lesson]: ...

    @property
    def controls(self) -> Controls | None: ...

    @property
    def player(self) -> Player | None: ...

    @property
    def values(self) -> dict[str, Any]:
        """The lesson's parameters."""
        ...

    @property
    def frozen(self) -> bool:
        """Nothing moves: a replay stopped at one moment (the snapshot tests)."""
        ...

    @property
    def where(self) -> str:
        """``live``, ``replay`` or ``replay, paused``: for the title."""
        ...

    def now_ns(self) -> int: ...

    def read(self, timeout: float) -> list[Event]: ...

    def verdict(self) -> Verdict: ...

    @property
    def speed(self) -> float: ...

    def set_speed(self, speed: float) -> None: ...

    def again(self, flip: str | None = None) -> Source:
        """A new source for the same lesson (a switch flipped, for a live one).  Call after ``close``."""
        ...

    def close(self) -> None:
        """Stop whatever runs; safe to call more than once."""
        ...


class LiveSource:
    """A lesson running now, as real processes."""

    player = None
    frozen = False
    where = "live"

    def __init__(self, settings: Settings) -> None:
        self.run = LessonRun(settings)  # ValueError (a bad --db file) before any process starts
        self.settings = settings
        self.cls = self.run.cls
        self.model = self.run.model
        self.controls: Controls = self.run
        self._closed = False
        self._closing = threading.Lock()
        self.run.begin()

    @property
    def values(self) -> dict[str, Any]:
        return self.run.lesson.values

    def now_ns(self) -> int:
        return time.monotonic_ns()

    def read(self, timeout: float) -> list[Event]:
        # Under the lock: a restart may close this source while a reader is in here.
        with self._closing:
            return [] if self._closed else self.run.read(timeout)

    def verdict(self) -> Verdict:
        return self.run.verdict()

    @property
    def speed(self) -> float:
        return self.run.speed

    def set_speed(self, speed: float) -> None:
        self.run.speed = speed

    def again(self, flip: str | None = None) -> LiveSource:
        params = dict(self.settings.params)
        if flip is not None:
            params[flip] = self.cls.flipped(flip, params)
        return LiveSource(replace(self.settings, params=params, speed=self.speed, record=None))

    def close(self) -> None:
        with self._closing:  # the app may close a source from a worker while quitting
            if not self._closed:
                self._closed = True
                self.run.close()


class ReplaySource:
    """A recording played back in lesson time, with pause, step and speed.

    ``at`` starts the replay that many seconds in; ``frozen`` keeps it there
    (the snapshot tests): nothing moves, the clock stands still.
    """

    controls = None

    def __init__(self, path: Path, speed: float = 1.0, at: float = 0.0, frozen: bool = False) -> None:
        with path.open(encoding="utf-8") as f:
            self.header, events = read_recording(f)
            self.events = list(events)
        name = self.header.get("lesson")
        try:
            self.cls = lesson_class(str(name))
        except KeyError:
            raise ValueError(f"recording of an unknown lesson {name!r}") from None
        self.path = path
        recorded = self.header.get("params", {})
        self.params = {p.name: recorded.get(p.name, p.default) for p in self.cls.params}
        self.model = Model()
        self.player: Player = self
        self.t0 = self.events[0].t_ns if self.events else 0
        self.end_ns = self.events[-1].t_ns if self.events else 0
        self.frozen = frozen
        self.paused = frozen
        self._speed = speed
        self._next = 0
        self._cursor = self.t0 + int(at * 1e9)
        self._wall = time.monotonic_ns()
        self._clock: Callable[[], int] = time.monotonic_ns
        self._lock = threading.Lock()

    @property
    def values(self) -> dict[str, Any]:
        return self.params

    @property
    def where(self) -> str:
        return "replay, paused" if self.paused else "replay"

    # The replay's clock: the cursor in record time.  The reader worker and
    # the keys (pause, step, speed) move it from different threads: one lock.
    def now_ns(self) -> int:
        with self._lock:
            if not self.paused:
                wall = self._clock()
                self._cursor += int((wall - self._wall) * self._speed)
                self._wall = wall
                self._cursor = min(self._cursor, self.end_ns)
            return self._cursor

    @property
    def done(self) -> bool:
        return self._next >= len(self.events)

    def read(self, timeout: float) -> list[Event]:
        """Records up to the cursor.  Waits only when there is nothing due."""
        cursor = self.now_ns()
        with self._lock:
            end = self._next
            while end < len(self.events) and self.events[end].t_ns <= cursor:
                end += 1
            batch = self.events[self._next : end]
            self._next = end
        if not batch and not self.frozen:
            time.sleep(timeout)
        return batch

    def step(self) -> list[Event]:
        """Move the cursor to the next moment and return its records (paused replays).

        A moment, not a record: records made at the same instant (a round of
        psutil samples) go together, as they did in the run."""
        if not self.paused:
            self.toggle_pause()
        with self._lock:
            if self.done:
                return []
            t = self.events[self._next].t_ns
            end = self._next
            while end < len(self.events) and self.events[end].t_ns == t:
                end += 1
            batch = self.events[self._next : end]
            self._next = end
            self._cursor = max(self._cursor, t)
            return batch

    def toggle_pause(self) -> None:
        self.now_ns()
        with self._lock:
            self.paused = not self.paused
            self._wall = self._clock()

    def verdict(self) -> Verdict:
        # The recorded run ended where the recording ends.
        return self.cls.judge(self.model, self.params, self.now_ns(), final=self.done)

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        self.now_ns()
        with self._lock:
            self._speed = speed

    def again(self, flip: str | None = None) -> ReplaySource:
        return ReplaySource(self.path, speed=self._speed)

    def close(self) -> None:
        """Nothing runs behind a replay."""
