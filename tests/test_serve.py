"""``mpviz serve`` without a browser: its options, its address, and how a visit's processes are ended."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from conftest import mpviz, none_alive, wait_for
from helpers.browser import Serve

from mpviz.serve.visits import VISIT_MARK, dashboard_command, end_visits, visit_processes

BAD = [
    (["--max-visitors", "0"], "argument --max-visitors: must be at least 1, not 0"),
    (["--max-visitors", "abc"], "argument --max-visitors: must be a whole number, not 'abc'"),
    (["--max-visitors", "1.5"], "argument --max-visitors: must be a whole number, not '1.5'"),
    (["--idle-timeout", "0"], "argument --idle-timeout: must be at least 1, not 0"),
    (["--idle-timeout", "soon"], "argument --idle-timeout: must be a whole number, not 'soon'"),
    (["--port", "65536"], "argument --port: must be at most 65535, not 65536"),
    (["--port", "-1"], "argument --port: must be at least 0, not -1"),
    (["--lang", "fr"], "argument --lang: must be one of en, zh, not 'fr'"),
    (["--host", "256.1.1.1"], "--host '256.1.1.1' is not an address this machine can listen on"),
    (["--host", "8.8.8.8", "--port", "7"], "port 7 on 8.8.8.8 cannot be used (Cannot assign requested address)"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_options_get_one_line_and_exit_2(args: list[str], message: str) -> None:
    done = mpviz("serve", *args, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"mpviz: error: {message}") and done.stderr.count("\n") == 1, done.stderr


def test_a_port_in_use() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = mpviz("serve", "--port", str(port), timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"mpviz: error: port {port} on 127.0.0.1 is in use\n"


def test_it_listens_on_this_machine_only_unless_asked_and_then_warns(tmp_path: Path) -> None:
    local = Serve(tmp_path)
    assert local.url.startswith("http://127.0.0.1:")
    assert local.stop() == 0
    assert "warning" not in local.err.read_text()

    anyone = Serve(tmp_path, "--host", "0.0.0.0")
    anyone.proc.send_signal(signal.SIGINT)  # Ctrl+C
    assert anyone.proc.wait(60) == 0
    assert anyone.err.read_text().splitlines()[0] == (
        "mpviz: warning: listening on 0.0.0.0: anyone who reaches it can start processes on this machine"
    )


def test_the_dashboard_command_carries_the_language_and_the_args_after_double_dash() -> None:
    pdeathsig = ["setpriv", "--pdeathsig", "TERM", "--"]  # util-linux: on every Debian
    assert shlex.split(dashboard_command("en", [])) == ["exec", *pdeathsig, sys.executable, "-m", "mpviz"]
    command = shlex.split(dashboard_command("zh", ["my prog.py", "--n", "3"]))
    assert command == ["exec", *pdeathsig, sys.executable, "-m", "mpviz", "--lang", "zh", "my prog.py", "--n", "3"]


# A visit's dashboard as the sweep meets it: it ignores SIGTERM, starts a child
# with an empty environment (no mark: found through the tree), and a grandchild
# whose parent exits at once (adopted by init: found by its mark).
TREE = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
bare = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], env={})
middle = subprocess.run(
    [sys.executable, "-c",
     "import subprocess, sys; print(subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'],"
     " stdout=subprocess.DEVNULL).pid)"],
    stdout=subprocess.PIPE, text=True,
)
print(os.getpid(), bare.pid, middle.stdout.strip(), flush=True)
time.sleep(600)
"""


@pytest.mark.timeout(60)
def test_ending_a_visit_ends_its_tree_its_orphans_and_a_dashboard_that_ignores_sigterm() -> None:
    mark = f"test.{os.getpid()}"
    root = subprocess.Popen(
        [sys.executable, "-c", TREE], stdout=subprocess.PIPE, text=True, env={**os.environ, VISIT_MARK: mark}
    )
    try:
        _, bare, orphan = pids = [int(pid) for pid in root.stdout.readline().split()]
        assert VISIT_MARK not in psutil.Process(bare).environ()
        assert psutil.Process(orphan).ppid() not in pids  # its parent is gone: not in the visit's tree
        found = {p.pid for p in visit_processes(lambda m: m == mark)}
        assert set(pids) <= found
        assert end_visits(lambda m: m == mark, grace=0.5) == []
        root.wait(30)
        wait_for(lambda: none_alive(set(pids)), 10, what="every process of the visit gone")
        assert not visit_processes(lambda m: m == mark)
    finally:  # whatever failed above, nothing of this test outlives it
        end_visits(lambda m: m == mark, grace=0)
        root.wait(30)


# --- issue 24: a visitor cannot make the server lie, stall or take the machine ------------------------


def test_a_dashboard_that_would_not_open_is_refused_before_listening() -> None:
    """Before: ``serve -- nosuchlesson`` started, and every visitor got a dashboard that failed."""
    done = mpviz("serve", "--", "nosuchlesson", timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "mpviz: error: -- nosuchlesson: no lesson or file 'nosuchlesson'\n"
    done = mpviz("serve", "--", "ktv", "--rooms", "0", timeout=60)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--rooms: must be at least 1" in done.stderr


async def _visit(url: str, width: int = 80, height: int = 24, **kw: object):  # type: ignore[no-untyped-def]
    import aiohttp

    session = aiohttp.ClientSession()
    ws = await session.ws_connect(f"{url.replace('http', 'ws')}ws?width={width}&height={height}", **kw)
    return session, ws


async def _screen_bytes(ws, *until: bytes, timeout: float = 90) -> bytes:  # type: ignore[no-untyped-def]
    """What the dashboard sent the page, until each of ``until`` is in it (a screen comes in
    pieces: one text may be drawn in a later piece than another shown with it)."""
    import asyncio

    got = b""
    deadline = asyncio.get_running_loop().time() + timeout
    while not all(text in got for text in until):
        left = deadline - asyncio.get_running_loop().time()
        assert left > 0, f"{[text for text in until if text not in got]!r} never came"
        message = await ws.receive(timeout=left)
        if isinstance(message.data, bytes):
            got += message.data
        elif isinstance(message.data, str):
            got += message.data.encode()
        else:
            raise AssertionError(f"the page was closed: {message}")
    return got


def _index_status(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as page:
            return int(page.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


async def test_a_visitor_gone_mid_send_frees_their_place(tmp_path: Path) -> None:
    """A page asking for a 3000×3000 terminal, whose client gives up on the messages (too big: 1009).
    Before: a ConnectionError ended the visit's ending half way, its place never freed: after two
    such visitors, ``--max-visitors 2`` answered 503 for ever."""
    import asyncio

    import aiohttp

    server = Serve(tmp_path, "--max-visitors", "2", "--", "ktv", "--groups", "1")
    try:
        for _ in range(2):
            session, ws = await _visit(server.url, 3000, 3000, max_msg_size=4096)
            async with session:
                # The screen, too big for this client: it closes (1009) while the server sends.
                while (await ws.receive(timeout=60)).type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT):
                    pass
        await asyncio.to_thread(wait_for, lambda: _index_status(server.url) == 200, 90, 0.5, "a free place")
        assert "Traceback" not in server.err.read_text()
    finally:
        server.close()


async def test_a_visitor_cannot_start_more_processes_than_allowed(tmp_path: Path) -> None:
    """One visitor pressing ``a`` twenty times.  Before: a process for each (157 processes and 1.6 GB
    for 150 presses)."""
    server = Serve(tmp_path, "--max-processes", "4", "--", "ktv", "--groups", "1", "--speed", "0.01")
    try:
        session, ws = await _visit(server.url, 120, 40)
        async with session:
            await _screen_bytes(ws, b"group 0")
            for _ in range(20):
                await ws.send_json(["stdin", "a"])
            await _screen_bytes(ws, b"no more started", b"at most 4 processes")
            lessons = [p for p in server.processes() if "spawn_main" in " ".join(p.cmdline())]
            assert len(lessons) <= 4, lessons
    finally:
        server.close()


@pytest.mark.parametrize(
    "message",
    ['["stdin", 5]', "[" * 100_000 + "]" * 100_000, '{"stdin": "a"}', '["resize", "big"]'],
    ids=["stdin of a number", "nested 100 000 deep", "not a list", "a size in words"],
)
async def test_a_page_that_sends_nonsense_is_one_line_in_the_log(tmp_path: Path, message: str) -> None:
    """Before: a traceback in the server's log (``["stdin", 5]``, JSON nested 100 000 deep)."""
    import asyncio

    server = Serve(tmp_path, "--", "ktv", "--groups", "1")
    try:
        session, ws = await _visit(server.url)
        async with session:
            await _screen_bytes(ws, b"group 0")
            await ws.send_str(message)
            closed = await ws.receive(timeout=60)
            while isinstance(closed.data, (bytes, str)) and closed.data:
                closed = await ws.receive(timeout=60)
        log = await asyncio.to_thread(
            wait_for, lambda: "left" in server.err.read_text() and server.err.read_text(), 60, 0.2, "the visit's end"
        )
        assert "Traceback" not in log
        assert sum("never sends" in line for line in log.splitlines()) == 1, log
    finally:
        server.close()


def test_connections_that_send_nothing_do_not_keep_the_page_away(tmp_path: Path) -> None:
    """300 connections that never send a request, under a limit of 200 descriptors.  Before: the
    server ran out of descriptors and the page never came (it also spun at 42 % of a core)."""
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.Popen(
            ["prlimit", "--nofile=200:200", sys.executable, "-m", "mpviz", "serve", "--port", "0"],
            stdout=o,
            stderr=e,
        )
    silent: list[socket.socket] = []
    try:
        url = wait_for(lambda: re.search(r"http://[\d.]+:\d+", out.read_text()), 60, what="the address").group(0)
        host, port = url.removeprefix("http://").split(":")
        for _ in range(300):
            with contextlib.suppress(OSError):
                silent.append(socket.create_connection((host, int(port)), timeout=10))
        wait_for(lambda: _index_status(url + "/") == 200, 90, 0.5, what="the page, all the same")
        assert "Traceback" not in err.read_text()
    finally:
        for s in silent:
            s.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
