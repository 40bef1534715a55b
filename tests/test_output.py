"""Output is never lost (issue 23): what a watched program writes is what it writes plainly, line for line.

Each program runs plainly and watched (``tests/helpers/plainly.py``); its
stdout and its stderr must be the same lines in the same order, addresses
(``0x…``) aside.  The programs write from one process at a time (a child is
joined before main writes again), so that the plain order is the only one.
Among them: lines written in pieces (one line, ended where the process ends
it), a last line without its newline, what the interpreter and the resource
tracker write at shutdown, tracebacks (of errors raised inside a lock, a queue and
a manager's proxy: no frame of mpviz in them), and more lines than a pipe holds.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import time
from pathlib import Path

import pytest
from conftest import ROOT
from helpers.plainly import Ran, plainly, watched

from mpviz.model import Model
from mpviz.runtime.channels import Channels
from mpviz.runtime.door import Door
from mpviz.runtime.early import EarlyReader
from mpviz.telemetry import Event, now_ns
from mpviz.telemetry.wire import frame

PROGRAMS = ROOT / "tests" / "programs"
ADDRESS = re.compile(r"0x[0-9a-f]+")


def _lines(lines: list[str]) -> list[str]:
    return [ADDRESS.sub("0x…", line) for line in lines]


def both(program: str, tmp_path: Path) -> tuple[Ran, Ran]:
    path = str(PROGRAMS / program)
    return plainly([path], tmp_path), watched([path], tmp_path, tmp_path / "run.jsonl")


@pytest.mark.parametrize("program", ["in_pieces.py", "at_shutdown.py", "many_lines.py", "raises.py", "fails_inside.py"])
def test_every_line_as_written(program: str, tmp_path: Path) -> None:
    plain, seen = both(program, tmp_path)
    assert plain.out, "the program prints"
    assert _lines(seen.out) == _lines(plain.out)
    assert _lines(seen.err) == _lines(plain.err)
    assert seen.code == plain.code


def test_the_resource_trackers_warning_is_kept(tmp_path: Path) -> None:
    """It comes after the program's main has ended, on main's stderr."""
    _, seen = both("at_shutdown.py", tmp_path)
    assert any("There appear to be 1 leaked shared_memory objects" in line for line in seen.err), seen.err
    assert "leaked shared_memory objects" in seen.mpviz_out


def test_a_line_in_pieces_grows_in_place(tmp_path: Path) -> None:
    """Shown as it grows (a partial line, replaced by the next), ended where the process ends it."""
    _, seen = both("in_pieces.py", tmp_path)
    dots = [e for e in seen.records if e.kind == "proc.output" and e.data["text"].startswith(".")]
    partial = [e.data["text"] for e in dots if e.data.get("partial") and e.data["stream"] == "out"]
    # Each piece as it came; on a loaded machine two pieces may be read in one go (". . " first).
    assert partial and all(a != b and b.startswith(a) for a, b in itertools.pairwise(partial)), partial
    assert ". . . . . ".startswith(partial[-1]), partial
    model = Model()
    main = dots[0].pid
    for event in seen.records:
        model.apply_one(event)
        mains = [e for e in model.output if e.pid == main and e.data["stream"] == "out"]
        # The line that grows is one line all along: never two lines of dots.
        assert sum(e.data["text"].startswith(".") for e in mains) <= 1
    texts = [e.data["text"] for e in model.output if e.pid == main]
    assert texts == [". . . . . done", "main again", "and a last line without its newline"]
    assert ". . . . . done" in seen.mpviz_out
    assert "prints: . . \n" not in seen.mpviz_out  # headless: whole lines only


@pytest.mark.parametrize("speed", [None, "2"])
def test_a_program_cannot_tell_it_is_watched(speed: str | None, tmp_path: Path) -> None:
    """What it prints of multiprocessing's objects and of time.sleep is what it prints plainly,
    line for line (addresses and pids aside), at any speed."""
    path = str(PROGRAMS / "looks_at_itself.py")
    plain = plainly([path], tmp_path)
    seen = watched([path], tmp_path, tmp_path / "run.jsonl", *(["--speed", speed] if speed else []))
    pids = re.compile(r"\b\d{3,}\b")
    assert [pids.sub("PID", line) for line in _lines(seen.out)] == [pids.sub("PID", line) for line in _lines(plain.out)]
    assert seen.err == plain.err == []
    assert seen.code == plain.code == 0


def test_lines_printed_before_the_channels_exist_keep_their_order() -> None:
    """A program started early may be over before mpviz has loaded: its lines are read as they
    come all the same (``runtime/early.py``), stamped then, not when the channels first read."""
    door = Door()
    door.early = EarlyReader(door.listener)
    writers, socks = [], []
    for _ in range(2):  # "main" connects first, then "the child"
        r, w = os.pipe()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(door.endpoint)
        hello = Event(now_ns(), os.getpid(), "proc.stdio", "", {"streams": ["out"]})
        socket.send_fds(sock, [frame(hello)], [r])
        os.close(r)
        writers.append(w)
        socks.append(sock)
    main, child = writers
    time.sleep(0.1)
    os.write(child, b"the child's line\n")
    time.sleep(0.1)
    os.write(main, b"main's line, after the child's\n")
    for w in writers:
        os.close(w)
    time.sleep(0.1)
    channels = Channels(lambda pid: Event(now_ns(), pid, "proc.exit", "", {"code": None}), door=door)
    try:
        got: list[Event] = []
        deadline = time.monotonic() + 10
        while sum(e.kind == "proc.output" for e in got) < 2 and time.monotonic() < deadline:
            got += channels.read(0.05)
        got += channels.flush()
        lines = [e.data["text"] for e in got if e.kind == "proc.output"]
        assert lines == ["the child's line", "main's line, after the child's"]
    finally:
        for sock in socks:
            sock.close()
        channels.close()
