"""The table: the wait-for graph of forks and philosophers, and each philosopher's meals."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from mpviz.lang import T, cells
from mpviz.lessons.philosophers.lesson import fork
from mpviz.lessons.philosophers.workers import Said
from mpviz.model import Model
from mpviz.ui.theme import PHASE_STYLE
from mpviz.ui.widgets.lesson_panel import LessonPanel
from mpviz.ui.widgets.wait_graph import wait_graph

HEAD = (T("philosopher", "哲学家"), T("forks", "叉子"), T("meals", "吃了"))
SAY = {
    "graph": T("Wait-for graph", "等待图"),
    "fix": T("  fix: {fix}\n", "  修法:{fix}\n"),
    "now": T("now", "现在"),
    "waits": T("waits for {name}", "在等 {name}"),
}


def pad(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` cells (a Chinese character takes two)."""
    return text + " " * max(0, width - cells(text))


class PhilosophersPanel(LessonPanel):
    """The wait-for graph, then who holds which fork and how many meals each has eaten."""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        text = Text.assemble((str(SAY["graph"]), "bold"), SAY["fix"](fix=values.get("fix", "none")))
        text.append_text(wait_graph(model, now_ns))
        text.append("\n\n")
        who, forks, meals = (str(t) for t in HEAD)
        text.append(f"{pad(who, 12)}{pad(forks, 7)}{pad(meals, 5)}  {SAY['now']}\n", style="bold")
        names = {model.prim(fork(i)).id: str(i) for i in range(values.get("philosophers", 5))}
        for proc in model.by_role("philosopher"):
            held = ",".join(names.get(prim_id, "?") for prim_id in proc.holds) or "-"
            text.append(f"{pad(proc.name, 12)}{held:<7}{proc.said_count(Said.EATING):<5}  ")
            waits = model.prims.get(proc.waiting_on or "")
            now = SAY["waits"](name=waits.name) if waits is not None and proc.alive else proc.state
            text.append(now + "\n", style=PHASE_STYLE[proc.phase])
        text.rstrip()
        self.part("main").show(text)


PANEL = PhilosophersPanel
