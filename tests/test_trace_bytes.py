"""The trace of a recording, byte for byte what ``mpviz export`` wrote before it was made faster
(a file's sha256): every sample recording's, and a longer synthetic one's, with records out of order
and its events put in place with holes of any number (see mpviz.trace) or none."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest
from helpers.gallery import RECORDINGS

from mpviz import trace
from mpviz.insight import write_trace_of

# sha256 of each sample recording's trace, and of the synthetic one's, as the export wrote them
# before it was made faster (commit 1797583).
SAMPLES = {
    "chat": "991de61306f775814bd558c0825cb4344c209c9fba2cec641e982787693ec1a6",
    "event": "36a1049c6d40e7e225989184e7205028c7a9dfa0dc4d83f271298a7235ae0500",
    "ktv-program": "2a049207b6219450928010f3a67f00b26b15947ef9a4b34ab7f64d6a3da8bebe",
    "ktv": "0ca301271d27e307e908204d7f283cb3b4298e26b6e56d20a67b453874c3747e",
    "philosophers-waiter": "5a1b2d9153c7064be4c951b258e91cf233302c0707651114aab26f29e5abf969",
    "philosophers": "1a77b19d6d7bf0e14d191c859916041d01cfdfd62a5f239db1895446831bce57",  # a Lock held by the dead: another may release it
    "pingpong-race": "371495c07d97111a4e65c34ef60e8dbc3c8793cd452a440f134f07b5018c583e",
    "pingpong": "cd89c58d507a47cbef3f6f5a519a5c7fedbacbe968341ecffaee70a88c295d9f",
    "printlock": "6db8a90d6bd1e094026bd6ee54e760a6fd0130a7b6ef5b20cf45b78cfb8eb244",
    "prodcons-naive": "cf2cec27216d4d8c44cf1bfe67de90e9fdb80b83116a386ee1adbfb7e831e07b",
    "prodcons": "7f7ea537e85810cb63b0d6314786ea03c8a074122872e54d5be576d8ddf926ab",
    "queue": "c2350c904607d57ef1ad621fead35e889b8189b6876544b58bf584e0fe29d56c",
    "tickets-deadlock": "7246e8c86cf1ebf9645786af1e99ac492e53d76ea0837cca1fc19cc4bec9ffb9",  # its waiters named; a Lock another may release
    "tickets-oversold": "1104d1a6544c26560bcf204337cccfdf2d1d32135786ebd1598f2ef899030f80",
    "tickets": "593df4bcae88f357ab9494016eeec0e5287143055b31fa07781f6dd62bb15d33",
    "traffic": "5d84becb1378f50b0bdb571e14eb2b8a9b54d88437cdf93c28ace50eeee3cd59",
    "unfed-consumer": "20fa71474fcad479fbb7de2e966f04394a836782cb06035f67d0188443add8f8",  # its stall in words of its own
}
SYNTHETIC = "7cd448fbd73b58dcad8294d1b77ef5f3ae35b2caba194f44e1b366614eb8938f"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_trace_of_a_sample_recording_is_byte_for_byte_the_same(name: str, tmp_path: Path) -> None:
    out = tmp_path / "trace.json"
    write_trace_of(RECORDINGS / f"{name}.jsonl", out)
    assert _sha256(out) == SAMPLES[name]


@pytest.mark.parametrize(("settle", "most", "holes"), [(10_000, 100_000, False), (997, 100_000, False), (31, 50, True)])
def test_a_long_trace_is_byte_for_byte_the_same_whatever_its_holes(
    settle: int, most: int, holes: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trace, "SETTLE_EVENTS", settle)
    monkeypatch.setattr(trace, "MOST_WAITING", most)
    out = tmp_path / "trace.json"
    builder = write_trace_of(synthetic(tmp_path / "synthetic.jsonl", 20_000), out)
    assert (builder.slices, builder.arrows) == (12_508, 5_548)
    assert (builder.timed.holes > 0) is holes
    assert _sha256(out) == SYNTHETIC


def synthetic(path: Path, events: int) -> Path:
    """A KTV-like recording of about ``events`` records (8 rooms, 40 groups, stats rounds), every
    50th pair of records written in the wrong order (within the reader's window)."""
    groups, rooms = 40, 8
    pids = [20_000 + i for i in range(groups)]
    lines = [json.dumps({"mpviz": 1, "lesson": "ktv", "params": {"rooms": rooms, "groups": groups}})]
    records: list[list[object]] = []
    put = records.append
    for i, pid in enumerate(pids):
        put([i, pid, "proc.spawn", f"group {i}", {"role": "group", "label": f"group {i}"}])
    put([100, 1, "prim.new", "s1", {"kind": "sem", "name": "rooms", "value": rooms}])
    t, step = 1_000, 0
    inside: list[int] = []
    waiting: list[int] = []
    while len(records) < events:
        t += 199_997
        pid = pids[step % groups]
        step += 1
        if pid in inside:
            inside.remove(pid)
            put([t, pid, "sem.released", "s1", {"value": rooms - len(inside), "of": rooms}])
            if waiting:
                other = waiting.pop(0)
                inside.append(other)
                put([t + 1, other, "sem.acquired", "s1", {"value": rooms - len(inside), "of": rooms}])
        elif pid in waiting:
            put([t, pid, "proc.state", "still waiting", {}])
        elif len(inside) < rooms:
            inside.append(pid)
            put([t, pid, "sem.acquired", "s1", {"value": rooms - len(inside), "of": rooms}])
        else:
            waiting.append(pid)
            put([t, pid, "sem.wait", "s1", {"value": 0, "of": rooms}])
        if step % 1000 == 0:
            for other in pids:
                put([t, other, "proc.stats", "", {"cpu": 1.0, "rss": 20_000_000, "threads": 2}])
    for i in range(100, len(records) - 1, 50):
        records[i], records[i + 1] = records[i + 1], records[i]
    lines += [json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_time_is_written_as_the_shortest_form_of_its_microseconds() -> None:
    """``_us`` makes the text from the integer: the float's own repr, at every magnitude."""
    rng = random.Random(1)
    times = [0, 1, 999, 1000, 1001, 10**15 - 1, 10**15, 10**19, 2**63 - 1]
    times += [rng.randrange(10**digits) for digits in range(1, 20) for _ in range(2000)]
    assert [trace._us(ns) for ns in times] == [repr(ns / 1000) for ns in times]


def test_ctrl_c_in_an_export_stops_it_quietly_and_writes_nothing(tmp_path: Path) -> None:
    """Before: Python's KeyboardInterrupt traceback, from wherever the export was."""
    import signal
    import subprocess
    import sys
    import time

    recording = synthetic(tmp_path / "long.jsonl", 600_000)
    out = tmp_path / "trace.json"
    export = subprocess.Popen(
        [sys.executable, "-m", "mpviz", "export", str(recording), "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Interrupted once it is under way: a second of its CPU spent (of ten or so).
    import psutil

    deadline = time.monotonic() + 120
    while export.poll() is None and psutil.Process(export.pid).cpu_times().user < 1.0:
        assert time.monotonic() < deadline, "the export never got going"
        time.sleep(0.05)
    assert export.poll() is None, "the export ended before it could be interrupted"
    export.send_signal(signal.SIGINT)
    stdout, stderr = export.communicate(timeout=120)
    assert export.returncode == 130, stderr
    assert "Traceback" not in stderr and stdout == ""
    assert not out.exists()
