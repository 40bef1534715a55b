"""The command line's words: every command, its options, and how each value is checked.

Kept light on purpose, like :mod:`mpviz.cli`: a spawned child re-imports the
module behind ``__main__``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mpviz import lang
from mpviz.lesson import Lesson, Param
from mpviz.program import Program
from mpviz.registry import lessons

TYPE_CHECKING = False  # (typing's import is not paid before a watched program starts)
if TYPE_CHECKING:
    from typing import Any, NoReturn

USAGE_EXIT = 2

# Never plain fork from the dashboard: it is multi-threaded, and a forked
# child would inherit Textual's signal handlers (docs/ARCHITECTURE.md).
# Headless, a lesson may fork, as the tutorial's code does.
START_METHODS = ("fork", "spawn", "forkserver")
DASHBOARD_METHODS = ("spawn", "forkserver")


class Formatter(argparse.HelpFormatter):
    """argparse's, as wide as the terminal found without shutil: argparse imports it for that at
    every parser made, and it brings the compression modules, ~2 ms before a program starts."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None):
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size().columns`` says it: ``$COLUMNS``, else
    the terminal's, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):  # (no stdout at all: None has no fileno)
        return 80


class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr and exit code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_EXIT, f"mpviz: error: {message} (see 'mpviz --help')\n")


# The options every lesson takes, checked like the lessons' own.
SPEED = Param("speed", 1.0, "lesson time runs F times faster", above=0, high=1000)
DURATION = Param("duration", 0.0, "stop after S seconds", above=0, high=10_000_000, noun="a number of seconds")
SEED = Param("seed", 0, "fix every process's random numbers", low=0)
HANG_TIMEOUT = Param(
    "hang_timeout", 30.0, "no progress for S seconds", above=0, high=10_000_000, noun="a number of seconds"
)
LANG = Param(
    "lang", "en", f"the language of every word shown (default: ${lang.ENV}, else en)", choices=tuple(lang.Lang)
)
# mpviz explore's own.
RUNS = Param("runs", 100, "runs at most, each in another order (default 100)", low=1, high=10_000_000)
DEPTH = Param("depth", 3, "PCT's bug depth D: D-1 priority change points per run (default 3)", low=1, high=100)
SHRINK = Param("shrink", 30, "runs spent making a failing schedule switch less (0: none; default 30)", low=0)
STEP_TIMEOUT = Param(
    "step_timeout", 5.0, "a process let go that is not at its next point after S s runs free", above=0, high=3600
)
MAX_STEPS = Param("max_steps", 10_000, "decisions at most in one run (default 10000)", low=1)
AT_MOST = Param("at_most", 0, "at most N printed lines", low=0)


def _param_type(param: Param):
    def parse(text: str) -> Any:
        try:
            return param.parse(text)
        except ValueError as exc:  # argparse says "argument --flag: " before it
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _add_run_options(parser: argparse.ArgumentParser, cls: type[Lesson]) -> None:
    _add_lesson_params(parser, cls)
    common = _add_watch_options(parser)
    common.add_argument("--seed", type=_param_type(SEED), metavar="N", help=SEED.help)
    common.add_argument(
        "--start-method",
        choices=START_METHODS,
        default="spawn",
        help="how children start (default spawn; fork only with --headless)",
    )


def _add_lesson_params(parser: argparse.ArgumentParser, cls: type[Lesson]) -> None:
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


def _add_watch_options(parser: argparse.ArgumentParser, speed: bool = True) -> Any:
    """The options a lesson, a program and an attached program share; the group, for more.
    ``speed``: lesson time (a program attached to runs at its own)."""
    common = parser.add_argument_group("run options")
    common.add_argument("--headless", action="store_true", help="print one line per event instead of the dashboard")
    common.add_argument(
        "--strict",
        action="store_true",
        help="headless: exit 1 when a potential deadlock (a cycle in the lock order) was found, though none happened",
    )
    common.add_argument(
        "--hang-timeout",
        type=_param_type(HANG_TIMEOUT),
        default=HANG_TIMEOUT.default,
        metavar="S",
        help="headless: stop a program with no progress for S seconds when mpviz cannot be sure it hangs (default 30)",
    )
    common.add_argument(
        "--no-stacks",
        action="store_true",
        help="headless: do not print every process's stacks when something goes wrong or --duration stops a program",
    )
    common.add_argument("--duration", type=_param_type(DURATION), metavar="S", help=str(DURATION.help))
    common.add_argument(
        "--record", type=Path, metavar="FILE.jsonl", help="write every event to FILE (for mpviz replay)"
    )
    if speed:
        common.add_argument(
            "--speed", type=_param_type(SPEED), default=1.0, metavar="F", help=f"{SPEED.help} (default 1)"
        )
    _add_lang_option(common)
    common.add_argument(
        "--trace-out", type=Path, metavar="TRACE.json", help="at the end, write the run as a Perfetto / Chrome trace"
    )
    _add_turn_options(common)
    _add_at_most(common, "headless: ")
    _add_restore(common, "a file the program changes, put back as it was once the run ends (a replay starts anew)")
    common.add_argument(
        "--step",
        action="store_true",
        help="the dashboard: every process waits at each operation until you choose who goes (step mode)",
    )
    common.add_argument(
        "--schedule",
        type=Path,
        metavar="FILE",
        help="replay a schedule (mpviz explore's, or a recording of a scheduled run): the same interleaving",
    )
    return common


def _add_at_most(parser: Any, where: str = "") -> None:
    parser.add_argument(
        "--at-most",
        nargs=2,
        action="append",
        default=[],
        metavar=("N", "REGEX"),
        help=f"{where}a run fails when more than N printed lines match REGEX (a program's own invariant; repeat for more)",
    )


def _add_restore(parser: Any, help: str) -> None:
    parser.add_argument("--restore", type=Path, action="append", default=[], metavar="FILE", help=help)


def _add_turn_options(parser: Any) -> None:
    parser.add_argument(
        "--virtual-time",
        action="store_true",
        help="a scheduled run: sleeps end in the order of their lengths (by default a sleep orders nothing)",
    )


def _add_lang_option(parser: Any) -> None:
    parser.add_argument("--lang", type=_param_type(LANG), metavar="en|zh", help=str(LANG.help))


def program_parser() -> Parser:
    parser = Parser(
        prog="mpviz run",
        usage="mpviz run PROG.py [ARGS ...] [options] [-- ARGS ...]  |  mpviz run -m MODULE [options] [-- ARGS ...]",
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


def program_args(argv: list[str], explore: bool = False) -> tuple[argparse.Namespace, Program]:
    """``run PROG.py [options] [ARGS] [-- ARGS]``: mpviz's options before ``--``, the program's after;
    before it, words that are no option of mpviz's are the program's too (``mpviz run prog.py 4``
    runs ``python prog.py 4``, as ``mpviz prog.py 4`` does).  An option mpviz does not know is
    refused, not handed over: a mistyped ``--headles`` would open the dashboard on a program
    given a flag it never asked for."""
    ours, rest = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    parser = explore_program_parser() if explore else program_parser()
    args, extra = parser.parse_known_args(ours)
    options = [word for word in extra if word.startswith("-")]
    if options:
        parser.error(
            f"unrecognized arguments: {' '.join(options)} (the program's own options go after '--': "
            f"{parser.prog} PROG.py [options] -- {' '.join(options)})"
        )
    if args.module is not None and args.target is not None:  # ``-m pkg.mod a b``: "a" is the module's
        extra.insert(0, args.target)
        args.target = None
    if (args.target is None) == (args.module is None):
        parser.error("name a program file or -m MODULE")
    given = (*extra, *rest)
    if args.module is not None:
        return args, Program(args.module, given, module=True)
    return args, Program(args.target, given)


PID = Param("pid", 0, "the process id of the program's main (or of any process of it)", low=1, noun="a process id")


def _add_attach_parser(commands: Any) -> None:
    attach = commands.add_parser(
        "attach",
        help="watch a Python program that is already running, without restarting or changing it",
        description="Attach to a running Python program and its process tree: psutil figures and the Python "
        "stack of every process (py-spy, without pausing it), and what each one waits in, at the user's line. "
        "Quitting detaches: nothing of the program is stopped or signalled.",
        epilog="Needs the rights to read the program's memory (ptrace): the same user, or root.",
    )
    attach.add_argument("pid", type=_param_type(PID), metavar="PID", help=str(PID.help))
    _add_watch_options(attach, speed=False)


# mpviz serve: the dashboard in a browser (mpviz/serve/, imported only when it runs).
SERVE_OPTIONS = (
    (
        Param("host", "127.0.0.1", "the address to listen on (anyone who reaches it can start processes here)"),
        "ADDRESS",
    ),
    (Param("port", 8000, "the port to listen on (0: any free one)", low=0, high=65535), "N"),
    (Param("max_visitors", 8, "dashboards at most at once; one more visitor gets a page saying so", low=1), "N"),
    (Param("idle_timeout", 900, "end a dashboard after S seconds without a key or the mouse", low=1), "S"),
    (Param("max_processes", 64, "lesson processes a visitor's dashboard may start at most", low=1), "N"),
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


# --- mpviz explore ------------------------------------------------------------------------------


def _add_explore_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("explore options")
    for param, metavar in ((RUNS, "N"), (DEPTH, "D"), (SHRINK, "N"), (STEP_TIMEOUT, "S"), (MAX_STEPS, "N")):
        group.add_argument(
            param.flag,
            dest=param.name,
            type=_param_type(param),
            default=param.default,
            metavar=metavar,
            help=str(param.help),
        )
    group.add_argument(
        "--seed",
        type=_param_type(SEED),
        default=0,
        metavar="S",
        help="PCT's seed, and every process's random numbers (default 0)",
    )
    group.add_argument(
        "-o", "--out", type=Path, metavar="FILE", help="where a failing schedule goes (default NAME.schedule)"
    )
    _add_restore(group, "a file the program changes, put back as it was before each run (repeat for more)")
    _add_at_most(group)
    _add_turn_options(group)
    _add_lang_option(group)


def explore_program_parser() -> Parser:
    parser = Parser(
        prog="mpviz explore",
        usage="mpviz explore PROG.py [options] [-- ARGS ...]  |  mpviz explore LESSON [options]",
        description=(
            "Run a program again and again, each time under another schedule chosen by PCT, until a run "
            "fails: a deadlock or a hang, an uncaught exception, an exit code that is not 0, a lesson's "
            "invariant broken, or --at-most. The failing schedule is written, and replays the same run."
        ),
    )
    parser.add_argument("target", nargs="?", metavar="PROG.py", help="the program")
    parser.add_argument("-m", dest="module", metavar="MODULE", help="run a module, as python -m does")
    _add_explore_options(parser)
    return parser


def _add_explore_parser(commands: Any) -> None:
    explore = commands.add_parser(
        "explore",
        help="run a program or a lesson in many orders, until one fails; write the schedule that replays it",
        description=explore_program_parser().description,
    )
    chosen = explore.add_subparsers(dest="lesson", metavar="LESSON", required=True)
    for cls in lessons():
        teaches = str(cls.teaches)
        lesson = chosen.add_parser(cls.name, help=teaches, description=teaches)
        _add_lesson_params(lesson, cls)
        lesson.add_argument(
            "--start-method",
            choices=START_METHODS,
            default="fork",
            help="how children start (default fork: the quickest, and explore has no dashboard)",
        )
        _add_explore_options(lesson)


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
    _add_explore_parser(commands)
    _add_attach_parser(commands)
    _add_serve_parser(commands)
    _add_insight_parsers(commands)
    replay = commands.add_parser("replay", help="play a recording made with --record")
    replay.add_argument("file", type=Path, metavar="FILE.jsonl")
    replay.add_argument(
        "--speed", type=_param_type(SPEED), default=1.0, metavar="F", help="play F times faster (default 1)"
    )
    _add_lang_option(replay)
    return parser


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
