"""Instruments a process of a watched program, before its first line runs.

``mpviz prog.py`` starts the program with ``mpviz/_hook`` first on its
PYTHONPATH and the dashboard's socket in ``MPVIZ_ENDPOINT``; the hook's
``sitecustomize`` calls :func:`install_from_env` in every Python process of
the program, at any depth: the program's main, its spawned children, the
processes a forkserver forks.  A process forked by another (the fork start
method, ``os.fork``) is instrumented again right after the fork.

Instrumented, a process reports on a connection of its own, prints to the
dashboard (its stdout and stderr are pipes the dashboard reads), sleeps in
the run's time (``time.sleep`` divided by the speed in ``MPVIZ_SPEED_FILE``),
uses mpviz's multiprocessing, and ends when the dashboard dies.  Only the
standard library, ``mpviz.telemetry`` and ``mpviz.sync`` are imported here.
"""

from __future__ import annotations

import atexit
import math
import os
import stat
import struct
import sys
import threading
import time
from collections.abc import Callable

from mpviz import sync
from mpviz.sync import boot
from mpviz.sync.base import unseen, when_imported
from mpviz.telemetry import emit
from mpviz.telemetry.env import ENDPOINT_ENV, MAIN_ENV, PIPES_ENV, SPEED_ENV, TURNS_ENV

TYPE_CHECKING = False  # (not typing's: a watched program's every process imports this module)
if TYPE_CHECKING:
    from typing import SupportsIndex

# The forkserver itself is not shown, but what it forks is (after the fork).
FORKSERVER = "multiprocessing.forkserver"
SPAWNED = "--multiprocessing-fork"  # (the command line of a child multiprocessing spawned)
SHARED_MEMORY = "multiprocessing.shared_memory"  # (mpviz.sync.shm.MODULE)

_real_sleep = time.sleep
# The shortest sleep of a watched program that is said (``proc.sleep``), in real seconds.
SAID_SLEEP_S = 0.001


def _argv() -> list[str]:
    """How this interpreter was started (``python prog.py ARGS``)."""
    return list(getattr(sys, "orig_argv", sys.argv))


def install_from_env() -> None:
    """Instrument this process if it belongs to a watched program (once).  (multiprocessing's
    helper processes never come here: the hook tells them apart before it imports mpviz.)"""
    endpoint = os.environ.get(ENDPOINT_ENV, "")
    command = " ".join(_argv())
    if not endpoint or boot.current.endpoint:
        return
    seed = os.environ.get(TURNS_ENV, "")
    # A scheduled run (its seed: each process's random numbers, so a schedule replays the same).
    boot.current = (
        boot.Setup(endpoint, boot.Pace(seed=int(seed)), turns=True) if seed.isdigit() else boot.Setup(endpoint)
    )
    speed_file = os.environ.get(SPEED_ENV)
    if speed_file:
        _follow_speed(speed_file)
    sync.instrument_multiprocessing()
    boot.defer_threading()
    _tell_reaped()
    # Shared memory's blocks once the program imports the module (most never do: then
    # mpviz.sync.shm is one module less in each of its processes).
    when_imported(SHARED_MEMORY, _instrument_shared_memory)
    os.register_at_fork(before=_before_fork, after_in_child=_forked)
    if FORKSERVER not in command:
        _connect(when_asked=SPAWNED in command)
    else:
        # Loaded once here, where it costs one process: the forkserver's children map their rings at once.
        from mpviz.telemetry import mapping, ring  # noqa: F401
    _set_aside()


def _set_aside() -> None:
    """What exists before the program's first line (the interpreter's start-up, the standard library's
    modules mpviz loads, mpviz's own, its connection) lives as long as the process: the collector
    looks at it no more (``gc.freeze``).  Left where it was, it went over it again and again, and in
    full at the exit: a spawned child of a watched program ran ~12 M instructions more than plainly
    for it, two thirds of what watching it cost (valgrind).  A program that looks does see it:
    ``gc.get_freeze_count()`` is not 0 and ``gc.get_objects()`` lists none of it (README); what the
    program makes is collected as plainly, and its own ``gc.unfreeze()`` puts it all back.

    At the exit it is put back where ``__main__`` is still the interpreter's own (a program's main, a
    subprocess): frozen, the module the program's globals live in would not be collected with the
    rest, and an object among them would end later than plainly, its ``__del__`` silenced.  A child
    that multiprocessing spawned runs the program's main module as a module of its own, made after
    this: it ends frozen, which is where the saving is."""
    import gc
    import weakref

    gc.freeze()
    main = sys.modules.get("__main__")
    if main is not None:
        atexit.register(_put_back, weakref.ref(main))


def _put_back(main: Callable[[], object]) -> None:
    import gc

    if sys.modules.get("__main__") is main():
        gc.unfreeze()


def _before_fork() -> None:
    """What a process loads only when it first needs it (its sites, its turns), loaded before a fork, in
    the thread that forks: a module another thread is importing at the fork stays locked in the child
    for good, which would wait for it for ever at its first operation (as mpviz.telemetry.ring's).
    The child gets them loaded, for nothing."""
    from mpviz.sync import sites, turns  # noqa: F401

    boot.load_threading()  # (and its module lock: see there)


def _instrument_shared_memory() -> None:
    from mpviz.sync import shm

    shm.instrument_shared_memory()


def _connect(when_asked: bool = False) -> None:
    """Report and print to the dashboard from this process; end when the dashboard ends.
    (``when_asked``: see ``boot.connect``.)"""
    endpoint = boot.current.endpoint
    assert endpoint is not None
    try:
        reporter = boot.reporter = boot.connect(
            endpoint,
            keep_stdin=True,
            scheduled=boot.current.turns,
            streams=_streams_to_take(),
            when_asked=when_asked,
        )
    except (FileNotFoundError, ConnectionRefusedError):
        # Nobody listens at the run's socket: the dashboard is gone (killed before its guardian
        # could end this process, which a fork made since).  A process of the run ends with it,
        # as one already connected does (boot._orphaned); unwatched, it would run for ever.
        os._exit(boot.ORPHAN_EXIT)
    except OSError:
        return  # the dashboard may live and not answer (out of descriptors): the program runs unwatched
    seed = boot.current.pace.seed
    if seed is not None:
        from multiprocessing import process

        if process.parent_process() is None:
            import random

            random.seed(f"{seed}/main")  # a scheduled run's main (a child of the program: at its bootstrap)
    emit("proc.start", "", {"ppid": os.getppid(), "argv": " ".join(_argv()[1:])[:200]})
    atexit.register(reporter.flush)


def _streams_to_take() -> tuple[int, ...]:
    """Which of stdout (1) and stderr (2) this process prints to the dashboard on.

    The program's main: both (the dashboard started it on pipes of its own).
    Another process: those that are a pipe a process of the run prints to the
    dashboard on (inherited: a multiprocessing child, a subprocess left to
    print where its parent does; each such pipe is marked in the environment
    it inherited: see ``boot.connect``).  One the program pointed elsewhere (a
    subprocess whose output it captures, or sends to a file) stays where the
    program sent it: taking it would change what the program reads."""
    if os.environ.pop(MAIN_ENV, None) is not None:
        return (1, 2)
    marked = os.environ.get(PIPES_ENV, "").split()
    taken = []
    for fd in (1, 2):
        try:
            out = os.fstat(fd)
            if stat.S_ISFIFO(out.st_mode) and str(out.st_ino) in marked:
                taken.append(fd)
        except OSError:
            continue  # closed: nothing to print on
    return tuple(taken)


def _tell_reaped() -> None:
    """``os.waitpid`` and ``os.wait`` say how a child they reap ended (``proc.exit``): a child of
    ``os.fork`` or ``subprocess`` ends without a word of its own on how (``sys.exit(5)``), and
    once reaped, nobody else can tell.  (multiprocessing's children say it too: said twice, it is
    not news.)"""
    waitpid, wait = os.waitpid, os.wait

    def _reaped(child: int, status: int) -> None:
        if child > 0 and (os.WIFEXITED(status) or os.WIFSIGNALED(status)):
            from mpviz.sync.process import exit_data

            emit("proc.exit", "", exit_data(os.waitstatus_to_exitcode(status)), pid=child)

    def _waitpid(pid: int, options: int, /) -> tuple[int, int]:
        child, status = got = waitpid(pid, options)
        _reaped(child, status)
        return got

    def _wait() -> tuple[int, int]:
        child, status = got = wait()
        _reaped(child, status)
        return got

    for ours, theirs in ((_waitpid, waitpid), (_wait, wait)):
        ours.__name__ = ours.__qualname__ = theirs.__name__
        ours.__module__, ours.__doc__ = theirs.__module__, theirs.__doc__
    os.waitpid, os.wait = _waitpid, _wait


def _forked() -> None:
    """In a child just forked: a connection and pipes of its own, not its parent's.  The forkserver's
    own children, as spawned ones, answer the dashboard from its first question on (see
    ``boot._on_asked``)."""
    parent = boot.reporter
    if parent is not None:
        parent.forked()
        boot.reporter = None
    _connect(when_asked=parent is None and FORKSERVER in " ".join(_argv()))


def _follow_speed(path: str) -> None:
    """``time.sleep`` divided by the run's speed, read afresh at every call (the keys change it)."""
    time.sleep = Sleep(_real_sleep, Speed(path))


class Speed:
    """The run's speed, as its file says now: the file mapped at the first sleep (mapping costs a
    process ~2 ms to import, ctypes; many never sleep).  A file that cannot be read: speed 1."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._read: Callable[[], float] | None = None

    def __call__(self) -> float:
        read = self._read
        if read is None:
            read = self._read = self._mapped()
        return read()

    def _mapped(self) -> Callable[[], float]:
        from mpviz.telemetry.mapping import Mapping

        try:
            with open(self._path, "rb") as f:
                shared = Mapping(f.fileno(), 8, writable=False)  # (no descriptor left for the program to see)
        except OSError:
            return lambda: 1.0
        unpack = struct.Struct("d").unpack_from
        return lambda: unpack(shared.view)[0]


class Sleep:
    """``time.sleep`` in a watched process: it sleeps in the run's time and says so.

    Always in place, whatever the speed: a process asleep shows as asleep
    (the table, the timeline, the contention figures), and the dashboard's
    ``+``/``-`` change the program's pace at any moment.  To the program it
    is the builtin: it pickles, copies and compares as ``time.sleep`` (by
    name: a pool's worker gets its own ``time.sleep``), takes the same
    argument, returns and raises the same (what it cannot divide goes to the
    builtin as it is), and its repr, name, module and doc are the builtin's.
    Only its type tells it apart (README, "Watch your own program").
    """

    def __init__(self, real: Callable[[float], None], speed: Callable[[], float]) -> None:
        self._real = real
        self._speed = speed
        for attribute in ("__name__", "__qualname__", "__module__", "__doc__", "__text_signature__", "__self__"):
            setattr(self, attribute, getattr(real, attribute))

    def __call__(self, seconds: float | SupportsIndex, /) -> None:
        try:
            if not isinstance(seconds, (int, float)) or not seconds >= 0 or math.isinf(seconds):
                # What the builtin makes of it (an error, mostly: NaN too), unsaid: no sleep of infinity is said.
                return self._real(seconds)  # type: ignore[arg-type]
            # A scheduled run: the program's own sleeps are points, and take no time.
            # (turns and sites: loaded at the first sleep, not before every process's first line.)
            from mpviz.sync import turns
            from mpviz.sync.sites import in_machinery, say

            if turns.on and not in_machinery(sys._getframe(1).f_code.co_filename) and turns.asleep(float(seconds)):
                return None
            speed = self._speed()
            real = seconds / speed if speed > 0 and speed != 1 else seconds
            # Said only for the main thread's sleeps, and not for the shortest
            # (a polling loop): a helper thread's sleep is not the process asleep.
            said = real >= SAID_SLEEP_S and threading.current_thread() is threading.main_thread()
            if not said:
                return self._real(real)
            say("proc.sleep", "", {"s": float(seconds)})
            try:
                return self._real(real)
            finally:
                say("proc.slept")
        except BaseException as exc:  # (Ctrl+C, a signal's handler raising): the builtin has no frame
            unseen(exc)
            raise

    def __repr__(self) -> str:
        return repr(self._real)

    def __reduce__(self) -> str:
        return "sleep"  # a global: ``time.sleep``, looked up where it is unpickled
