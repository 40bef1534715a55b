"""The traffic lesson: a light process, cars that wait at red, and a key that flips the light."""

from __future__ import annotations

from typing import Any

from mpviz.lessons.base import Action, Lesson, Param, Run, Sample, Shot, Verdict, all_exited
from mpviz.lessons.traffic.workers import Said, car, traffic_light
from mpviz.model import Model
from mpviz.sync import Event

LIGHT, CYCLING = "light", "cycling"  # the events' names


class Traffic(Lesson):
    name = "traffic"
    title = "Event: the traffic light"
    teaches = "Event is a flag processes wait on: cars block in wait() until the light calls set()"
    watch = "cars that arrive at red wait, and all go together the moment the light turns green"
    explain = (
        "An Event holds one flag. wait() blocks while it is clear; set() makes it true and wakes "
        "every waiter at once; clear() makes later callers wait again. The light process flips "
        "the flag every 2 s; each car checks is_set() and, at red, waits."
    )
    params = (
        Param("cars", 10, "cars that come to the crossing", 0, 1000),
        Param("light", 2.0, "seconds the light stays red or green", 0.1, 3600),
    )
    actions = (
        Action("space", "toggle_light", "Toggle light", "set() or clear() the real Event the cars wait on"),
        Action("o", "toggle_cycling", "Auto on/off", "stop or restart the light's own 2-second cycle"),
        Action("c", "add_car", "Add car", "a new car drives up to the crossing"),
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
            return Verdict(False, f"{early} of {passed} cars passed before any set(): invariant broken")
        text = f"{passed} of {len(cars)} cars passed, each after a set() of the light"
        return Verdict(True, text + ": invariant held") if final else Verdict(None, text)


LESSON = Traffic
