"""The lamp, unmistakably red or green, the flag, and the cars at the crossing."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from mpviz.lang import T
from mpviz.lessons.traffic.lesson import CYCLING, LIGHT
from mpviz.lessons.traffic.workers import Said
from mpviz.model import Model
from mpviz.ui.theme import duration
from mpviz.ui.widgets.lesson_panel import LessonPanel
from mpviz.ui.widgets.primitives import names

LAMP_OFF = "grey23"

SAY = {
    "green": T("GREEN", "绿灯"),
    "red": T("RED", "红灯"),
    "go": T(" · cars go", " · 车通过"),
    "wait": T(" · cars wait", " · 车等待"),
    "flag": T("'light' flag {flag}", "'light' 的 Flag:{flag}"),
    "set": T("set: wait() returns at once", "已 set:wait() 立刻返回"),
    "clear": T("clear: wait() blocks", "已 clear:wait() 阻塞"),
    "changed": T("changed {ago} ago", "{ago} 前变的"),
    "unchanged": T("not changed yet", "还没变过"),
    "auto_on": T("automatic cycling on", "自动变灯:开"),
    "auto_off": T("automatic cycling off", "自动变灯:关"),
    "waiting": T("Waiting at the crossing", "在路口等待"),
    "blocked": T("  {n} blocked in e.wait()\n", "  {n} 辆阻塞在 e.wait() 里\n"),
    "passed": T("Passed", "已通过"),
    "of": T("  {passed} of {n} cars\n", "  {n} 辆车中 {passed} 辆\n"),
}


class TrafficPanel(LessonPanel):
    """A lamp that is unmistakably red or green, the flag, the queue at the crossing."""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        light = model.prim(LIGHT)
        cycling = model.prim(CYCLING)
        green = light.is_set
        colour = "green3" if green else "red1"
        red_lamp, green_lamp = (LAMP_OFF, "green3") if green else ("red1", LAMP_OFF)
        lamp = [
            Text("╭────────╮", style="grey50"),
            *(Text.assemble(("│", "grey50"), (" ██████ ", red_lamp), ("│", "grey50")) for _ in range(2)),
            Text("│        │", style="grey50"),
            *(Text.assemble(("│", "grey50"), (" ██████ ", green_lamp), ("│", "grey50")) for _ in range(2)),
            Text("╰────────╯", style="grey50"),
        ]
        auto = cycling.is_set or cycling.changed_ns is None
        words = [
            Text.assemble(
                (str(SAY["green" if green else "red"]), f"bold {colour}"), (str(SAY["go" if green else "wait"]), "bold")
            ),
            Text(SAY["flag"](flag=green)),
            Text(str(SAY["set" if green else "clear"]), style="dim"),
            Text(
                SAY["changed"](ago=duration(now_ns - light.changed_ns))
                if light.changed_ns is not None
                else str(SAY["unchanged"])
            ),
            Text(str(SAY["auto_on" if auto else "auto_off"]), style="dim"),
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
        text.append(f"\n{SAY['waiting']}", style="bold")
        text.append(SAY["blocked"](n=len(waiting)))
        text.append_text(names(waiting, now_ns, since=light.waiters))
        text.append(f"\n\n{SAY['passed']}", style="bold")
        text.append(SAY["of"](passed=len(passed), n=len(cars)))
        text.append_text(names(passed, now_ns, limit=20))
        self.part("main").show(text)


PANEL = TrafficPanel
