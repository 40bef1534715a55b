"""The lamp, unmistakably red or green, the flag, and the cars at the crossing."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from mpviz.lessons.traffic.lesson import CYCLING, LIGHT
from mpviz.lessons.traffic.workers import Said
from mpviz.model import Model
from mpviz.ui.theme import duration
from mpviz.ui.widgets.lesson_panel import LessonPanel
from mpviz.ui.widgets.primitives import names

LAMP_OFF = "grey23"


class TrafficPanel(LessonPanel):
    """A lamp that is unmistakably red or green, the flag, the queue at the crossing."""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        light = model.prim(LIGHT)
        cycling = model.prim(CYCLING)
        green = light.flag
        colour = "green3" if green else "red1"
        red_lamp, green_lamp = (LAMP_OFF, "green3") if green else ("red1", LAMP_OFF)
        lamp = [
            Text("╭────────╮", style="grey50"),
            *(Text.assemble(("│", "grey50"), (" ██████ ", red_lamp), ("│", "grey50")) for _ in range(2)),
            Text("│        │", style="grey50"),
            *(Text.assemble(("│", "grey50"), (" ██████ ", green_lamp), ("│", "grey50")) for _ in range(2)),
            Text("╰────────╯", style="grey50"),
        ]
        auto = cycling.flag or cycling.changed_ns is None
        words = [
            Text.assemble(
                ("GREEN" if green else "RED", f"bold {colour}"), (" · cars go" if green else " · cars wait", "bold")
            ),
            Text(f"'light' flag {green}"),
            Text(f"{'set: wait() returns at once' if green else 'clear: wait() blocks'}", style="dim"),
            Text(
                f"changed {duration(now_ns - light.changed_ns)} ago"
                if light.changed_ns is not None
                else "not changed yet"
            ),
            Text(f"automatic cycling {'on' if auto else 'off'}", style="dim"),
        ]
        room = self.inner_width - lamp[0].cell_len - 2
        text = Text()
        for i, part in enumerate(lamp):
            text.append_text(part)
            if i - 1 < len(words) and i >= 1:
                text.append("  ")
                word = words[i - 1].copy()
                word.truncate(room, overflow="ellipsis")  # a wrapped line would break the lamp
                text.append_text(word)
            text.append("\n")
        cars = model.by_role("car")
        waiting = [model.procs[p] for p in light.waiters if p in model.procs]
        passed = [c for c in cars if c.said_count(Said.PASSED)]
        text.append("\nWaiting at the crossing", style="bold")
        text.append(f"  {len(waiting)} blocked in e.wait()\n")
        text.append_text(names(waiting, now_ns, since=light.waiters))
        text.append("\n\nPassed", style="bold")
        text.append(f"  {len(passed)} of {len(cars)} cars\n")
        text.append_text(names(passed, now_ns, limit=20))
        self.part("main").show(text)


PANEL = TrafficPanel
