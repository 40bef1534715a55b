"""The handlers of a pool's and a manager's records, and of the facts a lesson's main part
reports (``data.value``): a pool's tasks handed out and results got back, the waits for its
results and its workers' waits for a task; a call through a manager's proxy."""

from __future__ import annotations

from mpviz.lang import T
from mpviz.model.reducer import actor_id, block, prim_of, start_waiting, stop_waiting, unblock
from mpviz.model.state import Model, handles
from mpviz.model.words import proxy_name
from mpviz.telemetry import Event

WAITING = {
    "results": T("waiting for results from pool '{name}'", "等待进程池 '{name}' 的结果"),
    "task": T("waiting for a task from pool '{name}'", "等待进程池 '{name}' 的任务"),
}


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


@handles("pool.wait")
def pool_wait(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    start_waiting(prim, prim.waiters, event)
    block(model, event, WAITING["results"](name=prim.name))


@handles("pool.wait_task")
def pool_wait_task(model: Model, event: Event) -> None:
    """A worker waits for its next task: idle, and nobody but its pool can give it one."""
    prim = prim_of(model, event)
    prim.workers.add(event.pid)
    block(model, event, WAITING["task"](name=prim.name))


@handles("pool.woke", "pool.got_task")
def pool_woke(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    if event.kind == "pool.woke":
        stop_waiting(prim.waiters, actor_id(event), event.t_ns, prim.timing.waited)
    unblock(model, event)


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
