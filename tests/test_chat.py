"""chat and pingpong: a real TCP server with a process per connection; Queue and Pipe both ways."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import load, mpviz, none_alive, wait_for

from mpviz.lessons.chat.lesson import SERVE_IDLE, SERVE_VISIT, Chat
from mpviz.lessons.chat.workers import MAX_LINE, SUFFIX
from mpviz.runtime import Supervisor
from mpviz.telemetry import Event


class Running:
    """The chat lesson with no clients of its own: the test is the client."""

    def __init__(self, **params: object) -> None:
        self.sup = Supervisor(sample_every=None)
        values = {"clients": 0, "messages": 0, "every": 1.0, "port": 0, "host": "127.0.0.1", **params}
        self.lesson = Chat(self.sup, **Chat.prepare(values))
        self.sup.run(self.lesson)
        self.events: list[Event] = []

    def pump(self) -> list[Event]:
        self.events += self.sup.channels.read(0.05)
        return self.events

    def until(self, condition, what: str, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
        wait_for(lambda: (self.pump(), condition())[1], timeout, what=what)

    def said(self, words: str) -> list[Event]:
        return [e for e in self.pump() if e.kind == "proc.state" and e.obj == words]

    def connect(self) -> socket.socket:
        return socket.create_connection(self.lesson.address, timeout=30)


@pytest.fixture
def chat() -> Iterator[Running]:
    running = Running()
    yield running
    running.sup.close()


def line(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        assert chunk, "the connection closed early"
        data += chunk
    return data


def test_a_plain_tcp_client_is_answered_and_its_leaving_ends_its_process(chat: Running) -> None:
    with chat.connect() as sock:
        sock.sendall("nǐ hǎo\n".encode())
        assert line(sock) == f"nǐ hǎo{SUFFIX}\n".encode()
    chat.until(lambda: chat.said("client left"), "the connection process to see the client leave")
    conn = chat.said("client left")[0].pid
    chat.until(lambda: any(e.kind == "proc.exit" and e.pid == conn for e in chat.events), "it to exit")
    spawned = [e for e in chat.events if e.kind == "proc.spawn" and e.pid == conn]
    assert spawned[0].data["role"] == "connection"
    assert spawned[0].data["ppid"] != chat.sup.pid, "started by the server process, one per connection"


def test_lines_split_across_segments_or_joined_in_one_are_framed(chat: Running) -> None:
    with chat.connect() as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in (b"hel", b"lo w", b"orld\n"):
            sock.sendall(piece)
            time.sleep(0.05)
        assert line(sock) == f"hello world{SUFFIX}\n".encode()
        sock.sendall(b"one\ntwo\nthree\n")
        assert [line(sock) for _ in range(3)] == [f"{w}{SUFFIX}\n".encode() for w in ("one", "two", "three")]


def test_invalid_utf8_is_replaced_and_the_connection_keeps_working(chat: Running) -> None:
    with chat.connect() as sock:
        sock.sendall(b"caf\xe9 \xff\n")
        assert line(sock) == f"caf\ufffd \ufffd{SUFFIX}\n".encode()
        sock.sendall(b"still here\n")
        assert line(sock) == f"still here{SUFFIX}\n".encode()
    chat.until(lambda: chat.said("invalid UTF-8 replaced"), "the replacement to be reported")


def test_an_oversized_line_gets_an_error_and_the_connection_survives(chat: Running) -> None:
    with chat.connect() as sock:
        sock.sendall(b"x" * (MAX_LINE * 3) + b"\n")
        assert line(sock) == f"error: line longer than {MAX_LINE} bytes\n".encode()
        sock.sendall(b"short\n")
        assert line(sock) == f"short{SUFFIX}\n".encode()


def test_a_hundred_concurrent_clients_are_all_answered() -> None:
    chat = Running(max_connections=100)
    try:
        hundred(chat)
    finally:
        chat.sup.close()


def hundred(chat: Running) -> None:
    socks = [chat.connect() for _ in range(100)]
    try:
        for i, sock in enumerate(socks):
            sock.sendall(f"client {i}\n".encode())
        for i, sock in enumerate(socks):
            assert line(sock) == f"client {i}{SUFFIX}\n".encode()
    finally:
        for sock in socks:
            sock.close()
    chat.until(lambda: len(chat.said("client left")) == 100, "every connection process to end", timeout=120)
    conns = {e.pid for e in chat.events if e.kind == "proc.spawn" and e.data["role"] == "connection"}
    assert len(conns) == 100
    chat.until(lambda: conns <= {e.pid for e in chat.events if e.kind == "proc.exit"}, "their exits", timeout=120)


def test_headless_clients_each_get_their_own_replies(tmp_path: Path) -> None:
    record = tmp_path / "chat.jsonl"
    done = mpviz(
        "run", "chat", "--headless", "--clients", "3", "--messages", "3", "--every", "0.2", "--record", str(record)
    )
    assert done.returncode == 0, done.stdout
    _, events = load(record)
    assert none_alive({e.pid for e in events if e.kind == "proc.spawn"})
    for client in {e.pid for e in events if e.kind == "proc.spawn" and e.data["role"] == "client"}:
        sent = [e.data["text"] for e in events if e.pid == client and e.obj == "sent"]
        got = [e.data["text"] for e in events if e.pid == client and e.obj == "got reply"]
        assert len(sent) == 3 and got == [s + SUFFIX for s in sent]
    assert (
        "9 of 9 lines answered; 3 connections opened, 3 closed; every line got its own reply: invariant held"
        in done.stdout
    )


def test_a_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = mpviz("run", "chat", "--headless", "--port", str(port))
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr == f"mpviz: error: port {port} on 127.0.0.1 is in use\n"
        done = mpviz("run", "chat", "--headless", "--host", "no such host.invalid")
        assert done.returncode == 2 and done.stderr.startswith("mpviz: error: --host 'no such host.invalid'")


def _pingpong(tmp_path: Path, *args: str) -> tuple[int, str, list[Event]]:
    record = tmp_path / "pp.jsonl"
    done = mpviz("run", "pingpong", "--headless", "--rounds", "3", "--record", str(record), *args)
    _, events = load(record)
    assert none_alive({e.pid for e in events if e.kind == "proc.spawn"})
    return done.returncode, done.stdout, sorted(events, key=lambda e: e.t_ns)


def test_pingpong_with_the_sleep_main_gets_the_childs_hello(tmp_path: Path) -> None:
    # Under fork, as in the tutorial: the child is up within milliseconds, well inside main's 0.5 s
    # (under spawn on a loaded machine a new interpreter can take longer, and the race is real).
    code, out, events = _pingpong(tmp_path, "--start-method", "fork")
    main = next(e.pid for e in events if e.kind == "proc.start" and e.obj == "main")
    assert [e.data["item"] for e in events if e.kind == "queue.get" and e.pid == main] == ["hello"] * 3
    assert code == 0 and "3 exchanges over the queue; main always got the child's 'hello': invariant held" in out


def test_pingpong_without_the_sleep_main_takes_its_own_hi(tmp_path: Path) -> None:
    code, out, events = _pingpong(tmp_path, "--no-sleep", "--recover")
    main = next(e.pid for e in events if e.kind == "proc.start" and e.obj == "main")
    own = [e for e in events if e.kind == "queue.get" and e.pid == main and e.data["item"] == "hi"]
    assert own, "with spawn, the child is not even up when main gets: main takes 'hi' back"
    # --recover: main puts it back and waits; every exchange ends, the race is still named.
    assert [e.data["item"] for e in events if e.kind == "queue.get" and e.pid == main][-1] == "hello"
    assert code == 1 and "main took back its own 'hi' (it put it back and waited for the child)" in out


def test_pingpong_over_a_pipe_has_no_race(tmp_path: Path) -> None:
    code, out, events = _pingpong(tmp_path, "--mode", "pipe", "--no-sleep")
    main = next(e.pid for e in events if e.kind == "proc.start" and e.obj == "main")
    assert [e.data["item"] for e in events if e.kind == "pipe.recv" and e.pid == main] == ["hello"] * 3
    assert code == 0 and "3 exchanges over the pipe" in out


def test_a_visitors_chat_closes_silent_connections_and_every_chat_has_a_connection_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under ``mpviz serve`` a silent client must not keep its process for ever; on the command
    line the tutorial's spirit holds (no timeout) unless asked. Both have a connection limit."""
    defaults = {p.name: p.default for p in Chat.params}
    monkeypatch.delenv(SERVE_VISIT, raising=False)
    plain = Chat.prepare(defaults)
    assert plain["idle_timeout"] == 0 and plain["max_connections"] == 64
    monkeypatch.setenv(SERVE_VISIT, "1")
    visit = Chat.prepare(defaults)
    assert visit["idle_timeout"] == SERVE_IDLE and visit["max_connections"] == 64
    asked = Chat.prepare(defaults | {"idle_timeout": 5.0})
    assert asked["idle_timeout"] == 5.0, "a timeout the visitor asked for wins"
