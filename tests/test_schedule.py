"""Schedules without processes: what would block, PCT's choices, a replay and where it diverges, shrinking,
the schedule file, and the scheduler's decisions fed records by hand."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from test_model import ev, new

from mpviz.runtime.scheduler import Scheduler, State, Turns, stopped
from mpviz.schedule import file as schedule_file
from mpviz.schedule.choice import Nobody, Offer, Option, Step, keep_going, signature, switches
from mpviz.schedule.pct import Pct
from mpviz.schedule.replay import Replay
from mpviz.schedule.shrink import candidates
from mpviz.schedule.world import World
from mpviz.telemetry import Event, Malformed, now_ns
from mpviz.telemetry.framing import BLOCKS, EXPIRE, GO, turn_answer


def ask(pid: int, op: str, obj: str = "", th: int = 0, **data: object) -> Event:
    facts: dict[str, object] = {"op": op, **data}
    if th:
        facts["th"] = th
    return ev(1, pid, "turn.ask", obj, **facts)


# --- what would block ----------------------------------------------------------------------------------


def test_the_world_knows_what_would_block() -> None:
    w = World()
    for prim_id, kind, facts in (
        ("L", "lock", {}),
        ("R", "rlock", {}),
        ("S", "sem", {"value": 1}),
        ("Q", "queue", {"maxsize": 1}),
        ("P", "pipe", {}),
        ("E", "event", {}),
        ("B", "barrier", {"parties": 2}),
    ):
        w.apply(new(0, 1, prim_id, kind, prim_id.lower(), **facts))
    w.apply(ev(0, 20, "proc.spawn", "c", label="c"))
    assert not any(w.blocks(ask(10, f"{f}.acquire", p)) for f, p in (("lock", "L"), ("rlock", "R"), ("sem", "S")))
    assert w.blocks(ask(10, "queue.get", "Q")) and not w.blocks(ask(10, "queue.put", "Q"))
    w.apply(ev(1, 11, "lock.acquired", "L"))
    w.apply(ev(1, 11, "rlock.acquired", "R"))
    w.apply(ev(1, 11, "sem.acquired", "S", value=0))
    assert w.blocks(ask(10, "lock.acquire", "L")) and w.blocks(ask(11, "lock.acquire", "L")), "a Lock blocks its holder"
    assert w.blocks(ask(10, "rlock.acquire", "R")) and not w.blocks(ask(11, "rlock.acquire", "R"))
    assert w.blocks(ask(10, "sem.acquire", "S"))
    assert not w.blocks(ask(10, "lock.acquire", "L", block=False)), "a try never blocks"
    w.apply(ev(2, 10, "lock.released", "L"))  # anyone may release a multiprocessing Lock
    assert not w.blocks(ask(10, "lock.acquire", "L"))
    w.apply(ev(2, 11, "queue.put", "Q"))
    assert not w.blocks(ask(10, "queue.get", "Q")) and w.blocks(ask(10, "queue.put", "Q")), "maxsize 1, full"
    assert w.blocks(ask(10, "queue.join", "Q"))
    w.apply(ev(3, 10, "queue.get", "Q"))
    w.apply(ev(3, 10, "queue.task_done", "Q"))
    assert w.blocks(ask(10, "queue.get", "Q")) and not w.blocks(ask(10, "queue.join", "Q"))
    w.apply(ev(4, 10, "pipe.send", "P", end=0))
    assert w.blocks(ask(10, "pipe.recv", "P", end=0)) and not w.blocks(ask(11, "pipe.recv", "P", end=1))
    assert w.blocks(ask(10, "event.wait", "E"))
    w.apply(ev(5, 10, "event.set", "E"))
    assert not w.blocks(ask(10, "event.wait", "E"))
    assert w.blocks(ask(10, "barrier.wait", "B")), "the first of two waits for the second"
    w.apply(ev(6, 10, "barrier.wait", "B", n_waiting=1, parties=2))
    assert not w.blocks(ask(11, "barrier.wait", "B")), "the last one passes"
    assert w.blocks(ask(10, "proc.join", "c", child=20))
    w.apply(ev(7, 20, "proc.exit", "c", code=0))
    assert not w.blocks(ask(10, "proc.join", "c", child=20))


# --- choosing --------------------------------------------------------------------------------------------


def offer(*options: tuple[str, str, bool], last: str | None = None) -> Offer:
    return Offer(tuple(Option(Step(who, op), may) for who, op, may in options), last, 0)


def test_pct_chooses_the_same_for_the_same_seed_and_run_and_only_who_may_go() -> None:
    def choices(seed: int, run: int) -> list[str | None]:
        pct = Pct(seed, depth=3)
        pct.start(run)
        made, last = [], None
        for _ in range(30):
            chosen = pct.choose(offer(("a", "x", True), ("b", "x", True), ("c", "x", False), last=last))
            made.append(chosen)
            last = chosen
        return made

    assert choices(1, 0) == choices(1, 0)
    assert "c" not in choices(1, 0)
    assert len({tuple(choices(1, run)) for run in range(20)}) > 1, "another run, another order"


def test_pct_lets_the_highest_go_until_a_change_point_or_a_sleep() -> None:
    pct = Pct(0, depth=1)  # no change point: a strict order
    pct.start(0)
    first = pct.choose(offer(("a", "x", True), ("b", "x", True)))
    other = "b" if first == "a" else "a"
    for _ in range(10):
        assert pct.choose(offer(("a", "x", True), ("b", "x", True), last=first)) == first
    # About to sleep: the others first.
    assert pct.choose(offer((first, "proc.sleep", True), (other, "x", True), last=first)) == other


def test_a_replay_follows_its_schedule_and_says_where_it_stops_fitting() -> None:
    steps = [Step("a", "x", "q", "p.py:3", "q.get()"), Step("b", "y"), Step("a", "x")]
    replay = Replay(steps)
    first = Offer((Option(steps[0], True), Option(Step("b", "y"), True)), None, 0)
    assert replay.choose(first) == "a"
    moved = Offer((Option(Step("a", "x", "q", "p.py:9", "q.get()"), True),), None, 0)
    assert Replay(steps).choose(moved) == "a", "the same line moved: it still fits"
    changed = Offer((Option(Step("a", "x", "q", "p.py:3", "q.get(timeout=1)"), True),), None, 0)
    edited = Replay(steps)
    assert edited.choose(changed) == "a", "the only one that may go"
    assert (
        edited.diverged
        == "step 1: the schedule says a goes, about to x 'q' at p.py:3, but that line is now q.get(timeout=1)"
    )
    assert replay.choose(offer(("a", "x", True), ("b", "z", True), last="a")) == "a", "b's op differs: a goes on"
    assert replay.diverged == "step 2: the schedule says b goes, about to y, but it is about to z"
    loose = Replay(steps, strict=False)
    loose.choose(offer(("a", "x", True), ("b", "z", True)))
    assert loose.choose(offer(("a", "x", True), ("b", "z", True), last="a")) == "b" and not loose.diverged
    gone = Replay([Step("c", "x")])
    assert gone.choose(offer(("a", "x", True))) == "a"
    assert gone.diverged == "step 1: the schedule says c goes, about to x, but c is not waiting at a point"
    assert keep_going(offer(("a", "x", True), ("b", "x", True), last="b")) == "b"
    assert keep_going(offer(("a", "x", True), ("b", "x", False), last="b")) == "a"
    assert Nobody().choose(offer(("a", "x", True))) is None


def test_shrinking_tries_shorter_schedules_with_fewer_switches_first() -> None:
    steps = [Step(w, "x") for w in "aabab"]
    assert switches(steps) == 3
    tried = list(candidates(steps))
    assert [len(c) for c in tried[:3]] == [2, 3, 4], "cut after each switch, the shortest first"
    assert ["".join(s.who for s in c) for c in tried[3:]] == ["aabaa", "aabbb", "aaaab"], (
        "each switch undone, the last first"
    )
    assert signature(steps) == signature(list(steps)) != signature(steps[::-1])


# --- the file ----------------------------------------------------------------------------------------------


def test_a_schedule_file_round_trip_and_a_recording_read_as_one(tmp_path: Path) -> None:
    steps = [Step("main", "proc.start", "w #0", "p.py:9", "p.start()"), Step("w #0", "proc.run", "w #0", "p.py:3")]
    path = tmp_path / "s.schedule"
    schedule_file.write(
        path, {"lesson": "tickets", "params": {"no_lock": True}, "seed": 3, "virtual_time": True}, steps
    )
    read = schedule_file.read(path)
    assert read.steps == steps and read.seed == 3 and read.virtual_time and read.header.name == "tickets"
    assert read.header.params["no_lock"] is True
    recording = tmp_path / "r.jsonl"
    go = {"who": "main", "op": "proc.start", "what": "w #0", "at": "p.py:9", "code": "p.start()", "step": 1}
    recording.write_text(
        json.dumps({"mpviz": 1, "program": "p.py", "argv": ["p.py"]})
        + "\n"
        + json.dumps([1, 10, "proc.start", "", {}])
        + "\n"
        + json.dumps([2, 10, "turn.go", "", go])
        + "\n"
    )
    assert schedule_file.read(recording).steps == steps[:1]
    recording.write_text(
        json.dumps({"mpviz": 1, "program": "p.py"}) + "\n" + json.dumps([2, 10, "turn.go", "", {"who": 1}]) + "\n"
    )
    with pytest.raises(Malformed, match=r"line 2: turn\.go who 1 is not what it must be"):
        schedule_file.read(recording)


# --- the scheduler, fed by hand ------------------------------------------------------------------------------


def test_the_scheduler_lets_one_go_when_nobody_runs_and_nobody_is_on_its_way() -> None:
    sent: list[tuple[int, bytes]] = []
    posted: list[Event] = []
    # Pids of processes that do not exist: their end needs no waiting for.
    a, b = 2**22 + 11, 2**22 + 12
    s = Scheduler(Turns(Nobody()), lambda pid, req: sent.append((pid, req)) or True, posted.append, here=1)
    s.records([new(0, a, "L", "lock", "lock"), ev(0, a, "proc.spawn", "a", label="a", ppid=1)], [])
    assert s.expected == {a: s.expected[a]}
    s.records([ask(a, "lock.acquire", "L", n=1)], [])
    assert s.offer is not None and [o.who for o in s.offer.options] == ["a"] and s.offer.options[0].enabled
    s.records([ev(0, b, "proc.spawn", "b", label="b", ppid=1)], [])
    assert s.offer is not None, "b is on its way: the offer stands (nobody chooses yet)"
    s.records([ask(b, "lock.acquire", "L", n=1)], [])
    assert s.go("a") and sent == [(a, turn_answer(GO, 1))]
    assert not s.go("b"), "a runs: nobody else may"
    s.records([ev(2, a, "lock.acquired", "L"), ask(a, "proc.sleep", n=2, s=1.0)], [])
    assert s.offer is not None and [(o.who, o.enabled) for o in s.offer.options] == [("a", True), ("b", False)]
    assert [p.kind for p in posted] == ["turn.offer", "turn.offer", "turn.go", "turn.offer"], "b came: a new offer"
    assert posted[2].pid == a and posted[2].data["who"] == "a" and posted[2].data["step"] == 1
    s.records([], [a])  # a ended, holding the lock: b can never go
    assert s.entities[(a, a)].state is State.ENDED
    assert s.stuck_since is not None and sent[-1] == (b, turn_answer(BLOCKS, 1)), "let go into its wait"
    assert [step.who for step in s.stuck] == ["b"] and [step.who for step in s.steps] == ["a"]


def test_a_timed_wait_that_would_block_times_out_at_once_and_a_sleep_in_virtual_time_waits_its_turn() -> None:
    sent: list[tuple[int, bytes]] = []
    a, b = 2**22 + 21, 2**22 + 22
    s = Scheduler(
        Turns(Nobody(), virtual_time=True), lambda pid, req: sent.append((pid, req)) or True, lambda e: None, 1
    )
    s.records(
        [new(0, a, "E", "event", "e"), ask(a, "event.wait", "E", n=1, timeout=2.0), ask(b, "proc.sleep", n=1, s=1.0)],
        [],
    )
    assert s.offer is not None and [o.enabled for o in s.offer.options] == [False, True], "time is on to b's end, 1 s"
    assert s.vnow == 1.0 and s.go(f"pid {b}")
    s.records([ask(b, "proc.sleep", n=2, s=5.0)], [])
    assert s.vnow == 2.0 and s.go(f"pid {a}") and sent[-1] == (a, turn_answer(EXPIRE, 1)), "a's wait timed out first"


def test_a_paused_process_let_go_does_not_run_free_while_it_is_paused() -> None:
    """A process paused by a key (SIGSTOP) in step mode and then let go: its time to come back to a point
    runs only once it is resumed."""
    child = subprocess.Popen(["sleep", "60"])
    try:
        s = Scheduler(Turns(Nobody(), step_timeout=0.5), lambda pid, req: True, lambda e: None, here=1)
        s.records(
            [ev(0, child.pid, "proc.spawn", "a", label="a", ppid=1), ask(child.pid, "proc.sleep", n=1, s=1.0)], []
        )
        os.kill(child.pid, signal.SIGSTOP)
        deadline = time.monotonic() + 10
        while not stopped(child.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert s.go("a") and s.entities[(child.pid, child.pid)].state is State.RUNNING
        s._timeouts(now_ns() + 10**10)
        assert s.entities[(child.pid, child.pid)].state is State.RUNNING and not s.notes, "paused: not late"
        os.kill(child.pid, signal.SIGCONT)
        while stopped(child.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        s._timeouts(now_ns() + 2 * 10**10)  # (the pause renewed its time: later still)
        assert s.entities[(child.pid, child.pid)].state is State.FREE and "runs free" in s.notes[-1].text
    finally:
        child.kill()
        child.wait()
