"""The processes of a visit: every one its dashboard started, found by the visit's mark (see
:mod:`mpviz.serve`), and ended."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable

import psutil

# In the environment of every process of a visit: "<server pid>.<visit number>".
VISIT_MARK = "MPVIZ_SERVE_VISIT"


def dashboard_command(lang: str, args: list[str]) -> str:
    """The shell command textual-serve runs for every visitor: this Python's mpviz dashboard."""
    argv = [sys.executable, "-m", "mpviz"]
    if lang != "en":
        argv += ["--lang", lang]  # English is the dashboard's default and needs no option
    if shutil.which("setpriv"):
        # Should mpviz serve be killed outright (SIGKILL: no time to end its
        # visits), the kernel sends each dashboard SIGTERM, and it stops its lessons.
        argv = ["setpriv", "--pdeathsig", "TERM", "--", *argv]
    # exec: the visitor's process is the dashboard itself, not a shell waiting for it.
    return "exec " + shlex.join(argv + args)


def visit_processes(belongs: Callable[[str], bool]) -> list[psutil.Process]:
    """Live processes whose environment, or an ancestor's, carries a visit mark that ``belongs``."""
    # One pass over /proc of our own (not psutil.process_iter, whose shared
    # cache is not safe to use from several threads at once).
    table: dict[int, tuple[psutil.Process, int, str]] = {}
    for pid in psutil.pids():
        try:
            proc = psutil.Process(pid)
            with proc.oneshot():
                if proc.status() == psutil.STATUS_ZOMBIE:
                    continue
                ppid = proc.ppid()
                try:
                    mark = proc.environ().get(VISIT_MARK, "")
                except psutil.AccessDenied:  # another user's process: never a visitor's
                    mark = ""
        except psutil.NoSuchProcess:
            continue
        table[pid] = (proc, ppid, mark)
    found = []
    for proc, ppid, mark in table.values():
        while not belongs(mark) and ppid in table:
            _, ppid, mark = table[ppid]
        if belongs(mark):
            found.append(proc)
    return found


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_gone(procs: list[psutil.Process], timeout: float) -> None:
    # Polled, not psutil.wait_procs: that would reap the dashboards, which are
    # asyncio's children, and take their exit status from it.
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in procs) and time.monotonic() < deadline:
        time.sleep(0.05)


def end_visits(belongs: Callable[[str], bool], grace: float) -> list[int]:
    """End every process of the visits whose mark ``belongs``; return the pids that would not die.

    The dashboards (this server's children) are asked first, with SIGTERM, to
    stop their lessons as they do in a terminal; after ``grace`` seconds
    whatever is left is killed, scan after scan, since a dashboard may have
    started one more process while it died.
    """
    procs = visit_processes(belongs)
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            if proc.ppid() == os.getpid():
                proc.terminate()
    _wait_gone(procs, grace)
    for _ in range(10):
        procs = visit_processes(belongs)
        if not procs:
            return []
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        _wait_gone(procs, 1.0)
    return [p.pid for p in visit_processes(belongs)]
