"""Run the real ``mpviz`` in a pseudo-terminal, as a user's terminal would."""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent.parent


def _controlling_tty() -> None:
    # In the child: a session of its own with the pty as its controlling
    # terminal, so closing the terminal sends it SIGHUP, as a real one does.
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def mpviz_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "mpviz", *args]


class Terminal:
    """A program in a pseudo-terminal of the given size, its output collected."""

    def __init__(self, *args: str, size: tuple[int, int] = (120, 40), argv: list[str] | None = None) -> None:
        self.master, slave = os.openpty()
        cols, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
        self.proc = subprocess.Popen(
            argv or mpviz_argv(*args),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            env=env,
            preexec_fn=_controlling_tty,
        )
        os.close(slave)
        self.output = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.output += data

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def hang_up(self) -> None:
        """Close the terminal, as closing its window does."""
        os.close(self.master)

    def lesson_pids(self) -> set[int]:
        """Lesson processes past their bootstrap: each leads its own process group
        (multiprocessing's helpers, the resource tracker and the forkserver, do not)."""
        found = set()
        try:
            children = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return found
        for p in children:
            try:
                if os.getpgid(p.pid) == p.pid:
                    found.add(p.pid)
            except ProcessLookupError:
                continue
        return found

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        with contextlib.suppress(OSError):
            os.close(self.master)
