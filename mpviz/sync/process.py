"""Process: multiprocessing's own, a process of the run.

Our classes subclass multiprocessing's per-method Process classes, so the
whole API (name, daemon, pid, exitcode, sentinel, join, terminate, kill,
close, subclassing with ``run()``) is multiprocessing's.  Besides:

* the parent reports ``proc.spawn`` when the child has started;
* the child, before ``run()``, sets itself up (:mod:`mpviz.sync.boot`) and
  reports ``proc.start``; it reports ``proc.error`` if ``run()`` raises and
  its own exit code (``proc.exit``) at the end of multiprocessing's bootstrap;
* a death by signal, which the child cannot report, is reported by the
  parent: a thread waits with ``waitid(WNOWAIT)``, which leaves the exit
  status for multiprocessing's ``join()`` to collect (a forkserver child is
  the forkserver's, not ours: there ``join()`` reports it).
"""

from __future__ import annotations

import _thread
import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from multiprocessing import context, process

from mpviz.sync import boot
from mpviz.sync.base import pass_as_theirs, timed, unseen, works_for
from mpviz.telemetry import emit, now_ns, short

TYPE_CHECKING = False  # (not typing's: a watched program's every process imports this module)
if TYPE_CHECKING:
    from typing import Any

    from mpviz.sync.boot import Pace

# A process made by multiprocessing or concurrent.futures for its own use has this role.
_ROLES = {"multiprocessing/pool.py": "pool", "multiprocessing/managers.py": "manager", "futures/process.py": "pool"}
# Their code is the library's, waiting in the library's own queues: in a scheduled run they run free.
UNSCHEDULED = ("pool", "manager")
TURNS = "mpviz.sync.turns"  # (a scheduled run's module)


# How many processes of each target this process has started (their labels' numbers).
_STARTED: Counter[str] = Counter()


class Launch:
    """What the child needs to know about itself, decided in the parent: its ``role`` and
    ``label``, its ``setup``, whether it reports its own exit, and the ``pool`` it works for
    (the id of the pool whose queue of tasks is its first argument)."""

    def __init__(self, role: str, label: str | None, setup: boot.Setup, watch_exit: bool, pool: str = "") -> None:
        self.role = role
        self.label = label
        self.setup = setup
        self.watch_exit = watch_exit
        self.pool = pool


class BaseProcess(process.BaseProcess):
    """What all our Process classes add to multiprocessing's."""

    _mpviz: Launch | None = None
    _mpviz_exit: _Exit | None = None
    _mpviz_reaped = False
    # multiprocessing's
    _name: str
    _popen: Any
    _args: tuple[Any, ...]

    def __init__(
        self,
        group: None = None,
        target: Callable[..., object] | None = None,
        name: str | None = None,
        args: Iterable[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        daemon: bool | None = None,
        role: str | None = None,
        label: str | None = None,
        endpoint: str | None = None,
        pace: Pace | None = None,
        guard: bool | None = None,
        watch_exit: bool = True,
        turns: bool | None = None,
    ) -> None:
        """multiprocessing's arguments, and: ``role`` and ``label`` (what the dashboard calls it);
        ``endpoint``, ``pace``, ``guard`` and ``turns`` (see :class:`boot.Setup`; by default this
        process's own); ``watch_exit=False`` when whoever starts it reports its exit (the supervisor)."""
        super().__init__(group, target, name, args, kwargs or {}, daemon=daemon)
        here = boot.current
        setup = boot.Setup(
            here.endpoint if endpoint is None else endpoint,
            here.pace if pace is None else pace,
            here.guard if guard is None else guard,
            here.turns if turns is None else turns,
        )
        # (Here: a spawned child unpickles this class before its first line, and needs no naming.)
        from mpviz.sync.naming import library_caller

        work = works_for(self._args[0]) if self._args else ""
        self._mpviz = Launch(role or _ROLES.get(library_caller(), "worker"), label, setup, watch_exit, work)

    def _launch(self) -> Launch:
        if self._mpviz is None:  # a subclass that did not call our __init__
            self._mpviz = Launch("worker", None, boot.current, True)
        if self._mpviz.label is None:
            # Named by the program (or by multiprocessing: "ForkPoolWorker-3"), else by its
            # target; a subclass that runs its own run() by the name the program sees ("Consumer-2").
            default = type(self).__name__ + "-" + ":".join(str(i) for i in self._identity)
            target = getattr(self, "_target", None)
            # A process the library starts for itself (an executor's worker) keeps multiprocessing's
            # name, as the program sees it: its target is the library's ("_process_worker").
            if self._name != default or target is None or self._mpviz.role in UNSCHEDULED:
                self._mpviz.label = self._name
            else:
                # Numbered per target in the process that starts them: buy_ticket #0, buy_ticket #1 …
                function = getattr(target, "__name__", type(target).__name__)
                self._mpviz.label = f"{function} #{_STARTED[function]}"
                _STARTED[function] += 1
        return self._mpviz

    def start(self) -> None:
        from mpviz.sync.sites import site  # (a spawned child unpickles this class: it loads what it calls)
        from mpviz.sync.turns import turn

        launch = self._launch()  # before the child is made: it needs its label
        turn("proc.start", str(launch.label))
        # Its start is stamped before the child exists: what the child says first (its start, an
        # operation, its end) may be read before this process gets to say it started it.
        site_id = site()
        t = now_ns()
        try:
            super().start()
        except Exception as exc:
            _pitfall(str(launch.label), exc)
            raise
        pid = self.pid
        assert pid is not None and launch.label is not None
        facts = {"role": launch.role, "label": launch.label, "ppid": os.getpid()}
        if site_id:
            facts["at"] = site_id  # the line that started it
        emit("proc.spawn", launch.label, facts, t_ns=t, pid=pid)
        if launch.watch_exit:
            self._mpviz_exit = _Exit(pid, launch.label)
            # A forkserver's child is not ours to wait for: join() reports how it ended, and a thread
            # would only learn so.
            if self._method() != "forkserver":
                # No thread to spare must not fail the start: join() still reports a death by signal.
                # (The interpreter's thread, not threading's, whose start waits for it to run: see
                # SocketReporter.serve.)
                with contextlib.suppress(RuntimeError):
                    _thread.start_new_thread(self._mpviz_exit.watch, ())

    def _method(self) -> str | None:
        """How this process starts: its class's start method, else the default one."""
        return getattr(self, "_start_method", None) or multiprocessing.get_start_method(allow_none=True)

    def join(self, timeout: float | None = None) -> None:
        # Say it when join() will wait: the dashboard shows who waits for whom
        # (a main stuck joining a child that hangs is part of the hang).
        from mpviz.sync.sites import say
        from mpviz.sync.turns import EXPIRE, resume, turn

        launch = self._mpviz
        label = str(launch.label) if launch is not None else self.name
        answer = turn("proc.join", label, {"child": self.pid or 0, "timeout": timeout})
        if answer == EXPIRE:
            timeout = 0  # a scheduled run's join that would wait for its timeout: over at once
        waits = launch is not None and timeout != 0 and self._popen is not None and self._popen.poll() is None
        if waits:
            say("proc.join", label, timed({"child": self.pid}, timeout))
        super().join(timeout)
        code = None if self._popen is None else self._popen.returncode
        if waits:
            say("proc.joined", label, {"child": self.pid, "ended": code is not None})
        resume(answer, label, "proc.joined")
        if self._mpviz_exit is not None and code:
            # Killed, or ended by os._exit(n): the child could not say how; its parent knows now.
            # (A code the child said itself is said again: the model takes it once.)
            self._mpviz_exit.say(code)
        self._reaped(label)

    def terminate(self) -> None:
        from mpviz.sync.turns import turn

        turn("proc.terminate", self.name, {"child": self.pid or 0})
        self._ending("SIGTERM")
        super().terminate()

    def kill(self) -> None:
        from mpviz.sync.turns import turn

        turn("proc.kill", self.name, {"child": self.pid or 0})
        self._ending("SIGKILL")
        super().kill()

    def _ending(self, signal_name: str) -> None:
        """Say who ends which child, and where (what it held, or was putting, may be lost with it)."""
        if self._popen is not None and self._popen.returncode is None:
            from mpviz.sync.sites import say

            label = str(self._mpviz.label) if self._mpviz is not None else self.name
            say("proc.terminate", label, {"child": self.pid, "signal": signal_name})

    def is_alive(self) -> bool:
        alive = super().is_alive()  # (it waits for the child if it ended: a zombie no more)
        if not alive:
            self._reaped(str(self._mpviz.label) if self._mpviz is not None else self.name)
        return alive

    def _reaped(self, label: str) -> None:
        """Say, once, that this process waited for its ended child (which is a zombie until then)."""
        if self._popen is not None and self._popen.returncode is not None and not self._mpviz_reaped:
            self._mpviz_reaped = True
            emit("proc.reaped", label, pid=self.pid)

    # --- in the child -------------------------------------------------------

    def _bootstrap(self, parent_sentinel: int | None = None) -> int:
        launch = self._launch()
        label = str(launch.label)
        boot.enter(launch.setup, label, parent_sentinel, spawned=self._method() == "spawn")
        run = self.run
        target = getattr(self, "_target", None)
        facts = {"role": launch.role, "label": label, "ppid": os.getppid(), "target": _name_of(target or run)}
        if launch.pool:
            facts["pool"] = launch.pool  # a pool's worker, until it asks for its first task: in its initializer

        # (turns: loaded only where a run is scheduled, or was in the parent this process was forked from)
        turns = sys.modules.get(TURNS)
        if launch.role in UNSCHEDULED and turns is not None:
            turns.uninstall()  # a pool's worker, a manager's server: multiprocessing's own, they run free

        def reporting_run() -> None:
            emit("proc.start", label, facts)
            # A scheduled run: the child's first point, before its target runs ("def" line as its site;
            # made only then: a site is a record, and its line read from the file, tokenize imported).
            if turns is not None and turns.on:
                from mpviz.sync.sites import site_at

                code = getattr(target or run, "__code__", None)
                turns.turn("proc.run", label, {"at": site_at(code, code.co_firstlineno)} if code is not None else None)
            try:
                run()
                emit("proc.ran", label)  # its target returned: what is left is its exit
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                error = short(f"{type(exc).__name__}: {exc}")
                if launch.pool:  # a pool's worker that died in its initializer: the pool starts another
                    from mpviz.sync.pool import initializer_failed

                    initializer_failed(launch.pool, target, self._args, exc, error)
                emit("proc.error", label, {"error": error})
                # The traceback multiprocessing prints goes from its _bootstrap
                # straight to run(), as it would without this frame.
                unseen(exc)
                raise

        # multiprocessing's bootstrap calls self.run() and swallows what it
        # raises (printing the traceback): only a run of our own sees it.
        self.run = reporting_run  # type: ignore[method-assign]
        if launch.pool:  # a pool's worker: its wait for a task is said (its queue is this process's copy)
            from mpviz.sync.pool import waiting_for_work

            tasks = self._args[0]
            tasks.get = waiting_for_work(launch.pool, tasks.get)
        code: int = super()._bootstrap(parent_sentinel)  # type: ignore[misc]
        if launch.watch_exit:
            emit("proc.exit", label, exit_data(code))
        boot.leave()
        return code


# multiprocessing's own words for what the docs' programming guidelines warn of.
_PITFALLS = (
    ("daemon", AssertionError, "daemonic processes are not allowed to have children"),
    ("main_guard", RuntimeError, "bootstrapping phase"),
    ("pickle", Exception, "pickle"),
)


def _pitfall(label: str, exc: Exception) -> None:
    """A start that failed the way the docs warn it can: said, with the line (the error is raised as it is)."""
    for kind, error, words in _PITFALLS:
        if isinstance(exc, error) and words in str(exc).lower():
            from mpviz.sync.sites import say

            say(f"pitfall.{kind}", label, {"error": short(f"{type(exc).__name__}: {exc}")})
            return


class _Exit:
    """One child's death by signal, said once by whichever of its parent's threads learns it first."""

    def __init__(self, pid: int, label: str) -> None:
        self.pid = pid
        self.label = label
        self._lock = threading.Lock()
        self._said = False

    def say(self, code: int) -> None:
        with self._lock:
            if self._said:
                return
            self._said = True
        emit("proc.exit", self.label, exit_data(code), pid=self.pid)

    def watch(self) -> None:
        """Wait for the child without reaping it (its exit status stays for ``join()``)."""
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT)
        except ChildProcessError:
            return  # a forkserver child, or join() reaped it first: join() reports it
        if info is not None and info.si_code in (os.CLD_KILLED, os.CLD_DUMPED):
            self.say(-info.si_status)


def _name_of(function: object) -> str:
    return str(getattr(function, "__qualname__", None) or type(function).__name__)


def exit_data(exitcode: int | None) -> dict[str, Any]:
    """The ``proc.exit`` record's data for a multiprocessing exit code."""
    if exitcode is None:
        return {"code": None}
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return {"code": exitcode, "signal": name}
    return {"code": exitcode}


class Process(BaseProcess, context.Process):
    """``multiprocessing.Process``: starts with the default context's method."""


class ForkProcess(BaseProcess, context.ForkProcess):
    pass


class SpawnProcess(BaseProcess, context.SpawnProcess):
    pass


class ForkServerProcess(BaseProcess, context.ForkServerProcess):
    pass


# What a program gets passes for multiprocessing's own (see base.pass_as_theirs).
pass_as_theirs(Process, ForkProcess, SpawnProcess, ForkServerProcess)
