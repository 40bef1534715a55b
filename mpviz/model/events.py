"""The handlers of what processes wait at until another lets them go: events (the flag, who
waits, the first set and the first pass) and barriers (who waits, how many passed, broken)."""

from __future__ import annotations

from mpviz.lang import T
from mpviz.model.reducer import actor_id, actor_of, block, done_waiting, prim_of, start_waiting, stop_waiting, unblock
from mpviz.model.state import Model, handles
from mpviz.telemetry import Event

STATES = {
    "event": T("waiting for event '{name}'", "等待事件 '{name}'"),
    "barrier": T("waiting at barrier '{name}' ({n} of {parties})", "在屏障 '{name}' 等待({parties} 个中第 {n} 个)"),
}

handles("event.timeout")(done_waiting)


@handles("event.set")
def event_set(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    prim.is_set, prim.changed_ns = True, event.t_ns
    prim.sets += 1
    prim.first_set_ns = min(prim.first_set_ns or event.t_ns, event.t_ns)


@handles("event.clear")
def event_clear(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    prim.is_set, prim.changed_ns = False, event.t_ns
    prim.clears += 1


@handles("event.wait")
def event_wait(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    start_waiting(prim, prim.waiters, event)
    prim.waits += 1
    block(model, event, STATES["event"](name=prim.name))


@handles("event.woke")
def event_woke(model: Model, event: Event) -> None:
    done_waiting(model, event)
    prim = model.prims[event.obj]
    prim.first_pass_ns = min(prim.first_pass_ns or event.t_ns, event.t_ns)


@handles("barrier.wait")
def barrier_wait(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    parties = event.data.get("parties")
    if type(parties) is int:
        prim.capacity = parties
    prim.reached.add(event.pid)
    start_waiting(prim, prim.waiters, event)
    block(model, event, STATES["barrier"](name=prim.name, n=len(prim.waiters), parties=prim.capacity or "?"))


@handles("barrier.pass")
def barrier_pass(model: Model, event: Event) -> None:
    done_waiting(model, event)
    model.prims[event.obj].passed += 1


@handles("barrier.broken", "barrier.abort")
def barrier_broken(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    prim.broken = True
    stop_waiting(prim.waiters, actor_id(event), event.t_ns, prim.timing.waited)
    if actor_of(model, event).waiting_on == prim.id:
        unblock(model, event)


@handles("barrier.reset")
def barrier_reset(model: Model, event: Event) -> None:
    prim_of(model, event).broken = False
