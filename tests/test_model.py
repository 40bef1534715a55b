"""Hand-written record sequences give the right model state."""

from __future__ import annotations

import grimp

from mpviz import lang
from mpviz.model import Model, Phase, describe, find_anomalies
from mpviz.model.anomalies import HANG_GRACE_NS
from mpviz.model.lines import seconds
from mpviz.telemetry import Event

S = 1_000_000_000


def ev(t: float, pid: int, kind: str, obj: str = "", **data: object) -> Event:
    return Event(int(t * S), pid, kind, obj, dict(data))


def new(t: float, pid: int, prim_id: str, kind: str, name: str, **facts: object) -> Event:
    """A primitive's ``prim.new``: its id, kind and name."""
    return Event(int(t * S), pid, "prim.new", prim_id, {"kind": kind, "name": name, **facts})


def spawn(t: float, pid: int, role: str, label: str) -> Event:
    return ev(t, pid, "proc.spawn", label, role=role, label=label, ppid=1)


def test_semaphore_holders_waiters_value_and_phases() -> None:
    m = Model()
    m.apply([spawn(0, 10, "group", "group 0"), spawn(0, 11, "group", "group 1"), spawn(0, 12, "group", "group 2")])
    m.apply(
        [
            ev(1, 10, "sem.acquired", "rooms", value=1, of=2),
            ev(1.1, 11, "sem.acquired", "rooms", value=0, of=2),
            ev(1.2, 12, "sem.wait", "rooms", value=0, of=2),
            ev(1.3, 10, "proc.state", "enters to sing"),
        ]
    )
    rooms = m.prims["rooms"]
    assert list(rooms.holders) == [10, 11]
    assert list(rooms.waiters) == [12]
    assert (rooms.value, rooms.capacity) == (0, 2)
    assert m.procs[12].phase is Phase.BLOCKED
    assert m.procs[12].state == "waiting for semaphore 'rooms'"
    assert m.procs[10].phase is Phase.HOLDING
    assert m.procs[10].state == "enters to sing"
    m.apply([ev(2, 10, "sem.released", "rooms", value=1, of=2), ev(2.1, 12, "sem.acquired", "rooms", value=0, of=2)])
    assert list(rooms.holders) == [11, 12]
    assert not rooms.waiters
    assert m.procs[10].phase is Phase.RUNNING
    assert rooms.max_holders == 2
    # Time spent blocked: from 1.2 to 2.1.
    assert m.procs[12].time_in(Phase.BLOCKED, int(5 * S)) == int(0.9 * S)


def test_late_release_does_not_inflate_the_most_holders() -> None:
    """Records from two pipes may arrive in the wrong order; the maximum is counted in time order."""
    m = Model()
    m.apply([ev(1, 10, "lock.acquired", "l")])
    m.apply([ev(3, 11, "lock.acquired", "l")])  # arrives first...
    m.apply([ev(2, 10, "lock.released", "l")])  # ...though this came before it
    assert m.prims["l"].max_holders == 1
    assert list(m.prims["l"].holders) == [11]


def test_lock_without_owner_released_by_another_process() -> None:
    m = Model()
    m.apply([ev(1, 10, "lock.acquired", "l"), ev(2, 11, "lock.released", "l")])
    assert not m.prims["l"].holders
    assert "l" not in m.procs[10].holds


def test_rlock_depth() -> None:
    m = Model()
    m.apply([ev(1, 10, "rlock.acquired", "r"), ev(2, 10, "rlock.acquired", "r"), ev(3, 10, "rlock.released", "r")])
    assert m.prims["r"].holders == {10: 1}
    m.apply([ev(4, 10, "rlock.released", "r")])
    assert m.prims["r"].holders == {}
    assert m.prims["r"].max_holders == 1


def test_dead_holder_is_a_named_deadlock() -> None:
    m = Model()
    m.apply(
        [
            spawn(0, 10, "buyer", "buyer 0"),
            spawn(0, 11, "buyer", "buyer 1"),
            spawn(0, 12, "buyer", "buyer 2"),
            ev(1, 10, "lock.acquired", "ticket"),
            ev(1.1, 11, "lock.wait", "ticket"),
            ev(1.2, 12, "lock.wait", "ticket"),
            ev(2, 10, "proc.exit", "buyer 0", code=-9, signal="SIGKILL"),
        ]
    )
    (anomaly,) = find_anomalies(m, int(3 * S))
    assert anomaly.kind == "dead-holder"
    assert (
        anomaly.text
        == "deadlock: lock 'ticket' held by dead pid 10 (buyer 0); 2 waiting forever: buyer 1 (pid 11), buyer 2 (pid 12)"
    )
    assert m.procs[10].state == "killed by SIGKILL"
    assert m.procs[10].phase is Phase.EXITED


def test_paused_holder_and_resume() -> None:
    m = Model()
    m.apply([spawn(0, 10, "w", "w"), ev(1, 10, "lock.acquired", "l"), ev(1.5, 11, "lock.wait", "l")])
    m.apply([ev(2, 10, "proc.signal", "SIGSTOP")])
    assert m.procs[10].phase is Phase.STOPPED
    assert m.procs[10].state.startswith("paused")
    assert [a.kind for a in find_anomalies(m, int(3 * S))] == ["paused-holder"]
    m.apply([ev(3, 10, "proc.signal", "SIGCONT")])
    assert m.procs[10].phase is Phase.HOLDING
    assert find_anomalies(m, int(4 * S)) == []


def test_event_flag_waiters_and_order() -> None:
    m = Model()
    m.apply([ev(1, 20, "event.wait", "light"), ev(1.5, 21, "event.wait", "light")])
    assert list(m.prims["light"].waiters) == [20, 21]
    assert m.prims["light"].is_set is False
    m.apply([ev(2, 5, "event.set", "light"), ev(2.1, 20, "event.woke", "light", waited=True)])
    assert m.prims["light"].is_set is True
    assert m.prims["light"].changed_ns == 2 * S
    assert list(m.prims["light"].waiters) == [21]
    assert find_anomalies(m, int(3 * S)) == []


def test_wake_before_any_set_is_an_anomaly() -> None:
    m = Model()
    m.apply([ev(1, 20, "event.woke", "light", waited=True)])
    assert [a.kind for a in find_anomalies(m, int(2 * S))] == ["order"]
    m.apply([ev(0.5, 5, "event.set", "light")])  # the set was only late
    assert find_anomalies(m, int(2 * S)) == []


def test_queue_depth_pills_and_exactly_once() -> None:
    m = Model()
    m.apply(
        [
            ev(1, 30, "queue.put", "buns", item="bun 0", none=False),
            ev(2, 30, "queue.put", "buns", item="bun 1", none=False),
            ev(3, 31, "queue.get", "buns", item="bun 0", none=False),
            ev(4, 1, "queue.put", "buns", item="None", none=True),
        ]
    )
    q = m.prims["buns"]
    assert q.depth == 2
    assert (q.puts, q.gets, q.pills_put) == (3, 1, 1)
    assert q.unconsumed() == 2
    m.apply([ev(5, 31, "queue.get", "buns", item="bun 1", none=False), ev(6, 31, "queue.get", "buns", item="bun 1")])
    assert q.overconsumed() == ["bun 1"]


def test_get_before_put_arrives_is_not_a_duplicate() -> None:
    m = Model()
    m.apply([ev(2, 31, "queue.get", "q", item="x")])
    m.apply([ev(1, 30, "queue.put", "q", item="x")])
    assert m.prims["q"].overconsumed() == []
    assert m.prims["q"].unconsumed() == 0


def test_a_pools_lost_task_is_a_hang_once_every_worker_waits_for_a_task() -> None:
    m = Model()
    m.apply(
        [
            spawn(0, 1, "main", "main"),
            spawn(0, 11, "pool", "ForkPoolWorker-1"),
            spawn(0, 12, "pool", "ForkPoolWorker-2"),
            new(0, 1, "p", "pool", "pool"),
            ev(0.1, 11, "pool.wait_task", "p"),
            ev(0.1, 12, "pool.wait_task", "p"),
            ev(1, 1, "pool.task", "p", func="f", n=2),
            ev(1.1, 1, "pool.wait", "p"),
            ev(1.2, 11, "pool.got_task", "p"),
        ]
    )
    later = int(10 * S)
    assert find_anomalies(m, later) == [], "a worker works on it"
    m.apply([ev(2, 1, "pool.result", "p", ok=True, n=1), ev(2.1, 11, "pool.wait_task", "p")])
    assert find_anomalies(m, 2 * S + HANG_GRACE_NS - 1) == [], "a moment, not a hang"
    (lost,) = find_anomalies(m, later)
    assert lost.kind == "lost" and lost.pids == (1,)
    assert lost.text == (
        "hang: main (pid 1) waits for results from pool 'pool' that will never come: "
        "1 task out, and nobody works on them: every worker waits for a task"
    )


def test_a_pool_worker_still_in_its_initializer_will_ask_for_the_tasks_out() -> None:
    """Before: "nobody works on them: no worker is left" while both workers ran a slow initializer."""
    m = Model()
    m.apply(
        [
            spawn(0, 1, "main", "main"),
            new(0, 1, "p", "pool", "pool"),
            ev(0.1, 11, "proc.start", "ForkPoolWorker-1", role="pool", label="ForkPoolWorker-1", ppid=1, pool="p"),
            ev(1, 1, "pool.task", "p", func="f", n=2),
            ev(1.1, 1, "pool.wait", "p"),
        ]
    )
    assert m.prims["p"].starting == {11}
    assert find_anomalies(m, int(10 * S)) == [], "its worker is starting"
    m.apply([ev(2, 11, "proc.exit", "ForkPoolWorker-1", code=1)])
    (lost,) = find_anomalies(m, int(10 * S))
    assert lost.kind == "lost" and lost.text.endswith("nobody works on them: no worker is left")


def test_idle_pool_workers_count_as_blocked_only_when_their_pool_has_nothing_out() -> None:
    m = Model()
    m.apply(
        [
            spawn(0, 1, "main", "main"),
            spawn(0, 11, "pool", "worker"),
            new(0, 1, "p", "pool", "ex"),
            ev(0.1, 11, "pool.wait_task", "p"),
            ev(1, 1, "queue.get_blocked", "q"),
        ]
    )
    (hang,) = find_anomalies(m, int(10 * S))
    # (No stacks read here: the hang is said as a stall mpviz cannot be sure of yet.)
    assert hang.kind in ("hang", "stalled") and "worker (pid 11) waiting for a task from pool 'ex'" in hang.text
    m.apply([ev(2, 1, "pool.task", "p", func="f", n=1)])
    assert find_anomalies(m, int(10 * S)) == [], "the pool has a task out: the worker may get it"


def _barrier(join: bool = True, failed: tuple[int, ...] = (13,), target: str = "stage") -> Model:
    """Barrier(3): stage #0 and #1 wait there, stage #2 (and those ``failed``) failed before it,
    main joins the first (``join``, else it runs on); every live one's stacks read since."""
    m = Model()
    m.apply([spawn(0, 1, "main", "main"), new(0, 1, "b", "barrier", "b")])
    for pid in (11, 12, *failed):
        label = f"stage #{pid - 11}"
        m.apply([ev(0, pid, "proc.start", label, role="worker", label=label, ppid=1, target=target)])
    m.procs[11].target = m.procs[12].target = "stage"
    for pid in failed:
        m.apply([ev(0.5, pid, "proc.error", "", error="RuntimeError: no data"), ev(0.5, pid, "proc.exit", "", code=1)])
    m.apply([ev(1, 11, "barrier.wait", "b", n_waiting=0, parties=3), ev(1, 12, "barrier.wait", "b", parties=3)])
    if join:
        m.apply([ev(1, 1, "proc.join", "stage #0", child=11)])
    for pid in (1, 11, 12):
        m.apply(stacks_read(2, pid, running=pid == 1 and not join))
    return m


def test_a_barriers_party_that_failed_before_reaching_it_is_named_with_the_hang() -> None:
    hang, said = find_anomalies(_barrier(), int(10 * S))
    assert hang.kind == "hang" and said.kind == "pitfall"
    assert said.text.startswith(
        "pitfall: barrier 'b' needs 3 parties; stage #2 (pid 13) ended (RuntimeError: no data) before reaching it:"
        " the 2 at the barrier wait for ever. Fix: wait(timeout=…)"
    ) and said.text.endswith("(docs: multiprocessing.Barrier)")


def test_a_barriers_missing_party_is_not_guessed() -> None:
    """No party named while main runs on (it could start one yet), for a process of another
    function, or when more failed than parties are missing (which were parties?)."""
    assert [a.kind for a in find_anomalies(_barrier(join=False), int(10 * S))] == []
    for m in (_barrier(target="load"), _barrier(failed=(13, 14))):
        assert [a.kind for a in find_anomalies(m, int(10 * S))] == ["hang"], "the hang, and no more"


def test_starved_consumers_after_the_grace_period() -> None:
    m = Model()
    m.apply(
        [
            spawn(0, 30, "producer", "producer 0"),
            spawn(0, 31, "consumer", "consumer 0"),
            ev(1, 30, "queue.put", "buns", item="bun 0"),
            ev(2, 31, "queue.get", "buns", item="bun 0"),
            ev(3, 31, "queue.get_blocked", "buns"),
        ]
    )
    assert find_anomalies(m, int(10 * S)) == []  # the producer is alive
    m.apply([ev(4, 30, "proc.exit", "producer 0", code=0)])
    assert find_anomalies(m, 4 * S + HANG_GRACE_NS - 1) == []
    (hang,) = find_anomalies(m, 4 * S + HANG_GRACE_NS)
    assert hang.kind == "starved"
    assert hang.pids == (31,)
    assert m.procs[31].state == "blocked on get from 'buns'"
    # An end signal unblocks it.
    m.apply(
        [
            ev(5, 1, "queue.put", "buns", item="None", none=True),
            ev(5.1, 31, "queue.get", "buns", item="None", none=True),
        ]
    )
    assert find_anomalies(m, int(10 * S)) == []
    assert m.procs[31].phase is Phase.RUNNING


def test_exit_clears_waiting_but_keeps_holding() -> None:
    m = Model()
    m.apply(
        [
            ev(1, 10, "sem.acquired", "s"),
            ev(1, 11, "sem.wait", "s"),
            ev(2, 11, "proc.exit", "x", code=-15, signal="SIGTERM"),
        ]
    )
    assert not m.prims["s"].waiters
    assert m.procs[11].state == "killed by SIGTERM"
    m.apply([ev(3, 10, "proc.exit", "x", code=0)])
    assert list(m.prims["s"].holders) == [10]


def test_stats_and_history_are_bounded() -> None:
    m = Model()
    m.apply([spawn(0, 10, "w", "w")])
    for i in range(5000):
        m.apply_one(ev(1 + i / 1000, 10, "proc.state", "a" if i % 2 else "b"))
    m.apply_one(ev(10, 10, "proc.stats", cpu=12.5, rss=1 << 20, threads=3, status="sleeping"))
    p = m.procs[10]
    assert p.stats is not None and p.stats.cpu == 12.5 and p.stats.threads == 3
    assert len(p.history) <= 512
    assert len(m.log) <= 2000
    assert p.state == "a"


def test_words() -> None:
    assert describe(ev(1, 1, "sem.wait", "rooms", value=0, of=4)) == "waits for semaphore 'rooms' (value 0/4)"
    assert describe(ev(1, 1, "proc.exit", "x", code=-9, signal="SIGKILL")) == "killed by SIGKILL"
    assert (
        describe(ev(1, 1, "queue.put", "buns", item="None", none=True)) == "put 'None' into queue 'buns' (end signal)"
    )
    assert describe(ev(1, 1, "proc.state", "eating", item="bun 3")) == "eating (item=bun 3)"
    assert describe(ev(1, 1, "proc.stats", cpu=1)) is None
    assert describe(ev(1, 1, "pool.result", "p", ok=False, n=1, error="ValueError")) == (
        "got 1 failed result from pool 'p' (ValueError)"
    )
    assert describe(ev(1, 1, "pool.result", "p", ok=True, n=2)) == "got 2 results from pool 'p'"
    assert describe(ev(1, 1, "proc.terminate", "worker 2", child=9, signal="SIGKILL")) == "sends SIGKILL to worker 2"


def test_a_lines_seconds_are_the_floats_to_the_millisecond_ties_included() -> None:
    import random

    rng = random.Random(7)
    ties = [ms * 1_000_000 + 500_000 for ms in range(0, 3_000_000, 997)]
    for ns in [0, 1, 499_999, 500_001, 999_999_999, 10**13 + 123_456_789, -5, *ties] + [
        rng.randrange(10**12) for _ in range(20_000)
    ]:
        assert seconds(ns) == f"{ns / 1e9:8.3f}", ns


def test_words_said_once_follow_a_new_name_and_the_language() -> None:
    """The words of a primitive's record are made once and looked up after: a name given later
    and a language switched are still said."""
    model = Model()
    model.apply([ev(1, 7, "lock.acquired", "7.1"), ev(2, 7, "lock.acquired", "7.1")])
    assert model.line(ev(2, 7, "lock.acquired", "7.1")) == "   1.000        7  pid 7          acquired lock '7.1'"
    model.apply([new(3, 7, "7.1", "lock", "ticket"), ev(4, 7, "lock.acquired", "7.1")])
    assert model.line(ev(4, 7, "lock.acquired", "7.1")).endswith("acquired lock 'ticket'")
    lang.use("zh")
    try:
        assert model.line(ev(4, 7, "lock.acquired", "7.1")).endswith("获得了锁 'ticket'")
    finally:
        lang.use("en")
    assert model.line(ev(4, 7, "lock.acquired", "7.1")).endswith("acquired lock 'ticket'")


def test_time_in_a_phase_spans_changes_of_words() -> None:
    m = Model()
    m.apply(
        [
            ev(1, 10, "sem.acquired", "rooms"),
            ev(1, 10, "proc.state", "enters to sing"),
            ev(4, 10, "proc.state", "leaves"),
            ev(4.5, 10, "sem.released", "rooms"),
        ]
    )
    assert m.procs[10].time_in(Phase.HOLDING, int(9 * S)) == int(3.5 * S)
    assert m.procs[10].since_ns == int(4 * S), "the state in words changed at 4 s"


def test_verdicts_read_facts_kept_for_the_whole_run() -> None:
    """Ten thousand exchanges: far more than any display buffer keeps, and the verdict stays right."""
    from mpviz.lessons.chat.lesson import Chat
    from mpviz.lessons.chat.workers import Said

    m = Model()
    m.apply([spawn(0, 10, "client", "client 0"), spawn(0, 11, "connection", "conn 0")])
    n = 10_000
    for i in range(n):
        t = 1 + i / 1000
        m.apply(
            [
                ev(t, 10, "proc.state", Said.SENT, text=f"hello {i}", bytes=9),
                ev(t + 0.0001, 11, "proc.state", Said.RECEIVED, text=f"hello {i}", bytes=9),
                ev(t + 0.0002, 10, "proc.state", Said.GOT_REPLY, text=f"hello {i} (received)", matched=True),
            ]
        )
    m.apply([ev(20, 11, "proc.exit", "conn 0", code=0), ev(20, 10, "proc.exit", "client 0", code=0)])
    verdict = Chat.judge(m, {}, 21 * S, final=True)
    assert verdict.ok is True
    assert verdict.text.startswith(f"{n} of {n} lines answered; 1 connection opened, 1 closed")
    assert m.procs[11].facts[Said.RECEIVED].sums["bytes"] == 9 * n
    # One wrong reply among them is found, however long ago it came.
    m.apply([ev(0.5, 10, "proc.state", Said.GOT_REPLY, text="garbled", matched=False)])
    assert "1 reply did not match" in Chat.judge(m, {}, 21 * S, final=True).text


def test_a_lock_order_deadlock_is_named_with_both_processes_and_locks() -> None:
    m = Model()
    m.apply(
        [
            spawn(0, 40, "process", "alice"),
            spawn(0, 41, "process", "bob"),
            new(0.1, 1, "1.1", "lock", "fork_lock", site="dine.py:7"),
            new(0.1, 1, "1.2", "lock", "knife_lock", site="dine.py:8"),
            ev(1, 40, "lock.acquired", "1.1"),
            ev(1, 41, "lock.acquired", "1.2"),
            ev(2, 40, "lock.wait", "1.2"),
        ]
    )
    assert find_anomalies(m, 10 * S) == [], "alice waits, but bob may still release"
    m.apply([ev(3, 41, "lock.wait", "1.1")])
    (dead,) = find_anomalies(m, 3 * S)
    assert dead.kind == "deadlock" and set(dead.pids) == {40, 41}
    assert "alice (pid 40) holds 'fork_lock' and waits for 'knife_lock'" in dead.text
    assert "bob (pid 41) holds 'knife_lock' and waits for 'fork_lock'" in dead.text
    # One gives up (a timeout): no deadlock any more, but what could happen again is still named.
    m.apply([ev(4, 41, "lock.timeout", "1.1")])
    assert [a.kind for a in find_anomalies(m, 4 * S)] == ["potential"]


def test_five_philosophers_make_one_cycle_of_five() -> None:
    m = Model()
    for i in range(5):
        m.apply(
            [
                spawn(0, 50 + i, "philosopher", f"philosopher {i}"),
                new(0, 1, f"f{i}", "lock", f"fork {i}"),
            ]
        )
    m.apply([ev(1, 50 + i, "lock.acquired", f"f{i}") for i in range(5)])
    m.apply([ev(2, 50 + i, "lock.wait", f"f{(i + 1) % 5}") for i in range(5)])
    (dead,) = find_anomalies(m, 2 * S)
    assert dead.kind == "deadlock" and len(dead.pids) == 5
    assert all(f"'fork {i}'" in dead.text for i in range(5))


def test_a_semaphore_with_a_free_unit_is_no_deadlock() -> None:
    m = Model()
    m.apply([spawn(0, 60, "p", "a"), spawn(0, 61, "p", "b")])
    m.apply([new(0, 1, "s", "sem", "s", value=2), new(0, 1, "l", "lock", "l")])
    m.apply([ev(1, 60, "sem.acquired", "s", value=1, of=2), ev(1, 61, "lock.acquired", "l")])
    m.apply([ev(2, 60, "lock.wait", "l"), ev(2, 61, "sem.wait", "s", value=1, of=2)])
    assert not [a for a in find_anomalies(m, 2 * S) if a.kind == "deadlock"]
    m.apply([ev(3, 62, "sem.acquired", "s", value=0, of=2)])
    assert [a.kind for a in find_anomalies(m, 3 * S)] == []  # 62 holds a unit and is free to release it


def stacks_read(t: float, pid: int, running: bool = False) -> list[Event]:
    """The stacks of ``pid``'s one thread, read at ``t``: in the wait its records say (``running``: in
    a loop of its own)."""
    frames = [["/home/me/prog.py", 9, "<module>", "n += 1" if running else "e.wait()"]]
    return [
        ev(t, pid, "proc.stack", "", req=1, tid=pid, name="MainThread", frames=frames, by="self", running=running),
        ev(t, pid, "proc.stacks", "", req=1, threads=1),
    ]


def test_the_only_process_waiting_on_its_own_event_hangs() -> None:
    """The tutorial's second Event example: main waits on an event nobody else can set.

    Named a hang once its stacks, read after it began to wait, show no other thread
    that could set it; until then, no progress that mpviz cannot call a hang."""
    m = Model()
    m.apply([spawn(0, 70, "main", "main"), new(0, 70, "70.1", "event", "e")])
    m.apply([ev(1, 70, "event.wait", "70.1")])
    assert find_anomalies(m, 1 * S + HANG_GRACE_NS - 1) == []
    (stalled,) = find_anomalies(m, 1 * S + HANG_GRACE_NS)
    assert stalled.kind == "stalled" and stalled.text == (
        "no progress for 1 s: main (pid 70) on event 'e'"
        " — but the stacks of main (pid 70) are not read yet, so mpviz cannot tell it is a hang"
    )
    m.apply(stacks_read(2, 70))
    (hang,) = find_anomalies(m, 3 * S)
    assert (
        hang.kind == "hang"
        and hang.text == "hang: main (pid 70) waits forever on event 'e': no live process can set it"
    )


def test_every_live_process_blocked_is_a_hang_unless_one_is_paused() -> None:
    m = Model()
    m.apply([spawn(0, 80, "main", "main"), spawn(0, 81, "process", "child")])
    m.apply([ev(1, 80, "queue.get_blocked", "q"), ev(1, 81, "event.wait", "e")])
    m.apply([*stacks_read(2, 80), *stacks_read(2, 81)])
    (hang,) = find_anomalies(m, 5 * S)
    assert hang.kind == "hang" and hang.text.startswith("hang: all 2 live processes are blocked")
    m.apply([ev(3, 81, "proc.signal", "SIGSTOP")])
    assert find_anomalies(m, 10 * S) == []


def test_a_thread_that_could_still_act_keeps_it_from_being_a_hang() -> None:
    """Every wait recorded, but another thread of main sleeps: it may yet set the event."""
    m = Model()
    m.apply([spawn(0, 75, "main", "main"), new(0, 75, "75.1", "event", "e")])
    m.apply([ev(1, 75, "event.wait", "75.1"), *stacks_read(2, 75)[:1]])
    sleeping = [["/home/me/prog.py", 4, "later", "time.sleep(60)"]]
    m.apply(
        [
            ev(
                2, 75, "proc.stack", "", req=1, tid=76, name="setter", frames=sleeping, call="time.sleep(60)", by="self"
            ),
            ev(2, 75, "proc.stacks", "", req=1, threads=2),
        ]
    )
    assert m.procs[75].threads[76].phase is Phase.SLEEPING
    assert find_anomalies(m, 5 * S) == []


def test_a_waiter_whose_wake_up_may_still_be_on_its_way_is_not_hung() -> None:
    """A threading.Timer of main sets the event the child waits on, and ends; the child's wake-up, from
    its own ring, comes a moment later.  Before it did, every live process waited: called a hang
    (the child's wait began 4 s before, the Timer's set was not counted)."""
    m = Model()
    m.apply([spawn(0, 77, "main", "main"), spawn(0, 78, "process", "child"), new(0, 77, "77.1", "event", "e")])
    m.apply([ev(0.1, 77, "proc.join", "child", child=78), ev(0.1, 78, "event.wait", "77.1"), *stacks_read(0.2, 78)])
    m.apply([ev(4, 77, "proc.thread", "Thread-1", th=79), ev(4, 77, "event.set", "77.1", th=79)])
    m.apply([ev(4, 77, "proc.thread_end", "", th=79), *stacks_read(4.01, 77)])
    assert find_anomalies(m, 4 * S + HANG_GRACE_NS - 1) == []
    m.apply([ev(4.02, 78, "event.woke", "77.1", waited=True), ev(4.03, 78, "proc.exit", "child", code=0)])
    m.apply([ev(4.04, 77, "proc.joined", "child", child=78, ended=True)])
    assert find_anomalies(m, 10 * S) == []


def test_printed_lines_are_kept_per_process_and_in_order() -> None:
    m = Model()
    m.apply([spawn(0, 90, "main", "main"), ev(1, 90, "proc.output", "", stream="out", text="person 0 进来唱歌了")])
    assert m.procs[90].lines == 1
    assert [e.data["text"] for e in m.output] == ["person 0 进来唱歌了"]
    assert describe(m.output[0]) == "prints: person 0 进来唱歌了"


def test_condition_and_barrier_waiters() -> None:
    m = Model()
    m.apply(
        [
            spawn(0, 95, "p", "a"),
            spawn(0, 96, "p", "b"),
            new(0, 1, "b1", "barrier", "gate", parties=3),
        ]
    )
    m.apply([ev(1, 95, "barrier.wait", "b1", n_waiting=0, parties=3), ev(1, 96, "cond.wait", "c1")])
    assert list(m.prims["b1"].waiters) == [95] and m.prims["b1"].capacity == 3
    assert m.procs[95].state == "waiting at barrier 'gate' (1 of 3)"
    assert m.procs[96].state == "waiting on condition 'c1'"
    m.apply([ev(2, 95, "barrier.pass", "b1", index=0), ev(2, 96, "cond.woke", "c1")])
    assert m.procs[95].waiting_on is None and m.procs[96].waiting_on is None


def test_the_model_makes_no_import_circle() -> None:
    """No module of the model imports one that imports it back, not even for the type checker only."""
    graph = grimp.build_graph("mpviz", include_external_packages=False, exclude_type_checking_imports=False)
    modules = {"mpviz.model", *graph.find_descendants("mpviz.model")}
    circles = [
        (a, b)
        for a in sorted(modules)
        for b in sorted(graph.find_modules_directly_imported_by(a) & modules)
        if graph.chain_exists(importer=b, imported=a)
    ]
    assert circles == []


def test_an_end_told_again_in_a_batch_makes_no_line_whichever_record_of_the_batch_comes_last() -> None:
    """A child's end, told by itself, then by its parent's reaping (os.waitpid): the second makes no
    line, in the headless output or in the dashboard's log, even when other records follow it in
    the batch (before: only the batch's last such record was remembered, and the compact log,
    made from describe(), never asked: "closer exited" twice)."""
    m = Model()
    first, again = ev(1, 11, "proc.exit", "closer", code=0), ev(1.1, 11, "proc.exit", "", code=0)
    later = ev(1.2, 10, "proc.state", "working")
    m.apply([spawn(0, 10, "main", "main"), spawn(0, 11, "w", "closer"), first, again, later])
    assert not m.told_again(first) and m.told_again(again) and not m.told_again(later)
    assert m.line(first) is not None and m.line(again) is None


def test_a_record_applied_after_one_told_again_is_never_taken_for_it() -> None:
    """Records applied one by one (the headless run's way), each told-again one freed once applied:
    before, only its id was kept, and a later record given the same id (a printed line) lost its
    line."""
    m = Model()
    m.apply([spawn(0, 10, "main", "main"), spawn(0, 11, "w", "child")])
    m.apply_one(ev(1, 11, "proc.exit", "child", code=0))
    for i in range(2000):
        m.apply_one(ev(2 + i / 1000, 11, "proc.exit", "", code=0))  # told again, then freed
        line = ev(2 + i / 1000, 10, "proc.output", "", stream="out", text=f"line {i}")
        m.apply_one(line)
        assert not m.told_again(line) and m.line(line) is not None, i


def test_what_is_held_said_by_the_names_of_now_in_the_language_of_now() -> None:
    """The words for what a process holds are made once per set of primitives (reducer._holding):
    a primitive named after it was taken, or another language, makes them anew."""
    m = Model()
    m.apply([ev(1, 10, "lock.acquired", "L1"), ev(2, 10, "lock.acquired", "L2"), ev(3, 10, "lock.released", "L2")])
    assert m.procs[10].state == "holding 'L1'"  # before its prim.new: said by its id
    m.apply([new(4, 10, "L1", "lock", "books"), ev(5, 10, "lock.acquired", "L2")])
    assert m.procs[10].state == "holding 'books', 'L2'"
    m.apply([ev(6, 10, "lock.released", "L2")])
    assert m.procs[10].state == "holding 'books'"
    lang.use("zh")
    try:
        m.apply([ev(7, 10, "lock.acquired", "L2")])
        assert m.procs[10].state == "持有 'books', 'L2'"
    finally:
        lang.use("en")
    m.apply([ev(8, 10, "lock.released", "L2")])
    assert m.procs[10].state == "holding 'books'"
