"""The printlock lesson: the same workers in three modes, side by side."""

from __future__ import annotations

import threading
from typing import Any

from mpviz.lessons.base import Action, Lesson, Param, Run, Sample, Shot, Verdict, all_exited
from mpviz.lessons.printlock.workers import HOW, MODES, Said, work
from mpviz.model import Model, Proc
from mpviz.sync import Lock
from mpviz.telemetry import emit


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


class PrintLock(Lesson):
    name = "printlock"
    title = "Lock vs join vs nothing"
    teaches = "a Lock around both prints makes them come in pairs; join() after each start makes workers run in turn"
    watch = "the three rounds side by side: overlapping bars, then one bar at a time"
    explain = (
        "Three workers each print 'running', sleep, print 'done'. Started together with nothing "
        "around them, their lines interleave. With a Lock taken before the first print and released "
        "after the last, one worker at a time is between the two: the output comes in pairs. With "
        "p.join() right after each p.start(), main waits for each worker before starting the next."
    )
    params = (
        Param("mode", "all", "none, lock, join, or all three one after another", choices=("all", *MODES)),
        Param("workers", 3, "workers in each round", 1, 100),
    )
    actions = (
        Action("m", "next_mode", "Next mode", "run the workers again in the next mode: none → lock → join"),
        Action("g", "again", "Run again", "run the workers again in the mode of the last round"),
    )
    quick = ("--workers", "3", "--speed", "10", "--seed", "4")
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
            emit("note", f"round: {mode}{HOW[mode]}")
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
        for mode, procs in rounds(model).items():
            spans = [s for p in procs if (s := span(p)) is not None]
            if not spans:
                continue
            most = most_at_once(spans)
            parts.append(f"{mode}: {'up to ' if most > 1 else ''}{most} running at once")
            if mode in ("lock", "join") and most > 1:
                broken.append(mode)
        text = "; ".join(parts) or "no round finished yet"
        if broken:
            return Verdict(False, f"{text}: {' and '.join(broken)} should be serial: invariant broken")
        return Verdict(True, f"{text}: invariant held") if final else Verdict(None, text)


LESSON = PrintLock
