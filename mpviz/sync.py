"""multiprocessing's primitives, reporting every operation.

``Lock``, ``RLock``, ``Semaphore``, ``BoundedSemaphore``, ``Event``, ``Queue``,
``JoinableQueue``, ``Pipe`` and ``Process`` behave exactly like the ones in
``multiprocessing`` (same methods, same blocking, timeouts and exceptions,
picklable into ``Process(args=...)``) and also send a record for each step
through :func:`mpviz.telemetry.emit`.  The dashboard derives holders, waiters,
values, flags and depths from those records alone, without polling and
without ``qsize()``.

Order of records.  Records from different processes travel on different pipes
and may arrive out of order, so each carries the time of the step it reports,
chosen so that sorting by time gives a causal order: an operation that lets
another process proceed (release, set, put, send) is stamped *before* it
happens, and one that proceeds (acquired, woke, get, recv) *after*.  The record
itself is sent after the operation, so a process killed in between never
leaves the dashboard believing in a step that did not happen.

All primitives come from one multiprocessing context (``spawn`` unless
:func:`use_context` says otherwise).  Lesson code imports from here instead of
from ``multiprocessing``; nothing else changes.
"""

from __future__ import annotations

import io
import itertools
import multiprocessing
import multiprocessing.connection
import os
import queue
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Any

from mpviz import telemetry
from mpviz.telemetry import SocketReporter, emit, install_reporter, now_ns, short

__all__ = [
    "BoundedSemaphore",
    "Event",
    "JoinableQueue",
    "Lock",
    "Pipe",
    "Process",
    "Queue",
    "RLock",
    "Semaphore",
    "sleep",
    "use_context",
]

START_METHODS = ("spawn", "forkserver")

_method = "spawn"


def use_context(method: str) -> None:
    """Choose the start method every later primitive and process uses."""
    if method not in START_METHODS:
        raise ValueError(f"start method must be one of {', '.join(START_METHODS)}, not {method!r}")
    global _method
    _method = method


def context() -> BaseContext:
    return multiprocessing.get_context(_method)


_serial = itertools.count(1)


def new_prim(kind: str, name: str, **facts: Any) -> str:
    """A new primitive's id, unique in the run, after saying what it is (``prim.new``)."""
    prim_id = f"{os.getpid()}.{next(_serial)}"
    emit("prim.new", prim_id, {"kind": kind, "name": name, **facts})
    return prim_id


# --- locks and semaphores ---------------------------------------------------


class _Acquirable:
    """Shared by Lock, RLock, Semaphore and BoundedSemaphore.

    ``acquire`` first tries without blocking, so that a process that gets the
    primitive at once reports only ``acquired``, and one that has to wait
    reports ``wait`` first: the dashboard shows who is stuck, not noise.
    """

    family = "lock"

    def __init__(self, name: str, inner: Any, **facts: Any) -> None:
        self.name = name
        self._inner = inner
        self.id = new_prim(self.family, name, **facts)

    def _facts(self) -> dict[str, Any]:
        return {}

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        if self._inner.acquire(False):
            emit(f"{self.family}.acquired", self.id, self._facts())
            return True
        if not block:
            return False
        emit(f"{self.family}.wait", self.id, self._facts())
        if self._inner.acquire(True, timeout):
            emit(f"{self.family}.acquired", self.id, self._facts())
            return True
        emit(f"{self.family}.timeout", self.id, self._facts())
        return False

    def release(self) -> None:
        t = now_ns()
        self._inner.release()
        emit(f"{self.family}.released", self.id, self._facts(), t_ns=t)

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<mpviz {type(self).__name__} {self.name!r}>"


class Lock(_Acquirable):
    """``multiprocessing.Lock``: one holder at a time, and no owner — anyone may release it."""

    family = "lock"

    def __init__(self, name: str = "lock") -> None:
        super().__init__(name, context().Lock())


class RLock(_Acquirable):
    """``multiprocessing.RLock``: the holder may acquire it again; each acquire needs a release."""

    family = "rlock"

    def __init__(self, name: str = "rlock") -> None:
        super().__init__(name, context().RLock())


class Semaphore(_Acquirable):
    """``multiprocessing.Semaphore``: a counter; ``acquire`` takes one, blocking at zero."""

    family = "sem"

    def __init__(self, value: int = 1, name: str = "semaphore") -> None:
        self.initial = value
        super().__init__(name, self._make(value), value=value)

    def _make(self, value: int) -> Any:
        return context().Semaphore(value)

    def _facts(self) -> dict[str, Any]:
        return {"value": self.get_value(), "of": self.initial}

    def get_value(self) -> int:
        return self._inner.get_value()


class BoundedSemaphore(Semaphore):
    """``multiprocessing.BoundedSemaphore``: releasing above the start value raises ``ValueError``."""

    def __init__(self, value: int = 1, name: str = "semaphore") -> None:
        super().__init__(value, name)

    def _make(self, value: int) -> Any:
        return context().BoundedSemaphore(value)


# --- event -------------------------------------------------------------------


class Event:
    """``multiprocessing.Event``: a flag that processes wait for."""

    def __init__(self, name: str = "event") -> None:
        self.name = name
        self._inner = context().Event()
        self.id = new_prim("event", name)

    def is_set(self) -> bool:
        return self._inner.is_set()

    def set(self) -> None:
        t = now_ns()
        self._inner.set()
        emit("event.set", self.id, t_ns=t)

    def clear(self) -> None:
        t = now_ns()
        self._inner.clear()
        emit("event.clear", self.id, t_ns=t)

    def wait(self, timeout: float | None = None) -> bool:
        if self._inner.is_set():
            emit("event.woke", self.id, {"waited": False})
            return True
        emit("event.wait", self.id)
        if self._inner.wait(timeout):
            emit("event.woke", self.id, {"waited": True})
            return True
        emit("event.timeout", self.id)
        return False

    def __repr__(self) -> str:
        return f"<mpviz Event {self.name!r}>"


# --- queues ------------------------------------------------------------------


# Seconds a blocking get or recv waits before it reports itself blocked.
FEEDER_GLANCE = 0.005


class Queue:
    """``multiprocessing.Queue``: FIFO between processes.

    Reports every put and get with a short form of the item, and "blocked"
    when a put finds the queue full or a get finds it empty, so the dashboard
    knows the depth and who is stuck without ever calling ``qsize()``.
    """

    family = "queue"

    def __init__(self, maxsize: int = 0, name: str = "queue") -> None:
        self.name = name
        self.maxsize = maxsize
        self._inner = self._make(maxsize)
        self.id = new_prim("queue", name, maxsize=maxsize)

    def _make(self, maxsize: int) -> Any:
        return context().Queue(maxsize)

    def put(self, obj: Any, block: bool = True, timeout: float | None = None) -> None:
        t = now_ns()
        try:
            self._inner.put(obj, False)
        except queue.Full:
            if not block:
                raise
            emit(f"{self.family}.put_blocked", self.id, {"item": short(obj)})
            try:
                t = now_ns()
                self._inner.put(obj, True, timeout)
            except queue.Full:
                emit(f"{self.family}.timeout", self.id, {"op": "put"})
                raise
        emit(f"{self.family}.put", self.id, {"item": short(obj), "none": obj is None}, t_ns=t)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        # An item just put may still be in the putter's feeder thread, so a
        # blocking get looks a moment before it calls itself blocked.
        glance = min(FEEDER_GLANCE, timeout) if block and timeout is not None else FEEDER_GLANCE
        try:
            obj = self._inner.get(True, glance) if block else self._inner.get(False)
        except queue.Empty:
            if not block:
                raise
            emit(f"{self.family}.get_blocked", self.id)
            try:
                obj = self._inner.get(True, None if timeout is None else max(0.0, timeout - glance))
            except queue.Empty:
                emit(f"{self.family}.timeout", self.id, {"op": "get"})
                raise
        emit(f"{self.family}.get", self.id, {"item": short(obj), "none": obj is None})
        return obj

    def put_nowait(self, obj: Any) -> None:
        self.put(obj, False)

    def get_nowait(self) -> Any:
        return self.get(False)

    def qsize(self) -> int:
        return self._inner.qsize()

    def empty(self) -> bool:
        return self._inner.empty()

    def full(self) -> bool:
        return self._inner.full()

    def close(self) -> None:
        self._inner.close()

    def join_thread(self) -> None:
        self._inner.join_thread()

    def cancel_join_thread(self) -> None:
        self._inner.cancel_join_thread()

    def __repr__(self) -> str:
        return f"<mpviz {type(self).__name__} {self.name!r}>"


class JoinableQueue(Queue):
    """``multiprocessing.JoinableQueue``: a Queue whose ``join`` waits until every item is marked done."""

    def _make(self, maxsize: int) -> Any:
        return context().JoinableQueue(maxsize)

    def task_done(self) -> None:
        t = now_ns()
        self._inner.task_done()
        emit("queue.task_done", self.id, t_ns=t)

    def join(self) -> None:
        emit("queue.join_wait", self.id)
        self._inner.join()
        emit("queue.joined", self.id)


# --- pipe --------------------------------------------------------------------


class PipeEnd:
    """One end of a ``Pipe``: a ``Connection`` that reports send and recv."""

    def __init__(self, prim_id: str, name: str, end: int, conn: Connection) -> None:
        self.id = prim_id
        self.name = name
        self.end = end
        self._conn = conn

    def send(self, obj: Any) -> None:
        t = now_ns()
        self._conn.send(obj)
        emit("pipe.send", self.id, {"end": self.end, "item": short(obj)}, t_ns=t)

    def recv(self) -> Any:
        if not self._conn.poll(FEEDER_GLANCE):
            emit("pipe.recv_blocked", self.id, {"end": self.end})
        obj = self._conn.recv()
        emit("pipe.recv", self.id, {"end": self.end, "item": short(obj)})
        return obj

    def poll(self, timeout: float | None = 0.0) -> bool:
        return self._conn.poll(timeout)

    def close(self) -> None:
        self._conn.close()

    def fileno(self) -> int:
        return self._conn.fileno()

    @property
    def closed(self) -> bool:
        return self._conn.closed

    def __enter__(self) -> PipeEnd:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<mpviz Pipe {self.name!r} end {self.end}>"


def Pipe(duplex: bool = True, name: str = "pipe") -> tuple[PipeEnd, PipeEnd]:  # noqa: N802 - mirrors multiprocessing.Pipe
    """``multiprocessing.Pipe``: two connected ends (end 1 only sends when ``duplex`` is false)."""
    a, b = context().Pipe(duplex)
    prim_id = new_prim("pipe", name, duplex=duplex)
    return PipeEnd(prim_id, name, 0, a), PipeEnd(prim_id, name, 1, b)


# --- pace: speed and seed, shared by every lesson process -------------------


@dataclass
class Pace:
    """How fast lesson time runs, and the seed of each process's ``random``.

    ``speed`` is a shared double (a ``RawValue``) so the dashboard can change it
    while the lesson runs; every :func:`sleep` in every process follows it.
    """

    speed: Any = None
    seed: int | None = None

    def factor(self) -> float:
        return 1.0 if self.speed is None else max(self.speed.value, 1e-6)


_pace = Pace()

# A sleep is cut into steps so a change of speed takes effect within one step.
_SLEEP_STEP = 0.1


def real_seconds(seconds: float) -> float:
    """How long ``seconds`` of lesson time last now, at the lesson's speed (for timeouts)."""
    return seconds / _pace.factor()


def sleep(seconds: float) -> None:
    """``time.sleep`` in lesson time: divided by the lesson's speed."""
    remaining = float(seconds)
    while remaining > 0:
        speed = _pace.factor()
        step = min(remaining / speed, _SLEEP_STEP)
        time.sleep(step)
        remaining -= step * speed


# --- processes ---------------------------------------------------------------

# Exit code of a child whose dashboard has died.
ORPHAN_EXIT = 70


@dataclass
class ChildConfig:
    """What a lesson process needs before the lesson's code runs."""

    role: str
    label: str
    method: str
    endpoint: str | None  # the dashboard's socket
    pace: Pace = field(default_factory=Pace)


_config: ChildConfig | None = None
_reporter: SocketReporter | None = None


def connect(endpoint: str, keep_stdin: bool = False) -> SocketReporter:
    """Report to the dashboard at ``endpoint``, and print to it.

    stdout and stderr become pipes whose read ends go to the dashboard with
    the first message: a print or a traceback never lands on the terminal the
    dashboard draws on, and is shown as this process's output instead.
    stdin is nothing, unless ``keep_stdin``.
    """
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    for fd, target in ((out_w, 1), (err_w, 2)):
        os.dup2(fd, target)
        os.close(fd)
    if not keep_stdin:  # a watched program's main keeps it: it reads what is typed for it
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
    hello = telemetry.Event(now_ns(), os.getpid(), "proc.stdio", "", {"streams": ["out", "err"]})
    try:
        reporter = SocketReporter(endpoint, (out_r, err_r), hello)
    finally:
        os.close(out_r)
        os.close(err_r)
    # Line by line, as on a terminal: a print shows when it is made.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(line_buffering=True)
    install_reporter(reporter)
    return reporter


def _start_watchdog() -> None:
    """End this process when its parent dies, however it dies.

    Joining ``parent_process()`` works for spawn and forkserver alike, and
    unlike PR_SET_PDEATHSIG it does not fire when the thread that started us
    ends.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os._exit(ORPHAN_EXIT)

    threading.Thread(target=watch, name="mpviz-watchdog", daemon=True).start()


def _bootstrap(config: ChildConfig, target: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """The first code a lesson process runs, before the lesson's function."""
    global _config, _reporter, _pace
    if config.endpoint is not None:
        _reporter = connect(config.endpoint)
    # A process group of its own: Ctrl+C at the dashboard's terminal reaches
    # only the dashboard, which stops the children in order; and if the
    # dashboard dies while this process is stopped (SIGSTOP), the kernel sends
    # SIGHUP + SIGCONT to the now orphaned group, so it cannot linger stopped.
    os.setpgid(0, 0)
    _start_watchdog()
    use_context(config.method)
    _config = config
    _pace = config.pace
    if _pace.seed is not None:
        random.seed(f"{_pace.seed}/{config.label}")
    emit("proc.start", config.label, {"role": config.role, "label": config.label, "ppid": os.getppid()})
    try:
        target(*args, **kwargs)
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:
        emit("proc.error", config.label, {"error": short(f"{type(exc).__name__}: {exc}")})
        raise
    finally:
        if _reporter is not None:
            _reporter.flush()


class Process:
    """``multiprocessing.Process`` for lesson code.

    The child reports on the channel of the process that starts it (or on the
    one given), so a lesson process may start processes of its own, as the
    tutorial's chat server does.  ``start`` reports the new PID at once, and a
    watcher thread reports the exit code when the child ends (the supervisor,
    which watches its children itself, passes ``watch_exit=False``).
    """

    def __init__(
        self,
        target: Callable[..., Any],
        args: tuple[Any, ...] | list[Any] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        role: str = "worker",
        label: str | None = None,
        name: str | None = None,
        daemon: bool | None = None,
        endpoint: str | None = None,
        pace: Pace | None = None,
        watch_exit: bool = True,
    ) -> None:
        self.role = role
        self.label: str = label or str(getattr(target, "__name__", "process"))
        self._watch_exit = watch_exit
        self._exit_lock = threading.Lock()
        self._exit_reported = False
        self._reap_lock = threading.Lock()
        inherited = _config.endpoint if _config is not None else None
        config = ChildConfig(role, self.label, _method, endpoint or inherited, pace or _pace)
        ctx: Any = context()  # a concrete context: BaseContext itself declares no Process
        self._process = ctx.Process(
            target=_bootstrap,
            args=(config, target, tuple(args), dict(kwargs or {})),
            name=name or self.label,
            daemon=daemon,
        )

    def start(self) -> None:
        self._process.start()
        emit("proc.spawn", self.label, {"role": self.role, "label": self.label, "ppid": os.getpid()}, pid=self.pid)
        if self._watch_exit:
            # Not a daemon thread for a non-daemonic child: a parent that ends
            # normally waits for such children anyway, and so its last act is
            # to report their exits.
            daemon = bool(self._process.daemon)
            threading.Thread(target=self._await_exit, name=f"mpviz-exit-{self.pid}", daemon=daemon).start()

    def _await_exit(self) -> None:
        self._report_exit(reap(self._process, self._reap_lock))

    def _report_exit(self, code: int | None) -> None:
        with self._exit_lock:
            if self._exit_reported or code is None:
                return
            self._exit_reported = True
        emit("proc.exit", self.label, exit_data(code), pid=self.pid)

    @property
    def pid(self) -> int:
        pid = self._process.pid
        if pid is None:
            raise ValueError("process not started")
        return pid

    @property
    def exitcode(self) -> int | None:
        with self._reap_lock:
            return self._process.exitcode

    @property
    def sentinel(self) -> int:
        return self._process.sentinel

    @property
    def name(self) -> str:
        return self._process.name

    def is_alive(self) -> bool:
        return self._process.is_alive()

    def join(self, timeout: float | None = None) -> None:
        code = reap(self._process, self._reap_lock, timeout)
        if self._watch_exit:
            self._report_exit(code)

    def terminate(self) -> None:
        self._process.terminate()

    def kill(self) -> None:
        self._process.kill()

    def close(self) -> None:
        self._process.close()

    def __repr__(self) -> str:
        return f"<mpviz Process {self.label!r} pid={self._process.pid}>"


def reap(process: Any, lock: threading.Lock, timeout: float | None = None) -> int | None:
    """The exit code of a multiprocessing process, once it has ended (None: still running).

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
