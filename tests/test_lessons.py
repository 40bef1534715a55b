"""The lessons run for real (headless, recorded); each invariant is checked from the event log."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from conftest import load, mpviz, none_alive, prim_id

from mpviz.telemetry import Event


def run(tmp_path: Path, *args: str) -> tuple[int, str, list[Event]]:
    record = tmp_path / "run.jsonl"
    done = mpviz("run", *args, "--headless", "--record", str(record))
    assert done.stderr == ""
    header, events = load(record)
    assert header["lesson"] == args[0]
    assert none_alive({e.pid for e in events if e.kind == "proc.spawn"}), "no lesson process outlives the run"
    return done.returncode, done.stdout, sorted(events, key=lambda e: e.t_ns)


def states(events: list[Event], words: str) -> list[Event]:
    return [e for e in events if e.kind == "proc.state" and e.obj == words]


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_ktv_never_more_groups_inside_than_rooms(tmp_path: Path, method: str) -> None:
    code, out, events = run(
        tmp_path, "ktv", "--groups", "9", "--rooms", "3", "--speed", "10", "--seed", "3", "--start-method", method
    )
    inside, most = set(), 0
    for e in events:
        if e.kind == "sem.acquired":
            inside.add(e.pid)
            most = max(most, len(inside))
        elif e.kind == "sem.released":
            inside.discard(e.pid)
    assert most == 3, "the rooms fill up: nine groups, three rooms"
    sang = {e.pid for e in states(events, "enters to sing")}
    groups = {e.pid for e in events if e.kind == "proc.spawn" and e.data["role"] == "group"}
    assert len(groups) == 9 and sang == groups, "every group sang"
    waited = {e.pid for e in events if e.kind == "sem.wait"}
    assert waited, "some groups had to wait at the door"
    assert code == 0
    assert "9 of 9 groups sang; at most 3 inside at once (rooms: 3): invariant held" in out
    # Main (the dashboard's process) started every group: then it waits for keys, it does not run.
    main = next(e.pid for e in events if e.kind == "proc.start" and e.obj == "main")
    idle = [e for e in events if e.kind == "proc.idle" and e.pid == main]
    last_spawn = max(e.t_ns for e in events if e.kind == "proc.spawn")
    assert len(idle) == 1 and idle[0].t_ns >= last_spawn and idle[0].data == {"keys": False}, "headless: no keys"


def test_traffic_every_pass_follows_a_set(tmp_path: Path) -> None:
    # The tutorial's light flips every 2 s, on the same grid as the cars'
    # arrivals, so whether a car meets red is a race.  A 3-second light is off
    # that grid; with seed 1, four of six cars arrive a full second into a red
    # (a quarter of a second at speed 4: a loaded machine may start one late).
    code, out, events = run(tmp_path, "traffic", "--cars", "6", "--light", "3", "--speed", "4", "--seed", "1")
    light = prim_id(events, "light")
    sets = [e.t_ns for e in events if e.kind == "event.set" and e.obj == light]
    passes = states(events, "passes the crossing")
    assert len(passes) == 6
    assert all(any(s < p.t_ns for s in sets) for p in passes)
    waited = {e.pid for e in events if e.kind == "event.wait" and e.obj == light}
    assert waited, "cars that meet a red light wait"
    assert waited == {e.pid for e in states(events, "waiting at the red light")}
    # A car that waited woke only after a set.
    for woke in (e for e in events if e.kind == "event.woke" and e.data.get("waited")):
        assert any(s < woke.t_ns for s in sets)
    assert code == 0
    assert "6 of 6 cars passed" in out and "invariant held" in out
    # Main sleeps between arrivals, as the tutorial's does: asleep then, each sleep ended, before each car.
    main = next(e.pid for e in events if e.kind == "proc.start" and e.obj == "main")
    naps = [e.kind for e in events if e.pid == main and e.kind in ("proc.sleep", "proc.slept")]
    assert naps and naps == ["proc.sleep", "proc.slept"] * (len(naps) // 2)
    cars = [e.t_ns for e in events if e.kind == "proc.spawn" and e.data["role"] == "car"]
    slept = [e.t_ns for e in events if e.pid == main and e.kind == "proc.slept"]
    assert all(any(t <= car for t in slept) for car in cars[1:])


def test_prodcons_every_item_consumed_once_and_consumers_exit(tmp_path: Path) -> None:
    # Two producers, three consumers: main sends the end signals (the tutorial's closing remark).
    code, out, events = run(
        tmp_path,
        "prodcons",
        "--producers",
        "2",
        "--consumers",
        "3",
        "--items",
        "6",
        "--speed",
        "10",
        "--end-by",
        "main",
    )
    put = Counter(e.data["item"] for e in events if e.kind == "queue.put" and not e.data["none"])
    got = Counter(e.data["item"] for e in events if e.kind == "queue.get" and not e.data["none"])
    assert sum(put.values()) == 12
    assert put == got
    pills = [e for e in events if e.kind == "queue.get" and e.data["none"]]
    consumers = {e.pid for e in events if e.kind == "proc.spawn" and e.data["role"] == "consumer"}
    assert {e.pid for e in pills} == consumers, "each consumer received one end signal"
    exits = {e.pid: e.data["code"] for e in events if e.kind == "proc.exit"}
    assert all(exits[pid] == 0 for pid in consumers)
    # The end signals were sent only after every producer had finished.
    producers = {e.pid for e in events if e.kind == "proc.spawn" and e.data["role"] == "producer"}
    last_producer_exit = max(e.t_ns for e in events if e.kind == "proc.exit" and e.pid in producers)
    assert all(e.t_ns > last_producer_exit for e in events if e.kind == "queue.put" and e.data["none"])
    assert code == 0
    assert "every item eaten exactly once and every consumer exited: invariant held" in out


def test_naive_prodcons_hang_is_detected_and_children_stopped(tmp_path: Path) -> None:
    code, out, events = run(tmp_path, "prodcons", "--naive", "--items", "3", "--speed", "10", "--duration", "60")
    assert code == 1
    assert "hang: 1 consumer blocked on get from empty queue 'buns' and no producer left" in out
    consumer = next(e.pid for e in events if e.kind == "proc.spawn" and e.data["role"] == "consumer")
    said = ("proc.stats", "proc.stack", "proc.stacks")  # (its stacks, printed with the hang)
    last = [e.kind for e in events if e.pid == consumer and e.kind not in said][-2:]
    assert last == ["queue.get_blocked", "proc.exit"]
    assert "stacks of consumer 0" in out
    assert not any(e.kind == "queue.put" and e.data["none"] for e in events), "the naive version sends no end signal"


def test_duration_cuts_a_run_short_without_calling_it_broken(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "ktv", "--groups", "3", "--duration", "0.5")
    assert code == 0
    assert "stopped before the lesson finished: no invariant broken so far" in out


def test_headless_lines_read_like_the_tutorial(tmp_path: Path) -> None:
    _, out, _ = run(tmp_path, "ktv", "--groups", "2", "--speed", "20")
    lines = out.splitlines()
    assert any(line.split()[2:4] == ["group", "0"] and line.endswith("enters to sing") for line in lines)
    assert any("acquired semaphore 'rooms' (value" in line for line in lines)
    end = next(i for i, line in enumerate(lines) if line.startswith("--- ktv: "))
    # Then the contention table (a primitive, a line per process), then the verdict.
    assert lines[end + 1].startswith("lock / semaphore / condition") and lines[end + 2].startswith("semaphore 'rooms'")
    assert lines[end + 3].startswith("process") and len(lines) == end + 4 + 3 + 1


def test_list_names_every_lesson() -> None:
    done = mpviz("list")
    assert done.returncode == 0
    names = [line.split()[0] for line in done.stdout.splitlines()]
    assert names[:3] == ["ktv", "traffic", "prodcons"]
    assert {"event", "queue"} <= set(names)
