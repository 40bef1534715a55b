"""The event lesson: the tutorial's four examples in turn, and keys that set and clear the flag."""

from __future__ import annotations

from typing import Any

from mpviz.lang import T, vocabulary
from mpviz.lesson import BROKEN, HELD, Action, Lesson, Param, Run, Sample, Shot, Verdict, all_exited
from mpviz.lessons.event.workers import EXAMPLES, Said
from mpviz.model import Model, Proc, find_anomalies
from mpviz.sync import Event

STARTS = "example {n}"

vocabulary(
    {
        Said.FALSE: "is_set() 返回 False",
        Said.TRUE: "is_set() 返回 True",
        Said.FOREVER: "wait() 永远不会返回:没有谁调用 set()",
        Said.PAST: "过了 wait():它后面的代码运行了",
        "example": "示例",
        STARTS: "示例 {n}",
    }
)
SAY = {
    "false": T("is_set() was False at creation ({n} {examples})", "创建时 is_set() 都是 False({n} 个示例)"),
    "created_true": T("{names}: is_set() was True at creation", "{names}:创建时 is_set() 就是 True"),
    "at_once": T("wait() returned at once after set() ({n})", "set() 之后 wait() 立刻返回({n} 次)"),
    "blocked": T(
        "wait() blocked while the flag was False ({forever} never returned, {by_hand} returned when you set the flag)",
        "Flag 为 False 时 wait() 阻塞({forever} 次永远不会返回,{by_hand} 次在你 set 之后返回)",
    ),
    "order": T("a wait() returned before any set()", "有 wait() 在任何 set() 之前就返回了"),
}


def first_flag(proc: Proc) -> bool | None:
    """What the example's first is_set() returned (None: it has not called it yet)."""
    false, true = proc.first_said(Said.FALSE), proc.first_said(Said.TRUE)
    if true is None or false is None:
        return None if true is None and false is None else true is not None
    return true < false


class EventLesson(Lesson):
    name = "event"
    title = T("Event: is_set(), set(), wait(), clear()", "事件:is_set()、set()、wait()、clear()")
    teaches = T(
        "an Event holds one flag: wait() blocks while it is False, and returns at once after set()",
        "事件有一个 Flag:它为 False 时 wait() 阻塞,set() 之后 wait() 立刻返回",
    )
    watch = T(
        "examples 2 and 4 wait for a flag nobody will set: named, and given up after a few seconds; press s in time",
        "示例 2 和 4 等一个没有谁会 set 的 Flag:mpviz 指出来,几秒后放弃;及时按 s 试试",
    )
    explain = T(
        "The tutorial's four examples, each a process of its own. 1: is_set() is False when the Event "
        "is made. 2: wait() blocks while the flag is False; nobody sets it, so the tutorial's program "
        "never ends and print(1111) never runs. 3: set(), then wait() returns at once. 4: set() and "
        "wait() as in 3; clear() makes the flag False again, and the next wait() blocks forever. "
        "Where the tutorial's program would hang, the example gives wait() --forever seconds and says "
        "it would never have returned. s calls set() on the current example's event, c calls clear().",
        "教程的四个示例,每个一个进程。例1:刚创建的事件 is_set() 为 False。例2:Flag 为 False 时 wait() "
        "阻塞;没有谁 set 它,教程的程序就一直不结束,print(1111) 永远不执行。例3:set() 之后 wait() 立刻返回。"
        "例4:像例3 一样 set() 和 wait();clear() 让 Flag 又变成 False,下一次 wait() 就永远阻塞。教程的程序"
        "会卡住的地方,示例给 wait() --forever 秒,然后说明它永远不会返回。s 对当前示例的事件调用 set(),"
        "c 调用 clear()。",
    )
    params = (
        Param(
            "example", 0, T("run only example N (1-4); 0: all four in turn", "只运行示例 N(1-4);0:四个依次运行"), 0, 4
        ),
        Param(
            "forever",
            3.0,
            T(
                "seconds a wait() that can never return is shown before the example gives up on it",
                "永远不会返回的 wait() 显示几秒后,示例放弃它",
            ),
            0.1,
            3600,
        ),
    )
    actions = (
        # t and f: the flag True, the flag False (s is every screen's contention view).
        Action(
            "t", "set_flag", T("set()", "set()"), T("set() the current example's event", "对当前示例的事件调用 set()")
        ),
        Action(
            "f",
            "clear_flag",
            T("clear()", "clear()"),
            T("clear() the current example's event", "对当前示例的事件调用 clear()"),
        ),
    )
    quick = ("--forever", "1", "--speed", "2", "--seed", "1")
    busy = ("--forever", "1", "--speed", "50")
    samples = (
        Sample(
            "event",
            {},
            seed=1,
            shots=(
                Shot("event", 1.5, "event: example 2's wait() can never return, named"),
                Shot("event-zh", 1.5, "event --lang zh", lang="zh"),
                Shot("event-zh-80x24", 1.5, "event --lang zh at 80×24", size=(80, 24), lang="zh"),
            ),
        ),
    )

    def __init__(self, run: Run, seed: int | None = None, **params: Any) -> None:
        super().__init__(run, seed, **params)
        n = self.values["example"]
        self.chosen = range(1, len(EXAMPLES) + 1) if n == 0 else (n,)
        # Every example's e = Event(), made here so that the keys reach the current one.
        self.events = {i: Event(name=f"e{i}") for i in self.chosen}
        self.current = self.events[self.chosen[0]]
        self.started = 0

    def direct(self) -> None:
        for n in self.chosen:
            if self.run.stopping:
                return
            self.current = self.events[n]
            pid = self.run.start(
                EXAMPLES[n - 1], (self.current, self.values["forever"]), role="example", label=STARTS.format(n=n)
            )
            self.started += 1
            if not self.run.wait_exit([pid]):
                return

    def set_flag(self) -> None:
        self.current.set()

    def clear_flag(self) -> None:
        self.current.clear()

    def finished(self, model: Model, now_ns: int) -> bool:
        return not self.directing and all_exited(model, "example", self.started)

    @classmethod
    def judge(cls, model: Model, values: dict[str, Any], now_ns: int, final: bool = False) -> Verdict:
        examples = [p for p in model.by_role("example") if p.said_count(Said.FALSE) or p.said_count(Said.TRUE)]
        created_true = [p.name for p in examples if first_flag(p) is True]
        if created_true:
            return Verdict(False, f"{SAY['created_true'](names=', '.join(created_true))}: {BROKEN}")
        if any(a.kind == "order" for a in find_anomalies(model, now_ns)):
            return Verdict(False, f"{SAY['order']}: {BROKEN}")
        # is_set() says True only after a set() and a wait() that returned at once (examples 3 and 4).
        at_once = sum(p.said_count(Said.TRUE) for p in examples)
        n = len(examples)
        parts = [
            SAY["false"](n=n, examples="example" if n == 1 else "examples"),
            SAY["at_once"](n=at_once),
            SAY["blocked"](forever=model.said(Said.FOREVER), by_hand=model.said(Said.PAST)),
        ]
        text = "; ".join(parts)
        return Verdict(True, f"{text}: {HELD}") if final else Verdict(None, text)


LESSON = EventLesson
