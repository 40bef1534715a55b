"""The ``mpviz`` command: the command line parsed, and handed over.

Kept light on purpose: a spawned child re-imports the module behind
``__main__``, so this module imports only the command line's words
(:mod:`mpviz.options`) at the top, and everything else (the runtime,
Textual) inside the functions that need it.
"""

from __future__ import annotations

import argparse
import atexit
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from mpviz import lang
from mpviz.files import CannotWrite, same_file, stdout_to_devnull, unwritable
from mpviz.options import (
    AT_MOST,
    DASHBOARD_METHODS,
    LANG,
    USAGE_EXIT,
    build_parser,
    program_args,
)
from mpviz.program import Attached, Program, Watched
from mpviz.registry import NAMES, lesson_class, lessons

TYPE_CHECKING = False  # (typing's import is not paid before a watched program starts)
if TYPE_CHECKING:
    from typing import Any, NoReturn

    from mpviz.headless import AtMost
    from mpviz.lesson import Lesson
    from mpviz.runtime import Settings
    from mpviz.runtime.program import Early

COMMANDS = ("list", "run", "explore", "attach", "replay", "serve", "stats", "export")
# The dashboard runs until it is quit; a timed run is a headless one.
NO_DURATION = "--duration only with --headless: the dashboard runs until you quit it"
NO_FORK = "--start-method fork only with --headless: the dashboard has threads, a fork would copy them"
NO_STEP = "--step only in the dashboard: in step mode you choose who goes (--schedule replays a schedule headless)"
STEP_OR_SCHEDULE = "--step or --schedule, not both"
NO_AT_MOST = "--at-most only with --headless: the dashboard shows what the program prints, a headless run judges it"


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


def entry() -> NoReturn:
    """The ``mpviz`` command as a process (the console script, ``python -m mpviz``): :func:`main`, then out.

    Out at once, without the interpreter's teardown of every module mpviz
    loaded (~10 ms of CPU, after a short program's last line): what of it
    matters is done first, as the interpreter does it — the threads that are
    not daemons waited for (if there is one, the interpreter does it all),
    the exit functions run (multiprocessing's among them), the output
    flushed (should that fail, the interpreter says so as it would)."""
    try:
        code = main()
    except KeyboardInterrupt:  # Ctrl+C in stats, export, list …: stopped, as asked, with no traceback
        code = 128 + signal.SIGINT
    except BrokenPipeError:  # ``mpviz list | head``: the reader has what it wanted
        code = _reader_gone()
    me = threading.current_thread()
    if any(not thread.daemon for thread in threading.enumerate() if thread is not me):
        sys.exit(code)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = _reader_gone()
    except Exception:
        sys.exit(code)
    os._exit(code)


def _reader_gone() -> int:
    """Our output's reader went away: nothing more to say to it (the interpreter's last flush
    finds /dev/null, not a broken pipe); the exit of a process killed by SIGPIPE, as a shell's."""
    stdout_to_devnull()
    return 128 + signal.SIGPIPE


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
    if argv[:1] == ["explore"] and len(argv) > 1 and argv[1] not in NAMES and (argv[1] == "-m" or argv[1][:1] != "-"):
        return explore_program(argv[1:])
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
        return _traced(args, lambda: _run(args, lesson, params), inputs + _restored(args))
    if args.command == "explore":
        cls = lesson_class(args.lesson)
        return _explore(args, cls, {p.name: getattr(args, p.name) for p in cls.params})
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
    return _traced(args, lambda: _run(args, Watched, params), inputs + _restored(args))


def _restored(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The files ``--restore`` puts back: inputs of the run, never one of its outputs."""
    return [("--restore", str(path)) for path in args.restore]


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
    if args.step and args.headless:
        return fail(NO_STEP)
    if args.at_most and not args.headless:
        return fail(NO_AT_MOST)
    if args.step and args.schedule is not None:
        return fail(STEP_OR_SCHEDULE)
    try:
        restore = _restorable(args)  # (before the program may start: as it was before the run)
    except ValueError as exc:
        return fail(str(exc))
    early = None
    if args.headless and lesson is Watched and args.schedule is None:  # (a scheduled run starts its own)
        # The program starts now, while the rest of mpviz loads: a short program's run is
        # not its own time plus mpviz's (see docs/ARCHITECTURE.md, "Budgets").
        from mpviz.runtime.program import Early

        _supervising()  # before it starts: what it orphans at once is the run's too
        early = Early(params["program"].argv, args.speed)
    from mpviz.runtime import Settings

    settings = Settings(lesson, params, args.speed, args.seed, args.start_method, args.record)
    try:
        settings = _scheduled(args, settings)  # (only with --step or --schedule: no early start then)
    except ValueError as exc:
        return fail(str(exc))
    try:
        return _run_settings(args, settings, early)
    finally:
        _put_back(restore)  # a replay of a program that changes a file: the next one finds it as this one did


def _run_settings(args: argparse.Namespace, settings: Settings, early: Early | None) -> int:
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
                at_most=_at_most(args),
                early=early,
            )
        except ValueError as exc:  # a lesson refused its input (a bad --db file)
            return fail(str(exc))
    if settings.method not in DASHBOARD_METHODS:
        return fail(NO_FORK)
    return _dashboard(args, settings)


def _scheduled(args: argparse.Namespace, settings: Settings) -> Settings:
    """``--step`` (a person chooses) or ``--schedule FILE`` (a schedule replayed): a scheduled run.
    ValueError for a schedule that cannot be read, or that is not of this run."""
    if not args.step and args.schedule is None:
        return settings  # (before any import: a run that is not scheduled never needs them)
    from dataclasses import replace

    from mpviz.runtime.scheduler import Turns
    from mpviz.schedule.choice import Nobody

    if args.step:
        return replace(settings, turns=Turns(Nobody(), args.virtual_time, seed=args.seed or 0))
    from mpviz.schedule import file as schedule_file
    from mpviz.schedule.replay import Replay
    from mpviz.telemetry import Malformed

    try:
        schedule = schedule_file.read(args.schedule)
    except (OSError, Malformed) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ValueError(f"cannot read {args.schedule}: {reason}") from None
    ran = schedule.header.name
    name = settings.lesson.called(settings.params)
    if ran != name:
        raise ValueError(f"{args.schedule} is a schedule of {ran}, not of {name}")
    if schedule.header.lesson is not Watched:
        differ = [
            p.flag for p in settings.lesson.params if settings.params.get(p.name) != schedule.header.params.get(p.name)
        ]
        if differ:
            raise ValueError(f"{args.schedule} was made with other {', '.join(differ)}: give the same options")
    seed = schedule.seed or 0
    method = schedule.start_method or settings.method
    turns = Turns(Replay(schedule.steps, True, *schedule.failure), schedule.virtual_time, seed=seed)
    if settings.lesson is Watched:
        return replace(settings, turns=turns)
    return replace(settings, turns=turns, seed=seed if settings.seed is None else settings.seed, method=method)


# --- mpviz explore -----------------------------------------------------------------------------


def explore_program(argv: list[str]) -> int:
    """``mpviz explore PROG.py [options] [-- ARGS]``."""
    args, program = program_args(argv, explore=True)
    if args.lang:
        lang.use(args.lang)
    problem = program.problem()
    if problem:
        return fail(problem)
    args.start_method = "spawn"  # a program chooses its own
    return _explore(args, Watched, {"program": program, "stdin_pipe": True}, program.argv)


def _at_most(args: argparse.Namespace) -> tuple[AtMost, ...]:
    """``--at-most N REGEX``, each checked: ValueError with the reason."""
    import re

    from mpviz.headless import AtMost

    rules = []
    for n, pattern in args.at_most:
        try:
            rules.append(AtMost(AT_MOST.parse(n), re.compile(pattern)))
        except (ValueError, re.error) as exc:
            raise ValueError(f"argument --at-most: {exc}") from None
    return tuple(rules)


def _explore(
    args: argparse.Namespace, lesson: type[Lesson], params: dict[str, Any], program: list[str] | None = None
) -> int:
    from mpviz import explore
    from mpviz.runtime import Settings

    try:
        at_most = _at_most(args)
    except ValueError as exc:
        return fail(str(exc))
    try:
        restore = _restorable(args)
    except ValueError as exc:
        return fail(str(exc))
    out = args.out
    if out is not None and unwritable(out):
        return fail(f"cannot write {out}: {unwritable(out)}")
    replay = explore.replay_command(lesson, params, program, args.start_method, at_most, tuple(restore))
    search = explore.Search(args.runs, args.seed, args.depth, args.shrink, out, replay)
    limits = explore.Limits(args.max_steps, args.step_timeout, args.virtual_time, at_most, restore)
    settings = Settings(lesson, params, 1.0, args.seed, args.start_method)
    _supervising()
    try:
        return explore.explore(settings, search, limits)
    except ValueError as exc:  # a lesson refused its input (a bad --db file)
        return fail(str(exc))
    finally:
        _put_back(restore)


def _restorable(args: argparse.Namespace) -> dict[Path, bytes]:
    """``--restore FILE``: each file's content now, to put back; ValueError for one that cannot be."""
    restore: dict[Path, bytes] = {}
    for path in args.restore:
        problem = unwritable(path)
        try:
            restore[path] = path.read_bytes()
        except OSError as exc:
            problem = problem or exc.strerror or str(exc)
        if problem:
            raise ValueError(f"cannot restore {path}: {problem}")
    return restore


def _put_back(restore: dict[Path, bytes]) -> None:
    for path, content in restore.items():  # as the user left it
        path.write_bytes(content)


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
