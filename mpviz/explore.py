"""``mpviz explore``: a program (or a lesson) run again and again, each time in another order, until one run fails.

Each run is a scheduled run (:mod:`mpviz.runtime.scheduler`) whose choices
PCT makes (:mod:`mpviz.schedule.pct`): its own random priorities and change
points, from the seed and the run's number.  A run fails when:

* the lesson's invariant breaks (its verdict: the tickets oversell);
* something is named that went wrong: a deadlock (a potential one turned
  real), a hang, a dead holder;
* a process raises an uncaught exception, or exits with a code that is not 0;
* more printed lines match a pattern than ``--at-most`` allows (a program's
  own invariant: ``--at-most 3 购票成功``);
* nobody can go on for ``STUCK_S`` while mpviz names nothing.

At the first failure the schedule is shrunk to fewer switches
(:mod:`mpviz.schedule.shrink`), written (:mod:`mpviz.schedule.file`), replayed
``CHECKS`` times to see that it fails the same way each time, and the command
that replays it printed; when a replay did not fail so, the failure does not
depend on the order alone (randomness, time, the outside world) and explore
says so instead of promising a replay.  A run in which a process did not come back
to a point in time (it talks to another through something mpviz does not
see) cannot be scheduled: explore says so and stops.
"""

from __future__ import annotations

import shlex
import signal
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from mpviz.headless import AtMost, Printed
from mpviz.lesson import Lesson
from mpviz.model import Model, find_anomalies
from mpviz.model.anomalies import WARNINGS
from mpviz.model.words import doing
from mpviz.recording.writer import header
from mpviz.runtime import Run, Settings
from mpviz.runtime.scheduler import STEP_TIMEOUT_S, Turns
from mpviz.schedule import file as schedule_file
from mpviz.schedule.choice import Chooser, Step, signature, switches
from mpviz.schedule.pct import Pct
from mpviz.schedule.replay import Replay
from mpviz.schedule.shrink import candidates
from mpviz.telemetry import now_ns

# Exit codes: nothing failed, a run failed, (2: bad input), a run could not be scheduled.
NOTHING, FAILED, UNSCHEDULABLE = 0, 1, 3
# How long nobody may move, once everyone was let go into its wait, before the run counts as hung.
STUCK_S = 5.0
# How many times a failing schedule is replayed before it is offered: each must fail the same way.
CHECKS = 3


@dataclass
class Limits:
    """What bounds each run, and what else fails it."""

    max_steps: int = 10_000
    step_timeout: float = STEP_TIMEOUT_S
    virtual_time: bool = False
    at_most: tuple[AtMost, ...] = ()
    restore: dict[Path, bytes] = field(default_factory=dict)  # files put back as they were before each run


@dataclass
class Outcome:
    """One run: how it failed ("" if it did not), the kind of failure, its schedule, what it says."""

    failure: str
    kind: str
    steps: list[Step]
    notes: list[str]
    cut: bool = False  # stopped at --max-steps


def run_once(settings: Settings, chooser: Chooser, seed: int, limits: Limits) -> Outcome:
    """One scheduled run of ``settings``, until it ends or fails."""
    for path, content in limits.restore.items():
        path.write_bytes(content)
    turns = Turns(chooser, limits.virtual_time, limits.step_timeout, seed)
    the_run = Run(replace(settings, turns=turns, record=None), sample_every=None)
    scheduler = the_run.scheduler
    assert scheduler is not None
    model = Model()
    printed = Printed(limits.at_most)
    failure, kind, cut = "", "", False
    failed_at = None
    try:
        the_run.begin()
        while True:
            events = the_run.read(0.05)
            model.apply(events)
            printed.take(events)
            now = now_ns()
            the_run.look(model, now)
            finished = the_run.finished(model, now)
            if failed_at is None:
                failure, kind = _failed(the_run, model, now, finished)
                if not failure and printed.broken:
                    failure, kind = printed.broken, "printed"
                if failure:
                    failed_at = now
            # A failing run goes on to its end (or until nobody can move): what it did in the end is
            # what a replay of its schedule shows.
            over = finished or scheduler.stuck_since is not None
            if failed_at is not None and (over or now - failed_at > STUCK_S * 1e9):
                break
            if failed_at is None and finished:
                break
            if len(scheduler.steps) >= limits.max_steps:
                cut = failed_at is None
                break
            stuck = scheduler.stuck_since
            if failed_at is None and stuck is not None and now - stuck > STUCK_S * 1e9:
                failure, kind = _stuck(scheduler.stuck), "hang"
                break
        if failed_at is not None:
            now = now_ns()
            final, _ = (printed.broken, kind) if kind == "printed" else _failed(the_run, model, now, finished)
            failure = final or failure
    finally:
        model.apply(the_run.close())
    notes = [note.text for note in scheduler.notes]
    return Outcome(failure, kind, list(scheduler.steps), notes, cut)


def _failed(the_run: Run, model: Model, now: int, finished: bool) -> tuple[str, str]:
    """How the run failed so far ("" if it did not), and the kind of failure."""
    verdict = the_run.verdict(model, now, final=finished)
    named = [a for a in find_anomalies(model, now) if a.kind not in WARNINGS]
    if named:
        return named[0].text, named[0].kind
    if verdict.ok is False:
        return verdict.text, "invariant"
    failure = the_run.failure(model)
    if failure:
        return f"main failed: {failure}", "exception"
    for proc in model.procs.values():
        if proc.error:
            return f"{proc.name} raised {proc.error}", "exception"
    if finished:
        for proc in model.procs.values():
            if _failing_exit(proc.exit_code):
                return f"{proc.name} {proc.exit_words()}", "exit"
    return "", ""


# Signals that end a process because it went wrong, not because it was told to end.
CRASHES = frozenset(-s for s in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE, signal.SIGILL))


def _failing_exit(code: int | None) -> bool:
    """An exit code of the process's own that is not 0, or a crash.  (None: mpviz ended it.)  A process
    the program ended (a pool's terminate() at the end of its with, a manager's shutdown) did not fail."""
    return code is not None and (code > 0 or code in CRASHES)


def _stuck(stuck: list[Step]) -> str:
    parts = "; ".join(f"{step.who} about to {doing(step.op, step.what, step.at)}" for step in stuck)
    return f"hang: nobody can go on: {parts}"


# --- the search --------------------------------------------------------------------------------


@dataclass
class Search:
    """What the command line asked: how many runs, PCT's seed and depth, how much shrinking, where
    the failing schedule goes, and the command that replays it."""

    runs: int = 100
    seed: int = 0
    depth: int = 3
    shrink: int = 30
    out: Path | None = None
    replay: str = ""  # the command line that replays a schedule, "{file}" for its path


def explore(settings: Settings, search: Search, limits: Limits, out: TextIO = sys.stdout) -> int:
    """Run until a run fails (then shrink, write and say how to replay it) or the runs are done."""
    pct = Pct(search.seed, search.depth)
    seen: set[str] = set()
    started = time.monotonic()
    progress = Progress(sys.stderr, search.runs)
    name = _name(settings)
    for run in range(search.runs):
        pct.start(run)
        outcome = run_once(settings, pct, search.seed, limits)
        seen.add(signature(outcome.steps))
        progress.show(run + 1, len(seen), time.monotonic() - started)
        if outcome.notes:
            progress.done()
            out.write(f"explore {name}: run {run + 1} cannot be scheduled: {outcome.notes[0]}\n")
            out.write(
                "(a process that waits in something mpviz does not see — a socket, a pipe of its own — "
                "or computes for longer than --step-timeout runs beside the others, in any order)\n"
            )
            return UNSCHEDULABLE
        if outcome.failure:
            progress.done()
            return _found(settings, search, limits, outcome, run, out)
    progress.done()
    seconds = time.monotonic() - started
    out.write(
        f"explore {name}: {search.runs} runs, no failure; {len(seen)} distinct interleavings "
        f"(PCT, depth {search.depth}, seed {search.seed}) in {seconds:.1f} s\n"
    )
    return NOTHING


def _name(settings: Settings) -> str:
    return settings.lesson.called(settings.lesson.prepare(dict(settings.params)))


def _found(settings: Settings, search: Search, limits: Limits, found: Outcome, run: int, out: TextIO) -> int:
    """Say how the run failed (as its shrunk schedule does), write the schedule, and how to replay it."""
    outcome, tried = _shrunk(settings, search, limits, found)
    steps = outcome.steps
    out.write(f"explore {_name(settings)}: run {run + 1} of {search.runs} failed: {outcome.failure}\n")
    path = search.out or Path(f"{Path(_name(settings)).stem}.schedule")
    cls = settings.lesson
    values = cls.prepare(dict(settings.params))
    head = {
        **header(cls.header_fields(values), settings.speed, search.seed, settings.method),
        "virtual_time": limits.virtual_time,
        "failure": outcome.failure,
        "failure_kind": outcome.kind,
        "found": f"mpviz explore: run {run + 1}, PCT depth {search.depth}, seed {search.seed}",
    }
    schedule_file.write(path, head, steps)
    shrunk = (
        f" (shrunk from {switches(found.steps)} switches in {tried} runs)"
        if switches(steps) < switches(found.steps)
        else ""
    )
    out.write(f"schedule: {_n(len(steps), 'decision')}, {_n(switches(steps), 'switch')}{shrunk}, written to {path}\n")
    command = search.replay.replace("{file}", shlex.quote(str(path)))
    same = _checked(settings, search, limits, outcome)
    if same == CHECKS:
        out.write(f"replayed {CHECKS} times: it failed the same way each time\n")
        out.write(f"replay it: {command}\n")
    else:
        out.write(
            f"replayed {CHECKS} times: it failed the same way {same} of {CHECKS}: the failure does not depend on "
            "the order alone (randomness, time, the outside world)\n"
        )
        out.write(f"a replay may not fail: {command}\n")
    return FAILED


def _checked(settings: Settings, search: Search, limits: Limits, outcome: Outcome) -> int:
    """How many of ``CHECKS`` strict replays of the failing run's schedule failed the same way."""
    same = 0
    for _ in range(CHECKS):
        again = run_once(settings, Replay(outcome.steps), search.seed, limits)
        same += bool(again.failure) and again.kind == outcome.kind and not again.notes
    return same


def _n(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}{'es' if thing.endswith('ch') else 's'}"


def _shrunk(settings: Settings, search: Search, limits: Limits, outcome: Outcome) -> tuple[Outcome, int]:
    """The failing run with fewer switches, found within ``search.shrink`` runs; how many were tried."""
    best, tried = outcome, 0
    improved = True
    while improved and tried < search.shrink:
        improved = False
        for candidate in candidates(best.steps):
            if tried >= search.shrink:
                break
            tried += 1
            again = run_once(settings, Replay(candidate, strict=False), search.seed, limits)
            if again.kind == outcome.kind and not again.notes and switches(again.steps) < switches(best.steps):
                best, improved = again, True
                break
    return best, tried


class Progress:
    """Runs done, distinct interleavings, time left: one line redrawn on a terminal, nothing elsewhere."""

    def __init__(self, err: TextIO, runs: int) -> None:
        self._err = err
        self._runs = runs
        self._shown = err.isatty()

    def show(self, done: int, seen: int, seconds: float) -> None:
        if not self._shown:
            return
        left = seconds / done * (self._runs - done)
        width = 20
        bar = "━" * (width * done // self._runs) + "─" * (width - width * done // self._runs)
        self._err.write(f"\r{bar} run {done}/{self._runs} · {seen} distinct interleavings · {left:.0f} s left  ")
        self._err.flush()

    def done(self) -> None:
        if self._shown:
            self._err.write("\n")
            self._err.flush()


def replay_command(
    lesson: type[Lesson],
    values: dict,
    program_argv: list[str] | None,
    method: str,
    at_most: tuple[AtMost, ...],
    restore: tuple[Path, ...] = (),
) -> str:
    """How to replay a schedule of this run, headless: ``mpviz run … --schedule {file}`` (with the files
    explore put back before each run put back after it: each replay starts from them as they were)."""
    checks = "".join(f" --at-most {rule.n} {shlex.quote(rule.pattern.pattern)}" for rule in at_most)
    checks += "".join(f" --restore {shlex.quote(str(path))}" for path in restore)
    if program_argv is not None:
        target, *args = program_argv
        rest = f" -- {shlex.join(args)}" if args else ""
        return f"mpviz run {shlex.quote(target)} --headless{checks} --schedule {{file}}{rest}"
    flags = ["--headless"]
    for param in lesson.params:
        value = values.get(param.name, param.default)
        if value == param.default:
            continue
        flags.append(param.flag if isinstance(param.default, bool) else f"{param.flag} {shlex.quote(str(value))}")
    if method != "spawn":
        flags.append(f"--start-method {method}")
    return f"mpviz run {lesson.name} {' '.join(flags)}{checks} --schedule {{file}}"
