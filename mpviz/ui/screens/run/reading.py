"""The run screen's records in: one reader thread gathers them in batches, and the screen applies
each batch to the model in slices, the event loop free between two (a key waits for a slice, not
a batch)."""

from __future__ import annotations

import os
import threading
import time
from collections import deque

from textual import on, work
from textual.worker import Worker, WorkerState, get_current_worker

from mpviz.model import Model
from mpviz.model.state import UNLOGGED
from mpviz.telemetry import Event
from mpviz.ui.messages import RecordsArrived
from mpviz.ui.pacing import GATHER_S
from mpviz.ui.screens.run.drawing import DrawingScreen
from mpviz.ui.sources import Source
from mpviz.ui.widgets.event_log import MOST_PER_BATCH, EventLog
from mpviz.ui.widgets.output import OutputView
from mpviz.ui.widgets.process_table import ProcessTable
from mpviz.ui.widgets.text_view import TextView

# The reader gathers a flood of records for this long before posting them.
BATCH_S = 0.03
# While the screen applies a batch, the reader reads on at this pace, gathering the next one,
# up to this many records (about two seconds of the fastest flood measured).
BUSY_S = 0.01
MOST_HELD = 50_000
# The screen applies records in slices of this long at most (checked every SLICE_RECORDS), and
# leaves the event loop free for this long between two: a key press waits for a slice, not a batch.
SLICE_S = 0.01
SLICE_RECORDS = 50
SLICE_GAP_S = 0.001
# With nothing to read, the reader waits this long (a live run's records and its
# closing wake it at once; a replay looks more often, see Player.read).
READ_WAIT_S = 1.0


class ReadingScreen(DrawingScreen):
    """The screen's records in: read by a worker thread, applied on the event loop."""

    def __init__(self, source: Source) -> None:
        super().__init__(source)
        # Records posted by the reader, not yet applied (see _apply_slice); set: all were.
        self._pending: deque[Event] = deque()
        self._taken = threading.Event()
        self._taken.set()

    @work(thread=True, exclusive=True, exit_on_error=False, group="reader", name="channel reader")
    def read_records(self) -> None:
        """The one reader of the channels: records in batches, posted to the screen.

        Records are gathered for up to BATCH_S before a batch goes out, and a
        batch goes out only once the screen has applied the one before: under
        a flood the screen's queue holds one batch at most, however far behind
        the screen is, and a key press waits behind none.  The screen behind
        by MOST_HELD records, the reader stops reading until it catches up:
        what more comes waits in the rings (and a full ring drops and counts).
        """
        worker = get_current_worker()
        model = self.source.model
        batch: list[Event] = []
        since = 0.0  # time.monotonic() of the batch's first records
        swapped = False  # a replay's seek: the new model goes to the screen, with or without records
        while not worker.is_cancelled:
            free = self._taken.is_set()
            quiet = False
            if len(batch) >= MOST_HELD:
                self._taken.wait(0.1)
            else:
                wait = READ_WAIT_S if not batch else max(0.0, since + BATCH_S - time.monotonic()) if free else BUSY_S
                more = self.source.read(wait)
                # A replay's seek makes a new model in read(): handed over with the records after it
                # (what was gathered before it belongs to the model left behind).
                if self.source.model is not model:
                    model, batch, swapped = self.source.model, [], True
                if more:
                    if not batch:
                        since = time.monotonic()
                    batch.extend(more)
                quiet = not more
            if not (batch or swapped) or not self._taken.is_set():
                continue
            if swapped or quiet or time.monotonic() >= since + BATCH_S:
                self._taken.clear()
                self.post_message(RecordsArrived(batch, model))
                batch, swapped = [], False

    def _apply_slice(self) -> None:
        """Apply pending records for up to SLICE_S, then let the event loop go (a key press, a
        redraw) before the next slice; the last slice lets the reader post its next batch."""
        pending = self._pending
        until = time.perf_counter() + SLICE_S
        while pending and time.perf_counter() < until:
            n = min(SLICE_RECORDS, len(pending))
            self._take([pending.popleft() for _ in range(n)])
        if pending:
            self.set_timer(SLICE_GAP_S, self._apply_slice)
        else:
            self._taken.set()

    def _take(self, events: list, model: Model | None = None) -> None:
        if model is not None and model is not self.model:
            self._swap(model)
        self.model.apply(events)
        again = self.model.told_again  # (a process's end told again: no line, now or at the log's write)
        self._unlogged.extend(e for e in events if not again(e))
        kinds = {e.kind for e in events}
        # What a lesson's picture may show moved: anything but psutil's figures (see pacing).
        self._said |= bool(kinds - {"proc.stats"})
        # The psutil samples (and stacks) alone wait for the tick: drawn with the passing second
        # they cost one pass of the screen a second instead of two.  Other records wait a little
        # for those that follow them (see GATHER_S).
        if kinds - UNLOGGED:
            self._ask_refresh(GATHER_S)

    def _swap(self, model: Model) -> None:
        """A replay moved to another moment: every view starts again from the new model."""
        self.model = model
        self._unlogged.clear()
        self._pending.clear()  # the moment left behind's
        recent = list(model.log)[-MOST_PER_BATCH:]
        log = self.query_one(EventLog)
        log.clear()
        log.add(model, recent)
        self.call_after_refresh(log.scroll_end, animate=False)  # once it knows its new length
        for output in self.query(OutputView):
            output.clear()
            output.show(model)
        self.query_one(ProcessTable).reset()
        for view in self.query(TextView):
            view.fit()  # the panels, the alerts, the details: as tall as the new moment's text
        self._pace.reset()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """A key's action or the reader failed: say so on screen and in the event log."""
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            text = f"{type(error).__name__}: {error}" if error is not None else "failed"
            self.notify(text, title=f"{event.worker.name} failed", severity="error")
            self._take([Event(self.source.now_ns(), os.getpid(), "ui.error", event.worker.name, {"error": text})])
