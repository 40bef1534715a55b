"""The table: the wait-for graph of forks and philosophers, and each philosopher's meals."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from mpviz.lessons.philosophers.lesson import fork
from mpviz.lessons.philosophers.workers import Said
from mpviz.model import Model
from mpviz.ui.theme import PHASE_STYLE
from mpviz.ui.widgets.lesson_panel import LessonPanel
from mpviz.ui.widgets.wait_graph import wait_graph


class PhilosophersPanel(LessonPanel):
    """The wait-for graph, then who holds which fork and how many meals each has eaten."""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        text = Text.assemble(("Wait-for graph", "bold"), f"  fix: {values.get('fix', 'none')}\n")
        text.append_text(wait_graph(model, now_ns))
        text.append("\n\n")
        text.append(f"{'philosopher':<12}{'forks':<7}{'meals':>5}  now\n", style="bold")
        names = {model.prim(fork(i)).id: str(i) for i in range(values.get("philosophers", 5))}
        for proc in model.by_role("philosopher"):
            held = ",".join(names.get(prim_id, "?") for prim_id in proc.holds) or "-"
            text.append(f"{proc.name:<12}{held:<7}{proc.said_count(Said.EATING):>5}  ")
            waits = model.prims.get(proc.waiting_on or "")
            now = f"waits for {waits.name}" if waits is not None and proc.alive else proc.state
            text.append(now + "\n", style=PHASE_STYLE[proc.phase])
        text.rstrip()
        self.part("main").show(text)


PANEL = PhilosophersPanel
