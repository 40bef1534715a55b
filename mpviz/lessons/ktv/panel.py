"""The KTV rooms as slots with who sits in each, and the waiting line at the door."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from mpviz.lang import T, ljust, rjust
from mpviz.lessons.ktv.lesson import ROOMS
from mpviz.model import Model, Phase
from mpviz.ui.theme import PHASE_STYLE, duration
from mpviz.ui.widgets.lesson_panel import LessonPanel, boxes
from mpviz.ui.widgets.primitives import names

SAY = {
    "rooms": T("Rooms", "房间"),
    "value": T("  semaphore 'rooms': value {free} of {rooms} free\n", "  信号量 'rooms':值 {free}(共 {rooms} 间)\n"),
    "room": T("room {n}", "房间 {n}"),
    "free": T("free", "空"),
    "over": T("over capacity: {pids}\n", "超员:{pids}\n"),
    "door": T("At the door", "门外"),
    "waiting": T("  {n} waiting in acquire(), first in line first\n", "  {n} 批在 acquire() 里等,先来的先进\n"),
    "group": T("group", "谁"),
    "waited": T("waited", "等了"),
    "sang": T("sang", "唱了"),
    "now": T("now", "现在"),
}


class KtvPanel(LessonPanel):
    """The rooms as slots with who sits in each, and the waiting line at the door."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rooms: list[int | None] = []

    def _seat(self, holders: list[int], rooms: int) -> list[int | None]:
        """Keep each group in the room it entered, as groups come and go."""
        if len(self._rooms) != rooms:
            self._rooms = [None] * rooms
        held = set(holders)
        self._rooms = [pid if pid in held else None for pid in self._rooms]
        seated = set(self._rooms)
        for pid in holders:
            if pid not in seated and None in self._rooms:
                self._rooms[self._rooms.index(None)] = pid
        return self._rooms

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        sem = model.prim(ROOMS)
        rooms = values.get("rooms", sem.capacity or 4)
        holders = list(sem.holders)
        seats = self._seat(holders, rooms)
        free = sem.value if sem.value is not None else rooms - len(holders)
        text = Text.assemble((str(SAY["rooms"]), "bold"), SAY["value"](free=free, rooms=rooms))
        cells = []
        for number, pid in enumerate(seats, 1):
            if pid is None:
                cells.append((SAY["room"](n=number), [Text(str(SAY["free"]), style="dim"), Text()], "grey37"))
                continue
            proc = model.procs.get(pid)
            held = duration(now_ns - sem.held_since.get(pid, now_ns))
            lines = [Text(proc.name if proc else f"pid {pid}", style="bold green3"), Text(f"pid {pid} · {held}")]
            cells.append((SAY["room"](n=number), lines, "green3"))
        text.append_text(boxes(cells, self.inner_width))
        overflow = [pid for pid in holders if pid not in seats]
        if overflow:
            text.append(SAY["over"](pids=", ".join(str(p) for p in overflow)), style="bold red")
        waiting = [model.procs[p] for p in sem.waiters if p in model.procs]
        text.append(f"\n{SAY['door']}", style="bold")
        text.append(SAY["waiting"](n=len(waiting)))
        text.append_text(names(waiting, now_ns, since=sem.waiters))
        text.append("\n\n")
        head = (
            f"{ljust(str(SAY['group']), 11)}{rjust(str(SAY['waited']), 7)}{rjust(str(SAY['sang']), 7)}  {SAY['now']}\n"
        )
        text.append(head, style="bold")
        for proc in model.by_role("group")[-12:]:
            text.append(ljust(proc.name, 11))
            text.append(f"{duration(proc.time_in(Phase.BLOCKED, now_ns)):>7}", style=PHASE_STYLE[Phase.BLOCKED])
            text.append(f"{duration(proc.time_in(Phase.HOLDING, now_ns)):>7}", style=PHASE_STYLE[Phase.HOLDING])
            text.append(f"  {proc.state}\n", style=PHASE_STYLE[proc.phase])
        text.rstrip()
        self.part("main").show(text)


PANEL = KtvPanel
