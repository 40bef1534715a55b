"""The Textual dashboard.  Imported only by the command line, never by a lesson process."""

from __future__ import annotations

import argparse
import signal
import sys

from mpviz.telemetry import Malformed


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
            print(f"mpviz: error: cannot replay {args.file}: {reason}", file=sys.stderr)
            return 2
    else:
        if args.command == "run":
            from mpviz.cli import lesson_params

            defaults = Settings(args.lesson, lesson_params(args), args.speed, args.seed, args.start_method, args.record)
        # Before the app: inside it, starting multiprocessing's helpers fails (DESIGN.md).
        prepare(defaults.method)
        if args.command == "run":
            try:
                source = LiveSource(defaults)
            except ValueError as exc:  # a lesson refused its input (a bad --db file)
                print(f"mpviz: error: {exc}", file=sys.stderr)
                return 2
            source.begin()
    app = make_app(source, defaults)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, app.end_by_signal)
    try:
        app.run()
    finally:
        app.close_all()
    return app.return_code or 0
