"""Driving the dashboard in a test: a live lesson, waiting for a condition, reading what a widget shows.

Tests read the screen as a user would — the text a widget draws — and move
the cursor with the keys a user presses, never through the widgets' insides.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.geometry import Region
from textual.widget import Widget

from mpviz.registry import lesson_class
from mpviz.runtime import Settings
from mpviz.ui.sources import LiveSource
from mpviz.ui.widgets.process_table import ProcessTable

SIZE = (120, 40)


def text_of(widget: Widget) -> str:
    """What a widget shows, as plain text."""
    region = Region(0, 0, widget.size.width, widget.size.height)
    return "\n".join(strip.text for strip in widget.render_lines(region))


async def until(pilot, condition: Callable[[], object], timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


def rows(table: ProcessTable) -> dict[int, str]:
    """The rows the table shows now, by pid, in order (the header and the folded line are not rows)."""
    shown: dict[int, str] = {}
    for line in text_of(table).splitlines():
        first = line.strip("│ ").split(maxsplit=1)[:1]  # inside the border
        if first and first[0].isdigit():
            shown[int(first[0])] = line
    return shown


async def select(pilot, table: ProcessTable, pid: int, timeout: float = 60) -> None:
    """Put the cursor on ``pid``'s row with the keys, as a user scrolls down the table to it
    (its row comes a moment after the model has the process)."""
    table.focus()
    deadline = time.monotonic() + timeout
    while True:
        await pilot.press("home")
        seen: set[int | None] = set()
        while table.selected_pid not in seen:  # down to the last row
            if table.selected_pid == pid:
                return
            seen.add(table.selected_pid)
            await pilot.press("down")
        assert time.monotonic() < deadline, f"timed out waiting for the row of pid {pid}"
        await pilot.pause(0.1)


def live(lesson: str, speed: float = 1.0, **params: object) -> LiveSource:
    return LiveSource.start(Settings(lesson_class(lesson), dict(params), speed=speed, seed=1))
