"""The handlers of records that block nobody and only count or tell: a pool's tasks handed
out and results got back, a call through a manager's proxy, and the facts a lesson's main
part reports (``data.value``)."""

from __future__ import annotations

from mpviz.model.reducer import prim_of
from mpviz.model.state import Model, handles
from mpviz.model.words import proxy_name
from mpviz.telemetry import Event


@handles("pool.task")
def pool_task(model: Model, event: Event) -> None:
    n = event.data.get("n")
    prim_of(model, event).tasks += n if type(n) is int else 1


@handles("pool.result")
def pool_result(model: Model, event: Event) -> None:
    n = event.data.get("n")
    prim_of(model, event).results += n if type(n) is int else 1


@handles("manager.call")
def manager_call(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    prim.calls += 1
    prim.proxies[proxy_name(event.data)] += 1
    prim.last_call = event


@handles("data.value")
def data_value(model: Model, event: Event) -> None:
    model.values.setdefault(event.obj, {}).update(event.data)
    model.dirty_prims.add(event.obj)
