"""The selected process: who it is, where its time went, what it did last."""

from __future__ import annotations

from rich.text import Text

from mpviz.lang import T, ljust, word, words_for
from mpviz.model import Model, Phase
from mpviz.ui.theme import PHASE_STYLE, PHASE_WORDS, STATUS, duration, megabytes
from mpviz.ui.widgets.text_view import TextView

RECENT = 12

SAY = {
    "select": T("Select a process in the table (↑/↓) to see its details.", "在表格里选一个进程(↑/↓)看它的详情。"),
    "parent": T("  parent {ppid}", "  父进程 {ppid}"),
    "now": T("now", "现在"),
    "holds": T("holds", "持有"),
    "time": T("time", "时间"),
    "psutil": T("psutil", "psutil"),
    "stats": T(
        "{status}, cpu {cpu:.1f}%, rss {rss}, {threads} threads", "{status},cpu {cpu:.1f}%,rss {rss},{threads} 个线程"
    ),
    "error": T("error", "错误"),
    "recent": T("recent", "最近"),
}


def heading(key: str) -> str:
    """A line's heading, padded so that what follows lines up."""
    return "\n" + ljust(str(SAY[key]), 7)


class Details(TextView):
    def present(self, model: Model, pid: int | None, now_ns: int) -> None:
        proc = model.procs.get(pid) if pid is not None else None
        if proc is None:
            self.show(Text(str(SAY["select"]), style="dim"))
            return
        text = Text.assemble((proc.name, "bold"), f"  pid {proc.pid}  {word(proc.role)}")
        if proc.ppid:
            text.append(SAY["parent"](ppid=proc.ppid), style="dim")
        text.append(heading("now"), style="dim")
        text.append(proc.state, style=PHASE_STYLE[proc.phase])
        if proc.holds:
            text.append(heading("holds"), style="dim")
            text.append(", ".join(f"'{model.prim_name(n)}'" for n in proc.holds))
        spent = [
            (phase, proc.time_in(phase, now_ns))
            for phase in (Phase.RUNNING, Phase.SLEEPING, Phase.HOLDING, Phase.BLOCKED, Phase.STOPPED)
        ]
        if any(ns for _, ns in spent):
            text.append(heading("time"), style="dim")
            for phase, ns in spent:
                if ns:
                    text.append(f"{PHASE_WORDS[phase]} {duration(ns)}  ", style=PHASE_STYLE[phase])
        if proc.stats and proc.alive:
            s = proc.stats
            text.append(heading("psutil"), style="dim")
            text.append(
                SAY["stats"](status=words_for(s.status, STATUS), cpu=s.cpu, rss=megabytes(s.rss), threads=s.threads)
            )
        if proc.error:
            text.append(heading("error"), style="dim")
            text.append(proc.error, style="red")
        text.append(f"\n{SAY['recent']}", style="dim")
        t0 = model.t0 or 0
        for event in list(proc.recent)[-RECENT:]:
            words = model.describe(event)
            if words:
                text.append(f"\n{(event.t_ns - t0) / 1e9:7.2f}  ", style="dim")
                text.append(words)
        self.show(text)
