"""The ``mpviz`` command.

Kept light on purpose: a spawned child re-imports the module behind
``__main__``, so this module imports only the lessons' declarations at the
top and everything else (the runtime, Textual) inside the functions that need
it.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from mpviz import lang
from mpviz.lesson import Lesson, Param
from mpviz.registry import NAMES, lesson_class, lessons

if TYPE_CHECKING:
    from mpviz.runtime.program import Program
    from mpviz.runtime.run import ProgramSettings, Settings

USAGE_EXIT = 2

# Never plain fork from the dashboard: it is multi-threaded, and a forked
# child would inherit Textual's signal handlers (DESIGN.md).  Headless, a
# lesson may fork, as the tutorial's code does.
START_METHODS = ("fork", "spawn", "forkserver")
DASHBOARD_METHODS = ("spawn", "forkserver")


class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_EXIT, f"mpviz: error: {message} (see 'mpviz --help')\n")


# The options every lesson takes, checked like the lessons' own.
SPEED = Param("speed", 1.0, "lesson time runs F times faster", above=0, high=1000)
DURATION = Param("duration", 0.0, "stop after S seconds", above=0, high=10_000_000, noun="a number of seconds")
SEED = Param("seed", 0, "fix every process's random numbers", low=0)
LANG = Param(
    "lang", "en", f"the language of every word shown (default: ${lang.ENV}, else en)", choices=tuple(lang.Lang)
)


def _param_type(param: Param):
    def parse(text: str) -> Any:
        try:
            return param.parse(text)
        except ValueError as exc:  # argparse says "argument --flag: " before it
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _add_run_options(parser: argparse.ArgumentParser, cls: type[Lesson]) -> None:
    lesson = parser.add_argument_group(f"{cls.name} options")
    for param in cls.params:
        if isinstance(param.default, bool):
            lesson.add_argument(param.flag, dest=param.name, action="store_true", help=str(param.help))
        else:
            lesson.add_argument(
                param.flag,
                dest=param.name,
                type=_param_type(param),
                default=param.default,
                metavar="N" if isinstance(param.default, int) else "X",
                help=f"{param.help} (default {param.default})",
            )
    common = _add_watch_options(parser)
    common.add_argument("--seed", type=_param_type(SEED), metavar="N", help=SEED.help)
    common.add_argument(
        "--start-method",
        choices=START_METHODS,
        default="spawn",
        help="how children start (default spawn; fork only with --headless)",
    )


def _add_watch_options(parser: argparse.ArgumentParser) -> Any:
    """The options a lesson and a program share; the group, for more."""
    common = parser.add_argument_group("run options")
    common.add_argument("--headless", action="store_true", help="print one line per event instead of the dashboard")
    common.add_argument("--duration", type=_param_type(DURATION), metavar="S", help=str(DURATION.help))
    common.add_argument(
        "--record", type=Path, metavar="FILE.jsonl", help="write every event to FILE (for mpviz replay)"
    )
    common.add_argument("--speed", type=_param_type(SPEED), default=1.0, metavar="F", help=f"{SPEED.help} (default 1)")
    _add_lang_option(common)
    common.add_argument(
        "--trace-out", type=Path, metavar="TRACE.json", help="at the end, write the run as a Perfetto / Chrome trace"
    )
    return common


def _add_lang_option(parser: Any) -> None:
    parser.add_argument("--lang", type=_param_type(LANG), metavar="en|zh", help=str(LANG.help))


def program_parser() -> Parser:
    parser = Parser(
        prog="mpviz run",
        usage="mpviz run PROG.py [options] [-- ARGS ...]  |  mpviz run -m MODULE [options] [-- ARGS ...]",
        description=(
            "Watch any Python program, unmodified: its processes at any depth, its locks, queues and "
            "events named after their variables, what each process prints, and the deadlock or hang named."
        ),
        epilog="Only sleeps follow --speed (time.sleep is divided by it).",
    )
    parser.add_argument("target", nargs="?", metavar="PROG.py", help="the program")
    parser.add_argument("-m", dest="module", metavar="MODULE", help="run a module, as python -m does")
    _add_watch_options(parser)
    return parser


def program_args(argv: list[str]) -> tuple[argparse.Namespace, Program]:
    """``run PROG.py [options] [-- ARGS]``: mpviz's options before ``--``, the program's after."""
    from mpviz.runtime.program import Program

    ours, rest = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    parser = program_parser()
    args = parser.parse_args(ours)
    if (args.target is None) == (args.module is None):
        parser.error("name a program file or -m MODULE")
    if args.module is not None:
        return args, Program(args.module, rest, module=True)
    return args, Program(args.target, rest)


# mpviz serve: the dashboard in a browser (mpviz/serve.py, imported only when it runs).
SERVE_OPTIONS = (
    (
        Param("host", "127.0.0.1", "the address to listen on (anyone who reaches it can start processes here)"),
        "ADDRESS",
    ),
    (Param("port", 8000, "the port to listen on (0: any free one)", low=0, high=65535), "N"),
    (Param("max_visitors", 8, "dashboards at most at once; one more visitor gets a page saying so", low=1), "N"),
    (Param("idle_timeout", 900, "end a dashboard after S seconds without a key or the mouse", low=1), "S"),
    (Param("lang", "en", "the dashboards' language", choices=("en", "zh")), "en|zh"),
)


def _add_serve_parser(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="the dashboard in a browser: every visitor gets their own",
        description="Serve the dashboard to browsers: every visitor gets their own dashboard and lesson processes, "
        "ended when their page closes.",
    )
    for param, metavar in SERVE_OPTIONS:
        serve.add_argument(
            param.flag,
            dest=param.name,
            type=_param_type(param),
            default=param.default,
            metavar=metavar,
            help=f"{param.help} (default {param.default})",
        )
    serve.add_argument(
        "dashboard",
        nargs="*",
        metavar="-- ARGS",
        help="what every visitor's dashboard opens, as after 'mpviz' (a lesson and its options, a program)",
    )


def build_parser() -> Parser:
    parser = Parser(
        prog="mpviz",
        description="Watch the classic Python multiprocessing lessons run as real processes.",
        epilog="Run 'mpviz' alone for the dashboard, 'mpviz LESSON' to open one lesson, 'mpviz list' for the lessons.",
    )
    from mpviz import __version__

    parser.add_argument("--version", action="version", version=f"mpviz {__version__}")
    _add_lang_option(parser)  # taken off the front by main(): "mpviz --lang zh ktv"
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("list", help="name every lesson and what it teaches")
    run = commands.add_parser("run", help="run a lesson (the dashboard, or --headless)")
    chosen = run.add_subparsers(dest="lesson", metavar="LESSON", required=True)
    for cls in lessons():
        teaches = str(cls.teaches)
        _add_run_options(chosen.add_parser(cls.name, help=teaches, description=teaches), cls)
    _add_serve_parser(commands)
    _add_insight_parsers(commands)
    replay = commands.add_parser("replay", help="play a recording made with --record")
    replay.add_argument("file", type=Path, metavar="FILE.jsonl")
    replay.add_argument(
        "--speed", type=_param_type(SPEED), default=1.0, metavar="F", help="play F times faster (default 1)"
    )
    _add_lang_option(replay)
    return parser


# The dashboard runs until it is quit; a timed run is a headless one.
NO_DURATION = "--duration only with --headless: the dashboard runs until you quit it"


def fail(message: str) -> int:
    print(f"mpviz: error: {message}", file=sys.stderr)
    return USAGE_EXIT


def _unwritable(path: Path) -> str:
    """Why a recording cannot go to ``path`` (empty if it can), checked before any process starts.

    It creates nothing (a refused run leaves no file behind) and opens nothing
    (a FIFO's reader would see its end): the recording is opened once, by the run.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        folder = path.parent
        try:
            if not stat.S_ISDIR(folder.stat().st_mode):
                return os.strerror(errno.ENOTDIR)
        except OSError as exc:
            return exc.strerror or str(exc)
        return "" if os.access(folder, os.W_OK | os.X_OK) else os.strerror(errno.EACCES)
    except OSError as exc:
        return exc.strerror or str(exc)
    if stat.S_ISDIR(mode):
        return "it is a directory"
    if stat.S_ISBLK(mode):
        return "it is a block device"
    return "" if os.access(path, os.W_OK) else os.strerror(errno.EACCES)


def settings(args: argparse.Namespace) -> Settings:
    """What ``mpviz run LESSON ...`` asked for."""
    from mpviz.runtime.run import Settings

    params = {p.name: getattr(args, p.name) for p in lesson_class(args.lesson).params}
    return Settings(args.lesson, params, args.speed, args.seed, args.start_method, args.record)


COMMANDS = ("list", "run", "replay", "serve", "stats", "export")


def _front_lang(argv: list[str]) -> str | None:
    """A ``--lang X`` (or ``--lang=X``) before the command, taken off ``argv`` (mpviz serve's dashboards
    are started so); None if there is none.  Raises ValueError for a language mpviz does not speak."""
    if not argv or not (argv[0] == "--lang" or argv[0].startswith("--lang=")):
        return None
    flag = argv.pop(0)
    value = flag.partition("=")[2] if "=" in flag else (argv.pop(0) if argv else "")
    return str(LANG.parse(value))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # The language first: every word from here on is in it.
    try:
        front = _front_lang(argv)
    except ValueError as exc:
        return fail(f"argument --lang: {exc}")
    try:
        lang.use(front or lang.from_env())
    except ValueError as exc:  # MPVIZ_LANG names a language mpviz does not speak
        return fail(str(exc))
    if argv and argv[0] in NAMES:
        argv.insert(0, "run")  # "mpviz ktv" is "mpviz run ktv"
    elif argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        # "mpviz prog.py ARGS": the dashboard on a program, every argument its own.
        return watch([argv[0], "--", *argv[1:]])
    if argv[:1] == ["run"] and len(argv) > 1 and argv[1] not in NAMES and (argv[1] == "-m" or argv[1][:1] != "-"):
        return watch(argv[1:])
    args = build_parser().parse_args(argv)
    if getattr(args, "lang", None):
        lang.use(args.lang)

    if args.command == "list":
        for cls in lessons():
            print(cls.summary())
        return 0

    if args.command == "serve":
        from mpviz.serve import serve

        return serve(args.host, args.port, args.max_visitors, args.idle_timeout, args.lang, args.dashboard)

    if args.command in ("stats", "export"):
        return _report(args)
    return _traced(args, lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    """``mpviz run LESSON`` (headless or in the dashboard), ``mpviz replay``, or the dashboard alone."""
    if args.command == "run" and args.record is not None:
        problem = _unwritable(args.record)
        if problem:
            return fail(f"cannot write {args.record}: {problem}")
    if args.command == "run" and args.duration is not None and not args.headless:
        return fail(NO_DURATION)

    if args.command == "run" and args.headless:
        from mpviz import headless

        try:
            return headless.run_lesson(settings(args), args.duration)
        except ValueError as exc:  # a lesson refused its input (a bad --db file)
            return fail(str(exc))

    return launch(args)


def watch(argv: list[str]) -> int:
    """``mpviz run PROG.py ...``: a program, in the dashboard or headless."""
    args, program = program_args(argv)
    if args.lang:
        lang.use(args.lang)
    problem = program.problem()
    if problem:
        return fail(problem)
    if args.record is not None:
        unwritable = _unwritable(args.record)
        if unwritable:
            return fail(f"cannot write {args.record}: {unwritable}")
    if args.duration is not None and not args.headless:
        return fail(NO_DURATION)
    return _traced(args, lambda: _watch(args, program))


def _watch(args: argparse.Namespace, program: Program) -> int:
    from mpviz.runtime.run import ProgramSettings

    settings = ProgramSettings(program, args.speed, args.record, stdin_pipe=not args.headless)
    if args.headless:
        from mpviz import headless

        try:
            return headless.run_program(settings, args.duration)
        except ValueError as exc:
            return fail(str(exc))
    return launch(args, settings)


def launch(args: argparse.Namespace, program: ProgramSettings | None = None) -> int:
    """The dashboard: on the lessons, on one lesson (``run``), on a program, or on a recording (``replay``)."""
    from mpviz.runtime import Settings, prepare
    from mpviz.telemetry import Malformed
    from mpviz.ui import terminal_problem
    from mpviz.ui.app import make_app
    from mpviz.ui.sources import LiveSource, ReplaySource, Source

    defaults = Settings(lesson=NAMES[0])
    source: Source | None = None
    command = getattr(args, "command", None)
    if command == "replay":
        try:
            source = ReplaySource(args.file, speed=args.speed)
        except (OSError, Malformed, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return fail(f"cannot replay {args.file}: {reason}")
    problem = terminal_problem()
    if problem:
        return fail(problem)
    if command == "run":
        defaults = settings(args)
        if defaults.method not in DASHBOARD_METHODS:
            return fail("--start-method fork only with --headless: the dashboard has threads, a fork would copy them")
    if command != "replay":
        # Before the app: inside it, starting multiprocessing's helpers fails (DESIGN.md).
        prepare(defaults.method)
    try:
        if program is not None:
            source = LiveSource.program_run(program)
        elif command == "run":
            source = LiveSource.lesson_run(defaults)
    except ValueError as exc:  # a lesson refused its input (a bad --db file)
        return fail(str(exc))
    app = make_app(source, defaults)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, app.end_by_signal)
    try:
        app.run()
    finally:
        app.close_all()
    return app.return_code or 0


# --- mpviz stats, mpviz export, --trace-out: what a recording says about contention ------------


def _add_insight_parsers(commands: Any) -> None:
    stats = commands.add_parser(
        "stats",
        help="contention in a recording: waits and holds per primitive, each process's time",
        description="Contention figures of a recorded run: per lock, semaphore and condition the waits "
        "(p50, p99, max) and holds, per queue the time blocked, per event the waits, and each process's "
        "time split into running, holding, waiting for a lock, blocked on a queue, waiting on an event, sleeping.",
    )
    stats.add_argument("file", type=Path, metavar="FILE.jsonl")
    stats.add_argument("--json", action="store_true", help="one JSON object (its keys: see the README)")
    export = commands.add_parser(
        "export",
        help="a recording as a Perfetto / Chrome trace (open it in ui.perfetto.dev)",
        description="Write a recorded run in the JSON trace event format: a track per process, slices for "
        "waits and holds, counters, and arrows from each release, put, set() and send to what it let through.",
    )
    export.add_argument("file", type=Path, metavar="FILE.jsonl")
    export.add_argument("-o", dest="out", type=Path, required=True, metavar="TRACE.json", help="where the trace goes")


def _report(args: argparse.Namespace) -> int:
    from mpviz import insight
    from mpviz.telemetry import Malformed

    try:
        if args.command == "stats":
            return insight.stats(args.file, args.json)
        problem = insight.unwritable(args.out)
        if problem:
            return fail(f"cannot write {args.out}: {problem}")
        return insight.export(args.file, args.out)
    except (OSError, Malformed) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return fail(f"cannot read {args.file}: {reason}")


def _traced(args: argparse.Namespace, run: Callable[[], int]) -> int:
    """``--trace-out``: the run is recorded (to a temporary file if not ``--record``), then written as a trace."""
    out: Path | None = getattr(args, "trace_out", None)
    if out is None:
        return run()
    from mpviz import insight

    problem = insight.unwritable(out)
    if problem:
        return fail(f"cannot write {out}: {problem}")
    with insight.recording_for(args) as record:
        code = run()
        if record.exists() and record.stat().st_size:
            try:
                insight.write_trace_of(record, out)
            except (OSError, ValueError) as exc:
                return fail(f"cannot write the trace to {out}: {exc}")
            print(f"mpviz: trace of the run in {out} (open it in ui.perfetto.dev)", file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
