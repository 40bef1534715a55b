"""The printlock lesson: the same workers in three modes, side by side."""

from __future__ import annotations

import threading
from typing import Any

from mpviz.lang import T, vocabulary
from mpviz.lesson import BROKEN, HELD, Action, Lesson, Param, Run, Sample, Shot, Verdict, all_exited
from mpviz.lessons.printlock.workers import MODES, Said, work
from mpviz.model import Model, Proc
from mpviz.sync import Lock
from mpviz.telemetry import emit

# Main's note as each round starts: what is around the prints.  (The workers' own
# words stay as the tutorial prints them, in English.)
ROUND = {
    "none": "round: none (nothing around the prints)",
    "lock": "round: lock (a Lock around both prints)",
    "join": "round: join (p.join() after each p.start())",
}
vocabulary(
    {
        ROUND["none"]: "这一轮:none(print 外面什么都没有)",
        ROUND["lock"]: "这一轮:lock(两个 print 外面加一把锁)",
        ROUND["join"]: "这一轮:join(每次 p.start() 之后 p.join())",
    }
)
HOW = {
    "none": T(" (nothing around the prints)", "(print 外面什么都没有)"),
    "lock": T(" (a Lock around both prints)", "(两个 print 外面加一把锁)"),
    "join": T(" (p.join() after each p.start())", "(每次 p.start() 之后 p.join())"),
}
SAY = {
    "at_once": T("{mode}: {up_to}{most} running at once", "{mode}:同时最多 {most} 个在运行"),
    "up_to": T("up to ", ""),
    "none_yet": T("no round finished yet", "还没有哪一轮结束"),
    "between": T(
        "worker {j}'s '{what}' came between worker {i}'s two lines",
        "worker {j} 的 '{what}' 插在了 worker {i} 的两行之间",
    ),
    "interleave": T("without a lock the lines interleave: {how}", "不加锁,输出交错了:{how}"),
    "serial": T("{modes} should be serial", "{modes} 应该是串行的"),
}


def span(proc: Proc) -> tuple[int, int] | None:
    """When a worker said it was running, and when it said it was done."""
    start, end = proc.first_said(Said.RUNNING), proc.first_said(Said.DONE)
    return None if start is None or end is None else (start, end)


def most_at_once(spans: list[tuple[int, int]]) -> int:
    steps = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans], key=lambda x: (x[0], x[1]))
    now = most = 0
    for _, delta in steps:
        now += delta
        most = max(most, now)
    return most


def rounds(model: Model) -> dict[str, list[Proc]]:
    """The workers of the latest round of each mode (their labels are "MODE n")."""
    by_mode: dict[str, list[Proc]] = {}
    for proc in model.by_role("worker"):
        mode, _, n = proc.label.partition(" ")
        if n == "0":
            by_mode[mode] = []
        by_mode.setdefault(mode, []).append(proc)
    return by_mode


def interleaving(procs: list[Proc]) -> str:
    """The first line that came between another worker's two lines, in words ("" if they came in pairs)."""
    lines = sorted(
        (t, proc.label.partition(" ")[2], str(word))
        for proc in procs
        for word in (Said.RUNNING, Said.DONE)
        if (t := proc.first_said(word)) is not None
    )
    opened: str | None = None  # the worker between its two lines
    for _, n, word in lines:
        if opened is not None and n != opened:
            return SAY["between"](i=opened, j=n, what=word)
        opened = n if word == Said.RUNNING else None
    return ""


class PrintLock(Lesson):
    name = "printlock"
    title = T("Lock vs join vs nothing", "锁、join,还是什么都不加")
    teaches = T(
        "a Lock around both prints makes them come in pairs; join() after each start makes workers run in turn",
        "两个 print 外面加锁,输出就成对出现;每次 start 之后 join(),进程就一个接一个地运行",
    )
    watch = T(
        "the printed lines, interleaved without the lock, in pairs with it; the rounds' bars side by side",
        "打印出来的行:不加锁时交错,加锁后成对;三轮的时间条并排对比",
    )
    explain = T(
        "Three workers each print 'running', sleep, print 'done'. Started together with nothing "
        "around them, their lines interleave: the broken outcome, named. With a Lock taken before the "
        "first print and released after the last, one worker at a time is between the two: the output "
        "comes in pairs. With p.join() right after each p.start(), main waits for each worker before "
        "starting the next.",
        "三个进程各自打印 'is running',sleep,再打印 'is done'。一起启动、外面什么都不加时,它们的输出交错:"
        "这是出错的结果,mpviz 会指出来。第一次 print 之前拿锁、最后一次 print 之后释放,同一时间只有一个进程"
        "在两行之间:输出成对出现。每次 p.start() 之后马上 p.join(),主进程等一个结束再启动下一个。",
    )
    params = (
        Param(
            "mode",
            "all",
            T("none, lock, join, or all three one after another", "none、lock、join,或三种依次都来(all)"),
            choices=("all", *MODES),
        ),
        Param("workers", 3, T("workers in each round", "每轮几个进程"), 1, 100),
    )
    actions = (
        Action(
            "m",
            "next_mode",
            T("Next mode", "下一种"),
            T("run the workers again in the next mode: none → lock → join", "换下一种方式再运行:none → lock → join"),
        ),
        Action(
            "g",
            "again",
            T("Run again", "再运行"),
            T("run the workers again in the mode of the last round", "用上一轮的方式再运行一次"),
        ),
    )
    quick = ("--mode", "lock", "--workers", "3", "--speed", "10", "--seed", "4")
    busy = ("--workers", "5", "--speed", "50")
    samples = (
        Sample(
            "printlock",
            {},
            seed=4,
            shots=(Shot("printlock", 2.2, "printlock: nothing, a Lock, join(): concurrent becomes serial"),),
        ),
    )

    def __init__(self, run: Run, seed: int | None = None, **params: Any) -> None:
        super().__init__(run, seed, **params)
        self.lock = Lock(name="print")
        self.mode = MODES[0] if self.values["mode"] == "all" else self.values["mode"]
        self.started = 0
        self._one_round = threading.Lock()  # a key pressed during a round waits its turn

    def direct(self) -> None:
        modes = MODES if self.values["mode"] == "all" else (self.values["mode"],)
        for mode in modes:
            if not self.round(mode):
                return

    def round(self, mode: str) -> bool:
        """The tutorial's main part, in one mode; False if the lesson stopped."""
        with self._one_round:
            self.mode = mode
            emit("note", ROUND[mode])
            pids = []
            for i in range(self.values["workers"]):
                pid = self.run.start(
                    work, (i, self.lock if mode == "lock" else None), role="worker", label=f"{mode} {i}"
                )
                self.started += 1
                pids.append(pid)
                if mode == "join" and not self.run.wait_exit([pid]):
                    return False
            return self.run.wait_exit(pids)

    def next_mode(self) -> None:
        self.round(MODES[(MODES.index(self.mode) + 1) % len(MODES)])

    def again(self) -> None:
        self.round(self.mode)

    def finished(self, model: Model, now_ns: int) -> bool:
        return not self.directing and all_exited(model, "worker", self.started)

    @classmethod
    def judge(cls, model: Model, values: dict[str, Any], now_ns: int, final: bool = False) -> Verdict:
        parts, broken = [], []
        serial: list[str] = []
        for mode, procs in rounds(model).items():
            spans = [s for p in procs if (s := span(p)) is not None]
            if not spans:
                continue
            most = most_at_once(spans)
            parts.append(SAY["at_once"](mode=mode, up_to=SAY["up_to"] if most > 1 else "", most=most))
            how = interleaving(procs) if mode == "none" else ""
            if how:
                broken.append(SAY["interleave"](how=how))
            if mode in ("lock", "join") and most > 1:
                serial.append(mode)
        if serial:
            broken.append(SAY["serial"](modes=" and ".join(serial)))
        text = "; ".join(parts) or str(SAY["none_yet"])
        if broken:
            return Verdict(False, f"{text}: {'; '.join(broken)}: {BROKEN}")
        return Verdict(True, f"{text}: {HELD}") if final else Verdict(None, text)


LESSON = PrintLock
