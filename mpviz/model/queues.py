"""The handlers of what carries items between processes: queues (depth, what is in them, who
is blocked putting or getting, end signals, joins) and pipes (messages each way, who waits)."""

from __future__ import annotations

from collections import deque
from typing import Any

from mpviz.lang import T
from mpviz.model.reducer import actor_id, actor_of, block, prim_of, start_waiting, stop_waiting, unblock
from mpviz.model.state import Model, handles
from mpviz.telemetry import Event

STATES = {
    "put": T("blocked on put to '{name}' (full)", "put 阻塞:'{name}' 已满"),
    "get": T("blocked on get from '{name}'", "get 阻塞:'{name}' 是空的"),
    "drain": T("joining queue '{name}' (until each item is marked done)", "等待队列 '{name}' 的任务全部完成"),
    "recv": T("blocked on recv from pipe '{name}'", "recv 阻塞:管道 '{name}'"),
}


@handles("queue.put")
def queue_put(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    stop_waiting(prim.blocked_put, actor_id(event), event.t_ns, prim.timing.put_blocked)
    item = str(event.data.get("item", ""))
    prim.puts += 1
    prim.depth += 1
    prim.deepest = max(prim.deepest, prim.depth)
    if event.data.get("none"):
        prim.pills_put += 1
    else:
        prim.putters.add(event.pid)
    prim.outstanding[event.pid] = prim.outstanding.get(event.pid, 0) + 1
    prim.put_order.append(event.pid)
    _count(prim.in_flight, item, +1)
    prim.contents.append(item)
    prim.depth_history.append((event.t_ns, prim.depth))
    if actor_of(model, event).blocked:
        unblock(model, event)


@handles("queue.get")
def queue_get(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    stop_waiting(prim.blocked_get, actor_id(event), event.t_ns, prim.timing.get_blocked)
    item = str(event.data.get("item", ""))
    prim.gets += 1
    prim.depth -= 1
    if event.data.get("none"):
        prim.pills_got += 1
    if prim.put_order:  # the oldest item leaves first: its putter has one less in the queue
        putter = prim.put_order.popleft()
        prim.outstanding[putter] = prim.outstanding.get(putter, 0) - 1
    _count(prim.in_flight, item, -1)
    _count(prim.undone, event.pid, 1)
    _take(prim.contents, item)
    prim.depth_history.append((event.t_ns, max(prim.depth, 0)))
    if actor_of(model, event).blocked:
        unblock(model, event)


def _take(contents: deque[str], item: str) -> None:
    """The item a get took out of what is shown in a queue: that one, else the oldest.

    A queue is first in, first out, and an item's words may differ in the
    process that took it (``<Task object at 0x7f…>`` has another address there)."""
    try:
        contents.remove(item)
    except ValueError:
        if contents:
            contents.popleft()


def _count(counts: dict[Any, int], key: Any, delta: int) -> None:
    n = counts.get(key, 0) + delta
    if n:
        counts[key] = n
    else:
        counts.pop(key, None)


@handles("queue.put_blocked")
def queue_put_blocked(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    start_waiting(prim, prim.blocked_put, event)
    prim.put_waits += 1
    block(model, event, STATES["put"](name=prim.name))


@handles("queue.get_blocked")
def queue_get_blocked(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    start_waiting(prim, prim.blocked_get, event)
    prim.waits += 1
    block(model, event, STATES["get"](name=prim.name))


@handles("queue.timeout")
def queue_timeout(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    stop_waiting(prim.blocked_get, actor_id(event), event.t_ns, prim.timing.get_blocked)
    stop_waiting(prim.blocked_put, actor_id(event), event.t_ns, prim.timing.put_blocked)
    unblock(model, event)


@handles("queue.join_wait")
def queue_join_wait(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    prim.joiners.add(actor_id(event))
    block(model, event, STATES["drain"](name=prim.name))


@handles("queue.joined")
def queue_joined(model: Model, event: Event) -> None:
    prim_of(model, event).joiners.discard(actor_id(event))
    unblock(model, event)


@handles("queue.task_done")
def queue_task_done(model: Model, event: Event) -> None:
    """An item marked done: one of those this process got (or, any process may mark one, another's)."""
    prim = prim_of(model, event)
    by = event.pid if prim.undone.get(event.pid, 0) > 0 else next(iter(prim.undone), None)
    if by is not None:
        _count(prim.undone, by, -1)


@handles("pipe.send")
def pipe_send(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    prim.puts += 1
    end = _end(event)
    prim.sent[end] = prim.sent.get(end, 0) + 1


@handles("pipe.recv")
def pipe_recv(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    prim.gets += 1
    end = _end(event)
    prim.received[end] = prim.received.get(end, 0) + 1
    stop_waiting(prim.blocked_get, actor_id(event), event.t_ns, prim.timing.get_blocked)
    if actor_of(model, event).blocked:
        unblock(model, event)


@handles("pipe.recv_blocked")
def pipe_recv_blocked(model: Model, event: Event) -> None:
    prim = prim_of(model, event)
    start_waiting(prim, prim.blocked_get, event)
    block(model, event, STATES["recv"](name=prim.name))


def _end(event: Event) -> int:
    end = event.data.get("end")
    return end if type(end) is int else 0
