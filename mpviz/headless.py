"""``mpviz run LESSON --headless`` and ``mpviz run prog.py --headless``: printed lines, then a verdict."""

from __future__ import annotations

import re
import signal
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from mpviz import lang
from mpviz.files import stdout_to_devnull
from mpviz.lang import T
from mpviz.lesson import Verdict
from mpviz.model import Anomaly, Model, Prim, find_anomalies
from mpviz.model.anomalies import WARNINGS
from mpviz.model.collector import paused
from mpviz.model.floods import Floods
from mpviz.model.stacks import stack_lines
from mpviz.model.stats import contention, table
from mpviz.model.waits import anyone_gives_up, cycle_lines, deadlocked
from mpviz.runtime import Run, Settings
from mpviz.runtime.program import Early
from mpviz.runtime.run import STACKS_WAIT_NS
from mpviz.telemetry import Event, now_ns
from mpviz.value import Value

if TYPE_CHECKING:
    from mpviz.runtime.scheduler import Scheduler

# Exit codes: the invariant held, it broke, the run was interrupted by a signal.
OK, BROKEN, USAGE = 0, 1, 2
PIPE_GONE = 128 + signal.SIGPIPE  # as a shell reports a process ended by SIGPIPE


class Stop(Exception):
    """Raised in the main thread by SIGTERM, SIGHUP or SIGINT."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _Stopping:
    """The handler of SIGTERM, SIGHUP and SIGINT: a :class:`Stop` raised in the main thread, at once;
    but while records are read and applied (:meth:`held`), only once they are.  (Raised in the middle,
    it cut a batch in two: records already taken from the processes' rings, never applied, and the
    verdict said what the run had not: a refused connection missing, a client's end not counted.)"""

    def __init__(self) -> None:
        self._holding = False
        self._pending: int | None = None

    def __call__(self, signum: int, frame: object) -> None:
        if self._holding:
            self._pending = signum
            return
        raise Stop(signum)

    @contextmanager
    def held(self) -> Iterator[None]:
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
            signum, self._pending = self._pending, None
            if signum is not None:
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

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

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
            stdout_to_devnull()


# The runner's own words, in English and in the tutorial's Chinese.
SAY = {
    "end": T("--- {name}: {s:.1f} s, {n} events ---", "--- {name}:{s:.1f} 秒,{n} 条记录 ---"),
    "still": T("! still: {text}", "! 仍然:{text}"),
    "malformed": T("! {n} malformed records dropped", "! 丢弃了 {n} 条格式错误的记录"),
    "left_out": T(
        "! {n} records left out of the recording: it could not have read them back",
        "! {n} 条记录没有写入录制文件:读取时不会被接受",
    ),
    "lost": T(
        "! {n} records lost: processes dropped what the dashboard could not take in time",
        "! 丢失 {n} 条记录:面板来不及接收,进程把它们丢掉了",
    ),
    "main_failed": T("{text}; stopped: main failed: {failure}", "{text};停止了:主进程出错:{failure}"),
    "stopped_by": T("stopped by {signal}", "被 {signal} 停止"),
    "stuck": T("{text}; mpviz stopped it", "{text};mpviz 停止了它"),
    "no_progress": T(
        "{text}; mpviz stopped it after {s:g} s with no progress (--hang-timeout)",
        "{text};{s:g} 秒没有进展,mpviz 停止了它(--hang-timeout)",
    ),
    "stacks": T("stacks of {name} (pid {pid}), innermost last:", "{name}(pid {pid})的调用栈,最内层在最后:"),
    "processes": T("processes:", "进程:"),
    "stopped_while": T("{state}, when mpviz stopped it ({ended})", "{state},此时 mpviz 结束了它({ended})"),
    "primitives": T("primitives:", "同步原语:"),
    "from": T(" (from {ppid})", "(由 {ppid} 启动)"),
    "at": T(" at {site}", "({site})"),
    "schedule": T("schedule: {n} decision{s}, {switches} switch{es}", "调度:{n} 次决定,{switches} 次切换"),
    "diverged": T(
        "! the schedule no longer fits this program: {where}; from there on, whoever went last went on",
        "! 调度不再符合这个程序:{where};从那里起,由上一个继续走",
    ),
    "note": T("! {text}", "! {text}"),
    "at_most": T(
        "more than {n} printed lines match {pattern}: {count}: invariant broken",
        "匹配 {pattern} 的打印行多于 {n} 行:{count} 行:不变式被打破",
    ),
}
FIGURES = {
    "held": T(
        "{acquisitions} acquired, {waits} waited, at most {most} holding at once",
        "获得 {acquisitions} 次,等待 {waits} 次,同时最多 {most} 个持有",
    ),
    "cond": T("{waits} waited, notified {notifies} {times}", "等待 {waits} 次,通知 {notifies} 次"),
    "queue": T("{puts} put, {gets} got, deepest {deepest}", "放入 {puts} 个,取出 {gets} 个,最多积压 {deepest} 个"),
    "event": T("{sets} set, {clears} cleared, {waits} waited", "set {sets} 次,clear {clears} 次,等待 {waits} 次"),
    "pipe": T("{puts} sent, {gets} received", "发送 {puts} 个,收到 {gets} 个"),
    "barrier": T("{passed} passed", "通过 {passed} 次"),
    "pool": T("{tasks} tasks, {results} results{failed}", "{tasks} 个任务,{results} 个结果{failed}"),
    "failed": T(" ({n} failed)", "(其中 {n} 个失败)"),
    "manager": T("{calls} calls through {proxies}", "通过 {proxies} 调用 {calls} 次"),
    "created": T("created", "已创建"),
    "outside": T(
        "seen from outside: {n} waiting, at most {most} at once (who held it is not seen)",
        "从外面看:{n} 个在等,同时最多 {most} 个(看不到谁持有)",
    ),
    "proxied": T(
        "a Manager's; calls through its proxies that could wait: {waits}", "管理器的对象;可能等待的调用:{waits} 次"
    ),
}


class AtMost(Value):
    """A program's own invariant, on what it prints: at most ``n`` printed lines match ``pattern``."""

    __match_args__ = ("n", "pattern")
    __slots__ = __match_args__
    n: int
    pattern: re.Pattern[str]

    def __init__(self, n: int, pattern: re.Pattern[str]) -> None:
        self.n, self.pattern = n, pattern


class Printed:
    """Printed lines counted against ``--at-most``: the first rule broken, in words, with its count so far."""

    def __init__(self, rules: tuple[AtMost, ...]) -> None:
        self.rules = rules
        self.counts = [0] * len(rules)
        self._first: int | None = None

    def take(self, events: list[Event]) -> str:
        for event in events:
            if event.kind != "proc.output":
                continue
            text = str(event.data.get("text", ""))
            for i, rule in enumerate(self.rules):
                if rule.pattern.search(text):
                    self.counts[i] += 1
                    if self.counts[i] > rule.n and self._first is None:
                        self._first = i
        return self.broken

    @property
    def broken(self) -> str:
        if self._first is None:
            return ""
        rule = self.rules[self._first]
        return SAY["at_most"](n=rule.n, pattern=repr(rule.pattern.pattern), count=self.counts[self._first])


def run(
    settings: Settings,
    duration: float | None = None,
    out: TextIO = sys.stdout,
    stacks: bool = True,
    strict: bool = False,
    hang_timeout: float | None = None,
    at_most: tuple[AtMost, ...] = (),
    early: Early | None = None,
) -> int:
    """A lesson (or a watched program) as printed lines, ending with its verdict; the exit code.

    A lesson: 0 when its invariant held, 1 when it broke.  A program: 1 when
    something went wrong (or it printed more lines than ``at_most`` allows),
    else its main's own exit code.  Raises ValueError, before anything
    starts, when the lesson refuses its input.
    """
    try:
        the_run = Run(settings, early=early)
    except BaseException:
        if early is not None:  # started already, and no run to take it over
            early.abandon()
        raise
    return _run(the_run, duration, out, stacks, strict, hang_timeout, at_most)


def _run(
    the_run: Run,
    duration: float | None,
    out: TextIO,
    stacks: bool = True,
    strict: bool = False,
    hang_timeout: float | None = None,
    at_most: tuple[AtMost, ...] = (),
) -> int:
    output = Output(out)
    printed = Printed(at_most)
    # The model is this loop's own: records go from the run straight into it.
    model = Model()
    floods = Floods()  # (a flood of frequent operations: its first lines, then counted)
    lesson = the_run.lesson
    # Colour codes that a program prints are kept for a terminal, stripped for a file.
    keep_colour = out.isatty()
    stopping = _Stopping()
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, stopping)

    def take(events: list[Event]) -> None:
        printed.take(events)
        with paused():  # (the collector, while the batch is applied: see model/collector.py)
            lines = floods.take(model, events, keep_colour)
        if lines:
            lines.append("")
            output.write("\n".join(lines))  # (one write a batch: a write a line cost a fifth of a flood's time)
        output.flush()

    seen: set[str] = set()
    pitfalls: set[str] = set()  # named over the run (what one warns of may have passed since)

    def warn(now: int) -> None:
        """Print each anomaly (a deadlock, a hang) once, when it first appears; then every stack."""
        named = False
        for anomaly in find_anomalies(model, now):
            if anomaly.text not in seen:
                seen.add(anomaly.text)
                if anomaly.kind == "pitfall":
                    pitfalls.add(anomaly.text)
                    lesson.verdict(model, now)  # (a program's verdict counts the pitfalls named over the run)
                named |= anomaly.kind not in WARNINGS
                output.write(f"{model.seconds(now):8.3f}  {'!':>7}  {'mpviz':<14} {anomaly.text}\n")
                if anomaly.kind == "deadlock":
                    for cycle in deadlocked(model):
                        if tuple(link.actor for link in cycle) == anomaly.pids:
                            output.writelines(f"{'':34}{line}\n" for line in cycle_lines(model, cycle))
        if named and stacks:
            print_stacks()

    def print_stacks() -> None:
        """Every live process's stacks, as each answers (or says why it cannot), within a few seconds."""
        asked = now_ns()
        pids = [p.pid for p in model.procs.values() if p.alive and p.pid != the_run.supervisor.pid]
        for pid in pids:
            the_run.ask_stacks(pid)
        # (and a little more: a process that does not answer is said not to once its time is up)
        ends = asked + STACKS_WAIT_NS + STACKS_WAIT_NS // 2
        while now_ns() < ends and any(model.procs[pid].stacks_ns < asked for pid in pids if pid in model.procs):
            with stopping.held():
                take(the_run.read(0.1))
        for pid in pids:
            proc = model.procs.get(pid)
            if proc is None or proc.stacks_ns < asked:
                continue
            output.write(f"{'':34}{SAY['stacks'](name=proc.name, pid=pid)}\n")
            output.writelines(
                f"{'':36}{line}\n" for line in stack_lines(proc.stacks, proc.stacks_missing, proc.recorded())
            )

    stopped_by: Stop | None = None
    finished = False
    stuck: list[Anomaly] = []  # what made mpviz stop the program: nothing could move any more
    ends = None if duration is None else now_ns() + int(duration * 1e9)
    try:
        the_run.begin()
        while not finished:
            # The collector paused from the read to the batch applied, not only inside each: its
            # first pass after the read would walk every record of the batch, still alive.
            with stopping.held(), paused():
                take(the_run.read(0.1))
            if the_run.record_error or output.gone:
                break  # the recording, or the reader of the output, is gone: stop
            now = now_ns()
            warn(now)
            the_run.look(model, now)
            finished = the_run.finished(model, now)
            if ends is not None and now >= ends:
                if stacks and lesson.stop_when_stuck and not finished:
                    print_stacks()  # a program still running when --duration stops it: where is it?
                break
            stuck = _hangs_for_good(model, now, hang_timeout) if lesson.stop_when_stuck else []
            if stuck:
                break  # nothing can move any more: say so and stop it
            if the_run.failure(model):
                break  # the lesson's main part failed: the lesson can never finish
    except Stop as stop:
        stopped_by = stop
    finally:
        # A second signal while stopping must not cut the stop short.
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(signum, signal.SIG_IGN)
        # Judge the run as it stands, before its processes are stopped, with
        # every record already made (some wait in the ordering window).
        take(the_run.drain())
        now = now_ns()
        verdict = the_run.verdict(model, now, final=finished, printed=bool(printed.broken) if at_most else None)
        if stuck and verdict.ok is not False:
            # mpviz stopped it: never "nothing went wrong so far" (a stop of its own, as if the run had ended).
            verdict = _stopped_stuck(verdict, stuck, hang_timeout)
        # (Warnings — a potential deadlock, a pitfall — end the contention table below.)
        anomalies = [
            a.text for a in find_anomalies(model, now) if a.text not in verdict.text and a.kind not in WARNINGS
        ]
        # What each live process was doing when mpviz stopped it (its end, by mpviz, says only how).
        at_stop = {} if finished else {pid: proc.state for pid, proc in model.procs.items() if proc.alive}
        take(the_run.close())

    if the_run.record_error:
        print(f"mpviz: error: {the_run.record_error}", file=sys.stderr)
        return USAGE
    if output.gone:
        output.close_quietly()
        return PIPE_GONE
    output.writelines(line + "\n" for line in floods.rest(model))
    output.write(SAY["end"](name=the_run.name, s=model.seconds(model.last_ns), n=model.applied) + "\n")
    if lesson.summary_at_end:
        for line in summary(model, at_stop):
            output.write(line + "\n")
    # The contention figures, as ``mpviz stats`` prints them.
    output.writelines(line + "\n" for line in table(contention(model, model.last_ns)))
    for text in anomalies:
        output.write(SAY["still"](text=text) + "\n")
    malformed = the_run.malformed
    if malformed:
        output.write(SAY["malformed"](n=malformed) + "\n")
    if the_run.left_out:
        output.write(SAY["left_out"](n=the_run.left_out) + "\n")
    if model.lost:
        output.write(SAY["lost"](n=model.lost) + "\n")
    for text in model.refusals():
        output.write(f"! {text}\n")
    failure = the_run.failure(model)
    if failure and verdict.ok is not False:
        output.write(SAY["main_failed"](text=verdict.text, failure=failure) + "\n")
    elif verdict.ok is None:
        output.write(lesson.stopped(verdict.text, len(pitfalls)) + "\n")
    else:
        output.write(verdict.text + "\n")
    scheduler = the_run.scheduler
    if scheduler is not None:
        output.writelines(line + "\n" for line in schedule_lines(scheduler))
    if printed.broken:
        output.write(printed.broken + "\n")
    output.flush()
    if stopped_by is not None:
        output.write(SAY["stopped_by"](signal=stopped_by) + "\n")
        return 128 + stopped_by.signum
    if failure or (strict and model.potentials) or printed.broken:
        return BROKEN
    return lesson.exit_code(model, verdict, ended_by_itself=finished)


# A program every live process of which is blocked for this long is stopped:
# nothing can move any more (a deadlock, main waiting on its own event).
HANG_SHOWN_NS = 2_000_000_000


def _hangs_for_good(model: Model, now: int, hang_timeout: float | None) -> list[Anomaly]:
    """What says that nothing can move any more, when it does: mpviz then stops the program ([]: it goes on).

    Never while a process waits with a timeout: its wait ends by itself, and the program with it."""
    if anyone_gives_up(model):
        return []
    anomalies = find_anomalies(model, now)
    feeders = [a for a in anomalies if a.kind == "feeder"]
    if feeders:
        return feeders  # a join that waits for a child that cannot exit: it never returns
    stalled = [a for a in anomalies if a.kind == "stalled"]
    if hang_timeout is not None and stalled:
        live = [p for p in model.procs.values() if p.alive]
        quiet = now - max((p.acted_ns for p in live), default=now)
        return stalled if quiet > hang_timeout * 1e9 else []  # no progress for that long, though mpviz cannot be sure
    stuck = [a for a in anomalies if a.kind in ("deadlock", "hang", "dead-holder", "starved", "lost")]
    if not stuck:
        return []
    # (A manager's server waits for its callers, not on anything: it never keeps a program going.)
    live = [p for p in model.procs.values() if p.alive and p.role != "manager"]
    if (
        all(p.waiting_on is not None or p.elsewhere for p in live)
        and now - max((p.since_ns for p in live), default=now) > HANG_SHOWN_NS
    ):
        return stuck
    return []


def _stopped_stuck(verdict: Verdict, stuck: list[Anomaly], hang_timeout: float | None) -> Verdict:
    """The verdict on a program mpviz stopped because nothing could move: what it saw, and that it stopped it."""
    text = "; ".join(a.text for a in stuck if a.text not in verdict.text)
    text = f"{verdict.text}; {text}" if text else verdict.text
    if any(a.kind == "stalled" for a in stuck) and hang_timeout is not None:
        return Verdict(False, SAY["no_progress"](text=text, s=hang_timeout))
    return Verdict(False, SAY["stuck"](text=text))


def schedule_lines(scheduler: Scheduler) -> list[str]:
    """A scheduled run's decisions, where a replayed schedule stopped fitting, who ran free."""
    from mpviz.schedule.choice import switches  # here: only a scheduled run has any

    n, switched = len(scheduler.steps), switches(scheduler.steps)
    lines = [SAY["schedule"](n=n, s="" if n == 1 else "s", switches=switched, es="" if switched == 1 else "es")]
    diverged = getattr(scheduler.turns.chooser, "diverged", "")
    if diverged:
        lines.append(SAY["diverged"](where=diverged))
    lines += [SAY["note"](text=note.text) for note in scheduler.notes]
    return lines


def summary(model: Model, at_stop: dict[int, str] | None = None) -> list[str]:
    """A line per process (how it ended) and per primitive (its figures).  ``at_stop``: what the
    processes alive when mpviz stopped the run were doing then, by pid."""
    lines = [str(SAY["processes"])]
    for proc in model.procs.values():
        parent = SAY["from"](ppid=proc.ppid) if proc.ppid and proc.ppid in model.procs else ""
        state = proc.state
        if at_stop and proc.pid in at_stop and not proc.alive:
            state = SAY["stopped_while"](state=at_stop[proc.pid], ended=proc.state)
        lines.append(f"  {proc.pid:>7}  {lang.ljust(proc.name, 20)} {state}{parent}")
    if model.prims:
        lines.append(str(SAY["primitives"]))
    for prim in model.prims.values():
        site = SAY["at"](site=prim.site) if prim.site else ""
        lines.append(f"  {prim.word} '{prim.name}'{site}: {figures(prim)}")
    return lines


def figures(prim: Prim) -> str:
    if prim.outside:  # an attached program's: only its waits were seen
        waiting = len(prim.waiters) + len(prim.blocked_get) + len(prim.blocked_put)
        return FIGURES["outside"](n=waiting, most=prim.timing.most_waiting)
    if prim.via:  # an object a manager's server holds: only the calls through its proxies that could wait are seen
        return FIGURES["proxied"](waits=prim.waits)
    if prim.family == "cond":
        times = "time" if prim.notifies == 1 else "times"  # (notify() or notify_all(): each a time)
        return FIGURES["cond"](waits=prim.waits, notifies=prim.notifies, times=times)
    if prim.family in ("lock", "rlock", "sem"):
        return FIGURES["held"](acquisitions=prim.acquisitions, waits=prim.waits, most=prim.max_holders)
    if prim.family == "manager":
        return FIGURES["manager"](calls=prim.calls, proxies=", ".join(prim.proxies) or "-")
    if prim.family in ("queue", "event", "pipe", "barrier", "pool"):
        return FIGURES[prim.family](
            puts=prim.puts,
            gets=prim.gets,
            deepest=prim.deepest,
            sets=prim.sets,
            clears=prim.clears,
            waits=prim.waits,
            passed=prim.passed,
            tasks=prim.tasks,
            results=prim.results,
            failed=FIGURES["failed"](n=prim.failed) if prim.failed else "",
        )
    return str(FIGURES["created"])
