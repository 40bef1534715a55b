"""Recordings a hostile but fair user could hand to ``mpviz replay``, ``stats`` and ``export``:
refused with one line and exit code 2, or played with their bad lines counted and skipped;
never a traceback, a hang, or memory in proportion to the file."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest
from conftest import mpviz
from helpers.gallery import RECORDINGS

from mpviz.recording.reader import _DECODER, REORDER, Stream, check_event, decode_line, read_all
from mpviz.registry import lesson_class
from mpviz.telemetry import Malformed, wire
from mpviz.ui.sources import ReplaySource

KTV = '{"mpviz": 1, "lesson": "ktv"}'
TICKETS = '{"mpviz": 1, "lesson": "tickets"}'


def line(t: int, pid: int, kind: str, obj: str = "", **data: object) -> str:
    return json.dumps([t, pid, kind, obj, data])


START = line(1_000, 10, "proc.start", "main", role="main", label="main")

REFUSED = [
    ('{"mpviz": 1, "lesson": ["ktv"]}', 'line 1: lesson ["ktv"] is not what a recording holds'),
    ('{"mpviz": 1, "lesson": "ktv", "params": [1, 2]}', "line 1: params [1, 2] is not what a recording holds"),
    ('{"mpviz": 1, "lesson": "ktv", "params": {"rooms": 1000000}}', "line 1: --rooms must be at most 100, not 1000000"),
    ('{"mpviz": 1, "lesson": "ktv", "params": {"rooms": 1000000000}}', "--rooms must be at most 100"),
    (
        '{"mpviz": 1, "lesson": "ktv", "params": {"rooms": "four"}}',
        "line 1: --rooms must be a whole number, not 'four'",
    ),
    ('{"mpviz": 1, "lesson": "ktv", "params": {"rooms": 4.0}}', "line 1: --rooms must be a whole number, not 4.0"),
    ('{"mpviz": 1, "lesson": "traffic", "params": {"light": Infinity}}', "line 1 is not JSON"),
    ('{"mpviz": 1, "lesson": "prodcons", "params": {"naive": 1}}', "line 1: --naive must be true or false, not 1"),
    ('{"mpviz": 1, "lesson": "ktv", "speed": -1}', "line 1: speed -1 is not what a recording holds"),
    ("[" * 50_000, "line 1 is not JSON"),  # nested deeper than the parser goes
    ("[" * 100_000, "line 1 is too long"),
    (f"{KTV}\n{'[' * 50_000}", "line 2: not JSON"),
    (f"{KTV}\n{'[' * 100_000}", "line 2: longer than 64 KiB"),
    (f"{KTV}\n{START}\n{line(2_000, 10, 'proc.stats', rss='x')}", 'line 3: proc.stats rss "x" is not what it must be'),
    (f"{KTV}\n{START}\n" + '[2000, 10, "proc.stats", "", {"rss": Infinity}]', "line 3: not JSON"),
    (f"{KTV}\n{START}\n{line(2_000, 10, 'proc.stats', cpu=1e300)}", "line 3: proc.stats cpu 1e+300"),
    (f"{TICKETS}\n{START}\n{line(2_000, 10, 'data.value', 'ticket file', stock='y')}", "line 3: data.value stock"),
    (f"{TICKETS}\n{START}\n{line(2_000, 10, 'data.value', 'ticket file', stock={})}", "line 3: data.value stock {}"),
    (f"{KTV}\n{START}\n{line(2_000, 10, 'sem.acquired', 's', value='1')}", "line 3: sem.acquired value"),
    (f"{KTV}\n{START}\n{line(2_000, 10, 'proc.seen', feeders=[1, 'x'])}", "line 3: proc.seen feeders"),
    (f"{KTV}\n{START}\n{line(10**30, 10, 'proc.state', 'x')}", "line 3: time or pid out of range"),
    (f"{KTV}\n{START}\n{line(10**18, 10, 'proc.state', 'x')}", "line 3: a jump of"),
    (f"{KTV}\n{line(-5, 10, 'proc.state', 'x')}", "line 2: time or pid out of range"),
]


@pytest.mark.parametrize(("content", "message"), REFUSED, ids=[m[:40] for _, m in REFUSED])
def test_crafted_recordings_are_refused_with_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "crafted.jsonl"
    path.write_text(content + "\n")
    for command in (["replay"], ["stats"], ["export", "-o", str(tmp_path / "t.json")]):
        done = mpviz(*command[:1], str(path), *command[1:], timeout=60)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert done.stderr.count("\n") == 1 and message in done.stderr, (command, done.stderr)
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "t.json").exists(), "a refused export writes nothing"


def test_records_a_little_out_of_order_are_sorted(tmp_path: Path) -> None:
    """All times reversed (the 38-record case): within the window, so played in time order."""
    events = [line(1_000_000 * (40 - i), 10, "proc.state", f"step {40 - i}") for i in range(38)]
    path = tmp_path / "reversed.jsonl"
    path.write_text("\n".join([KTV, *events]) + "\n")
    _, stream = read_all(path)
    times = [e.t_ns for e in stream]
    assert len(times) == 38 and times == sorted(times)
    source = ReplaySource(path, at=100, frozen=True)
    assert len(source.read(0)) == 38


def test_a_record_far_behind_the_window_stops_with_its_line(tmp_path: Path) -> None:
    events = [line(1_000 + i, 10, "proc.state", "x") for i in range(REORDER + 10)]
    events.append(line(500, 10, "proc.state", "late"))
    path = tmp_path / "late.jsonl"
    path.write_text("\n".join([KTV, *events]) + "\n")
    _, stream = read_all(path)
    with pytest.raises(Malformed, match=f"line {REORDER + 12}: .* not in time order"):
        list(stream)
    done = mpviz("stats", str(path))
    assert done.returncode == 2 and f"line {REORDER + 12}" in done.stderr


def test_bad_lines_after_the_first_records_are_counted_and_skipped(tmp_path: Path) -> None:
    good = [line(1_000 + i, 10, "proc.state", "x") for i in range(2 * REORDER)]
    bad = ["not json", line(5_000, 10, "proc.stats", rss=-1), "[" * 100_000, "x" * 100_000]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([KTV, *good, *bad, line(6_000, 10, "proc.state", "y")]) + "\n")
    _, stream = read_all(path)
    assert len(list(stream)) == 2 * REORDER + 1
    assert stream.bad == 4 and stream.first_bad == f"line {2 * REORDER + 2}: not JSON"
    done = mpviz("stats", str(path))
    assert done.returncode == 0 and "4 bad lines skipped" in done.stderr
    source = ReplaySource(path, at=1, frozen=True)
    source.read(0)
    assert "4 bad lines skipped (the first at line" in source.problem


def test_a_fifo_and_a_device_are_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero"), tmp_path):
        for command in ("replay", "stats"):
            done = mpviz(command, str(path), timeout=30)  # no writer: a FIFO would block an open
            assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
            assert ": not a regular file" in done.stderr or "Is a directory" in done.stderr, done.stderr


def test_a_big_recording_is_never_read_whole(tmp_path: Path) -> None:
    """About 60 MB: without a terminal, the answer comes from its first records, in little memory."""
    path = tmp_path / "big.jsonl"
    record = line(0, 10, "proc.state", "x" * 100)
    with path.open("w") as f:
        f.write(KTV + "\n")
        block = "".join(record.replace("[0,", f"[{1000 + i},", 1) + "\n" for i in range(10_000))
        for _ in range(45):
            f.write(block)
    assert path.stat().st_size > 50 << 20
    command = [sys.executable, "-m", "mpviz", "replay", str(path)]
    proc = psutil.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    watcher = threading.Thread(target=lambda: proc.wait(60))
    watcher.start()
    while watcher.is_alive():
        try:
            peak = max(peak, proc.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        watcher.join(0.01)
    _, err = proc.communicate()
    assert proc.returncode == 2 and "needs a terminal" in err
    assert peak < 150 << 20, f"{peak >> 20} MB for a {path.stat().st_size >> 20} MB file"


def test_every_sample_recording_reads_clean() -> None:
    for path in RECORDINGS.glob("*.jsonl"):
        _, stream = read_all(path)
        assert len(list(stream)) > 10 and stream.bad == 0, path


def test_a_stream_goes_on_from_a_saved_position() -> None:
    path = RECORDINGS / "prodcons.jsonl"
    header, whole = read_all(path)
    everything = list(whole)
    header, stream = read_all(path)
    first = [next(stream) for _ in range(50)]
    position = stream.position()
    with path.open("rb") as f:
        rest = list(Stream(f, position, header.facts))
    assert first + rest == everything


DECODED = [
    "[1, 2]\n",
    "[1, 2]",
    " [1]\n",
    "\t[1]",
    "[1] x\n",
    "[1]\n\n",
    "[1] \n",
    "[1]\r\n",
    "[1][2]\n",
    "",
    "\n",
    "x",
    "[NaN]\n",
    "[Infinity]",
    "[1,\n",
    '["\\ud800"]\n',
    '{"a": 1, "a": 2}\n',
    "[1e400]\n",
    "[" * 50_000,
]


@pytest.mark.parametrize("text", DECODED, ids=range(len(DECODED)))
def test_a_line_decodes_as_the_json_decoder_decodes_it(text: str) -> None:
    """The shortcut to the C scanner gives the same value, or the same error, as the decoder."""

    def outcome(decode: Callable[[str], Any]) -> Any:
        try:
            return "value", decode(text)
        except (ValueError, RecursionError) as exc:
            return "error", type(exc), str(exc)

    assert outcome(decode_line) == outcome(_DECODER.decode)


def test_records_out_of_order_now_and_then_come_out_as_the_heap_gave_them(tmp_path: Path) -> None:
    """In order, out of order (a heap), in order again, and a position saved in each: every record
    in (time, line) order, resumed from any position."""
    rng = random.Random(7)
    times = list(range(1_000, 1_000 + 5 * REORDER))
    for i in rng.sample(range(len(times) - 20), 40):
        j = i + rng.randrange(1, 20)
        times[i], times[j] = times[j], times[i]
    times += [times[-1] + 1 + i // 3 for i in range(3 * REORDER)]  # in order again, with equal times
    events = [line(t, 10, "proc.state", f"line {n}") for n, t in enumerate(times, start=2)]
    path = tmp_path / "shuffled.jsonl"
    path.write_text("\n".join([KTV, *events]) + "\n")
    expected = [f"line {n}" for _, n in sorted((t, n) for n, t in enumerate(times, start=2))]
    header, stream = read_all(path)
    assert [e.obj for e in stream] == expected
    for at in (0, 1, 700, 2 * REORDER, len(times) - 2 * REORDER, len(times) - 5):
        header, stream = read_all(path)
        first = [next(stream).obj for _ in range(at)]
        with path.open("rb") as f:
            rest = [e.obj for e in Stream(f, stream.position(), header.facts)]
        assert first + rest == expected, at
        stream.close()


def test_facts_decide_only_a_data_value_record_as_before() -> None:
    """The lesson's facts are asked of ``data.value`` records only: the same verdicts as asking them
    of every record."""
    facts = lesson_class("tickets").facts

    def asked(value: Any) -> Any:  # the check as it was: the facts asked of every field
        def fact(kind: str, key: str, v: Any) -> bool | None:
            if kind != "data.value" or key not in facts:
                return None
            expected = facts[key]
            return type(v) in expected if isinstance(expected, tuple) else type(v) is expected

        return wire.check(value, fact)

    key = next(iter(facts))
    values = [
        [1, 2, "data.value", "ticket file", {key: "y"}],
        [1, 2, "data.value", "ticket file", {key: 1}],
        [1, 2, "data.value", "ticket file", {key: {}}],
        [1, 2, "data.value", "ticket file", {"other": "y"}],
        [1, 2, "proc.state", "x", {key: "y"}],
        [1, 2, "proc.state", "x", {key: {}}],
        [1, 2, "sem.acquired", "s", {"value": "1"}],
        [1, 2, "data.value", "x"],
        (1, 2, "data.value", "x", {key: 1}),
        "not a record",
    ]
    for value in values:
        got = []
        for check in (asked, lambda v: check_event(v, facts)):
            try:
                got.append(check(value))
            except Malformed as exc:
                got.append(str(exc))
        assert got[0] == got[1], value
