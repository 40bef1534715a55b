"""The dining philosophers: the naive order deadlocks; a fork order or a waiter never does."""

from __future__ import annotations

from typing import Any

from mpviz.lang import T, vocabulary
from mpviz.lesson import BROKEN, HELD, Lesson, Param, Run, Sample, Shot, Toggle, Verdict, all_exited
from mpviz.lessons.philosophers.workers import Said, philosopher
from mpviz.model import Model, find_anomalies
from mpviz.sync import Barrier, Lock, Semaphore
from mpviz.telemetry import emit

TABLE = "table"  # the lesson's facts: the deadlock, once seen
WAITER = "waiter"
HANG_SHOWN_NS = 2_000_000_000
FIXES = ("none", "ordered", "waiter")
DEADLOCKED = "the table is deadlocked: nobody eats any more"

vocabulary(
    {
        Said.THINKING: "在思考",
        Said.ONE_FORK: "拿到一把叉子,去拿另一把",
        Said.EATING: "在吃面",
        Said.FULL: "吃饱了",
        "phil": "哲学家",
        "philosopher": "哲学家",
        "fork": "叉子",
        DEADLOCKED: "餐桌死锁了:谁也吃不上了",
    }
)
SAY = {
    "meals": T("{n} {meals} eaten", "吃了 {n} 顿"),
    "hungry": T("{names} did not finish", "{names} 没吃完"),
    "fed": T(
        "every philosopher ate {meals}, no deadlock",
        "每位哲学家都吃了 {meals} 顿,没有死锁",
    ),
}


def fork(i: int) -> str:
    return f"fork {i}"


class Philosophers(Lesson):
    name = "philosophers"
    title = T("Locks: the dining philosophers", "锁:哲学家就餐")
    teaches = T(
        "five processes, five locks, each takes left then right: a cycle of waits, the classic deadlock",
        "五个进程,五把锁,每个先拿左边再拿右边:等待成环,经典的死锁",
    )
    watch = T(
        "every philosopher holds one fork and waits for the next one's: mpviz names the cycle of five",
        "每位哲学家都拿着一把叉子,等下一位手里的那把:mpviz 指出这个五人的环",
    )
    explain = T(
        "Five philosophers sit at a round table with one fork between each two; eating takes both. "
        "If each takes the fork on the left first, all five can hold one fork and wait for the "
        "other forever. Two fixes: take the lower-numbered fork first (a global lock order: no "
        "cycle can form), or let a waiter (a Semaphore(4)) seat at most four at once.",
        "五位哲学家围坐圆桌,每两人之间一把叉子,吃面要两把。如果每人都先拿左手边的叉子,"
        "五个人可能各拿一把、永远等另一把。两种修法:先拿编号小的叉子(全局加锁顺序,环无法形成),"
        "或者请一位服务员(Semaphore(4))同时最多让四人上桌。",
    )
    params = (
        Param("philosophers", 5, T("philosophers at the table (and forks)", "上桌的哲学家(和叉子)数"), 2, 50),
        Param("meals", 3, T("meals each philosopher eats", "每位哲学家吃几顿"), 1, 1000),
        Param(
            "fix",
            "none",
            T(
                "none, ordered (lower fork first) or waiter (a Semaphore(n-1))",
                "none、ordered(先拿编号小的叉子)或 waiter(Semaphore(n-1))",
            ),
            choices=FIXES,
        ),
    )
    toggles = (
        Toggle(
            "f",
            "fix",
            T("Fix", "修法"),
            T("restart with the next fix: none → ordered → waiter", "换下一种修法重来:none → ordered → waiter"),
        ),
    )
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
        return next((a.text for a in find_anomalies(model, now_ns) if a.kind == "deadlock"), "")

    def finished(self, model: Model, now_ns: int) -> bool:
        if self.directing:
            return False
        text = self.deadlock(model, now_ns)
        if text:
            # Said once, so that a replay knows it when the processes are gone;
            # the run ends once the deadlock has been on show for a while.
            if not self.deadlock_seen_ns:
                self.deadlock_seen_ns = now_ns
                emit("data.value", TABLE, {"deadlock": text, "text": DEADLOCKED})
            return now_ns - self.deadlock_seen_ns >= HANG_SHOWN_NS
        return all_exited(model, "philosopher", self.values["philosophers"])

    @classmethod
    def judge(cls, model: Model, values: dict[str, Any], now_ns: int, final: bool = False) -> Verdict:
        meals = model.said(Said.EATING)
        text = SAY["meals"](n=meals, meals="meal" if meals == 1 else "meals")
        deadlock = cls.deadlock(model, now_ns) or model.values.get(TABLE, {}).get("deadlock", "")
        if deadlock:
            return Verdict(False, f"{text}; {deadlock}")
        if not final:
            return Verdict(None, text)
        hungry = [p.name for p in model.by_role("philosopher") if p.said_count(Said.EATING) < values["meals"]]
        if hungry:
            return Verdict(False, f"{text}; {SAY['hungry'](names=', '.join(hungry))}: {BROKEN}")
        return Verdict(True, f"{text}, {SAY['fed'](meals=values['meals'])}: {HELD}")


LESSON = Philosophers
