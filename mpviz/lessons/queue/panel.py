"""The two queues: what is in them, the bounded one's slots, who is blocked, and what each method returned."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from mpviz.lang import T
from mpviz.lessons.queue.lesson import BOUNDED, ONE_WAY
from mpviz.lessons.queue.workers import Said
from mpviz.model import Model
from mpviz.model.words import said
from mpviz.ui.widgets.lesson_panel import LessonPanel
from mpviz.ui.widgets.primitives import queue_view

SAY = {
    "one_way": T("One way", "单向"),
    "bounded": T("Queue(maxsize={maxsize})", "Queue(maxsize={maxsize})"),
    "slots": T("  {depth} of {maxsize}{full}\n", "  {depth}/{maxsize}{full}\n"),
    "full": T(": full, put() blocks", ":满了,put() 阻塞"),
    "methods": T("What the methods returned", "各方法返回了什么"),
    "none_yet": T("\n  nothing asked yet", "\n  还没调用"),
}
METHODS = {Said.EMPTY, Said.FULL, Said.QSIZE, Said.PUT_FULL, Said.GET_EMPTY}


class QueuePanel(LessonPanel):
    """The bounded queue's slots, main's calls with what each returned, and the one-way queue."""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        maxsize = int(values.get("maxsize", 0))
        box = model.prim(BOUNDED)
        depth = min(max(box.depth, 0), maxsize)
        text = Text(SAY["bounded"](maxsize=maxsize), style="bold")
        text.append("  ")
        text.append("■" * depth, style="bold green3")
        text.append("□" * (maxsize - depth), style="dim")
        full = str(SAY["full"]) if depth >= maxsize else ""
        text.append(SAY["slots"](depth=depth, maxsize=maxsize, full=full), style="bold red" if full else "")
        text.append_text(queue_view(model, box, now_ns))
        text.append(f"\n\n{SAY['methods']}", style="bold")
        main = next(iter(model.by_role("main")), None)
        calls = [e for e in main.recent if e.kind == "proc.state" and e.obj in METHODS] if main else []
        for event in calls[-8:]:
            text.append(f"\n  {said(event.obj, event.data)}")
        if not calls:
            text.append(str(SAY["none_yet"]), style="dim")
        text.append(f"\n\n{SAY['one_way']}\n", style="bold")
        text.append_text(queue_view(model, model.prim(ONE_WAY), now_ns))
        self.part("main").show(text)


PANEL = QueuePanel
