"""One run, wired once: a lesson (or a watched program), its supervisor and its recording.

The headless runner, the dashboard's live source and the sample recorder all
start a run here, read its records, and close it.  A run holds no model: the
records go from the channels through :meth:`Run.read` (which writes them to
the recording) straight to whoever owns the model — the dashboard's screen,
or the headless loop — and what the run must decide from the model (is it
finished, the verdict, the exit code) it asks the lesson with that model.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mpviz.lang import english
from mpviz.lesson import Lesson, Verdict
from mpviz.model import Model
from mpviz.model.stacks import stacks_wanted
from mpviz.runtime.program import Early
from mpviz.runtime.supervisor import Supervisor
from mpviz.schedule.replay import Replay, not_again
from mpviz.telemetry import Event, emit, now_ns
from mpviz.telemetry.framing import stacks_request

if TYPE_CHECKING:
    from mpviz.recording.writer import Recorder
    from mpviz.runtime.scheduler import Turns  # (imported by whoever schedules a run)

# How long a process has to answer a request for its stacks; how often look() asks one process.
STACKS_WAIT_NS = 1_000_000_000
LOOK_AGAIN_NS = 2_000_000_000
NO_ANSWER = "it did not answer within a second: busy in C code that holds the GIL, or not a Python process of the run"
PAUSED = "it is paused (SIGSTOP): a stopped process cannot answer"
DASHBOARD = "the lesson's main part runs in the dashboard itself (its code: the lesson's lesson.py)"

# How long a run that is over waits for what its ended processes still write
# (by processes that hold their output: a resource tracker, a daemon of theirs).
LAST_WORDS_NS = 2_000_000_000


@dataclass
class Settings:
    """How to run: what the command line said.  ``lesson`` is a lesson class, or
    :class:`~mpviz.program.Watched` with the program in ``params``."""

    lesson: type[Lesson]
    params: dict[str, Any] = field(default_factory=dict)
    speed: float = 1.0
    seed: int | None = None
    method: str = "spawn"
    record: Path | None = None
    turns: Turns | None = None  # a scheduled run: who chooses, and how


class Run:
    """A lesson or a watched program running as real processes.

    Raises ValueError, before any process starts, when the lesson refuses its
    parameters (a bad --db file, a program that is not there).
    """

    def __init__(
        self, settings: Settings, sample_every: float | None = 1.0, early: Early | None = None, keys: bool = False
    ) -> None:
        """``early``: a watched program's main started already (headless), taken over here.
        ``keys``: someone can press the lesson's keys (the dashboard; not a headless run)."""
        self.settings = settings
        cls = self.cls = settings.lesson
        self.values = cls.prepare(dict(settings.params))
        self.name = cls.called(self.values)
        self.recorder: Recorder | None = None
        if settings.record is not None:
            # Here: a run that is not recorded never loads the recording's modules.
            from mpviz.recording.writer import header, open_recorder

            head = header(
                cls.header_fields(self.values),
                settings.speed,
                settings.seed,
                settings.method,
                settings.turns is not None,
            )
            files = [(p.flag, self.values[p.name]) for p in cls.params if p.file and self.values.get(p.name)]
            self.recorder = open_recorder(settings.record, head, files)
        self.supervisor = Supervisor(
            settings.method,
            settings.speed,
            settings.seed,
            sample_every,
            cls.main_is_here,
            early.door if early is not None else None,
            early.main if early is not None else None,
            early.guardian if early is not None else None,
            early.before if early is not None else None,
            settings.turns,
        )
        self.supervisor.keys = keys and bool(cls.actions)
        self.scheduler = self.supervisor.scheduler
        self.lesson = cls(self.supervisor, seed=settings.seed, **self.values)
        self._closed = False
        self._over_ns: int | None = None  # when the lesson said it was over
        self._asked = 0
        self._stacks_due: dict[int, tuple[int, int]] = {}  # request → (pid, by when it must be answered)
        self._looked: dict[int, int] = {}  # pid → when its stacks were last asked for by look()

    def begin(self) -> None:
        """Start the lesson's main part (a watched program: start its main)."""
        self.supervisor.run(self.lesson)

    # --- records ---------------------------------------------------------------------

    def read(self, timeout: float) -> list[Event]:
        """The records that came within ``timeout`` s, in time order (written to the recording)."""
        events = self.supervisor.channels.read(timeout)
        if self._stacks_due:
            self._answered(events)
        return self._recorded(events)

    # --- stacks ------------------------------------------------------------------------

    def ask_stacks(self, pid: int) -> None:
        """Ask a process for every thread's stack: ``proc.stack`` records come back (or, a
        second later, a ``proc.stacks`` record saying why none could be read)."""
        self._asked += 1
        req = self._asked
        if self.supervisor.read_stacks(pid, req):
            return  # attached: read from outside, answered within a moment
        why = ""
        if pid == self.supervisor.pid:
            why = DASHBOARD
        elif self.supervisor.paused(pid):
            why = PAUSED
        elif not self.supervisor.channels.ask(pid, stacks_request(req)):
            why = NO_ANSWER
        if why:
            self.supervisor.channels.post(Event(now_ns(), pid, "proc.stacks", "", {"req": req, "missing": why}))
        else:
            self._stacks_due[req] = (pid, now_ns() + STACKS_WAIT_NS)

    def look(self, model: Model, now: int | None = None) -> None:
        """Ask for the stacks of the processes whose records do not say what they do (see
        ``model.stacks.stacks_wanted``), each at most every ``LOOK_AGAIN_NS``."""
        if self.cls.detaches:
            return  # attached: every process is read from outside whenever it moved
        now = now_ns() if now is None else now
        for pid in stacks_wanted(model, now):
            if pid != self.supervisor.pid and now - self._looked.get(pid, 0) >= LOOK_AGAIN_NS:
                self._looked[pid] = now
                self.ask_stacks(pid)

    def _answered(self, events: list[Event]) -> None:
        for event in events:
            if event.kind == "proc.stacks":
                req = event.data.get("req")
                if isinstance(req, int):
                    self._stacks_due.pop(req, None)
        now = now_ns()
        for req, (pid, due) in list(self._stacks_due.items()):
            if now >= due:
                del self._stacks_due[req]
                why = PAUSED if self.supervisor.paused(pid) else NO_ANSWER
                self.supervisor.channels.post(Event(now, pid, "proc.stacks", "", {"req": req, "missing": why}))

    def drain(self) -> list[Event]:
        """Every record already made, the ones held back for ordering included."""
        return self._recorded(self.supervisor.channels.flush())

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

    @property
    def left_out(self) -> int:
        """Records left out of the recording: its reader would not have taken them back."""
        return self.recorder.left_out if self.recorder is not None else 0

    @property
    def malformed(self) -> int:
        return self.supervisor.channels.malformed

    # --- what the model says, asked of the lesson ---------------------------------------

    def finished(self, model: Model, now: int | None = None) -> bool:
        """The lesson says it is over, and the processes that ended have said their last words.

        A process's output stays open as long as anyone holds it: a program's
        resource tracker writes its warnings on main's stderr after main has
        ended.  They are waited for, up to LAST_WORDS_NS, so that nothing
        printed is lost."""
        now = now_ns() if now is None else now
        if not self.lesson.finished(model, now):
            self._over_ns = None
            return False
        if self._over_ns is None:
            self._over_ns = now
        gone = {pid for pid in self.supervisor.channels.printing() if pid in model.procs and not model.procs[pid].alive}
        return not gone or now - self._over_ns >= LAST_WORDS_NS

    def verdict(
        self, model: Model, now: int | None = None, final: bool | None = None, printed: bool | None = None
    ) -> Verdict:
        """The lesson's verdict; that of a replayed schedule's run that did not fail as the schedule's
        did, final, says so (never a bare "nothing went wrong").  ``printed``: whether the printed lines
        broke the caller's --at-most (None: nobody judged them: the dashboard)."""
        now = now_ns() if now is None else now
        final = self.finished(model, now) if final is None else final
        verdict = self.lesson.verdict(model, now, final)
        chooser = self.settings.turns.chooser if self.settings.turns is not None else None
        if not final or not isinstance(chooser, Replay):
            return verdict
        failed = (
            verdict.ok is False
            or bool(self.failure(model))
            or bool(printed)
            or self.lesson.exit_code(model, verdict, ended_by_itself=True) != 0
            or any(p.error or (p.exit_code or 0) > 0 for p in model.procs.values())  # a child's failure too
        )
        said = not_again(chooser, failed, printed is not None)
        return Verdict(verdict.ok, f"{verdict.text}; {said}", verdict.warns) if said else verdict

    def failure(self, model: Model) -> str:
        """Why the lesson's main part failed ("" if it has not): the lesson cannot finish then."""
        main = model.procs.get(self.supervisor.pid)
        return main.error if main is not None else ""

    # --- keys ------------------------------------------------------------------------------

    def act(self, method: str, *args: Any) -> None:
        """Run a lesson's action (a key, a line typed for a program), and say so in the log."""
        if self.supervisor.stopping:
            return
        action = next((a for a in self.cls.actions if a.method == method), None)
        if action is not None:
            emit("ui.action", english(action.description))  # records are English
        self._until_stopped(partial(getattr(self.lesson, method), *args))
        self.supervisor.idle()  # its part done again (when its first part is)

    def _until_stopped(self, action: Callable[[], object]) -> None:
        """Do a key's action, waiting for it only while the run goes on.

        An action may wait on a lesson process (restock takes the lock a paused
        buyer holds; a line for a program that reads nothing fills the pipe):
        once the run stops it is abandoned in a daemon thread, so that quitting
        never waits for it.  Its failure is raised here.
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

    def send_signal(self, pid: int, sig: signal.Signals) -> bool:
        return self.supervisor.send_signal(pid, sig)

    def signal_all(self, sig: signal.Signals) -> int:
        return self.supervisor.signal_all(sig)

    def show(self, pids: Iterable[int] | None) -> None:
        """The processes on screen (None: all): sampled every second, the others less often when idle."""
        self.supervisor.sampler.show(pids)

    @property
    def speed(self) -> float:
        return self.supervisor.speed

    @speed.setter
    def speed(self, value: float) -> None:
        self.supervisor.speed = value

    # --- the end ---------------------------------------------------------------------------

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
