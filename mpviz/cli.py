"""The ``mpviz`` command: the command line parsed, and handed over.

Kept light on purpose: a spawned child re-imports the module behind
``__main__``, so this module imports only the command line's words
(:mod:`mpviz.options`) at the top, and everything else (the runtime,
Textual) inside the functions that need it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mpviz import lang
from mpviz.files import CannotWrite, same_file, unwritable
from mpviz.options import (
    DASHBOARD_METHODS,
    LANG,
    USAGE_EXIT,
    build_parser,
    program_args,
)
from mpviz.program import Attached, Program, Watched
from mpviz.registry import NAMES, lesson_class, lessons

if TYPE_CHECKING:
    from mpviz.lesson import Lesson
    from mpviz.runtime import Settings

COMMANDS = ("list", "run", "attach", "replay", "serve", "stats", "export")
# The dashboard runs until it is quit; a timed run is a headless one.
NO_DURATION = "--duration only with --headless: the dashboard runs until you quit it"
NO_FORK = "--start-method fork only with --headless: the dashboard has threads, a fork would copy them"


def fail(message: str) -> int:
    print(f"mpviz: error: {message}", file=sys.stderr)
    return USAGE_EXIT


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
        problem = _dashboard_problem(args.dashboard)
        if problem:
            return fail(f"-- {' '.join(args.dashboard)}: {problem}")
        from mpviz.serve import Limits, serve

        limits = Limits(args.max_visitors, args.idle_timeout, args.max_processes)
        return serve(args.host, args.port, limits, args.lang, args.dashboard)
    if args.command in ("stats", "export"):
        return _report(args)
    if args.command == "replay":
        return _dashboard(args, replay=args.file)
    if args.command == "attach":
        return _traced(args, lambda: attach(args), [])  # its only input is a pid
    if args.command == "run":
        lesson = lesson_class(args.lesson)
        params = {p.name: getattr(args, p.name) for p in lesson.params}
        inputs = [(p.flag, params[p.name]) for p in lesson.params if p.file and params[p.name]]
        return _traced(args, lambda: _run(args, lesson, params), inputs)
    return _dashboard(args)  # no command: the lessons


def _dashboard_problem(argv: list[str]) -> str:
    """Why ``mpviz ARGV`` would not open a dashboard ("" if it would): ``mpviz serve -- ARGV``
    is checked before it listens, not by its first visitor."""
    if not argv:
        return ""
    if argv[0] in NAMES:
        build_parser().parse_args(["run", *argv])  # a wrong option: one line, exit 2, as 'mpviz run' says it
        return ""
    if argv[0].startswith("-") or argv[0] in COMMANDS:
        return "not a lesson or a program"
    return Program(argv[0], tuple(argv[1:])).problem()


def watch(argv: list[str]) -> int:
    """``mpviz run PROG.py ...``: a program, in the dashboard or headless."""
    args, program = program_args(argv)
    if args.lang:
        lang.use(args.lang)
    problem = program.problem()
    if problem:
        return fail(problem)
    args.seed, args.start_method = None, "spawn"  # a program chooses its own
    params = {"program": program, "stdin_pipe": not args.headless}
    inputs = [] if program.module else [("the program", program.target)]
    return _traced(args, lambda: _run(args, Watched, params), inputs)


def _supervising() -> None:
    """This process runs lessons and programs: an orphan of a run becomes its child, not init's,
    and is ended with the rest of the run (``PR_SET_CHILD_SUBREAPER``)."""
    from mpviz.runtime.members import become_subreaper

    become_subreaper()


def attach(args: argparse.Namespace) -> int:
    """``mpviz attach PID``: a running program, from outside, in the dashboard or headless."""
    from mpviz.runtime import attach

    problem = attach.problem(args.pid)  # no rights, not Python, gone: one line, before anything starts
    if problem:
        return fail(problem)
    name, argv = attach.target(args.pid)
    args.seed, args.start_method, args.speed = None, "spawn", 1.0
    return _run(args, Attached, {"pid": args.pid, "name": name, "argv": argv})


def _run(args: argparse.Namespace, lesson: type[Lesson], params: dict[str, Any]) -> int:
    """A lesson or a program, headless or in the dashboard, as the options say."""
    if args.record is not None:
        problem = unwritable(args.record)
        if problem:
            return fail(f"cannot write {args.record}: {problem}")
    if args.duration is not None and not args.headless:
        return fail(NO_DURATION)
    early = None
    if args.headless and lesson is Watched:
        # The program starts now, while the rest of mpviz loads: a short program's run is
        # not its own time plus mpviz's (see docs/ARCHITECTURE.md, "Budgets").
        from mpviz.runtime.program import Early

        _supervising()  # before it starts: what it orphans at once is the run's too
        early = Early(params["program"].argv, args.speed)
    from mpviz.runtime import Settings

    settings = Settings(lesson, params, args.speed, args.seed, args.start_method, args.record)
    if args.headless:
        from mpviz import headless

        _supervising()
        try:
            return headless.run(
                settings,
                args.duration,
                stacks=not args.no_stacks,
                strict=args.strict,
                hang_timeout=args.hang_timeout,
                early=early,
            )
        except ValueError as exc:  # a lesson refused its input (a bad --db file)
            return fail(str(exc))
    if settings.method not in DASHBOARD_METHODS:
        return fail(NO_FORK)
    return _dashboard(args, settings)


def _dashboard(args: argparse.Namespace, settings: Settings | None = None, replay: Path | None = None) -> int:
    from mpviz.ui.launch import dashboard

    if replay is None:
        _supervising()
    try:
        return dashboard(settings, replay, getattr(args, "speed", 1.0))
    except ValueError as exc:  # what cannot run, in one line
        return fail(str(exc))


# --- mpviz stats, mpviz export, --trace-out: what a recording says about contention ------------


def _report(args: argparse.Namespace) -> int:
    from mpviz import insight
    from mpviz.telemetry import Malformed

    try:
        if args.command == "stats":
            return insight.stats(args.file, args.json)
        problem = unwritable(args.out)
        if problem:
            return fail(f"cannot write {args.out}: {problem}")
        if same_file(args.file, args.out):
            return fail(f"-o names the recording it reads: {args.out}")
        return insight.export(args.file, args.out)
    except CannotWrite as exc:
        return fail(str(exc))
    except BrokenPipeError:
        # The reader of the output went away (``mpviz stats FILE | head``): not an error.
        from mpviz.headless import PIPE_GONE

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush finds no broken pipe
        os.close(devnull)
        return PIPE_GONE
    except (OSError, Malformed) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return fail(f"cannot read {args.file}: {reason}")


def _traced(args: argparse.Namespace, run: Callable[[], int], inputs: list[tuple[str, str]]) -> int:
    """``--trace-out``: the run is recorded (to a temporary file if not ``--record``), then written as a trace.

    Neither output may be one of the run's ``inputs`` (flag, path: the ticket file, the program),
    nor the other output."""
    out = args.trace_out
    outputs = [(flag, path) for flag, path in (("--record", args.record), ("--trace-out", out)) if path is not None]
    for flag, path in outputs:
        for given_flag, given in inputs:
            if same_file(given, path):
                return fail(f"{given_flag} and {flag} name the same file: {path}")
    if len(outputs) == 2 and same_file(args.record, out):
        return fail(f"--record and --trace-out name the same file: {out}")
    if out is None:
        return run()
    from mpviz import insight

    problem = unwritable(out)
    if problem:
        return fail(f"cannot write {out}: {problem}")
    with insight.recording_for(args) as record:
        code = run()
        if record.exists() and record.stat().st_size:
            try:
                insight.write_trace_of(record, out)
            except (CannotWrite, OSError, ValueError) as exc:
                # Said, but the run's own exit code stays the answer: the program's, the verdict's.
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                print(f"mpviz: error: the trace: {reason}", file=sys.stderr)
                return code
            print(f"mpviz: trace of the run in {out} (open it in ui.perfetto.dev)", file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
