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
import mmap
import os
import struct
import sys
import threading
import time
from typing import SupportsIndex

from mpviz import sync
from mpviz.sync import boot, shm, threads
from mpviz.sync.sites import say
from mpviz.telemetry import emit
from mpviz.telemetry.reporter import ENDPOINT_ENV, SPEED_ENV

# multiprocessing's own helper processes: not part of the program.
HELPERS = ("multiprocessing.resource_tracker",)
# The forkserver itself is not shown, but what it forks is (after the fork).
FORKSERVER = "multiprocessing.forkserver"

_real_sleep = time.sleep
# The shortest sleep of a watched program that is said (``proc.sleep``), in real seconds.
SAID_SLEEP_S = 0.001


def _argv() -> list[str]:
    """How this interpreter was started (``python prog.py ARGS``)."""
    return list(getattr(sys, "orig_argv", sys.argv))


def install_from_env() -> None:
    """Instrument this process if it belongs to a watched program (once)."""
    endpoint = os.environ.get(ENDPOINT_ENV, "")
    command = " ".join(_argv())
    if not endpoint or boot.current.endpoint or any(helper in command for helper in HELPERS):
        return
    boot.current = boot.Setup(endpoint)
    speed_file = os.environ.get(SPEED_ENV)
    if speed_file:
        _follow_speed(speed_file)
    sync.instrument_multiprocessing()
    threads.instrument_threading()
    shm.instrument_shared_memory()
    os.register_at_fork(after_in_child=_forked)
    if FORKSERVER not in command:
        _connect()


def _connect() -> None:
    """Report and print to the dashboard from this process; end when the dashboard ends."""
    endpoint = boot.current.endpoint
    assert endpoint is not None
    try:
        reporter = boot.reporter = boot.connect(endpoint, keep_stdin=True)
    except OSError:
        return  # the dashboard is already gone: the program runs unwatched, as it would without mpviz
    emit("proc.start", "", {"ppid": os.getppid(), "argv": " ".join(_argv()[1:])[:200]})
    atexit.register(reporter.flush)


def _forked() -> None:
    """In a child just forked: a connection and pipes of its own, not its parent's."""
    if boot.reporter is not None:
        boot.reporter.forked()
        boot.reporter = None
    _connect()


def _follow_speed(path: str) -> None:
    """``time.sleep`` divided by the run's speed, read afresh at every call (the keys change it)."""
    try:
        with open(path, "rb") as f:
            shared = mmap.mmap(f.fileno(), 8, prot=mmap.PROT_READ)
    except OSError:
        return
    read = struct.Struct("d").unpack_from

    def sleep(seconds: float | SupportsIndex) -> None:
        if not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
            _real_sleep(seconds)  # what time.sleep makes of it (an error, mostly), unsaid
            return
        speed = read(shared)[0]
        real = seconds / speed if speed > 0 else seconds
        # Said only for the main thread's sleeps, and not for the shortest
        # (a polling loop): a helper thread's sleep is not the process asleep.
        said = real >= SAID_SLEEP_S and threading.current_thread() is threading.main_thread()
        if said:
            say("proc.sleep", "", {"s": float(seconds)})
        try:
            _real_sleep(real)
        finally:  # a sleep cut short by an exception (Ctrl+C) has ended too
            if said:
                say("proc.slept")

    time.sleep = sleep
