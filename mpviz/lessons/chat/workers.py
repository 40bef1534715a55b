"""The tutorial's first program: a TCP server with one process per connection.

The server accepts connections and starts a process for each; that process
reads messages and answers each one.  Clients are processes too.  Any TCP
client can talk to it: ``nc 127.0.0.1 PORT`` (line framing, the default), or
the tutorial's own client (``--framing chunk``).

Two framings:

* ``chunk`` — the tutorial's protocol: one ``recv(1024)`` is one message, the
  reply is the message and a suffix, no newline.  TCP is a byte stream, so
  two sends can arrive as one ``recv`` and one long send as two: the
  tutorial does not say so, the panel shows it;
* ``line`` — a message is a line: the connection process frames lines
  itself, however TCP splits or joins them, and refuses oversized ones.

Unlike the tutorial's loop, a connection process ends when its client leaves
(the tutorial's prints an empty line, sends ``'_sb'`` to the closed socket,
prints another and dies with ``BrokenPipeError``), survives invalid UTF-8,
closes a connection silent for ``idle`` seconds, and, when the lesson stops,
says so and ends; the server then refuses connections past its limit and
ends its connections before itself, so that every end is recorded.
"""

from __future__ import annotations

import contextlib
import queue
import random
import signal
import socket
import time
from enum import StrEnum
from multiprocessing.synchronize import Event
from typing import BinaryIO

from mpviz.sync import Process, Queue, real_seconds
from mpviz.telemetry import emit, now_ns, report, short

MAX_LINE = 4096
CHUNK = 1024  # the tutorial's recv(1024)
SUFFIX = " (received)"  # the tutorial appends an insult; a neutral word here
TOO_LONG = f"error: line longer than {MAX_LINE} bytes\n".encode()
FULL = "server full"  # what a connection past --max-connections gets before it is closed
# How long a client waits for the rest of its replies after sending two messages at once.
BURST_WAIT = 1.0


class Said(StrEnum):
    LISTENING = "listening"
    ACCEPTED = "accepted"
    REFUSED = "server full: connection refused"
    STOPPING = "stopping: ends its connections"
    SERVING = "serving"
    RECEIVED = "received"
    INVALID = "invalid UTF-8 replaced"
    REPLIED = "replied"
    TOO_LONG = "line too long"
    CLIENT_LEFT = "client left"
    IDLE = "silent too long: closed"
    STOPPED = "closed: the lesson stops"
    CONNECTED = "connected"
    SENT = "sent"
    GOT_REPLY = "got reply"
    SERVER_FULL = "the server is full"
    SERVER_CLOSED = "server closed the connection"
    CLOSED = "closed"


class Stop:
    """SIGTERM (the lesson stops): remember it and shut ``sock`` down, which ends its blocking call.

    The process then ends by itself and says so, rather than dying in the
    middle of a record.  Once it is ending, SIGTERM is ignored: the
    interpreter's own end gives signals their default action back, and a late
    SIGTERM would kill a process that has already said how it ended.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.requested = False
        self._sock = sock
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        self.requested = True
        self.ending()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def ending() -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def answer(message: bytes, framing: str) -> tuple[str, bytes, bool]:
    """One message as text, its reply, and whether it was valid UTF-8."""
    try:
        text, valid = message.decode("utf-8"), True
    except UnicodeDecodeError:
        text, valid = message.decode("utf-8", errors="replace"), False
    end = "\n" if framing == "line" else ""
    return text, (text + SUFFIX + end).encode("utf-8"), valid


def reply(conn: socket.socket, message: bytes, framing: str, size: int) -> None:
    text, data, valid = answer(message, framing)
    report(Said.RECEIVED, bytes=size, text=short(text))
    if not valid:
        report(Said.INVALID)
    t = now_ns()  # stamped before the reply leaves, so it sorts before the client's receipt
    conn.sendall(data)  # the tutorial: conn.send((msg + '_sb').encode('utf-8'))
    emit("proc.state", Said.REPLIED, {"bytes": len(data)}, t_ns=t)


def serve_chunks(conn: socket.socket) -> None:
    """The tutorial's protocol: whatever one recv(1024) brings is one message."""
    while True:
        data = conn.recv(CHUNK)  # msg = conn.recv(1024).decode('utf-8')
        if not data:
            return  # the client left
        reply(conn, data, "chunk", len(data))


def serve_lines(conn: socket.socket) -> None:
    """Lines, framed here: TCP may split a line or join several in one read."""
    pending = b""
    skipping = False  # inside an oversized line: drop it up to its newline
    while True:
        data = conn.recv(4096)
        if not data:
            return  # the client left
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if skipping:
                skipping = False
                continue
            reply(conn, line.rstrip(b"\r"), "line", len(line) + 1)
        if len(pending) > MAX_LINE:
            report(Said.TOO_LONG, bytes=len(pending))
            conn.sendall(TOO_LONG)
            pending, skipping = b"", True


def chat(conn: socket.socket, peer: str, framing: str, idle: float) -> None:
    """One connection: read messages, answer each, end when the client leaves (or is silent too long)."""
    stop = Stop(conn)
    report(Said.SERVING, peer=peer)
    if idle:
        conn.settimeout(idle)
    ended = Said.CLIENT_LEFT
    with conn:
        try:
            (serve_lines if framing == "line" else serve_chunks)(conn)
        except TimeoutError:
            ended = Said.IDLE
        except OSError:
            if not stop.requested:
                raise
        if stop.requested and ended is Said.CLIENT_LEFT:
            ended = Said.STOPPED  # the stop's shutdown, not the client, ended the loop
    stop.ending()
    report(ended)


def server(listener: socket.socket, ready: Event, framing: str, most: int, idle: float) -> None:
    """Accept connections; one process each (the tutorial: Process(target=chat, args=[conn,]).start())."""
    stop = Stop(listener)
    host, port = listener.getsockname()[:2]
    report(Said.LISTENING, address=f"{host}:{port}")
    ready.set()
    conns: list[Process] = []
    n = 0
    with listener:
        while True:
            try:
                conn, addr = listener.accept()
            except OSError:
                if stop.requested:
                    break
                raise
            peer = f"{addr[0]}:{addr[1]}"
            conns = [p for p in conns if p.is_alive()]
            if len(conns) >= most:
                report(Said.REFUSED, peer=peer)
                with conn, contextlib.suppress(OSError):
                    conn.sendall((FULL + ("\n" if framing == "line" else "")).encode())
                continue
            report(Said.ACCEPTED, peer=peer)
            process = Process(target=chat, args=(conn, peer, framing, idle), role="connection", label=f"conn {n}")
            process.start()
            conn.close()  # the connection process has its own copy
            conns.append(process)
            n += 1
    # The lesson stops: end every connection first, so that each end is recorded.
    live = [p for p in conns if p.is_alive()]
    report(Said.STOPPING, connections=len(live))
    for process in live:
        process.terminate()
    for process in live:
        process.join(5)
    stop.ending()


def next_lines(inbox: Queue, wait: float, default: str) -> list[str] | None:
    """Lines typed in the dashboard if some come within ``wait`` s of lesson time, else ``[default]``."""
    deadline = time.monotonic() + real_seconds(wait)
    while True:
        with contextlib.suppress(queue.Empty):
            return inbox.get_nowait()  # the tutorial reads input('>>>') here
        if time.monotonic() >= deadline:
            return [default]
        time.sleep(0.05)


def receive(sk: socket.socket, replies: BinaryIO | None, lines: list[str], framing: str) -> bytes:
    """The replies to ``lines``: a line each (line framing), or what recv(1024) brings (chunk framing;
    after two messages at once, whatever comes within BURST_WAIT, up to what two replies take)."""
    if framing == "line":
        assert replies is not None
        return b"".join(replies.readline() for _ in lines)
    data = sk.recv(CHUNK)  # msg = sk.recv(1024).decode('utf-8')
    expected = sum(len((line + SUFFIX).encode()) for line in lines)
    if len(lines) > 1 and data:
        sk.settimeout(BURST_WAIT)
        with contextlib.suppress(TimeoutError):
            while len(data) < expected:
                more = sk.recv(CHUNK)
                if not more:
                    break
                data += more
        sk.settimeout(None)
    return data


def client(k: int, address: tuple[str, int], inbox: Queue, messages: int, every: float, framing: str) -> None:
    """Send a message, wait for the reply; lines typed in the dashboard come through ``inbox``."""
    end = b"\n" if framing == "line" else b""
    with socket.create_connection(address) as sk:
        report(Said.CONNECTED, local=f"{sk.getsockname()[0]}:{sk.getsockname()[1]}")
        replies: BinaryIO | None = sk.makefile("rb") if framing == "line" else None
        sent = 0
        while messages == 0 or sent < messages:
            lines = next_lines(inbox, every * random.uniform(0.5, 1.5), f"hello {sent} from client {k}")
            if lines is None:
                break  # the dashboard closed this client
            for line in lines:  # two at once: back to back, without waiting for a reply
                data = line.encode("utf-8") + end
                t = now_ns()
                sk.sendall(data)  # the tutorial: sk.send(inp)
                emit("proc.state", Said.SENT, {"text": short(line), "bytes": len(data)}, t_ns=t)
            got = receive(sk, replies, lines, framing)
            if not got:
                report(Said.SERVER_CLOSED)
                return
            text = got.decode("utf-8", errors="replace").removesuffix("\n")
            if text == FULL:
                report(Said.SERVER_FULL)
                return
            expected = ("\n" if framing == "line" else "").join(line + SUFFIX for line in lines)
            report(Said.GOT_REPLY, text=short(text), bytes=len(got), lines=len(lines), matched=text == expected)
            sent += len(lines)
    report(Said.CLOSED)
