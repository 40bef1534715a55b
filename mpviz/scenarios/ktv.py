"""Semaphore: the tutorial's four mini-KTV rooms.

A ``Semaphore(4)`` lets at most four groups in at once; the fifth waits at
the door until a group comes out.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from mpviz.scenarios.base import Action, Lesson, Param, Run, Verdict, all_exited
from mpviz.sync import Semaphore, sleep
from mpviz.telemetry import report

if TYPE_CHECKING:
    from mpviz.model import Model


SINGING = "enters to sing"


def ktv(i: int, sem: Semaphore) -> None:
    sem.acquire()  # wait for a free room
    report(SINGING)  # print('person {} 进来唱歌了'.format(i))
    sleep(random.randint(1, 5))  # singing
    report("leaves")  # print('person {} 从ktv出去了'.format(i))
    sem.release()


class Ktv(Lesson):
    name = "ktv"
    title = "Semaphore: 4 KTV rooms"
    teaches = "Semaphore(4) lets at most 4 groups sing at once; the rest wait at the door"
    watch = "the fifth group waits until a room frees up; the semaphore value never goes below 0"
    explain = (
        "A semaphore is a lock with a counter. acquire() takes one unit and blocks at zero; "
        "release() gives one back and wakes a waiter. Here the counter is the number of free "
        "rooms: every group takes a room, sings 1-5 s, and gives the room back."
    )
    params = (
        Param("rooms", 4, "rooms in the KTV (the semaphore's start value)", 1, 100),
        Param("groups", 5, "groups that come to sing", 0, 1000),
    )
    actions = (Action("a", "add_group", "Add group", "a new group arrives and queues for a room"),)

    def __init__(self, run: Run, seed: int | None = None, **params: Any) -> None:
        super().__init__(run, seed, **params)
        self.sem = Semaphore(self.values["rooms"], name="rooms")
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
        most = model.prim("rooms", "sem").max_holders
        groups = model.by_role("group")
        sang = sum(1 for p in groups if p.said_count(SINGING))
        if most > rooms:
            return Verdict(False, f"{most} groups inside at once with {rooms} rooms: invariant broken")
        text = f"{sang} of {len(groups)} groups sang; at most {most} inside at once (rooms: {rooms})"
        return Verdict(True, text + ": invariant held") if final else Verdict(None, text)
