"""The KTV rooms as slots with who sits in each, and the waiting line at the door."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from mpviz.lessons.ktv.lesson import ROOMS
from mpviz.model import Model, Phase
from mpviz.ui.theme import PHASE_STYLE, duration
from mpviz.ui.widgets.lesson_panel import LessonPanel, boxes
from mpviz.ui.widgets.primitives import names


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
        text = Text.assemble(("Rooms", "bold"), f"  semaphore 'rooms': value {free} of {rooms} free\n")
        cells = []
        for number, pid in enumerate(seats, 1):
            if pid is None:
                cells.append((f"room {number}", [Text("free", style="dim"), Text()], "grey37"))
                continue
            proc = model.procs.get(pid)
            held = duration(now_ns - sem.held_since.get(pid, now_ns))
            lines = [Text(proc.name if proc else f"pid {pid}", style="bold green3"), Text(f"pid {pid} · {held}")]
            cells.append((f"room {number}", lines, "green3"))
        text.append_text(boxes(cells, self.inner_width))
        overflow = [pid for pid in holders if pid not in seats]
        if overflow:
            text.append(f"over capacity: {', '.join(str(p) for p in overflow)}\n", style="bold red")
        waiting = [model.procs[p] for p in sem.waiters if p in model.procs]
        text.append("\nAt the door", style="bold")
        text.append(f"  {len(waiting)} waiting in acquire(), first in line first\n")
        text.append_text(names(waiting, now_ns, since=sem.waiters))
        text.append("\n\n")
        text.append(f"{'group':<11}{'waited':>7}{'sang':>7}  now\n", style="bold")
        for proc in model.by_role("group")[-12:]:
            text.append(f"{proc.name:<11}")
            text.append(f"{duration(proc.time_in(Phase.BLOCKED, now_ns)):>7}", style=PHASE_STYLE[Phase.BLOCKED])
            text.append(f"{duration(proc.time_in(Phase.HOLDING, now_ns)):>7}", style=PHASE_STYLE[Phase.HOLDING])
            text.append(f"  {proc.state}\n", style=PHASE_STYLE[proc.phase])
        text.rstrip()
        self.part("main").show(text)


PANEL = KtvPanel
