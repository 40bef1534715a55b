"""Each example as the tutorial's lines, with what each call returned; a wait that can never end, named."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from mpviz.lang import T, ljust
from mpviz.lessons.event.lesson import EventLesson
from mpviz.lessons.event.workers import EXAMPLES, Said
from mpviz.model import Model, Phase
from mpviz.telemetry import Event
from mpviz.ui.theme import PHASE_STYLE, duration
from mpviz.ui.widgets.lesson_panel import LessonPanel

SAY = {
    "example": T("Example {n}", "示例 {n}"),
    "flag": T("  flag {flag}", "  Flag {flag}"),
    "not_yet": T("\n   not run yet", "\n   还没运行"),
    "false": T("False", "False"),
    "true": T("True", "True"),
    "blocks": T("blocks: flag False", "阻塞:Flag 为 False"),
    "at_once": T("returns at once", "立刻返回"),
    "woke": T("returns: flag set", "返回:Flag 被 set 了"),
    "set": T("flag True", "Flag 变为 True"),
    "clear": T("flag False", "Flag 变为 False"),
    "forever": T("would never return: given up", "永远不会返回:放弃了"),
    "past": T("runs: you set the flag", "运行了:你 set 了 Flag"),
    "stuck": T(
        "\n   ▒ in e.wait() for {s}: it can never return, nobody calls e.set() (press s)",
        "\n   ▒ 在 e.wait() 里已 {s}:它永远不会返回,没有谁调用 e.set()(按 s)",
    ),
}
CODE = 18  # the width of the code column


# The tutorial's line of code behind a record, and what the call did.
STEPS: dict[str, tuple[str, T]] = {
    Said.FALSE: ("print(e.is_set())", SAY["false"]),
    Said.TRUE: ("print(e.is_set())", SAY["true"]),
    Said.FOREVER: ("", SAY["forever"]),
    Said.PAST: ("print(1111)", SAY["past"]),
    "event.set": ("e.set()", SAY["set"]),
    "event.clear": ("e.clear()", SAY["clear"]),
    "event.wait": ("e.wait()", SAY["blocks"]),
}


def step(event: Event) -> tuple[str, T] | None:
    """One of the example's calls, as the tutorial's line of code and what it did."""
    if event.kind == "event.woke":
        return "e.wait()", SAY["woke" if event.data.get("waited") else "at_once"]
    return STEPS.get(event.obj if event.kind == "proc.state" else event.kind)


class EventPanel(LessonPanel):
    """The examples one under the other: each call of the tutorial's code and what it returned."""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        procs = {int(p.label.rpartition(" ")[2]): p for p in model.by_role("example")}
        text = Text()
        for n in range(1, len(EXAMPLES) + 1):
            if values.get("example") not in (0, n):
                continue
            proc = procs.get(n)
            e = model.prim(f"e{n}")
            text.append(SAY["example"](n=n), style="bold")
            text.append(SAY["flag"](flag=e.is_set), style="green3" if e.is_set else "red1")
            if proc is None:
                text.append(str(SAY["not_yet"]), style="dim")
                text.append("\n\n")
                continue
            if not proc.alive:
                text.append(f"  {proc.state}", style=PHASE_STYLE[proc.phase])
            for event in proc.recent:  # the few calls of one example: all still there
                shown = step(event)
                if shown is not None:
                    code, did = shown
                    text.append(f"\n   {ljust(code, CODE)}", style="bold")
                    text.append(f"→ {did}", style="red1" if did is SAY["blocks"] else "")
            if proc.alive and proc.phase is Phase.BLOCKED:
                text.append(SAY["stuck"](s=duration(now_ns - proc.phase_since_ns)), style="bold red")
            text.append("\n\n")
        verdict = EventLesson.judge(model, values, now_ns)
        text.append(verdict.text, style="dim")
        self.part("main").show(text)


PANEL = EventPanel
