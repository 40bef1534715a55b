"""``mpviz serve`` without a browser: its options, its address, and how a visit's processes are ended."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from conftest import mpviz, wait_for
from helpers.browser import Serve, none_alive

from mpviz.serve import VISIT_MARK, dashboard_command, end_visits, visit_processes

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
