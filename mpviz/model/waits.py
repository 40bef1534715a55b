"""Who waits for whom: the wait-for graph, and the deadlocks in it.

Nodes are processes (or threads of them) and primitives; a process *holds* a lock or a semaphore
(``Prim.holders``) and *waits for* the primitive it is blocked on
(``Proc.waiting_on``).  A deadlock is a set of live processes each waiting for
a lock or semaphore with no free unit whose every holder is in the set: none
of them can ever move, whatever the rest of the program does.  A wait with a
timeout is in none: it ends by itself (see :func:`ends_by_itself`).
"""

from __future__ import annotations

from typing import NamedTuple

from mpviz.lang import T
from mpviz.model.actors import Actor
from mpviz.model.prims import Prim
from mpviz.model.state import Model

# Primitives that somebody holds, and that only a holder can give back.
HELD = ("lock", "rlock", "sem")


class Link(NamedTuple):
    """One process (or thread) of a deadlock: what it holds that the previous one wants, and what it waits for."""

    actor: int  # a pid, or a thread's native id
    holds: str  # a primitive id
    waits: str  # a primitive id


def ends_by_itself(actor: Actor) -> bool:
    """It waits with a timeout: its wait ends by itself, whatever the other processes do, and the
    run can go on.  None of the processes waiting with it is in a hang or a deadlock then (if the
    timeouts keep expiring and the waits begin again for ever, that is another story: not told)."""
    return actor.waiting_on is not None and actor.gives_up_ns is not None


def forever(model: Model, waiting: dict[int, int]) -> list[int]:
    """The actors of a primitive's table of waiters that wait with no timeout."""
    out = []
    for aid in waiting:
        actor = model.actor(aid)
        if actor is None or not ends_by_itself(actor):
            out.append(aid)
    return out


def anyone_gives_up(model: Model) -> bool:
    """A live process (or a thread of one) waits with a timeout: the run can go on by itself."""
    return any(ends_by_itself(actor) for _, actor in model.live_actors())


def _exhausted(prim: Prim) -> bool:
    """No unit left: a waiter can only get in when a holder lets go."""
    if prim.family == "sem":
        return bool(prim.holders) and (prim.value is None or prim.value <= 0)
    return bool(prim.holders)


def deadlocked(model: Model) -> list[list[Link]]:
    """Every deadlock, as a cycle of links in wait order (each waits for what the next one holds)."""
    stuck: dict[int, Prim] = {}
    for aid, actor in model.live_actors():
        prim = model.prims.get(actor.waiting_on) if actor.waiting_on is not None else None
        paused = model.procs[model.pid_of(aid)].stopped
        timed = actor.gives_up_ns is not None  # it gives up in time: no cycle through it lasts
        if not paused and not timed and prim is not None and prim.family in HELD and _exhausted(prim):
            stuck[aid] = prim
    # Let go of whoever waits for a holder outside the set: that holder may
    # still release (or, dead, is an anomaly of its own, not a cycle).
    changed = True
    while changed:
        changed = False
        for pid, prim in list(stuck.items()):
            if any(holder not in stuck for holder in prim.holders):
                del stuck[pid]
                changed = True
    cycles: list[list[Link]] = []
    seen: set[int] = set()
    for start in stuck:
        if start in seen:
            continue
        # Walk waiter → a holder of what it waits for, until a process repeats.
        path: list[int] = []
        pid = start
        while pid not in path:
            path.append(pid)
            pid = next(h for h in stuck[pid].holders if h in stuck)
        cycle = path[path.index(pid) :]
        seen.update(path)
        links = []
        for i, member in enumerate(cycle):
            previous = cycle[i - 1]
            links.append(Link(member, stuck[previous].id, stuck[member].id))
        cycles.append(links)
    return cycles


RING = T("{name} holds {holds}, waits for {waits}", "{name} 持有 {holds},在等 {waits}")


def cycle_lines(model: Model, cycle: list[Link]) -> list[str]:
    """A deadlock drawn as a ring, one process a line, each waiting for what the next one holds.

    Short enough for a lesson's panel: the anomaly's text names the pids."""
    lines = []
    last = len(cycle) - 1
    for i, link in enumerate(cycle):
        ring = "↺ " if not last else "╭▶ " if i == 0 else "╰─ " if i == last else "│  "
        holds, waits = model.prim_name(link.holds), model.prim_name(link.waits)
        lines.append(ring + RING(name=model.name_of(link.actor), holds=holds, waits=waits))
    return lines
