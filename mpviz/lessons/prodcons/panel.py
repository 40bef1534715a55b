"""The queue, its depth over time, who makes, who eats, and the end signals."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Sparkline

from mpviz.lessons.prodcons.lesson import QUEUE
from mpviz.lessons.prodcons.workers import Said
from mpviz.model import Model, Phase
from mpviz.ui.theme import PHASE_STYLE
from mpviz.ui.widgets.lesson_panel import LessonPanel
from mpviz.ui.widgets.primitives import names
from mpviz.ui.widgets.text_view import TextView
from mpviz.ui.widgets.timeline import window_ns


class ProdConsPanel(LessonPanel):
    """The queue's depth now and over time, who makes, who eats, and the end signals."""

    PARTS = ("queue", "spark", "main")

    def compose(self) -> ComposeResult:
        yield TextView(id="panel-queue")
        yield Sparkline([0], id="panel-spark")
        yield TextView(id="panel-main")

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        q = model.prim(QUEUE)
        window = window_ns(model, now_ns)
        head = Text.assemble(("Queue 'buns'", "bold"), "  depth ", (str(max(q.depth, 0)), "bold"))
        head.append(f"  put {q.puts}, got {q.gets}\n")
        head.append(f"deepest in each moment of the last {window // 1_000_000_000} s:", style="dim")
        self.part("queue").show(head)
        spark = self.query_one(Sparkline)
        columns = max(1, spark.size.width)
        data = q.depth_over(now_ns - window, max(1, window // columns), columns)
        if data != spark.data:
            spark.data = data
        in_flight = [item for item, n in q.in_flight.items() for _ in range(max(n, 0))]
        body = Text.assemble(("In the queue", "bold"), "  ")
        shown = ", ".join(in_flight[:12]) + (" …" if len(in_flight) > 12 else "")
        body.append(shown or "empty", style="" if in_flight else "dim")
        for role in ("producer", "consumer"):
            procs = model.by_role(role)
            body.append(f"\n\n{role.capitalize()}s", style="bold")
            for proc in procs[-10:]:
                style = PHASE_STYLE[proc.phase]
                body.append(f"\n {proc.name:<12}", style=style)
                body.append(proc.state, style=style)
                eating = proc.phase is Phase.RUNNING and proc.said == Said.EATING
                last = proc.facts[Said.EATING].last.get("item") if eating else None
                if eating and last:
                    body.append(f" {last}", style="dim")
            if not procs:
                body.append("\n none", style="dim")
        body.append("\n\nEnd signals", style="bold")
        body.append(f"  {q.pills_put} None sent, {q.pills_got} received")
        got_pill = [p for p in model.by_role("consumer") if p.said_count(Said.DONE)]
        if got_pill:
            body.append(" by ")
            body.append_text(names(got_pill, now_ns))
        self.part("main").show(body)


PANEL = ProdConsPanel
