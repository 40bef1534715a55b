"""The process table's rows as plain strings: a process's, and a thread's under it."""

from __future__ import annotations

from mpviz.lang import words_for
from mpviz.model import Model, Phase, Proc
from mpviz.model.actors import Thread
from mpviz.ui.theme import STATUS, duration, megabytes
from mpviz.ui.widgets import history
from mpviz.ui.widgets.process_tree import Branch

# A row as plain strings, cheap to build and compare every second; the last
# one is the phase, which colours the State cell.
Row = tuple[str, ...]


def thread_row(model: Model, thread: Thread, now_ns: int, lines: str = "") -> Row:
    """A thread that waits or holds something, under its process (``lines``: the tree's lines
    of its process's children): its native id, its name, its state."""
    holds = ", ".join(model.prim_name(i) for i in thread.holds)
    who = lines + "↳ " + thread.label
    since = duration(now_ns - thread.since_ns)
    return (str(thread.tid), who, thread.state, since, holds, "", "", "", "", "", "", thread.phase.value)


def shown_threads(proc: Proc) -> list[int]:
    """The threads of a live process that have a row: those that wait for (or in) or hold something."""
    if not proc.alive:
        return []
    return [tid for tid, t in proc.threads.items() if (t.blocked or t.holds or t.elsewhere) and not t.ended]


def row_of(model: Model, proc: Proc, now_ns: int, branch: Branch | None = None, under: list[Proc] | None = None) -> Row:
    """A process's row; in a tree, its ``branch`` (tree lines, fold mark); folded, the figures of
    every living process ``under`` its row added up."""
    since = "" if proc.phase is Phase.EXITED else duration(now_ns - proc.since_ns)
    holds = ", ".join(model.prim_name(i) for i in proc.holds)
    stats = proc.stats
    group = under or [proc]
    if not proc.alive:
        status = words_for("zombie" if proc.zombie else "exited", STATUS)
    else:
        status = words_for("stopped" if proc.stopped else stats.status, STATUS) if stats is not None else ""
    live = [p.stats for p in group if p.alive and p.stats is not None]
    cpu = f"{sum(s.cpu for s in live):5.1f}" if live else ""
    rss = megabytes(sum(s.rss for s in live)) if live else ""
    threads = str(sum(s.threads for s in live)) if live else ""
    state = f"{proc.state}  {proc.error}" if proc.error else proc.state
    who = (branch.prefix if branch else "") + proc.name + (f" (+{branch.hidden})" if branch and branch.hidden else "")
    cpu_h = history.sparkline(group, "cpu", now_ns)
    rss_h = history.sparkline(group, "rss", now_ns)
    return (str(proc.pid), who, state, since, holds, status, cpu, cpu_h, rss, rss_h, threads, proc.phase.value)


def children_lines(branch: Branch) -> str:
    """The tree's lines before the rows under a process: its own, each turned into a line going on."""
    if not branch.lines:
        return ""
    return branch.lines[:-2] + ("│ " if branch.lines.endswith("├ ") else "  ")
