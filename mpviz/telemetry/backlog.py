"""What a process's connection could not send yet: its backlog.

The observer must never stall the observed: a record the socket cannot take
right now waits here, and a helper thread sends it as soon as the socket
takes it; past ``BACKLOG_BYTES``, records are dropped and counted, and a
``proc.lost`` record says how many once the socket takes records again.
Made at the first write the socket refuses (a dashboard stopped or slow, a
flood before the ring is mapped): most processes never load it.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading

from mpviz.telemetry.framing import frame, frame_size, frames
from mpviz.telemetry.record import Event, now_ns

TYPE_CHECKING = False  # (not typing's: loaded in a watched program's processes)
if TYPE_CHECKING:
    from mpviz.telemetry.reporter import SocketReporter

# What a process keeps while the dashboard cannot take its records; past this, records are dropped
# and counted, never waited for.
BACKLOG_BYTES = 4 << 20


def lost_note(endpoint: str, pid: int, n: int | None = None) -> str:
    """The note of records a process could not send before it ended (written if ``n``); its path."""
    path = os.path.join(os.path.dirname(endpoint), f"lost.{pid}")
    if n:
        with contextlib.suppress(OSError), open(path, "w", encoding="ascii") as f:
            f.write(str(n))
    return path


def _lost(n: int) -> bytes:
    return frame(Event(now_ns(), os.getpid(), "proc.lost", "", {"n": n}))


class Backlog:
    """A connection's unsent bytes: whole records, after the rest of one already begun on the wire.
    Every method but the helper thread's is called under the connection's lock; it is true while
    anything waits (bytes, or records lost to say)."""

    def __init__(self, connection: SocketReporter) -> None:
        # (The connection's lock, socket and send: this class is its part, split off to be loaded late.)
        self._connection = connection
        self._bytes = bytearray()
        # Where the first whole record starts: before it, the rest of one already begun on the wire.
        self._boundary = 0
        self.lost = 0
        self._flusher: threading.Thread | None = None

    def __bool__(self) -> bool:
        return bool(self._bytes) or self.lost > 0

    def keep(self, data: bytes) -> None:
        """A whole record, or dropped and counted if the backlog is full."""
        if len(self._bytes) + len(data) > BACKLOG_BYTES:
            self.lost += 1
        else:
            self._bytes += data
        self._start()

    def rest(self, data: bytes, sent: int) -> None:
        """The rest of a record already half on the wire: it must follow, whatever the bound."""
        self._bytes += data[sent:]
        self._boundary = len(data) - sent
        self._start()

    def reconnected(self) -> None:
        """A new connection: the rest of a record half sent on the old one means nothing there."""
        if self._boundary:
            del self._bytes[: self._boundary]
            self._boundary = 0
            self.lost += 1

    def send_all(self) -> None:
        """Everything, on a socket made blocking (a scheduling point's ask follows it). OSError: gone."""
        sock = self._connection._sock
        if self.lost:
            self._bytes += _lost(self.lost)
            self.lost = 0
        if self._bytes:
            sock.sendall(self._bytes)
            self._clear()

    def last(self, timeout: float) -> None:
        """Send what is left, waiting at most ``timeout`` s for each part: the process's last act.
        What cannot be sent is said in a note beside the socket."""
        connection = self._connection
        try:
            connection._sock.settimeout(timeout)
            while self._bytes:
                self._sent(connection._send(self._bytes))
            if self.lost:
                connection._sock.sendall(_lost(self.lost))
        except OSError:
            # The dashboard is gone, or stopped: what is left goes with the process.  Say how much
            # in a note beside the socket, which the dashboard reads when this connection closes.
            lost_note(connection.path, os.getpid(), self.lost + self._unsent())
        finally:
            self._clear()
            self.lost = 0
            with contextlib.suppress(OSError):
                connection._sock.setblocking(False)

    def _clear(self) -> None:
        self._bytes.clear()
        self._boundary = 0

    def _start(self) -> None:
        if self._flusher is None:
            flusher = threading.Thread(target=self._flush, name="mpviz-flush", daemon=True)
            with contextlib.suppress(RuntimeError):  # (no new thread at the interpreter's end: ``last`` sends it)
                flusher.start()
                self._flusher = flusher

    def _flush(self) -> None:
        """The helper thread: send the backlog as the socket takes it, then end."""
        connection = self._connection
        while True:
            with connection._lock:
                if self.lost and not self._bytes:
                    self._bytes += _lost(self.lost)
                    self.lost = 0
                if not self._bytes:
                    self._flusher = None
                    return
                try:
                    sent = connection._send(self._bytes)
                except BlockingIOError:
                    sent = 0
                except OSError:
                    self._clear()
                    self._flusher = None
                    return
                self._sent(sent)
                sock = connection._sock
            if sent == 0:
                with contextlib.suppress(OSError, ValueError):
                    select.select([], [sock], [], 1.0)

    def _sent(self, n: int) -> None:
        """``n`` bytes went out; where the first whole record starts now."""
        pos = self._boundary
        while pos < n:
            pos += frame_size(self._bytes, pos)
        self._boundary = pos - n
        del self._bytes[:n]

    def _unsent(self) -> int:
        """The records not wholly sent (one begun counts)."""
        return (1 if self._boundary else 0) + frames(self._bytes[self._boundary :])
