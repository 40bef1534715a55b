"""mpviz.sync's primitives between real processes, under every start method: the records give the right state.

Records are read as the dashboard reads them (see watching.py).
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
from collections.abc import Iterator
from typing import Any

import pytest
from helpers.watching import Records, watching
from helpers.workers import (
    add_to_shared,
    cross_barrier,
    put_simple,
    sleep_forever,
    square,
    start_grandchild,
    use_managed,
    wait_on_condition,
)

from mpviz import sync

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(params=sync.START_METHODS)
def ctx(request: pytest.FixtureRequest) -> Any:
    return sync.get_context(request.param)


@pytest.fixture
def records() -> Iterator[Records]:
    with watching() as got:
        yield got


def test_condition_waiters_and_notify_all(ctx: Any, records: Records) -> None:
    cond = ctx.Condition()
    ready = ctx.Semaphore(0, name="ready")
    procs = [ctx.Process(target=wait_on_condition, args=(cond, ready)) for _ in range(2)]
    for p in procs:
        p.start()
    for _ in procs:
        assert ready.acquire(timeout=30)
    waits = records.wait_for("cond.wait", 2, cond.id)
    assert {e.pid for e in waits} == {p.pid for p in procs}
    assert all(e.data["lock"] == cond._lock.id for e in waits)
    with cond:
        cond.notify_all()
    woke = records.wait_for("cond.woke", 2, cond.id)
    assert {e.pid for e in woke} == {p.pid for p in procs}
    assert records.wait_for("cond.notify_all", 1, cond.id)
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    # The condition's lock: every waiter took it, gave it up to wait, took it back.
    records.wait_for("rlock.acquired", 5, cond._lock.id)
    new = {e.obj: e.data for e in records.wait_for("prim.new", 3)}
    assert new[cond.id] == {"kind": "cond", "name": "cond", "site": new[cond.id]["site"], "lock": cond._lock.id}
    assert new[cond._lock.id]["name"] == "cond.lock"


def test_barrier_arrivals_and_passes(ctx: Any, records: Records) -> None:
    barrier = ctx.Barrier(3, name="gate")
    procs = [ctx.Process(target=cross_barrier, args=(barrier,)) for _ in range(2)]
    for p in procs:
        p.start()
    records.wait_for("barrier.wait", 2, barrier.id)
    assert barrier.wait(30) in (0, 1, 2)
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    arrivals = sorted(e.data["n_waiting"] for e in records.wait_for("barrier.wait", 3, barrier.id))
    assert arrivals == [1, 2, 3]
    passes = records.wait_for("barrier.pass", 3, barrier.id)
    assert sorted(e.data["index"] for e in passes) == [0, 1, 2]


def test_pool_workers_and_tasks(ctx: Any, records: Records) -> None:
    with ctx.Pool(2) as pool:
        assert pool.map(square, range(6), chunksize=2) == [0, 1, 4, 9, 16, 25]
        assert pool.apply(square, (7,)) == 49
    workers = records.wait_for("proc.spawn", 2)
    assert len(workers) == 2 and {e.data["role"] for e in workers} == {"pool"}
    tasks = records.wait_for("pool.task", 4, pool.id)  # three chunks of two, and the apply
    assert sum(e.data["n"] for e in tasks) == 7 and {e.data["func"] for e in tasks} == {"square"}
    results = records.wait_for("pool.result", len(tasks), pool.id)
    assert sum(e.data["n"] for e in results) == 7 and all(e.data["ok"] for e in results)
    # Workers report from their own pid (one may be stopped with the pool before it
    # ever ran); the pool's own queues say nothing.
    assert {e.pid for e in records.wait_for("proc.start", 1)} <= {e.pid for e in workers}
    assert {e.data["kind"] for e in records.of("prim.new")} == {"pool"}


def test_value_and_array_report_their_lock_from_the_child(ctx: Any, records: Records) -> None:
    counter = ctx.Value("i", 0)
    totals = ctx.Array("d", 3, name="totals")
    p = ctx.Process(target=add_to_shared, args=(counter, totals))
    p.start()
    p.join(30)
    assert (counter.value, totals[0], p.exitcode) == (1, 1.0, 0)
    new = {e.data["name"]: e for e in records.wait_for("prim.new", 4)}
    assert new["counter"].data["typecode"] == "i" and new["totals"].data["kind"] == "array"
    lock_id = new["counter"].data["lock"]
    assert lock_id == counter.get_lock().id and new["counter.lock"].obj == lock_id
    assert p.pid in {e.pid for e in records.wait_for("rlock.acquired", 1, lock_id)}


def test_simple_queue_and_process_start_and_exit(ctx: Any, records: Records) -> None:
    q = ctx.SimpleQueue()
    p = ctx.Process(target=put_simple, args=(q, "hello"))
    p.start()
    assert q.get() == "hello"
    p.join(30)
    [put] = records.wait_for("queue.put", 1, q.id)
    assert (put.pid, put.data["item"]) == (p.pid, "hello")
    [new] = records.wait_for("prim.new", 1)
    assert new.data == {
        "kind": "queue",
        "name": "q",
        "site": new.data["site"],
        "maxsize": 0,
        "joinable": False,
        "simple": True,
    }
    [start] = records.wait_for("proc.start", 1)
    assert (start.pid, start.data["target"]) == (p.pid, "put_simple")
    assert start.data["label"].startswith("put_simple #"), "named by its target, numbered"
    ends = records.wait_for("proc.exit", 1)
    assert (ends[0].pid, ends[0].data) == (p.pid, {"code": 0}), "the child said it first"


def test_a_grandchild_reports_too_with_its_own_connection(ctx: Any, records: Records) -> None:
    lock = ctx.Lock(name="passed down")
    child = ctx.Process(target=start_grandchild, args=(lock,))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    spawned = records.wait_for("proc.spawn", 2)
    grandchild = next(e.pid for e in spawned if e.pid != child.pid)
    assert next(e for e in spawned if e.pid == grandchild).data["ppid"] == child.pid
    assert {e.pid for e in records.wait_for("lock.acquired", 1, lock.id)} == {grandchild}
    assert {e.pid for e in records.wait_for("proc.start", 2)} == {child.pid, grandchild}


def test_a_death_by_signal_is_reported_by_the_parent(ctx: Any, records: Records) -> None:
    p = ctx.Process(target=sleep_forever, name="sleeper")
    p.start()
    records.wait_for("proc.start", 1)
    p.terminate()
    p.join(30)
    assert p.exitcode == -15, "join() still gets the exit code"
    # The parent's word names the child (the dashboard may also tell the zombie's code: obj "").
    [end] = records.wait_for("proc.exit", 1, "sleeper")
    assert (end.pid, end.data) == (p.pid, {"code": -15, "signal": "SIGTERM"})


def test_manager_server_is_a_process_of_the_run_and_proxy_calls_are_seen(ctx: Any, records: Records) -> None:
    with ctx.Manager() as manager:
        shared = manager.dict()
        lock = manager.Lock()
        shared["x"] = 1
        p = ctx.Process(target=use_managed, args=(shared, lock))
        p.start()
        p.join(30)
        assert dict(shared) == {"x": 1, "child": 1} and p.exitcode == 0
    server = records.wait_for("proc.spawn", 2)[0]
    assert server.data["role"] == "manager"
    [made] = records.wait_for("prim.new", 1)
    assert (made.data["kind"], made.data["name"], made.data["server"]) == ("manager", "manager", server.pid)
    calls = records.wait_for("manager.call", 5, made.obj)
    by_child = {(e.data["typeid"], e.data["method"], e.data["proxy"]) for e in calls if e.pid == p.pid}
    assert by_child == {("Lock", "acquire", "lock"), ("Lock", "release", "lock"), ("dict", "__setitem__", "shared")}


# --- bad use keeps multiprocessing's errors ---------------------------------------------------


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def raises(call: Any) -> type[BaseException] | None:
    try:
        call()
    except BaseException as exc:
        return type(exc)
    return None


MP = multiprocessing.get_context("spawn")
OURS = sync.get_context("spawn")


@pytest.mark.parametrize(
    "misuse",
    [
        lambda c: c.BoundedSemaphore(1).release(),
        lambda c: c.Lock().release(),
        lambda c: c.RLock().release(),
        lambda c: c.Condition().wait(0.01),
        lambda c: c.Condition().notify(),
        lambda c: c.Queue(1).get(timeout=0.01),
        lambda c: c.Queue(1).get_nowait(),
        lambda c: (q := c.Queue(1), q.put(1), q.put(2, timeout=0.01)),
        lambda c: (q := c.Queue(), q.close(), q.put(1)),
        lambda c: c.JoinableQueue().task_done(),
        lambda c: (b := c.Barrier(2), b.abort(), b.wait()),
        lambda c: c.Barrier(2).wait(0.01),
        lambda c: (ends := c.Pipe(), ends[0].close(), ends[1].recv()),
        lambda c: (ends := c.Pipe(duplex=False), ends[0].send(1)),
        lambda c: (ends := c.Pipe(), ends[0].close(), ends[0].send(1)),
        lambda c: pickle.dumps(c.Lock()),
        lambda c: c.Value("i", 0, lock="no lock"),
    ],
)
def test_bad_use_raises_what_multiprocessing_raises(misuse: Any, records: Records) -> None:
    expected = raises(lambda: misuse(MP))
    assert expected is not None
    assert raises(lambda: misuse(OURS)) is expected


def test_an_item_whose_repr_fails_is_still_put_and_got(records: Records) -> None:
    q = OURS.Queue()
    q.put(BadRepr())
    assert isinstance(q.get(timeout=30), BadRepr)
    assert records.wait_for("queue.get", 1, q.id)[0].data["item"].startswith("<BadRepr")
    with pytest.raises(queue.Empty):
        q.get_nowait()
