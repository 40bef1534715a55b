"""The Textual dashboard.  Imported only by the command line, never by a lesson process."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys

from mpviz.telemetry import Malformed

# The smallest terminal the dashboard is usable in.
MIN_SIZE = (60, 18)


def terminal_problem() -> str:
    """Why the dashboard cannot run here (empty if it can)."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return ""  # Textual draws through a driver of its own (mpviz serve's browser page), not a terminal
    # Textual reads keys from stdin and draws on stderr.
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return "the dashboard needs a terminal; for plain output use: mpviz run LESSON --headless"
    cols, rows = shutil.get_terminal_size()
    if cols < MIN_SIZE[0] or rows < MIN_SIZE[1]:
        return f"the terminal is {cols}×{rows}; the dashboard needs at least {MIN_SIZE[0]}×{MIN_SIZE[1]}"
    return ""


def fail(message: str) -> int:
    print(f"mpviz: error: {message}", file=sys.stderr)
    return 2


def launch(args: argparse.Namespace) -> int:
    from mpviz.runtime import prepare
    from mpviz.ui.app import make_app
    from mpviz.ui.sources import LiveSource, ReplaySource, Settings

    defaults = Settings(lesson="ktv")
    source = None
    if args.command == "replay":
        try:
            source = ReplaySource(args.file, speed=args.speed)
        except (OSError, Malformed, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return fail(f"cannot replay {args.file}: {reason}")
    problem = terminal_problem()
    if problem:
        return fail(problem)
    if args.command != "replay":
        if args.command == "run":
            from mpviz.cli import lesson_params

            defaults = Settings(args.lesson, lesson_params(args), args.speed, args.seed, args.start_method, args.record)
        # Before the app: inside it, starting multiprocessing's helpers fails (DESIGN.md).
        prepare(defaults.method)
        if args.command == "run":
            try:
                source = LiveSource(defaults)
            except ValueError as exc:  # a lesson refused its input (a bad --db file)
                return fail(str(exc))
            source.begin()
    app = make_app(source, defaults)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, app.end_by_signal)
    try:
        app.run()
    finally:
        app.close_all()
    return app.return_code or 0
