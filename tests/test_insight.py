"""Why it waits: the philosophers' deadlock named, contention figures of real runs, and their traces
checked against the trace event format's rules."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, load, mpviz
from helpers.gallery import RECORDINGS

from mpviz.registry import NAMES, lesson_class

# The lessons with a hand-over (a release that lets a waiter in, a put taken, a set() that wakes, a send received).
HANDOVERS = ("ktv", "tickets", "prodcons", "traffic", "pingpong", "philosophers")


def test_naive_philosophers_deadlock_and_mpviz_names_the_cycle_of_five() -> None:
    done = mpviz("run", "philosophers", "--headless", "--speed", "20", "--seed", "1", "--duration", "30")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr
    line = next(line for line in done.stdout.splitlines() if "mpviz" in line and "deadlock:" in line)
    for i in range(5):
        assert f"holds 'fork {i}'" in line and f"waits for 'fork {i}'" in line
        assert f"phil {i} (pid" in line
    ring = done.stdout[done.stdout.index(line) :].splitlines()[1:6]
    assert ring[0].lstrip() == "╭▶ phil 0 holds fork 0, waits for fork 1", ring
    assert ring[-1].lstrip() == "╰─ phil 4 holds fork 4, waits for fork 0", ring
    assert done.stdout.rstrip().splitlines()[-1].startswith("0 meals eaten; deadlock: ")


@pytest.mark.parametrize("fix", ["ordered", "waiter"])
def test_fixed_philosophers_never_deadlock(fix: str) -> None:
    done = mpviz("run", "philosophers", "--headless", "--speed", "20", "--seed", "1", "--duration", "30", "--fix", fix)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert not [line for line in done.stdout.splitlines() if "!  mpviz" in line], "no anomaly"
    assert done.stdout.rstrip().endswith("every philosopher ate 3, no deadlock: invariant held")


def test_stats_of_ktv_with_12_groups(tmp_path: Path) -> None:
    record = tmp_path / "ktv.jsonl"
    run = mpviz("run", "ktv", "--headless", "--groups", "12", "--speed", "10", "--seed", "1", "--record", str(record))
    assert run.returncode == 0, run.stderr
    assert "semaphore 'rooms'" in run.stdout, "headless ends with the contention table"
    done = mpviz("stats", str(record), "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["lesson"] == "ktv" and figures["bad_lines"] == 0
    (rooms,) = [p for p in figures["primitives"] if p["name"] == "rooms"]
    assert rooms["kind"] == "semaphore" and rooms["acquisitions"] == 12
    assert rooms["waits"] > 0 and rooms["wait"]["count"] == rooms["waits"]
    assert 0 < rooms["wait"]["p50_s"] <= rooms["wait"]["p99_s"] <= rooms["wait"]["max_s"]
    assert rooms["most_waiting"] >= 1 and rooms["hold"]["count"] == 12
    # Each process's split adds up to its lifetime, told from the records themselves.
    _, events = load(record)
    first: dict[int, int] = {}
    for event in events:
        first.setdefault(event.pid, event.t_ns)
    ends = {e.pid: e.t_ns for e in events if e.kind == "proc.exit"}
    groups = [p for p in figures["processes"] if p["role"] == "group"]
    assert len(groups) == 12
    for proc in groups:
        lifetime = (ends[proc["pid"]] - first[proc["pid"]]) / 1e9
        split = sum(proc["time_s"].values())
        assert abs(split - lifetime) <= 0.01 * lifetime, (proc, lifetime)
        assert proc["time_s"]["holding"] > 0 and set(proc["time_s"]) == {
            "running",
            "holding",
            "lock",
            "queue",
            "event",
            "sleeping",
            "elsewhere",
            "other",
        }
    assert sum(p["time_s"]["lock"] for p in groups) > 0
    table = mpviz("stats", str(record))
    assert table.returncode == 0 and table.stdout.splitlines()[2].startswith("semaphore 'rooms'")


# --- the trace event format -------------------------------------------------------------------


def check_trace(trace: Any) -> int:
    """Check a trace against the JSON trace event format's rules; the number of flow arrows."""
    assert isinstance(trace, dict) and isinstance(trace["traceEvents"], list)
    events = trace["traceEvents"]
    named = {e["pid"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    last: dict[tuple[int, int], int] = {}
    stacks: dict[tuple[int, int], list[int]] = defaultdict(list)
    flows: dict[int, dict[str, tuple[int, tuple[int, int]]]] = defaultdict(dict)
    for event in events:
        ph = event["ph"]
        assert ph in ("M", "X", "C", "i"), event
        assert type(event["pid"]) is int and event["pid"] >= 0 and type(event["tid"]) is int and event["tid"] >= 0
        assert isinstance(event["name"], str) and event["name"]
        if ph == "M":
            assert event["name"] in ("process_name", "thread_name") and isinstance(event["args"]["name"], str)
            continue
        assert isinstance(event["ts"], (int, float)) and math.isfinite(event["ts"]) and event["ts"] >= 0
        ts = round(event["ts"] * 1000)  # in ns, exactly: compared as integers
        track = (event["pid"], event["tid"])
        assert ts >= last.get(track, 0), f"times go back on track {track}: {event}"
        last[track] = ts
        if ph == "C":
            assert event["args"] and all(isinstance(v, (int, float)) for v in event["args"].values())
        elif ph == "i":
            assert event["s"] in ("g", "p", "t")
        else:  # X: a complete slice, properly nested in the slices open on its track
            assert event["pid"] in named, f"a slice of an unnamed process: {event}"
            assert isinstance(event["dur"], (int, float)) and event["dur"] >= 0
            end = ts + round(event["dur"] * 1000)
            stack = stacks[track]
            while stack and stack[-1] <= ts and not (stack[-1] == ts == end):
                stack.pop()
            assert not stack or end <= stack[-1], f"a slice overlaps its parent on track {track}: {event}"
            stack.append(end)
            if "bind_id" in event:
                ends = flows[event["bind_id"]]
                way = "out" if event.get("flow_out") else "in" if event.get("flow_in") else ""
                assert way and way not in ends, f"a flow with two {way} ends or none: {event}"
                ends[way] = (ts, track)
    for bind_id, ends in flows.items():
        assert set(ends) == {"out", "in"}, f"flow {bind_id} does not start and end on slices: {ends}"
        assert ends["out"][0] <= ends["in"][0], f"flow {bind_id} goes back in time"
    return len(flows)


def export(recording: Path, out: Path) -> tuple[Any, int]:
    done = mpviz("export", str(recording), "-o", str(out))
    assert done.returncode == 0, done.stderr
    trace = json.loads(out.read_text())
    return trace, check_trace(trace)


@pytest.mark.parametrize("lesson", NAMES)
def test_export_of_every_lesson_passes_the_format_checks(lesson: str, tmp_path: Path) -> None:
    arrows, kinds = 0, set()
    for sample in lesson_class(lesson).samples:
        trace, flows = export(RECORDINGS / f"{sample.name}.jsonl", tmp_path / f"{sample.name}.json")
        arrows += flows
        kinds |= {e["ph"] for e in trace["traceEvents"]}
    if lesson in HANDOVERS:
        assert arrows >= 1, f"{lesson}: no flow arrow in any sample"
        assert {"M", "X"} <= kinds


def test_a_trace_shows_waits_holds_counters_and_the_deadlock(tmp_path: Path) -> None:
    trace, _ = export(RECORDINGS / "tickets-deadlock.jsonl", tmp_path / "t.json")
    names = [e["name"] for e in trace["traceEvents"]]
    assert "waiting for lock 'ticket'" in names and "holding 'ticket'" in names
    assert any(e["ph"] == "i" and "deadlock: lock 'ticket' held by dead pid" in e["name"] for e in trace["traceEvents"])
    trace, _ = export(RECORDINGS / "ktv.jsonl", tmp_path / "k.json")
    counters = [e for e in trace["traceEvents"] if e["ph"] == "C" and e["name"] == "semaphore 'rooms'"]
    assert counters and min(c["args"]["value"] for c in counters) == 0
    release = [e for e in trace["traceEvents"] if e.get("flow_out") and e["name"] == "release 'rooms'"]
    assert release, "a release hands the room to a waiting group"


def test_trace_out_on_a_lesson_and_on_a_program(tmp_path: Path) -> None:
    out = tmp_path / "philosophers.json"
    done = mpviz("run", "philosophers", "--headless", "--fix", "waiter", "--speed", "20", "--trace-out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"trace of the run in {out}" in done.stderr
    assert check_trace(json.loads(out.read_text())) >= 1
    out = tmp_path / "deadlock.json"
    program = ROOT / "tests" / "programs" / "deadlock.py"
    done = mpviz("run", str(program), "--headless", "--trace-out", str(out), timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    trace = json.loads(out.read_text())
    check_trace(trace)
    assert any(e["ph"] == "i" and e["name"].startswith("deadlock: ") for e in trace["traceEvents"])
    refused = mpviz("run", "ktv", "--headless", "--trace-out", str(tmp_path))
    assert refused.returncode == 2 and refused.stderr == f"mpviz: error: cannot write {tmp_path}: Is a directory\n"
