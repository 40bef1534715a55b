"""A watched program's primitives, and the box that types into its standard input."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Input

from mpviz.lang import T
from mpviz.model import Model, Prim
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
MORE = T(
    "… and {n} more primitives, not drawn (mpviz stats lists them all)",
    "……还有 {n} 个同步原语没有画出来(mpviz stats 列出全部)",
)
# The most primitives drawn: a program with twenty thousand locks must not cost the dashboard a
# drawing of twenty thousand views four times a second.  Those someone holds or waits for first.
MAX_DRAWN = 100


class ProgramPanel(LessonPanel):
    """One view per primitive of the program, in the order the program made them."""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        text = Text()
        if not model.prims:
            # An attached program's (its values name a pid): only its waits are seen.
            text.append(str(NONE_SEEN if "pid" in values else NONE_YET), style="dim")
        drawn = drawn_prims(model)
        for i, prim in enumerate(drawn):
            if i:
                text.append("\n\n")
            text.append_text(prim_view(model, prim, now_ns))
        if len(drawn) < len(model.prims):
            text.append("\n\n" + MORE(n=len(model.prims) - len(drawn)), style="dim")
        self.part("main").show(text)


def drawn_prims(model: Model) -> list[Prim]:
    """The primitives drawn, in the order they were made: all of them, or ``MAX_DRAWN`` with the
    busy ones (held, waited for, a process blocked on it) first."""
    prims = list(model.prims.values())
    if len(prims) <= MAX_DRAWN:
        return prims
    busy = {p.id for p in prims if p.holders or p.waiters or p.blocked_get or p.blocked_put}
    chosen = [p for p in prims if p.id in busy][:MAX_DRAWN]
    chosen += [p for p in prims[: MAX_DRAWN * 2] if p.id not in busy][: MAX_DRAWN - len(chosen)]
    ids = {p.id for p in chosen}
    return [p for p in prims if p.id in ids]


PANEL = ProgramPanel

BACK = T("Back to the table", "回到进程表")


class ProgramInput(Input):
    """A line for the program's standard input; escape gives the keys back to the dashboard."""

    BINDINGS = [Binding("escape", "leave", str(BACK), show=False)]

    def action_leave(self) -> None:
        self.screen.query_one("ProcessTable").focus()
