"""Reading every child's channel in one thread, in batches, in time order."""

from __future__ import annotations

import contextlib
import os
import selectors
import struct
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from mpviz.telemetry import Event, Malformed, decode, now_ns

# Records from different pipes can arrive out of order by the time it takes a
# process to get from an operation to its write.  A batch holds back records
# younger than this, so that a late sibling can join them and be sorted in.
SETTLE_NS = 20_000_000

# At most this much is read from one pipe before the others get a turn: a
# child flooding its channel cannot starve the rest.
READ_CHUNK = 1 << 16
DRAIN_CHUNKS = 4

_HEADER = struct.Struct("!i")


@dataclass
class _Pipe:
    """The read end of one child's pipe, and the bytes of a record not yet complete."""

    conn: Connection
    pid: int
    pending: bytearray = field(default_factory=bytearray)


class Channels:
    """The read ends of the children's pipes, the children's sentinels, and
    an inbox for records made in this process (main, keys, the sampler).

    Only one thread calls :meth:`read`; :meth:`add` and :meth:`post` may be
    called from any thread.

    The pipes carry ``Connection.send_bytes`` frames (a 4-byte length, then the
    record).  They are read here in large non-blocking chunks and split into
    records directly: ``Connection.poll`` builds a selector on every call,
    which at ten thousand records a second costs more than everything else.
    """

    def __init__(self, on_exit: Callable[[int], Event]) -> None:
        self._on_exit = on_exit
        # One selector for the life of the channels, registered once per
        # descriptor: waiting costs nothing per child, however many there are.
        self._selector = selectors.DefaultSelector()
        self._pipes: dict[int, _Pipe] = {}  # read end's fd → pipe
        self._lock = threading.Lock()
        self._inbox: deque[Event] = deque()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._held: list[Event] = []
        self.malformed = 0

    def add(self, pid: int, reader: Connection, sentinel: int) -> None:
        os.set_blocking(reader.fileno(), False)
        pipe = _Pipe(reader, pid)
        with self._lock:
            self._pipes[reader.fileno()] = pipe
            self._selector.register(reader.fileno(), selectors.EVENT_READ, pipe)
            self._selector.register(sentinel, selectors.EVENT_READ, pid)

    def post(self, event: Event) -> None:
        self._inbox.append(event)
        self._wake()

    def post_many(self, events: list[Event]) -> None:
        """Several records with one wake-up (the sampler's round)."""
        self._inbox.extend(events)
        self._wake()

    def _wake(self) -> None:
        # BlockingIOError: already awake, the pipe is full of wake-ups.
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_w, b"x")

    def read(self, timeout: float) -> list[Event]:
        """Wait up to ``timeout`` s for records; return those old enough, sorted."""
        if self._held:
            timeout = min(timeout, SETTLE_NS / 1e9)
        ready = self._selector.select(timeout)
        got: list[Event] = []
        exited: list[tuple[int, int]] = []
        for key, _ in ready:
            if key.data is None:
                os.read(self._wake_r, 65536)
            elif isinstance(key.data, _Pipe):
                self._drain(key.data, got)
            else:
                exited.append((key.fd, key.data))
        while self._inbox:
            got.append(self._inbox.popleft())
        for sentinel, pid in exited:
            got.extend(self._child_exited(sentinel, pid))
        return self._settle(got)

    def _drain(self, pipe: _Pipe, into: list[Event]) -> None:
        """Read what is waiting on one pipe; forget the pipe once it is closed."""
        fd = pipe.conn.fileno()
        for _ in range(DRAIN_CHUNKS):
            try:
                chunk = os.read(fd, READ_CHUNK)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:
                if pipe.pending:
                    self.malformed += 1  # a record cut short: its writer died mid-write
                self._forget(pipe)
                break
            pipe.pending += chunk
            self._split(pipe, into)
            if len(chunk) < READ_CHUNK:
                break

    def _split(self, pipe: _Pipe, into: list[Event]) -> None:
        buf = pipe.pending
        view = memoryview(buf)
        pos, end = 0, len(buf)
        try:
            while end - pos >= 4:
                (size,) = _HEADER.unpack_from(buf, pos)
                if size < 0:
                    # Only records over 2 GiB use the long header; ours are tiny.
                    self.malformed += 1
                    pos = end
                    break
                if end - pos - 4 < size:
                    break
                try:
                    into.append(decode(bytes(view[pos + 4 : pos + 4 + size])))
                except Malformed:
                    self.malformed += 1
                pos += 4 + size
        finally:
            view.release()
        del buf[:pos]

    def _forget(self, pipe: _Pipe) -> None:
        with self._lock:
            if self._pipes.pop(pipe.conn.fileno(), None) is not None:
                self._selector.unregister(pipe.conn.fileno())
        pipe.conn.close()

    def _child_exited(self, sentinel: int, pid: int) -> list[Event]:
        """A child ended: take the rest of its records, then its exit."""
        with self._lock:
            self._selector.unregister(sentinel)
            pipes = [p for p in self._pipes.values() if p.pid == pid]
        got: list[Event] = []
        for pipe in pipes:
            # Its own records are all written; processes it started may hold
            # the pipe open longer, so read what is there, not until EOF.
            self._drain(pipe, got)
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
            pipes = list(self._pipes.values())
        for pipe in pipes:
            self._drain(pipe, got)
        got.sort(key=lambda e: e.t_ns)
        return got

    def close(self) -> None:
        with self._lock:
            pipes = list(self._pipes.values())
            self._pipes.clear()
        self._selector.close()
        for pipe in pipes:
            pipe.conn.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
