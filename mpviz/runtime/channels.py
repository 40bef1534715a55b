"""Reading every child's channel in one thread, in batches, in time order."""

from __future__ import annotations

import contextlib
import os
import threading
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection, wait

from mpviz.telemetry import Event, Malformed, decode, now_ns

# Records from different pipes can arrive out of order by the time it takes a
# process to get from an operation to its write.  A batch holds back records
# younger than this, so that a late sibling can join them and be sorted in.
SETTLE_NS = 20_000_000

# At most this many records are read from one pipe before the others get a
# turn: a child flooding its channel cannot starve the rest.
DRAIN_LIMIT = 2000


class Channels:
    """The read ends of the children's pipes, the children's sentinels, and
    an inbox for records made in this process (main, keys, the sampler).

    Only one thread calls :meth:`read`; :meth:`add` and :meth:`post` may be
    called from any thread.
    """

    def __init__(self, on_exit: Callable[[int], Event]) -> None:
        self._on_exit = on_exit
        self._readers: dict[Connection, int] = {}  # read end → pid of the child it belongs to
        self._sentinels: dict[int, int] = {}  # sentinel fd → pid
        self._lock = threading.Lock()
        self._inbox: deque[Event] = deque()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._held: list[Event] = []
        self.malformed = 0
        self.received = 0

    def add(self, pid: int, reader: Connection, sentinel: int) -> None:
        with self._lock:
            self._readers[reader] = pid
            self._sentinels[sentinel] = pid
        self._wake()

    def post(self, event: Event) -> None:
        self._inbox.append(event)
        self._wake()

    def _wake(self) -> None:
        # BlockingIOError: already awake, the pipe is full of wake-ups.
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_w, b"x")

    def read(self, timeout: float) -> list[Event]:
        """Wait up to ``timeout`` s for records; return those old enough, sorted."""
        if self._held:
            timeout = min(timeout, SETTLE_NS / 1e9)
        with self._lock:
            waitables: list[object] = [*self._readers, *self._sentinels, self._wake_r]
        ready = wait(waitables, timeout)
        got: list[Event] = []
        exited: list[int] = []
        for item in ready:
            if item == self._wake_r:
                os.read(self._wake_r, 65536)
            elif isinstance(item, Connection):
                self._drain(item, got)
            else:
                exited.append(item)  # type: ignore[arg-type]
        while self._inbox:
            got.append(self._inbox.popleft())
        for sentinel in exited:
            got.extend(self._child_exited(sentinel))
        self.received += len(got)
        return self._settle(got)

    def _drain(self, reader: Connection, into: list[Event]) -> bool:
        """Read what is waiting on one pipe; False once it is closed."""
        for _ in range(DRAIN_LIMIT):
            try:
                if not reader.poll():
                    return True
                payload = reader.recv_bytes()
            except (EOFError, OSError):
                with self._lock:
                    self._readers.pop(reader, None)
                reader.close()
                return False
            try:
                into.append(decode(payload))
            except Malformed:
                self.malformed += 1
        return True

    def _child_exited(self, sentinel: int) -> list[Event]:
        """A child ended: take the rest of its records, then its exit."""
        with self._lock:
            pid = self._sentinels.pop(sentinel)
            readers = [r for r, p in self._readers.items() if p == pid]
        got: list[Event] = []
        for reader in readers:
            # Its own records are all written; processes it started may hold
            # the pipe open longer, so read what is there, not until EOF.
            self._drain(reader, got)
        got.append(self._on_exit(pid))
        return got

    def _settle(self, got: list[Event]) -> list[Event]:
        pending = self._held + got
        if not pending:
            return []
        pending.sort(key=lambda e: e.t_ns)
        cut = now_ns() - SETTLE_NS
        split = len(pending)
        while split and pending[split - 1].t_ns > cut:
            split -= 1
        self._held = pending[split:]
        return pending[:split]

    def flush(self) -> list[Event]:
        """Everything held back and waiting in the inbox, at the end of a run."""
        got = self._held + list(self._inbox)
        self._inbox.clear()
        self._held = []
        with self._lock:
            readers = list(self._readers)
        for reader in readers:
            self._drain(reader, got)
        got.sort(key=lambda e: e.t_ns)
        return got

    def close(self) -> None:
        with self._lock:
            readers = list(self._readers)
            self._readers.clear()
            self._sentinels.clear()
        for reader in readers:
            reader.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
