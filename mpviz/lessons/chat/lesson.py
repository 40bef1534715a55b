"""The chat lesson: a server, a process per connection, clients you can add, close and type through."""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from mpviz.lessons.base import Action, Lesson, Param, Run, Sample, Shot, Verdict, count
from mpviz.lessons.chat.workers import Said, client, server
from mpviz.model import Model
from mpviz.sync import Queue
from mpviz.telemetry import emit


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
    facts = {"address": str}
    quick = ("--clients", "3", "--messages", "3", "--every", "0.05", "--seed", "5")
    busy = ("--clients", "10", "--messages", "0", "--every", "0.05")
    samples = (
        Sample(
            "chat",
            {"clients": 3, "messages": 3, "every": 1.0},
            seed=5,
            shots=(Shot("chat", 2.5, "chat: a server, a process per connection, three clients"),),
        ),
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

    def send_line(self, selected: int | None, line: str) -> None:
        """A line typed in the dashboard, sent through the selected client, or the first one alive."""
        live = [pid for pid in self.inboxes if self.run.alive(pid)]
        if not live:
            raise ValueError("no client is connected: press c to add one")
        self.inboxes[selected if selected in live else live[0]].put(line)

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
            sent += proc.said_count(Said.SENT)
            replies = proc.facts.get(Said.GOT_REPLY)
            if replies is not None:
                answered += replies.count
                wrong += replies.count - replies.trues.get("matched", 0)
        conns = model.by_role("connection")
        opened, closed = len(conns), sum(1 for c in conns if not c.alive)
        text = f"{answered} of {count(sent, 'line')} answered; {count(opened, 'connection')} opened, {closed} closed"
        if wrong:
            return Verdict(
                False, f"{text}; {count(wrong, 'reply', 'replies')} did not match their line: invariant broken"
            )
        if final and answered != sent:
            return Verdict(False, f"{text}: invariant broken")
        return Verdict(True, f"{text}; every line got its own reply: invariant held") if final else Verdict(None, text)


LESSON = Chat
