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
# before it was made faster (commit 1797583).  The lessons' recordings were made again at aad75af
# (main's proc.idle), and event, printlock, prodcons and queue's once more for main's joins: theirs
# are the export's of those, the synthetic one's still the slow export's.
SAMPLES = {
    "chat": "81377124b5c36655cda6bf133753a89edb415f436eb92c84126b519b115364ce",
    "event": "ebc26a4df6e01c1d2b5e6707abd540fc7b8a4c8e1780e3e58d1b7bbe6b46705d",
    "ktv-program": "2a049207b6219450928010f3a67f00b26b15947ef9a4b34ab7f64d6a3da8bebe",
    "ktv": "235a742211dcdb6efa75adf32f805343e5281455691e01ee650aac47329a6efd",
    "philosophers-waiter": "3aa433405c330d35df807c1e2901a5bea59fb8581fa03c6eab3f63e83e0412d7",
    "philosophers": "2b91b9d39dca2c21073843b40259f3008ee12602b3572aee635d6d778a5846bd",  # a Lock held by the dead: another may release it
    "pingpong-race": "2bd46004a7fdbe6d31b029fe2f03317dbe33f5589e6b7d01b4e506a5620d8c3a",
    "pingpong": "33210404fef75fd9f6407125f4a55265e7d4b0a7d6b86eb4a1279468d7b894b4",
    "printlock": "8a3ed0014cdcf9f8d4f9596bcc8715242d329b5aac2e73ecb250eddaa7f999dd",
    "prodcons-naive": "424b394d8b094890c5d44dca1c4c7986a6e5960c83df8ab41b3a3e360c217f74",
    "prodcons": "79accd47adfb2917f6e32ded606d89fa453253e0dfebdb2a862f2391a754c5ae",
    "queue": "49f889321b3dd2e0fecededb51179a6af1e8526ed02a0a622245250398c08106",
    "tickets-deadlock": "2d05cc6ceafac00dd8227388b868cc332f65cdacefa4bc8fee2fd82936366f66",  # its waiters named; a Lock another may release
    "tickets-oversold": "03ab3c94f8b6dfeb5e103102acda245275dc88ead275a6ae69824ed1e9f244a3",
    "tickets": "997bd24c54c45415dd184d6fff338bdc7d2c09e3bb2fb99f051d1f6b941ed6bb",
    "traffic": "63e8c7b83baa12e32cb051bd7f40874b5229e2d6021aa703fec342ab4974793a",
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
