"""The queue, its depth over time, who makes, who eats, and the end signals."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Sparkline

from mpviz.lang import T, ljust
from mpviz.lessons.prodcons.lesson import QUEUE
from mpviz.lessons.prodcons.workers import Said
from mpviz.model import Model
from mpviz.ui.theme import PHASE_STYLE
from mpviz.ui.widgets.lesson_panel import LessonPanel
from mpviz.ui.widgets.primitives import names
from mpviz.ui.widgets.text_view import TextView
from mpviz.ui.widgets.timeline import window_ns

SAY = {
    "queue": T("Queue 'buns'", "队列 'buns'"),
    "depth": T("  depth ", "  里面有 "),
    "counts": T("  put {puts}, got {gets}\n", "  放入 {puts},取出 {gets}\n"),
    "deepest": T("deepest in each moment of the last {s} s:", "最近 {s} 秒里每一刻最多有几个:"),
    "in": T("In the queue", "队列里"),
    "empty": T("empty", "空"),
    "producer": T("Producers", "生产者"),
    "consumer": T("Consumers", "消费者"),
    "none": T("none", "没有"),
    "signals": T("End signals", "结束信号"),
    "sent": T("  {sent} None sent, {got} received", "  发了 {sent} 个 None,收到 {got} 个"),
    "by": T(" by ", ",收到的是 "),
}


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
        head = Text.assemble((str(SAY["queue"]), "bold"), str(SAY["depth"]), (str(max(q.depth, 0)), "bold"))
        head.append(SAY["counts"](puts=q.puts, gets=q.gets))
        head.append(SAY["deepest"](s=window // 1_000_000_000), style="dim")
        self.part("queue").show(head)
        spark = self.query_one(Sparkline)
        columns = max(1, spark.size.width)
        data = q.depth_over(now_ns - window, max(1, window // columns), columns)
        if data != spark.data:
            spark.data = data
        in_flight = [item for item, n in q.in_flight.items() for _ in range(max(n, 0))]
        body = Text.assemble((str(SAY["in"]), "bold"), "  ")
        shown = ", ".join(in_flight[:12]) + (" …" if len(in_flight) > 12 else "")
        body.append(shown or str(SAY["empty"]), style="" if in_flight else "dim")
        for role in ("producer", "consumer"):
            procs = model.by_role(role)
            body.append(f"\n\n{SAY[role]}", style="bold")
            for proc in procs[-10:]:
                style = PHASE_STYLE[proc.phase]
                body.append(f"\n {ljust(proc.name, 12)}", style=style)
                body.append(proc.state, style=style)
            if not procs:
                body.append(f"\n {SAY['none']}", style="dim")
        body.append(f"\n\n{SAY['signals']}", style="bold")
        body.append(SAY["sent"](sent=q.pills_put, got=q.pills_got))
        got_pill = [p for p in model.by_role("consumer") if p.said_count(Said.DONE)]
        if got_pill:
            body.append(str(SAY["by"]))
            body.append_text(names(got_pill, now_ns))
        self.part("main").show(body)


PANEL = ProdConsPanel
