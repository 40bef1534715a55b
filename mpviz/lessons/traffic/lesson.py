"""The traffic lesson: a light process, cars that wait at red, and a key that flips the light."""

from __future__ import annotations

from typing import Any

from mpviz.lang import T, vocabulary
from mpviz.lesson import BROKEN, HELD, Action, Lesson, Param, Run, Sample, Shot, Verdict, all_exited
from mpviz.lessons.traffic.workers import Said, car, traffic_light
from mpviz.model import Model
from mpviz.sync import Event
from mpviz.telemetry import emit

LIGHT, CYCLING = "light", "cycling"  # the events' names
# Main's words: what the set() of 'cycling' is for, and why the light is stopped.
CYCLES = "the light cycles by itself every {period} s (o switches that off): main sets event 'cycling'"
FOREVER = "the light would cycle forever, as in the tutorial: mpviz stops it"

# The tutorial prints 'car{}正在等待', 'car{}通过路口', 红灯亮 and 绿灯亮.
vocabulary(
    {
        Said.WAITING: "正在等待",
        Said.PASSED: "通过路口",
        Said.RED: "红灯亮",
        Said.GREEN: "绿灯亮",
        Said.CYCLING_OFF: "不再自动变灯",
        "light": "红绿灯",
        CYCLES: "红绿灯自己每 {period} 秒变一次(o 键关掉):主进程 set 事件 'cycling'",
        FOREVER: "红绿灯像教程里一样永远变下去:mpviz 把它停掉",
    }
)
EARLY = T("{early} of {passed} cars passed before any set()", "{passed} 辆车里有 {early} 辆在任何 set() 之前就通过了")
PASSED_AFTER = T(
    "{passed} of {n} cars passed, each after a set() of the light",
    "{n} 辆车中 {passed} 辆通过,每辆都在红绿灯 set() 之后",
)


class Traffic(Lesson):
    name = "traffic"
    title = T("Event: the traffic light", "事件:红绿灯")
    teaches = T(
        "Event is a flag processes wait on: cars block in wait() until the light calls set()",
        "事件是进程们等待的一个 Flag:车在 wait() 里阻塞,直到红绿灯调用 set()",
    )
    watch = T(
        "cars that arrive at red wait, and all go together the moment the light turns green",
        "红灯时到达的车在等,绿灯一亮它们一起通过",
    )
    explain = T(
        "An Event holds one flag. wait() blocks while it is clear; set() makes it true and wakes "
        "every waiter at once; clear() makes later callers wait again. The light process flips "
        "the flag every 2 s; each car checks is_set() and, at red, waits.",
        "事件有一个 Flag。Flag 为 False 时 wait() 阻塞;set() 把它设为 True,一下子唤醒所有等待者;"
        "clear() 把它设为 False,之后调用 wait() 的又要等。红绿灯进程每 2 秒改一次 Flag;"
        "每辆车先看 is_set(),红灯就等。",
    )
    params = (
        Param("cars", 10, T("cars that come to the crossing", "来到路口的车数"), 0, 1000),
        Param("light", 2.0, T("seconds the light stays red or green", "红灯或绿灯亮几秒"), 0.1, 3600),
    )
    actions = (
        Action(
            "space",
            "toggle_light",
            T("Toggle light", "变灯"),
            T("set() or clear() the real Event the cars wait on", "对车在等的那个事件调用 set() 或 clear()"),
        ),
        Action(
            "o",
            "toggle_cycling",
            T("Auto on/off", "自动变灯开/关"),
            T("stop or restart the light's own 2-second cycle", "停止或重新开始红绿灯自己每 2 秒的变化"),
        ),
        Action(
            "c", "add_car", T("Add car", "再来一辆车"), T("a new car drives up to the crossing", "又一辆车开到路口")
        ),
    )
    quick = ("--cars", "6", "--light", "3", "--speed", "4", "--seed", "1")
    busy = ("--cars", "20", "--speed", "50")
    samples = (
        Sample(
            "traffic",
            {"cars": 6, "light": 3.0},
            seed=1,
            shots=(
                Shot("traffic-red", 8.6, "traffic: red, three cars blocked in e.wait()"),
                Shot("traffic-green", 9.5, "traffic: set() wakes them all at once"),
                Shot("help", 8.6, "? explains the lesson and every key", press=("question_mark",)),
            ),
        ),
    )

    def __init__(self, run: Run, seed: int | None = None, **params: Any) -> None:
        super().__init__(run, seed, **params)
        self.light = Event(name=LIGHT)
        self.cycling = Event(name=CYCLING)
        emit("note", CYCLES, {"period": self.values["light"]})  # what the set() below is for
        self.cycling.set()
        self.cars = 0

    def direct(self) -> None:
        period = self.values["light"]
        self.run.start(traffic_light, (self.light, self.cycling, period), role="light", label="light")
        for _ in range(self.values["cars"]):
            if not self.run.sleep(self.rng.randrange(0, 5, 2)):
                return
            self.add_car()

    def add_car(self) -> None:
        i = self.cars
        self.cars += 1
        self.run.start(car, (i, self.light), role="car", label=f"car {i}")

    def toggle_light(self) -> None:
        if self.light.is_set():
            self.light.clear()
        else:
            self.light.set()

    def toggle_cycling(self) -> None:
        if self.cycling.is_set():
            self.cycling.clear()
        else:
            self.cycling.set()

    def finished(self, model: Model, now_ns: int) -> bool:
        return not self.directing and all_exited(model, "car", self.cars)

    def stop(self) -> None:
        emit("note", FOREVER)  # what the light's end by SIGTERM is

    @classmethod
    def judge(cls, model: Model, values: dict[str, Any], now_ns: int, final: bool = False) -> Verdict:
        first_set = model.prim(LIGHT).first_set_ns
        cars = model.by_role("car")
        passed = early = 0
        for proc in cars:
            t = proc.first_said(Said.PASSED)
            if t is not None:
                passed += 1
                early += first_set is None or t < first_set
        if early:
            return Verdict(False, f"{EARLY(early=early, passed=passed)}: {BROKEN}")
        text = PASSED_AFTER(passed=passed, n=len(cars))
        return Verdict(True, f"{text}: {HELD}") if final else Verdict(None, text)


LESSON = Traffic
