"""How each process's end is told, when nobody else tells it.

A process says its own end (``proc.exit``) on its way out; its parent says it
in ``join()``; a child of the dashboard's own has a sentinel (see
channels.py).  One that ends without a word (``os._exit``, a signal) and whose
parent is not watched only closes its connection.  If it is a zombie then,
it has ended and its stat says how (read at once: its parent may reap it any
moment): its end is told now.  Reaped already, it has ended too: its parent's
word on how is waited for ``REAPED_NS``.  Still alive, it is taken for ended
``GONE_NS`` later if no word came.  A process still alive that closed its connection (a program that
closes every descriptor) may connect again; then it is not gone.  What a
process could not send before it ended is in a note of its own, taken here.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from mpviz.runtime.guardian import stat_fields
from mpviz.runtime.procfs import exit_of
from mpviz.telemetry import Event
from mpviz.telemetry.backlog import lost_note

# A process whose connection closed is taken for ended after this long if no
# exit record (its own, or its parent's) came: a killed process whose parent
# is gone too says nothing more.
GONE_NS = 1_000_000_000
# One already reaped when its connection closed has ended: its parent's word on how (a join's) is
# waited for this long only.
REAPED_NS = 200_000_000


class Ends:
    """The processes whose connection closed and whose end is not told yet (one thread's)."""

    def __init__(self) -> None:
        self._due: dict[int, int] = {}  # pid → when it counts as ended, if nobody tells
        self._codes: dict[int, dict[str, object]] = {}  # how a zombie whose connection closed ended
        self._told: set[int] = set()  # processes whose exit record came
        self.children: set[int] = set()  # the dashboard's own: their sentinels tell their ends

    def waiting(self) -> bool:
        """Whether an end may be told without any record coming (a read must not sleep long)."""
        return bool(self._due)

    def told(self, pid: int) -> bool:
        """Whether a record of ``pid``'s end came already."""
        return pid in self._told

    def hung_up(self, pid: int, now: int) -> None:
        """``pid``'s last connection closed: ended, unless it connects again or a word comes."""
        self._due[pid] = now + GONE_NS
        self._look(pid, now)

    def _look(self, pid: int, now: int) -> None:
        """What ``pid``'s stat says of its end: a zombie's, told now with its code; a reaped one's,
        after a short wait for its parent's word.  (A process closes its descriptors on its way
        out a moment before it is a zombie: one still running is looked at again, at each read.)"""
        if pid in self.children or pid in self._codes:
            return
        fields = stat_fields(pid)
        if not fields:
            self._due[pid] = min(self._due[pid], now + REAPED_NS)
        elif fields[0] in (b"Z", b"X"):
            self._codes[pid] = exit_of(fields)
            self._due[pid] = now

    def found_gone(self, pid: int, now: int) -> None:
        """``pid`` found gone (by the sampler): ended, unless a word on it comes first."""
        self._due.setdefault(pid, now + GONE_NS)

    def connected(self, pid: int) -> None:
        """``pid`` connected (again: its first connection was cut): not gone."""
        self._due.pop(pid, None)
        self._codes.pop(pid, None)

    def exits(self, events: list[Event]) -> list[int]:
        """The processes whose end ``events`` tell, remembered as told."""
        pids = [e.pid for e in events if e.kind == "proc.exit"]
        self._told.update(pids)
        return pids

    def overdue(
        self, now: int, into: list[Event], last_records: Callable[[int, list[Event]], None], everything: bool = False
    ) -> None:
        """The ends of processes whose connection closed a while ago and of which nobody told
        (``everything``: every one whose connection closed, the run being over), each after its
        ring's last records (``last_records(pid, into)``: what it wrote before it ended)."""
        if not self._due:
            return
        told_now = {e.pid for e in into if e.kind == "proc.exit"}
        for pid, due in list(self._due.items()):
            if pid in self._told or pid in told_now:
                del self._due[pid]
                self._codes.pop(pid, None)
            elif not everything and now < due:
                self._look(pid, now)
            if pid in self._due and (now >= self._due[pid] or everything):
                del self._due[pid]
                last_records(pid, into)  # (its own exit, if it said it, among them)
                end = self._codes.pop(pid, None) or exit_of(stat_fields(pid))
                if not any(e.kind == "proc.exit" and e.pid == pid for e in into):
                    into.append(Event(now, pid, "proc.exit", "", end))


def lost_before_its_end(endpoint: str, pid: int) -> int:
    """How many records ``pid`` could not send before it ended (``SocketReporter.flush`` wrote
    them down in a note, taken here); 0: none."""
    path = lost_note(endpoint, pid)
    try:
        with open(path, encoding="ascii") as f:
            n = int(f.read(20))
        os.unlink(path)
    except (OSError, ValueError):
        return 0
    return n
