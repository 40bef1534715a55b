"""The dining philosophers: the naive order deadlocks; a fork order or a waiter never does."""

from __future__ import annotations

from typing import Any

from mpviz.lessons.base import Lesson, Param, Run, Sample, Shot, Toggle, Verdict, all_exited, count
from mpviz.lessons.philosophers.workers import Said, philosopher
from mpviz.model import Model
from mpviz.sync import Barrier, Lock, Semaphore
from mpviz.telemetry import emit

TABLE = "table"  # the lesson's facts: the deadlock, once seen
WAITER = "waiter"
HANG_SHOWN_NS = 2_000_000_000
FIXES = ("none", "ordered", "waiter")


def fork(i: int) -> str:
    return f"fork {i}"


class Philosophers(Lesson):
    name = "philosophers"
    title = "Locks: the dining philosophers"
    teaches = "five processes, five locks, each takes left then right: a cycle of waits, the classic deadlock"
    watch = "every philosopher holds one fork and waits for the next one's: mpviz names the cycle of five"
    explain = (
        "Five philosophers sit at a round table with one fork between each two; eating takes both. "
        "If each takes the fork on the left first, all five can hold one fork and wait for the "
        "other forever. Two fixes: take the lower-numbered fork first (a global lock order: no "
        "cycle can form), or let a waiter (a Semaphore(4)) seat at most four at once."
    )
    params = (
        Param("philosophers", 5, "philosophers at the table (and forks)", 2, 50),
        Param("meals", 3, "meals each philosopher eats", 1, 1000),
        Param("fix", "none", "none, ordered (lower fork first) or waiter (a Semaphore(n-1))", choices=FIXES),
    )
    toggles = (Toggle("f", "fix", "Fix", "restart with the next fix: none → ordered → waiter"),)
    facts = {"deadlock": str, "text": str}
    quick = ("--fix", "ordered", "--meals", "2", "--speed", "10", "--seed", "1")
    busy = ("--fix", "waiter", "--meals", "50", "--speed", "50")
    samples = (
        Sample(
            "philosophers",
            {},
            seed=1,
            after_done=1.0,
            shots=(Shot("philosophers-deadlock", 2.4, "philosophers: five forks held, five waits, one cycle"),),
        ),
        Sample(
            "philosophers-waiter",
            {"fix": "waiter"},
            seed=1,
            shots=(
                Shot(
                    "philosophers-waiter",
                    3.0,
                    "--fix waiter: at most four at the table; s: the contention",
                    press=("s",),
                ),
            ),
        ),
    )

    def __init__(self, run: Run, seed: int | None = None, **params: Any) -> None:
        super().__init__(run, seed, **params)
        n, fix = self.values["philosophers"], self.values["fix"]
        self.forks = [Lock(name=fork(i)) for i in range(n)]
        self.seated = Barrier(n, name="seated")
        self.waiter = Semaphore(n - 1, name=WAITER) if fix == "waiter" else None
        self.deadlock_seen_ns = 0

    def direct(self) -> None:
        n, fix = self.values["philosophers"], self.values["fix"]
        for i in range(n):
            left, right = i, (i + 1) % n
            if fix == "ordered":
                left, right = min(left, right), max(left, right)
            args = (self.forks[left], self.forks[right], self.values["meals"], self.seated, self.waiter)
            self.run.start(philosopher, args, role="philosopher", label=f"phil {i}")

    @staticmethod
    def deadlock(model: Model, now_ns: int) -> str:
        return next((a.text for a in model.anomalies(now_ns) if a.kind == "deadlock"), "")

    def finished(self, model: Model, now_ns: int) -> bool:
        if self.directing:
            return False
        text = self.deadlock(model, now_ns)
        if text:
            # Said once, so that a replay knows it when the processes are gone;
            # the run ends once the deadlock has been on show for a while.
            if not self.deadlock_seen_ns:
                self.deadlock_seen_ns = now_ns
                emit("data.value", TABLE, {"deadlock": text, "text": "the table is deadlocked: nobody eats any more"})
            return now_ns - self.deadlock_seen_ns >= HANG_SHOWN_NS
        return all_exited(model, "philosopher", self.values["philosophers"])

    @classmethod
    def judge(cls, model: Model, values: dict[str, Any], now_ns: int, final: bool = False) -> Verdict:
        meals = model.said(Said.EATING)
        text = f"{count(meals, 'meal')} eaten"
        deadlock = cls.deadlock(model, now_ns) or model.values.get(TABLE, {}).get("deadlock", "")
        if deadlock:
            return Verdict(False, f"{text}; {deadlock}")
        if not final:
            return Verdict(None, text)
        hungry = [p.name for p in model.by_role("philosopher") if p.said_count(Said.EATING) < values["meals"]]
        if hungry:
            return Verdict(False, f"{text}; {', '.join(hungry)} did not finish: invariant broken")
        return Verdict(True, f"{text}, every philosopher ate {values['meals']}, no deadlock: invariant held")


LESSON = Philosophers
