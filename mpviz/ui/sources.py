"""Where the dashboard's records come from: a live lesson, or a recording.

Both give the screens the same things: a model fed with records, the lesson's
class (its name, keys and verdict), a clock, and ``read()`` for the reader
worker.  The screens never know which one they show.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mpviz.model import Model
from mpviz.scenarios import LESSONS
from mpviz.scenarios.base import Lesson, Verdict
from mpviz.telemetry import Event, Recorder, read_recording, recording_header


@dataclass
class Settings:
    """How to run a lesson: what the command line said."""

    lesson: str
    params: dict[str, Any] = field(default_factory=dict)
    speed: float = 1.0
    seed: int | None = None
    method: str = "spawn"
    record: Path | None = None

    @property
    def cls(self) -> type[Lesson]:
        return LESSONS[self.lesson]


class Source:
    """The part both sources share."""

    live = False
    cls: type[Lesson]
    model: Model

    def now_ns(self) -> int:
        raise NotImplementedError

    def read(self, timeout: float) -> list[Event]:
        raise NotImplementedError

    def verdict(self) -> Verdict:
        raise NotImplementedError

    def close(self) -> None:
        """Stop whatever runs; safe to call more than once."""

    @property
    def speed(self) -> float:
        raise NotImplementedError

    def set_speed(self, speed: float) -> None:
        raise NotImplementedError


class LiveSource(Source):
    """A lesson running now, as real processes under a supervisor."""

    live = True

    def __init__(self, settings: Settings) -> None:
        from mpviz.runtime import Supervisor  # here, so that replays never start multiprocessing

        self.settings = settings
        self.cls = settings.cls
        # ValueError (a bad --db file, say) before any process starts.
        values = self.cls.prepare(settings.params)
        self.model = Model()
        self.supervisor = Supervisor(settings.method, settings.speed, settings.seed)
        self.lesson = self.cls(self.supervisor, seed=settings.seed, **values)
        s = settings
        self.recorder = (
            None
            if s.record is None
            else Recorder(s.record, recording_header(s.lesson, values, s.speed, s.seed, s.method))
        )
        self._closed = False
        self._closing = threading.Lock()

    def begin(self) -> None:
        self.supervisor.run(self.lesson)

    def now_ns(self) -> int:
        return time.monotonic_ns()

    def read(self, timeout: float) -> list[Event]:
        # Under the lock: a restart may close this source while a reader is in here.
        with self._closing:
            if self._closed:
                return []
            events = self.supervisor.read(timeout)
            self._write(events)
            return events

    def _write(self, events: list[Event]) -> None:
        if self.recorder is not None and events:
            self.recorder.write(events)

    def verdict(self) -> Verdict:
        now = self.now_ns()
        return self.lesson.verdict(self.model, now, final=self.lesson.finished(self.model, now))

    def act(self, method: str, *args: Any) -> None:
        self.supervisor.act(method, *args)

    def signal(self, pid: int, sig: signal.Signals) -> bool:
        return self.supervisor.signal(pid, sig)

    def signal_all(self, sig: signal.Signals) -> int:
        return self.supervisor.signal_all(sig)

    @property
    def speed(self) -> float:
        return self.supervisor.speed

    def set_speed(self, speed: float) -> None:
        self.supervisor.speed = speed

    def close(self) -> list[Event]:
        with self._closing:  # the app may close a source from a worker while quitting
            if self._closed:
                return []
            self._closed = True
            events = self.supervisor.stop()
            self.supervisor.close()
            self._write(events)
            if self.recorder is not None:
                self.recorder.close()
            return events


class ReplaySource(Source):
    """A recording played back in lesson time, with pause, step and speed.

    ``at`` starts the replay that many seconds in; ``frozen`` keeps it there
    (the snapshot tests): nothing moves, the clock stands still.
    """

    def __init__(self, path: Path, speed: float = 1.0, at: float = 0.0, frozen: bool = False) -> None:
        with path.open(encoding="utf-8") as f:
            self.header, events = read_recording(f)
            self.events = list(events)
        name = self.header.get("lesson")
        if name not in LESSONS:
            raise ValueError(f"recording of an unknown lesson {name!r}")
        self.path = path
        self.cls = LESSONS[name]
        self.params = {p.name: self.header.get("params", {}).get(p.name, p.default) for p in self.cls.params}
        self.model = Model()
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
