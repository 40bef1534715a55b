"""The supervisor: starts a run's processes, listens for their records, signals
and stops them, and makes sure none outlives the dashboard."""

from __future__ import annotations

import contextlib
import multiprocessing.connection
import os
import signal
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mpviz import sync
from mpviz.lesson import Lesson
from mpviz.runtime.attach import Attachment
from mpviz.runtime.channels import Channels
from mpviz.runtime.prepare import prepare
from mpviz.runtime.program import ProgramMain
from mpviz.runtime.sampler import Sampler
from mpviz.sync import Pace
from mpviz.telemetry import Event, emit, install_reporter, now_ns, short, uninstall_reporter

# How long stop() waits for children after SIGTERM before it sends SIGKILL.
STOP_GRACE = 2.0


class Supervised(Protocol):
    """A child of the supervisor: a lesson's process, or a watched program's main."""

    @property
    def pid(self) -> int: ...

    @property
    def sentinel(self) -> int: ...

    @property
    def exitcode(self) -> int | None: ...

    def join(self, timeout: float | None = None) -> None: ...

    def kill(self) -> None: ...

    def close(self) -> None: ...


@dataclass
class Child:
    process: Supervised
    role: str
    label: str


class Supervisor:
    """Runs one lesson (or one watched program) at a time as real processes.

    It implements the lesson's :class:`~mpviz.lesson.Run`: the lesson's main
    part starts processes and sleeps through it.  Its channels take every
    process's records; whoever owns the model reads them (``runtime.run.Run.read``).
    """

    def __init__(
        self,
        method: str = "spawn",
        speed: float = 1.0,
        seed: int | None = None,
        sample_every: float | None = 1.0,
        main_is_here: bool = True,
    ) -> None:
        prepare(method)
        sync.use_context(method)
        self.method = method
        self.pid = os.getpid()
        self.pace = Pace(sync.context().RawValue("d", speed), seed)
        self.children: dict[int, Child] = {}
        # Two threads asking for the same child's exit code race in waitpid: see reap().
        self._reap_lock = threading.Lock()
        self._exit_seen: dict[int, int] = {}
        # Processes started by lesson processes (the chat server's connections, a
        # program's processes): every process of the run connects to the channels.
        self.grandchildren: set[int] = set()
        self.channels = Channels(self._exit_record, self._connected)
        self._stopping = threading.Event()
        self._stopped = False
        self._start_lock = threading.Lock()
        self.lesson: Lesson | None = None
        self._director: threading.Thread | None = None
        self._program: ProgramMain | None = None
        # An attached program: watched from outside, never signalled (its pids are none of ours).
        self._attachment: Attachment | None = None
        # Lesson time for a watched program's processes: a file they map (any
        # depth, any start method); a lesson's get ``pace`` in their config.
        self.speed_file = os.path.join(os.path.dirname(self.channels.endpoint), "speed")
        with open(self.speed_file, "wb") as f:
            f.write(struct.pack("d", speed))
        install_reporter(self.channels.post)
        if main_is_here:  # a lesson's main part runs in this process
            emit("proc.start", "main", {"role": "main", "label": "main", "ppid": os.getppid()})
        self.sampler = Sampler()
        self.sampler.track(self.pid)
        self._sampling: threading.Thread | None = None
        if sample_every:
            self._sampling = threading.Thread(
                target=self._sample, args=(sample_every,), name="mpviz-sampler", daemon=True
            )
            self._sampling.start()

    # --- the Run protocol --------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def speed(self) -> float:
        return self.pace.speed.value

    @speed.setter
    def speed(self, value: float) -> None:
        self.pace.speed.value = value
        with open(self.speed_file, "r+b") as f:
            f.write(struct.pack("d", value))

    def adopt(self, process: Supervised, role: str, label: str, outputs: dict[int, str] | None = None) -> int:
        """Watch a child started elsewhere (a program's main): its exit, its stats, what it prints on ``outputs``."""
        with self._start_lock:
            self.children[process.pid] = Child(process, role, label)
            self.grandchildren.discard(process.pid)  # it may have connected before it was ours
            self.channels.add_child(process.pid, process.sentinel)
            for fd, stream in (outputs or {}).items():
                self.channels.add_output(process.pid, fd, stream)
            self.sampler.track(process.pid)
        emit("proc.spawn", label, {"role": role, "label": label, "ppid": self.pid}, pid=process.pid)
        return process.pid

    def start(self, target: Callable[..., Any], args: tuple[Any, ...] = (), *, role: str, label: str) -> int:
        with self._start_lock:
            if self.stopping:
                raise RuntimeError("the lesson is stopping")
            process = sync.get_context(self.method).Process(
                target=target,
                args=args,
                role=role,
                label=label,
                endpoint=self.channels.endpoint,
                pace=self.pace,
                guard=True,
                watch_exit=False,  # we watch their exits ourselves
            )
            process.start()
            pid = process.pid
            assert pid is not None
            self.children[pid] = Child(process, role, label)
            self.grandchildren.discard(pid)  # it may have connected before it was ours
            self.channels.add_child(pid, process.sentinel)
            self.sampler.track(pid)
            return pid

    def start_program(self, argv: list[str], stdin_pipe: bool) -> int:
        """Start a watched program's main: its records and its output come to the channels."""
        with self._start_lock:
            if self.stopping:
                raise RuntimeError("the run is stopping")
            stdin = -1 if stdin_pipe else None  # subprocess.PIPE is -1
            self._program = ProgramMain(argv, self.channels.endpoint, self.speed_file, stdin)
        return self.adopt(self._program, "main", "main", self._program.outputs)

    def attach(self, pid: int) -> None:
        """Watch the running program rooted at ``pid``: its processes are sampled and read, never
        adopted, so that nothing here ever signals them (``send_signal`` and ``stop`` know only ours)."""
        with self._start_lock:
            if self.stopping:
                raise RuntimeError("the run is stopping")
            self._attachment = Attachment(pid, self.channels.post_many, self.sampler.track)
        self._attachment.start()

    def read_stacks(self, pid: int, req: int) -> bool:
        """An attached process's stacks read now, as the answer to ``req``; False if nothing is attached."""
        if self._attachment is None:
            return False
        self._attachment.ask(pid, req)
        return True

    def write_stdin(self, line: str) -> None:
        main = self._program
        if main is None or main.stdin is None:
            raise ValueError("the program's input is not the dashboard's")
        with contextlib.suppress(BrokenPipeError):
            os.write(main.stdin, (line + "\n").encode())
        emit("ui.input", line)

    def sleep(self, seconds: float) -> bool:
        remaining = float(seconds)
        while remaining > 0:
            step = min(remaining / max(self.speed, 1e-6), 0.1)
            if self._stopping.wait(step):
                return False
            remaining -= step * self.speed
        return not self.stopping

    def sleep_real(self, seconds: float) -> bool:
        return not self._stopping.wait(seconds)

    def wait_exit(self, pids: list[int]) -> bool:
        """Block until every one of ``pids`` has exited (True) or the run stops (False)."""
        while not self.stopping:
            sentinels = [self.children[pid].process.sentinel for pid in list(pids) if self.alive(pid)]
            if not sentinels:
                return True
            multiprocessing.connection.wait(sentinels, 0.2)
        return False

    def alive(self, pid: int) -> bool:
        child = self.children.get(pid)
        if child is None:
            return False
        with self._reap_lock:
            if child.process.exitcode is None:
                return True
        # The first moment anyone here saw it gone: its exit record carries
        # this time, so that it comes before whatever reacted to it.
        self._exit_seen.setdefault(pid, now_ns())
        return False

    # --- running a lesson ------------------------------------------------------

    def run(self, lesson: Lesson) -> None:
        """Start the lesson's main part in a thread of its own."""
        self.lesson = lesson
        self._director = threading.Thread(target=self._direct, args=(lesson,), name="mpviz-main", daemon=True)
        self._director.start()

    def _direct(self, lesson: Lesson) -> None:
        try:
            lesson.direct()
        except Exception as exc:
            # The top of a thread: a failure is shown as main's error (in the
            # table and the log), not printed over the dashboard.
            if not self.stopping:
                emit("proc.error", "main", {"error": short(f"{type(exc).__name__}: {exc}")})
        finally:
            lesson.directing = False

    def _connected(self, pid: int) -> None:
        """A process connected (the channels' thread): one of the run's, ours or not."""
        if pid not in self.children and pid != self.pid:
            self.grandchildren.add(pid)
        self.sampler.track(pid)

    def _exit_record(self, pid: int) -> Event:
        child = self.children[pid]
        code = reap(child.process, self._reap_lock, 1.0)
        t = min(self._exit_seen.get(pid, now_ns()), now_ns())
        return Event(t, pid, "proc.exit", child.label, sync.exit_data(code))

    def _sample(self, every: float) -> None:
        while not self._stopping.wait(every):
            self.channels.post_many(self.sampler.sample())
            # A process started by a lesson process is not our child: no
            # sentinel tells us it ended.  Its parent reports that; should the
            # parent be killed first, the sampler finding it gone does.
            for pid in self.sampler.take_gone():
                if pid in self.grandchildren:
                    self.grandchildren.discard(pid)
                    if not self.channels.exit_told(pid):
                        self.channels.post(Event(now_ns(), pid, "proc.exit", "", {"code": None}))

    # --- signals -------------------------------------------------------------

    def paused(self, pid: int) -> bool:
        """Is ``pid`` stopped (SIGSTOP), as the kernel says?"""
        return self.sampler.status(pid) == "stopped"

    def pids(self) -> list[int]:
        return [pid for pid in list(self.children) if self.alive(pid)] + sorted(self.grandchildren)

    def send_signal(self, pid: int, sig: signal.Signals) -> bool:
        """Send a signal to one lesson process; False if it is not (or no longer) ours."""
        if pid not in self.children and pid not in self.grandchildren:
            return False
        if pid in self.children and not self.alive(pid):
            return False
        t = now_ns()
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return False
        if sig in (signal.SIGSTOP, signal.SIGCONT):
            emit("proc.signal", sig.name, t_ns=t, pid=pid)
        return True

    def signal_all(self, sig: signal.Signals) -> int:
        return sum(self.send_signal(pid, sig) for pid in self.pids())

    # --- stopping --------------------------------------------------------------

    def stop(self, grace: float = STOP_GRACE) -> list[Event]:
        """Stop the lesson: SIGTERM (and SIGCONT, for paused ones), wait, SIGKILL.

        Returns the last records, the exits included.  Safe to call twice.
        """
        if self._stopped:
            return []
        self._stopping.set()
        if self.lesson is not None:
            self.lesson.stop()
        if self._director is not None:
            self._director.join(1.0)
        if self._attachment is not None:
            self._attachment.stop()  # detached: the program goes on as it was
        with self._start_lock:  # no start() is half done from here on
            live = {pid: c.process for pid, c in self.children.items() if self.alive(pid)}
        others = sorted(self.grandchildren)
        for pid in live:
            _signal_group(pid, signal.SIGTERM)
            _signal_group(pid, signal.SIGCONT)
        for pid in others:
            _quietly(os.kill, pid, signal.SIGTERM)
            _quietly(os.kill, pid, signal.SIGCONT)
        deadline = time.monotonic() + grace
        for process in live.values():
            reap(process, self._reap_lock, max(0.0, deadline - time.monotonic()))
        for process in live.values():
            if reap(process, self._reap_lock, 0.0) is None:
                process.kill()
                reap(process, self._reap_lock, 5.0)
        for pid in [*others, *live]:
            _signal_group(pid, signal.SIGKILL)  # whatever a group still holds: processes no record told of
        events: list[Event] = []
        while True:
            batch = self.channels.read(0.0)
            events.extend(batch)
            if not batch:
                break
        events.extend(self.channels.flush())
        self._stopped = True
        return events

    def close(self) -> None:
        """Stop, and give back everything the run held: a dashboard restarts lessons for hours."""
        self.stop()
        if self._sampling is not None:
            self._sampling.join(2.0)
        self.channels.close()
        for child in self.children.values():
            with contextlib.suppress(ValueError):  # still running: only if stop() had to give up on it
                child.process.close()  # its sentinel
        self.children.clear()
        self.lesson = None  # the lesson refers back to us: no cycle left for the GC to find late
        uninstall_reporter()


def reap(process: Supervised, lock: threading.Lock, timeout: float | None = None) -> int | None:
    """The exit code of a child, once it has ended (None: still running).

    Waits on the sentinel, then asks under ``lock``: two threads calling
    ``waitpid`` for the same child race, and the loser sees no exit code at all.
    The sentinel fires a moment before the child can be reaped, hence the retries.
    """
    if not multiprocessing.connection.wait([process.sentinel], timeout):
        return None
    deadline = time.monotonic() + 1.0
    while True:
        with lock:
            code = process.exitcode
        if code is not None or time.monotonic() > deadline:
            return code
        time.sleep(0.001)


def _quietly(kill: Callable[[int, int], None], pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        kill(pid, sig)


def _signal_group(pid: int, sig: int) -> None:
    """A signal to a process and to the group it leads or led: a program's main leads its session,
    and processes of the program it left behind (not started by multiprocessing) are still in it."""
    _quietly(os.killpg, pid, sig)
    _quietly(os.kill, pid, sig)
