"""The KTV lesson: groups arrive, four rooms, a semaphore at the door."""

from __future__ import annotations

from typing import Any

from mpviz.lessons.base import Action, Lesson, Param, Run, Sample, Shot, Verdict, all_exited
from mpviz.lessons.ktv.workers import Said, ktv
from mpviz.model import Model
from mpviz.sync import Semaphore

ROOMS = "rooms"  # the semaphore's name


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
    quick = ("--groups", "9", "--rooms", "3", "--speed", "10", "--seed", "3")
    busy = ("--groups", "20", "--speed", "50")
    samples = (
        Sample(
            "ktv",
            {"groups": 7},
            seed=3,
            shots=(
                Shot("ktv-full", 1.5, "ktv: four rooms taken, three groups wait at the door"),
                Shot("ktv-late", 5.0, "ktv: the last groups sing"),
                Shot("ktv-80x24", 1.5, "80×24", size=(80, 24)),
                Shot("ktv-200x60", 1.5, "200×60", size=(200, 60)),
                Shot("details", 1.5, "The selected process: its time and its events", press=("down", "down", "down")),
                Shot("ktv-contention", 5.0, "s: waits and holds of 'rooms', each group's time", press=("s",)),
                Shot("ktv-scrubbed", 1.5, "A replay scrubbed: End, then ← twice", press=("end", "left", "left")),
            ),
        ),
    )

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
            return Verdict(False, f"{most} groups inside at once with {rooms} rooms: invariant broken")
        text = f"{sang} of {len(groups)} groups sang; at most {most} inside at once (rooms: {rooms})"
        return Verdict(True, text + ": invariant held") if final else Verdict(None, text)


LESSON = Ktv
