"""A watched program, and an attached one: any Python program, unmodified, seen as a lesson is.

``mpviz prog.py`` runs the program's main as a child of the supervisor (see
:mod:`mpviz.runtime.program`), every Python process of it reporting through
mpviz's multiprocessing.  To the screens, the headless runner and a replay it
is a kind of lesson, :class:`Watched`: its main part starts the program, its
verdict names what went wrong (a deadlock, a hang) or how it ended, its panel
draws its primitives, and what its processes print is shown with a box for
its standard input.

An attached program (``mpviz attach PID``) was started by somebody else and
goes on after mpviz: :class:`Attached` reads it from outside (its stacks,
see :mod:`mpviz.runtime.attach`), never stops or signals it, and detaches
when the dashboard quits.
"""

from __future__ import annotations

import os
from pathlib import Path

from mpviz.lang import T
from mpviz.lesson import Lesson, Run, Verdict
from mpviz.shown import visible
from mpviz.value import Value

TYPE_CHECKING = False  # (typing's import is not paid before a watched program starts)
if TYPE_CHECKING:  # the model is only read, never imported at run time
    from typing import Any

    from mpviz.model import Model


class Program(Value):
    """What to run: a file (``prog.py``) or a module (``-m package.module``), and its arguments."""

    __match_args__ = ("target", "args", "module")
    __slots__ = __match_args__
    target: str
    args: tuple[str, ...]
    module: bool

    def __init__(self, target: str, args: tuple[str, ...] = (), module: bool = False) -> None:
        self.target, self.args, self.module = target, args, module

    @classmethod
    def from_argv(cls, argv: list[str]) -> Program:
        """The program a recording's ``argv`` ran (``[prog.py, ARGS…]`` or ``[-m, module, ARGS…]``)."""
        if argv[:1] == ["-m"] and len(argv) > 1:
            return cls(argv[1], tuple(argv[2:]), module=True)
        return cls(argv[0] if argv else "?", tuple(argv[1:]))

    @property
    def name(self) -> str:
        """Its name as shown: a file's name may hold anything, control characters made visible."""
        return visible(self.target if self.module else Path(self.target).name)

    @property
    def argv(self) -> list[str]:
        return ["-m", self.target, *self.args] if self.module else [self.target, *self.args]

    def problem(self) -> str:
        """Why it cannot run (empty if it can): checked before anything starts."""
        if self.module:
            return ""
        path = Path(self.target)
        if not path.exists():
            return f"no lesson or file {self.target!r}"
        if not path.is_file():
            return f"{self.target} is not a file"
        if not os.access(path, os.R_OK):
            return f"cannot read {self.target}"
        return ""


ABOUT = T(
    """\
# Watching {name}

Every process of the program is a row of **Processes**, parent before child.
**Primitives** shows each lock, semaphore, event, queue and pipe it made,
named after the variable it was assigned to, with who holds it and who waits.
**Printed** is what each process printed, in its own colour; type a line in
the box below it for the program's standard input. A deadlock, a lock held
by a dead process, or a wait nobody can end is named at the top.
""",
    """\
# 观察 {name}

程序的每个进程是 **进程** 里的一行,父进程在子进程前面。
**同步原语** 列出它创建的每个锁、信号量、事件、队列和管道,以赋给的变量命名,
显示谁持有、谁在等。**打印输出** 是每个进程打印的内容,各用自己的颜色;
在下面的框里输入一行,就送到程序的标准输入。死锁、被已死进程持有的锁、
谁也结束不了的等待,会在最上面指出来。
""",
)

PRIMITIVES = T("Primitives", "同步原语")
SAY = {
    "processes": T("{n} {processes}", "{n} 个进程"),
    "main_ended": T("main {state}", "主进程{state}"),
    "main_unseen": T("main not seen yet", "还没看到主进程"),
    "main_alive": T("main still {state}", "主进程仍在:{state}"),  # (what it does: running, waiting …)
    "nothing": T("{text}; nothing went wrong", "{text};一切正常"),
    "failed": T("{name} failed: {how}", "{name} 出错:{how}"),
    "pitfalls": T(
        "{text}; it ended, but not safely: {n} {pitfalls} named above", "{text};它结束了,但不安全:上面指出了 {n} 个陷阱"
    ),
    "stopped_pitfalls": T(
        "{text}; stopped before it ended: {n} {pitfalls} named above", "{text};程序结束前被停止:上面指出了 {n} 个陷阱"
    ),
    "could": T(
        "{text}; nothing went wrong this time, but it could deadlock (the potential deadlock above)",
        "{text};这次一切正常,但它可能死锁(见上面的潜在死锁)",
    ),
}


class Watched(Lesson):
    """A program as the subject of a run: ``values`` holds its :class:`Program` (``program``) and
    whether the dashboard types into its stdin (``stdin_pipe``; headless, it reads mpviz's own)."""

    name = "program"
    title = T("watching a program", "观察一个程序")
    teaches = T(
        "any Python program, unmodified, with its multiprocessing instrumented",
        "任何 Python 程序,原样运行,它的多进程被观察",
    )
    watch = T(
        "a deadlock, a lock held by a dead process, a wait nobody can end",
        "死锁、被已死进程持有的锁、谁也结束不了的等待",
    )
    panel_module = "mpviz.ui.widgets.program_panel"
    printed = True
    main_is_here = False
    stop_when_stuck = True
    summary_at_end = True
    stopped_early = T(
        "{text}; stopped before it ended: nothing went wrong so far", "{text};程序结束前被停止:目前一切正常"
    )

    def __init__(self, run: Run, seed: int | None = None, **params: Any) -> None:
        super().__init__(run, seed, **params)
        self.program: Program = self.values["program"]
        self._pitfalls: set[str] = set()  # named over the run

    @classmethod
    def stopped(cls, text: str, pitfalls: int) -> str:
        if pitfalls:  # (not "nothing went wrong so far")
            n = pitfalls
            return SAY["stopped_pitfalls"](text=text, n=n, pitfalls="pitfall" if n == 1 else "pitfalls")
        return cls.stopped_early(text=text)

    @classmethod
    def prepare(cls, values: dict[str, Any]) -> dict[str, Any]:
        program = values.get("program")
        if not isinstance(program, Program):
            raise ValueError("no program to watch")
        problem = program.problem()
        if problem:
            raise ValueError(problem)
        return {"stdin_pipe": False, **values}

    @classmethod
    def called(cls, values: dict[str, Any]) -> str:
        program = values.get("program")
        return program.name if isinstance(program, Program) else cls.name

    @classmethod
    def panel_title(cls, values: dict[str, Any]) -> str:
        return str(PRIMITIVES)

    @classmethod
    def about(cls, name: str) -> str:
        return ABOUT(name=name)

    @classmethod
    def header_fields(cls, values: dict[str, Any]) -> dict[str, Any]:
        program: Program = values["program"]
        # Bounded, so that the header stays a line a reader takes (at most 64 KiB).
        return {"program": program.name[:1000], "argv": [arg[:1000] for arg in program.argv[:50]]}

    def direct(self) -> None:
        self.run.start_program(self.program.argv, self.values["stdin_pipe"])

    def send_line(self, line: str) -> None:
        """A line for the main's stdin (the dashboard's input box)."""
        self.run.write_stdin(line)

    def finished(self, model: Model, now_ns: int) -> bool:
        """The program ended by itself: its main, and every process of it that mpviz saw."""
        main = _main(model)
        return main is not None and not any(p.alive for p in model.procs.values())

    @classmethod
    def judge(cls, model: Model, values: dict[str, Any], now_ns: int, final: bool = False) -> Verdict:
        # Here, not at the top: the command line imports this module, and every spawned child the command line.
        from mpviz.model.anomalies import find_anomalies

        found = find_anomalies(model, now_ns)
        return cls._judge(model, values, found, final, sum(a.kind == "pitfall" for a in found))

    def verdict(self, model: Model, now_ns: int, final: bool = False) -> Verdict:
        """As :meth:`judge` says, with every pitfall named over the run counted (what one warned
        of may have passed since: a zombie reaped, a lost result no longer waited for) — but for one
        that turned out not to be (``passing``: a slow task that came back)."""
        from mpviz.model.anomalies import find_anomalies

        found = find_anomalies(model, now_ns)
        self._pitfalls.update(a.text for a in found if a.kind == "pitfall" and not a.passing)
        now = {a.text for a in found if a.kind == "pitfall"}
        return self._judge(model, self.values, found, final, len(self._pitfalls | now))

    def named(self) -> list[str]:
        return sorted(self._pitfalls)

    @classmethod
    def _judge(cls, model: Model, values: dict[str, Any], found: list[Any], final: bool, pitfalls: int) -> Verdict:
        from mpviz.model.anomalies import WARNINGS

        anomalies = [a for a in found if a.kind not in WARNINGS]
        if anomalies:
            return Verdict(False, "; ".join(a.text for a in anomalies))
        main = _main(model)
        if main is None:
            ended = str(SAY["main_unseen"])
        else:
            ended = SAY["main_ended" if not main.alive else "main_alive"](state=main.state)
        count = len(model.procs)
        text = f"{cls.called(values)}: {SAY['processes'](n=count, processes='process' if count == 1 else 'processes')}, {ended}"
        if main is not None and _main_failed(main):
            # An exception, a syntax error, a crash: not "nothing went wrong".  Its last words are
            # the last line it printed on stderr (a traceback's: SyntaxError: invalid syntax).
            words = main.last_err if main.exit_code else ""
            return Verdict(False, f"{text}: {words}" if words else text)
        if not final:
            return Verdict(None, text)
        failed = [
            SAY["failed"](name=p.name, how=p.error or p.state)
            for p in model.procs.values()
            if _failed(p) and p is not main
        ]
        if failed:
            return Verdict(True, f"{text}; {', '.join(failed)}", warns=True)
        if pitfalls:
            # (What the pitfall warns of may have happened: lost updates, a lost result.)
            plural = "pitfall" if pitfalls == 1 else "pitfalls"
            return Verdict(True, SAY["pitfalls"](text=text, n=pitfalls, pitfalls=plural), warns=True)
        could = any(a.kind == "potential" for a in found)
        return Verdict(True, SAY["could" if could else "nothing"](text=text))

    def exit_code(self, model: Model, verdict: Verdict, ended_by_itself: bool) -> int:
        """The main's own code if it ended by itself (a failure of its own included); else 1 if
        something went wrong, 0 if mpviz stopped it (128 + N for a signal N, as a shell says)."""
        main = _main(model)
        own = ended_by_itself and main is not None and main.exit_code is not None
        if verdict.ok is False and not (own and _main_failed(main)):
            return 1
        if own:
            code = main.exit_code
            return code if code >= 0 else 128 - code
        return 0


def _main_failed(main: Any) -> bool:
    """The main ended with an error of its own: a code other than 0, or a signal."""
    return not main.alive and ((main.exit_code is not None and main.exit_code != 0) or bool(main.exit_signal))


def _main(model: Model) -> Any:
    return next((p for p in model.procs.values() if p.role == "main"), None)


def _failed(proc: Any) -> bool:
    """An uncaught exception, or an exit with a code of its own (a signal is most often the program's
    own doing: terminate(), a pool's or the end of a daemon)."""
    return bool(proc.error or (proc.exit_code is not None and proc.exit_code > 0))


ABOUT_ATTACHED = T(
    """\
# Attached to {name}

mpviz did not start this program and does not stop it: **q detaches**, and
every process of it goes on exactly as it was. Nothing in it reports to
mpviz; once a second mpviz reads the Python stack of each process that ran
(py-spy, without pausing it) and names what its main thread does, at the
line of the program that does it: waiting in a queue's get, a lock, a pipe,
an event, joining a child, sleeping, in a socket call, running.

Seen from outside, who *waits* on a lock or a queue is known, who *holds* a
lock is not, nor what a queue holds, nor what the processes print. A watched
run (`mpviz prog.py`) sees all of it.
""",
    """\
# 附加到 {name}

这个程序不是 mpviz 启动的,mpviz 也不会停掉它:**按 q 脱离**,它的每个进程照旧运行。
程序里没有任何东西向 mpviz 报告;mpviz 每秒读取每个运行过的进程的 Python 调用栈
(py-spy,不暂停它),指出它的主线程在程序的哪一行做什么:在队列的 get、锁、管道、
事件上等待,等待子进程结束,睡眠,在 socket 调用里,运行中。

从外面看,谁在**等**锁或队列是知道的,谁**持有**锁不知道,队列里有什么、进程打印了什么也不知道。
被观察的运行(`mpviz prog.py`)都能看到。
""",
)


class Attached(Lesson):
    """A running program seen from outside: ``values`` holds its ``pid``, its ``name`` and its ``argv``."""

    name = "attached"
    title = T("attached to a running program", "附加到一个运行中的程序")
    teaches = T(
        "a running Python program, seen from outside without restarting or changing it",
        "一个运行中的 Python 程序,从外面看,不重启也不改动它",
    )
    watch = T("a wait nobody can end, a join on a child that never ends", "谁也结束不了的等待,永远等不到的 join")
    panel_module = "mpviz.ui.widgets.program_panel"
    main_is_here = False
    detaches = True
    unseen = T(
        "Seen from outside: who waits for a lock, a queue or a child is known; who holds a lock is not, "
        "nor what a queue holds.",
        "从外面看:谁在等锁、队列或子进程是知道的;谁持有锁、队列里有什么,看不到。",
    )
    summary_at_end = True
    stopped_early = T("{text}; detached: the program goes on", "{text};已脱离:程序继续运行")

    @classmethod
    def prepare(cls, values: dict[str, Any]) -> dict[str, Any]:
        pid = values.get("pid")
        if type(pid) is not int or pid <= 0:
            raise ValueError("no process to attach to")
        return {"name": f"pid {pid}", "argv": [], **values}

    @classmethod
    def called(cls, values: dict[str, Any]) -> str:
        return f"{values.get('name') or '?'} (pid {values.get('pid')})"

    @classmethod
    def panel_title(cls, values: dict[str, Any]) -> str:
        return str(PRIMITIVES)

    @classmethod
    def about(cls, name: str) -> str:
        return ABOUT_ATTACHED(name=name)

    @classmethod
    def header_fields(cls, values: dict[str, Any]) -> dict[str, Any]:
        return {"program": values["name"], "argv": values["argv"], "attached": values["pid"]}

    def direct(self) -> None:
        self.run.attach(self.values["pid"])

    def finished(self, model: Model, now_ns: int) -> bool:
        """The program ended by itself: its main, and every process of it seen."""
        return _main(model) is not None and not any(p.alive for p in model.procs.values())

    @classmethod
    def judge(cls, model: Model, values: dict[str, Any], now_ns: int, final: bool = False) -> Verdict:
        return Watched.judge(model, {"program": Program(str(values.get("name")))}, now_ns, final)

    def exit_code(self, model: Model, verdict: Verdict, ended_by_itself: bool) -> int:
        """1 if something went wrong; else 0 (the exit code of a process mpviz did not start cannot be known)."""
        return 1 if verdict.ok is False else 0
