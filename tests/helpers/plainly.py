"""A program run plainly and watched, for comparing the two: what each printed, how each ended.

Plainly, its stdout is a terminal of its own (a pty: line-buffered, as a user
sees it) and its stderr a pipe; watched (``mpviz run PROG --headless
--record F``), its lines are read from the recording: each process's stdout
and stderr, exact.  Both run without ``PYTHONUNBUFFERED`` (a user's default:
it splits a print in two writes, which processes sharing one terminal then
interleave).
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from conftest import load

from mpviz.telemetry import Event


@dataclass
class Ran:
    """How a run ended and what it printed: stdout and stderr, line by line, in order."""

    code: int
    out: list[str]
    err: list[str]
    records: list[Event] = field(default_factory=list)  # watched: the recording
    mpviz_out: str = ""  # watched: mpviz's own output
    mpviz_err: str = ""


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def plainly(argv: list[str], cwd: Path, timeout: float = 120) -> Ran:
    """``python ARGV``, its stdout a terminal of its own, its stderr a pipe."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, *argv],
        cwd=cwd,
        env=environment(),
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    os.close(slave)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer has closed the terminal
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        _, err = proc.communicate(timeout=timeout)
        reader.join(timeout)
    finally:
        os.close(master)
    out = b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")  # the terminal's own CRs
    return Ran(proc.returncode, out.splitlines(), err.decode(errors="replace").splitlines())


def watched(argv: list[str], cwd: Path, record: Path, *options: str, timeout: float = 120) -> Ran:
    """``mpviz run ARGV --headless --record RECORD``; the lines as the recording has them."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mpviz",
            "run",
            argv[0],
            "--headless",
            "--record",
            str(record),
            *options,
            "--",
            *argv[1:],
        ],
        cwd=cwd,
        env=environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    _, records = load(record)
    lines = [e for e in records if e.kind == "proc.output" and not e.data.get("partial")]
    out = [str(e.data["text"]) for e in lines if e.data.get("stream") != "err"]
    err = [str(e.data["text"]) for e in lines if e.data.get("stream") == "err"]
    return Ran(done.returncode, out, err, records, done.stdout, done.stderr)
