"""A recording read by a process of its own (``mpviz.readahead``): the same records, bad
lines and errors as read here; the process gone when its reader stops, and said when it dies."""

from __future__ import annotations

import hashlib
import json
import signal
from pathlib import Path

import pytest
from helpers.gallery import RECORDINGS

from mpviz import insight, readahead
from mpviz.insight import write_trace_of
from mpviz.readahead import Ahead
from mpviz.recording.reader import REORDER, read_all
from mpviz.telemetry import Malformed

KTV = '{"mpviz": 1, "lesson": "ktv"}'


def line(t: int, pid: int, kind: str, obj: str = "", **data: object) -> str:
    return json.dumps([t, pid, kind, obj, data])


def test_the_records_bad_lines_and_all_are_those_read_here(tmp_path: Path) -> None:
    """Several batches, records a little out of order, bad lines among them."""
    lines = [KTV]
    for i in range(3 * readahead.BATCH):
        lines.append(line(1_000 + i - (i % 7) * 3, 10 + i % 5, "proc.state", f"step {i % 11}", n=i, ok=i % 2 == 0))
        if i % 1500 == 1499:
            lines += ["not json", line(5_000, 10, "proc.stats", rss=-1)]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    _, stream = read_all(path)
    here = list(stream)
    read = Ahead(path)
    try:
        there = list(read)
    finally:
        read.close()
    assert there == here and [type(e) for e in there[:3]] == [type(e) for e in here[:3]]
    assert len(there) == 3 * readahead.BATCH
    assert (read.bad, read.first_bad) == (stream.bad, stream.first_bad) == (8, "line 1502: not JSON")


def test_a_recording_that_stops_being_one_stops_it_with_the_same_reason(tmp_path: Path) -> None:
    events = [line(1_000 + i, 10, "proc.state", "x") for i in range(REORDER + 10)]
    events.append(line(500, 10, "proc.state", "late"))
    path = tmp_path / "late.jsonl"
    path.write_text("\n".join([KTV, *events]) + "\n")
    read = Ahead(path)
    try:
        with pytest.raises(Malformed, match=f"^line {REORDER + 12}: .* not in time order$"):
            list(read)
    finally:
        read.close()


def test_the_process_ends_when_its_reader_stops_early(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    path.write_text(
        "\n".join([KTV, *(line(1_000 + i, 10, "proc.state", "x") for i in range(20 * readahead.BATCH))]) + "\n"
    )
    read = Ahead(path)
    records = iter(read)
    assert next(records).t_ns == 1_000
    read.close()
    assert read._proc.returncode is not None


def test_a_process_that_dies_is_said(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    path.write_text(
        "\n".join([KTV, *(line(1_000 + i, 10, "proc.state", "x") for i in range(20 * readahead.BATCH))]) + "\n"
    )
    read = Ahead(path)
    records = iter(read)
    next(records)
    read._proc.send_signal(signal.SIGKILL)
    try:
        with pytest.raises(OSError, match=r"ended before the end \(exit code -9\)"):
            list(records)
    finally:
        read.close()


@pytest.mark.parametrize("name", ["ktv", "philosophers", "prodcons", "tickets-deadlock"])
def test_a_trace_read_ahead_is_byte_for_byte_the_one_read_here(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here, there = tmp_path / "here.json", tmp_path / "there.json"
    write_trace_of(RECORDINGS / f"{name}.jsonl", here)
    monkeypatch.setattr(insight, "AHEAD_BYTES", 0)
    builder = write_trace_of(RECORDINGS / f"{name}.jsonl", there)
    assert builder.model.applied > 10
    _, records = insight._read(RECORDINGS / f"{name}.jsonl", lambda _: None)
    assert isinstance(records, Ahead)
    assert hashlib.sha256(there.read_bytes()).digest() == hashlib.sha256(here.read_bytes()).digest()


def test_without_a_python_to_start_the_recording_is_read_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(insight, "AHEAD_BYTES", 0)
    monkeypatch.setattr(readahead.sys, "executable", str(tmp_path / "no-python"))
    _, records = insight._read(RECORDINGS / "ktv.jsonl", lambda _: None)
    assert not isinstance(records, Ahead) and not records.bad
    here = tmp_path / "here.json"
    assert write_trace_of(RECORDINGS / "ktv.jsonl", here).model.applied > 10
