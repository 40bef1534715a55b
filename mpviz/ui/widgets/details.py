"""The selected process: who it is, where its time went, its CPU and memory over the last minutes, what it did last."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events

from mpviz.lang import T, ljust, word, words_for
from mpviz.model import Model, Phase, Proc
from mpviz.model.samples import KEEP_NS
from mpviz.ui.messages import SeekTo
from mpviz.ui.theme import PHASE_STYLE, PHASE_WORDS, STATUS, duration, megabytes
from mpviz.ui.widgets import history
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
    "cpu": T("cpu", "cpu"),
    "rss": T("rss", "rss"),
    "ago": T("-{span}", "-{span}"),
    "threads": T("threads", "线程"),
}
# The graph's height in lines, and the cells its labels take.
CPU_ROWS, RSS_ROWS, LABEL = 2, 1, 5
NS = 1_000_000_000


def heading(key: str) -> str:
    """A line's heading, padded so that what follows lines up."""
    return "\n" + ljust(str(SAY[key]), 7)


class Details(TextView):
    """The selected process, with its CPU and memory over the last minutes; a click on the graph is a moment
    (``SeekTo``: a replay moves there)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The graph drawn last: its lines, its start and step, and whose it is.
        self._graph: tuple[frozenset[str], int, int, Proc | None] = (frozenset(), 0, 1, None)

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
        if len(proc.samples):
            text.append_text(self._history(proc, now_ns))
        if proc.seen_threads:
            text.append(heading("threads"), style="dim")
            text.append("; ".join(proc.seen_threads))
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

    def _history(self, proc: Proc, now_ns: int) -> Text:
        """CPU and RSS from the process's start (at most the minutes kept) to now, as bars the pane's width:
        the CPU two lines tall, its highest on the left; the RSS one line; then the time they span."""
        columns = max(8, self.content_size.width - LABEL)
        span = min(KEEP_NS, max(60 * NS, now_ns - proc.started_ns))
        step = max(NS, -(-span // (columns * NS)) * NS)  # whole seconds a column
        start = history.grid(now_ns, step, columns)
        cpu = history.values([proc], "cpu", start, step, columns)
        top = max((v for v in cpu if v is not None), default=0.0)
        rss = history.values([proc], "rss", start, step, columns)
        rows = [
            (f"{max(top, 100.0):.0f}%", history.bars(cpu, "cpu", CPU_ROWS)[0], "dodger_blue1"),
            (str(SAY["cpu"]), history.bars(cpu, "cpu", CPU_ROWS)[1], "dodger_blue1"),
            (str(SAY["rss"]), history.bars(rss, "rss", RSS_ROWS)[0], "green3"),
        ]
        text = Text()
        for label, line, style in rows:
            text.append("\n" + ljust(label, LABEL), style="dim")
            text.append(line, style=style)
        ago, now = str(SAY["ago"](span=duration(step * columns))), str(SAY["now"])
        text.append("\n" + ljust("", LABEL) + ago + " " * max(1, columns - len(ago) - len(now)) + now, style="dim")
        lines = frozenset((ljust(label, LABEL) + line).rstrip() for label, line, _ in rows)
        self._graph = (lines, start, step, proc)
        return text

    def on_click(self, event: events.Click) -> None:
        """A column of the graph: the moment of the highest CPU in it."""
        lines, start, step, proc = self._graph
        at = event.get_content_offset(self)
        if at is None or proc is None or at.x < LABEL:
            return
        if self.row_text(at.y).rstrip() not in lines:
            return
        begin = start + (at.x - LABEL) * step
        peak = proc.samples.peak(begin, begin + step - 1)
        self.post_message(SeekTo(peak[0] if peak else begin))
