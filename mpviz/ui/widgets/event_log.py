"""The headless lines, newest last, bounded."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

from rich.cells import cell_len
from rich.style import Style
from textual.cache import LRUCache
from textual.strip import Strip
from textual.widgets import Log

from mpviz import lang
from mpviz.model import Model
from mpviz.telemetry import Event
from mpviz.ui.widgets.scrolling import SteadyScrollView

# A flood of records is summarised: only the newest lines of a refresh are written.
MOST_PER_BATCH = 100


class EventLog(Log, SteadyScrollView):
    """``compact``: each line without its pid (the table has it), its time shorter, its name in
    no more room than it needs: a watched program's events leave the most room to the words."""

    def __init__(self, compact: bool = False, **kwargs: Any) -> None:
        super().__init__(max_lines=1000, auto_scroll=True, **kwargs)
        self.compact = compact
        # Each line drawn, by its words and style (see _render_line_strip).
        self._drawn: LRUCache[tuple[str, Style], Strip] = LRUCache(1024)

    def on_resize(self) -> None:
        # Log follows new lines only while its view is at the end; a neighbour
        # growing (the alerts) shrinks it, and its end moves past the view:
        # keep following, as a user watching the newest lines expects.
        self.scroll_end(animate=False)

    def write_lines(self, lines: Iterable[str], scroll_end: bool | None = None) -> Self:
        super().write_lines(lines, scroll_end)
        if self.max_lines is not None and self.line_count >= self.max_lines:
            # Full: the oldest lines went, every line moved up one place or more, and Log redraws
            # only the new ones (below the view, when it follows the newest): the whole view again,
            # or it would show the lines of the moment it filled, however long after.
            self.refresh()
        return self

    def _update_size(self, updates: int, lines: list[str]) -> None:  # type: ignore[override]
        """The widest line, here and now: Log works it out in a thread worker of its own at each
        write (a pool thread, its answer a call into the event loop, and three messages about
        the worker's state through the log's, the screen's and the app's queues), for the few
        lines of a batch."""
        if lines:
            self._update_maximum_width(updates, max(cell_len(self._process_line(line)) for line in lines))

    def _render_line_strip(self, y: int, rich_style: Style) -> Strip:
        """A line made into a strip once, kept by its words: Log keeps none without a selection, and
        a new line scrolls every line in view, each made again from its text (with 100 processes,
        the log's lines were half of the lines the screen drew, and the dearest to make)."""
        if self.text_selection is not None:
            return super()._render_line_strip(y, rich_style)
        key = (self._lines[y], rich_style)
        strip = self._drawn.get(key)
        if strip is None:
            strip = self._drawn[key] = super()._render_line_strip(y, rich_style)
        return strip

    def add(self, model: Model, events: list[Event]) -> None:
        lines = []
        for event in events:
            text = _compact(model, event) if self.compact else model.line(event)
            if text is not None:
                lines.append(text)
        if lines:
            self.write_lines(lines)


def _compact(model: Model, event: Event) -> str | None:
    words = model.describe(event)
    if words is None:
        return None
    who = model.name_of(event.pid)
    return f"{model.seconds(event.t_ns):6.2f} {lang.ljust(who, COMPACT_WHO)} {words}"


# The names' column of a compact line ("Consumer-12", "ForkPoolWorker-3" pads no further).
COMPACT_WHO = 12
