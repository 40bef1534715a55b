"""One run, wired once: recorder, supervisor and model, around a lesson or a watched program.

The headless runner, the dashboard's live source and the sample recorder all
start a run here, read its records, and close it.  ``read`` (one thread at a
time) returns the records in time order and writes them to the recording; the
reader applies them to ``model`` (the dashboard does so on its event loop).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from mpviz.lang import english
from mpviz.lesson import Lesson, Verdict
from mpviz.model import Model, find_anomalies
from mpviz.registry import lesson_class
from mpviz.runtime.program import Program, ProgramMain
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


@dataclass
class ProgramSettings:
    """How to run a program: what the command line said."""

    program: Program
    speed: float = 1.0
    record: Path | None = None
    stdin_pipe: bool = False  # the dashboard types into it; headless, the program reads mpviz's own stdin


class BaseRun:
    """What every run has: its model, its recording, its supervisor."""

    name: str

    def __init__(self, supervisor: Supervisor, recorder: Recorder | None) -> None:
        self.model = Model()
        self.recorder = recorder
        self.supervisor = supervisor
        self._closed = False

    def read(self, timeout: float) -> list[Event]:
        return self._recorded(self.supervisor.read(timeout))

    def drain(self) -> list[Event]:
        """Every record already made, the ones held back for ordering included."""
        return self._recorded(self.supervisor.drain())

    def wake(self) -> None:
        """A ``read`` waiting for records returns at once."""
        self.supervisor.channels.wake()

    def _recorded(self, events: list[Event]) -> list[Event]:
        if self.recorder is not None and events:
            self.recorder.write(events)
        return events

    @property
    def record_error(self) -> str:
        return self.recorder.error if self.recorder is not None else ""

    def send_signal(self, pid: int, sig: signal.Signals) -> bool:
        return self.supervisor.send_signal(pid, sig)

    def signal_all(self, sig: signal.Signals) -> int:
        return self.supervisor.signal_all(sig)

    def _until_stopped(self, action: Callable[[], object]) -> None:
        """Do a key's action, waiting for it only while the run goes on.

        An action may wait on a lesson process (restock takes the lock a paused
        buyer holds): once the run stops it is abandoned in a daemon thread, so
        that quitting never waits for it.  Its failure is raised here.
        """
        failed: list[Exception] = []

        def call() -> None:
            try:
                action()
            except Exception as exc:
                failed.append(exc)

        thread = threading.Thread(target=call, name="mpviz-action", daemon=True)
        thread.start()
        while thread.is_alive() and not self.supervisor.stopping:
            thread.join(0.1)
        if failed:
            raise failed[0]

    @property
    def speed(self) -> float:
        return self.supervisor.speed

    @speed.setter
    def speed(self, value: float) -> None:
        self.supervisor.speed = value

    def stop(self) -> list[Event]:
        """Stop every process of the run; the last records (the exits) are returned."""
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


class LessonRun(BaseRun):
    """A lesson running as real processes.

    Raises ValueError, before any process starts, when the lesson refuses its
    parameters (a bad --db file).
    """

    def __init__(self, settings: Settings, sample_every: float | None = 1.0) -> None:
        s = settings
        self.settings = settings
        self.cls = s.cls
        self.name = s.lesson
        self.values = self.cls.prepare(s.params)
        header = recording_header(s.lesson, self.values, s.speed, s.seed, s.method)
        files = [(p.flag, self.values[p.name]) for p in self.cls.params if p.file and self.values.get(p.name)]
        recorder = open_recording(s.record, header, files)
        super().__init__(Supervisor(s.method, s.speed, s.seed, sample_every), recorder)
        self.lesson = self.cls(self.supervisor, seed=s.seed, **self.values)

    def begin(self) -> None:
        self.supervisor.run(self.lesson)

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
        emit("ui.action", english(action.description) if action else method)  # records are English
        self._until_stopped(partial(getattr(self.lesson, method), *args))

    @property
    def failure(self) -> str:
        """Why the lesson's main part failed ("" if it has not): the lesson cannot finish then."""
        main = self.model.procs.get(self.supervisor.pid)
        return main.error if main is not None else ""


class ProgramRun(BaseRun):
    """A watched program: its main started by the supervisor, every process of it reporting."""

    def __init__(self, settings: ProgramSettings, sample_every: float | None = 1.0) -> None:
        self.settings = settings
        self.program = settings.program
        self.name = self.program.name
        problem = self.program.problem()
        if problem:
            raise ValueError(problem)
        header = program_header(self.program, settings.speed)
        recorder = open_recording(settings.record, header)
        super().__init__(Supervisor(speed=settings.speed, sample_every=sample_every, main_is_here=False), recorder)
        self.main: ProgramMain | None = None

    def begin(self) -> None:
        channels = self.supervisor.channels
        stdin = -1 if self.settings.stdin_pipe else None  # subprocess.PIPE is -1
        self.main = ProgramMain(self.program, channels.endpoint, self.supervisor.speed_file, stdin)
        self.supervisor.adopt(self.main, "main", "main", self.main.outputs)

    def finished(self, now: int | None = None) -> bool:
        """The program ended by itself: its main, and every process it started that mpviz saw."""
        if self.main is None or self.main.exitcode is None or self.supervisor.pids():
            return False
        main = self.model.procs.get(self.main.pid)
        return main is not None and not main.alive  # its end is in the model, as it will be in the recording

    def verdict(self, now: int | None = None, final: bool | None = None) -> Verdict:
        now = now_ns() if now is None else now
        return program_verdict(self.model, self.name, now, self.finished(now) if final is None else final)

    def exit_code(self, ended_by_itself: bool) -> int:
        """1 if something went wrong; the main's own code if it ended by itself; 0 if mpviz stopped it."""
        if any(a.kind != "doubt" for a in find_anomalies(self.model, now_ns())):
            return 1
        if ended_by_itself and self.main is not None and self.main.exitcode is not None:
            code = self.main.exitcode
            return code if code >= 0 else 128 - code
        return 0

    def act(self, method: str, *args: Any) -> None:
        if method == "send_line" and args:
            self._until_stopped(partial(self.send_line, str(args[-1])))  # a program that reads nothing fills the pipe

    def send_line(self, line: str) -> None:
        """A line for the main's stdin (the dashboard's input box)."""
        if self.main is None or self.main.stdin is None:
            raise ValueError("the program's input is not the dashboard's")
        with contextlib.suppress(BrokenPipeError):
            os.write(self.main.stdin, (line + "\n").encode())
        emit("ui.input", line)


def program_verdict(model: Model, name: str, now: int, final: bool) -> Verdict:
    """A program's verdict: what went wrong (a deadlock, a hang), or how it ended."""
    anomalies = [a for a in find_anomalies(model, now) if a.kind != "doubt"]
    if anomalies:
        return Verdict(False, "; ".join(a.text for a in anomalies))
    main = next((p for p in model.procs.values() if p.role == "main"), None)
    ended = f"main {main.state}" if main is not None and not main.alive else "main still running"
    count = len(model.procs)
    text = f"{name}: {count} process{'' if count == 1 else 'es'}, {ended}"
    return Verdict(True, f"{text}; nothing went wrong") if final else Verdict(None, text)


def open_recording(path: Path | None, header: dict[str, Any], files: Iterable[tuple[str, str]] = ()) -> Recorder | None:
    """The run's recording: never onto a file the lesson writes (``files``: flag, path), never a FIFO no one reads.

    Raises ValueError with one short sentence for the user.
    """
    if path is None:
        return None
    for flag, file in files:
        if same_file(file, path):
            raise ValueError(f"{flag} and --record name the same file: {path}")
    try:
        return Recorder(path, header)
    except OSError as exc:
        reason = "no one reads it" if exc.errno == errno.ENXIO else exc.strerror or str(exc)
        raise ValueError(f"cannot write {path}: {reason}") from None


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: the same inode, or (not made yet) the same resolved path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def program_header(program: Program, speed: float) -> dict[str, Any]:
    header = recording_header("", {}, speed, None, "")
    header.update(program=program.name, argv=program.argv)
    return header
