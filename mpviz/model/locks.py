"""The handlers of what is held: locks, rlocks and semaphores (who holds, who waits, the value);
and conditions (who waits, how often notified)."""

from __future__ import annotations

from mpviz.lang import T
from mpviz.model.order import note_taking
from mpviz.model.prims import Prim
from mpviz.model.reducer import actor_of, block, done_waiting, prim_of, settle, start_waiting, stop_waiting
from mpviz.model.state import Model, handles
from mpviz.model.words import timeout_of
from mpviz.telemetry import Event

STATES = {
    "acquire": T("waiting for {word} '{name}'", "等待{word} '{name}'"),
    "cond": T("waiting on condition '{name}'", "在条件变量 '{name}' 上等待"),
}

# Waits that end with nothing to record but the wait: a timeout, a condition's waiter
# woken (the condition's lock reports its own holders).
handles("lock.timeout", "rlock.timeout", "sem.timeout", "cond.woke", "cond.timeout")(done_waiting)


def _lock_of(model: Model, event: Event) -> tuple[Prim, int]:
    """The record's lock or semaphore (marked changed, its value and capacity as the record says),
    and its actor: ``prim_of`` and ``actor_id`` written out in one call, since a watched program's
    every wait, acquire and release passes here."""
    _, pid, _, obj, data = event
    prim = model.prims.get(obj)
    if prim is None:
        prim = prim_of(model, event)
    else:
        model.dirty_prims.add(prim.id)
    value = data.get("value")
    if isinstance(value, int):
        prim.value = value
    capacity = data.get("of")
    if isinstance(capacity, int):
        prim.capacity = capacity
    th = data.get("th")
    return prim, th if type(th) is int and th > 0 else pid


@handles("lock.wait", "rlock.wait", "sem.wait")
def acq_wait(model: Model, event: Event) -> None:
    prim, aid = _lock_of(model, event)
    start_waiting(prim, prim.waiters, event)
    prim.waits += 1
    actor = block(model, event, STATES["acquire"](word=prim.word, name=prim.name))
    note_taking(model, aid, actor.held_at, prim, actor.at, timed=timeout_of(event) is not None)


@handles("lock.acquired", "rlock.acquired", "sem.acquired")
def acq_acquired(model: Model, event: Event) -> None:
    # (A watched program's every acquire passes here: ``stop_waiting`` written out, the usual case first.)
    t_ns, _, _, _, data = event
    prim, aid = _lock_of(model, event)
    since = prim.waiters.pop(aid, None)
    if since is not None:
        prim.timing.waited.add(t_ns - since)
    prim.acquisitions += 1
    at = data.get("at")
    if isinstance(at, str):
        prim.hold_sites[at] += 1
    else:
        at = ""
    holders = prim.holders
    if aid not in holders:
        prim.overlap.step(t_ns, +1)
        prim.held_since[aid] = t_ns
        holders[aid] = 1
    else:
        holders[aid] += 1
    actor = actor_of(model, event)
    held_at = actor.held_at
    if held_at and actor.waiting_on != prim.id:  # taken at once (a wait said so already)
        note_taking(model, aid, held_at, prim, at)
    held_at.setdefault(prim.id, at)
    actor.holds[prim.id] = actor.holds.get(prim.id, 0) + 1
    actor.blocked, actor.waiting_on, actor.at, actor.gives_up_ns = "", None, "", None
    settle(model, actor, t_ns)


@handles("lock.released", "rlock.released", "sem.released")
def acq_released(model: Model, event: Event) -> None:
    t_ns = event.t_ns
    prim, aid = _lock_of(model, event)
    if aid in prim.holders:
        _drop_hold(model, aid, prim, t_ns)
    elif prim.family == "lock":
        # A multiprocessing Lock has no owner: anyone may release it, and
        # then its holder holds nothing.
        earlier = [holder for holder, since in prim.held_since.items() if since < t_ns]
        if earlier:
            _drop_hold(model, earlier[0], prim, t_ns, everything=True)


def _drop_hold(model: Model, holder: int, prim: Prim, t_ns: int, everything: bool = False) -> None:
    depth = prim.holders.get(holder, 0) - 1
    if depth <= 0 or everything:
        prim.holders.pop(holder, None)
        stop_waiting(prim.held_since, holder, t_ns, prim.timing.held)
        prim.overlap.step(t_ns, -1)
    else:
        prim.holders[holder] = depth
    actor = model.actor(holder)
    if actor is None:
        return
    left = actor.holds.get(prim.id, 0) - 1
    if left <= 0 or everything:
        actor.holds.pop(prim.id, None)
        actor.held_at.pop(prim.id, None)
    else:
        actor.holds[prim.id] = left
    settle(model, actor, t_ns)


@handles("cond.wait")
def cond_wait(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    start_waiting(prim, prim.waiters, event)
    prim.waits += 1
    block(model, event, STATES["cond"](name=prim.name))


@handles("cond.notify", "cond.notify_all")
def cond_notify(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    prim.notifies += 1
    # (One that found a waiter: a wait later left waiting is not for want of it.)
    prim.lost_notify = None if prim.waiters else (event.pid, event.data.get("at"))
