"""The dashboard's end of the records: one socket every process connects to, and what they print.

Every process of a run, at any depth and under any start method, connects to
a Unix socket the dashboard listens on (its path is in the process's config,
or in the environment of a watched program) and writes its records there in
frames, or into a ring of shared memory it hands over (see rings.py).  Its
first message hands over the read ends of two pipes that are its stdout and
stderr from then on: what it prints becomes ``proc.output`` records, line by
line, even if it is killed a moment later (see printed.py).

One thread reads everything here: the listener, the connections, the output
pipes, the sentinels of the supervisor's own children (their exit codes) and
an inbox for records made in this process (the lesson's main part, the keys,
the sampler).  Records are read in large non-blocking chunks and sorted in
time order within a short window.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import struct
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from mpviz.model.collector import paused
from mpviz.runtime.door import Door
from mpviz.runtime.early import Taken
from mpviz.runtime.ends import Ends, lost_before_its_end
from mpviz.runtime.listening import Listening
from mpviz.runtime.outputs import Outputs
from mpviz.runtime.printed import Printed, printed_before_exit
from mpviz.runtime.procfs import running
from mpviz.runtime.rings import Rings
from mpviz.runtime.settling import BY_TIME, SETTLE_NS, Settling
from mpviz.runtime.trust import Trust
from mpviz.telemetry import Event, now_ns
from mpviz.telemetry.framing import ASK_SIGNAL
from mpviz.telemetry.wire import Splitter

# At most this much is read from one connection before the others get a turn:
# a process flooding its connection cannot starve the rest.
READ_CHUNK = 1 << 16
DRAIN_CHUNKS = 4


class Tap(Protocol):
    """Who sees every record as it is read, before the time ordering (a scheduled run's scheduler)."""

    def records(self, events: list[Event], gone: list[int]) -> None:
        """``events`` in each connection's order; ``gone``: processes whose connection closed, after them."""
        ...


@dataclass
class _Conn:
    """One process's connection, and the bytes of a record not yet complete."""

    sock: socket.socket
    pid: int  # the peer's, from the kernel (SO_PEERCRED)
    fresh: bool = True  # its first read may carry descriptors
    # It answers once woken (its first record said so): the first request goes with the signal that
    # wakes it (telemetry.framing.ASK_SIGNAL).
    woken: bool = False
    frames: Splitter = field(default_factory=Splitter)


class Channels:
    """Only one thread calls :meth:`read`; :meth:`add_child` and :meth:`post` may be called from any thread.

    ``on_exit(pid)`` makes the exit record of a child whose sentinel fired;
    ``on_connect(pid)`` is asked about each process that connects (by its real
    pid, from the kernel), the first time it does: False refuses it (not a
    process of the run).  A connection's records are its process's own: one
    that names another pid is dropped and counted, but for what a parent says
    of its child, if ``vouch(pid)`` says the child is of the run (see
    trust.py).  What is refused is counted in ``trust.refused`` and said in
    ``run.refused`` records.
    """

    def __init__(
        self,
        on_exit: Callable[[int], Event],
        on_connect: Callable[[int], bool] = lambda pid: True,
        vouch: Callable[[int], bool | None] = lambda pid: True,
        door: Door | None = None,
        tap: Tap | None = None,
        signal: Callable[[int, int], bool] = lambda pid, sig: False,
    ) -> None:
        self._on_exit = on_exit
        self._signal = signal  # a process of the run signalled (the run's members': see ask)
        self.trust = Trust(on_connect, vouch)
        self._tap = tap
        self._hung_up: list[int] = []  # processes whose last connection closed, for the tap
        # The socket, in a private directory only this user's processes can reach (a door made
        # before, or a new one): see door.py.
        self.door = door or Door()
        self.endpoint = self.door.endpoint
        # What was read before the channels existed (a program started early), taken at the first read.
        self._early = self.door.early
        self.door.early = None
        # One selector for the life of the channels: waiting costs nothing per
        # process, however many there are.
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._listening = Listening(self.door.listener, self._selector, self._lock, self.trust, self._take)
        self._accept = self._listening.accept
        self._conns: dict[int, _Conn] = {}  # socket fd → connection
        self._outputs = Outputs(self._selector, self._lock, READ_CHUNK)  # the pipes processes print on
        self._inbox: deque[Event] = deque()
        self._wake_r, self._wake_w = os.pipe()
        self._shut = False
        os.set_blocking(self._wake_w, False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._settling = Settling()  # records held back a moment, to be given out in time order
        self._ends = Ends()  # of processes whose connection closed, told if nobody tells them
        self._gone: deque[int] = deque()  # found gone by another thread (the sampler): see gone()
        self._malformed = 0  # in connections already closed
        # The processes' rings of records, each the process's whose connection handed it over.
        self._rings = Rings()

    @property
    def malformed(self) -> int:
        """Frames that were not records, over the run."""
        with self._lock:
            conns = sum(c.frames.malformed for c in self._conns.values())
        return self._malformed + conns + self._rings.malformed_now

    # --- who is connected ------------------------------------------------------

    def add_child(self, pid: int, sentinel: int) -> None:
        """A child of this process: its sentinel tells when it ended, ``on_exit`` its exit code."""
        with self._lock:
            self._selector.register(sentinel, selectors.EVENT_READ, pid)
            self._ends.children.add(pid)

    def add_output(self, pid: int, fd: int, stream: str) -> None:
        """A pipe ``pid`` prints on (``stream``: out or err), read as its output from now on."""
        self._outputs.add(pid, fd, stream)

    def printing(self) -> set[int]:
        """The processes whose output is still open: someone may still write on it."""
        return self._outputs.printing()

    def exit_told(self, pid: int) -> bool:
        """Whether a record of ``pid``'s end came already."""
        return self._ends.told(pid)

    def ask(self, pid: int, request: bytes) -> bool:
        """Send a request to the process ``pid`` on its connection; False if it has none (or it is full)."""
        with self._lock:
            conns = [c for c in self._conns.values() if c.pid == pid]
        sent = False
        for conn in conns:
            with contextlib.suppress(OSError):
                sent |= conn.sock.send(request) == len(request)
            if sent and conn.woken:
                conn.woken = False  # (once: from then on it reads its connection)
                self._signal(conn.pid, ASK_SIGNAL)
        return sent

    def post(self, event: Event) -> None:
        self._inbox.append(event)
        self.wake()

    def gone(self, pid: int) -> None:
        """A process of the run found gone (by the sampler): ended in the model, unless an exit
        record of its own or of its parent's comes first (any thread)."""
        self._gone.append(pid)

    def post_many(self, events: list[Event]) -> None:
        """Several records with one wake-up (the sampler's round); none, no wake-up."""
        if events:
            self._inbox.extend(events)
            self.wake()

    def wake(self) -> None:
        """End a ``read`` waiting for records now (records posted, or the run closing)."""
        # Under the lock, never after ``close``: the pipe's number may be another file's by then.
        # BlockingIOError: already awake, the pipe is full of wake-ups.
        with self._lock, contextlib.suppress(BlockingIOError):
            if not self._shut:
                os.write(self._wake_w, b"x")

    # --- reading -----------------------------------------------------------------

    def read(self, timeout: float) -> list[Event]:
        """Wait up to ``timeout`` s for records; return those old enough, sorted."""
        if self._settling or self._ends.waiting() or self._outputs.unshown():
            timeout = min(timeout, SETTLE_NS / 1e9)
        timeout = self._listening.wait(timeout)
        got: list[Event] = []
        self._take_early(got)
        polled: dict[int, list[Event]] = {}
        if self._rings:
            now = now_ns()
            with paused():  # (the collector, while records are made: see model/collector.py)
                self._rings.poll(now, polled)
            soon = self._rings.next_poll_s(now)
            if soon is not None:
                timeout = min(timeout, soon)
            if got or any(polled.values()):
                timeout = 0
        ready = self._selector.select(timeout)
        with paused():
            return self._gather(ready, got, polled)

    def _gather(
        self, ready: list[tuple[selectors.SelectorKey, int]], got: list[Event], polled: dict[int, list[Event]]
    ) -> list[Event]:
        """What the descriptors found ``ready`` hold, the rings' records ``polled`` and what was
        posted, into ``got``: those old enough, sorted."""
        exited: list[tuple[int, int]] = []
        # What a process printed before its records: a line printed before a scheduling
        # point is read before the point is (a scheduled run's output comes in its order).
        for key, _ in sorted(ready, key=lambda ready: not isinstance(ready[0].data, Printed)):
            data = key.data
            if data is None:
                os.read(self._wake_r, 65536)
            elif data is self._listening.listener:
                self._accept()
            elif isinstance(data, _Conn):
                self._drain(data, got)
            elif isinstance(data, Printed):
                self._outputs.read(data, got)
            else:
                exited.append((key.fd, data))
        if polled:
            # Believed after the connections are read: a process's records go on its connection
            # until it maps its ring, so a parent's word on its child in the ring may follow the
            # child's start on the connection, read only now.  (Still first in ``got``: what a
            # process sends on its connection after a record comes after it.)
            from_rings: list[Event] = []
            for pid, taken in polled.items():
                self.trust.believe_all(pid, taken, from_rings, self._accept)
            got[:0] = from_rings
        while self._inbox:
            got.append(self._inbox.popleft())
        while self._gone:
            self._ends.found_gone(self._gone.popleft(), now_ns())
        for sentinel, pid in exited:
            got.extend(self._child_exited(sentinel, pid))
        now = now_ns()
        self._ends.overdue(now, got, self._last_records)
        for pid in self._ends.exits(got):
            # (One still running was taken for ended, its connection closed a while: by the
            # program, maybe, and made again. Its ring is still read, and let go at the close.)
            self._last_records(pid, got)
        self._outputs.written(got)
        self.trust.say_refused(now, got)
        if self._tap is not None:
            gone, self._hung_up = self._hung_up, []
            self._tap.records(got, gone)
        return self._settle(got, now)

    def _take(self, sock: socket.socket) -> _Conn | None:
        """A connection accepted: read from now on, if its process is welcome."""
        pid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))[0]
        if not self._welcome(pid):
            sock.close()
            return None
        sock.setblocking(False)
        conn = _Conn(sock, pid)
        with self._lock:
            self._conns[sock.fileno()] = conn
            self._selector.register(sock, selectors.EVENT_READ, conn)
        self._ends.connected(pid)
        return conn

    def _take_early(self, into: list[Event]) -> None:
        """What the early reader took, taken over (once: the first read)."""
        if self._early is not None:
            early, self._early = self._early, None
            for taken in early.stop():
                self._adopt(taken, into)

    def _adopt(self, taken: Taken, into: list[Event]) -> None:
        """A connection the early reader accepted (see early.py): its first message as if read
        here, and the lines its pipes had, each stamped when it was read there."""
        conn = self._take(taken.sock)
        if conn is None or taken.chunk is None:
            for fd in taken.fds:
                os.close(fd)
            return
        conn.fresh = False
        self._split(conn, taken.chunk, into, list(taken.fds))
        for pipe in taken.pipes:
            output = self._outputs.get(pipe.fd)
            if output is None or output.pid != conn.pid:
                continue
            for t, chunk in pipe.chunks:
                output.show_partial_before(t, into)
                output.feed(chunk, t, into)
            if pipe.ended:
                self._outputs.end(output, pipe.chunks[-1][0] if pipe.chunks else now_ns(), into)
        if not taken.chunk:
            self._hang_up(conn)

    def _welcome(self, pid: int) -> bool:
        """Whether a new connection from ``pid`` is taken (and counted if not)."""
        with self._lock:
            open_ = len(self._conns)
            own = sum(1 for c in self._conns.values() if c.pid == pid) if open_ else 0
        return self.trust.welcome(pid, open_, own)

    def _drain(self, conn: _Conn, into: list[Event]) -> None:
        """Read what is waiting on one connection, and its process's ring: the ring's records go
        first (a record never waits in its process, so each was in the ring before anything the
        process sent on its connection after it)."""
        said: list[Event] = []
        self._read_connection(conn, said)
        self._ring_records(conn.pid, into)
        into.extend(said)

    def _read_connection(self, conn: _Conn, into: list[Event]) -> None:
        """Read what is waiting on one connection; forget it once it is closed."""
        for _ in range(DRAIN_CHUNKS):
            try:
                if conn.fresh:
                    conn.fresh = False
                    chunk, fds, _, _ = socket.recv_fds(conn.sock, READ_CHUNK, 3)  # stdout, stderr, the ring
                    self._split(conn, chunk, into, fds)
                    if not chunk:
                        self._hang_up(conn)
                        return
                    continue
                chunk = conn.sock.recv(READ_CHUNK)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self._hang_up(conn)
                return
            self._split(conn, chunk, into)
            if len(chunk) < READ_CHUNK:
                return

    def _ring_records(self, pid: int, into: list[Event], everything: bool = False) -> None:
        """What ``pid``'s ring holds, if it has one (a wake-up on its connection, or its end)."""
        if pid in self._rings:
            taken: list[Event] = []
            self._rings.take(pid, taken, everything)
            self.trust.believe_all(pid, taken, into, self._accept)

    def _last_records(self, pid: int, into: list[Event]) -> None:
        """``pid`` ended, if it is not running: its ring's last records, and the ring let go."""
        if pid in self._rings and not running(pid):
            taken: list[Event] = []
            self._rings.end(pid, taken)
            self.trust.believe_all(pid, taken, into, self._accept)

    def _split(self, conn: _Conn, chunk: bytes, into: list[Event], fds: list[int] | None = None) -> None:
        for event in conn.frames.feed(chunk):
            if not self.trust.believed(conn.pid, event, self._accept):
                continue
            if event.kind == "proc.stdio" and event.data.get("woken"):
                conn.woken = True
            if event.kind == "proc.stdio" and fds:
                fds = self._add_ring(conn.pid, event, fds, into)
                self._outputs.add_handed(event, fds)
                fds = None
            into.append(event)
        for fd in fds or ():
            os.close(fd)  # descriptors nobody asked us to read

    def _add_ring(self, pid: int, event: Event, fds: list[int], into: list[Event]) -> list[int]:
        """The ring handed over with a process's first message (after its streams, if the record
        says one comes): read as ``pid``'s from now on.  The descriptors left are the streams'."""
        streams = event.data.get("streams", ())
        at = len(streams) if isinstance(streams, list | tuple) else 0
        if not event.data.get("ring") or len(fds) <= at:
            return fds
        fd = fds.pop(at)
        if not self._rings.add(pid, fd, into):
            self.trust.refused["rings"] += 1
        return fds

    def _hang_up(self, conn: _Conn) -> None:
        with self._lock:
            if self._conns.pop(conn.sock.fileno(), None) is not None:
                self._selector.unregister(conn.sock)
                self._malformed += conn.frames.malformed
            still = any(c.pid == conn.pid for c in self._conns.values())
        conn.sock.close()
        if not still:
            self._ends.hung_up(conn.pid, now_ns())
            lost = lost_before_its_end(self.endpoint, conn.pid)
            if lost:
                self.post(Event(now_ns(), conn.pid, "proc.lost", "", {"n": lost}))
            if self._tap is not None:
                self._hung_up.append(conn.pid)
            # (Its ring is read to its end once the process is known to have ended: it may connect again.)

    # --- ends ----------------------------------------------------------------------------

    def _child_exited(self, sentinel: int, pid: int) -> list[Event]:
        """A child ended: what it wrote before, then its exit."""
        with self._lock:
            self._selector.unregister(sentinel)
            self._ends.children.discard(pid)
            conns = [c for c in self._conns.values() if c.pid == pid]
        got: list[Event] = []
        for conn in conns:
            self._drain(conn, got)
        self._ring_records(pid, got, everything=True)
        for output in self._outputs.of(pid):
            self._outputs.read(output, got)
        got.append(self._on_exit(pid))
        return got

    def _settle(self, got: list[Event], now: int) -> list[Event]:
        self._outputs.show_partials(now, got)
        printed_before_exit(got)
        if not got and not self._settling:
            return []
        # With no connection open, no sibling's record can still be on its way: none is
        # held (a run that ended is over at once, not a settling later).
        with self._lock:
            connected = bool(self._conns)
        # (A ring outlives its connection until its process is known to have ended.)
        cut = now - SETTLE_NS if connected or self._rings else now
        frontier = self._rings.frontier()
        if frontier is not None:
            cut = min(cut, frontier)
        return self._settling.give(got, cut)

    def flush(self) -> list[Event]:
        """Everything held back, waiting in the inbox or already written, at the end of a run."""
        got = self._settling.take_all() + list(self._inbox)
        self._inbox.clear()
        self._take_early(got)
        with self._lock:
            conns = list(self._conns.values())
        for conn in conns:
            self._drain(conn, got)
        for pid in self._rings.pids():
            self._ring_records(pid, got, everything=True)
        for output in self._outputs.of():
            self._outputs.read(output, got)
        self._outputs.written(got)
        now = now_ns()
        self._outputs.show_partials(now, got, everything=True)
        # The run is over and its processes stopped: a connection closed a moment ago is an end,
        # told now, not after the wait for a word on it that no one will read.
        self._ends.overdue(now, got, self._last_records, everything=True)
        self.trust.say_refused(now, got, at_once=True)
        got.sort(key=BY_TIME)
        return got

    def close(self) -> None:
        with self._lock:
            self._shut = True
            early, self._early = self._early, None
            conns = list(self._conns.values())
            self._conns.clear()
        self._selector.close()
        self._outputs.close()
        if early is not None:
            early.close()
        for pid in self._rings.pids():
            self._rings.end(pid, [])
        for conn in conns:
            conn.sock.close()
        self.door.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
