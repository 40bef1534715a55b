"""The tutorial's first program: a TCP server with one process per connection.

The server accepts connections and starts a process for each; that process
reads lines and answers each one.  Clients are processes too.  Unlike the
tutorial's loop, a connection process ends when its client leaves, frames
lines itself (TCP may split or join them), survives invalid UTF-8 and refuses
oversized lines.  Any TCP client (``nc 127.0.0.1 PORT``) can talk to it.
"""

from __future__ import annotations

import contextlib
import queue
import random
import socket
import time
from enum import StrEnum

from mpviz.sync import Process, Queue, real_seconds
from mpviz.telemetry import emit, now_ns, report, short

MAX_LINE = 4096
SUFFIX = " (received)"  # the tutorial appends an insult; a neutral word here
TOO_LONG = f"error: line longer than {MAX_LINE} bytes\n".encode()


class Said(StrEnum):
    LISTENING = "listening"
    ACCEPTED = "accepted"
    SERVING = "serving"
    RECEIVED = "received"
    INVALID = "invalid UTF-8 replaced"
    REPLIED = "replied"
    TOO_LONG = "line too long"
    CLIENT_LEFT = "client left"
    CONNECTED = "connected"
    SENT = "sent"
    GOT_REPLY = "got reply"
    SERVER_CLOSED = "server closed the connection"
    CLOSED = "closed"


def answer(line: bytes) -> tuple[str, bytes, bool]:
    """One line (without its newline) as text, its reply, and whether it was valid UTF-8."""
    try:
        text, valid = line.decode("utf-8"), True
    except UnicodeDecodeError:
        text, valid = line.decode("utf-8", errors="replace"), False
    return text, (text + SUFFIX + "\n").encode("utf-8"), valid


def chat(conn: socket.socket, peer: str) -> None:
    """One connection: read lines, answer each, end when the client leaves."""
    report(Said.SERVING, peer=peer)
    pending = b""
    skipping = False  # inside an oversized line: drop it up to its newline
    with conn:
        while True:
            data = conn.recv(4096)  # the tutorial: msg = conn.recv(1024).decode('utf-8')
            if not data:
                break  # the client left: the tutorial's loop would spin here forever
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if skipping:
                    skipping = False
                    continue
                text, reply, valid = answer(line.rstrip(b"\r"))
                report(Said.RECEIVED, bytes=len(line) + 1, text=short(text))
                if not valid:
                    report(Said.INVALID)
                t = now_ns()  # stamped before the reply leaves, so it sorts before the client's receipt
                conn.sendall(reply)  # the tutorial: conn.send((msg + '_sb').encode('utf-8'))
                emit("proc.state", Said.REPLIED, {"bytes": len(reply)}, t_ns=t)
            if len(pending) > MAX_LINE:
                report(Said.TOO_LONG, bytes=len(pending))
                conn.sendall(TOO_LONG)
                pending, skipping = b"", True
    report(Said.CLIENT_LEFT)


def server(listener: socket.socket) -> None:
    """Accept connections; one process each (the tutorial: Process(target=chat, args=[conn,]).start())."""
    host, port = listener.getsockname()[:2]
    report(Said.LISTENING, address=f"{host}:{port}")
    n = 0
    with listener:
        while True:
            conn, addr = listener.accept()
            peer = f"{addr[0]}:{addr[1]}"
            report(Said.ACCEPTED, peer=peer)
            Process(target=chat, args=(conn, peer), role="connection", label=f"conn {n}").start()
            conn.close()  # the connection process has its own copy
            n += 1


def next_line(inbox: Queue, wait: float, default: str) -> str | None:
    """A line typed in the dashboard if one comes within ``wait`` s of lesson time, else ``default``."""
    deadline = time.monotonic() + real_seconds(wait)
    while True:
        with contextlib.suppress(queue.Empty):
            return inbox.get_nowait()  # the tutorial reads input('>>>') here
        if time.monotonic() >= deadline:
            return default
        time.sleep(0.05)


def client(k: int, address: tuple[str, int], inbox: Queue, messages: int, every: float) -> None:
    """Send a line, wait for the reply; lines typed in the dashboard come through ``inbox``."""
    with socket.create_connection(address) as sk:
        report(Said.CONNECTED, local=f"{sk.getsockname()[0]}:{sk.getsockname()[1]}")
        replies = sk.makefile("rb")
        sent = 0
        while messages == 0 or sent < messages:
            line = next_line(inbox, every * random.uniform(0.5, 1.5), f"hello {sent} from client {k}")
            if line is None:
                break  # the dashboard closed this client
            data = line.encode("utf-8") + b"\n"
            t = now_ns()
            sk.sendall(data)  # the tutorial: sk.send(inp)
            emit("proc.state", Said.SENT, {"text": short(line), "bytes": len(data)}, t_ns=t)
            reply = replies.readline()
            if not reply:
                report(Said.SERVER_CLOSED)
                return
            text = reply.decode("utf-8", errors="replace").rstrip("\n")
            report(Said.GOT_REPLY, text=short(text), bytes=len(reply), matched=text == line.rstrip("\r") + SUFFIX)
            sent += 1
    report(Said.CLOSED)
