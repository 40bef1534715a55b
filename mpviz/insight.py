"""``mpviz stats``, ``mpviz export`` and ``--trace-out``: what a recording says about contention.

Each reads a recording once, as a stream (``mpviz.recording``), into a model.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from mpviz.files import written
from mpviz.model import Model
from mpviz.model.stats import contention, table
from mpviz.readahead import Ahead
from mpviz.recording.reader import Header, Stream, read_all
from mpviz.telemetry import Event
from mpviz.trace.builder import TraceBuilder

# A recording at least this big is read by a process of its own, on the other CPU (see
# mpviz.readahead); a smaller one here, as that process takes a tenth of a second to start.
AHEAD_BYTES = 8 * 1024 * 1024
# Objects made and not yet freed before the cycle collector runs, while a recording is read: each
# record makes a few that live a while (in the reader's window, the model's logs), and at the
# default (700) the collector ran every few hundred records, a tenth of an export.
READING_COLLECTS_AT = 20_000


def _read(path: Path, take: Callable[[Event], None]) -> tuple[Header, Stream | Ahead]:
    """Every record of the recording to ``take``; bad lines said on stderr."""
    header, stream = read_all(path)  # its header and first records checked here, whatever its size
    records: Stream | Ahead = stream
    if path.stat().st_size >= AHEAD_BYTES:
        try:
            ahead = Ahead(path)
        except OSError:
            pass  # no process to read it (no Python to start): read here
        else:
            stream.close()
            records = ahead
    before = gc.get_threshold()
    gc.set_threshold(READING_COLLECTS_AT, *before[1:])
    try:
        with contextlib.closing(records):
            for event in records:
                take(event)
    finally:
        gc.set_threshold(*before)
    if records.bad:
        print(
            f"mpviz: warning: {records.bad} bad lines skipped in {path} (the first at {records.first_bad})",
            file=sys.stderr,
        )
    return header, records


def stats(path: Path, as_json: bool) -> int:
    """The contention figures of a recording, as a table or one JSON object (keys in the README)."""
    model = Model()
    header, stream = _read(path, model.apply_one)
    figures = contention(model, model.last_ns)
    if as_json:
        kind = "program" if header.lesson is None else "lesson"
        print(json.dumps({kind: header.name, "records": model.applied, "bad_lines": stream.bad, **figures}, indent=2))
        return 0
    print(f"{header.name}: {figures['duration_s']:.1f} s, {model.applied} records")
    for line in table(figures):
        print(line)
    return 0


def export(path: Path, out: Path) -> int:
    """The recording as a Perfetto / Chrome trace in ``out``."""
    builder = write_trace_of(path, out)
    print(f"{out}: {builder.slices} slices, {builder.arrows} arrows; open it in ui.perfetto.dev or chrome://tracing")
    return 0


def write_trace_of(path: Path, out: Path) -> TraceBuilder:
    """Read the recording, write its trace to ``out`` (whole or not at all), in bounded memory."""
    builder = TraceBuilder()
    _read(path, builder.add)
    builder.finish()
    with written(out) as f:
        builder.write(f)
    return builder


@contextlib.contextmanager
def recording_for(args: Any) -> Iterator[Path]:
    """The run's recording: ``--record``'s file, or a temporary one (set on ``args``, removed after)."""
    if args.record is not None:
        yield args.record
        return
    fd, name = tempfile.mkstemp(prefix="mpviz-trace-", suffix=".jsonl")
    os.close(fd)
    args.record = Path(name)
    try:
        yield args.record
    finally:
        args.record.unlink(missing_ok=True)
