"""A recording's index: the model at any moment of it, fast, from checkpoints a thread keeps as it scans.

The file is never read whole.  :class:`Index` scans it once, in a thread of
its own, applying every record to a model of its own and keeping a
checkpoint every ``every`` records: that model and the stream's position,
pickled (in memory: nothing pickled is ever read from a file) and
compressed.  :meth:`Recording.moment` restores the last checkpoint before a
moment and applies the records up to it: at most ``every`` records, however
long the recording.  When the checkpoints grow past
``MAX_CHECKPOINTS`` or ``MAX_BYTES``, every other one is dropped and
``every`` doubles: memory stays bounded whatever the file's size.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import pickle
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mpviz.model import Model
from mpviz.recording.reader import (
    MAX_GAP_NS,
    MAX_RECORD_LINE,
    Header,
    Position,
    Stream,
    check_event,
    open_regular,
    read_header,
)
from mpviz.telemetry import Malformed

CHECKPOINT_EVERY = 1000
MAX_CHECKPOINTS = 1024
MAX_BYTES = 64 << 20
# How much of the file's end is read to guess where the recording ends before the scan gets there.
TAIL_BYTES = 64 << 10


@contextlib.contextmanager
def _no_collections() -> Iterator[None]:
    """No cyclic garbage collection for a moment (a seek: well under a second), then as before."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


_gc_lock = threading.Lock()
_gc_users = 0
_gc_thresholds = gc.get_threshold()


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """The cyclic garbage collector, rarely: a model churns through many small objects, and
    pickling one makes many more; with the default thresholds, full collections of everything
    the process holds took most of a scan's time.  (Process-wide; the old thresholds come back.)"""
    with _gc_lock:
        global _gc_users, _gc_thresholds
        if not _gc_users:
            _gc_thresholds = gc.get_threshold()
            gc.set_threshold(50_000, 20, 20)
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if not _gc_users:
                gc.set_threshold(*_gc_thresholds)


@dataclass(frozen=True)
class Checkpoint:
    t_ns: int  # the time of the last record applied (0: none yet)
    applied: int  # records applied
    blob: bytes  # zlib(pickle((model, position)))

    @classmethod
    def take(cls, model: Model, position: Position, t_ns: int, applied: int) -> Checkpoint:
        return cls(t_ns, applied, zlib.compress(pickle.dumps((model, position), pickle.HIGHEST_PROTOCOL), 1))

    def restore(self) -> tuple[Model, Position]:
        model, position = pickle.loads(zlib.decompress(self.blob))
        return model, position


class Index:
    """Checkpoints along a recording, made by :meth:`scan` (in a thread), used by ``Recording.moment``."""

    def __init__(self, path: Path, header: Header) -> None:
        self.path = path
        self.header = header
        self.every = CHECKPOINT_EVERY
        self._checkpoints = [Checkpoint.take(Model(), Stream.start_position(header), 0, 0)]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # What the scan found: how far it got, where the recording ends, what was wrong.
        self.covered_ns = 0
        self.records = 0
        self.done = False
        self.error = ""
        self.bad = 0
        self.first_bad = ""

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self.scan, name="mpviz-replay-index", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def scan(self) -> None:
        """Read the recording to its end, keeping checkpoints; the end, or what stopped it, is kept."""
        model = Model()
        with _fewer_collections(), open_regular(self.path) as f:
            stream = Stream(f, Stream.start_position(self.header), self.header.facts)
            try:
                for event in stream:
                    if self._stop.is_set():
                        return
                    model.apply_one(event)
                    self.records += 1
                    self.covered_ns = event.t_ns
                    self.bad, self.first_bad = stream.bad, stream.first_bad
                    if self.records % self.every == 0:
                        self._keep(Checkpoint.take(model, stream.position(), event.t_ns, self.records))
            except Malformed as exc:
                self.error = str(exc)
            self.bad, self.first_bad = stream.bad, stream.first_bad
            self.done = True

    def _keep(self, checkpoint: Checkpoint) -> None:
        with self._lock:
            self._checkpoints.append(checkpoint)
            if len(self._checkpoints) > MAX_CHECKPOINTS or sum(len(c.blob) for c in self._checkpoints) > MAX_BYTES:
                # Thin: keep the first and every other one; later ones come half as often.
                self._checkpoints = self._checkpoints[::2]
                self.every *= 2

    def best(self, t_ns: int) -> Checkpoint:
        """The last checkpoint at or before ``t_ns``."""
        with self._lock:
            checkpoints = self._checkpoints
        low, high = 0, len(checkpoints)
        while high - low > 1:
            middle = (low + high) // 2
            if checkpoints[middle].t_ns <= t_ns:
                low = middle
            else:
                high = middle
        return checkpoints[low]

    @property
    def checkpoints(self) -> int:
        return len(self._checkpoints)


@dataclass
class Moment:
    """The model at a moment of a recording, and the stream going on from there."""

    model: Model
    stream: Stream
    applied: int  # records applied to the model


class Recording:
    """An open recording: its header, the time of its first record, a guess at its end, its index.

    Raises OSError or Malformed when the file is not one: not a regular file,
    a bad header, or a bad line among its first records (where a file that
    is not a recording shows it).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._f = open_regular(path)
        try:
            self.header = read_header(self._f)
            first = Stream(self._f, Stream.start_position(self.header), self.header.facts)
            self.t0 = first.check_start() or 0
            self._guess_ns = self._tail_ns()
        except BaseException:
            self._f.close()
            raise
        self.index = Index(path, self.header)

    @property
    def end_ns(self) -> int:
        """Where the recording ends: the scan's word once it is done, a guess from the file's end before."""
        if self.index.done:
            return max(self.index.covered_ns, self.t0)
        return max(self._guess_ns, self.index.covered_ns, self.t0)

    def _tail_ns(self) -> int:
        """The latest time among the last records of the file (one more than a day on is no guess)."""
        size = os.fstat(self._f.fileno()).st_size
        self._f.seek(max(self.header.size, size - TAIL_BYTES))
        latest = 0
        for raw in self._f.read(TAIL_BYTES).split(b"\n")[1:]:
            if len(raw) < MAX_RECORD_LINE:
                with contextlib.suppress(ValueError, RecursionError, Malformed):
                    t_ns = check_event(json.loads(raw), self.header.facts).t_ns
                    latest = max(latest, t_ns if t_ns <= self.t0 + MAX_GAP_NS else 0)
        return latest

    def moment(self, t_ns: int) -> Moment:
        """The model with every record up to ``t_ns`` applied, from the nearest checkpoint; the stream after it."""
        checkpoint = self.index.best(t_ns)
        with _no_collections():
            model, position = checkpoint.restore()
            stream = Stream(self._f, position, self.header.facts)
            applied = checkpoint.applied
            while (next_ns := stream.peek_ns()) is not None and next_ns <= t_ns:
                model.apply_one(next(stream))
                applied += 1
        return Moment(model, stream, applied)

    def close(self) -> None:
        self.index.stop()
        self._f.close()
