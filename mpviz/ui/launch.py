"""The dashboard started from the command line: on the lessons, on one run, or on a recording."""

from __future__ import annotations

import gc
import os
import signal
from pathlib import Path

from mpviz.registry import NAMES, lesson_class
from mpviz.runtime import Settings, prepare
from mpviz.telemetry import Malformed
from mpviz.ui import terminal_problem
from mpviz.ui.app import make_app
from mpviz.ui.sources import LiveSource, ReplaySource, Source

# Objects made and not yet freed before the cycle collector runs (Python's default: 700). At 700 it
# ran 3 times a second in the busy KTV scene (4 ms of CPU a second, a fifth of the dashboard's) and
# 54 times a second under a flood of records (64 ms a second), for the model's records and Textual's
# strips, which seldom make cycles; at 10 000, 0.1 and 1.4 times a second (0.3 ms and 11 ms).
COLLECTS_AT = 10_000


def collect_less() -> None:
    """The dashboard's process: the cycle collector run less often; a child it forks gets
    Python's default back (the program watched runs as it would unwatched)."""
    default = gc.get_threshold()
    gc.set_threshold(COLLECTS_AT, *default[1:])
    os.register_at_fork(after_in_child=lambda: gc.set_threshold(*default))


def dashboard(settings: Settings | None = None, replay: Path | None = None, replay_speed: float = 1.0) -> int:
    """Run the dashboard until it is quit; its exit code.

    ``settings``: a run to open at once (else the lessons); ``replay``: a
    recording to play.  Raises ValueError with one line for the user when it
    cannot start (no terminal, not a recording, a lesson that refuses its input).
    """
    source: Source | None = None
    if replay is not None:
        try:
            source = ReplaySource(replay, speed=replay_speed)
        except (OSError, Malformed, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ValueError(f"cannot replay {replay}: {reason}") from None
    if settings is not None and settings.lesson.detaches:
        problem = terminal_problem(f"mpviz attach {settings.params.get('pid')} --headless")
    else:
        problem = terminal_problem()
    if problem:
        raise ValueError(problem)
    defaults = settings or Settings(lesson_class(NAMES[0]))
    if replay is None:
        # Before the app: inside it, starting multiprocessing's helpers fails (docs/ARCHITECTURE.md).
        prepare(defaults.method)
    if settings is not None:
        source = LiveSource.start(settings)  # ValueError (a bad --db file) before any process starts
    app = make_app(source, defaults)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, app.end_by_signal)
    collect_less()
    try:
        app.run()
    finally:
        app.close_all()
    return app.return_code or 0
