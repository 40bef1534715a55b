"""A wait with a timeout ends by itself: never part of a hang or a deadlock, while the same wait with none is.

Records built by hand, as in ``test_model.py``: each case once with a timeout
(nothing claimed) and once without (the hang or deadlock still named)."""

from __future__ import annotations

import math

import pytest
from test_model import S, ev, new, spawn, stacks_read

from mpviz.model import Model, describe, find_anomalies
from mpviz.model.anomalies import WARNINGS
from mpviz.telemetry import Event, Malformed
from mpviz.telemetry.wire import check

LATER = 30 * S  # long after every grace period


def claims(m: Model, now: int = LATER) -> list[str]:
    """What is said to be wrong (warnings left out, but a potential deadlock)."""
    return [a.kind for a in find_anomalies(m, now) if a.kind not in WARNINGS or a.kind == "potential"]


def back_off(timeout: float | None, other: float | None) -> Model:
    """left holds src and waits for dst; right holds dst and waits for src; with these timeouts."""
    m = Model()
    m.apply(
        [
            spawn(0, 1, "main", "main"),
            spawn(0, 40, "worker", "left"),
            spawn(0, 41, "worker", "right"),
            new(0, 1, "src", "lock", "src_lock"),
            new(0, 1, "dst", "lock", "dst_lock"),
            ev(0.1, 1, "proc.join", "left", child=40),
            ev(1, 40, "lock.acquired", "src"),
            ev(1, 41, "lock.acquired", "dst"),
        ]
    )
    left = {} if timeout is None else {"timeout": timeout}
    right = {} if other is None else {"timeout": other}
    m.apply([ev(1.3, 40, "lock.wait", "dst", **left), ev(1.3, 41, "lock.wait", "src", **right)])
    m.apply([*stacks_read(2, 1), *stacks_read(2, 40), *stacks_read(2, 41)])
    return m


def test_two_locks_taken_in_opposite_orders_with_timeouts_are_no_deadlock() -> None:
    m = back_off(2, 2)
    assert claims(m, int(2 * S)) == [] and claims(m) == []
    assert m.procs[40].state == "waiting for lock 'dst_lock' (gives up after 2 s)"
    # One of them gives up in time: the cycle cannot last, whatever the other does.
    assert claims(back_off(2, None)) == []
    # Neither: a deadlock, and the lock order's cycle beside it.
    dead = back_off(None, None)
    assert "deadlock" in claims(dead, int(2 * S))
    assert [a.kind for a in find_anomalies(dead, int(2 * S)) if a.kind == "potential"] == []  # (it is the real one)


def test_a_lock_order_cycle_only_waited_for_with_timeouts_is_no_potential_deadlock() -> None:
    m = back_off(2, 2)
    m.apply([ev(3.3, 40, "lock.timeout", "dst"), ev(3.3, 41, "lock.timeout", "src")])
    m.apply([ev(3.4, 40, "lock.released", "src"), ev(3.4, 41, "lock.released", "dst")])
    assert claims(m) == [] and not m.potentials
    # Then right waits for src with no timeout, holding dst: one edge could last, the other not.
    m.apply([ev(4, 41, "lock.acquired", "dst"), ev(4, 41, "lock.wait", "src")])
    m.apply([ev(4.1, 41, "lock.acquired", "src"), ev(4.2, 41, "lock.released", "src")])
    m.apply([ev(4.3, 41, "lock.released", "dst")])
    assert claims(m) == [] and not m.potentials
    # And left too: each could now wait for ever for what the other holds.
    m.apply([ev(5, 40, "lock.acquired", "src"), ev(5, 40, "lock.wait", "dst")])
    m.apply([ev(5.1, 40, "lock.acquired", "dst"), ev(5.2, 40, "lock.released", "dst")])
    m.apply([ev(5.3, 40, "lock.released", "src")])
    assert claims(m) == ["potential"]


def test_every_process_blocked_is_no_hang_while_one_waits_with_a_timeout() -> None:
    """The consumer's get(timeout=4) on a queue nobody feeds, main joining it: it ends by itself."""

    def run(timeout: float | None) -> Model:
        m = Model()
        facts = {} if timeout is None else {"timeout": timeout}
        m.apply([spawn(0, 1, "main", "main"), spawn(0, 2, "worker", "consumer"), new(0, 1, "q", "queue", "inbox")])
        m.apply([ev(0.1, 2, "queue.get_blocked", "q", **facts), ev(0.1, 1, "proc.join", "consumer", child=2)])
        m.apply([*stacks_read(1, 1), *stacks_read(1, 2)])
        return m

    timed = run(3.995)
    assert claims(timed) == []
    assert timed.procs[2].state == "blocked on get from 'inbox' (gives up after 4 s)"
    assert timed.procs[2].gives_up_ns == int(0.1 * S) + int(3.995 * S)
    (hang,) = find_anomalies(run(None), LATER)
    assert hang.kind == "hang" and hang.text.startswith("hang: all 2 live processes are blocked")
    # It gave up: its timeout is forgotten with its wait.
    timed.apply([ev(4.1, 2, "queue.timeout", "q", op="get")])
    assert timed.procs[2].gives_up_ns is None and not timed.procs[2].blocked


def test_a_timed_join_and_a_timed_event_wait_are_no_hang() -> None:
    def run(timeout: float | None) -> Model:
        m = Model()
        facts = {} if timeout is None else {"timeout": timeout}
        m.apply([spawn(0, 1, "main", "main"), spawn(0, 2, "worker", "waiter"), new(0, 1, "e", "event", "go")])
        m.apply([ev(0.1, 1, "proc.join", "waiter", child=2, **facts), ev(0.1, 2, "event.wait", "e", **facts)])
        m.apply([*stacks_read(1, 1), *stacks_read(1, 2)])
        return m

    timed = run(4)
    assert claims(timed) == []
    assert timed.procs[1].state == "waiting for waiter to end (join) (gives up after 4 s)"
    assert claims(run(None)) == ["hang"]


def test_a_pools_result_waited_for_with_a_timeout_is_not_lost_work() -> None:
    def run(timeout: float | None) -> Model:
        m = Model()
        facts = {} if timeout is None else {"timeout": timeout}
        m.apply([spawn(0, 1, "main", "main"), spawn(0, 11, "pool", "worker"), new(0, 1, "p", "pool", "pool")])
        m.apply([ev(0.1, 11, "pool.wait_task", "p"), ev(1, 1, "pool.task", "p", func="f", n=1)])
        m.apply([ev(1, 1, "pool.wait", "p", **facts)])
        return m

    assert claims(run(5)) == []
    assert "lost" in claims(run(None))


def test_a_consumer_with_a_timeout_is_not_starved() -> None:
    def run(timeout: float | None) -> Model:
        m = Model()
        facts = {} if timeout is None else {"timeout": timeout}
        m.apply([spawn(0, 30, "producer", "producer"), spawn(0, 31, "consumer", "consumer")])
        m.apply([ev(1, 30, "queue.put", "q", item="x"), ev(2, 31, "queue.get", "q", item="x")])
        m.apply([ev(3, 31, "queue.get_blocked", "q", **facts), ev(4, 30, "proc.exit", "producer", code=0)])
        return m

    assert claims(run(10)) == []
    assert claims(run(None)) == ["starved"]


def test_a_lock_held_by_the_dead_keeps_only_those_without_a_timeout_waiting_forever() -> None:
    m = Model()
    m.apply([spawn(0, 10, "p", "buyer 0"), spawn(0, 11, "p", "buyer 1"), spawn(0, 12, "p", "buyer 2")])
    m.apply([ev(1, 10, "lock.acquired", "t"), ev(1.1, 11, "lock.wait", "t", timeout=5)])
    m.apply([ev(2, 10, "proc.exit", "buyer 0", code=-9, signal="SIGKILL")])
    (dead,) = find_anomalies(m, 3 * S)
    # A Lock has no owner: another process may still release it (only a warning while nobody is stuck).
    assert dead.text == "lock 't' held by dead pid 10 (buyer 0): only a release() by another process can free it now"
    assert dead.kind == "orphan"
    m.apply([ev(2.5, 12, "lock.wait", "t")])
    (dead,) = find_anomalies(m, 3 * S)
    assert dead.text == "deadlock: lock 't' held by dead pid 10 (buyer 0); 1 waiting forever: buyer 2 (pid 12)"
    assert dead.pids == (10, 12)


def test_a_waits_line_says_when_it_gives_up() -> None:
    wait = Event(0, 40, "lock.wait", "dst", {"timeout": 2.0})
    assert describe(wait, "dst_lock") == "waits for lock 'dst_lock' (gives up after 2 s)"
    assert describe(Event(0, 40, "lock.wait", "dst", {}), "dst_lock") == "waits for lock 'dst_lock'"
    assert describe(Event(0, 1, "pool.wait", "p", {"timeout": 0.25}), "pool") == (
        "waits for results from pool 'pool' (gives up after 0.25 s)"
    )
    assert describe(Event(0, 1, "pool.woke", "p", {"gave_up": True}), "pool") == (
        "gave up waiting for results from pool 'pool'"
    )
    assert describe(Event(0, 1, "pool.woke", "p", {}), "pool") == "got results from pool 'pool'"


def test_a_pool_terminated_is_said_in_words_with_the_tasks_it_loses() -> None:
    # (It was shown as its record: "pool.terminate pool (outstanding=0)".)
    assert describe(Event(0, 1, "pool.terminate", "p", {"outstanding": 0}), "pool") == "terminates pool 'pool'"
    assert describe(Event(0, 1, "pool.terminate", "p", {"outstanding": 1}), "pool") == (
        "terminates pool 'pool' with 1 task not done"
    )
    assert describe(Event(0, 1, "pool.terminate", "p", {"outstanding": 3}), "pool") == (
        "terminates pool 'pool' with 3 tasks not done"
    )


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf, "4", True])
def test_the_wire_takes_a_timeout_of_seconds_only(bad: object) -> None:
    assert check((0, 40, "lock.wait", "dst", {"timeout": 2.5})).data == {"timeout": 2.5}
    with pytest.raises(Malformed):
        check((0, 40, "lock.wait", "dst", {"timeout": bad}))


def test_a_paused_holder_counts_only_those_waiting_for_ever_as_waiting_until_it_resumes() -> None:
    m = Model()
    m.apply([spawn(0, 10, "p", "buyer 0"), spawn(0, 11, "p", "buyer 1"), spawn(0, 12, "p", "buyer 2")])
    m.apply([ev(1, 10, "lock.acquired", "t"), ev(1.1, 11, "lock.wait", "t", timeout=5), ev(1.2, 12, "lock.wait", "t")])
    m.apply([ev(2, 10, "proc.signal", "SIGSTOP")])
    paused = [a for a in find_anomalies(m, 3 * S) if a.kind == "paused-holder"]
    assert [a.text for a in paused] == ["lock 't' held by paused pid 10 (buyer 0); 1 waiting until it resumes"], paused
