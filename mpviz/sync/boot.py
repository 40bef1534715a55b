"""A child's first steps, before multiprocessing's own bootstrap runs its ``run()``.

Where its records go (its reporter) is set up here and only here: each
process connects to the dashboard's socket on its own, so a forked child,
which inherits its parent's connection, drops it and connects anew — parent
and child never share a half-written record.
"""

from __future__ import annotations

import _thread
import io
import os
import signal  # (loaded already: multiprocessing's process module imports it)
import sys
import threading
from collections.abc import Callable

from mpviz import telemetry
from mpviz.sync import printing
from mpviz.telemetry import install_reporter, now_ns, uninstall_reporter
from mpviz.telemetry.env import PIPES_ENV
from mpviz.telemetry.framing import ASK_SIGNAL
from mpviz.telemetry.record import in_machinery
from mpviz.telemetry.reporter import SocketReporter

TYPE_CHECKING = False  # (not typing's: a watched program's every process imports this module)
if TYPE_CHECKING:
    from typing import Any

# Exit code of a lesson process whose dashboard has died.
ORPHAN_EXIT = 70
TURNS = "mpviz.sync.turns"  # (a scheduled run's module)


class Pace:
    """How fast lesson time runs, and the seed of each process's ``random`` (``mpviz.sync.pace``'s
    sleep follows it; here, with the setup that carries it: every child unpickles one).

    ``speed`` is a shared double (a ``RawValue``) so the dashboard can change it
    while the lesson runs; every ``sleep`` in every process follows it.
    (A plain class, as every class here: dataclasses costs each process ~10 ms to import.)
    """

    def __init__(self, speed: Any = None, seed: int | None = None) -> None:
        self.speed = speed
        self.seed = seed

    def factor(self) -> float:
        return 1.0 if self.speed is None else max(self.speed.value, 1e-6)


class Setup:
    """What a process hands down to the processes it starts.

    ``endpoint``: the dashboard's socket, where their records and their
    output go (None: nowhere).  ``guard``: lesson processes, and the ones
    they start, sit in a process group of their own and end when their
    parent dies.  A program's processes are not guarded: they behave exactly
    as multiprocessing's.  ``turns``: a scheduled run, every operation takes
    its turn (:mod:`mpviz.sync.turns`).
    """

    def __init__(
        self, endpoint: str | None = None, pace: Pace | None = None, guard: bool = False, turns: bool = False
    ) -> None:
        self.endpoint = endpoint
        self.pace = Pace() if pace is None else pace
        self.guard = guard
        self.turns = turns  # a scheduled run: every process takes turns (mpviz.sync.turns)


# This process's own setup: the dashboard's, a program's main, or what its parent gave it.
current = Setup()

# This process's connection to the dashboard, once it has one.
reporter: SocketReporter | None = None


def enter(setup: Setup, label: str, parent_sentinel: int | None, spawned: bool = False) -> None:
    """Set this new child up as ``setup`` says."""
    global current, reporter
    current = setup
    if reporter is not None and reporter.pid != os.getpid():
        reporter.forked()  # a forked child: that connection is its parent's
        reporter = None
    if setup.endpoint is None:
        # A forked child must not keep its parent's in-process reporter.
        uninstall_reporter()
    elif reporter is None:  # (a watched program's fork child has connected already: mpviz.inject)
        reporter = connect(setup.endpoint, scheduled=setup.turns)
    if setup.guard:
        # A process group of its own: Ctrl+C at the dashboard's terminal reaches
        # only the dashboard, which stops the children in order; and if the
        # dashboard dies while this process is stopped (SIGSTOP), the kernel sends
        # SIGHUP + SIGCONT to the now orphaned group, so it cannot linger stopped.
        os.setpgid(0, 0)
        _start_watchdog(parent_sentinel, spawned)
    turns = sys.modules.get(TURNS)  # (loaded only where a run is scheduled: here, or in a parent forked from)
    if not setup.turns and turns is not None:
        turns.uninstall()  # a forked child's parent took turns through its own connection
    if setup.pace.seed is not None:
        import random  # here: only a lesson with a seed needs it

        random.seed(f"{setup.pace.seed}/{label}")


def leave() -> None:
    """A child's last act: whatever its reporter still holds goes out."""
    if reporter is not None:
        reporter.flush()


STREAMS = {1: "out", 2: "err"}


def connect(
    endpoint: str,
    keep_stdin: bool = False,
    scheduled: bool = False,
    streams: tuple[int, ...] = (1, 2),
    when_asked: bool = False,
) -> SocketReporter:
    """Report to the dashboard at ``endpoint``, and print to it.

    ``streams`` (stdout 1, stderr 2) become pipes whose read ends go to the
    dashboard with the first message: a print or a traceback never lands on
    the terminal the dashboard draws on, and is shown as this process's
    output instead.  stdin is nothing, unless ``keep_stdin`` (a watched
    program's main reads what is typed for it).  ``scheduled``: every
    operation asks the dashboard first.  ``when_asked``: the thread that
    answers the dashboard starts only when it first asks (see ``_on_asked``).
    """
    global _unanswered
    ours: list[int] = []
    marks = os.environ.get(PIPES_ENV, "").split()
    for target in streams:
        read_end, write_end = os.pipe()
        marks.append(str(os.fstat(write_end).st_ino))
        os.dup2(write_end, target)
        os.close(write_end)
        ours.append(read_end)
    if streams:
        # Marked in the environment, which what this process starts inherits: a process started on
        # one prints to the dashboard too (see mpviz.inject).  (Marked by a file each in the run's
        # directory, they cost each process's start two files made, ~0.1 ms of a forkserver's child.)
        os.environ[PIPES_ENV] = " ".join(marks)
    if not keep_stdin:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
    woken = when_asked and not scheduled and _wait_to_be_asked()  # (before the hello: it says so)
    said: dict[str, Any] = {"streams": [STREAMS[fd] for fd in streams]}
    if woken:
        said["woken"] = 1
    hello = telemetry.Event(now_ns(), os.getpid(), "proc.stdio", "", said)
    try:
        connection = SocketReporter(endpoint, tuple(ours), hello)
    finally:
        for read_end in ours:
            os.close(read_end)
    # Line by line, as on a terminal: a print shows when it is made.
    for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
        if fd in streams and isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(line_buffering=True)
    install_reporter(connection)
    # What Python prints goes into the records, in order with the operations (see printing.py).
    for fd in streams:
        printing.take(fd)
    if scheduled:
        from mpviz.sync import turns

        turns.install(connection.take_turn)
    # Its stacks when the dashboard asks (and its turns); its end when the dashboard dies.
    if woken:
        _unanswered = connection
        _answer()  # (asked already: the signal came before the connection was made)
    else:
        connection.serve(_orphaned)
    return connection


def _orphaned() -> None:
    os._exit(ORPHAN_EXIT)


# A forkserver's child, or a spawned one, answers the dashboard (its stacks; its end when the
# dashboard dies) from a thread started when the dashboard first asks it something, woken by a
# signal (ASK_SIGNAL), which the dashboard sends with its first request: a child that ends before
# that never makes one.  That thread, started as it connects, cost each forkserver child ~1.2 ms of
# CPU of the ~3.6 ms that watching it cost, and 7 context switches, each spawned one ~2.4 ms and 10
# (perf stat: a watched program starting 120 children that do nothing), and started at its
# bootstrap no less.  Until then the guardian ends it if the dashboard dies.  Its main thread runs
# the handler, between two steps of Python: one stuck in C code that holds the interpreter answers
# no sooner than it did before (not at all).
_asked = False  # the dashboard's signal came
_unanswered: SocketReporter | None = None  # this process's connection, until then


def _wait_to_be_asked() -> bool:
    """The dashboard's signal handled here from now on; False if the program handles it (or
    this is not the main thread, where handlers are set): then answer at once, as before."""
    global _asked, _unanswered
    _asked, _unanswered = False, None  # (a forked child's parent's)
    try:
        if signal.getsignal(ASK_SIGNAL) not in (signal.SIG_DFL, _on_asked):
            return False
        signal.signal(ASK_SIGNAL, _on_asked)
    except (ValueError, OSError):
        return False
    return True


def _on_asked(signum: int, frame: object) -> None:
    global _asked
    _asked = True
    _answer()


def _answer() -> None:
    """Once asked: this process's connection answered from now on (once)."""
    global _unanswered
    if _asked:
        connection, _unanswered = _unanswered, None
        if connection is not None and connection.pid == os.getpid():
            connection.serve(_orphaned)


def _start_watchdog(parent_sentinel: int | None, spawned: bool) -> None:
    """End this process when its parent dies, however it dies.

    The parent sentinel (what ``parent_process().join()`` waits on) works for
    spawn and forkserver, and unlike PR_SET_PDEATHSIG it does not fire when
    the thread that started us ends.  Under fork a sibling may hold the
    sentinel's other end open, so the parent's pid is checked as well, once
    a second.  A spawned child has the only copy: it just waits, and a
    hundred idle children do not wake a hundred times a second.
    """
    if parent_sentinel is None:
        return
    from multiprocessing.connection import wait  # here: a watched program's process is not guarded

    ppid = os.getppid()
    every = None if spawned else 1.0

    def watch() -> None:
        while not wait([parent_sentinel], every) and os.getppid() == ppid:
            pass
        os._exit(ORPHAN_EXIT)

    threading.Thread(target=watch, name="mpviz-watchdog", daemon=True).start()


# --- threading, as a watched program uses it --------------------------------------------------------
#
# The program's threading primitives report (mpviz.sync.threads), and must from its first line: but
# most processes of a program (a child that computes) make none, and loading that module (and its
# sites) before each one's first line cost it ~2 M instructions.  So until the first is made, threading
# holds small stand-ins: ``Lock`` and ``RLock`` (factories: they stay), and the ``__init__`` of the
# classes whose instances report, which loads the module, puts their own ``__init__`` back for it to
# wrap, and goes on into the wrapper.  (A Thread makes an Event: the first thread loads it too.)

_PLAIN_LOCK = _thread.allocate_lock
_PLAIN_RLOCK = threading.RLock  # (threading's own: before it is replaced)
_DEFERRED = ("Condition", "Semaphore", "Event", "Barrier")
# threading's classes' own ``__init__``, while the stand-ins are in their place.
_own_inits: dict[type, Callable[..., None]] = {}
_loading = _thread.allocate_lock()
_first_calls: set[Any] = set()  # (the stand-ins' code: frames mpviz.sync.threads passes over)


def Lock() -> Any:  # noqa: N802 - threading's name
    """``threading.Lock()``: the program's reports, the standard library's stays plain."""
    try:
        plain = in_machinery(sys._getframe(1).f_code.co_filename)
    except ValueError:  # (called from no Python frame)
        plain = True
    if plain:
        return _PLAIN_LOCK()
    from mpviz.sync import threads

    return threads.programs_lock()


def RLock() -> Any:  # noqa: N802 - threading's name
    try:
        plain = in_machinery(sys._getframe(1).f_code.co_filename)
    except ValueError:
        plain = True
    if plain:
        return _PLAIN_RLOCK()
    from mpviz.sync import threads

    return threads.programs_rlock()


def defer_threading() -> None:
    """threading's stand-ins in place (see above), once; and the module loaded with ``queue``, whose
    ``Queue`` it wraps (the first one a program makes must report: its ``__init__`` comes first)."""
    if threading.Lock is Lock:
        return
    threading.Lock, threading.RLock = Lock, RLock  # type: ignore[assignment]
    for name in _DEFERRED:
        cls = getattr(threading, name)
        _own_inits[cls] = cls.__init__
        cls.__init__ = _stand_in(cls)
    from mpviz.sync.base import when_imported

    when_imported("queue", load_threading)


def _stand_in(cls: type) -> Callable[..., None]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807
        load_threading()
        cls.__init__(self, *args, **kwargs)  # type: ignore[misc]  # (its wrapper, now)

    __init__.__qualname__ = f"{cls.__name__}.__init__"
    _first_calls.add(__init__.__code__)
    return __init__


def load_threading() -> None:
    """mpviz.sync.threads loaded and its wrappers installed (once), threading's own ``__init__`` put
    back first for it to wrap.  Under a lock: an object another thread makes meanwhile waits for it."""
    if not _own_inits:
        return
    with _loading:
        if not _own_inits:
            return
        from mpviz.sync import threads

        for cls, init in _own_inits.items():
            cls.__init__ = init  # type: ignore[misc]
        threads.instrument_threading(_first_calls)
        _own_inits.clear()
