"""A TCP server with one process per connection: the tutorial's first program.

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
from typing import TYPE_CHECKING, Any

from mpviz.scenarios.base import Action, Lesson, Param, Run, Verdict
from mpviz.sync import Process, Queue, real_seconds
from mpviz.telemetry import emit, now_ns, report, short

if TYPE_CHECKING:
    from mpviz.model import Model

MAX_LINE = 4096
SUFFIX = " (received)"  # the tutorial appends an insult; a neutral word here
SENT, GOT_REPLY = "sent", "got reply"
TOO_LONG = f"error: line longer than {MAX_LINE} bytes\n".encode()


def answer(line: bytes) -> tuple[str, bytes, bool]:
    """One line (without its newline) as text, its reply, and whether it was valid UTF-8."""
    try:
        text, valid = line.decode("utf-8"), True
    except UnicodeDecodeError:
        text, valid = line.decode("utf-8", errors="replace"), False
    return text, (text + SUFFIX + "\n").encode("utf-8"), valid


def chat(conn: socket.socket, peer: str) -> None:
    """One connection: read lines, answer each, end when the client leaves."""
    report("serving", peer=peer)
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
                report("received", bytes=len(line) + 1, text=short(text))
                if not valid:
                    report("invalid UTF-8 replaced")
                t = now_ns()  # stamped before the reply leaves, so it sorts before the client's receipt
                conn.sendall(reply)  # the tutorial: conn.send((msg + '_sb').encode('utf-8'))
                emit("proc.state", "replied", {"bytes": len(reply)}, t_ns=t)
            if len(pending) > MAX_LINE:
                report("line too long", bytes=len(pending))
                conn.sendall(TOO_LONG)
                pending, skipping = b"", True
    report("client left")


def server(listener: socket.socket) -> None:
    """Accept connections; one process each (the tutorial: Process(target=chat, args=[conn,]).start())."""
    host, port = listener.getsockname()[:2]
    report("listening", address=f"{host}:{port}")
    n = 0
    with listener:
        while True:
            conn, addr = listener.accept()
            peer = f"{addr[0]}:{addr[1]}"
            report("accepted", peer=peer)
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
        report("connected", local=f"{sk.getsockname()[0]}:{sk.getsockname()[1]}")
        replies = sk.makefile("rb")
        sent = 0
        while messages == 0 or sent < messages:
            line = next_line(inbox, every * random.uniform(0.5, 1.5), f"hello {sent} from client {k}")
            if line is None:
                break  # the dashboard closed this client
            data = line.encode("utf-8") + b"\n"
            t = now_ns()
            sk.sendall(data)  # the tutorial: sk.send(inp)
            emit("proc.state", SENT, {"text": short(line), "bytes": len(data)}, t_ns=t)
            reply = replies.readline()
            if not reply:
                report("server closed the connection")
                return
            text = reply.decode("utf-8", errors="replace").rstrip("\n")
            report(GOT_REPLY, text=short(text), bytes=len(reply), matched=text == line.rstrip("\r") + SUFFIX)
            sent += 1
    report("closed")


class Chat(Lesson):
    name = "chat"
    title = "TCP server: one process per connection"
    teaches = "a server process accepts connections and starts a process for each one"
    watch = "each client gets its own connection process; it ends when its client leaves"
    explain = (
        "The server process listens, and for every accepted connection starts a new process "
        "that serves only that client: it reads lines and answers each with a suffix. Clients "
        "are processes too. TCP is a byte stream: a line may arrive in pieces, or several in one "
        "read, so the connection process frames lines itself. Talk to the server yourself with "
        "nc 127.0.0.1 PORT while the lesson runs."
    )
    params = (
        Param("clients", 2, "client processes", 0, 500),
        Param("messages", 3, "lines each client sends before it leaves (0: until closed)", 0, 1_000_000),
        Param("every", 2.0, "seconds between a client's lines", 0.0, 3600),
        Param("port", 0, "the server's port (default: any free one)", 0, 65535),
        Param("host", "127.0.0.1", "the address to listen on (another address only if you ask for it)"),
    )
    actions = (
        Action("c", "add_client", "Add client", "another client connects and starts talking"),
        Action("x", "close_selected", "Close client", "the selected client (or the newest) disconnects", selected=True),
    )

    @classmethod
    def prepare(cls, values: dict[str, Any]) -> dict[str, Any]:
        values = dict(values)
        host, port = values.get("host") or "127.0.0.1", values.get("port", 0)
        try:
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror:
            raise ValueError(f"--host {host!r} is not an address this machine can listen on") from None
        if port:
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
                try:
                    probe.bind((host, port))
                except OSError as exc:
                    what = "is in use" if exc.errno == 98 else f"cannot be used ({exc.strerror})"
                    raise ValueError(f"port {port} on {host} {what}") from None
        values["host"] = host
        return values

    def __init__(self, run: Run, seed: int | None = None, **params: Any) -> None:
        super().__init__(run, seed, **params)
        # Main makes the listening socket and hands it to the server process,
        # so the port is known (and taken) before any client starts.
        host = self.values["host"]
        self.listener = socket.create_server(
            (host, self.values["port"]), family=socket.AF_INET6 if ":" in host else socket.AF_INET
        )
        self.address = self.listener.getsockname()[:2]
        self.inboxes: dict[int, Queue] = {}
        self.clients = 0

    def direct(self) -> None:
        emit("data.value", "server", {"address": f"{self.address[0]}:{self.address[1]}"})
        self.run.start(server, (self.listener,), role="server", label="server")
        self.listener.close()  # the server process has its own copy
        for _ in range(self.values["clients"]):
            self.add_client()

    def add_client(self) -> None:
        k = self.clients
        self.clients += 1
        inbox = Queue(name=f"to client {k}")
        args = (k, self.address, inbox, self.values["messages"], self.values["every"])
        self.inboxes[self.run.start(client, args, role="client", label=f"client {k}")] = inbox

    def send_line(self, pid: int, line: str) -> bool:
        """A line typed in the dashboard, sent through client ``pid``."""
        inbox = self.inboxes.get(pid)
        if inbox is None or not self.run.alive(pid):
            return False
        inbox.put(line)
        return True

    def close_selected(self, selected: int | None = None) -> None:
        live = [pid for pid in self.inboxes if self.run.alive(pid)]
        pid = selected if selected in live else (live[-1] if live else None)
        if pid is not None:
            self.inboxes[pid].put(None)

    def finished(self, model: Model, now_ns: int) -> bool:
        if self.directing or self.values["messages"] == 0:
            return False
        clients = model.by_role("client")
        conns = model.by_role("connection")
        return (
            len(clients) >= self.clients
            and all(not c.alive for c in clients)
            and len(conns) >= len(clients)
            and all(not c.alive for c in conns)
        )

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.close()

    @classmethod
    def judge(cls, model: Model, values: dict[str, Any], now_ns: int, final: bool = False) -> Verdict:
        sent = answered = wrong = 0
        for proc in model.by_role("client"):
            sent += proc.said_count(SENT)
            replies = proc.facts.get(GOT_REPLY)
            if replies is not None:
                answered += replies.count
                wrong += replies.count - replies.trues.get("matched", 0)
        conns = model.by_role("connection")
        opened, closed = len(conns), sum(1 for c in conns if not c.alive)
        text = f"{answered} of {sent} lines answered; {opened} connections opened, {closed} closed"
        if wrong:
            return Verdict(False, f"{text}; {wrong} replies did not match their line: invariant broken")
        if final and answered != sent:
            return Verdict(False, f"{text}: invariant broken")
        return Verdict(True, f"{text}; every line got its own reply: invariant held") if final else Verdict(None, text)
