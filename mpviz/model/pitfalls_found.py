"""The pitfalls judged from the model alone, at a time ``now_ns``, like the anomalies: what no
single record says (a join waiting on a child whose queue still holds its items, a zombie left,
shared memory never unlinked, a pool's tasks stuck or its workers dying, a barrier's parties
dead).  Those the processes say themselves are in :mod:`.pitfalls`."""

from __future__ import annotations

from mpviz.model.pitfall_words import SAY, pitfall_text, where_of
from mpviz.model.state import Anomaly, Model
from mpviz.model.waits import forever

# How long a situation lasts before it is named (a join a moment before the last get is not one).
SETTLED_NS = 1_000_000_000
# A zombie is named once it has been one this long.
ZOMBIE_NS = 5_000_000_000
# A pool's tasks are stuck when no result came for this long while others had.
POOL_QUIET_NS = 5_000_000_000

# --- what the model sees ----------------------------------------------------------------------------------


def find_pitfalls(model: Model, now_ns: int) -> list[Anomaly]:
    """Every pitfall said so far, and those the model sees now."""
    found = list(model.pitfalls.values())
    found.extend(_feeders(model, now_ns))
    found.extend(_zombies(model, now_ns))
    found.extend(_leaked_memory(model))
    found.extend(_stuck_pools(model, now_ns))
    found.extend(_dying_pools(model))
    return found


def _feeders(model: Model, now_ns: int) -> list[Anomaly]:
    """A join that waits for a child whose target returned a while ago (its exit, a moment after,
    is no pitfall) while items it put are still in a queue."""
    found = []
    for aid, actor in model.live_actors():
        target = actor.waiting_on or ""
        if not target.startswith("pid ") or actor.gives_up_ns is not None or now_ns - actor.since_ns < SETTLED_NS:
            continue  # (a join with a timeout returns by itself: no pitfall)
        child = model.procs.get(int(target[4:]))
        if child is None or not child.alive or not child.ran or now_ns - child.ran_ns < SETTLED_NS:
            continue
        for prim in model.prims.values():
            n = prim.outstanding.get(child.pid, 0) if prim.family == "queue" else 0
            if n > 0:
                text = pitfall_text(
                    "feeder",
                    who=model.name_of(aid),
                    child=child.name,
                    where=where_of(model, actor.at),
                    n=n,
                    queue=prim.name,
                )
                found.append(Anomaly("feeder", text, (aid, child.pid)))
    return found


def _zombies(model: Model, now_ns: int) -> list[Anomaly]:
    """A child a zombie for a while, its parent alive and joining nobody.  (multiprocessing joins the ended
    children whenever a process starts, so a zombie that stays is one its parent has forgotten.)"""
    found = []
    for proc in model.procs.values():
        parent = model.procs.get(proc.ppid) if proc.ppid is not None else None
        if not proc.zombie or parent is None or not parent.alive or now_ns - (proc.exited_ns or now_ns) < ZOMBIE_NS:
            continue
        if (parent.waiting_on or "").startswith("pid "):
            continue  # it is joining its children, one after the other
        where = model.where(proc.started_at)
        started = SAY["started"](where=f"at {where}") if where else ""
        text = pitfall_text("zombie", child=proc.name, parent=parent.name, started=started)
        found.append(Anomaly("pitfall", text, (proc.pid,)))
    return found


def _leaked_memory(model: Model) -> list[Anomaly]:
    """Shared memory made and never unlinked, once the process that made it has ended."""
    found = []
    for prim in model.prims.values():
        maker = model.procs.get(prim.maker)
        if prim.family != "shm" or prim.unlinked or maker is None or maker.alive:
            continue
        text = pitfall_text(
            "shm", name=prim.name, block=prim.block, where=f"at {prim.site}" if prim.site else "where, unknown"
        )
        found.append(Anomaly("pitfall", text, (maker.pid,)))
    return found


def _stuck_pools(model: Model, now_ns: int) -> list[Anomaly]:
    """A pool whose tasks stopped coming back while some had: the workers still inside a task."""
    found = []
    for prim in model.prims.values():
        if prim.family != "pool" or not prim.results or prim.tasks <= prim.results:
            continue
        if now_ns - max(prim.last_result_ns, prim.last_task_ns) < POOL_QUIET_NS:
            continue
        # A worker waiting for its next task says so (``pool.wait_task``), or waits in the pool's
        # queue (its stack says so); the others are inside one.  (None inside: the task is lost,
        # an anomaly of its own, ``lost``.)
        inside = [
            f"{proc.name} {proc.state}"
            for proc in model.procs.values()
            if proc.role == "pool" and proc.alive and "Queue.get" not in proc.state and proc.waiting_on != prim.id
        ]
        if inside:
            text = pitfall_text("pool_stuck", name=prim.name, n=prim.tasks - prim.results, workers="; ".join(inside))
            found.append(Anomaly("pitfall", text, (), passing=True))
    return found


def _dying_pools(model: Model) -> list[Anomaly]:
    """A pool whose workers die in their initializer (``Prim.dying``)."""
    found = []
    for prim in model.prims.values():
        if prim.family != "pool" or not prim.dying:
            continue
        func, at, error = prim.init_failure
        text = pitfall_text("pool_init", name=prim.name, func=func, where=where_of(model, at), error=error)
        found.append(Anomaly("pitfall", text, ()))
    return found


def dead_parties(model: Model) -> list[Anomaly]:
    """A barrier whose parties wait for ever, fewer than it needs, and the processes that would
    have been the others: each ended by a failure before reaching it, running the same function as
    one that waits there.  Asked only once every live process is blocked (a hang): nobody can come."""
    found = []
    for prim in model.prims.values():
        waiting = forever(model, prim.waiters) if prim.family == "barrier" and not prim.broken else []
        parties = prim.capacity
        if not waiting or parties is None or len(waiting) >= parties:
            continue
        targets = {model.procs[model.pid_of(a)].target for a in waiting if model.pid_of(a) in model.procs} - {""}
        dead = [
            proc
            for proc in model.procs.values()
            if not proc.alive
            and proc.target in targets
            and proc.pid not in prim.reached
            and (proc.error or proc.exit_signal or (proc.exit_code or 0) > 0)
        ]
        if not dead or len(waiting) + len(dead) > parties:
            continue  # (more such processes than parties missing: which of them were parties, nobody can tell)
        ends = [SAY["party"](who=p.name, pid=p.pid, how=p.error or p.exit_words()) for p in dead]
        text = pitfall_text("barrier", name=prim.name, parties=parties, dead="; ".join(ends), n=len(waiting))
        found.append(Anomaly("pitfall", text, (*waiting, *(p.pid for p in dead))))
    return found
