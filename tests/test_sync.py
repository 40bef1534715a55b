"""mpviz.sync behaves like multiprocessing on the same call sequences, and reports each step."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import pytest

from mpviz import sync
from mpviz.telemetry import Event, install_reporter, uninstall_reporter

MP = multiprocessing.get_context("spawn")


@pytest.fixture
def created() -> list[Event]:
    got: list[Event] = []
    install_reporter(got.append)
    yield got
    uninstall_reporter()


# What is said once about a primitive, a site or a thread, not an operation.
SAID_ONCE = ("prim.new", "site.new", "proc.thread", "proc.thread_end")


@pytest.fixture
def records(created: list[Event]) -> list[Event]:
    """The records of operations (what is said once — ``prim.new``, ``site.new``, ``proc.thread`` — left out)."""
    got: list[Event] = []
    install_reporter(lambda e: (created if e.kind in SAID_ONCE else got).append(e))
    return got


def test_every_operation_carries_the_users_line_said_once_per_site(created: list[Event]) -> None:
    lock = sync.Lock(name="door")
    for _ in range(3):
        lock.acquire()  # the site
        lock.release()
    sites = [e for e in created if e.kind == "site.new"]
    ops = [e for e in created if e.kind.startswith("lock.")]
    assert len(sites) == 2, "one site per line, said once however often the line runs"
    acquire = next(s for s in sites if s.data["text"] == "lock.acquire()  # the site")
    assert (
        acquire.data["file"] == __file__
        and acquire.data["func"] == "test_every_operation_carries_the_users_line_said_once_per_site"
    )
    assert {e.data["at"] for e in ops if e.kind == "lock.acquired"} == {acquire.obj}
    assert all("th" not in e.data for e in ops), "the main thread is the process itself"


def test_an_operation_in_a_thread_says_which_thread(created: list[Event]) -> None:
    q = sync.Queue(name="box")
    t = threading.Thread(target=lambda: q.put(1), name="helper")
    t.start()
    t.join()
    put = next(e for e in created if e.kind == "queue.put")
    named = next(e for e in created if e.kind == "proc.thread")
    assert named.obj == "helper" and put.data["th"] == named.data["th"] == t.native_id


def test_a_primitive_says_what_it_is_once_and_its_records_carry_its_id(created: list[Event]) -> None:
    sem = sync.Semaphore(3, name="rooms")
    sync.Semaphore(3, name="rooms")
    sem.acquire()
    new = [e for e in created if e.kind == "prim.new"]
    assert [(e.data["kind"], e.data["name"], e.data["value"]) for e in new] == [("sem", "rooms", 3)] * 2
    assert new[0].obj != new[1].obj, "two primitives never share an id"
    assert created[-1].kind == "sem.acquired" and created[-1].obj == new[0].obj


def play(obj: Any, steps: list[tuple[str, tuple, dict]]) -> list[Any]:
    """Call each step on obj; note the result or the exception's type."""
    out = []
    for name, args, kwargs in steps:
        try:
            out.append(getattr(obj, name)(*args, **kwargs))
        except Exception as exc:
            out.append(type(exc))
    return out


def s(name: str, *args: Any, **kwargs: Any) -> tuple[str, tuple, dict]:
    return (name, args, kwargs)


SEQUENCES: list[tuple[str, Callable[[], Any], Callable[[], Any], list]] = [
    (
        "lock",
        MP.Lock,
        lambda: sync.Lock(name="l"),
        [
            s("acquire"),
            s("acquire", False),
            s("acquire", True, 0.05),
            s("release"),
            s("acquire", block=False),
            s("release"),
            s("release"),
        ],
    ),
    (
        "rlock",
        MP.RLock,
        lambda: sync.RLock(name="r"),
        [s("acquire"), s("acquire"), s("release"), s("release"), s("release"), s("acquire", timeout=0.01)],
    ),
    (
        "semaphore",
        lambda: MP.Semaphore(2),
        lambda: sync.Semaphore(2, name="sem"),
        [
            s("acquire"),
            s("get_value"),
            s("acquire"),
            s("acquire", False),
            s("acquire", timeout=0.05),
            s("get_value"),
            s("release"),
            s("release"),
            s("release"),
            s("get_value"),
        ],
    ),
    (
        "bounded semaphore",
        lambda: MP.BoundedSemaphore(1),
        lambda: sync.BoundedSemaphore(1, name="bsem"),
        [s("release"), s("acquire"), s("release"), s("get_value")],
    ),
    (
        "event",
        MP.Event,
        lambda: sync.Event(name="e"),
        [
            s("is_set"),
            s("wait", 0.05),
            s("set"),
            s("wait"),
            s("wait", 0),
            s("is_set"),
            s("clear"),
            s("wait", timeout=0.01),
        ],
    ),
    (
        "queue",
        lambda: MP.Queue(2),
        lambda: sync.Queue(2, name="q"),
        [
            s("put", "a"),
            s("put", "b"),
            s("put", "c", False),
            s("put", "c", timeout=0.05),
            s("full"),
            s("get"),
            s("get", timeout=5),
            s("get", False),
            s("get", timeout=0.05),
            s("put_nowait", None),
            s("get", timeout=5),
            s("get_nowait"),
        ],
    ),
]


@pytest.mark.parametrize(("name", "original", "ours", "steps"), SEQUENCES, ids=[x[0] for x in SEQUENCES])
def test_same_results_as_multiprocessing(
    name: str, original: Callable, ours: Callable, steps: list, records: list
) -> None:
    expected = play(original(), steps)
    assert play(ours(), steps) == expected
    assert records, "every primitive reports its steps"


def test_lock_reports_wait_only_when_it_blocks(records: list[Event]) -> None:
    lock = sync.Lock(name="door")
    lock.acquire()
    lock.release()
    assert [e.kind for e in records] == ["lock.acquired", "lock.released"]
    records.clear()
    lock.acquire()
    t = threading.Thread(target=lock.acquire, kwargs={"timeout": 0.1})
    t.start()
    t.join()
    assert [e.kind for e in records] == ["lock.acquired", "lock.wait", "lock.timeout"]
    assert {e.obj for e in records} == {lock.id}


def test_with_statement_and_semaphore_value(records: list[Event]) -> None:
    sem = sync.Semaphore(3, name="rooms")
    with sem:
        assert sem.get_value() == 2
    assert [(e.kind, e.data["value"], e.data["of"]) for e in records] == [
        ("sem.acquired", 2, 3),
        ("sem.released", 3, 3),
    ]


def test_release_is_stamped_before_it_happens(records: list[Event]) -> None:
    """An enabling step carries a time no later than the step it enables."""
    lock = sync.Lock(name="order")
    lock.acquire()
    got: list[int] = []

    def waiter() -> None:
        lock.acquire()
        got.append(records[-1].t_ns)

    t = threading.Thread(target=waiter)
    t.start()
    lock.release()
    t.join(10)
    released = next(e for e in records if e.kind == "lock.released")
    acquired = [e for e in records if e.kind == "lock.acquired"][-1]
    assert released.t_ns < acquired.t_ns


def test_event_wait_return_values_and_records(records: list[Event]) -> None:
    e = sync.Event(name="light")
    assert e.wait(0.01) is False
    e.set()
    assert e.wait() is True
    assert [r.kind for r in records] == ["event.wait", "event.timeout", "event.set", "event.woke"]
    assert records[-1].data["waited"] is False


def test_an_error_of_a_lock_or_a_queue_reaches_the_program_without_mpviz_frames(records: list[Event]) -> None:
    """Their hot methods hide mpviz's frames themselves (no wrapper): what a program sees of an error is
    what it sees without mpviz."""
    mpviz_dir = os.path.dirname(os.path.dirname(sync.__file__)) + os.sep
    lock, held = sync.Lock(name="door"), sync.Lock(name="held")
    held.acquire()
    sem, q, full = sync.BoundedSemaphore(1, name="rooms"), sync.Queue(name="box"), sync.Queue(1, name="full")
    full.put(1)

    def release_in_with() -> None:
        with lock:
            lock.release()

    failing: list[Callable[[], object]] = [
        lock.release,
        sem.release,
        release_in_with,
        lambda: held.acquire(True, "soon"),  # (multiprocessing's TypeError)
        lambda: q.get(timeout=0.01),
        lambda: full.put(2, block=False),
    ]
    for call in failing:
        with pytest.raises((ValueError, TypeError, queue.Empty, queue.Full)) as info:
            call()
        files = [frame.filename for frame in traceback.extract_tb(info.value.__traceback__)]
        assert not [f for f in files if f.startswith(mpviz_dir)], files


def test_queue_put_get_records_items_and_end_signal(records: list[Event]) -> None:
    q = sync.Queue(name="buns")
    q.put("bun 0")
    q.put(None)
    assert q.get(timeout=5) == "bun 0"
    assert q.get(timeout=5) is None
    kinds = [(r.kind, r.data.get("item"), r.data.get("none")) for r in records]
    assert kinds == [
        ("queue.put", "bun 0", False),
        ("queue.put", "None", True),
        ("queue.get", "bun 0", False),
        ("queue.get", "None", True),
    ]


def test_queue_get_on_empty_reports_blocked(records: list[Event]) -> None:
    q = sync.Queue(name="empty")
    with pytest.raises(queue.Empty):
        q.get(timeout=0.05)
    assert [r.kind for r in records] == ["queue.get_blocked", "queue.timeout"]


@pytest.mark.parametrize("make", [sync.Queue, sync.JoinableQueue])
def test_a_put_that_waited_for_room_is_said_when_the_room_came(records: list[Event], make: Any) -> None:
    # Its time is when it got the room, not when it began to wait: the model then shows the
    # putter blocked all that while (it did not run), and the put still comes before its get.
    q = make(1, name="box")
    q.put("item 0")
    room = threading.Timer(0.3, q.get)
    began = time.monotonic_ns()
    room.start()
    q.put("item 1")
    room.join(10)
    assert q.get(timeout=5) == "item 1"
    blocked = next(r for r in records if r.kind == "queue.put_blocked")
    put = next(r for r in records if r.kind == "queue.put" and r.data["item"] == "item 1")
    got = next(r for r in records if r.kind == "queue.get" and r.data["item"] == "item 1")
    assert blocked.t_ns < began + 300_000_000 <= put.t_ns < got.t_ns
    q.put("item 2")
    with pytest.raises(queue.Full):
        q.put("item 3", timeout=0.05)  # no room comes: it gives up as multiprocessing's does
    assert q.get(timeout=5) == "item 2" and q.empty()
    assert [r.data["op"] for r in records if r.kind == "queue.timeout"] == ["put"]


def test_joinable_queue_task_done_and_join(records: list[Event]) -> None:
    q = sync.JoinableQueue(name="jobs")
    q.put(1)
    joined = threading.Event()
    t = threading.Thread(target=lambda: (q.join(), joined.set()))
    t.start()
    assert q.get(timeout=5) == 1
    assert not joined.wait(0.1)
    q.task_done()
    assert joined.wait(10)
    t.join(10)
    with pytest.raises(ValueError):
        q.task_done()  # as multiprocessing: more task_done() than items
    assert "queue.task_done" in [r.kind for r in records]
    assert "queue.joined" in [r.kind for r in records]


def test_pipe_duplex_and_one_way(records: list[Event]) -> None:
    a, b = sync.Pipe(name="p")
    a.send("hi")
    assert b.poll(5)
    assert b.recv() == "hi"
    b.send({"x": 1})
    assert a.recv() == {"x": 1}
    r, w = sync.Pipe(duplex=False, name="oneway")
    w.send(1)
    assert r.recv() == 1
    with pytest.raises(OSError):
        r.send(2)  # as multiprocessing: a read end cannot send
    assert [x.kind for x in records][:4] == ["pipe.send", "pipe.recv", "pipe.send", "pipe.recv"]


def test_primitives_pickle_only_into_a_process_like_multiprocessing() -> None:
    """Like multiprocessing's own, they travel through Process(args=...), not through pickle.dumps."""
    for make in (lambda: sync.Lock(), lambda: sync.Semaphore(2), lambda: sync.Event(), lambda: sync.Queue()):
        with pytest.raises(RuntimeError):
            pickle.dumps(make())


def test_primitives_cross_process_boundaries() -> None:
    """A lock, a queue and a pipe passed to real spawned processes work across them."""
    from helpers.workers import echo_pipe, hold, put_all

    lock = sync.Lock(name="shared")
    holder = sync.Process(target=hold, args=(lock, 0.5))
    holder.start()
    # The child holds the lock for a while: we cannot get it at once, then we can.
    deadline_ok = False
    for _ in range(200):
        if not lock.acquire(False):
            deadline_ok = True
            break
        lock.release()
        threading.Event().wait(0.02)
    assert deadline_ok, "the child should have held the lock"
    assert lock.acquire(timeout=30)
    lock.release()
    holder.join(30)
    assert holder.exitcode == 0

    q = sync.Queue(name="across")
    p = sync.Process(target=put_all, args=(q, ["a", None, 3]))
    p.start()
    assert [q.get(timeout=30) for _ in range(3)] == ["a", None, 3]
    p.join(30)

    mine, theirs = sync.Pipe(name="echo")
    p = sync.Process(target=echo_pipe, args=(theirs,))
    p.start()
    mine.send("ping")
    assert mine.poll(30)
    assert mine.recv() == ("echo", "ping")
    p.join(30)
    assert p.exitcode == 0


class Holder:
    def __init__(self) -> None:
        self.q = sync.Queue()


def test_names_come_from_the_creating_line_unless_given(created: list[Event]) -> None:
    lock = sync.Lock()
    lock_line = sys._getframe().f_lineno - 1
    a, b = sync.Pipe()
    assert a.id == b.id, "two ends, one pipe"
    Holder()
    sync.Semaphore(2, name="rooms")
    sync.Event()  # assigned to nothing: named after its kind
    door, line = sync.Lock(), sync.Queue()  # each call its own variable
    new = [e.data for e in created if e.kind == "prim.new"]
    assert [d["name"] for d in new] == ["lock", "a/b", "q", "rooms", "event", "door", "line"]
    assert door.id != line.id
    assert new[0]["site"] == f"test_sync.py:{lock_line}" and new[0]["kind"] == lock.family


def test_internal_locks_say_nothing(created: list[Event]) -> None:
    """A Queue, an Event, a Barrier make locks of their own: only the primitive itself is announced."""
    q = sync.JoinableQueue()
    e = sync.Event()
    barrier = sync.Barrier(1)
    q.put(1)
    q.get(timeout=5)
    q.task_done()
    e.set()
    barrier.wait()
    assert {r.data["kind"] for r in created if r.kind == "prim.new"} == {"queue", "event", "barrier"}
    assert {r.obj for r in created if r.kind != "site.new"} == {q.id, e.id, barrier.id}


def test_a_forked_childs_site_is_never_its_parents_line_from_before_the_fork() -> None:
    """What a forked child does in machinery alone (its exit's join of a feeder thread) has no
    site: its stack below multiprocessing's bootstrap is its parent's.  Before, the walk went on
    into the parent's frames and found this test's line, the line of ``p.start()``."""
    import mpviz.sync.process  # noqa: F401  (which marks the bootstrap)
    from mpviz.sync import sites

    # A target whose code is the standard library's (as the exit's machinery is): no user frame of its own.
    space: dict[str, Any] = {"sites": sites}
    exec(compile("def target(q):\n    q.put(sites.user_frame(1) is None)\n", os.__file__, "exec"), space)
    ctx = multiprocessing.get_context("fork")
    results = ctx.SimpleQueue()
    child = ctx.Process(target=space["target"], args=(results,))
    child.start()
    child.join(60)
    assert results.get() is True
