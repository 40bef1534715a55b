"""A scheduled run's decisions: what is offered, who went, who runs free, whether anyone can go on.

A process at a scheduling point says what it is about to do (``turn.ask``):
until it is let go its state is that, and it counts as paused.  The scheduler
(``mpviz.runtime.scheduler``) says each decision as a record: ``turn.offer``
while a person chooses (step mode), ``turn.go`` for each one let go,
``turn.free`` for one that did not come back to a point, and ``turn.stuck``
when nobody could go on.  The step view draws from these, live or in a replay.
"""

from __future__ import annotations

from mpviz.model.reducer import actor_of, settle
from mpviz.model.state import Model, handles
from mpviz.model.words import doing
from mpviz.telemetry import Event


@handles("turn.offer")
def turn_offer(model: Model, event: Event) -> None:
    options = event.data.get("options")
    model.turns.offer = (
        [list(o) for o in options if isinstance(o, list) and len(o) == 5] if isinstance(options, list) else []
    )


@handles("turn.go")
def turn_go(model: Model, event: Event) -> None:
    turns = model.turns
    turns.offer = None
    turns.made += 1
    turns.recent.append(event)
    turns.stuck = []
    if event.pid in model.procs:
        actor = actor_of(model, event)
        actor.turn = ""
        settle(model, actor, event.t_ns)


@handles("turn.free")
def turn_free(model: Model, event: Event) -> None:
    who = event.data.get("who")
    if isinstance(who, str) and who not in model.turns.free:
        model.turns.free.append(who)


@handles("turn.stuck")
def turn_stuck(model: Model, event: Event) -> None:
    """Nobody can go on: each one is let go into its wait (its records say which)."""
    who = event.data.get("who")
    model.turns.offer = None
    model.turns.stuck = [w for w in who if isinstance(w, str)] if isinstance(who, list) else []
    for _, actor in model.live_actors():
        if actor.turn:
            actor.turn = ""
            settle(model, actor, event.t_ns)


@handles("turn.ask")
def turn_ask(model: Model, event: Event) -> None:
    """It waits at a point, to do what it says."""
    if event.pid not in model.procs:
        return
    actor = actor_of(model, event)
    obj = model.prim_name(event.obj) if event.obj in model.prims else event.obj
    at = event.data.get("at")
    actor.turn = doing(str(event.data.get("op", "")), obj, model.where(at) if isinstance(at, str) else "")
    settle(model, actor, event.t_ns)
