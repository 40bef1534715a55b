"""Lock order: which lock each process (or thread) took while it held another, and the cycles in that order.

A cycle — one takes A then B, another takes B then A — is a deadlock waiting
for the wrong interleaving, even in a run where it did not happen: a
*potential deadlock*, as Linux's lockdep and ThreadSanitizer's
lock-order-inversion report name it.  Kept for the whole run:

* an edge A → B for every lock B taken (or waited for) while A was held, with
  who took it, where it took each (sites), and what else it held then;
* a cycle is named once, when its last edge appears, if its edges come from at
  least two takers (one taker alone cannot deadlock with itself), no lock
  or semaphore held on every edge lets fewer in at once than there are takers
  (a *gate*: the philosophers' waiter, a lock around both), and no edge was
  only ever waited for with a timeout (such a wait gives up: the "deadlock"
  ends by itself, so it is none, and not said).

Semaphores of one unit count as locks; a condition's lock is a lock.
"""

from __future__ import annotations

from collections import deque

from mpviz.lang import T
from mpviz.model.prims import Prim
from mpviz.model.state import Model, Potential, Taking

TAKES = T(
    "{who} takes '{first}'{first_at} then '{second}'{second_at}",
    "{who} 先拿 '{first}'{first_at},再拿 '{second}'{second_at}",
)
AT = T(" ({where})", "({where})")
POTENTIAL = T(
    "potential deadlock: {parts} — a run where each takes its first before the other takes its second never ends",
    "潜在死锁:{parts} —— 如果各自先拿到第一把,谁也拿不到第二把,程序就永远卡住",
)


def lock_like(prim: Prim) -> bool:
    """A lock, an rlock, or a semaphore of one unit (used as a lock)."""
    return prim.family in ("lock", "rlock") or (prim.family == "sem" and prim.capacity == 1)


def note_taking(model: Model, actor: int, held: dict[str, str], prim: Prim, at: str, timed: bool | None = None) -> None:
    """``actor`` takes (or starts waiting for) ``prim`` at site ``at`` while it holds ``held`` (prim id → site);
    ``timed``: a wait, with a timeout or not (None: taken at once, its timeout unknown)."""
    if not held or not lock_like(prim):
        return
    for first, first_at in held.items():
        if first == prim.id:
            continue  # an rlock taken again
        first_prim = model.prims.get(first)
        if first_prim is None or not lock_like(first_prim):
            continue
        takers = model.order.setdefault((first, prim.id), {})
        known = takers.get(actor)
        if known is not None:
            if timed is not None and timed != known.timed:
                # Its latest wait on this edge says how it waits: one without a timeout may now close a cycle.
                takers[actor] = known._replace(timed=timed)
                if not timed:
                    _close_cycles(model, first, prim.id)
            continue
        gates = frozenset(p for p in held if p not in (first, prim.id))
        takers[actor] = Taking(actor, first_at, at, gates, bool(timed))
        _close_cycles(model, first, prim.id)


def _close_cycles(model: Model, first: str, second: str) -> None:
    """A new edge first → second: is there a way back from second to first?"""
    path = _path(model, second, first)
    if path is None:
        return
    locks = (first, *path[:-1])  # first → second → … → first
    key = frozenset(locks)
    if key in model.potentials:
        return
    takings = _takers(model, locks)
    if takings is not None:
        model.potentials[key] = Potential(locks, takings)


def _path(model: Model, start: str, goal: str) -> list[str] | None:
    """The shortest chain of lock-order edges from ``start`` to ``goal`` (both included)."""
    after: dict[str, list[str]] = {}
    for a, b in model.order:
        after.setdefault(a, []).append(b)
    came: dict[str, str | None] = {start: None}
    todo = deque([start])
    while todo:
        node = todo.popleft()
        if node == goal:
            chain = [node]
            while (back := came[chain[-1]]) is not None:
                chain.append(back)
            return chain[::-1]
        for nxt in after.get(node, ()):
            if nxt not in came:
                came[nxt] = node
                todo.append(nxt)
    return None


def _takers(model: Model, locks: tuple[str, ...]) -> tuple[Taking, ...] | None:
    """A taking for each edge of the cycle, from as many different takers as there are; None
    when only one taker made them all, a gate held on every edge keeps them apart, or an edge was
    only waited for with a timeout."""
    edges = [(locks[i], locks[(i + 1) % len(locks)]) for i in range(len(locks))]
    chosen: list[Taking] = []
    used: set[int] = set()
    for edge in edges:
        takers = [t for t in model.order[edge].values() if not t.timed]
        if not takers:
            return None  # each who took it waited with a timeout: it gives up, the cycle breaks
        fresh = [t for t in takers if t.actor not in used]
        taking = (fresh or takers)[0]
        chosen.append(taking)
        used.add(taking.actor)
    if len(used) < 2:
        return None
    gates = frozenset.intersection(*(t.gates for t in chosen))
    for gate in gates:
        prim = model.prims.get(gate)
        room = 1 if prim is None or prim.family != "sem" else prim.capacity or 1
        if room < len(used):
            return None
    return tuple(chosen)


def words(model: Model, potential: Potential) -> str:
    """The cycle in words: who takes what, where, in which order."""
    parts = []
    for i, taking in enumerate(potential.takings):
        first, second = potential.locks[i], potential.locks[(i + 1) % len(potential.locks)]
        parts.append(
            TAKES(
                who=model.name_of(taking.actor),
                first=model.prim_name(first),
                first_at=_at(model, taking.first_at),
                second=model.prim_name(second),
                second_at=_at(model, taking.second_at),
            )
        )
    return POTENTIAL(parts="; ".join(parts))


def _at(model: Model, site_id: str) -> str:
    site = model.sites.get(site_id)
    return AT(where=f"{site.file.rpartition('/')[2]}:{site.line}") if site is not None else ""
