"""A watched program's main process: any Python program, unmodified, run with its multiprocessing instrumented.

Light on purpose (the standard library and the door): headless, the command
line starts a program's main through :class:`Early` before it loads the rest
of mpviz.

Its main runs as a child of the supervisor (``python prog.py ARGS`` or
``python -m module ARGS``, in the current directory, with its own
``sys.argv`` and ``__name__ == '__main__'``), in a session of its own, with
``mpviz/_hook`` first on its PYTHONPATH: every Python process of the program
reports on the supervisor's socket from its first line (``mpviz.inject``).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

import mpviz._hook
from mpviz.runtime import guardian
from mpviz.runtime.door import Door
from mpviz.runtime.early import EarlyReader
from mpviz.telemetry.env import ENDPOINT_ENV, MAIN_ENV, SPEED_ENV, TURNS_ENV

HOOK = os.path.dirname(os.path.abspath(mpviz._hook.__file__))


class ProgramMain:
    """The program's main process, as the supervisor watches its children.

    Its exit code is multiprocessing's convention (minus the signal if a
    signal ended it), its sentinel a pidfd that is readable once it ended.
    """

    def __init__(
        self, argv: list[str], endpoint: str, speed_file: str, stdin: int | None, turns_seed: int | None = None
    ) -> None:
        """``turns_seed``: a scheduled run, every process of it seeded from it (None: not scheduled)."""
        self.argv = argv
        self.started_ns = time.monotonic_ns()  # (the records' clock)
        env = dict(os.environ)
        env[ENDPOINT_ENV] = endpoint
        env[SPEED_ENV] = speed_file
        env[MAIN_ENV] = "1"
        env.pop(TURNS_ENV, None)
        if turns_seed is not None:
            env[TURNS_ENV] = str(turns_seed)
        env["PYTHONPATH"] = os.pathsep.join([HOOK, *filter(None, [env.get("PYTHONPATH")])])
        env.pop("PYTHONSTARTUP", None)
        # Its own session: the terminal's Ctrl+C reaches only mpviz, which
        # stops the program in order; and its process group is how every
        # process it starts is reached at the end.
        self.popen = subprocess.Popen(
            [sys.executable, *argv],
            env=env,
            stdin=stdin,
            # What it prints before mpviz's hook takes its stdout over (an
            # interpreter that cannot start): still its output, never the terminal.
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.pid = self.popen.pid
        self.sentinel = os.pidfd_open(self.pid)

    @property
    def outputs(self) -> dict[int, str]:
        assert self.popen.stdout is not None and self.popen.stderr is not None
        return {os.dup(self.popen.stdout.fileno()): "out", os.dup(self.popen.stderr.fileno()): "err"}

    @property
    def stdin(self) -> int | None:
        return self.popen.stdin.fileno() if self.popen.stdin is not None else None

    @property
    def exitcode(self) -> int | None:
        return self.popen.poll()

    def join(self, timeout: float | None = None) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout)

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()

    def close(self) -> None:
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            if stream is not None:
                stream.close()
        os.close(self.sentinel)


class Early:
    """A watched program's main started at once, headless, on a door of its own: it starts while
    the dashboard's modules still load, and the run (its supervisor) takes both over."""

    def __init__(self, argv: list[str], speed: float) -> None:
        self.door = Door(speed)
        # The children this process has before the run (none, mostly): never the run's.
        self.before = set(guardian.children(os.getpid()))
        # The run's guardian first, told of main as soon as it starts: should the dashboard die
        # before its supervisor exists (it still loads), the program ends with it all the same.
        # (Before any thread of ours: then it is forked, not a new interpreter; see guardian.py.)
        self.mark = f"{ENDPOINT_ENV}={self.door.endpoint}"
        self.guardian = guardian.start(self.mark, self.door.dir)
        # Its lines read as they come, stamped when they are: the channels are not there yet.
        self.door.early = EarlyReader(self.door.listener)
        self.main = ProgramMain(argv, self.door.endpoint, self.door.speed_file, None)
        start = guardian.start_time(self.main.pid)
        if start is not None and self.guardian.stdin is not None:
            with contextlib.suppress(OSError):
                os.write(self.guardian.stdin.fileno(), f"{self.main.pid} {start}\n".encode())

    def abandon(self) -> None:
        """The run never took it over (it could not start): the program is ended, the door closed."""
        self.main.kill()
        self.main.join(5.0)
        self.main.close()
        assert self.guardian.stdin is not None
        with contextlib.suppress(OSError):
            os.write(self.guardian.stdin.fileno(), b"end\n")
        self.guardian.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.guardian.wait(5.0)
        self.door.close()
