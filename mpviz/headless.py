"""``mpviz run LESSON --headless``: the lesson as printed lines, then a verdict."""

from __future__ import annotations

import os
import signal
import sys
from typing import TextIO

from mpviz.runtime import LessonRun, Settings
from mpviz.telemetry import Event, now_ns

# Exit codes: the invariant held, it broke, the run was interrupted by a signal.
OK, BROKEN, USAGE = 0, 1, 2
PIPE_GONE = 128 + signal.SIGPIPE  # as a shell reports a process ended by SIGPIPE


class Stop(Exception):
    """Raised in the main thread by SIGTERM, SIGHUP or SIGINT."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stop(signum: int, frame: object) -> None:
    raise Stop(signum)


class Output:
    """The printed lines; if the reader goes away (``| head``), printing stops quietly."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self.gone = False

    def write(self, text: str) -> None:
        if self.gone:
            return
        try:
            self._out.write(text)
        except BrokenPipeError:
            self.gone = True

    def flush(self) -> None:
        if self.gone:
            return
        try:
            self._out.flush()
        except BrokenPipeError:
            self.gone = True

    def close_quietly(self) -> None:
        """Point the real stdout at /dev/null, so the interpreter's last flush finds no broken pipe."""
        if self.gone and self._out is sys.stdout:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)


def run(settings: Settings, duration: float | None = None, out: TextIO = sys.stdout) -> int:
    """Run a lesson, print its records as lines, end with its verdict; the exit code."""
    lesson_run = LessonRun(settings)  # ValueError: refused before anything starts
    output = Output(out)
    model = lesson_run.model
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, _raise_stop)

    def take(events: list[Event]) -> None:
        for event in events:
            model.apply_one(event)
            text = model.line(event)
            if text is not None:
                output.write(text + "\n")
        output.flush()

    seen: set[str] = set()

    def warn(now: int) -> None:
        """Print each anomaly (a deadlock, a hang) once, when it first appears."""
        for anomaly in model.anomalies(now):
            if anomaly.text not in seen:
                seen.add(anomaly.text)
                output.write(f"{model.seconds(now):8.3f}  {'!':>7}  {'mpviz':<14} {anomaly.text}\n")

    stopped_by: Stop | None = None
    finished = False
    ends = None if duration is None else now_ns() + int(duration * 1e9)
    try:
        lesson_run.begin()
        while not finished:
            take(lesson_run.read(0.1))
            if lesson_run.record_error or output.gone:
                break  # the recording, or the reader of the output, is gone: stop
            now = now_ns()
            warn(now)
            finished = lesson_run.finished(now)
            if ends is not None and now >= ends:
                break
    except Stop as stop:
        stopped_by = stop
    finally:
        # A second signal while stopping must not cut the stop short.
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(signum, signal.SIG_IGN)
        # Judge the lesson as it stands, before its processes are stopped, with
        # every record already made (some wait in the ordering window).
        take(lesson_run.drain())
        now = now_ns()
        verdict = lesson_run.verdict(now, final=finished)
        anomalies = [a.text for a in model.anomalies(now) if a.text not in verdict.text]
        take(lesson_run.close())

    if lesson_run.record_error:
        print(f"mpviz: error: {lesson_run.record_error}", file=sys.stderr)
        return USAGE
    if output.gone:
        output.close_quietly()
        return PIPE_GONE
    output.write(f"--- {settings.lesson}: {model.seconds(model.last_ns):.1f} s, {model.applied} events ---\n")
    for text in anomalies:
        output.write(f"! still: {text}\n")
    malformed = lesson_run.supervisor.channels.malformed
    if malformed:
        output.write(f"! {malformed} malformed records dropped\n")
    if verdict.ok is None:
        output.write(f"{verdict.text}; stopped before the lesson finished: no invariant broken so far\n")
    else:
        output.write(verdict.text + "\n")
    output.flush()
    if stopped_by is not None:
        output.write(f"stopped by {stopped_by}\n")
        return 128 + stopped_by.signum
    return BROKEN if verdict.ok is False else OK
