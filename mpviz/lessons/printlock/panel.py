"""The rounds side by side: each worker's "running" to "done" as a bar, and the lines it printed."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from mpviz.lang import T
from mpviz.lessons.printlock.lesson import HOW, PrintLock, rounds, span
from mpviz.lessons.printlock.workers import MODES, Said
from mpviz.model import Model, Phase
from mpviz.ui.theme import PHASE_STYLE
from mpviz.ui.widgets.lesson_panel import LessonPanel
from mpviz.ui.widgets.output import colour

SAY = {
    "head": T("Each worker: 'running' to 'done'", "每个进程:从 'running' 到 'done'"),
    "not_yet": T("   not run yet (m: next mode)\n", "   还没运行(m:下一种)\n"),
    "printed": T("   printed:\n", "   打印出来的:\n"),
}


class PrintLockPanel(LessonPanel):
    """The rounds side by side: each worker's running..done as a bar on one time scale, and its printed lines."""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        by_mode = rounds(model)
        spans: dict[str, list[tuple[str, tuple[int, int] | None, Phase]]] = {}
        longest = 1
        for mode, procs in by_mode.items():
            start = min(p.started_ns for p in procs)
            rows = []
            for proc in procs:
                s = span(proc)
                started = proc.first_said(Said.RUNNING)
                if s is None and started is not None and proc.said == Said.RUNNING:
                    s = (started, now_ns)
                rows.append(
                    (proc.label.partition(" ")[2], None if s is None else (s[0] - start, s[1] - start), proc.phase)
                )
                if s is not None:
                    longest = max(longest, s[1] - start)
            spans[mode] = rows
        width = max(10, self.inner_width - 9)
        text = Text.assemble((str(SAY["head"]), "bold"), f" ({longest / 1e9:.1f} s)\n")
        for mode in MODES:
            shown = spans.get(mode)
            text.append(f"\n{mode}", style="bold")
            text.append(f"{HOW[mode]}\n", style="dim")
            if not shown:
                text.append(str(SAY["not_yet"]), style="dim")
                continue
            glyph, style = ("█", PHASE_STYLE[Phase.HOLDING]) if mode == "lock" else ("━", PHASE_STYLE[Phase.RUNNING])
            for n, s, phase in shown:
                text.append(f"  {n:>3}  ")
                if s is None:
                    text.append("·" if phase is not Phase.EXITED else "", style="dim")
                else:
                    a, b = (round(x * (width - 1) / longest) for x in s)
                    text.append(" " * a)
                    text.append(glyph * max(1, b - a), style=style)
                text.append("\n")
            # The lines themselves, in the order they were printed: interleaved, or in pairs.
            pids = {p.pid for p in by_mode[mode]}
            printed = [e for e in model.output if e.pid in pids]
            if printed:
                text.append(str(SAY["printed"]), style="dim")
                for event in printed:
                    text.append(f"     {event.data.get('text', '')}\n", style=colour(model, event.pid))
        verdict = PrintLock.judge(model, values, now_ns)
        text.append(f"\n{verdict.text}", style="bold red" if verdict.ok is False else "dim")
        self.part("main").show(text)


PANEL = PrintLockPanel
