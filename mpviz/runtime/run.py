"""One lesson run, wired once: recorder, supervisor, model and lesson.

The headless runner, the dashboard's live source and the sample recorder all
start a lesson through :class:`LessonRun`, read its records, and close it.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mpviz.lessons import lesson_class
from mpviz.lessons.base import Lesson, Verdict
from mpviz.model import Model
from mpviz.runtime.supervisor import Supervisor
from mpviz.telemetry import Event, Recorder, emit, now_ns, recording_header


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
        return lesson_class(self.lesson)


class LessonRun:
    """A lesson running as real processes, its records kept in ``model`` by whoever reads them.

    ``read`` (one thread at a time) returns the records in time order and
    writes them to the recording; the reader applies them to ``model`` (the
    dashboard does so on its event loop).  Raises ValueError, before any
    process starts, when the lesson refuses its parameters (a bad --db file).
    """

    def __init__(self, settings: Settings, sample_every: float | None = 1.0) -> None:
        s = settings
        self.settings = settings
        self.cls = s.cls
        self.values = self.cls.prepare(s.params)
        self.model = Model()
        self.recorder = (
            None
            if s.record is None
            else Recorder(s.record, recording_header(s.lesson, self.values, s.speed, s.seed, s.method))
        )
        self.supervisor = Supervisor(s.method, s.speed, s.seed, sample_every)
        self.lesson = self.cls(self.supervisor, seed=s.seed, **self.values)
        self._closed = False

    def begin(self) -> None:
        self.supervisor.run(self.lesson)

    def read(self, timeout: float) -> list[Event]:
        return self._recorded(self.supervisor.read(timeout))

    def drain(self) -> list[Event]:
        """Every record already made, the ones held back for ordering included."""
        return self._recorded(self.supervisor.drain())

    def _recorded(self, events: list[Event]) -> list[Event]:
        if self.recorder is not None and events:
            self.recorder.write(events)
        return events

    @property
    def record_error(self) -> str:
        return self.recorder.error if self.recorder is not None else ""

    def finished(self, now: int | None = None) -> bool:
        return self.lesson.finished(self.model, now_ns() if now is None else now)

    def verdict(self, now: int | None = None, final: bool | None = None) -> Verdict:
        now = now_ns() if now is None else now
        return self.lesson.verdict(self.model, now, self.finished(now) if final is None else final)

    def act(self, method: str, *args: Any) -> None:
        """Run a lesson action (a key), and say so in the log."""
        if self.supervisor.stopping:
            return
        action = next((a for a in self.cls.actions if a.method == method), None)
        emit("ui.action", action.description if action else method)
        getattr(self.lesson, method)(*args)

    def send_signal(self, pid: int, sig: signal.Signals) -> bool:
        return self.supervisor.send_signal(pid, sig)

    def signal_all(self, sig: signal.Signals) -> int:
        return self.supervisor.signal_all(sig)

    @property
    def speed(self) -> float:
        return self.supervisor.speed

    @speed.setter
    def speed(self, value: float) -> None:
        self.supervisor.speed = value

    def stop(self) -> list[Event]:
        """Stop the lesson's processes; the last records (the exits) are returned."""
        return self._recorded(self.supervisor.stop())

    def close(self) -> list[Event]:
        """Stop, and give back everything the run held.  Safe to call twice."""
        if self._closed:
            return []
        self._closed = True
        try:
            return self.stop()
        finally:
            self.supervisor.close()
            if self.recorder is not None:
                self.recorder.close()
