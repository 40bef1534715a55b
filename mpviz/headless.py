"""``mpviz run LESSON --headless``: the lesson as printed lines, then a verdict."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

from mpviz.model import Model
from mpviz.runtime import Supervisor
from mpviz.scenarios import LESSONS
from mpviz.telemetry import Event, Recorder, now_ns, recording_header

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


def run(
    name: str,
    params: dict[str, Any],
    *,
    speed: float = 1.0,
    seed: int | None = None,
    method: str = "spawn",
    duration: float | None = None,
    record: Path | None = None,
    out: TextIO = sys.stdout,
) -> int:
    values = LESSONS[name].prepare(params)  # ValueError: refused before anything starts
    out = Output(out)
    model = Model()
    recorder = Recorder(record, recording_header(name, values, speed, seed, method)) if record else None
    supervisor = Supervisor(method, speed, seed)
    lesson = LESSONS[name](supervisor, seed=seed, **values)
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, _raise_stop)

    def take(events: list[Event]) -> None:
        if recorder:
            recorder.write(events)
        for event in events:
            model.apply_one(event)
            text = model.line(event)
            if text is not None:
                out.write(text + "\n")
        out.flush()

    seen: set[str] = set()

    def warn(now: int) -> None:
        """Print each anomaly (a deadlock, a hang) once, when it first appears."""
        for anomaly in model.anomalies(now):
            if anomaly.text not in seen:
                seen.add(anomaly.text)
                out.write(f"{model.seconds(now):8.3f}  {'!':>7}  {'mpviz':<14} {anomaly.text}\n")

    stopped_by: Stop | None = None
    finished = False
    ends = None if duration is None else now_ns() + int(duration * 1e9)
    try:
        supervisor.run(lesson)
        while not finished:
            take(supervisor.read(0.1))
            if (recorder and recorder.error) or out.gone:
                break  # the recording, or the reader of the output, is gone: stop
            now = now_ns()
            warn(now)
            finished = lesson.finished(model, now)
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
        take(supervisor.drain())
        now = now_ns()
        verdict = lesson.verdict(model, now, final=finished)
        anomalies = [a.text for a in model.anomalies(now) if a.text not in verdict.text]
        try:
            take(supervisor.stop())
        finally:
            supervisor.close()
            if recorder:
                recorder.close()

    if recorder and recorder.error:
        print(f"mpviz: error: {recorder.error}", file=sys.stderr)
        return USAGE
    if out.gone:
        out.close_quietly()
        return PIPE_GONE
    out.write(f"--- {name}: {model.seconds(model.last_ns):.1f} s, {model.applied} events ---\n")
    for text in anomalies:
        out.write(f"! still: {text}\n")
    if supervisor.channels.malformed:
        out.write(f"! {supervisor.channels.malformed} malformed records dropped\n")
    if verdict.ok is None:
        out.write(f"{verdict.text}; stopped before the lesson finished: no invariant broken so far\n")
    else:
        out.write(verdict.text + "\n")
    out.flush()
    if stopped_by is not None:
        out.write(f"stopped by {stopped_by}\n")
        return 128 + stopped_by.signum
    return BROKEN if verdict.ok is False else OK
