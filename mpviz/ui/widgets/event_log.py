"""The headless lines, newest last, bounded."""

from __future__ import annotations

from typing import Any

from textual.widgets import Log

from mpviz.model import Model
from mpviz.telemetry import Event
from mpviz.ui.widgets.scrolling import SteadyScrollView

# A flood of records is summarised: only the newest lines of a refresh are written.
MOST_PER_BATCH = 100


class EventLog(Log, SteadyScrollView):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_lines=1000, auto_scroll=True, **kwargs)

    def on_resize(self) -> None:
        # Log follows new lines only while its view is at the end; a neighbour
        # growing (the alerts) shrinks it, and its end moves past the view:
        # keep following, as a user watching the newest lines expects.
        self.scroll_end(animate=False)

    def add(self, model: Model, events: list[Event]) -> None:
        lines = []
        for event in events:
            text = model.line(event)
            if text is not None:
                lines.append(text)
        if lines:
            self.write_lines(lines)
