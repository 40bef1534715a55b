"""What the processes print, interleaved in time, each process in its own colour."""

from __future__ import annotations

from typing import Any

from rich.cells import set_cell_size
from rich.text import Text
from textual import events
from textual.widgets import RichLog

from mpviz.model import Model
from mpviz.shown import visible
from mpviz.telemetry import Event
from mpviz.ui.widgets.scrolling import SteadyScrollView

# Colours that read on a dark background and differ from the phase colours.
PALETTE = ("cyan", "gold1", "orchid", "spring_green2", "dark_orange", "sky_blue1", "plum1", "khaki1")
NAME_WIDTH = 14


def colour(model: Model, pid: int) -> str:
    """A process's colour: by the order it appeared, the same everywhere."""
    index = list(model.procs).index(pid) if pid in model.procs else pid
    return PALETTE[index % len(PALETTE)]


def printed(model: Model, event: Event) -> Text:
    """One printed line: who printed it, then the line (its colour codes rendered, never shown raw)."""
    name = set_cell_size(model.name_of(event.pid), NAME_WIDTH)  # cut or padded, wide characters counted
    text = Text(f"{name} ", style=colour(model, event.pid))
    # Its colour codes rendered; any other control character made visible, never sent to the terminal.
    line = Text.from_ansi(visible(str(event.data.get("text", "")), colours=True))
    if event.data.get("stream") == "err":
        line.stylize("red")
    text.append_text(line)
    return text


class OutputView(RichLog, SteadyScrollView):
    """The newest lines of every process's stdout and stderr (stderr in red)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_lines=1000, wrap=False, markup=False, auto_scroll=True, **kwargs)

    def on_resize(self, event: events.Resize) -> None:
        # Textual calls RichLog's own on_resize too (handlers run along the MRO).
        self.scroll_end(animate=False)  # keep following the newest lines (see EventLog.on_resize)

    def add(self, model: Model, events: list[Event]) -> None:
        for event in events:
            if event.kind == "proc.output":
                self.write(printed(model, event))
