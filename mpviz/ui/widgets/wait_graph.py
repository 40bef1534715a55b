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

from mpviz.lang import T
from mpviz.model import Model, Prim, Proc
from mpviz.model.waits import cycle_lines, deadlocked
from mpviz.ui.theme import PHASE_STYLE, duration
from mpviz.ui.widgets.text_view import TextView

SAY = {
    "dead": T(" ✝ dead", " ✝ 已死"),
    "paused": T(" ⏸ paused", " ⏸ 已暂停"),
    "free_of": T("{free} of {capacity} free", "{capacity} 个中空 {free} 个"),
    "held": T("held", "被持有"),
    "free": T("free", "空闲"),
    "flag": T("flag {flag}", "标志 {flag}"),
    "depth": T("depth {depth}", "深度 {depth}"),
    "deadlock": T("DEADLOCK: a cycle of {n}, none can ever move", "死锁:{n} 个进程成环,谁也动不了"),
    "potential": T(
        "potential deadlock: a cycle in the lock order (not this time; another run could)",
        "潜在死锁:拿锁的顺序成环(这次没有发生,换个时机就会)",
    ),
    "takes": T("{who} takes '{first}' then '{second}'", "{who} 先拿 '{first}' 再拿 '{second}'"),
    "waiting": T("waiting ▶", "等待 ▶"),
    "held_by": T("held by ◀", "持有者 ◀"),
    "nobody": T("nobody holds or waits for anything right now", "现在谁也没持有、也没在等什么"),
    "unseen": T("holder not visible from outside", "从外面看不到持有者"),
}


def _who(model: Model, actor: int, now_ns: int, since: int | None = None, where: bool = False) -> Text:
    """A process (or a thread of it) as a node: its name in its phase's colour, how long, where it
    waits (``where``), and whether it can still move."""
    proc: Proc | None = model.procs.get(model.pid_of(actor))
    node = model.actor(actor)
    text = Text(model.name_of(actor), style=PHASE_STYLE[node.phase] if node is not None else "")
    if since is not None:
        text.append(f" {duration(now_ns - since)}", style="dim")
    if where and node is not None and node.at and model.where(node.at):
        text.append(f" at {model.where(node.at)}", style="dim")
    if proc is not None and not proc.alive:
        text.append(str(SAY["dead"]), style="bold red")
    elif proc is not None and proc.stopped:
        text.append(str(SAY["paused"]), style="bold magenta")
    return text


def _edge(model: Model, label: str, actors: dict[int, int], now_ns: int, where: bool = False) -> Text:
    text = Text(f"  {label} ", style="dim")
    for i, (actor, since) in enumerate(actors.items()):
        if i:
            text.append(", ")
        text.append_text(_who(model, actor, now_ns, since, where))
    return text


def _state(prim: Prim) -> str:
    if prim.outside:
        return str(SAY["unseen"]) if prim.family in ("lock", "cond") else ""
    if prim.family == "sem":
        capacity = prim.capacity if prim.capacity is not None else len(prim.holders)
        free = prim.value if prim.value is not None else max(0, capacity - len(prim.holders))
        return SAY["free_of"](free=free, capacity=capacity)
    if prim.family in ("lock", "rlock"):
        return str(SAY["held"] if prim.holders else SAY["free"])
    if prim.family == "event":
        return SAY["flag"](flag=prim.is_set)
    if prim.family == "queue":
        return SAY["depth"](depth=max(prim.depth, 0))
    return ""


def wait_graph(model: Model, now_ns: int, unseen: str = "") -> Text:
    """The whole graph as text: deadlocks first, then every primitive with edges, then joins;
    then what this run cannot see (``unseen``: an attached program's)."""
    text = Text()
    in_cycles: set[str] = set()
    for cycle in deadlocked(model):
        text.append(SAY["deadlock"](n=len(cycle)) + "\n", style="bold red")
        for line in cycle_lines(model, cycle):
            text.append(line + "\n", style="red")
        text.append("\n")
        in_cycles.update(link.waits for link in cycle)
    drawn = len(in_cycles)
    real = {frozenset(cycle_lock) for cycle_lock in ({link.waits for link in cycle} for cycle in deadlocked(model))}
    for key, potential in model.potentials.items():
        if key in real:
            continue
        drawn += 1
        text.append(str(SAY["potential"]) + "\n", style="bold yellow")
        last = len(potential.takings) - 1
        for i, taking in enumerate(potential.takings):
            ring = "╭┄▶ " if i == 0 else "╰┄┄ " if i == last else "┆   "
            first = model.prim_name(potential.locks[i])
            second = model.prim_name(potential.locks[(i + 1) % len(potential.locks)])
            text.append(
                ring + SAY["takes"](who=model.name_of(taking.actor), first=first, second=second) + "\n", style="yellow"
            )
        text.append("\n")
    for prim in model.prims.values():
        waiting = {**prim.waiters, **prim.blocked_get, **prim.blocked_put}
        if not (prim.holders or waiting) or prim.id in in_cycles:
            continue  # (a primitive in a cycle is drawn in the ring)
        drawn += 1
        text.append(f"{prim.word} '{prim.name}'", style="bold")
        text.append(f"  {_state(prim)}\n", style="dim")
        if waiting:
            text.append_text(_edge(model, str(SAY["waiting"]), waiting, now_ns, where=True))
            text.append("\n")
        if prim.holders:
            held = {pid: prim.held_since.get(pid, now_ns) for pid in prim.holders}
            text.append_text(_edge(model, str(SAY["held_by"]), held, now_ns))
            text.append("\n")
    for aid, actor in model.live_actors():
        target = actor.waiting_on or ""
        if target.startswith("pid "):
            drawn += 1
            text.append_text(_who(model, aid, now_ns, actor.since_ns, where=True))
            text.append(" ──join──▶ ", style="dim")
            text.append_text(_who(model, int(target[4:]), now_ns))
            text.append("\n")
    if not drawn:
        text.append(str(SAY["nobody"]), style="dim")
    if unseen:
        text.append(f"\n\n{unseen}", style="dim italic")
    text.rstrip()
    return text


class WaitGraph(VerticalScroll, can_focus=False):
    """The wait-for graph of the run (the ``w`` key), scrolling when it is long."""

    def compose(self) -> ComposeResult:
        yield TextView()

    def present(self, model: Model, now_ns: int, unseen: str = "") -> None:
        self.query_one(TextView).show(wait_graph(model, now_ns, unseen))
