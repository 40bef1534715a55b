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

import contextlib
import os
import select
import socket
import struct
import threading
from collections.abc import Callable

from mpviz.telemetry.record import Event, now_ns
from mpviz.telemetry.stacks import report_stacks
from mpviz.telemetry.wire import frame, frames

# What the dashboard asks of a process, on its connection: an op byte and a request number.
_REQUEST = struct.Struct("!cI")
STACKS = b"S"


def stacks_request(req: int) -> bytes:
    """The dashboard's request for a process's stacks (answered with ``proc.stack`` records)."""
    return _REQUEST.pack(STACKS, req)


# Where a process sends its records: the dashboard's socket, named in the
# environment of a watched program (a lesson's processes get it in their config).
ENDPOINT_ENV = "MPVIZ_ENDPOINT"
# A watched program's speed: the path of a file holding one double, mapped by every process.
SPEED_ENV = "MPVIZ_SPEED_FILE"

# What a process keeps while the dashboard cannot take its records; past
# this, records are dropped and counted, never waited for.
BACKLOG_BYTES = 4 << 20

# How long a process's last act waits for the dashboard to take what is left.
LAST_FLUSH_S = 2.0


def lost_note(endpoint: str, pid: int, n: int | None = None) -> str:
    """The note of records a process could not send before it ended (written if ``n``); its path."""
    path = os.path.join(os.path.dirname(endpoint), f"lost.{pid}")
    if n:
        with contextlib.suppress(OSError), open(path, "w", encoding="ascii") as f:
            f.write(str(n))
    return path


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

    def __init__(self, path: str, fds: tuple[int, ...] = (), hello: Event | None = None) -> None:
        self.path = path
        self.pid = os.getpid()  # a forked child finds a reporter that is not its own
        # Reentrant: a signal handler of the program may use a primitive while
        # this very thread is in the middle of a record.
        self._lock = threading.RLock()
        self._backlog = bytearray()
        self._lost = 0
        self._flusher: threading.Thread | None = None
        self._sock = self._connect(fds, hello)

    def _connect(self, fds: tuple[int, ...], hello: Event | None) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(self.path)
        if hello is not None:
            # The first message, blocking: it may carry descriptors (the
            # process's stdout and stderr) that the dashboard reads from then on.
            socket.send_fds(sock, [frame(hello)], list(fds))
        sock.setblocking(False)
        return sock

    def __call__(self, event: Event) -> None:
        data = frame(event)
        with self._lock:
            if self._backlog or self._lost:
                self._keep(data)
                return
            try:
                sent = self._sock.send(data)
            except BlockingIOError:
                sent = 0
            except OSError:
                return  # the dashboard is gone; the watchdog ends this process shortly
            if sent == 0:
                self._keep(data)
            elif sent < len(data):
                # The rest of a record already half on the wire must follow it, whatever the bound.
                self._backlog += data[sent:]
                self._start_flusher()

    def _keep(self, data: bytes) -> None:
        """Under the lock: a whole record into the backlog, or dropped and counted if it is full."""
        if len(self._backlog) + len(data) > BACKLOG_BYTES:
            self._lost += 1
        else:
            self._backlog += data
        self._start_flusher()

    def _start_flusher(self) -> None:
        if self._flusher is None:
            self._flusher = threading.Thread(target=self._flush, name="mpviz-flush", daemon=True)
            self._flusher.start()

    def _flush(self) -> None:
        """The helper thread: send the backlog as the socket takes it, then end."""
        while True:
            with self._lock:
                if self._lost and not self._backlog:
                    self._backlog += frame(Event(now_ns(), os.getpid(), "proc.lost", "", {"n": self._lost}))
                    self._lost = 0
                if not self._backlog:
                    self._flusher = None
                    return
                try:
                    sent = self._sock.send(self._backlog)
                except BlockingIOError:
                    sent = 0
                except OSError:
                    self._backlog.clear()
                    self._flusher = None
                    return
                del self._backlog[:sent]
            if sent == 0:
                select.select([], [self._sock], [], 1.0)

    def flush(self, timeout: float = LAST_FLUSH_S) -> None:
        """Send what is left, waiting at most ``timeout`` s for each part: a process's last act.

        The connection stays open: records made later (the exits of children
        that multiprocessing joins at the very end) still go out; the process's
        exit closes it."""
        with self._lock:
            if not self._backlog and not self._lost:
                return
            try:
                self._sock.settimeout(timeout)
                while self._backlog:
                    del self._backlog[: self._sock.send(self._backlog)]
                if self._lost:
                    self._sock.sendall(frame(Event(now_ns(), os.getpid(), "proc.lost", "", {"n": self._lost})))
            except OSError:
                # The dashboard is gone, or stopped: what is left goes with the
                # process.  Say how much in a note beside the socket, which the
                # dashboard reads when this connection closes.
                lost_note(self.path, os.getpid(), self._lost + frames(self._backlog))
            finally:
                self._backlog.clear()
                self._lost = 0
                with contextlib.suppress(OSError):
                    self._sock.setblocking(False)

    def serve(self, on_hang_up: Callable[[], None]) -> None:
        """Answer the dashboard on this connection, in a thread of its own: a stack request
        (``S`` and a request number) is answered with this process's stacks; the dashboard
        closing its end (it died) calls ``on_hang_up``.  A descriptor the process itself closed
        (``os.closerange``) only ends the answering."""
        threading.Thread(target=self._serve, args=(self._sock, on_hang_up), name="mpviz-control", daemon=True).start()

    def _serve(self, sock: socket.socket, on_hang_up: Callable[[], None]) -> None:
        pending = b""
        while True:
            try:
                select.select([sock], [], [])
                chunk = sock.recv(256)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                # The dashboard died before it took this connection (it was still loading).
                on_hang_up()
                return
            except (OSError, ValueError):
                return  # closed here, not by the dashboard
            if not chunk:
                on_hang_up()
                return
            pending += chunk
            while len(pending) >= _REQUEST.size:
                op, req = _REQUEST.unpack_from(pending)
                pending = pending[_REQUEST.size :]
                if op == STACKS:
                    report_stacks(req)

    def forked(self) -> None:
        """In a child just forked: forget the parent's connection (without closing the parent's end).

        The lock may have been held by another thread of the parent at the
        fork: a new one.  The caller connects a new reporter for the child."""
        self._lock = threading.RLock()
        self._backlog.clear()
        self._lost = 0
        self._flusher = None
        # Closes only this process's copy of the descriptor: the parent's
        # connection stays open, and its end of file still means the parent ended.
        self._sock.close()
