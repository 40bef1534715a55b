"""A watched program's primitives, and the box that types into its standard input."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Input

from mpviz.lang import T
from mpviz.model import Model
from mpviz.ui.widgets.lesson_panel import LessonPanel
from mpviz.ui.widgets.primitives import prim_view

NONE_YET = T(
    "No multiprocessing primitive yet: its locks, semaphores, events, queues and pipes "
    "appear here as the program makes them, named after their variables.",
    "还没有 multiprocessing 的同步原语:程序创建的锁、信号量、事件、队列和管道会出现在这里,以它们的变量名命名。",
)


NONE_SEEN = T(
    "No wait on a lock, a queue, a pipe or an event seen yet: each appears here when a process is seen "
    "waiting on it (from outside, who holds a lock cannot be seen).",
    "还没看到在锁、队列、管道或事件上的等待:有进程被看到在等它时,它就出现在这里(从外面看不到谁持有锁)。",
)


class ProgramPanel(LessonPanel):
    """One view per primitive of the program, in the order the program made them."""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        text = Text()
        if not model.prims:
            # An attached program's (its values name a pid): only its waits are seen.
            text.append(str(NONE_SEEN if "pid" in values else NONE_YET), style="dim")
        for i, prim in enumerate(model.prims.values()):
            if i:
                text.append("\n\n")
            text.append_text(prim_view(model, prim, now_ns))
        self.part("main").show(text)


PANEL = ProgramPanel

BACK = T("Back to the table", "回到进程表")


class ProgramInput(Input):
    """A line for the program's standard input; escape gives the keys back to the dashboard."""

    BINDINGS = [Binding("escape", "leave", str(BACK), show=False)]

    def action_leave(self) -> None:
        self.screen.query_one("ProcessTable").focus()
