"""The selected process: who it is, where its time went, what it did last."""

from __future__ import annotations

from rich.text import Text

from mpviz.model import Model, Phase
from mpviz.ui.theme import PHASE_STYLE, PHASE_WORDS, duration, megabytes
from mpviz.ui.widgets.text_view import TextView

RECENT = 12


class Details(TextView):
    def present(self, model: Model, pid: int | None, now_ns: int) -> None:
        proc = model.procs.get(pid) if pid is not None else None
        if proc is None:
            self.show(Text("Select a process in the table (↑/↓) to see its details.", style="dim"))
            return
        text = Text.assemble((proc.name, "bold"), f"  pid {proc.pid}  {proc.role}")
        if proc.ppid:
            text.append(f"  parent {proc.ppid}", style="dim")
        text.append("\nnow    ", style="dim")
        text.append(proc.state, style=PHASE_STYLE[proc.phase])
        if proc.holds:
            text.append("\nholds  ", style="dim")
            text.append(", ".join(f"'{model.prim_name(n)}'" for n in proc.holds))
        spent = [
            (phase, proc.time_in(phase, now_ns))
            for phase in (Phase.RUNNING, Phase.HOLDING, Phase.BLOCKED, Phase.STOPPED)
        ]
        if any(ns for _, ns in spent):
            text.append("\ntime   ", style="dim")
            for phase, ns in spent:
                if ns:
                    text.append(f"{PHASE_WORDS[phase]} {duration(ns)}  ", style=PHASE_STYLE[phase])
        if proc.stats and proc.alive:
            s = proc.stats
            text.append("\npsutil ", style="dim")
            text.append(f"{s.status}, cpu {s.cpu:.1f}%, rss {megabytes(s.rss)}, {s.threads} threads")
        if proc.error:
            text.append("\nerror  ", style="dim")
            text.append(proc.error, style="red")
        text.append("\nrecent", style="dim")
        t0 = model.t0 or 0
        for event in list(proc.recent)[-RECENT:]:
            words = model.describe(event)
            if words:
                text.append(f"\n{(event.t_ns - t0) / 1e9:7.2f}  ", style="dim")
                text.append(words)
        self.show(text)
