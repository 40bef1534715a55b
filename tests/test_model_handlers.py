"""Every kind of record the model reads, fed to a model: the state it leaves.

Each test says the kinds it covers (``@covers``); the last test fails when a
kind in the model's handler table has no test here, or a test names a kind
the table does not have.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest
from test_model import S, ev, new, spawn

from mpviz.model import Model, Phase, describe, find_anomalies
from mpviz.model.stacks import Frame, ThreadStack, inside_a_wait
from mpviz.model.state import HANDLERS
from mpviz.model.timing import Activity
from mpviz.telemetry import Event

F = TypeVar("F", bound=Callable[..., None])
COVERED: set[str] = set()


def covers(*kinds: str) -> Callable[[F], F]:
    COVERED.update(kinds)
    return lambda test: test


# --- processes ----------------------------------------------------------------------------------


@covers("proc.spawn")
def test_spawn_names_a_process_and_its_parent() -> None:
    m = Model()
    m.apply([spawn(1, 10, "group", "group 0")])
    p = m.procs[10]
    assert (p.role, p.label, p.ppid, p.name) == ("group", "group 0", 1, "group 0")
    assert p.phase is Phase.STARTING and p.alive and p.started_ns == S
    assert [phase for _, phase, _ in p.history] == [Phase.STARTING]
    assert m.take_dirty() == ({10}, set())


@covers("proc.start")
def test_start_ends_the_starting_and_its_parent_is_who_spawned_it() -> None:
    m = Model()
    # A forkserver's child names the forkserver as its parent when it starts; its spawn names who started it.
    m.apply([ev(1, 10, "proc.start", "w", role="worker", label="w", ppid=99)])
    p = m.procs[10]
    assert p.phase is Phase.RUNNING and p.state == "running" and p.ppid == 99
    m.apply([spawn(2, 10, "worker", "w")])
    assert p.ppid == 1
    m.apply([ev(3, 10, "proc.start", "w", ppid=42)])
    assert p.ppid == 1, "a start does not overwrite the parent its spawn gave"
    assert p.phase_since_ns == S, "started once"


@covers("proc.state")
def test_what_a_process_says_is_its_state_and_a_fact_kept_for_the_run() -> None:
    m = Model()
    m.apply([ev(1, 10, "proc.state", "sent", bytes=9, matched=True), ev(2, 10, "proc.state", "sent", bytes=3)])
    p = m.procs[10]
    assert p.said == "sent" and p.state == "sent" and p.phase is Phase.RUNNING
    fact = p.facts["sent"]
    assert (fact.count, fact.first_ns, fact.last_ns) == (2, S, 2 * S)
    assert fact.sums == {"bytes": 12} and fact.trues == {"matched": 1} and fact.last == {"bytes": 3}
    assert m.said("sent") == 2 and p.said_count("sent") == 2 and p.first_said("sent") == S


@covers("proc.idle")
def test_a_lesson_main_with_its_part_done_is_idle_not_running_until_it_acts_again() -> None:
    m = Model()
    m.apply(
        [ev(1, 1, "proc.start", "main", role="main", label="main", ppid=0), ev(2, 1, "proc.idle", "main", keys=True)]
    )
    p = m.procs[1]
    assert p.phase is Phase.SLEEPING and p.state == "idle: waits for your keys"
    assert m.describe(list(m.log)[-1]) == "idle: waits for your keys"
    assert find_anomalies(m, 3 * S) == [], "idle is no wait of the program's: never a hang"
    m.apply([ev(3, 1, "data.value", "file", count=2)])  # what main sees of the lesson's data: no act of its own
    assert p.phase is Phase.SLEEPING and p.state.startswith("idle")
    m.apply([ev(4, 1, "proc.state", "adds a group")])  # a key's action: it runs again
    assert p.phase is Phase.RUNNING and p.state == "adds a group"
    m.apply([ev(5, 1, "proc.idle", "main")])
    assert p.state == "idle: its part is done", "no keys: its part done, no more"


@covers("proc.error")
def test_an_error_is_kept_with_its_process() -> None:
    m = Model()
    m.apply([ev(1, 10, "proc.error", "w", error="ZeroDivisionError: division by zero")])
    assert m.procs[10].error == "ZeroDivisionError: division by zero"
    assert 10 in m.dirty_procs


@covers("proc.exit")
def test_an_exit_ends_waits_keeps_holds_and_a_later_word_says_how() -> None:
    m = Model()
    m.apply(
        [
            ev(1, 10, "lock.acquired", "l"),
            ev(1, 10, "queue.get_blocked", "q"),
            ev(2, 10, "proc.exit", "w"),  # gone, but not how (its pipe closed)
        ]
    )
    p = m.procs[10]
    assert not p.alive and p.exited_ns == 2 * S and p.phase is Phase.EXITED and p.state == "gone"
    assert p.waiting_on is None and not m.prims["q"].blocked_get
    assert m.prims["q"].timing.get_blocked.total == S
    assert list(m.prims["l"].holders) == [10], "a multiprocessing lock stays held by the dead"
    m.apply([ev(3, 10, "proc.exit", "w", code=-9, signal="SIGKILL")])  # its parent's word, about it
    assert (p.exit_code, p.exit_signal, p.state, p.exited_ns) == (-9, "SIGKILL", "killed by SIGKILL", 2 * S)
    m.apply([ev(4, 10, "proc.exit", "w", code=0)])
    assert p.state == "killed by SIGKILL", "the first word that says how stays"


@covers("proc.signal")
def test_a_pause_and_a_resume() -> None:
    m = Model()
    m.apply([ev(1, 10, "proc.state", "sings"), ev(2, 10, "proc.signal", "SIGSTOP")])
    p = m.procs[10]
    assert p.stopped and p.phase is Phase.STOPPED and p.state == "paused (sings)"
    assert p.split.activity is Activity.OTHER
    m.apply([ev(3, 10, "proc.signal", "SIGCONT")])
    assert not p.stopped and p.phase is Phase.RUNNING and p.state == "sings"
    m.apply([ev(4, 10, "proc.exit", "w", code=0), ev(5, 10, "proc.signal", "SIGSTOP")])
    assert not p.stopped and p.phase is Phase.EXITED, "the dead are not paused"


@covers("proc.stats")
def test_a_sample_keeps_what_it_does_not_say_and_is_not_logged() -> None:
    m = Model()
    m.apply([spawn(0, 10, "w", "w"), ev(1, 10, "proc.stats", cpu=12.5, rss=1 << 20, threads=3, status="running")])
    p = m.procs[10]
    assert p.stats is not None and p.stats == (12.5, 1 << 20, 3, "running")
    m.apply([ev(2, 10, "proc.stats", cpu=float("nan"), rss=-1, status="sleeping")])
    assert p.stats == (0.0, 1 << 20, 3, "sleeping"), "a bad cpu is 0, a bad or missing size the last one"
    assert [e.kind for e in m.log] == [e.kind for e in p.recent] == ["proc.spawn"]
    m.apply([ev(3, 11, "proc.stats", cpu=1.0)])
    assert 11 not in m.procs, "a sample alone makes no process"
    assert list(p.samples.times) == [S, 2 * S] and list(p.samples.rss) == [1 << 20, 1 << 20], "kept for the sparklines"


@covers("proc.output")
def test_printed_lines_are_counted_and_kept() -> None:
    m = Model()
    m.apply([ev(1, 10, "proc.output", "", stream="out", text="hello"), ev(2, 10, "proc.output", "", text="again")])
    assert m.procs[10].lines == 2
    assert [e.data["text"] for e in m.output] == ["hello", "again"]


def test_a_line_written_in_pieces_is_one_line_that_grows_where_it_stands() -> None:
    m = Model()
    m.apply(
        [
            ev(1, 10, "proc.output", "", stream="out", text=". ", partial=True),
            ev(2, 11, "proc.output", "", stream="out", text="another process's line"),
            ev(3, 10, "proc.output", "", stream="err", text="its own stderr"),
            ev(4, 10, "proc.output", "", stream="out", text=". . ", partial=True),
        ]
    )
    assert [e.data["text"] for e in m.output] == [". . ", "another process's line", "its own stderr"]
    m.apply([ev(5, 10, "proc.output", "", stream="out", text=". . done")])
    assert [e.data["text"] for e in m.output] == [". . done", "another process's line", "its own stderr"]
    assert m.procs[10].lines == 2, "counted once, when it ends"
    assert m.line(m.output[0]) is not None and m.line(ev(4, 10, "proc.output", "", text=". ", partial=True)) is None
    m.apply([ev(6, 10, "proc.output", "", stream="out", text="next")])
    assert [e.data["text"] for e in m.output][-1] == "next", "an ended line is never replaced"


@covers("proc.join", "proc.joined")
def test_a_join_blocks_on_a_process_until_it_is_joined() -> None:
    m = Model()
    m.apply([spawn(0, 11, "worker", "worker 1"), ev(1, 10, "proc.join", "worker 1", child=11)])
    p = m.procs[10]
    assert p.phase is Phase.BLOCKED and p.waiting_on == "pid 11"
    assert p.state == "waiting for worker 1 to end (join)"
    m.apply([ev(2, 10, "proc.joined", "worker 1", ended=True)])
    assert p.phase is Phase.RUNNING and p.waiting_on is None
    m.apply([ev(3, 10, "lock.wait", "l"), ev(4, 10, "proc.joined", "worker 1")])
    assert p.waiting_on == "l", "a joined ends a join, nothing else"


@covers("proc.lost")
def test_records_a_process_lost_are_counted() -> None:
    m = Model()
    m.apply([ev(1, 10, "proc.lost", n=5), ev(2, 10, "proc.lost", n=2), ev(3, 11, "proc.lost", n=1)])
    m.apply([ev(4, 11, "proc.lost", n=-3), ev(5, 11, "proc.lost", n="many")])
    assert m.lost == 8 and m.lost_by == {10: 7, 11: 1}


@covers("run.refused")
def test_what_the_run_refused_is_counted_and_said() -> None:
    m = Model()
    m.apply([ev(1, 99, "run.refused", "forged", n=3), ev(2, 99, "run.refused", "forged", n=7)])
    m.apply([ev(3, 99, "run.refused", "connections", n=2), ev(4, 99, "run.refused", "forged", n="many")])
    assert m.refused == {"forged": 7, "connections": 2} and 99 not in m.procs, "the dashboard is no process of the run"
    assert m.refusals() == [
        "refused 2 connections past the run's limit",
        "refused 7 records that named a process other than their sender",
    ]
    assert m.line(ev(5, 99, "run.refused", "foreign", n=1)).endswith(
        "mpviz          refused 1 connections from processes not of the run"
    )


@covers("proc.sleep", "proc.slept")
def test_a_sleep_of_its_own() -> None:
    m = Model()
    m.apply([ev(1, 10, "proc.state", "naps"), ev(2, 10, "proc.sleep", "", s=1.0)])
    p = m.procs[10]
    assert p.sleeping and p.split.activity is Activity.SLEEPING
    assert p.phase is Phase.SLEEPING and p.state == "naps", "asleep, in the words it said"
    m.apply([ev(3, 10, "proc.slept")])
    assert not p.sleeping and p.split.activity is Activity.RUNNING and p.phase is Phase.RUNNING
    assert p.split.totals(3 * S)[Activity.SLEEPING] == S


# --- primitives ---------------------------------------------------------------------------------


@covers("prim.new")
def test_a_new_primitive_has_a_unique_name_a_site_and_a_semaphores_value() -> None:
    m = Model()
    m.apply(
        [
            new(1, 1, "1.1", "lock", "lock", site="a.py:3"),
            new(1, 1, "1.2", "lock", "lock"),
            new(1, 1, "1.3", "sem", "rooms", value=4),
            new(1, 1, "1.4", "event", ""),
        ]
    )
    assert [(p.id, p.name, p.family, p.site) for p in m.prims.values()] == [
        ("1.1", "lock", "lock", "a.py:3"),
        ("1.2", "lock#2", "lock", ""),
        ("1.3", "rooms", "sem", ""),
        ("1.4", "event", "event", ""),
    ]
    assert (m.prim("rooms").capacity, m.prim("rooms").value) == (4, 4)
    assert m.prim("lock#2").id == "1.2" and m.prim_name("1.2") == "lock#2"
    m.apply([new(2, 1, "1.1", "queue", "other")])
    assert m.prims["1.1"].family == "lock", "an id is named once"
    # A record of a primitive never announced: its id is its name, its kind its family.
    m.apply([ev(3, 10, "queue.put", "9.9", item="x")])
    assert (m.prims["9.9"].name, m.prims["9.9"].family) == ("9.9", "queue")


# --- locks, rlocks, semaphores, conditions ------------------------------------------------------

WORDS = {"lock": "lock", "rlock": "rlock", "sem": "semaphore"}


@covers(*(f"{family}.{op}" for family in WORDS for op in ("wait", "acquired", "released")))
@pytest.mark.parametrize("family", WORDS)
def test_wait_acquire_release(family: str) -> None:
    m = Model()
    m.apply([ev(1, 10, f"{family}.acquired", "x", value=0, of=1), ev(2, 11, f"{family}.wait", "x", value=0, of=1)])
    x = m.prims["x"]
    assert x.holders == {10: 1} and list(x.waiters) == [11] and (x.value, x.capacity) == (0, 1)
    assert (x.acquisitions, x.waits, x.timing.most_waiting) == (1, 1, 1)
    assert m.procs[10].phase is Phase.HOLDING and m.procs[10].holds == {"x": 1}
    assert m.procs[11].phase is Phase.BLOCKED and m.procs[11].state == f"waiting for {WORDS[family]} 'x'"
    assert m.procs[11].waiting_on == "x" and m.procs[11].split.activity is Activity.LOCK
    m.apply([ev(3, 10, f"{family}.released", "x", value=1, of=1), ev(4, 11, f"{family}.acquired", "x", value=0, of=1)])
    assert x.holders == {11: 1} and not x.waiters and x.acquisitions == 2 and x.value == 0
    assert m.procs[10].phase is Phase.RUNNING and m.procs[10].holds == {}
    assert m.procs[11].phase is Phase.HOLDING and m.procs[11].waiting_on is None
    assert (x.timing.waited.count, x.timing.waited.total) == (1, 2 * S)
    assert (x.timing.held.count, x.timing.held.total) == (1, 2 * S)
    assert x.max_holders == 1


@covers("lock.timeout", "rlock.timeout", "sem.timeout")
@pytest.mark.parametrize("family", WORDS)
def test_a_wait_given_up(family: str) -> None:
    m = Model()
    m.apply(
        [ev(1, 10, f"{family}.acquired", "x"), ev(2, 11, f"{family}.wait", "x"), ev(5, 11, f"{family}.timeout", "x")]
    )
    x = m.prims["x"]
    assert not x.waiters and x.waits == 1 and x.acquisitions == 1 and list(x.holders) == [10]
    assert (x.timing.waited.count, x.timing.waited.total) == (1, 3 * S)
    assert m.procs[11].phase is Phase.RUNNING and m.procs[11].waiting_on is None


@covers("cond.wait", "cond.woke")
def test_a_condition_waiter_woken() -> None:
    m = Model()
    m.apply([ev(1, 10, "cond.wait", "c", lock="l"), ev(1, 11, "cond.wait", "c")])
    c = m.prims["c"]
    assert list(c.waiters) == [10, 11] and c.waits == 2 and c.timing.most_waiting == 2
    assert m.procs[10].state == "waiting on condition 'c'" and m.procs[10].split.activity is Activity.LOCK
    m.apply([ev(3, 10, "cond.woke", "c")])
    assert list(c.waiters) == [11] and m.procs[10].phase is Phase.RUNNING
    assert (c.timing.waited.count, c.timing.waited.total) == (1, 2 * S)


@covers("cond.timeout")
def test_a_condition_wait_given_up() -> None:
    m = Model()
    m.apply([ev(1, 10, "cond.wait", "c"), ev(2, 10, "cond.timeout", "c")])
    c = m.prims["c"]
    assert not c.waiters and c.timing.waited.total == S
    assert m.procs[10].phase is Phase.RUNNING and m.procs[10].waiting_on is None


@covers("cond.notify", "cond.notify_all")
def test_notifies_are_counted_as_notifies() -> None:
    m = Model()
    m.apply([ev(1, 10, "cond.notify", "c", n=1), ev(2, 10, "cond.notify_all", "c")])
    c = m.prims["c"]
    assert c.notifies == 2 and c.sets == 0
    assert not m.procs, "a notify blocks and wakes nobody: the waiter's own cond.woke does"
    assert c.lost_notify == (10, None), "nobody waited: the last notify was lost"
    m.apply([ev(3, 11, "cond.wait", "c"), ev(4, 10, "cond.notify", "c", n=1, at="s1")])
    assert c.lost_notify is None, "this one found a waiter"


# --- events and barriers ------------------------------------------------------------------------


@covers("event.set", "event.clear")
def test_an_events_flag_and_its_counts() -> None:
    m = Model()
    m.apply([ev(1, 10, "event.set", "e"), ev(2, 10, "event.set", "e")])
    e = m.prims["e"]
    assert e.is_set and (e.sets, e.changed_ns, e.first_set_ns) == (2, 2 * S, S)
    m.apply([ev(3, 10, "event.clear", "e")])
    assert not e.is_set and (e.clears, e.changed_ns, e.first_set_ns) == (1, 3 * S, S)
    m.apply([ev(0.5, 10, "event.set", "e")])  # late
    assert e.first_set_ns == S // 2


@covers("event.wait", "event.woke")
def test_waiting_for_an_event_and_waking() -> None:
    m = Model()
    m.apply([ev(1, 10, "event.wait", "e"), ev(2, 5, "event.set", "e"), ev(3, 10, "event.woke", "e", waited=True)])
    e = m.prims["e"]
    assert not e.waiters and e.waits == 1 and e.first_pass_ns == 3 * S
    assert (e.timing.waited.count, e.timing.waited.total) == (1, 2 * S)
    p = m.procs[10]
    assert p.phase is Phase.RUNNING and p.waiting_on is None
    assert [w for _, _, w in p.history][-2] == "waiting for event 'e'"
    assert p.split.totals(3 * S)[Activity.EVENT] == 2 * S
    # One that finds it set goes through without a wait.
    m.apply([ev(4, 11, "event.woke", "e", waited=False)])
    assert e.first_pass_ns == 3 * S and m.procs[11].phase is Phase.RUNNING


@covers("event.timeout")
def test_an_event_wait_given_up_is_no_pass() -> None:
    m = Model()
    m.apply([ev(1, 10, "event.wait", "e"), ev(4, 10, "event.timeout", "e")])
    e = m.prims["e"]
    assert not e.waiters and e.first_pass_ns is None and e.timing.waited.total == 3 * S
    assert m.procs[10].phase is Phase.RUNNING


@covers("barrier.wait", "barrier.pass")
def test_a_barrier_counts_who_passed() -> None:
    m = Model()
    m.apply([ev(1, 10, "barrier.wait", "b", n_waiting=0, parties=2)])
    b = m.prims["b"]
    assert b.capacity == 2 and list(b.waiters) == [10]
    assert m.procs[10].state == "waiting at barrier 'b' (1 of 2)" and m.procs[10].split.activity is Activity.OTHER
    m.apply([ev(2, 11, "barrier.wait", "b", n_waiting=1, parties=2)])
    assert m.procs[11].state == "waiting at barrier 'b' (2 of 2)"
    m.apply([ev(2, 10, "barrier.pass", "b", index=0), ev(2, 11, "barrier.pass", "b", index=1)])
    assert b.passed == 2 and b.gets == 0 and not b.waiters and not b.broken
    assert m.procs[10].phase is Phase.RUNNING and m.procs[11].phase is Phase.RUNNING
    assert (b.timing.waited.count, b.timing.waited.total) == (2, S)


@covers("barrier.broken", "barrier.abort", "barrier.reset")
def test_a_broken_barrier_lets_its_waiters_go_until_reset() -> None:
    m = Model()
    m.apply([ev(1, 10, "barrier.wait", "b", parties=3), ev(1, 11, "barrier.wait", "b", parties=3)])
    m.apply([ev(2, 12, "barrier.abort", "b")])
    b = m.prims["b"]
    assert b.broken and list(b.waiters) == [10, 11], "the aborter waited for nothing"
    m.apply([ev(3, 10, "barrier.broken", "b"), ev(3, 11, "barrier.broken", "b")])
    assert not b.waiters and b.passed == 0
    assert m.procs[10].phase is Phase.RUNNING and m.procs[11].waiting_on is None
    m.apply([ev(4, 12, "barrier.reset", "b")])
    assert not b.broken


# --- queues and pipes ---------------------------------------------------------------------------


@covers("queue.put", "queue.get")
def test_a_queues_depth_items_and_end_signals() -> None:
    m = Model()
    m.apply(
        [
            ev(1, 30, "queue.put", "q", item="a", none=False),
            ev(2, 30, "queue.put", "q", item="b"),
            ev(3, 31, "queue.get", "q", item="a"),
            ev(4, 1, "queue.put", "q", item="None", none=True),
            ev(5, 31, "queue.get", "q", item="b"),
            ev(6, 31, "queue.get", "q", item="None", none=True),
        ]
    )
    q = m.prims["q"]
    assert (q.puts, q.gets, q.depth, q.deepest, q.pills_put, q.pills_got) == (3, 3, 0, 2, 1, 1)
    assert q.putters == {30}, "an end signal's sender is no producer"
    assert q.in_flight == {} and q.unconsumed() == 0
    assert [d for _, d in q.depth_history] == [1, 2, 1, 2, 1, 0]


def test_what_is_in_a_queue_keeps_no_item_taken_in_another_processs_words() -> None:
    """An object's repr has another address in the process that took it: the oldest goes (first in, first out)."""
    m = Model()
    m.apply(
        [
            ev(1, 1, "queue.put", "q", item="<Task object at 0x1>"),
            ev(2, 1, "queue.put", "q", item="<Task object at 0x2>"),
            ev(3, 1, "queue.put", "q", item="None", none=True),
            ev(4, 31, "queue.get", "q", item="<Task object at 0x9>"),
        ]
    )
    assert list(m.prims["q"].contents) == ["<Task object at 0x2>", "None"]
    m.apply([ev(5, 31, "queue.get", "q", item="None", none=True)])
    assert list(m.prims["q"].contents) == ["<Task object at 0x2>"], "an item in the same words goes itself"


@covers("queue.put_blocked", "queue.get_blocked")
def test_blocked_on_a_full_or_an_empty_queue() -> None:
    m = Model()
    m.apply([ev(1, 30, "queue.put_blocked", "q"), ev(1, 31, "queue.get_blocked", "q")])
    q = m.prims["q"]
    assert list(q.blocked_put) == [30] and list(q.blocked_get) == [31] and (q.put_waits, q.waits) == (1, 1)
    assert m.procs[30].state == "blocked on put to 'q' (full)"
    assert m.procs[31].state == "blocked on get from 'q'"
    assert m.procs[31].split.activity is Activity.QUEUE and q.timing.most_waiting == 2
    m.apply([ev(3, 30, "queue.put", "q", item="x"), ev(4, 31, "queue.get", "q", item="x")])
    assert not q.blocked_put and not q.blocked_get
    assert q.timing.put_blocked.total == 2 * S and q.timing.get_blocked.total == 3 * S
    assert m.procs[30].phase is Phase.RUNNING and m.procs[31].phase is Phase.RUNNING


@covers("queue.timeout")
def test_a_queue_wait_given_up() -> None:
    m = Model()
    m.apply([ev(1, 31, "queue.get_blocked", "q"), ev(3, 31, "queue.timeout", "q", op="get")])
    m.apply([ev(4, 30, "queue.put_blocked", "q"), ev(5, 30, "queue.timeout", "q", op="put")])
    q = m.prims["q"]
    assert not q.blocked_get and not q.blocked_put and q.gets == 0 and q.puts == 0
    assert q.timing.get_blocked.total == 2 * S and q.timing.put_blocked.total == S
    assert m.procs[30].phase is Phase.RUNNING and m.procs[31].phase is Phase.RUNNING


@covers("queue.join_wait", "queue.joined", "queue.task_done")
def test_waiting_for_a_queue_to_drain() -> None:
    m = Model()
    m.apply([new(0, 1, "7.1", "queue", "jobs"), ev(1, 10, "queue.join_wait", "7.1")])
    p = m.procs[10]
    assert (
        p.phase is Phase.BLOCKED
        and p.waiting_on == "7.1"
        and p.state == "joining queue 'jobs' (until each item is marked done)"
    )
    m.take_dirty()
    m.apply([ev(2, 11, "queue.task_done", "7.1")])
    assert m.take_dirty() == (set(), {"7.1"}), "a task done redraws the queue and counts nothing"
    jobs = m.prims["7.1"]
    assert (jobs.puts, jobs.gets, jobs.depth) == (0, 0, 0)
    assert jobs.joiners == {10}
    m.apply([ev(3, 10, "queue.joined", "7.1")])
    assert p.phase is Phase.RUNNING and p.waiting_on is None and not jobs.joiners


def test_a_joinable_queues_items_got_and_not_marked_done_are_counted_by_who_got_them() -> None:
    m = Model()
    m.apply([new(0, 1, "7.1", "queue", "jobs")])
    m.apply([ev(t, 10, "queue.put", "7.1", item=str(t)) for t in range(1, 5)])
    m.apply([ev(5, 11, "queue.get", "7.1", item="1"), ev(6, 11, "queue.get", "7.1", item="2")])
    m.apply([ev(7, 12, "queue.get", "7.1", item="3"), ev(8, 11, "queue.task_done", "7.1")])
    assert m.prims["7.1"].undone == {11: 1, 12: 1}
    # Any process may mark an item done: one that got none marks another's.
    m.apply([ev(9, 10, "queue.task_done", "7.1")])
    assert sum(m.prims["7.1"].undone.values()) == 1
    m.apply([ev(10, 12, "queue.task_done", "7.1"), ev(11, 12, "queue.task_done", "7.1")])
    assert m.prims["7.1"].undone == {}, "more task_done than gets counts nothing below zero"


@covers("pipe.send", "pipe.recv", "pipe.recv_blocked")
def test_a_pipes_messages_each_way() -> None:
    m = Model()
    m.apply([ev(1, 41, "pipe.recv_blocked", "p", end=1)])
    pipe = m.prims["p"]
    assert list(pipe.blocked_get) == [41] and m.procs[41].state == "blocked on recv from pipe 'p'"
    m.apply(
        [
            ev(2, 40, "pipe.send", "p", item="ping", end=0),
            ev(3, 41, "pipe.recv", "p", item="ping", end=1),
            ev(4, 41, "pipe.send", "p", item="pong", end=1),
        ]
    )
    assert (pipe.puts, pipe.gets, pipe.sent, pipe.received) == (2, 1, {0: 1, 1: 1}, {1: 1})
    assert not pipe.blocked_get and pipe.timing.get_blocked.total == 2 * S
    assert m.procs[41].phase is Phase.RUNNING
    m.apply([ev(5, 40, "pipe.send", "p", item="?")])  # an end not said is end 0
    assert pipe.sent == {0: 2, 1: 1}


# --- pools and what main reports ----------------------------------------------------------------


@covers("pool.task", "pool.result")
def test_a_pools_tasks_and_results() -> None:
    m = Model()
    m.apply(
        [
            ev(1, 1, "pool.task", "pool", func="square", n=6),
            ev(2, 1, "pool.task", "pool", func="cube"),
            ev(3, 1, "pool.result", "pool", n=6),
            ev(4, 1, "pool.result", "pool", n="?"),
        ]
    )
    pool = m.prims["pool"]
    assert (pool.tasks, pool.results) == (7, 7)
    assert (pool.puts, pool.gets) == (0, 0), "a pool's work is not a queue's items"


@covers("pool.wait", "pool.woke", "pool.wait_task", "pool.got_task")
def test_waits_for_a_pools_results_and_its_workers_waits_for_tasks() -> None:
    m = Model()
    m.apply(
        [
            spawn(0, 11, "pool", "ForkPoolWorker-1"),
            ev(0.1, 11, "pool.wait_task", "1.1"),
            new(0.2, 1, "1.1", "pool", "pool", site="p.py:3"),
            ev(0.3, 1, "pool.task", "1.1", func="f", n=1),
            ev(0.4, 1, "pool.wait", "1.1", at=""),
            ev(0.5, 11, "pool.got_task", "1.1"),
        ]
    )
    pool, main, worker = m.prim("pool"), m.procs[1], m.procs[11]
    assert pool.id == "1.1" and pool.site == "p.py:3", "named by its prim.new, though a worker spoke first"
    assert pool.workers == {11} and 1 in pool.waiters
    assert main.phase is Phase.BLOCKED and main.state == "waiting for results from pool 'pool'"
    assert worker.phase is not Phase.BLOCKED
    m.apply([ev(0.6, 11, "pool.wait_task", "1.1")])
    assert worker.state == "waiting for a task from pool 'pool'"
    m.apply([ev(0.7, 1, "pool.result", "1.1", ok=True, n=1), ev(0.8, 1, "pool.woke", "1.1")])
    assert main.phase is Phase.RUNNING and not pool.waiters and pool.timing.waited.count == 1


@covers("manager.call")
def test_calls_through_a_managers_proxies_in_words() -> None:
    m = Model()
    m.apply(
        [
            new(1, 1, "manager /tmp/x", "manager", "mgr", site="prog.py:3", server=2),
            ev(2, 3, "manager.call", "manager /tmp/x", typeid="dict", method="__setitem__", proxy="d"),
            ev(
                3, 4, "manager.call", "manager /tmp/x", typeid="dict", method="__getitem__", proxy="d", error="KeyError"
            ),
            ev(
                4,
                4,
                "manager.call",
                "manager /tmp/x",
                typeid="Namespace",
                method="__setattr__",
                proxy="ns",
                attr="value",
            ),
            ev(5, 1, "manager.call", "manager /tmp/x", typeid="Queue", method="get", proxy=""),
        ]
    )
    mgr = m.prim("mgr")
    assert (mgr.calls, dict(mgr.proxies)) == (4, {"d (dict)": 2, "ns (Namespace)": 1, "Queue": 1})
    assert [m.describe(e) for e in list(m.log)[1:]] == [
        "d[…] = … through manager 'mgr'",
        "d[…] through manager 'mgr' (raised KeyError)",
        "ns.value = … through manager 'mgr'",
        "Queue.get(…) through manager 'mgr'",
    ]
    assert mgr.last_call is not None and mgr.last_call.pid == 1
    m.apply([ev(6, 5, "manager.call", "manager /elsewhere", typeid="Foo", method="f", proxy="foo")])
    assert m.prim("manager /elsewhere").calls == 1, "a manager never announced here is made by its first call"


@covers("manager.wait")
def test_a_wait_through_a_proxy_is_a_wait_on_its_object_until_its_call_returns() -> None:
    mgr, go = "manager /tmp/x", "proxy /tmp/x 7f01"
    m = Model()
    m.apply(
        [
            spawn(0, 1, "main", "main"),
            spawn(0, 2, "manager", "SyncManager-1"),
            new(0, 1, mgr, "manager", "mgr"),
            site(1, 3, "3@1", 8, "task", "go.wait()"),
            ev(
                1,
                3,
                "manager.wait",
                go,
                typeid="Event",
                method="wait",
                proxy="go",
                family="event",
                manager=mgr,
                at="3@1",
            ),
            ev(
                1,
                4,
                "manager.wait",
                "proxy /tmp/x 7f02",
                typeid="Queue",
                method="get",
                proxy="q",
                family="queue",
                manager=mgr,
                th=41,
            ),
        ]
    )
    event, queue = m.prim("go"), m.prim("q")
    assert (event.family, event.via, queue.family) == ("event", mgr, "queue")
    assert m.procs[3].state == "waiting for event 'go' (a Manager's) at prog3.py:8 in task"
    assert m.procs[3].waiting_on == go and set(event.waiters) == {3} and event.wait_sites["3@1"] == 1
    assert set(queue.blocked_get) == {41} and m.procs[4].threads[41].waiting_on == queue.id, "a thread's own wait"
    assert m.describe(list(m.log)[-2]) == "waits in go.wait(…) on event 'go' (a Manager's) at prog3.py:8 in task"
    # Every process of the program waits (the manager's server only answers them): a hang, named with the line.
    m.apply([ev(1, 1, "manager.wait", go, typeid="Event", method="wait", proxy="go", family="event", manager=mgr)])
    m.apply([ev(1, 4, "manager.wait", go, typeid="Event", method="wait", proxy="go", family="event", manager=mgr)])
    for pid in (1, 2, 3, 4):
        m.apply([ev(1.5, pid, "proc.stacks", "", req=1, threads=0)])
    hang = [a for a in find_anomalies(m, 4 * S) if a.kind == "hang"]
    assert hang and "SyncManager-1" not in hang[0].text, find_anomalies(m, 4 * S)
    assert "prog3.py:8 in task on event 'go'" in hang[0].text
    # Its call returns: the wait ends, on the object and for the thread that made it, no other.
    m.apply([ev(5, 3, "manager.call", mgr, typeid="Event", method="wait", proxy="go")])
    assert m.procs[3].waiting_on is None and m.procs[3].state == "running" and 3 not in event.waiters
    assert event.timing.waited.count == 1 and event.waits == 3
    m.apply([ev(7, 4, "manager.call", mgr, typeid="Queue", method="get", proxy="q", th=41)])
    assert not queue.blocked_get and m.procs[4].threads[41].waiting_on is None
    assert m.procs[4].waiting_on == go, "the thread's call ends its own wait, not its process's"


@covers("data.value")
def test_what_main_reports_of_the_world_is_merged_by_name() -> None:
    m = Model()
    m.apply([ev(1, 1, "data.value", "tickets.txt", count=10, text="holds {count}")])
    m.apply([ev(2, 1, "data.value", "tickets.txt", count=9, settled=True)])
    assert m.values == {"tickets.txt": {"count": 9, "text": "holds {count}", "settled": True}}
    assert "tickets.txt" in m.dirty_prims and not m.prims


# --- seen from outside: an attached program ------------------------------------------------------


def seen(t: float, pid: int, kind: str, **data: object) -> Event:
    return Event(int(t * S), pid, "proc.seen", "", {"kind": kind, **data})


@covers("proc.seen")
def test_what_a_process_is_seen_doing_from_outside_is_its_state() -> None:
    m = Model()
    m.apply([ev(0, p, "proc.start", role="process", label=f"p{p}", ppid=1) for p in (1, 10, 11, 12, 13)])
    site = "demo.py:4 in consume"
    m.apply(
        [
            seen(
                1, 10, "queue", what="multiprocessing Queue.get", site=site, on="pipe:[77]", name="q", feeders=[10, 1]
            ),
            seen(1, 11, "join", what="Process.join", site="demo.py:17 in parent", child=12),
            seen(1, 12, "sleep", what="time.sleep()", site="demo.py:7 in sleeper"),
            seen(
                1,
                13,
                "running",
                what="spin",
                site="demo.py:12 in busy",
                threads=[{"name": "feeder", "kind": "cond", "what": "threading wait"}],
            ),
        ]
    )
    consumer, parent, sleeper, busy = (m.procs[p] for p in (10, 11, 12, 13))
    assert consumer.phase is Phase.BLOCKED and consumer.state == f"waiting in multiprocessing Queue.get at {site}"
    queue = m.prims[consumer.waiting_on or ""]
    assert (queue.name, queue.family, queue.outside, list(queue.blocked_get)) == ("q", "queue", True, [10])
    assert queue.putters == {1}, "the getter itself is no feeder"
    assert parent.waiting_on == "pid 12" and parent.state == "joining p12 (pid 12) at demo.py:17 in parent"
    assert sleeper.phase is Phase.SLEEPING and sleeper.state == "sleeping at demo.py:7 in sleeper"
    assert sleeper.waiting_on is None, "a sleep waits for nothing of the program's"
    assert busy.phase is Phase.RUNNING and busy.state == "running at demo.py:12 in busy"
    assert busy.seen_threads == ("feeder: waiting in threading wait",)
    assert [line.split("  ", 2)[-1].strip() for line in map(m.line, m.log) if line][-1].endswith("in busy")
    # Its stacks are kept for the stack view, never read for its state again: proc.seen read them.
    stack = {
        "req": 1,
        "tid": 13,
        "name": "MainThread",
        "frames": [["/x/demo.py", 12, "busy", "x += 1"]],
        "by": "py-spy",
    }
    m.apply([ev(1.5, 13, "proc.stack", **stack), ev(1.5, 13, "proc.stacks", req=1, threads=1)])
    assert len(busy.stacks) == 1 and busy.state == "running at demo.py:12 in busy" and not busy.elsewhere
    # Seen again in the same wait, with a feeder more: waiting since it began.
    m.apply([seen(2, 10, "queue", what="multiprocessing Queue.get", site=site, on="pipe:[77]", name="q", feeders=[13])])
    assert queue.blocked_get == {10: S} and queue.putters == {1, 13} and not queue.timing.get_blocked.count
    # Seen again elsewhere: out of the queue's getters, its wait counted.
    m.apply([seen(3, 10, "running", what="consume", site="demo.py:5 in consume")])
    assert not queue.blocked_get and queue.timing.get_blocked.count == 1
    assert consumer.phase is Phase.RUNNING and consumer.waiting_on is None
    lock = seen(4, 13, "lock", what="multiprocessing lock acquire", site="demo.py:20 in busy", name="lock")
    m.apply([lock])
    held = m.prims["seen lock at demo.py:20 in busy"]
    assert list(held.waiters) == [13] and not held.holders, "who holds it cannot be seen"
    m.apply([ev(5, 13, "proc.exit", code=None), seen(6, 13, "running")])
    assert not held.waiters and not m.procs[13].alive, "the dead wait for nothing, and are seen no more"


def test_a_queue_whose_feeders_all_left_is_a_hang_seen_from_outside() -> None:
    """A get on an empty queue whose feeders have all exited: the starved queue of a watched run."""
    m = Model()
    m.apply([ev(0, p, "proc.start", role="process", label=f"p{p}", ppid=1) for p in (1, 10, 11)])
    m.apply([seen(1, 10, "queue", what="multiprocessing Queue.get", on="pipe:[5]", name="q", feeders=[11])])
    assert not [a for a in find_anomalies(m, 10 * S) if a.kind == "starved"]
    m.apply([ev(2, 11, "proc.exit", code=None)])
    starved = [a for a in find_anomalies(m, 10 * S) if a.kind == "starved"]
    assert starved and starved[0].pids == (10,) and "queue 'q'" in starved[0].text
    # Attached after its feeders left: nobody but its getter holds its write end, nobody can put.
    m.apply([seen(3, 1, "queue", what="multiprocessing Queue.get", on="pipe:[6]", name="r", feeders=[])])
    assert [a for a in find_anomalies(m, 10 * S) if a.kind == "starved" and "queue 'r'" in a.text]
    # A wait whose feeders are not known (queued behind another getter, on the queue's lock): no claim.
    m.apply([seen(4, 1, "queue", what="multiprocessing Queue.get", on="sem:[7]", name="s")])
    assert not [a for a in find_anomalies(m, 10 * S) if "queue 's'" in a.text]


# --- every kind has a test ----------------------------------------------------------------------


# --- where, and which thread ---------------------------------------------------------------------


def site(t: float, pid: int, site_id: str, line: int, func: str, text: str) -> object:
    return ev(t, pid, "site.new", site_id, file=f"/home/me/prog{pid}.py", line=line, func=func, text=text)


@covers("site.new")
def test_a_wait_says_where_it_waits() -> None:
    m = Model()
    m.apply(
        [
            spawn(0, 10, "worker", "consumer"),
            new(0, 10, "10.1", "queue", "inbox"),
            site(1, 10, "10@1", 9, "consume", "item = inbox.get()"),
            ev(1, 10, "queue.get_blocked", "10.1", at="10@1"),
        ]
    )
    assert m.sites["10@1"].where == "prog10.py:9 in consume"
    assert m.procs[10].state == "blocked on get from 'inbox' at prog10.py:9 in consume"
    assert m.procs[10].at == "10@1"
    m.apply([ev(2, 10, "queue.get", "10.1", item="x", at="10@1")])
    assert m.procs[10].state == "running" and m.procs[10].at == ""


@covers("proc.thread", "proc.thread_end")
def test_a_threads_wait_never_overwrites_its_main_threads() -> None:
    """Main blocks on a get while a helper thread joins another: each keeps its own state."""
    m = Model()
    m.apply(
        [
            spawn(0, 10, "main", "main"),
            new(0, 10, "10.1", "queue", "inbox"),
            ev(1, 10, "queue.get_blocked", "10.1"),
            ev(2, 10, "proc.thread", "helper", th=11),
            ev(2, 10, "proc.join", "child", child=20, th=11),
        ]
    )
    main, helper = m.procs[10], m.procs[10].threads[11]
    assert main.phase is Phase.BLOCKED and main.state == "blocked on get from 'inbox'"
    assert helper.name == "helper" and helper.phase is Phase.BLOCKED and "join" in helper.state
    assert m.pid_of(11) == 10 and m.name_of(11) == "main: helper"
    m.apply([ev(3, 10, "proc.joined", "child", child=20, ended=True, th=11)])
    assert helper.phase is Phase.RUNNING and main.phase is Phase.BLOCKED, "the helper's join ended, not main's get"
    m.apply([ev(4, 10, "proc.thread_end", "", th=11)])
    assert 11 not in m.procs[10].threads, "an ended thread that holds nothing is forgotten"


def test_two_threads_of_one_process_deadlock_named_with_both_threads_and_sites() -> None:
    m = Model()
    m.apply(
        [
            spawn(0, 10, "worker", "worker"),
            new(0, 10, "10.1", "lock", "a"),
            new(0, 10, "10.2", "lock", "b"),
            site(0, 10, "10@1", 5, "left", "with b:"),
            site(0, 10, "10@2", 9, "right", "with a:"),
            ev(1, 10, "proc.thread", "t1", th=11),
            ev(1, 10, "proc.thread", "t2", th=12),
            ev(1, 10, "lock.acquired", "10.1", th=11),
            ev(1, 10, "lock.acquired", "10.2", th=12),
            ev(2, 10, "lock.wait", "10.2", th=11, at="10@1"),
            ev(2, 10, "lock.wait", "10.1", th=12, at="10@2"),
        ]
    )
    (deadlock,) = [a for a in find_anomalies(m, 10 * S) if a.kind == "deadlock"]
    assert set(deadlock.pids) == {11, 12}
    assert "worker (pid 10, thread 't1') at prog10.py:5 in left holds 'a' and waits for 'b'" in deadlock.text
    assert "worker (pid 10, thread 't2') at prog10.py:9 in right holds 'b' and waits for 'a'" in deadlock.text
    assert m.procs[10].waiting_on is None and m.procs[10].phase is not Phase.BLOCKED, (
        "its main thread waits for nothing"
    )


def test_a_thread_that_ended_holding_a_lock_holds_it_for_ever() -> None:
    m = Model()
    m.apply(
        [
            spawn(0, 10, "main", "main"),
            new(0, 10, "10.1", "lock", "door"),
            ev(1, 10, "proc.thread", "keeper", th=11),
            ev(1, 10, "lock.acquired", "10.1", th=11),
            ev(2, 10, "proc.thread_end", "", th=11),
            ev(3, 10, "lock.wait", "10.1"),
        ]
    )
    kinds = {a.kind for a in find_anomalies(m, 10 * S)}
    assert "dead-holder" in kinds, "the lock's holder is gone: main waits for ever"


@covers("proc.stack", "proc.stacks")
def test_a_stack_says_what_no_record_does_until_the_process_acts_again() -> None:
    m = Model()
    recv = [
        ["/home/me/client.py", 30, "<module>", "talk(conn)"],
        ["/home/me/client.py", 12, "talk", "data = conn.recv(1024)"],
    ]
    m.apply(
        [
            spawn(0, 10, "main", "main"),
            ev(1, 10, "proc.start", "main"),
            ev(
                2,
                10,
                "proc.stack",
                "",
                req=1,
                tid=10,
                name="MainThread",
                frames=recv,
                call="conn.recv(1024)",
                by="self",
            ),
            ev(2, 10, "proc.stack", "", req=1, tid=11, name="reader", frames=recv[1:], by="self"),
            ev(2, 10, "proc.stacks", "", req=1, threads=2),
        ]
    )
    p = m.procs[10]
    assert [t.name for t in p.stacks] == ["MainThread", "reader"] and p.stacks_ns == 2 * S
    assert p.phase is Phase.BLOCKED and p.state == "waiting in conn.recv(1024) at client.py:12 in talk"
    assert p.split.activity is Activity.ELSEWHERE, "its time is spent waiting elsewhere, not running"
    assert p.threads[11].state == "waiting in conn.recv() at client.py:12 in talk", "a thread never seen before"
    m.apply([ev(3, 10, "proc.state", "got it")])
    assert p.phase is Phase.RUNNING and p.state == "got it", "a record of it acting: the stack is out of date"
    m.apply([ev(4, 10, "proc.stacks", "", req=2, missing="it is paused (SIGSTOP)")])
    assert p.stacks == () and p.stacks_missing == "it is paused (SIGSTOP)"


def test_the_time_a_stack_finds_spent_waiting_is_not_counted_running() -> None:
    """Stacks are asked for once a process has been quiet a second (QUIET_NS): that second, and
    no more, was spent where the stack finds it waiting (before: running until the answer)."""
    m = Model()
    frames = [["/home/me/server.py", 4, "<module>", "conn, _ = listener.accept()"]]
    m.apply(
        [
            spawn(0, 10, "main", "main"),
            ev(1, 10, "proc.start", "main"),
            ev(6, 10, "proc.stack", "", req=1, tid=10, name="MainThread", frames=frames, call="accept", by="self"),
            ev(6, 10, "proc.stacks", "", req=1, threads=1),
        ]
    )
    totals = m.procs[10].split.totals(8 * S)
    assert totals.get("elsewhere") == 3 * S, totals  # from 5 s, a second before the answer, to 8 s
    assert totals.get("running") == 4 * S, totals  # from its start, at 1 s


@covers("proc.reaped")
def test_a_child_ended_and_not_waited_for_is_a_zombie_until_reaped() -> None:
    m = Model()
    m.apply(
        [
            ev(0, 10, "site.new", "9@1", file="/home/me/prog.py", line=12, func="main", text="p.start()"),
            ev(0, 10, "proc.spawn", "quick", role="worker", label="quick", ppid=9, at="9@1"),
            ev(1, 10, "proc.exit", "", code=0),
            ev(2, 10, "proc.stats", "", status="zombie"),
        ]
    )
    p = m.procs[10]
    assert p.zombie and p.state == "done, not joined yet: a zombie (started at prog.py:12 in main)"
    m.apply([ev(3, 10, "proc.reaped", "quick")])
    assert not p.zombie and p.state == "done"


# --- pitfalls ----------------------------------------------------------------------------------------


@covers("pitfall.main_guard", "pitfall.pickle", "pitfall.daemon")
def test_a_start_that_failed_as_the_docs_warn_is_a_pitfall_said_once() -> None:
    m = Model()
    start = ev(1, 10, "pitfall.pickle", "work #0", error="PicklingError: no", at="10@1")
    m.apply(
        [
            spawn(0, 10, "main", "main"),
            ev(0, 10, "site.new", "10@1", file="/p/x.py", line=8, func="f", text=""),
            start,
            start,
        ]
    )
    (pitfall,) = [a for a in find_anomalies(m, 2 * S) if a.kind == "pitfall"]
    assert "work #0 could not start (at x.py:8 in f): PicklingError: no" in pitfall.text
    assert pitfall.text.endswith("(docs: Picklability)")
    m.apply([ev(2, 11, "pitfall.main_guard", "w", at=""), ev(3, 12, "pitfall.daemon", "c")])
    assert sum(a.kind == "pitfall" for a in find_anomalies(m, 3 * S)) == 3


@covers("pitfall.unguarded")
def test_a_value_read_then_written_outside_its_lock_by_two_processes_is_the_lost_updates_pitfall() -> None:
    m = Model()
    m.apply(
        [
            spawn(0, 10, "main", "main"),
            spawn(0, 11, "worker", "add #0"),
            spawn(0, 12, "worker", "add #1"),
            new(0, 10, "10.2", "rlock", "v.lock"),
            new(0, 10, "10.1", "value", "v", lock="10.2"),
            ev(0, 11, "site.new", "11@1", file="/p/add.py", line=8, func="add", text="v.value += 1"),
            ev(1, 11, "pitfall.unguarded", "10.2", at="11@1"),
        ]
    )
    assert not [a for a in find_anomalies(m, 2 * S) if a.kind == "pitfall"], "one writer alone loses nothing"
    m.apply([ev(2, 12, "pitfall.unguarded", "10.2", at="11@1"), ev(3, 11, "pitfall.unguarded", "10.2")])
    (pitfall,) = [a for a in find_anomalies(m, 3 * S) if a.kind == "pitfall"]
    assert pitfall.text.startswith(
        "pitfall: 'v' was read and then written outside v.get_lock() by add #0 (at add.py:8 in add) and add #1"
    ) and pitfall.text.endswith("Fix: `with v.get_lock(): v.value += 1` (docs: multiprocessing.Value)")
    assert pitfall.pids == (11, 12)


def test_a_thread_in_the_programs_own_code_inside_a_wait_is_told_from_one_in_the_wait() -> None:
    """A get unpickling its item runs the item's code inside the get: it could act.  A stack with
    no frame of the program's (a join at exit, from atexit) is in its wait."""
    lib = "/usr/lib/python3.11/multiprocessing/"
    unpickling = ThreadStack(
        1,
        "MainThread",
        (
            Frame("/p/take.py", 16, "take", "q.get()"),
            Frame(lib + "queues.py", 103, "get", "res = self._recv_bytes()"),
            Frame("/p/take.py", 12, "__setstate__", "time.sleep(4)"),
        ),
    )
    at_exit = ThreadStack(
        1,
        "MainThread",
        (
            Frame(lib + "util.py", 357, "_exit_function", "p.join()"),
            Frame(lib + "process.py", 149, "join", "res = self._popen.wait(timeout)"),
            Frame(lib + "popen_fork.py", 27, "poll", "pid, sts = os.waitpid(self.pid, flag)"),
        ),
    )
    assert inside_a_wait(unpickling) and not inside_a_wait(at_exit)


@covers("proc.ran")
def test_a_join_waiting_for_a_child_whose_items_are_still_in_its_queue_is_the_feeder_pitfall() -> None:
    m = Model()
    m.apply(
        [
            spawn(0, 10, "main", "main"),
            spawn(0, 11, "worker", "f"),
            new(0, 10, "q", "queue", "queue"),
            ev(1, 11, "queue.put", "q", item="X"),
            ev(2, 10, "proc.join", "f", child=11),
        ]
    )
    assert not [a for a in find_anomalies(m, 5 * S) if a.kind == "feeder"], "f has not finished: the join may return"
    m.apply([ev(3, 11, "proc.ran", "f")])
    # Its target just returned: its exit comes a moment later, most of the time (a join began long
    # ago is no reason to call it stuck; before, said in that moment: test_programs's fixed
    # producer-consumer, 1 run in 4 under load).
    assert not [a for a in find_anomalies(m, int(3.5 * S)) if a.kind == "feeder"]
    (feeder,) = [a for a in find_anomalies(m, 5 * S) if a.kind == "feeder"]
    assert "f put 1 item(s) into 'queue' that nobody took" in feeder.text and set(feeder.pids) == {10, 11}
    m.apply([ev(4, 10, "queue.get", "q", item="X")])
    assert not [a for a in find_anomalies(m, 6 * S) if a.kind == "feeder"], "taken: its feeder can end"


@covers("proc.terminate")
def test_terminate_of_a_lock_holder_is_named() -> None:
    m = Model()
    m.apply(
        [
            spawn(0, 10, "main", "main"),
            spawn(0, 11, "worker", "keeper"),
            new(0, 10, "l", "lock", "lock"),
            ev(1, 11, "lock.acquired", "l"),
            ev(2, 10, "proc.terminate", "keeper", child=11, signal="SIGTERM"),
            ev(3, 11, "proc.exit", "", code=-15, signal="SIGTERM"),
        ]
    )
    (said,) = [a for a in find_anomalies(m, 4 * S) if a.kind == "pitfall"]
    assert (
        "main ended keeper with SIGTERM" in said.text
        and "while it held 'lock': nobody can take it again unless another process releases it" in said.text
    )


@covers("pitfall.callback")
def test_a_pools_callback_that_raised_is_named_once_with_its_line() -> None:
    m = Model()
    m.apply(
        [
            spawn(0, 10, "main", "main"),
            new(0, 10, "p", "pool", "pool"),
            ev(0, 10, "site.new", "10@1", file="/p/prog.py", line=13, func="on_done", text="def on_done(value):"),
            ev(1, 10, "pitfall.callback", "p", error="ValueError", func="on_done", at="10@1"),
            ev(2, 10, "pitfall.callback", "p", error="KeyError", func="on_done", at="10@1"),
        ]
    )
    (said,) = find_anomalies(m, 3 * S)
    assert said.kind == "pitfall" and said.pids == (10,)
    assert said.text.startswith(
        "pitfall: on_done (at prog.py:13 in on_done), a callback of pool 'pool', raised ValueError: callbacks run in"
        " the pool's result-handler thread, and the exception ended it, so no result of the pool comes back any more"
    ) and said.text.endswith("Fix: catch every exception inside the callback (docs: Process Pools)")
    assert describe(ev(1, 10, "pitfall.callback", "p", error="ValueError"), "pool") is None, "the pitfall says it"


@covers("pitfall.fork_held")
def test_a_childs_copy_of_a_lock_held_at_the_fork_by_another_thread_is_named_once() -> None:
    m = Model()
    m.apply(
        [
            spawn(0, 10, "main", "main"),
            ev(0.5, 11, "proc.spawn", "child #0", role="worker", label="child #0", ppid=10),
            new(0, 10, "l", "lock", "cache_lock"),
            new(1, 11, "c", "lock", "cache_lock", copy_of="l"),
            ev(1, 11, "site.new", "11@1", file="/p/prog.py", line=13, func="child", text="with cache_lock:"),
            ev(1, 11, "pitfall.fork_held", "c", of="l", at="11@1"),
            ev(1, 11, "pitfall.fork_held", "c", of="l", at="11@1"),
        ]
    )
    (said,) = find_anomalies(m, 3 * S)
    assert said.kind == "pitfall" and said.pids == (11,)
    assert (
        said.text.startswith(
            "pitfall: child #0 was forked while another thread of main held threading lock 'cache_lock': child #0's copy"
        )
        and "(at prog.py:13 in child: it waits for ever)" in said.text
    ), said.text
    assert said.text.endswith("(docs: Contexts and start methods)")
    assert describe(ev(1, 11, "pitfall.fork_held", "c", of="l"), "cache_lock") is None, "the pitfall says it"


@covers("pool.init_failed")
def test_a_pool_whose_workers_die_in_their_initializer_is_named_with_its_line_and_error() -> None:
    m = Model()
    init = ev(1, 11, "pool.init_failed", "p", error="ConnectionError: no db", func="init", at="11@1")
    m.apply(
        [
            spawn(0, 10, "main", "main"),
            new(0, 10, "p", "pool", "pool"),
            ev(0, 11, "site.new", "11@1", file="/p/prog.py", line=5, func="init", text="raise ConnectionError()"),
            init,
        ]
    )
    assert m.prims["p"].init_failures == 1
    assert not [a for a in find_anomalies(m, 2 * S) if a.kind == "pitfall"], "one worker: not yet a pattern"
    m.apply([ev(2, 12, "pool.init_failed", "p", error="ConnectionError: no db", func="init", at="11@1")])
    (said,) = [a for a in find_anomalies(m, 3 * S) if a.kind == "pitfall"]
    assert said.text.startswith(
        "pitfall: pool 'pool''s workers die in their initializer init (at prog.py:5 in init): ConnectionError: no db;"
        " the pool starts new ones for ever, and no task is ever done"
    ) and said.text.endswith("(docs: Process Pools)")
    m.apply([ev(3, 13, "pool.wait_task", "p")])
    assert not [a for a in find_anomalies(m, 4 * S) if a.kind == "pitfall"], "one got through: the pool works"
    assert describe(init, "pool") is None, "the pitfall says it (the worker's error has its own line)"


@covers("pitfall.proxy_copy")
def test_a_managers_value_changed_in_place_is_named_once_a_line() -> None:
    m = Model()
    copy = dict(proxy="d", typeid="dict", via="__getitem__", method="append", key="'k'", type="list")
    m.apply(
        [
            spawn(0, 10, "worker", "add #0"),
            spawn(0, 11, "worker", "add #1"),
            ev(0, 10, "site.new", "10@1", file="/p/prog.py", line=6, func="add", text='d["k"].append(i)'),
            ev(0, 11, "site.new", "11@1", file="/p/prog.py", line=6, func="add", text='d["k"].append(i)'),
            ev(1, 10, "pitfall.proxy_copy", "manager m", at="10@1", **copy),
            ev(2, 11, "pitfall.proxy_copy", "manager m", at="11@1", **copy),
            ev(3, 11, "pitfall.proxy_copy", "manager m", at="11@1", **{**copy, "via": "get", "method": "__setitem__"}),
        ]
    )
    said = sorted(a.text for a in find_anomalies(m, 4 * S) if a.kind == "pitfall")
    assert [text.split(" gives")[0] for text in said] == [
        "pitfall: `d.get('k')[…] = …` (at prog.py:6 in add) changes a copy: `d.get('k')`",
        "pitfall: `d['k'].append(…)` (at prog.py:6 in add) changes a copy: `d['k']`",
    ], "the same line in two processes: named once"
    assert "Fix: `v = d.get('k'); v[…] = …; d['k'] = v`" in said[0] and said[0].endswith("(docs: Proxy Objects)")
    assert describe(ev(1, 10, "pitfall.proxy_copy", "manager m", **copy), "m") is None, "the pitfall says it"


@covers("pool.terminate")
def test_a_pool_terminated_with_results_not_back_is_named() -> None:
    m = Model()
    m.apply(
        [spawn(0, 10, "main", "main"), new(0, 10, "p", "pool", "pool"), ev(1, 10, "pool.terminate", "p", outstanding=0)]
    )
    assert not find_anomalies(m, 2 * S)
    m.apply([ev(2, 10, "pool.terminate", "p", outstanding=2)])
    (said,) = find_anomalies(m, 3 * S)
    assert "with 2 task(s) whose results nobody fetched" in said.text


@covers("shm.unlink")
def test_shared_memory_never_unlinked_is_named_once_its_maker_ended() -> None:
    m = Model()
    made = new(0, 10, "b", "shm", "block", block="psm_1", site="x.py:5")
    m.apply([spawn(0, 10, "main", "main"), made])
    assert not find_anomalies(m, 1 * S), "its maker may still unlink it"
    m.apply([ev(1, 10, "proc.exit", "", code=0)])
    (said,) = find_anomalies(m, 2 * S)
    assert "shared memory 'block' (psm_1, made at x.py:5) was never unlinked" in said.text
    unlinked = Model()
    unlinked.apply(
        [spawn(0, 10, "main", "main"), made, ev(1, 10, "shm.unlink", "b"), ev(2, 10, "proc.exit", "", code=0)]
    )
    assert not find_anomalies(unlinked, 3 * S)


# --- a scheduled run ---------------------------------------------------------------------------


@covers("turn.ask", "turn.offer", "turn.go")
def test_a_process_at_a_point_waits_its_turn_until_it_is_let_go() -> None:
    m = Model()
    m.apply([spawn(0, 10, "buyer", "buyer 0"), new(0, 10, "L", "lock", "ticket")])
    m.apply([ev(1, 10, "site.new", "10@1", file="/x/workers.py", line=18, func="buy", text="lock.acquire()")])
    m.apply([ev(2, 10, "turn.ask", "L", op="lock.acquire", at="10@1", n=1)])
    p = m.procs[10]
    assert p.phase is Phase.STOPPED, "held at a point: as good as paused"
    assert p.state == "waits its turn: acquire lock 'ticket' at workers.py:18 in buy"
    assert p.split.activity is Activity.OTHER
    offer = [["buyer 0", "lock.acquire", "ticket", "workers.py:18", True], ["main", "proc.join", "buyer 0", "", False]]
    m.apply([ev(3, 1, "turn.offer", "", options=offer)])
    assert m.turns.offer == offer
    m.apply([ev(4, 10, "turn.go", "", who="buyer 0", op="lock.acquire", what="ticket", at="workers.py:18", step=1)])
    assert m.turns.offer is None and m.turns.made == 1 and [e.t_ns for e in m.turns.recent] == [4 * S]
    assert p.phase is Phase.RUNNING and p.state == "running"
    assert m.line(m.turns.recent[0]).endswith("buyer 0        goes: acquire lock 'ticket' at workers.py:18")
    assert m.describe(ev(2, 10, "turn.ask", "L", op="lock.acquire", n=1)) is None, "the offer says it again"


@covers("turn.free", "turn.stuck")
def test_who_ran_free_and_a_run_where_nobody_could_go_on() -> None:
    m = Model()
    m.apply([spawn(0, 10, "phil", "phil 0"), spawn(0, 11, "phil", "phil 1")])
    m.apply([ev(1, 10, "turn.ask", "", op="proc.sleep", n=1), ev(1, 11, "turn.ask", "", op="proc.sleep", n=1)])
    m.apply([ev(2, 10, "turn.free", "", who="phil 0"), ev(2, 10, "turn.free", "", who="phil 0")])
    assert m.turns.free == ["phil 0"], "said once"
    m.apply([ev(3, 1, "turn.stuck", "", who=["phil 0", "phil 1"])])
    assert m.turns.stuck == ["phil 0", "phil 1"]
    assert all(not p.turn and p.phase is Phase.RUNNING for p in m.procs.values()), "let go into their waits"
    assert m.describe(ev(3, 1, "turn.stuck", "", who=[])) == "nobody can go on: each one goes into its wait"


def test_every_kind_in_the_handler_table_has_a_test() -> None:
    assert sorted(set(HANDLERS) - COVERED) == [], "kinds with no handler test"
    assert sorted(COVERED - set(HANDLERS)) == [], "tests of kinds the model does not handle"
