"""A scheduled run's turns on a process's connection (``mpviz explore``, stepping by hand).

At each scheduling point the process sends its ask, after every record
before it, and waits for the dashboard's answer, which the connection's
serving thread hands over (:meth:`SocketReporter._requests`).  Loaded at a
process's first point: a run that is not scheduled never pays for it.
"""

from __future__ import annotations

import _thread
import itertools
import threading

from mpviz.telemetry.framing import GO, frame
from mpviz.telemetry.record import Event

TYPE_CHECKING = False  # (not typing's: loaded in a watched program's processes)
if TYPE_CHECKING:
    from mpviz.telemetry.reporter import SocketReporter


class Turns:
    """The points of one process waiting for the dashboard's answer: their number → (a lock held
    until the answer comes, the answer)."""

    def __init__(self, connection: SocketReporter) -> None:
        self._connection = connection
        self._numbers = itertools.count(1)
        # Reentrant: a signal handler of the program may reach a point while this thread is here.
        self._lock = threading.RLock()
        self._waiting: dict[int, tuple[_thread.LockType, list[bytes]]] = {}

    def take(self, ask: Event) -> bytes:
        """Send ``ask`` (a ``turn.ask`` record) and wait for the answer: GO, EXPIRE or BLOCKS.
        The dashboard gone: GO (the watchdog ends this process)."""
        held = _thread.allocate_lock()
        held.acquire()
        answer: list[bytes] = []
        with self._lock:
            n = next(self._numbers)
            self._waiting[n] = (held, answer)
        ask.data["n"] = n
        if not self._connection.send_whole(frame(ask)):
            with self._lock:
                self._waiting.pop(n, None)
            return GO
        held.acquire()
        return answer[0] if answer else GO

    def answered(self, n: int, answer: bytes) -> None:
        """The dashboard's answer to point ``n`` (the serving thread's)."""
        with self._lock:
            waiting = self._waiting.pop(n, None)
        if waiting is not None:
            held, slot = waiting
            slot.append(answer)
            held.release()

    def let_go(self) -> None:
        """The dashboard is gone: nobody will answer; every waiting point goes on."""
        with self._lock:
            waiting, self._waiting = self._waiting, {}
        for held, _ in waiting.values():
            held.release()
