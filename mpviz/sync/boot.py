"""A child's first steps, before multiprocessing's own bootstrap runs its ``run()``.

Where its records go (its reporter) is set up here and only here.  Under
fork the child inherits its parent's channel: that is safe because a record
is one pipe write of at most PIPE_BUF bytes, which the kernel never
interleaves, so parent and child can never share a half-written record.
"""

from __future__ import annotations

import os
import random
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

from mpviz.sync import pace
from mpviz.sync.pace import Pace
from mpviz.telemetry import ChannelReporter, install_reporter, uninstall_reporter

# Exit code of a lesson process whose dashboard has died.
ORPHAN_EXIT = 70


@dataclass
class Setup:
    """What a process hands down to the processes it starts.

    ``channel``: where their records go (None: nowhere).  ``guard``: lesson
    processes, and the ones they start, keep away from the dashboard's
    terminal, sit in a process group of their own and end when their parent
    dies.  A program's processes are not guarded: they behave exactly as
    multiprocessing's.
    """

    channel: Connection | None = None
    pace: Pace = field(default_factory=Pace)
    guard: bool = False


# This process's own setup: the dashboard's, a program's main, or what its parent gave it.
current = Setup()


def enter(setup: Setup, label: str, parent_sentinel: int | None) -> None:
    """Set this new child up as ``setup`` says."""
    global current
    current = setup
    if setup.guard:
        _detach_stdio()
        # A process group of its own: Ctrl+C at the dashboard's terminal reaches
        # only the dashboard, which stops the children in order; and if the
        # dashboard dies while this process is stopped (SIGSTOP), the kernel sends
        # SIGHUP + SIGCONT to the now orphaned group, so it cannot linger stopped.
        os.setpgid(0, 0)
        _start_watchdog(parent_sentinel)
    if setup.channel is not None:
        install_reporter(ChannelReporter(setup.channel))
    else:
        # A forked child must not keep its parent's in-process reporter.
        uninstall_reporter()
    pace.current = setup.pace
    if setup.pace.seed is not None:
        random.seed(f"{setup.pace.seed}/{label}")


def _detach_stdio() -> None:
    """Send stdin/stdout/stderr away from the terminal the dashboard draws on."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def _start_watchdog(parent_sentinel: int | None) -> None:
    """End this process when its parent dies, however it dies.

    The parent sentinel (what ``parent_process().join()`` waits on) works for
    spawn and forkserver, and unlike PR_SET_PDEATHSIG it does not fire when
    the thread that started us ends.  Under fork a sibling may hold the
    sentinel's other end open, so the parent's pid is checked as well.
    """
    if parent_sentinel is None:
        return
    ppid = os.getppid()

    def watch() -> None:
        while not wait([parent_sentinel], 1.0) and os.getppid() == ppid:
            pass
        os._exit(ORPHAN_EXIT)

    threading.Thread(target=watch, name="mpviz-watchdog", daemon=True).start()
