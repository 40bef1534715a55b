"""The wait-for graph: who holds what, who waits for what, and the cycles that never end.

Nodes are processes and primitives; each primitive someone holds or waits
for is drawn with its edges, waiters on one side and holders on the other.
A deadlock comes first, drawn as a ring and named with every process and
primitive in it; a dead or paused holder is marked.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll

from mpviz.model import Model, Prim, Proc
from mpviz.model.waits import cycle_lines, deadlocked
from mpviz.ui.theme import PHASE_STYLE, duration
from mpviz.ui.widgets.text_view import TextView


def _who(model: Model, pid: int, now_ns: int, since: int | None = None) -> Text:
    """A process as a node: its name in its phase's colour, how long, and whether it can still move."""
    proc: Proc | None = model.procs.get(pid)
    text = Text(proc.name if proc else f"pid {pid}", style=PHASE_STYLE[proc.phase] if proc else "")
    if since is not None:
        text.append(f" {duration(now_ns - since)}", style="dim")
    if proc is not None and not proc.alive:
        text.append(" ✝ dead", style="bold red")
    elif proc is not None and proc.stopped:
        text.append(" ⏸ paused", style="bold magenta")
    return text


def _edge(model: Model, label: str, pids: dict[int, int], now_ns: int) -> Text:
    text = Text(f"  {label} ", style="dim")
    for i, (pid, since) in enumerate(pids.items()):
        if i:
            text.append(", ")
        text.append_text(_who(model, pid, now_ns, since))
    return text


def _state(prim: Prim) -> str:
    if prim.family == "sem":
        capacity = prim.capacity if prim.capacity is not None else len(prim.holders)
        free = prim.value if prim.value is not None else max(0, capacity - len(prim.holders))
        return f"{free} of {capacity} free"
    if prim.family in ("lock", "rlock"):
        return "held" if prim.holders else "free"
    if prim.family == "event":
        return f"flag {prim.flag}"
    if prim.family == "queue":
        return f"depth {max(prim.depth, 0)}"
    return ""


def wait_graph(model: Model, now_ns: int) -> Text:
    """The whole graph as text: deadlocks first, then every primitive with edges, then joins."""
    text = Text()
    in_cycles: set[str] = set()
    for cycle in deadlocked(model):
        text.append(f"DEADLOCK: a cycle of {len(cycle)}, none can ever move\n", style="bold red")
        for line in cycle_lines(model, cycle):
            text.append(line + "\n", style="red")
        text.append("\n")
        in_cycles.update(link.waits for link in cycle)
    drawn = len(in_cycles)
    for prim in model.prims.values():
        waiting = {**prim.waiters, **prim.blocked_get, **prim.blocked_put}
        if not (prim.holders or waiting) or prim.id in in_cycles:
            continue  # (a primitive in a cycle is drawn in the ring)
        drawn += 1
        text.append(f"{prim.word} '{prim.name}'", style="bold")
        text.append(f"  {_state(prim)}\n", style="dim")
        if waiting:
            text.append_text(_edge(model, "waiting ▶", waiting, now_ns))
            text.append("\n")
        if prim.holders:
            held = {pid: prim.held_since.get(pid, now_ns) for pid in prim.holders}
            text.append_text(_edge(model, "held by ◀", held, now_ns))
            text.append("\n")
    for proc in model.procs.values():
        target = proc.waiting_on or ""
        if proc.alive and target.startswith("pid "):
            drawn += 1
            text.append_text(_who(model, proc.pid, now_ns, proc.since_ns))
            text.append(" ──join──▶ ", style="dim")
            text.append_text(_who(model, int(target[4:]), now_ns))
            text.append("\n")
    if not drawn:
        text.append("nobody holds or waits for anything right now", style="dim")
    text.rstrip()
    return text


class WaitGraph(VerticalScroll, can_focus=False):
    """The wait-for graph of the run (the ``w`` key), scrolling when it is long."""

    def compose(self) -> ComposeResult:
        yield TextView()

    def present(self, model: Model, now_ns: int) -> None:
        self.query_one(TextView).show(wait_graph(model, now_ns))
