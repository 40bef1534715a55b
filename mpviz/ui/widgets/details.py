"""The selected process: who it is, where its time went, what it did last."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from mpviz.model import Model, Phase, describe
from mpviz.ui.theme import PHASE_STYLE, PHASE_WORDS, megabytes, seconds

RECENT = 12


class Details(Static):
    def show(self, model: Model, pid: int | None, now_ns: int) -> None:
        proc = model.procs.get(pid) if pid is not None else None
        if proc is None:
            self.update(Text("Select a process in the table (↑/↓) to see its details.", style="dim"))
            return
        head = Text.assemble((proc.name, "bold"), f"  pid {proc.pid}", f"  {proc.role}", style="")
        if proc.ppid:
            head.append(f"  parent {proc.ppid}", style="dim")
        facts = Table.grid(padding=(0, 1))
        facts.add_column(style="dim")
        facts.add_column()
        facts.add_row("now", Text(proc.state, style=PHASE_STYLE[proc.phase]))
        if proc.holds:
            facts.add_row("holds", ", ".join(f"'{n}'" for n in proc.holds))
        spent = [
            Text(f"{PHASE_WORDS[phase]} {seconds(proc.time_in(phase, now_ns))}", style=PHASE_STYLE[phase])
            for phase in (Phase.RUNNING, Phase.HOLDING, Phase.BLOCKED, Phase.STOPPED)
            if proc.time_in(phase, now_ns)
        ]
        if spent:
            facts.add_row("time", Text("  ").join(spent))
        if proc.stats and proc.alive:
            s = proc.stats
            facts.add_row("psutil", f"{s.status}, cpu {s.cpu:.1f}%, rss {megabytes(s.rss)}, {s.threads} threads")
        if proc.error:
            facts.add_row("error", Text(proc.error, style="red"))
        t0 = model.t0 or 0
        recent = Text()
        for event in list(proc.recent)[-RECENT:]:
            words = describe(event)
            if words:
                recent.append(f"{(event.t_ns - t0) / 1e9:7.2f}  ", style="dim")
                recent.append(words + "\n")
        self.update(Group(head, facts, Text("recent", style="dim"), recent))
