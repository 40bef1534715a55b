"""The KTV lesson: groups arrive, four rooms, a semaphore at the door."""

from __future__ import annotations

from typing import Any

from mpviz.lang import T, vocabulary
from mpviz.lesson import BROKEN, HELD, Action, Lesson, Param, Run, Sample, Shot, Verdict, all_exited
from mpviz.lessons.ktv.workers import Said, ktv
from mpviz.model import Model
from mpviz.sync import Semaphore

ROOMS = "rooms"  # the semaphore's name

# The tutorial prints 'person {} 进来唱歌了' and 'person {} 从ktv出去了'.
vocabulary({Said.SINGING: "进来唱歌了", Said.LEAVES: "从ktv出去了", "group": "person"})

HEADING = T("Semaphore: {rooms} KTV {noun}", "信号量:{rooms} 间迷你 KTV")
TOO_MANY = T("{most} groups inside at once with {rooms} {noun}", "同时有 {most} 批人在里面,可只有 {rooms} 个房间")
SANG = T(
    "{sang} of {n} groups sang; at most {most} inside at once (rooms: {rooms})",
    "{n} 批人中 {sang} 批唱过了;同时最多 {most} 批在里面(房间:{rooms})",
)


class Ktv(Lesson):
    name = "ktv"
    title = T("Semaphore: KTV rooms", "信号量:迷你 KTV")
    teaches = T(
        "Semaphore(4) lets at most 4 groups sing at once; the rest wait at the door",
        "Semaphore(4) 同时最多放 4 批人进去唱歌,其余的在门外等",
    )
    watch = T(
        "the fifth group waits until a room frees up; the semaphore value never goes below 0",
        "第五批人要等到有房间空出来;信号量的值从不小于 0",
    )
    explain = T(
        "A semaphore is a lock with a counter. acquire() takes one unit and blocks at zero; "
        "release() gives one back and wakes a waiter. Here the counter is the number of free "
        "rooms: every group takes a room, sings 1-5 s, and gives the room back.",
        "信号量就是锁 + 计数器。acquire() 让计数器减 1,减到 0 就阻塞;release() 让计数器加 1,"
        "并唤醒一个等待者。这里的计数器就是空房间的数量:每批人占一个房间,唱 1-5 秒,再把房间还回去。",
    )
    params = (
        Param("rooms", 4, T("rooms in the KTV (the semaphore's start value)", "KTV 的房间数(信号量的初始值)"), 1, 100),
        Param("groups", 5, T("groups that come to sing", "来唱歌的人(批)数"), 0, 1000),
    )
    actions = (
        Action(
            "a",
            "add_group",
            T("Add group", "再来一批"),
            T("a new group arrives and queues for a room", "又来一批人,排队等房间"),
        ),
    )
    quick = ("--groups", "9", "--rooms", "3", "--speed", "10", "--seed", "3")
    busy = ("--groups", "20", "--speed", "50")
    samples = (
        Sample(
            "ktv",
            {"groups": 7},
            seed=3,
            shots=(
                Shot("ktv-full", 1.2, "ktv: four rooms taken, three groups wait at the door"),
                Shot("ktv-late", 5.0, "ktv: the last groups sing"),
                Shot("ktv-80x24", 1.2, "80×24", size=(80, 24)),
                Shot("ktv-200x60", 1.2, "200×60", size=(200, 60)),
                Shot("details", 1.2, "The selected process: its time and its events", press=("down", "down", "down")),
                Shot("ktv-zh", 1.2, "ktv --lang zh: the tutorial's own words", lang="zh"),
                Shot("ktv-zh-80x24", 1.2, "ktv --lang zh at 80×24", size=(80, 24), lang="zh"),
                Shot("ktv-contention", 5.0, "s: waits and holds of 'rooms', each group's time", press=("s",)),
                Shot("ktv-scrubbed", 1.2, "A replay scrubbed: End, then ← twice", press=("end", "left", "left")),
            ),
        ),
    )

    @classmethod
    def heading(cls, values: dict[str, Any]) -> str:
        rooms = values.get("rooms", 4)
        return HEADING(rooms=rooms, noun="room" if rooms == 1 else "rooms")

    def __init__(self, run: Run, seed: int | None = None, **params: Any) -> None:
        super().__init__(run, seed, **params)
        self.sem = Semaphore(self.values["rooms"], name=ROOMS)
        self.groups = 0

    def direct(self) -> None:
        for _ in range(self.values["groups"]):
            if self.run.stopping:
                return
            self.add_group()

    def add_group(self) -> None:
        i = self.groups
        self.groups += 1
        self.run.start(ktv, (i, self.sem), role="group", label=f"group {i}")

    def finished(self, model: Model, now_ns: int) -> bool:
        return not self.directing and all_exited(model, "group", self.groups)

    @classmethod
    def judge(cls, model: Model, values: dict[str, Any], now_ns: int, final: bool = False) -> Verdict:
        rooms = values["rooms"]
        most = model.prim(ROOMS).max_holders
        groups = model.by_role("group")
        sang = sum(1 for p in groups if p.said_count(Said.SINGING))
        if most > rooms:
            noun = "room" if rooms == 1 else "rooms"
            return Verdict(False, f"{TOO_MANY(most=most, rooms=rooms, noun=noun)}: {BROKEN}")
        text = SANG(sang=sang, n=len(groups), most=most, rooms=rooms)
        return Verdict(True, f"{text}: {HELD}") if final else Verdict(None, text)


LESSON = Ktv
