"""The run's guardian, and how a process of the run is told from any other (``/proc``).

A process is known by its pid *and its start time*: a pid is reused once its
process is gone, a start time is not.  What belongs to a run (see
:mod:`mpviz.runtime.members`): the processes the supervisor started and those
that connected and proved to be theirs, each with its start time; every
descendant of those; and every process that carries the run's mark in its
environment (a watched program's processes inherit the dashboard's socket
path, ``MPVIZ_ENDPOINT``, however they were started).

The guardian is a small process the supervisor starts beside each run.  It
outlives the dashboard: not a group leader (the terminal's signals reach it
with the dashboard's group, and it ignores them), never paused by mpviz.  The
supervisor tells it every process of the run as one line ``PID START`` on its
stdin, and ``end`` once it stopped them itself.  If its stdin ends without
``end``, the dashboard died (SIGKILL, a crash): the guardian ends every
process of the run, paused ones too (a paused process cannot run the
watchdog that would end it), then removes the run's directory.

It is forked from the dashboard when the dashboard has no other thread yet
(headless, and a watched program's early start): a copy of a process costs
~1 ms, where a new interpreter took ~15 ms of CPU beside the program's own
start.  Otherwise (the dashboard's threads: a lock one of them holds would
stay held in the copy) it is run as a script (``python -I -S guardian.py
MARK DIRECTORY``), which imports the standard library only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Collection

TYPE_CHECKING = False  # (typing's own costs the guardian's start, and a run's, ~3 ms)
if TYPE_CHECKING:
    import subprocess
    from typing import BinaryIO

# How long the processes of a dashboard that died get for SIGTERM before SIGKILL.
GRACE_S = 1.0
# Processes may start others while they are ended: the sweep goes round until none is left.
ROUNDS = 20
# What a forked guardian is called (``ps``, ``/proc/PID/comm``): its command line is the dashboard's.
NAME = "mpviz-guardian"
# The terminal's signals (and a plain kill): the guardian shares mpviz's group and ignores them.
IGNORED = (
    signal.SIGINT,
    signal.SIGHUP,
    signal.SIGTERM,
    signal.SIGQUIT,
    signal.SIGTSTP,
    signal.SIGTTIN,
    signal.SIGTTOU,
)


def start(mark: str | None, directory: str) -> Forked | subprocess.Popen[bytes]:
    """A run's guardian, started (``mark``: a watched program's processes' environment entry):
    forked if this process has no other thread, else run as a script (see the module)."""
    # Here: the guardian itself, run as a script, has no need of them.
    import subprocess
    import threading

    # Born with the terminal's signals blocked (a mask outlives fork and exec), so that one that
    # comes before main() ignores them waits and is then dropped, instead of ending it unborn.
    unblock = signal.pthread_sigmask(signal.SIG_BLOCK, IGNORED)
    try:
        if threading.active_count() == 1:
            return Forked(mark, directory)
        return subprocess.Popen(
            [sys.executable, "-I", "-S", os.path.abspath(__file__), mark or "", directory],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, unblock)


class Forked:
    """A guardian forked from this process, with what the supervisor uses of a ``subprocess.Popen``:
    its ``pid``, its ``stdin`` (the pipe it reads its orders from), ``wait`` and ``kill``."""

    def __init__(self, mark: str | None, directory: str) -> None:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                # Nothing of the dashboard's: its terminal, its socket, its other pipes.
                os.dup2(read, 0)
                devnull = os.open(os.devnull, os.O_RDWR)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                os.closerange(3, os.sysconf("SC_OPEN_MAX"))
                with contextlib.suppress(OSError), open("/proc/self/comm", "w") as comm:
                    comm.write(NAME)
                code = main(["guardian", mark or "", directory], os.fdopen(0, "rb"))
            finally:
                os._exit(code)  # never the dashboard's way out: its atexit, its buffered output
        os.close(read)
        self.pid = pid
        self.stdin: BinaryIO | None = os.fdopen(write, "wb", buffering=0)
        self.returncode: int | None = None

    def wait(self, timeout: float | None = None) -> int:
        """Its exit code, once it has ended (``subprocess.TimeoutExpired`` after ``timeout`` s)."""
        if self.returncode is None:
            if timeout is not None and not _ends_within(self.pid, timeout):
                import subprocess

                raise subprocess.TimeoutExpired([NAME], timeout)
            try:
                self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
            except ChildProcessError:  # reaped by someone else: its code is lost (as Popen says it)
                self.returncode = 0
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


def _ends_within(pid: int, timeout: float) -> bool:
    """Whether the child ``pid`` has ended, or ends within ``timeout`` seconds (its pidfd readable)."""
    import select

    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        poll = select.poll()  # (not select(): a run with a thousand processes has descriptors past 1024)
        poll.register(fd, select.POLLIN)
        return bool(poll.poll(max(0.0, timeout) * 1000))
    finally:
        os.close(fd)


def stat_fields(pid: int) -> list[bytes]:
    """The fields of ``/proc/PID/stat`` after the process's name (which may hold anything), the
    state first; [] if it is gone.  (The one reading of it but the sampler's, which must tell a
    process gone from descriptors run out.)"""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return []
    return raw[raw.rfind(b")") + 2 :].split()


def start_time(pid: int) -> int | None:
    """When the process started (clock ticks since boot); None if there is no such process."""
    fields = stat_fields(pid)
    return int(fields[19]) if len(fields) > 19 else None


def parent(pid: int) -> int | None:
    fields = stat_fields(pid)
    return int(fields[1]) if len(fields) > 1 else None


def zombie(pid: int) -> bool:
    return stat_fields(pid)[:1] == [b"Z"]


def carries(pid: int, mark: bytes) -> bool:
    """Whether the process's environment holds ``mark`` (``NAME=value``) as one of its entries."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return mark in f.read().split(b"\0")
    except OSError:
        return False


def children(pid: int) -> list[int]:
    """The process's children, as the kernel lists them per thread."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                found.extend(int(p) for p in f.read().split())
    return found


class Seen:
    """A process as ``/proc`` shows it now."""

    __slots__ = ("group", "parent", "session", "start")

    def __init__(self, parent: int, start: int, group: int, session: int) -> None:
        self.parent, self.start, self.group, self.session = parent, start, group, session


def processes() -> dict[int, Seen]:
    """Every process now."""
    found: dict[int, Seen] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = stat_fields(int(name))
            if len(fields) > 19:
                found[int(name)] = Seen(int(fields[1]), int(fields[19]), int(fields[2]), int(fields[3]))
    return found


def signal_exactly(pid: int, start: int, sig: int) -> bool:
    """``sig`` to the process ``pid`` that started at ``start``, and to no other (its pid reused).

    Through a pidfd: once it is open, the pid cannot come to name another process."""
    if pid <= 1:
        return False
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return False
    try:
        if start_time(pid) != start:
            return False
        signal.pidfd_send_signal(fd, sig)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def of_run(members: dict[int, int], mark: bytes | None, exclude: Collection[int] = ()) -> dict[int, int]:
    """The run's processes alive now (pid → start time): the members whose start time matches;
    everything descended from them, or in a process group or a session one of them leads (a
    program's main leads its session, a lesson's process its group: an orphan stays in it);
    everything that carries ``mark``; never ``exclude``, this process, pid 0 or 1."""
    now = processes()
    found = {pid: start for pid, start in members.items() if pid in now and now[pid].start == start}
    leaders = set(found)
    for pid, seen in now.items():
        if pid not in found and (seen.group in leaders or seen.session in leaders or (mark and carries(pid, mark))):
            found[pid] = seen.start
    kids: dict[int, list[int]] = {}
    for pid, seen in now.items():
        kids.setdefault(seen.parent, []).append(pid)
    todo = list(found)
    while todo:
        for kid in kids.get(todo.pop(), ()):
            if kid not in found:
                found[kid] = now[kid].start
                todo.append(kid)
    for pid in [*exclude, os.getpid(), 0, 1]:
        found.pop(pid, None)
    return found


def in_tree(root: int, members: dict[int, int], exclude: Collection[int] = ()) -> dict[int, int]:
    """The run's processes alive now (pid → start time), found by descent alone, for a ``root`` that
    is the subreaper of its run: the members whose start time matches, ``root``'s children but
    ``exclude`` (an orphan of the run is the subreaper's child, whatever group or session it is in),
    and every descendant of those.  Never ``root``, ``exclude``, pid 0 or 1.

    Only the run's own processes are read (``/proc/PID/task/*/children``), never the machine's:
    what :func:`of_run` finds besides (a process with the mark that does not descend from the run)
    the caller asks of it when it has reason to."""
    found: dict[int, int] = {}
    for pid, start in members.items():
        if start_time(pid) == start:
            found[pid] = start
    skip = {*exclude, root, 0, 1}
    todo = [*found, *(pid for pid in children(root) if pid not in skip)]
    while todo:
        pid = todo.pop()
        if pid not in found:
            began = start_time(pid)
            if began is None:
                continue
            found[pid] = began
        todo.extend(kid for kid in children(pid) if kid not in found and kid not in skip)
    for pid in skip:
        found.pop(pid, None)
    return found


def sweep(members: dict[int, int], mark: bytes | None, grace: float = GRACE_S) -> int:
    """End every process of the run: SIGTERM and SIGCONT, ``grace`` seconds, then SIGKILL until
    none is left.  How many there were."""
    first = of_run(members, mark)
    for pid, start in first.items():
        signal_exactly(pid, start, signal.SIGTERM)
        signal_exactly(pid, start, signal.SIGCONT)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(
        start_time(pid) == start and not zombie(pid) for pid, start in first.items()
    ):
        time.sleep(0.02)
    seen = set(first)
    for _ in range(ROUNDS):
        left = of_run({**members, **first}, mark)
        left = {pid: start for pid, start in left.items() if not zombie(pid)}
        if not left:
            break
        seen.update(left)
        for pid, start in left.items():
            signal_exactly(pid, start, signal.SIGKILL)
        time.sleep(0.02)
    return len(seen)


def main(argv: list[str], orders: BinaryIO | None = None) -> int:
    """``argv``: the script's, ``[_, MARK, DIRECTORY]``; ``orders``: what it reads them from (stdin)."""
    for signum in IGNORED:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, IGNORED)  # what came meanwhile is dropped now
    mark = argv[1].encode() if len(argv) > 1 and argv[1] else None
    directory = argv[2] if len(argv) > 2 else ""
    members: dict[int, int] = {}
    for line in sys.stdin.buffer if orders is None else orders:
        words = line.split()
        if words == [b"end"]:
            return 0
        with contextlib.suppress(ValueError):
            pid, start = (int(w) for w in words)
            members[pid] = start
    sweep(members, mark)
    if directory:
        import shutil  # here: the command line imports this module before a program's early start

        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
