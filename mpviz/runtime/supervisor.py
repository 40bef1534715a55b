"""The supervisor: starts a run's processes, listens for their records, signals
and stops them, and makes sure none outlives the dashboard."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mpviz import sync
from mpviz.lang import T
from mpviz.lesson import Lesson
from mpviz.runtime.channels import Channels
from mpviz.runtime.children import Child, Supervised, ended, reap
from mpviz.runtime.door import Door
from mpviz.runtime.guardian import Forked, signal_exactly, zombie
from mpviz.runtime.members import STARTING, Members
from mpviz.runtime.prepare import prepare
from mpviz.runtime.program import ProgramMain
from mpviz.runtime.sampler import Sampler
from mpviz.sync import Pace, sites, turns
from mpviz.telemetry import Event, emit, install_reporter, now_ns, short, uninstall_reporter
from mpviz.telemetry.env import ENDPOINT_ENV

if TYPE_CHECKING:
    from mpviz.runtime.attach import Attachment
    from mpviz.runtime.scheduler import Scheduler, Turns

# How long stop() waits for children after SIGTERM before it sends SIGKILL.
STOP_GRACE = 2.0
# Rounds of SIGKILL at the end: a process may start another while it is being ended.
SWEEPS = 20
# The most processes a lesson may have alive at once, if set (mpviz serve sets it for each visit).
MAX_PROCESSES_ENV = "MPVIZ_MAX_PROCESSES"
TOO_MANY = T(
    "at most {n} processes at once here (mpviz serve --max-processes): no more started",
    "这里最多同时运行 {n} 个进程(mpviz serve --max-processes):不再启动新的",
)


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
        door: Door | None = None,
        program: ProgramMain | None = None,
        guarded: Forked | subprocess.Popen[bytes] | None = None,
        early_children: set[int] | None = None,
        scheduled: Turns | None = None,
    ) -> None:
        """``door``: made before (a watched program started early, ``program``, uses it), and
        ``guarded``, the run's guardian started before it, when this process had ``early_children``."""
        if main_is_here:  # a lesson's processes may need multiprocessing's helpers; a program starts its own
            prepare(method)
        sync.use_context(method)
        self.method = method
        self.pid = os.getpid()
        # Lesson time: a lesson's processes share a double with this one; a program's read the
        # speed file, and this one keeps its own (multiprocessing's shared memory: ~3 ms to import).
        shared = sync.context().RawValue("d", speed) if main_is_here else ctypes.c_double(speed)
        self.pace = Pace(shared, seed)
        # A scheduled run: every process waits at each operation for the scheduler's leave.
        self.scheduler: Scheduler | None = None
        if scheduled is not None:
            from mpviz.runtime.scheduler import Scheduler  # here: a run that is not scheduled never needs it

            self.scheduler = Scheduler(scheduled, self._ask, self._post, self.pid)
        self.children: dict[int, Child] = {}
        cap = os.environ.get(MAX_PROCESSES_ENV, "")
        self.max_processes = int(cap) if cap.isdigit() else 0
        # Two threads asking for the same child's exit code race in waitpid: see reap().
        self._reap_lock = threading.Lock()
        self._exit_seen: dict[int, int] = {}
        # Processes started by lesson processes (the chat server's connections, a
        # program's processes): every process of the run connects to the channels.
        self.grandchildren: set[int] = set()
        self.channels = Channels(
            self._exit_record,
            self._connected,
            self._vouch,
            door or Door(speed),
            self.scheduler,
            lambda pid, sig: self.members.signal(pid, sig),
        )
        # Who may be signalled: the processes of the run, by pid and start time.  A watched
        # program's processes carry the socket's path in their environment: the run's mark.
        directory = os.path.dirname(self.channels.endpoint)
        before = early_children if guarded is not None else None
        self.members = Members(f"{ENDPOINT_ENV}={self.channels.endpoint}", directory, guarded, before)
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
        self.speed_file = self.channels.door.speed_file
        install_reporter(self.channels.post)
        sites.forget()  # the main part's sites, said again for this run's model
        if self.scheduler is not None:
            turns.install(self.scheduler.take_here)  # a lesson's main part takes turns too
        self._main_is_here = main_is_here
        self.keys = False  # whether someone can press a key that makes the lesson's main part act
        if main_is_here:  # a lesson's main part runs in this process
            emit("proc.start", "main", {"role": "main", "label": "main", "ppid": os.getppid()})
        self.sampler = Sampler()
        self.sampler.track(self.pid)
        if program is not None:
            # Taken over before anything is read: its first records find it named.  (And before the
            # sampler starts: a main started early, and failed at once, is no orphan to reap.)
            self._program = program
            self.adopt(program, "main", "main", program.outputs)
        self._sampling: threading.Thread | None = None
        if sample_every:
            self._sampling = threading.Thread(
                target=self._sample, args=(sample_every,), name="mpviz-sampler", daemon=True
            )
            self._sampling.start()

    def _ask(self, pid: int, request: bytes) -> bool:
        return self.channels.ask(pid, request)

    def _post(self, event: Event) -> None:
        self.channels.post(event)

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
        self.channels.door.set_speed(value)

    def adopt(self, process: Supervised, role: str, label: str, outputs: dict[int, str] | None = None) -> int:
        """Watch a child started elsewhere (a program's main): its exit, its stats, what it prints on ``outputs``."""
        with self._start_lock:
            self._watch(process, role, label, outputs)
        return self._said_started(process, role, label)

    def _watch(self, process: Supervised, role: str, label: str, outputs: dict[int, str] | None) -> None:
        """(``_start_lock`` held: see _sample_round.)"""
        self.children[process.pid] = Child(process, role, label)
        self.members.add(process.pid)
        self.grandchildren.discard(process.pid)  # it may have connected before it was ours
        self.channels.add_child(process.pid, process.sentinel)
        for fd, stream in (outputs or {}).items():
            self.channels.add_output(process.pid, fd, stream)
        self.sampler.track(process.pid)

    def _said_started(self, process: Supervised, role: str, label: str) -> int:
        started = getattr(process, "started_ns", None)  # a program's main started before we were here
        emit("proc.spawn", label, {"role": role, "label": label, "ppid": self.pid}, pid=process.pid, t_ns=started)
        return process.pid

    def start(self, target: Callable[..., Any], args: tuple[Any, ...] = (), *, role: str, label: str) -> int:
        with self._start_lock, STARTING:  # (STARTING: another run of this process adopts none of it)
            if self.stopping:
                raise RuntimeError("the lesson is stopping")
            if self.max_processes and len(self.pids()) >= self.max_processes:
                raise RuntimeError(TOO_MANY(n=self.max_processes))
            process = sync.get_context(self.method).Process(
                target=target,
                args=args,
                role=role,
                label=label,
                endpoint=self.channels.endpoint,
                pace=self.pace,
                guard=True,
                watch_exit=False,  # we watch their exits ourselves
                turns=self.scheduler is not None,
            )
            process.start()
            pid = process.pid
            assert pid is not None
            self.children[pid] = Child(process, role, label)
            self.members.add(pid)
            self.grandchildren.discard(pid)  # it may have connected before it was ours
            self.channels.add_child(pid, process.sentinel)
            self.sampler.track(pid)
            return pid

    def start_program(self, argv: list[str], stdin_pipe: bool) -> int:
        """Start a watched program's main: its records and its output come to the channels."""
        with self._start_lock, STARTING:
            if self.stopping:
                raise RuntimeError("the run is stopping")
            stdin = -1 if stdin_pipe else None  # subprocess.PIPE is -1
            taken = self._program
            if taken is not None and taken.argv == argv and not stdin_pipe:
                return taken.pid  # started before us, and taken over already
            seed = None if self.scheduler is None else self.scheduler.turns.seed
            self._program = program = ProgramMain(argv, self.channels.endpoint, self.speed_file, stdin, seed)
            # Watched before the lock is let go: a main that failed at once is no orphan (_sample_round).
            self._watch(program, "main", "main", program.outputs)
        return self._said_started(program, "main", "main")

    def attach(self, pid: int) -> None:
        """Watch the running program rooted at ``pid``: its processes are sampled and read, never
        adopted, so that nothing here ever signals them (``send_signal`` and ``stop`` know only ours)."""
        from mpviz.runtime.attach import Attachment  # here: psutil and py-spy's reader, for attaching only

        with self._start_lock:
            if self.stopping:
                raise RuntimeError("the run is stopping")
            self._attachment = Attachment(pid, self.channels.post_many, self.sampler.track)
            self.members.watch_only()
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
        if turns.asleep(seconds):  # a scheduled run: a point, and no time
            return not self.stopping
        remaining = float(seconds)
        if remaining <= 0:
            return not self.stopping
        # Main sleeps as the tutorial's does (time.sleep between arrivals): shown asleep, not running.
        emit("proc.sleep", "", {"s": remaining})
        try:
            while remaining > 0:
                step = min(remaining / max(self.speed, 1e-6), 0.1)
                if self._stopping.wait(step):
                    return False
                remaining -= step * self.speed
            return not self.stopping
        finally:
            emit("proc.slept")

    def sleep_real(self, seconds: float) -> bool:
        with self._away():
            return not self._stopping.wait(seconds)

    def _away(self) -> contextlib.AbstractContextManager[None]:
        """The main part's own chores: in a scheduled run, nobody waits for it meanwhile."""
        return contextlib.nullcontext() if self.scheduler is None else self.scheduler.away(self.pid)

    def wait_exit(self, pids: list[int]) -> bool:
        """Block until every one of ``pids`` has exited (True) or the run stops (False): the lesson's
        main joins them one after the other, as the tutorial's ``for p in ps: p.join()`` does, and
        says so as ``Process.join`` does (while it waits it is joining, not running)."""
        with self._away():
            for pid in pids:
                child = self.children.get(pid)
                if child is None or not self.alive(pid):
                    continue
                said = self._main_is_here
                if said:
                    emit("proc.join", child.label, {"child": pid})
                try:
                    if not self._wait_exit([pid]):
                        return False
                finally:
                    if said:
                        emit("proc.joined", child.label, {"child": pid, "ended": not self.alive(pid)})
            return True

    def _wait_exit(self, pids: list[int]) -> bool:
        while not self.stopping:
            sentinels = [self.children[pid].process.sentinel for pid in list(pids) if self.alive(pid)]
            if not sentinels:
                return True
            ended(sentinels, 0.2)
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
        if self.scheduler is not None:
            self.scheduler.expect(self.pid)
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
        else:
            lesson.directing = False
            self.idle()
        finally:
            lesson.directing = False
            if self.scheduler is not None:
                self.scheduler.left(self.pid)

    def idle(self) -> None:
        """Say that the lesson's main part has done its part (started everyone) and has nothing to
        do until a key asks: it is this process, which then only waits, and must not show as
        running.  (Its next record, a key's action, makes it run again.)"""
        lesson = self.lesson
        if self._main_is_here and lesson is not None and not lesson.directing and not self.stopping:
            emit("proc.idle", "main", {"keys": self.keys})

    def _connected(self, pid: int) -> bool:
        """A process connected (the channels' thread, the kernel's word for its pid): False if it
        is not of the run (its connection is refused).  One gone already is heard, never signalled."""
        if pid in self.children:
            return True
        member = self.members.admit(pid)
        if member is False:
            return False
        if member and pid != self.pid:
            self._grandchild(pid)
        return True

    def _vouch(self, pid: int) -> bool | None:
        """Whether a record about another process (a parent's ``proc.spawn``) names one of the run
        (None: nobody can tell, it is gone).
        It is watched from now on: should it never connect (refused, or past the limits), the
        sampler finding it gone still ends it in the model."""
        if pid in self.children:
            return True
        member = self.members.admit(pid)
        if not member:
            return member  # (None: gone already, a pool's worker dead in its initializer, or no such pid)
        self._grandchild(pid)
        return True

    def _grandchild(self, pid: int) -> None:
        """A process of the run not started here (the channels' thread), watched from now on."""
        self.grandchildren.add(pid)
        # A child of ours whose start() ended while it was admitted: start() takes it out of the
        # grandchildren once it is among the children, perhaps before it was added here (then it
        # was counted twice: signalled twice by pause-all, said gone by the sampler).  Added first,
        # looked for second: one of the two sees the other.
        if pid in self.children:
            self.grandchildren.discard(pid)
        self.sampler.track(pid)

    def _exit_record(self, pid: int) -> Event:
        child = self.children[pid]
        code = reap(child.process, self._reap_lock, 1.0)
        t = min(self._exit_seen.get(pid, now_ns()), now_ns())
        return Event(t, pid, "proc.exit", child.label, sync.exit_data(code))

    def _sample(self, every: float) -> None:
        while not self._stopping.wait(every):
            self._sample_round()

    def _sample_round(self) -> None:
        # Under the start lock: a child being started (a lesson's, a program's main) is this process's
        # child before it is in ``children``, and one that ended at once (a child that raised) would be
        # taken for an orphan of the run and reaped here, its exit code lost to its Popen: the run
        # then waited for a process long gone (multiprocessing), or said it exited 0 (subprocess).
        with self._start_lock:
            self.members.adopt(set(self.children))
        self.channels.post_many(self.sampler.sample())
        # A process started by a lesson process is not our child: no
        # sentinel tells us it ended.  Its parent reports that; should the
        # parent be killed first, the sampler finding it gone does.
        for pid in self.sampler.take_gone():
            if pid in self.grandchildren:
                self.grandchildren.discard(pid)
                self.channels.gone(pid)

    # --- signals -------------------------------------------------------------

    def paused(self, pid: int) -> bool:
        """Is ``pid`` stopped (SIGSTOP), as the kernel says?"""
        return self.sampler.status(pid) == "stopped"

    def pids(self) -> list[int]:
        return [pid for pid in list(self.children) if self.alive(pid)] + sorted(self.grandchildren)

    def send_signal(self, pid: int, sig: signal.Signals) -> bool:
        """Send a signal to one process of the run; False if it is not (or no longer) of the run."""
        if pid in self.children and not self.alive(pid):
            return False
        t = now_ns()
        if not self.members.signal(pid, sig):
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
        if self.scheduler is not None:
            self.scheduler.close()  # the main part, waiting at a point, gives up
        if self.lesson is not None:
            self.lesson.stop()
        if self._director is not None:
            self._director.join(1.0)
        if self._attachment is not None:
            self._attachment.stop()  # detached: the program goes on as it was
        with self._start_lock:  # no start() is half done from here on
            live = {pid: c.process for pid, c in self.children.items() if self.alive(pid)}
        # Every process of the run, those no record told of included (a program's ``sleep``).
        everyone = self.members.everyone(set(self.children))
        for pid, start in everyone.items():
            signal_exactly(pid, start, signal.SIGTERM)
            signal_exactly(pid, start, signal.SIGCONT)
        deadline = time.monotonic() + grace
        for process in live.values():
            reap(process, self._reap_lock, max(0.0, deadline - time.monotonic()))
        for process in live.values():
            if reap(process, self._reap_lock, 0.0) is None:
                process.kill()
                reap(process, self._reap_lock, 5.0)
        # Whatever is left, and whatever was started meanwhile (by a process of the run: none
        # was left, none can have been started).
        for _ in range(SWEEPS if everyone or live else 0):
            left = self.members.everyone(set(self.children))
            if not any(signal_exactly(pid, start, signal.SIGKILL) for pid, start in left.items() if not zombie(pid)):
                break
            time.sleep(0.01)
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
        self.members.close()
        for child in self.children.values():
            with contextlib.suppress(ValueError):  # still running: only if stop() had to give up on it
                child.process.close()  # its sentinel
        self.children.clear()
        self.lesson = None  # the lesson refers back to us: no cycle left for the GC to find late
        uninstall_reporter()
        if self.scheduler is not None:
            turns.uninstall()
