"""Each round's messages as arrows; main taking its own message back in red."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from mpviz.lang import T, rjust
from mpviz.model import Model, Phase
from mpviz.ui.theme import PHASE_STYLE
from mpviz.ui.widgets.lesson_panel import LessonPanel


def transfers(model: Model) -> dict[str, list[tuple[int | None, int, str]]]:
    """Messages that went through each queue or pipe: (from pid, to pid, item), oldest first."""
    sent: dict[str, list[tuple[int, str]]] = {}
    out: dict[str, list[tuple[int | None, int, str]]] = {}
    for event in model.log:
        item = str(event.data.get("item", ""))
        if event.kind in ("queue.put", "pipe.send"):
            sent.setdefault(event.obj, []).append((event.pid, item))
        elif event.kind in ("queue.get", "pipe.recv"):
            waiting = sent.get(event.obj, [])
            match = next((i for i, (_, it) in enumerate(waiting) if it == item), None)
            source = waiting.pop(match)[0] if match is not None else None
            out.setdefault(event.obj, []).append((source, event.pid, item))
    return out


SAY = {
    "channel": T("Channel: ", "通道:"),
    "queue": T("queue", "队列"),
    "pipe": T("pipe", "管道"),
    "one_end": T("  (one end for everybody)", "  (只有一个口,大家共用)"),
    "two_ends": T("  (two ends: main's and the child's)", "  (两个口:主进程的和子进程的)"),
    "sleeps": T("\nmain sleeps 0.5 s before its get\n", "\n主进程 get 之前 sleep 0.5 秒\n"),
    "no_sleep": T("\nmain does not sleep before its get\n", "\n主进程 get 之前不 sleep\n"),
    "own": T(" ← its own!", " ← 它自己的!"),
    "blocked": T("Blocked now", "正在阻塞"),
}


class PingPongPanel(LessonPanel):
    """Each round's messages as arrows; main taking its own message back in red."""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        channel = values.get("mode", "queue")
        text = Text.assemble((str(SAY["channel"]), "bold"), str(SAY["pipe" if channel == "pipe" else "queue"]))
        text.append(str(SAY["one_end" if channel == "queue" else "two_ends"]), style="dim")
        text.append(str(SAY["no_sleep" if values.get("no_sleep", False) else "sleeps"]))
        for prim, moves in transfers(model).items():
            text.append(f"\n{model.prim_name(prim)}\n", style="bold")
            for source, target, item in moves:
                own = source == target
                style = "bold red" if own else ""
                text.append(f"  {rjust(model.name_of(source) if source else '?', 8)} ", style=style)
                text.append(f"──{item!r}──▶ ", style="bold red" if own else "green3")
                text.append(model.name_of(target), style=style)
                if own:
                    text.append(str(SAY["own"]), style="bold red")
                text.append("\n")
        blocked = [p for p in model.procs.values() if p.alive and p.phase is Phase.BLOCKED]
        if blocked:
            text.append(f"\n{SAY['blocked']}", style="bold")
            for proc in blocked:
                text.append(f"\n  {proc.name}: {proc.state}", style=PHASE_STYLE[proc.phase])
        self.part("main").show(text)


PANEL = PingPongPanel
