"""Contention figures: durations in bounded memory, each process's time split, the table."""

from __future__ import annotations

import random

from test_model import S, ev, new, spawn

from mpviz.model import Model
from mpviz.model.stats import _who, contention, seconds, table
from mpviz.model.timing import Activity, Durations


def test_durations_are_exact_while_few() -> None:
    d = Durations()
    for ns in (5, 1, 4, 2, 3):
        d.add(ns)
    assert (d.count, d.total, d.max) == (5, 15, 5)
    assert d.quantile(0.5) == 3
    assert d.quantile(0.99) == 5
    assert Durations().quantile(0.5) == 0


def test_durations_stay_bounded_and_close_when_many() -> None:
    rng = random.Random(1)
    d = Durations()
    values = [int(rng.lognormvariate(20, 2)) for _ in range(100_000)]
    for ns in values:
        d.add(ns)
    values.sort()
    assert d.count == len(values) and d.max == values[-1] and d.total == sum(values)
    for q in (0.5, 0.99):
        truth = values[int(q * len(values)) - 1]
        assert abs(d.quantile(q) - truth) <= 0.025 * truth
    assert len(d._buckets) <= 64 * Durations.SUB


def test_semaphore_waits_and_holds() -> None:
    m = Model()
    m.apply([spawn(0, 10, "group", "g0"), spawn(0, 11, "group", "g1"), spawn(0, 12, "group", "g2")])
    m.apply(
        [
            new(0, 1, "s1", "sem", "rooms", value=1),
            ev(1, 10, "sem.acquired", "s1", value=0, of=1),
            ev(1.5, 11, "sem.wait", "s1", value=0, of=1),
            ev(2, 12, "sem.wait", "s1", value=0, of=1),
            ev(3, 10, "sem.released", "s1", value=1, of=1),
            ev(3, 11, "sem.acquired", "s1", value=0, of=1),
            ev(4, 11, "sem.released", "s1", value=1, of=1),
            ev(4, 12, "sem.acquired", "s1", value=0, of=1),
        ]
    )
    timing = m.prims["s1"].timing
    assert timing.waited.count == 2 and timing.waited.max == int(2 * S)  # 1.5 s and 2 s
    assert timing.held.count == 2 and timing.held.max == int(2 * S)  # 2 s and 1 s
    assert timing.most_waiting == 2
    figures = contention(m, int(6 * S))
    (rooms,) = figures["primitives"]
    assert rooms["waits"] == 2 and rooms["acquisitions"] == 3
    assert rooms["wait"]["p50_s"] == 1.5 and rooms["wait"]["max_s"] == 2.0
    # g2 still holds it: its hold so far (2 s) counts.
    assert rooms["hold"]["count"] == 3 and rooms["hold"]["max_s"] == 2.0


def test_queue_blocked_time_and_an_exit_that_ends_a_block() -> None:
    m = Model()
    m.apply(
        [
            new(0, 1, "q", "queue", "buns"),
            ev(1, 20, "queue.get_blocked", "q"),
            ev(3, 21, "queue.put", "q", item="bun 0"),
            ev(3.5, 20, "queue.get", "q", item="bun 0"),
            ev(4, 20, "queue.get_blocked", "q"),
            ev(10, 20, "proc.exit", "", code=-9, signal="SIGKILL"),
        ]
    )
    blocked = m.prims["q"].timing.get_blocked
    assert blocked.count == 2 and blocked.total == int(8.5 * S)


def test_time_split_adds_up_to_the_lifetime() -> None:
    m = Model()
    m.apply(
        [
            spawn(0, 10, "group", "g0"),
            ev(0.5, 10, "proc.start", "g0", role="group", label="g0", ppid=1),
            new(0.5, 10, "l", "lock", "lock"),
            ev(1, 10, "lock.wait", "l"),
            ev(2, 10, "lock.acquired", "l"),
            ev(2, 10, "proc.sleep", "", s=1.0),
            ev(3, 10, "proc.slept"),
            ev(3.5, 10, "lock.released", "l"),
            ev(4, 10, "proc.sleep", "", s=2.0),
            ev(6, 10, "proc.slept"),
            new(6, 10, "e", "event", "go"),
            ev(6, 10, "event.wait", "e"),
            ev(7, 10, "event.woke", "e", waited=True),
            ev(8, 10, "proc.exit", "", code=0),
        ]
    )
    proc = m.procs[10]
    totals = proc.split.totals(int(100 * S))
    assert totals == {
        Activity.OTHER: int(0.5 * S),  # starting
        Activity.RUNNING: int(2 * S),  # 0.5-1, 3.5-4, 7-8
        Activity.LOCK: int(1 * S),
        Activity.HOLDING: int(1.5 * S),  # asleep or not, the lock is held
        Activity.SLEEPING: int(2 * S),
        Activity.EVENT: int(1 * S),
        Activity.QUEUE: 0,
        Activity.ELSEWHERE: 0,
    }
    assert sum(totals.values()) == proc.split.lifetime(int(100 * S)) == int(8 * S)


def test_the_table_names_every_primitive_and_process() -> None:
    m = Model()
    m.apply([spawn(0, 10, "group", "g0"), new(0, 10, "s1", "sem", "rooms", value=4)])
    m.apply([ev(1, 10, "sem.acquired", "s1", value=3, of=4), ev(2, 10, "sem.released", "s1", value=4, of=4)])
    lines = table(contention(m, int(3 * S)))
    assert lines[0].startswith("lock / semaphore / condition")
    assert lines[1].startswith("semaphore 'rooms'")
    assert any(line.startswith("g0 (10)") for line in lines)
    assert (seconds(12.3), seconds(2.5), seconds(0.035), seconds(0.00012), seconds(0)) == (
        "12.3 s",
        "2.50 s",
        "35 ms",
        "120 µs",
        "0",
    )


def test_each_primitive_says_where_it_was_waited_for_and_taken() -> None:
    m = Model()
    m.apply(
        [
            spawn(0, 10, "worker", "w0"),
            spawn(0, 11, "worker", "w1"),
            new(0, 10, "l", "lock", "door"),
            ev(0, 10, "site.new", "10@1", file="/home/me/bank.py", line=9, func="pay", text="with door:"),
            ev(0, 11, "site.new", "11@1", file="/home/me/bank.py", line=17, func="audit", text="door.acquire()"),
            ev(1, 10, "lock.acquired", "l", at="10@1"),
            ev(2, 11, "lock.wait", "l", at="11@1"),
            ev(3, 10, "lock.released", "l", at="10@1"),
            ev(3, 11, "lock.acquired", "l", at="11@1"),
        ]
    )
    (row,) = contention(m, 4 * S)["primitives"]
    assert row["sites"]["waits"] == [{"site": "bank.py:17 in audit", "line": "door.acquire()", "count": 1}]
    assert [h["site"] for h in row["sites"]["holds"]] == ["bank.py:9 in pay", "bank.py:17 in audit"]


def test_a_trace_slice_of_a_wait_carries_its_site() -> None:
    from mpviz.trace.builder import TraceBuilder

    builder = TraceBuilder()
    builder.feed(
        [
            spawn(0, 10, "worker", "consumer"),
            new(0, 10, "q", "queue", "inbox"),
            ev(0, 10, "site.new", "10@1", file="/home/me/c.py", line=8, func="consume", text="inbox.get()"),
            ev(1, 10, "queue.get_blocked", "q", at="10@1"),
            ev(3, 10, "queue.get", "q", item="x", at="10@1"),
        ]
    )
    builder.finish()
    (wait,) = [e for e in builder.trace()["traceEvents"] if e.get("ph") == "X" and "inbox" in e["name"]]
    assert wait["name"] == "blocked on get from 'inbox'" and wait["args"] == {"site": "c.py:8 in consume"}
    assert wait["dur"] == 2_000_000.0


def test_a_process_named_by_what_it_runs_shows_its_pid_once() -> None:
    assert _who({"name": "prog.py (pid 7)", "pid": 7}, 40) == "prog.py (pid 7)"  # (before: "prog.py (pid 7) (7)")
    assert _who({"name": "buyer 1", "pid": 7}, 40) == "buyer 1 (7)"
    assert _who({"name": "a-very-long-program-name.py (pid 7)", "pid": 7}, 20) == "a-very-long… (pid 7)"
