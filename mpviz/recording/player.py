"""Playing a recording: records handed out as their time comes, with pause, step, seek and speed.

The player owns the model it hands records to: a seek builds a new one from
the index's nearest checkpoint, which :meth:`Player.read` hands over with the
records that follow it, in order.  Nothing here draws: the dashboard's replay
source is this player and a thin adapter (``mpviz.ui.sources``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mpviz.lang import T
from mpviz.lesson import Lesson, Verdict
from mpviz.model import Model
from mpviz.recording.index import Recording
from mpviz.telemetry import Event, Malformed

# A replay playing reads the records that fell due at least this often.
PLAY_POLL_S = 0.25
SKIPPED = T("{bad} bad {lines} skipped (the first at {first})", "跳过了 {bad} 行坏记录(第一处在 {first})")
BREAKS_OFF = T("the recording breaks off at {where}", "录制在 {where} 处中断")


class Player:
    """A recording played back in lesson time, with pause, step, seek and speed.

    The file is read as it plays (``Recording``); a seek takes the model from
    the nearest checkpoint (see :mod:`mpviz.recording.index`).  ``at`` starts
    the replay that many seconds in; ``frozen`` keeps it there (the snapshot
    tests): nothing moves, the clock stands still, and keys act at once.

    ``read`` runs in the reader worker; the keys run on the event loop.  A
    seek only asks (``_seek_to``); ``read`` carries it out, so that the new
    ``model`` is made off the event loop and handed over with the records
    that follow it, in order.
    """

    def __init__(self, path: Path, speed: float = 1.0, at: float = 0.0, frozen: bool = False) -> None:
        self.recording = Recording(path)  # OSError or Malformed: not a recording
        header = self.recording.header
        self.header = header.raw
        self.lesson: type[Lesson] = header.lesson
        self.name = header.name
        self.params: dict[str, Any] = header.params
        self.path = path
        self.model = Model()
        self.t0 = self.recording.t0
        self.frozen = frozen
        self.paused = frozen
        self._broken = ""  # where the recording breaks off, once reached
        self._speed = speed
        self._stream = self.recording.moment(-1).stream  # before the first record
        self._applied = 0  # records in the model, by the stream's count
        self._given_ns = 0  # the time of the last record handed out
        self._seek_to: int | None = None
        self._cursor = self.t0 + int(at * 1e9)
        self._wall = time.monotonic_ns()
        self._clock: Callable[[], int] = time.monotonic_ns
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False

    @property
    def values(self) -> dict[str, Any]:
        return self.params

    @property
    def end_ns(self) -> int:
        return self.recording.end_ns

    # The replay's clock: the cursor in record time.  The reader worker and
    # the keys (pause, step, speed, seek) move it from different threads: one lock.
    def now_ns(self) -> int:
        with self._lock:
            if not self.paused:
                wall = self._clock()
                self._cursor += int((wall - self._wall) * self._speed)
                self._wall = wall
                self._cursor = min(self._cursor, self.end_ns)
            return self._cursor

    @property
    def done(self) -> bool:
        """Every record played (or the recording broke off here)."""
        with self._lock:
            return self._closed or bool(self._broken) or self._peek() is None

    @property
    def problem(self) -> str:
        """Where the recording breaks off, and how many bad lines were skipped (as far as it has been read)."""
        index, stream = self.recording.index, self._stream
        bad, first = (index.bad, index.first_bad) if index.bad >= stream.bad else (stream.bad, stream.first_bad)
        skipped = SKIPPED(bad=bad, lines="line" if bad == 1 else "lines", first=first) if bad else ""
        return "; ".join(part for part in (self._broken, skipped) if part)

    def _peek(self) -> int | None:
        """Under the lock: the time of the next record; a recording that breaks off ends here."""
        try:
            return self._stream.peek_ns()
        except Malformed as exc:
            self._broken = BREAKS_OFF(where=exc)
            return None

    def read(self, timeout: float) -> list[Event]:
        """Records up to the cursor (after a seek, the model is new first).  Waits only when there is nothing due."""
        if not self.frozen:
            self.recording.index.start()
        cursor = self.now_ns()
        with self._lock:
            if self._closed:
                return []
            if self._seek_to is not None:
                self._seek(self._seek_to)
                self._seek_to = None
            batch = self._take(cursor)
        if not batch and not self.frozen:
            # Nothing wakes it when a record falls due: it looks again at least this often.
            self._wake.wait(min(timeout, PLAY_POLL_S))
            self._wake.clear()
        return batch

    def _take(self, until_ns: int, most: int | None = None) -> list[Event]:
        """Under the lock: the records up to ``until_ns`` (at most ``most``)."""
        batch: list[Event] = []
        while (most is None or len(batch) < most) and (t := self._peek()) is not None and t <= until_ns:
            batch.append(next(self._stream))
            self._given_ns = t
        self._applied += len(batch)
        return batch

    def _seek(self, t_ns: int) -> None:
        """Under the lock: bring the model to ``t_ns``.

        Forward within the scanned part, with no checkpoint on the way, the
        records in between simply come with the next batch (never more than
        a checkpoint's worth); otherwise the model is made anew from the
        nearest checkpoint."""
        index = self.recording.index
        best = index.best(t_ns)
        if t_ns >= self._given_ns and best.applied <= self._applied and t_ns <= index.covered_ns:
            return
        moment = self.recording.moment(t_ns)
        self.model, self._stream, self._applied = moment.model, moment.stream, moment.applied
        self._given_ns = moment.model.last_ns

    def seek(self, seconds: float) -> None:
        """Move the cursor ``seconds`` (back if negative), within the recording."""
        self.seek_to(self.now_ns() + int(seconds * 1e9))

    def seek_to(self, t_ns: int) -> None:
        with self._lock:
            self._cursor = min(max(t_ns, self.t0), self.end_ns)
            self._wall = self._clock()
            self._seek_to = self._cursor
        self._wake.set()

    def position(self) -> tuple[float, float]:
        """Seconds played, and seconds in the whole recording (a guess until the scan has read it all)."""
        now = self.now_ns()
        return (now - self.t0) / 1e9, (self.end_ns - self.t0) / 1e9

    def step(self) -> list[Event]:
        """Move the cursor to the next moment and return its records (paused replays).

        A moment, not a record: records made at the same instant (a round of
        psutil samples) go together, as they did in the run."""
        if not self.paused:
            self.toggle_pause()
        with self._lock:
            if self._seek_to is not None or self._closed:
                return []  # the seek comes first, with the next read
            t = self._peek()
            if t is None:
                return []
            self._cursor = max(self._cursor, t)
            return self._take(t)

    def toggle_pause(self) -> None:
        self.now_ns()
        with self._lock:
            self.paused = not self.paused
            self._wall = self._clock()
        self._wake.set()

    def verdict(self) -> Verdict:
        # The recorded run ended where the recording ends.
        return self.lesson.judge(self.model, self.params, self.now_ns(), final=self.done)

    def named(self) -> list[str]:
        return []  # (a replay's verdict counts what is found at its moment: see judge)

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        self.now_ns()
        with self._lock:
            self._speed = speed

    def close(self) -> None:
        """Nothing runs behind a replay but the scan of its file.  Safe to call more than once."""
        with self._lock:  # the reader worker may be in read(), using the file
            if not self._closed:
                self._closed = True
                self.recording.close()
