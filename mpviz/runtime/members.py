"""The processes of a run: the only ones mpviz ever signals.

What a watched program says is not believed: any process of the user can
connect to the run's socket, and a record can name any pid.  A process is a
member of the run, and may be signalled, only if

* the supervisor started it, or
* it connected to the run's socket (the kernel says its pid: ``SO_PEERCRED``)
  and it descends from the dashboard or carries the run's mark in its
  environment (a watched program's processes inherit ``MPVIZ_ENDPOINT``), or
* (a dashboard that is the subreaper of its run) it is a child the dashboard
  did not start: an orphan of the run, adopted;

and it is signalled only while its start time is the one it had then (its pid
may since name another process), never when its pid is 0 or 1.  At the end,
:meth:`Members.everyone` adds every descendant of the members and every
process carrying the mark: the processes the program started that never
connected (a ``sleep`` from ``subprocess``) end with the rest.  (For a
dashboard that is its run's subreaper, all of those are in its tree, and only
the tree is read; every process of the machine, only when one of the run was
seen outside the tree.)

Every member is also told to the run's guardian (:mod:`mpviz.runtime.guardian`),
which ends them all if the dashboard dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
import threading
import weakref

from mpviz.runtime import guardian
from mpviz.runtime.guardian import Forked, carries, children, parent, signal_exactly, start_time, zombie

PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37

# How far up the parents a connecting process is followed to find the dashboard.
MAX_DEPTH = 64

# One process may hold several runs at once (a lesson restarted: the run left stops in a thread while
# the new one starts its processes), and each child it starts, for any of them, is its child.  Held
# while a run's child is started and made a member (a lesson's process, a program's main, a guardian),
# and while a run adopts its orphans or gathers its processes at the end: no run takes another's
# child, half started or a member, for an orphan of its own (and ends it, or reaps it).
STARTING = threading.RLock()
# The runs of this process not yet closed.
_runs: weakref.WeakSet[Members] = weakref.WeakSet()

# Descriptors a child forked from the dashboard must not keep (the guardians' pipes: their end of
# file is how a guardian learns that the dashboard died).
_not_inherited: set[int] = set()


def _close_inherited() -> None:
    for fd in list(_not_inherited):
        with contextlib.suppress(OSError):
            os.close(fd)
    _not_inherited.clear()


os.register_at_fork(after_in_child=_close_inherited)


def become_subreaper() -> bool:
    """Make this process the subreaper of its descendants: an orphan of the run becomes its child
    instead of init's, so that it stays a descendant and is ended with the rest."""
    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)


def is_subreaper() -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    flag = ctypes.c_int(0)
    return bool(libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0) == 0 and flag.value)


class Members:
    """The run's processes by pid and start time; ``mark`` is the environment entry (``NAME=value``)
    every process of a watched program carries (None: a lesson's, which carry none)."""

    def __init__(
        self,
        mark: str | None,
        directory: str,
        guarded: Forked | subprocess.Popen[bytes] | None = None,
        before: set[int] | None = None,
    ) -> None:
        """``guarded``: the run's guardian, started before (a watched program's main started early),
        and ``before``, the children this process had then."""
        self.root = os.getpid()
        self.mark = mark.encode() if mark else None
        self._known: dict[int, int] = {}
        # Those of them adopted (orphans): any run of this process may have left them, and may end them.
        self._adopted: set[int] = set()
        self._lock = threading.Lock()
        self._adopting = is_subreaper()
        # A program attached to: none of its processes descends from this one (see watch_only).
        self._watching_only = False
        # A process of the run that connected from outside the dashboard's tree (it carries the
        # mark, and a service of the machine started it): the end looks at every process then.
        self._escaped = False
        with STARTING:
            # The children this process had before the run: not the run's (multiprocessing's helpers,
            # another run's processes).  (Not those it has now, if the run began before: orphans of its
            # program are its children.)
            self._before = set(children(self.root)) if before is None else set(before)
            self._guardian = guarded or guardian.start(mark, directory)
            self._before.add(self._guardian.pid)
            _runs.add(self)
        assert self._guardian.stdin is not None
        self._tell_fd = self._guardian.stdin.fileno()
        os.set_blocking(self._tell_fd, False)
        _not_inherited.add(self._tell_fd)

    def add(self, pid: int) -> bool:
        """A process of the run for certain (the supervisor started it): a member from now on."""
        start = start_time(pid)
        if pid <= 1 or pid == self.root or start is None:
            return False
        with self._lock:
            # Never one of the helpers it had before the run: a watched program's main started
            # early, before the run, is the run's (stopped with it, ended by the guardian).
            self._before.discard(pid)
            if self._known.get(pid) == start:
                return True
            self._known[pid] = start
            self._adopted.discard(pid)  # (its pid, an orphan's once: another process now)
            self._tell(f"{pid} {start}\n")
        return True

    def admit(self, pid: int) -> bool | None:
        """A process that connected, or that a record names: a member if it descends from the
        dashboard or carries the mark (True); not the run's (False); gone already, or the dashboard
        itself, heard but never signalled (None)."""
        if pid <= 1:
            return False
        if pid == self.root:
            return None
        start = start_time(pid)
        if start is None:
            return None
        with self._lock:
            if self._known.get(pid) == start:
                return True
        # (``add`` fails only for a process gone since its start was read: a child that raised
        # at once and was reaped while its connection waited to be taken.  Heard, not refused.)
        if self._descends(pid):
            return self.add(pid) or None
        if self.mark is not None and carries(pid, self.mark):
            self._escaped = True
            return self.add(pid) or None
        if start_time(pid) != start:
            # Ended while its ancestry was read (a pool's worker that dies in its initializer, a
            # hundred a second): nothing says it was not the run's; heard, never signalled.
            return None
        return False

    def _descends(self, pid: int) -> bool:
        # Walked again if an ancestor ended while it was read (a lesson's process that started the
        # one connecting, and left): its descendants were handed to this process meanwhile, when it
        # is the run's subreaper, and the next walk finds them.
        for _ in range(2):
            at = pid
            for _ in range(MAX_DEPTH):
                up = parent(at)
                if up == self.root:
                    return True
                if up is None:
                    break  # gone while read: walked again
                if up <= 1:
                    return False
                at = up
            else:
                return False  # deeper than any run goes
        return False

    def is_member(self, pid: int) -> bool:
        with self._lock:
            start = self._known.get(pid)
        return start is not None and start_time(pid) == start

    def signal(self, pid: int, sig: int) -> bool:
        """``sig`` to a member, if it is still the process that joined the run."""
        with self._lock:
            start = self._known.get(pid)
        return start is not None and signal_exactly(pid, start, sig)

    def adopt(self, started: set[int]) -> None:
        """A subreaper's round: orphans of the run that became this process's children are members
        (they end with the run), and reaped once they end (nobody else will)."""
        if not self._adopting or self._watching_only:
            return
        with STARTING:
            theirs = self._theirs()
            for pid in children(self.root):
                if pid in started or pid in self._before or pid in theirs:
                    continue
                if zombie(pid):
                    with contextlib.suppress(ChildProcessError):
                        os.waitpid(pid, os.WNOHANG)
                elif self.add(pid):
                    with self._lock:
                        self._adopted.add(pid)

    def watch_only(self) -> None:
        """The run watches a program it did not start (attached): it has no orphans, and the children
        this process starts meanwhile are its own (py-spy, run at each read of stacks: reaped by a round
        before its ``subprocess.run`` could, it said exit code 0, and its failure was read as a dump)."""
        self._watching_only = True

    def _theirs(self) -> set[int]:
        """(``STARTING`` held.)  The processes of this process's other runs: those they started or
        admitted, and their guardians.  (Not the orphans they adopted: an orphan left by a run that
        stops may be adopted by the next one first, and is still ended with the run it came from.)"""
        found: set[int] = set()
        for run in list(_runs):
            if run is not self:
                with run._lock:
                    found.update(pid for pid in run._known if pid not in run._adopted)
                found.add(run._guardian.pid)
        return found

    def everyone(self, started: set[int]) -> dict[int, int]:
        """Every process of the run alive now (pid → start time): members, their descendants,
        processes with the mark; ``started`` (the supervisor's children) are members already.

        A subreaper's run is a tree: every process it starts, and every orphan of it, descends
        from this process, and only the tree is read (a few files, not every process of the
        machine and its environment).  Every process is looked at, for the mark and for the
        groups and sessions the members lead, when this process is not the subreaper (an
        orphan went to init) or a process of the run connected from outside the tree."""
        with STARTING:
            self.adopt(started)
            with self._lock:
                known = dict(self._known)
            exclude = self._before | self._theirs()
            if self._adopting and not self._escaped:
                return guardian.in_tree(self.root, known, exclude=exclude)
            return guardian.of_run(known, self.mark, exclude=exclude)

    def close(self) -> None:
        """The run has ended in order: the guardian has nothing to do."""
        _runs.discard(self)
        self._tell("end\n")
        _not_inherited.discard(self._tell_fd)
        with contextlib.suppress(OSError):
            assert self._guardian.stdin is not None
            self._guardian.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._guardian.wait(5)

    def _tell(self, line: str) -> None:
        # A guardian is never paused and reads at once; should its pipe be full, what is not
        # told is still found by the mark and by descent.
        with contextlib.suppress(OSError):
            os.write(self._tell_fd, line.encode())
