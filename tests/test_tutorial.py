"""Faithful to the tutorial: its Event and Queue basics, its end signal, its races and interleavings named,
its own programs (tests/tutorial/) talking to mpviz."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, load, mpviz, none_alive, prim_id, wait_for
from helpers.dashboard import SIZE, live, until

from mpviz.telemetry import Event
from mpviz.ui.app import make_app
from mpviz.ui.widgets.text_view import TextView

PROGRAMS = ROOT / "tests" / "tutorial"


def run(tmp_path: Path, *args: str) -> tuple[int, str, list[Event]]:
    record = tmp_path / "run.jsonl"
    done = mpviz("run", *args, "--headless", "--record", str(record))
    assert done.stderr == ""
    _, events = load(record)
    assert none_alive({e.pid for e in events if e.kind == "proc.spawn"}), "no lesson process outlives the run"
    return done.returncode, done.stdout, sorted(events, key=lambda e: e.t_ns)


def said(events: list[Event], words: str) -> list[Event]:
    return [e for e in events if e.kind == "proc.state" and e.obj == words]


def role(events: list[Event], name: str) -> set[int]:
    return {e.pid for e in events if e.kind == "proc.spawn" and e.data["role"] == name}


# --- event ------------------------------------------------------------------------


def test_event_runs_the_four_examples_and_names_the_waits_that_never_end(tmp_path: Path) -> None:
    code, out, events = run(tmp_path, "event", "--forever", "1", "--speed", "4")
    assert code == 0, out[-2000:]
    labels = {e.pid: e.data["label"] for e in events if e.kind == "proc.spawn"}
    by_example = {label: [e for e in events if labels.get(e.pid) == label] for label in labels.values()}
    flags = {label: [e.obj for e in got if e.obj.startswith("is_set()")] for label, got in by_example.items()}
    false, true = "is_set() returned False", "is_set() returned True"
    assert flags == {
        "example 1": [false],
        "example 2": [false],
        "example 3": [false, true],
        "example 4": [false, true, false],
    }
    printed = {label: [e.data["text"] for e in got if e.kind == "proc.output"] for label, got in by_example.items()}
    assert printed["example 4"] == ["False", "True", "False"], "each prints is_set() as the tutorial does"
    for label in ("example 2", "example 4"):
        kinds = [e.kind for e in by_example[label]]
        assert "event.wait" in kinds and "event.timeout" in kinds, f"{label} blocked in wait(), then gave up"
        assert said(by_example[label], "wait() would never return: nobody calls set()")
    assert [e.data["waited"] for e in by_example["example 3"] if e.kind == "event.woke"] == [False]
    assert "2 never returned, 0 returned when you set the flag" in out and out.rstrip().endswith("invariant held")


async def test_the_set_key_lets_a_wait_that_would_never_end_return() -> None:
    source = live("event", example=2, forever=3600.0)
    app = make_app(source)
    model = source.model
    try:
        async with app.run_test(size=SIZE) as pilot:
            example = lambda: next(iter(model.by_role("example")), None)  # noqa: E731
            await until(pilot, lambda: (p := example()) is not None and p.waiting_on is not None, what="e.wait()")
            await until(
                pilot,
                lambda: (
                    "it can never return, nobody calls e.set()" in app.screen.query_one("#panel-main", TextView).plain
                ),
                what="the panel to name the wait",
            )
            await pilot.press("t")
            await until(pilot, lambda: not example().alive, what="the example to end")  # type: ignore[union-attr]
            proc = example()
            assert proc is not None and proc.said_count("got past wait(): the line after it runs") == 1
            assert proc.exit_code == 0 and proc.lines == 2, "it printed False, then 1111"
    finally:
        app.close_all()


# --- queue --------------------------------------------------------------------------


def test_queue_shows_each_method_and_a_producer_blocked_while_the_queue_is_full(tmp_path: Path) -> None:
    code, out, events = run(tmp_path, "queue", "--maxsize", "2", "--items", "5", "--every", "0.5", "--speed", "4")
    assert code == 0, out[-2000:]
    for line in (
        "empty() returned True",
        "qsize() returned 0",
        "get_nowait() raised queue.Empty",
        "full() returned True",
        "qsize() returned 2",
        "put_nowait() raised queue.Full",
        "blocked on put: queue 'box' is full",
        "prints: [1, 2, 3]",
    ):
        assert line in out
    box = prim_id(events, "box")
    depth, blocked = 0, []
    for e in events:
        if e.obj == box and e.kind in ("queue.put", "queue.get"):
            depth += 1 if e.kind == "queue.put" else -1
        elif e.obj == box and e.kind == "queue.put_blocked":
            blocked.append(depth)
    # (Only the first: a put that waited is stamped when it began to wait, before the get that made room.)
    assert blocked[:1] == [2], "the producer first waits when two items fill the queue"
    producer = role(events, "producer").pop()
    assert [e.data["item"] for e in events if e.kind == "queue.put" and e.pid == producer] == [
        f"item {i}" for i in range(5)
    ]
    got = [e.data["item"] for e in events if e.kind == "queue.get" and e.pid in role(events, "consumer")]
    assert got == [f"item {i}" for i in range(5)], "first in, first out"
    assert "the producer blocked on put 3 times" in out and out.rstrip().endswith("invariant held")


def test_queue_keys_put_and_get_through_processes_of_their_own() -> None:
    source = live("queue", maxsize=1, items=0)
    source.begin()  # (no screen here to begin it once drawn)
    lesson, model = source.run.lesson, source.model
    try:
        wait_for(lambda: (model.apply(source.read(0.05)), not lesson.directing)[1], 60, what="the scripted part")
        for _ in range(2):
            source.controls.act("put_item")  # the second blocks: maxsize 1
        wait_for(
            lambda: (model.apply(source.read(0.05)), model.prim("box").blocked_put)[1], 60, what="a putter blocked"
        )
        source.controls.act("get_item")
        source.controls.act("get_item")
        wait_for(lambda: (model.apply(source.read(0.05)), model.prim("box").gets == 2)[1], 60, what="both items got")
        assert model.prim("box").put_waits == 1
    finally:
        source.close()


# --- prodcons, printlock, pingpong ------------------------------------------------------------


def test_prodcons_the_producer_puts_the_end_signal(tmp_path: Path) -> None:
    code, out, events = run(tmp_path, "prodcons", "--items", "3", "--speed", "10", "--seed", "2")
    assert code == 0, out
    producer = role(events, "producer").pop()
    assert re.search(r"producer 0 +put 'None' into queue 'buns' \(end signal\)", out)
    pills = [e for e in events if e.kind == "queue.put" and e.data["none"]]
    assert [e.pid for e in pills] == [producer]
    consumer = role(events, "consumer").pop()
    states = [e.obj for e in events if e.pid == consumer and e.kind == "proc.state"]
    assert states == ["eating {item}", "ate {item}"] * 3 + ["done"], "吃 is said after the eating, as printed"
    assert "1 end signal received;" in out


def test_printlock_without_a_lock_names_the_interleaving(tmp_path: Path) -> None:
    code, out, events = run(tmp_path, "printlock", "--mode", "none", "--seed", "2")
    assert code == 1
    assert re.search(
        r"without a lock the lines interleave: worker \d's 'is (running|done)' came between worker \d's two lines: "
        r"invariant broken$",
        out.rstrip(),
    )
    printed = [e.data["text"] for e in events if e.kind == "proc.output"]
    assert len(printed) == 6 and all(re.fullmatch(r"\d : \d+ is (running|done)", line) for line in printed)


def test_pingpong_without_the_sleep_the_child_waits_forever(tmp_path: Path) -> None:
    record = tmp_path / "pp.jsonl"
    done = mpviz("run", "pingpong", "--headless", "--no-sleep", "--rounds", "2", "--record", str(record))
    assert done.returncode == 1
    assert "hang: child 0, child 1 wait forever in q.get(): main took back its own 'hi' (2 rounds)" in done.stdout
    _, events = load(record)
    children = {e.pid for e in events if e.kind == "proc.spawn"}
    assert none_alive(children)
    # Main may wait a moment too (its own put is still with the queue's feeder thread): the
    # children are the ones that wait, for good.
    blocked = {e.pid for e in events if e.kind == "queue.get_blocked"}
    assert children <= blocked, "spawn: main takes its 'hi' before either child is up, both wait"


# --- chat -------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mpviz", "run", "chat", "--headless", "--clients", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def expect(server: subprocess.Popen[str], pattern: str) -> None:
    """Read the server's lines until one says ``pattern``."""
    assert server.stdout is not None
    for line in server.stdout:
        if re.search(pattern, line):
            return
    raise AssertionError(f"the server ended before it said {pattern!r}")


def listening(server: subprocess.Popen[str]) -> None:
    """Until the server listens (no connection of the test's own to find out)."""
    expect(server, r"server +listening")


def test_the_tutorials_own_client_gets_its_replies(tmp_path: Path) -> None:
    port = free_port()
    record = tmp_path / "chat.jsonl"
    server = serve("--framing", "chunk", "--port", str(port), "--duration", "60", "--record", str(record))
    try:
        listening(server)
        client = subprocess.run(
            [sys.executable, str(PROGRAMS / "chat_client.py"), str(port)],
            input="hello\n你好\n",
            capture_output=True,
            text=True,
            timeout=60,
        )
        # It sends input() lines until its stdin ends (EOFError, as the tutorial's loop has no other way out).
        assert client.stdout.split(">>>")[1:3] == ["hello (received)\n", "你好 (received)\n"]
    finally:
        server.send_signal(2)
        out, _ = server.communicate(timeout=60)
    assert "2 of 2 messages from other clients answered" in out
    assert "0.0 s" not in out.splitlines()[-2], "with --clients 0 the server stays up until stopped"
    _, events = load(record)
    replies = [e.data["bytes"] for e in events if e.kind == "proc.state" and e.obj == "replied"]
    assert replies == [len(b"hello (received)"), len("你好 (received)".encode())], "no newline added"


def test_chunk_framing_one_long_send_is_two_recvs() -> None:
    port = free_port()
    server = serve("--framing", "chunk", "--port", str(port), "--duration", "60")
    try:
        listening(server)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"x" * 1500)
            data = b""
            while data.count(b" (received)") < 2:
                chunk = sock.recv(4096)
                assert chunk, "the connection closed early"
                data += chunk
        assert data == b"x" * 1024 + b" (received)" + b"x" * 476 + b" (received)"
    finally:
        server.send_signal(2)
        server.communicate(timeout=60)


def test_past_max_connections_a_client_gets_server_full(tmp_path: Path) -> None:
    port = free_port()
    record = tmp_path / "chat.jsonl"
    server = serve("--port", str(port), "--max-connections", "2", "--duration", "60", "--record", str(record))
    try:
        listening(server)
        kept = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(2)]
        for sock in kept:  # each served: an answer proves its process is up
            sock.sendall(b"hi\n")
            assert sock.recv(100) == b"hi (received)\n"
        with socket.create_connection(("127.0.0.1", port), timeout=30) as third:
            assert third.makefile("rb").read() == b"server full\n", "one line, then closed"
        for sock in kept:
            sock.close()
    finally:
        server.send_signal(2)
        out, _ = server.communicate(timeout=60)
    assert "1 refused: server full" in out
    _, events = load(record)
    assert len([e for e in events if e.obj == "server full: connection refused"]) == 1


def test_a_silent_connection_is_closed_after_the_idle_timeout(tmp_path: Path) -> None:
    port = free_port()
    server = serve("--port", str(port), "--idle-timeout", "0.5", "--duration", "60")
    try:
        listening(server)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            assert sock.recv(100) == b"", "the server closes it"
        expect(server, r"conn 0 +silent too long: closed")
    finally:
        server.send_signal(2)
        out, _ = server.communicate(timeout=60)
    assert "1 connection opened" in out


def test_at_stop_every_connections_end_is_recorded(tmp_path: Path) -> None:
    port = free_port()
    record = tmp_path / "chat.jsonl"
    server = serve("--port", str(port), "--duration", "60", "--record", str(record))
    socks: list[socket.socket] = []
    try:
        listening(server)
        for _ in range(8):
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            sock.sendall(b"hi\n")
            assert sock.recv(100) == b"hi (received)\n"
            socks.append(sock)
        server.send_signal(2)  # SIGINT, with eight connections open
        server.communicate(timeout=60)
    finally:
        for sock in socks:
            sock.close()
        if server.poll() is None:
            server.kill()
    _, events = load(record)
    conns = {e.pid for e in events if e.kind == "proc.spawn" and e.data["role"] == "connection"}
    ended = {e.pid for e in events if e.kind == "proc.exit"}
    assert len(conns) == 8 and conns <= ended, "every connection opened is closed, and recorded"
    assert len([e for e in events if e.obj == "closed: the lesson stops"]) == 8
    assert none_alive(conns)


def test_the_server_listens_before_its_first_client_connects(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "chat", "--clients", "2", "--messages", "1", "--every", "0.05")
    assert code == 0
    lines = out.splitlines()
    listening = next(i for i, line in enumerate(lines) if re.search(r"server +listening", line))
    connected = next(i for i, line in enumerate(lines) if re.search(r"client \d +connected", line))
    assert listening < connected
