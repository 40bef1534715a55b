"""The handlers of records that block nobody and only count or tell: a pool's tasks handed
out and results got back, and the facts a lesson's main part reports (``data.value``)."""

from __future__ import annotations

from mpviz.model.reducer import prim_of
from mpviz.model.state import Model, handles
from mpviz.telemetry import Event


@handles("pool.task")
def pool_task(model: Model, event: Event) -> None:
    n = event.data.get("n")
    prim = prim_of(model, event)
    prim.tasks += n if type(n) is int else 1
    prim.last_task_ns = event.t_ns


@handles("pool.result")
def pool_result(model: Model, event: Event) -> None:
    n = event.data.get("n")
    prim = prim_of(model, event)
    prim.results += n if type(n) is int else 1
    prim.last_result_ns = event.t_ns


@handles("data.value")
def data_value(model: Model, event: Event) -> None:
    model.values.setdefault(event.obj, {}).update(event.data)
    model.dirty_prims.add(event.obj)
