"""What a watched program prints while the dashboard still loads, read as it comes.

A program started early (headless: :class:`mpviz.runtime.program.Early`)
runs while mpviz's modules load; a short one may be over before the channels
read anything.  Its records wait meanwhile and lose nothing: each carries its
own time (a ring's, a socket's).  A printed line does not: it is stamped when
it is read from its pipe.  Read all at once at the end, main's lines and a
child's would be stamped in the order their pipes are read, not the order
they were written (a child's line, then main's after its ``join()``, came out
main's first).

So a thread reads them from the start: it accepts the processes'
connections, takes each one's first message (its pipes and its ring, as
:meth:`Channels._read_connection` would) and reads the pipes, each chunk
stamped before it is read.  The channels take all of it over at their first
read (:meth:`EarlyReader.stop`): the connections, the first messages, the
chunks with their times.  Nothing else is read here: the records stay where
they wait, in the rings and the sockets.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import threading

from mpviz.runtime.printed import readable_stream
from mpviz.runtime.trust import connection_limit
from mpviz.telemetry import now_ns
from mpviz.telemetry.wire import Splitter

READ_CHUNK = 1 << 16
# What is read of one pipe here at most; the rest waits in the pipe for the channels.
MAX_HELD = 1 << 20


# Plain classes, not dataclasses: dataclasses imports inspect (ast, dis, tokenize), ~7 ms paid
# before a watched program started headless can start.


class Pipe:
    """A process's stdout or stderr read so far: its chunks with when each was read."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.chunks: list[tuple[int, bytes]] = []
        self.held = 0
        self.ended = False  # every writer has closed it


class Taken:
    """A connection accepted here, and its first message if it came (with its descriptors)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.chunk: bytes | None = None
        self.fds: list[int] = []
        self.pipes: list[Pipe] = []


def _streams(chunk: bytes, fds: list[int]) -> list[int]:
    """The descriptors of a first message that are the process's streams (the first ones, as many
    as its ``proc.stdio`` names: see ``Channels._add_ring``)."""
    events = Splitter().feed(chunk)
    if not events or events[0].kind != "proc.stdio":
        return []
    streams = events[0].data.get("streams", ())
    n = len(streams) if isinstance(streams, list | tuple) else 0
    return [fd for fd in fds[:n] if readable_stream(fd)]


class EarlyReader:
    """A thread reading the processes' pipes from the moment the door exists until :meth:`stop`."""

    def __init__(self, listener: socket.socket) -> None:
        self._listener = listener
        self._selector = selectors.DefaultSelector()
        self._selector.register(listener, selectors.EVENT_READ, None)
        self._stop_r, self._stop_w = os.pipe()
        self._selector.register(self._stop_r, selectors.EVENT_READ, self._stop_r)
        self.taken: list[Taken] = []  # in the order they were accepted
        # No more than the channels would hold: a program opening connections by the hundred
        # must not take the descriptors mpviz needs to load (the channels refuse the rest).
        self._limit = connection_limit()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="mpviz-early-lines", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            for key, _ in self._selector.select():
                data = key.data
                if data is self._stop_r:
                    return
                if data is None:
                    self._accept()
                elif isinstance(data, Taken):
                    self._first(data)
                else:
                    self._read(data)

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except BlockingIOError:
                return
            except OSError:  # out of descriptors: the channels accept the rest
                self._selector.unregister(self._listener)
                return
            sock.setblocking(False)
            taken = Taken(sock)
            self.taken.append(taken)
            self._selector.register(sock, selectors.EVENT_READ, taken)
            if len(self.taken) >= self._limit:
                self._selector.unregister(self._listener)  # the channels accept the rest
                return

    def _first(self, taken: Taken) -> None:
        """A connection's first message: its descriptors kept, its pipes read from now on."""
        try:
            chunk, fds, _, _ = socket.recv_fds(taken.sock, READ_CHUNK, 3)  # stdout, stderr, the ring
        except BlockingIOError:
            return
        except OSError:
            chunk, fds = b"", []
        self._selector.unregister(taken.sock)  # the rest of it is the channels' to read
        taken.chunk, taken.fds = chunk, list(fds)
        for fd in _streams(chunk, taken.fds):
            os.set_blocking(fd, False)
            pipe = Pipe(fd)
            taken.pipes.append(pipe)
            self._selector.register(fd, selectors.EVENT_READ, pipe)

    def _read(self, pipe: Pipe) -> None:
        now = now_ns()  # before the read, as the channels stamp a line
        try:
            chunk = os.read(pipe.fd, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if chunk:
            pipe.chunks.append((now, chunk))
            pipe.held += len(chunk)
        else:
            pipe.ended = True
        if not chunk or pipe.held >= MAX_HELD:
            self._selector.unregister(pipe.fd)

    def stop(self) -> list[Taken]:
        """The thread ended; what it took, handed over (sockets and descriptors are the caller's)."""
        if self._stopped:
            return []
        self._stopped = True
        if self._thread.is_alive():
            with contextlib.suppress(OSError):
                os.write(self._stop_w, b"x")
            self._thread.join()
        self._selector.close()
        os.close(self._stop_r)
        os.close(self._stop_w)
        return self.taken

    def close(self) -> None:
        """Stopped, and everything it took closed (the run never took it over)."""
        for taken in self.stop():
            taken.sock.close()
            for fd in taken.fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
