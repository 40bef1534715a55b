"""The handlers of a pool's and a manager's records, and of the facts a lesson's main part
reports (``data.value``): a pool's tasks handed out and results got back, the waits for its
results and its workers' waits for a task; a call through a manager's proxy, and a wait in one
(on the proxied object, seen as a wait on a primitive of its kind)."""

from __future__ import annotations

from mpviz.lang import T
from mpviz.model import events, locks, queues
from mpviz.model.prims import Prim
from mpviz.model.reducer import actor_id, actor_of, block, prim_of, start_waiting, stop_waiting, unblock
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
    if event.data.get("ok") is False:
        prim.failed += n if type(n) is int else 1
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
    prim.starting.discard(event.pid)
    prim.busy.discard(event.pid)
    block(model, event, WAITING["task"](name=prim.name))


@handles("pool.woke", "pool.got_task")
def pool_woke(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    if event.kind == "pool.woke":
        stop_waiting(prim.waiters, actor_id(event), event.t_ns, prim.timing.waited)
    else:
        prim.busy.add(event.pid)  # until it waits for its next one
    unblock(model, event)


@handles("manager.call")
def manager_call(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    prim.calls += 1
    prim.proxies[proxy_name(event.data)] += 1
    prim.last_call = event
    of = event.data.get("of")
    if isinstance(of, str) and of and not event.data.get("error"):
        _moved(model, event, of)
    # The end of a wait through one of its proxies (manager.wait): the call has returned.
    actor = actor_of(model, event)
    waited = model.prims.get(actor.waiting_on or "")
    if waited is not None and waited.via == event.obj:
        aid = actor_id(event)
        for table in (waited.waiters, waited.blocked_get, waited.blocked_put):
            stop_waiting(table, aid, event.t_ns, waited.timing.waited)
        model.dirty_prims.add(waited.id)
        unblock(model, event)


def _moved(model: Model, event: Event, of: str) -> None:
    """An item put into or got from a proxied queue (``of``): counted there, as a queue's own are."""
    queue = model.prims.get(of)
    if queue is None:
        queue = model.add_prim(of, str(event.data.get("proxy") or event.data.get("typeid") or "queue"), "queue")
        queue.via = event.obj
    if str(event.data.get("method", "")).startswith("put"):
        queue.puts += 1
        queue.depth += 1
        queue.deepest = max(queue.deepest, queue.depth)
    else:
        queue.gets += 1
        queue.depth = max(queue.depth - 1, 0)
    queue.depth_history.append((event.t_ns, queue.depth))
    model.dirty_prims.add(of)


# A wait through a proxy, in the words of a wait on a primitive of the proxied object's family.
MANAGERS = T("{words} (a Manager's)", "{words}(管理器的)")
BARRIER = T("waiting at barrier '{name}'", "在屏障 '{name}' 等待")


@handles("manager.wait")
def manager_wait(model: Model, event: Event) -> None:
    """A call through a proxy that may wait for another process (``go.wait()`` on a
    ``Manager().Event()``): a wait on the proxied object, named after the proxy, until the
    call's ``manager.call`` comes.  Its waiters are in the tables a primitive of its kind has."""
    d = event.data
    family, method = str(d.get("family", "")), str(d.get("method", ""))
    prim = model.prims.get(event.obj)
    if prim is None:
        prim = model.add_prim(event.obj, str(d.get("proxy") or d.get("typeid") or family), family)
        prim.via = str(d.get("manager", ""))
    model.dirty_prims.add(prim.id)
    table = prim.waiters
    if family == "queue" and method in ("get", "put"):
        table = prim.blocked_get if method == "get" else prim.blocked_put
    prim.waits += 1
    start_waiting(prim, table, event)
    block(model, event, MANAGERS(words=_waiting_words(prim, method)))


def _waiting_words(prim: Prim, method: str) -> str:
    name = prim.name
    if prim.family == "event":
        return events.STATES["event"](name=name)
    if prim.family == "barrier":
        return BARRIER(name=name)
    if prim.family == "queue":
        return queues.STATES[{"get": "get", "put": "put"}.get(method, "drain")](name=name)
    if prim.family == "cond" and method == "wait":
        return locks.STATES["cond"](name=name)
    return locks.STATES["acquire"](word=prim.word, name=name)


@handles("data.value")
def data_value(model: Model, event: Event) -> None:
    model.values.setdefault(event.obj, {}).update(event.data)
    model.dirty_prims.add(event.obj)
