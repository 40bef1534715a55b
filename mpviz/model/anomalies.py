"""What is wrong right now, named with its processes and primitives.

* a deadlock: a cycle of processes each holding what the next one waits for;
* a dead holder (a multiprocessing lock has no owner: nobody else can ever
  release it) or a paused one;
* a hang: consumers blocked on an empty queue that no live process feeds;
  a process waiting on an event, a queue or a pipe while every live process
  is blocked, so nobody is left to set, put or send;
* an event passed before any ``set()`` (a lesson's order broke).

Each is judged from the model alone, at a time ``now_ns`` on the records'
clock; a hang only after it has lasted ``HANG_GRACE_NS`` (between a
producer's exit and the main process's end signal there is a short moment
that is not one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mpviz.model.state import Anomaly, Prim
from mpviz.model.waits import HELD, deadlocked

if TYPE_CHECKING:
    from mpviz.model.reducer import Model

HANG_GRACE_NS = 1_500_000_000


def find_anomalies(model: Model, now_ns: int) -> list[Anomaly]:
    found = deadlocks(model)
    for prim in model.prims.values():
        if prim.first_pass_ns is not None and (prim.first_set_ns is None or prim.first_pass_ns < prim.first_set_ns):
            found.append(Anomaly("order", f"a process got through event '{prim.name}' before any set()"))
        found.extend(held_by_the_gone(model, prim))
        starved = starved_queue(model, prim, now_ns)
        if starved is not None:
            found.append(starved)
    if not any(a.kind in ("deadlock", "dead-holder", "starved") for a in found):
        found.extend(nobody_left(model, now_ns))
    return [doubted(model, a) for a in found]


def doubted(model: Model, anomaly: Anomaly) -> Anomaly:
    """An anomaly about a process that dropped records (``proc.lost``) may be a ghost of the
    missing ones (a release never seen): said, but as a doubt, which no verdict counts."""
    lossy = [pid for pid in anomaly.pids if model.lost_by.get(pid)]
    if not lossy:
        return anomaly
    n = sum(model.lost_by[pid] for pid in lossy)
    who = ", ".join(model.name_of(pid) for pid in lossy)
    return Anomaly("doubt", f"{anomaly.text} — unsure: {n} records of {who} were lost", anomaly.pids)


def _who(model: Model, pid: int) -> str:
    return f"{model.name_of(pid)} (pid {pid})"


def deadlocks(model: Model) -> list[Anomaly]:
    found = []
    for cycle in deadlocked(model):
        parts = [
            f"{_who(model, link.pid)} holds '{model.prim_name(link.holds)}' and waits for '{model.prim_name(link.waits)}'"
            for link in cycle
        ]
        found.append(Anomaly("deadlock", "deadlock: " + "; ".join(parts), tuple(link.pid for link in cycle)))
    return found


def held_by_the_gone(model: Model, prim: Prim) -> list[Anomaly]:
    """A lock or semaphore held by a dead or paused process."""
    found = []
    for pid in prim.holders:
        proc = model.procs.get(pid)
        if proc is None or not (proc.stopped or not proc.alive):
            continue
        waiting = len(prim.waiters)
        if prim.family == "sem" and not waiting:
            # A semaphore's unit is not owed back the way a lock is: taking the
            # signal another process gave is how a semaphore signals.  Only
            # someone stuck waiting makes a dead or paused taker matter.
            continue
        who = f"{prim.word} '{prim.name}' held by"
        if not proc.alive:
            if waiting:
                text = f"deadlock: {who} dead pid {pid} ({proc.name}); {waiting} waiting forever"
            else:
                text = f"{who} dead pid {pid} ({proc.name}): it will never be released"
            found.append(Anomaly("dead-holder", text, (pid, *prim.waiters)))
        else:
            text = f"{who} paused pid {pid} ({proc.name}); {waiting} waiting until it resumes"
            found.append(Anomaly("paused-holder", text, (pid, *prim.waiters)))
    return found


def starved_queue(model: Model, prim: Prim, now_ns: int) -> Anomaly | None:
    """Consumers blocked on an empty queue that every process that ever fed it has left."""
    if prim.family != "queue" or not prim.blocked_get or prim.depth > 0 or not prim.putters:
        return None
    if any(model.procs[pid].alive for pid in prim.putters if pid in model.procs):
        return None
    # Starved since the later of the last producer's exit and the last consumer's block.
    exits = [model.procs[pid].exited_ns or 0 for pid in prim.putters if pid in model.procs]
    since = max([*prim.blocked_get.values(), *exits])
    if now_ns - since < HANG_GRACE_NS:
        return None
    n = len(prim.blocked_get)
    who = "consumer" if n == 1 else "consumers"
    return Anomaly(
        "starved",
        f"hang: {n} {who} blocked on get from empty queue '{prim.name}' and no producer left",
        tuple(prim.blocked_get),
    )


def nobody_left(model: Model, now_ns: int) -> list[Anomaly]:
    """Every live process is blocked on a primitive: none of them can set, put, send or release.

    A process asleep, computing, or blocked on anything mpviz does not see
    (a socket) counts as able to move; so does a paused one (it may be resumed).
    """
    live = [p for p in model.procs.values() if p.alive]
    if not live or any(p.waiting_on is None or p.stopped for p in live):
        return []
    # Since the situation arose: the last one blocked, or the last one left.
    exits = [p.exited_ns for p in model.procs.values() if p.exited_ns is not None]
    if now_ns - max([p.since_ns for p in live] + exits) < HANG_GRACE_NS:
        return []
    if len(live) == 1:
        (proc,) = live
        prim = model.prims.get(proc.waiting_on or "")
        what = f"{prim.word} '{prim.name}'" if prim else "a primitive"
        if prim is not None and prim.family == "event":
            reason = "no live process can set it"
        elif prim is not None and prim.family in HELD:
            reason = "no live process can release it"
        else:
            reason = "it is the only process left"
        return [Anomaly("hang", f"hang: {_who(model, proc.pid)} waits forever on {what}: {reason}", (proc.pid,))]
    parts = []
    for proc in live:
        waits = proc.waiting_on or ""
        prim = model.prims.get(waits)
        if prim is not None:
            parts.append(f"{_who(model, proc.pid)} on {prim.word} '{prim.name}'")
        elif waits.startswith("pid "):
            parts.append(f"{_who(model, proc.pid)} joining {model.name_of(int(waits[4:]))}")
        else:
            parts.append(_who(model, proc.pid))
    return [
        Anomaly(
            "hang",
            f"hang: all {len(live)} live processes are blocked, nobody can wake them: " + "; ".join(parts),
            tuple(p.pid for p in live),
        )
    ]
