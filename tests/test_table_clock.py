"""The process table at each second: a row is made again when its text would read otherwise (a
duration's next figure, a sparkline's next column, a record), and reads as one made afresh."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult

from mpviz.model import Model
from mpviz.telemetry import Event
from mpviz.ui.widgets import process_order
from mpviz.ui.widgets.history import STEP_NS
from mpviz.ui.widgets.process_table import ProcessTable

S = 1_000_000_000
PIDS = range(10, 16)


class Table(App[None]):
    def compose(self) -> ComposeResult:
        yield ProcessTable()


def waiting_model() -> Model:
    """Six processes that started at 0 and wait."""
    model = Model()
    events = [Event(1, pid, "proc.spawn", f"p{pid}", {"role": "worker", "label": f"p{pid}", "ppid": 1}) for pid in PIDS]
    events += [
        Event(2, pid, "proc.stats", "", {"cpu": 0.0, "status": "sleeping", "rss": 1 << 20, "threads": 2})
        for pid in PIDS
    ]
    model.apply(events)
    return model


def text(table: ProcessTable) -> list[str]:
    return [table.render_line(y).text for y in range(1, len(table._order) + 1)]


async def test_a_second_passing_makes_again_only_the_rows_whose_text_it_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[int] = []
    row_of = process_order.row_of

    def counted(model: Model, proc: Any, *args: Any) -> Any:
        made.append(proc.pid)
        return row_of(model, proc, *args)

    monkeypatch.setattr(process_order, "row_of", counted)
    model = waiting_model()
    async with Table().run_test(size=(140, 20)) as pilot:
        table = pilot.app.query_one(ProcessTable)
        start = 2 * STEP_NS + 90 * S  # past a minute: the durations read in whole minutes
        table.sync(model, start, None)
        await pilot.pause()
        assert sorted(set(made)) == list(PIDS)
        for second in range(1, 40):
            now = start + second * S
            made.clear()
            dirty = {12} if second == 5 else set()  # a record for one process: its row, whatever the clock
            table.sync(model, now, dirty, clock=True)
            minute = (now - 1) // (60 * S) != (now - S - 1) // (60 * S)
            column = now // STEP_NS != (now - S) // STEP_NS
            if minute or column:
                assert sorted(made) == list(PIDS), f"second {second}: every row reads otherwise"
            else:
                assert made == sorted(dirty), f"second {second}: only what a record touched"
            for pid in PIDS:  # each row as one made now reads
                assert table._rows[pid] == row_of(model, model.procs[pid], now, table._branches.get(pid)), second
