"""A process's own connection to the dashboard: the reporter of every process of a run.

Each process connects to the dashboard's Unix socket on its own (its path is
in the process's setup, or in the environment of a watched program) and
writes its records there as frames (:mod:`mpviz.telemetry.wire`).  The
socket is non-blocking: the observer must never stall the observed.  A
forked child finds its parent's connection and makes one of its own
(:meth:`SocketReporter.forked`), so parent and child never share a
half-written record, and a process killed or stopped mid-write stalls nobody
else's records.
"""

from __future__ import annotations

import _thread
import contextlib
import errno
import os
import select
import socket
import sys
import threading
import time
from collections.abc import Callable

from mpviz.telemetry import ring_layout
from mpviz.telemetry.descriptors import RingFile, forget, high, high_fd
from mpviz.telemetry.framing import ANSWERS, GO, REQUEST, STACKS, WAKE, frame
from mpviz.telemetry.record import Event, operation_event, reinstall_reporter

TYPE_CHECKING = False  # (not typing's: a watched program's every process imports this module)
if TYPE_CHECKING:
    from typing import Any

    from mpviz.telemetry.backlog import Backlog
    from mpviz.telemetry.ring import RingWriter
    from mpviz.telemetry.turn_taking import Turns

# Taken before a watched program's time.sleep is scaled by the run's speed (mpviz.inject).
_sleep = time.sleep

# Records a process sends on its connection before it maps its ring for the rest (its first operation
# maps it at once): a process that says little, its start and its end, never maps it.
SOCKET_RECORDS = 16
MAPPING = "mpviz.telemetry.mapping"  # (the module that maps: ctypes)

# How long a process's last act waits for the dashboard to take what is left.
LAST_FLUSH_S = 2.0

# How often the watchdog's wait looks again at the connection it waits on (it may have been
# closed under it, or replaced by a new one).
LOOK_AGAIN_MS = 1000

# What ``SocketReporter.wait_hang_up`` saw: the dashboard closed the connection, or this
# process's descriptor of it was closed (or now names another file).
CLOSED, CUT = "closed", "cut"


def _before_fork() -> None:
    """The ring's writer and the ctypes it maps with, loaded before a fork in the thread that forks:
    a module another thread is importing at the fork stays locked in the child for good, and the
    child, which maps a ring of its own at its first record, would wait for it for ever."""
    from mpviz.telemetry import mapping, ring  # noqa: F401


os.register_at_fork(before=_before_fork)


class SocketReporter:
    """A process's reporter: its own connection to the dashboard's socket.

    The observer must never stall the observed: a record the socket cannot
    take right now waits in a bounded backlog, which a helper thread sends as
    soon as it can; past the bound, records are dropped and counted, and a
    ``proc.lost`` record says how many once the socket takes records again.
    Each process connects on its own (a forked child reconnects: see
    :meth:`forked`), so a record is never shared half-written, and a process
    killed or stopped mid-write stalls nobody else's records.
    """

    def __init__(
        self, path: str, fds: tuple[int, ...] = (), hello: Event | None = None, ring: int = ring_layout.RING_BYTES
    ) -> None:
        self.path = path
        self.pid = os.getpid()  # a forked child finds a reporter that is not its own
        # Reentrant: a signal handler of the program may use a primitive while
        # this very thread is in the middle of a record.
        self._lock = threading.RLock()
        # What the socket could not take yet (made at the first write it refuses).
        self._backlog: Backlog | None = None
        # A scheduled run's points waiting for the dashboard's answer (made at the first).
        self._turns: Turns | None = None
        # The process's records go into a ring of shared memory, handed over with its first message
        # (``hello``, which says so); the socket carries the rest (wake-ups, and what the dashboard asks).
        # The ring is mapped here only when this process first writes into it (``_map_ring``): until
        # then its records go on the socket, and a process that ends before it uses a primitive (a
        # child that does nothing much, a pool's idle worker) never pays for the mapping (ctypes: a
        # spawned child ~2 ms).  Its descriptor waits at a high number, as the connection's does.
        self._ring: RingWriter | None = None
        self._unmapped: RingFile | None = None
        self._socket_records = 0
        ring_fd = None
        if hello is not None and ring and ring_layout.supported():
            with contextlib.suppress(OSError):
                ring_fd = ring_layout.ring_file(ring)
        if ring_fd is not None and hello is not None:
            hello = hello._replace(data={**hello.data, "ring": ring})
            fds = (*fds, ring_fd)
        try:
            self._sock, self._id = self._connect(fds, hello)
        except BaseException:
            if ring_fd is not None:
                os.close(ring_fd)
            raise
        if ring_fd is not None and MAPPING in sys.modules:
            # Mapping costs nothing more (a child forked from a process that mapped, a forkserver's):
            # at once, and every record goes into the ring.
            self._unmapped = RingFile(ring_fd, ring)
            self._map_ring()
        elif ring_fd is not None:
            self._unmapped = RingFile(high_fd(ring_fd), ring)
            # mpviz.sync's operations: the first maps the ring, and the rest go straight into it.
            self.operation = self._first_operation  # type: ignore[method-assign]

    def _connect(self, fds: tuple[int, ...] = (), hello: Event | None = None) -> tuple[socket.socket, tuple[int, int]]:
        """A new connection, at a high descriptor, and what identifies it (its inode)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.path)
            if hello is not None:
                # The first message, blocking: it may carry descriptors (the
                # process's stdout and stderr) that the dashboard reads from then on.
                socket.send_fds(sock, [frame(hello)], list(fds))
            sock = high(sock)
            sock.setblocking(False)
            st = os.fstat(sock.fileno())
        except BaseException:
            sock.close()
            raise
        return sock, (st.st_dev, st.st_ino)

    def _ours(self) -> bool:
        """Whether this process's descriptor still is its connection (a program may close any)."""
        try:
            st = os.fstat(self._sock.fileno())
        except (OSError, ValueError):
            return False
        return (st.st_dev, st.st_ino) == self._id

    def _send(self, data: bytes | bytearray) -> int:
        """Under the lock: what the socket takes of ``data`` now; a connection closed under us
        (by the program) is made again first.  BlockingIOError: nothing, now; OSError: no dashboard."""
        try:
            return self._sock.send(data)
        except BlockingIOError:
            raise
        except OSError as exc:
            if exc.errno not in (errno.EBADF, errno.ENOTSOCK) or not self._reconnect():
                raise
            return self._sock.send(data)

    def _reconnect(self) -> bool | None:
        """Under the lock: a new connection instead of the old one.  False: nobody listens at the
        run's socket (the dashboard is gone); None: it did not answer now."""
        try:
            sock, ident = self._connect()
        except (FileNotFoundError, ConnectionRefusedError):
            return False
        except OSError:
            return None
        ours = self._ours()
        old, self._sock, self._id = self._sock, sock, ident
        forget(old, ours)
        if self._backlog is not None:
            self._backlog.reconnected()
        return True

    def reconnect(self) -> bool | None:
        """The watchdog's step after a hang-up: connect again (see :meth:`_reconnect`)."""
        with self._lock:
            return self._reconnect()

    def __call__(self, event: Event) -> None:
        ring = self._ring
        if ring is not None:
            # No system call: the dashboard drains the ring; it is woken only if it sleeps.
            if ring.ours() and ring.write(event):
                self._wake()
            return
        if os.getpid() != self.pid:
            # A child just forked, before it has a connection of its own (a finalizer run in the
            # fork): its parent's lock may be held for ever, and its parent's connection is not its own.
            return
        if self._unmapped is not None and self._socket_records >= SOCKET_RECORDS:
            ring = self._map_ring()
            if ring is not None:
                if ring.write(event):
                    self._wake()
                return
        self._socket_records += 1
        data = frame(event)
        with self._lock:
            if self._backlog:
                self._backlog.keep(data)
                return
            try:
                sent = self._send(data)
            except BlockingIOError:
                sent = 0
            except OSError:
                return  # the dashboard is gone; the watchdog ends this process shortly
            if sent == 0:
                self._kept().keep(data)
            elif sent < len(data):
                self._kept().rest(data, sent)

    def printed(self, event: Event) -> bool:
        """A write to stdout or stderr as a record (see mpviz.sync.printing), if it can be taken now
        whole: into the ring, or onto the connection while nothing waits to be sent on it.  False:
        not taken (the pipe takes the write instead; nothing is lost, nothing counted lost)."""
        if os.getpid() != self.pid:
            return False  # a child just forked: not its connection
        ring = self._ring
        if ring is None and self._unmapped is not None:
            # Mapped at the first print: a line's pieces must come in one stream, the ring, in the
            # order written (the connection's records may be read in a later batch than the ring's).
            ring = self._map_ring()
        if ring is not None:
            if not ring.ours():
                return False
            taken, asleep = ring.take(event)
            if asleep:
                self._wake()
            return taken
        data = frame(event)
        with self._lock:
            if self._backlog:
                return False
            try:
                sent = self._send(data)
            except OSError:
                return False
            if 0 < sent < len(data):
                self._kept().rest(data, sent)
            return sent > 0  # (half sent is taken: the pipe must not say it twice)

    def operation(self, kind: str, obj: str, data: dict[str, Any] | None, at: str, th: int, t_ns: int) -> None:
        """An operation of ``mpviz.sync``, told in parts (``record.operation``): a record made of
        them.  With a ring, its own ``record`` is this process's ``operation`` instead (see __init__)."""
        if self.pid == os.getpid():  # (not a child just forked: it has no connection of its own yet)
            self(operation_event(kind, obj, data, at, th, t_ns, self.pid))

    @property
    def ring(self) -> RingWriter | None:
        """The ring this process's operations go into, once mapped (``record.ring``: a lock's records
        go straight there)."""
        return self._ring

    def _first_operation(self, kind: str, obj: str, data: dict[str, Any] | None, at: str, th: int, t_ns: int) -> None:
        """This process's first operation: its ring mapped, and the operation written there (or,
        if the ring cannot be mapped, on the connection)."""
        if self.pid != os.getpid():
            return  # a child just forked: the ring is its parent's (see operation)
        ring = self._ring or self._map_ring()
        if ring is not None:
            ring.record(kind, obj, data, at, th, t_ns)
        else:
            self(operation_event(kind, obj, data, at, th, t_ns, self.pid))

    def _map_ring(self) -> RingWriter | None:
        """Map the ring handed over at the start; from now on this process's records go there and
        its operations straight into it (``record.operation``).  None: it cannot be (this process
        closed its descriptor, or is out of memory): the records go on the connection, as before."""
        if self.pid != os.getpid():
            return None  # a child just forked: the ring is its parent's (and so may be the lock)
        # (The writer, loaded here: a process that never writes into its ring never loads it.  A fork
        # meanwhile in another thread: see _before_fork.)
        from mpviz.telemetry.ring import RingWriter

        with self._lock:
            unmapped, self._unmapped = self._unmapped, None  # (a signal handler's record meanwhile: the socket)
            if unmapped is None:
                return self._ring
            ring = None
            if unmapped.ours():
                with contextlib.suppress(OSError):
                    ring = RingWriter(unmapped.size, unmapped.fd)
            unmapped.close()
            if ring is None:
                del self.operation  # (the class's: a record made of the parts, for the connection)
            else:
                ring.wake = self._wake  # type: ignore[method-assign]
                self.operation = ring.record  # type: ignore[method-assign]
                self._ring = ring
        reinstall_reporter(self)
        return ring

    def _wake(self) -> None:
        """Wake the dashboard to read the ring: an empty frame on the connection, unless bytes wait
        to be sent on it already (the dashboard reads the ring whenever it reads the connection)."""
        with self._lock:
            if self._backlog:
                return
            try:
                sent = self._send(WAKE)
            except OSError:
                return  # full (it has a wake-up to read already), or the dashboard is gone
            if 0 < sent < len(WAKE):
                self._kept().rest(WAKE, sent)

    def _kept(self) -> Backlog:
        """Under the lock: the backlog, made at the first write the socket refuses."""
        if self._backlog is None:
            from mpviz.telemetry.backlog import Backlog

            self._backlog = Backlog(self)
        return self._backlog

    def flush(self, timeout: float = LAST_FLUSH_S) -> None:
        """Send what is left, waiting at most ``timeout`` s for each part: a process's last act.

        The connection stays open: records made later (the exits of children
        that multiprocessing joins at the very end) still go out; the process's
        exit closes it."""
        with self._lock:
            if self._backlog:
                self._backlog.last(timeout)

    def take_turn(self, ask: Event) -> bytes:
        """A scheduling point: ``ask`` (a ``turn.ask`` record) sent, and the dashboard's answer
        waited for (see :mod:`mpviz.telemetry.turn_taking`)."""
        if os.getpid() != self.pid:
            return GO  # a child just forked, before it has a connection of its own (see __call__)
        if self._turns is None:
            from mpviz.telemetry.turn_taking import Turns

            self._turns = Turns(self)
        return self._turns.take(ask)

    def send_whole(self, data: bytes) -> bool:
        """``data`` sent after every record before it, waiting for the socket: a scheduling
        point's ask, which must never be dropped (its thread waits for the answer anyway).
        False: the dashboard is gone."""
        with self._lock:
            try:
                self._sock.setblocking(True)
                if self._backlog:
                    self._backlog.send_all()
                self._sock.sendall(data)
            except OSError:
                return False
            finally:
                with contextlib.suppress(OSError):
                    self._sock.setblocking(False)
        return True

    def serve(self, on_hang_up: Callable[[], None]) -> None:
        """Answer the dashboard on this connection, in a thread of its own: a stack request
        (``S`` and a request number) is answered with this process's stacks; the dashboard
        gone calls ``on_hang_up``.

        A hang-up is not proof that it is gone: the program may have closed every descriptor
        (``os.closerange``), or the dashboard refused this process (too many).  Whoever still
        listens at the run's socket answers: a new connection is the process's from then on;
        nobody listening means the dashboard is gone.

        A thread of the interpreter's (``_thread``), not of ``threading``: starting one of those waits
        until it runs, which cost every process's start ~0.2 ms, and milliseconds under load; and a
        program that lists its threads does not find it.  (Its stack is never said: it is mpviz's.)"""
        _thread.start_new_thread(self._serve, (on_hang_up,))

    def _serve(self, on_hang_up: Callable[[], None]) -> None:
        pending = b""
        pause = 0.0
        while True:
            why = self._requests(pending)
            pending = b""
            # The answers of the points waiting now would come on the connection that is gone.
            if self._turns is not None:
                self._turns.let_go()
            if pause:
                _sleep(pause)
            connected = self.reconnect()
            if connected is False:
                on_hang_up()
                return
            # Closed on us again and again while the dashboard lives: ask less and less often.
            pause = min(10.0, pause * 2 or 1.0) if why == CLOSED or not connected else 0.0

    def _requests(self, pending: bytes) -> str:
        """Answer requests until the dashboard closes its end (``CLOSED``: it died, or it refused
        this process), or this process's descriptor of it is no longer it (``CUT``)."""
        while True:
            sock = self._sock
            if not self._ours():
                return CUT
            poller = select.poll()
            poller.register(sock.fileno(), select.POLLIN)
            # Woken now and then: a descriptor closed under a poll does not wake it.
            ready = poller.poll(LOOK_AGAIN_MS)
            if not ready or sock is not self._sock:
                continue
            if not self._ours() or ready[0][1] & select.POLLNVAL:
                return CUT
            try:
                chunk = sock.recv(256)
            except BlockingIOError:
                continue
            except OSError:
                return CUT
            if not chunk:
                return CLOSED
            pending += chunk
            while len(pending) >= REQUEST.size:
                op, req = REQUEST.unpack_from(pending)
                pending = pending[REQUEST.size :]
                if op == STACKS:
                    # (Loaded when first asked: most processes never are, and each pays for a module.)
                    from mpviz.telemetry.stacks import report_stacks

                    report_stacks(req)
                elif op in ANSWERS and self._turns is not None:
                    self._turns.answered(req, op)

    def forked(self) -> None:
        """In a child just forked: forget the parent's connection (without closing the parent's end).

        The lock may have been held by another thread of the parent at the
        fork: a new one.  The caller connects a new reporter for the child."""
        self._lock = threading.RLock()
        self._backlog = None
        self._turns = None  # the parent's threads' points: not this process's
        if self._ring is not None:
            self._ring.forget()
            self._ring = None
        if self._unmapped is not None:
            self._unmapped.close()  # (this process's copy: the parent's stays open)
            self._unmapped = None
        with contextlib.suppress(AttributeError):
            del self.operation  # (the class's again: a record made of the parts, for a connection)
        # Closes only this process's copy of the descriptor: the parent's
        # connection stays open, and its end of file still means the parent ended.
        forget(self._sock, self._ours())
