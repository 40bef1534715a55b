"""What the processes print, interleaved in time, each process in its own colour."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.strip import Strip

from mpviz.model import Model
from mpviz.shown import visible
from mpviz.telemetry import Event
from mpviz.ui.widgets.scrolling import SteadyScrollView

# Colours that read on a dark background and differ from the phase colours.
PALETTE = ("cyan", "gold1", "orchid", "spring_green2", "dark_orange", "sky_blue1", "plum1", "khaki1")
# The names' column: at least NAME_WIDTH, wider for a longer name ("ForkPoolWorker-12"), up to NAME_MAX.
NAME_WIDTH = 14
NAME_MAX = 24


def colour(model: Model, pid: int) -> str:
    """A process's colour: by the order it appeared, the same everywhere."""
    index = list(model.procs).index(pid) if pid in model.procs else pid
    return PALETTE[index % len(PALETTE)]


def printed(model: Model, event: Event, width: int = NAME_WIDTH) -> Text:
    """One printed line: who printed it (in ``width`` cells), then the line (its colour codes rendered, never shown raw)."""
    name = set_cell_size(model.name_of(event.pid), width)  # cut or padded, wide characters counted
    text = Text(f"{name} ", style=colour(model, event.pid))
    # Its colour codes rendered; any other control character made visible, never sent to the terminal.
    line = Text.from_ansi(visible(str(event.data.get("text", "")), colours=True))
    if event.data.get("stream") == "err":
        line.stylize("red")
    text.append_text(line)
    text.expand_tabs()
    return text


class OutputView(SteadyScrollView, can_focus=True):
    """The newest lines of every process's stdout and stderr (stderr in red), from the model.

    A line still being written (a row of dots, a prompt) grows where it
    stands: the model replaces it as more of it comes (``Model.output``), and
    this view draws the model's lines as they are, following the newest.
    """

    DEFAULT_CSS = """
    OutputView { overflow: auto; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._model: Model | None = None
        self._changes = -1
        self._widest = 0
        self._names = NAME_WIDTH
        # Each line drawn, by its record (a grown line is a new record: drawn anew).
        self._drawn: LRUCache[int, tuple[Event, Strip]] = LRUCache(1024)

    def show(self, model: Model) -> None:
        """Draw the model's printed lines, if they changed since the last time."""
        if model is self._model and model.output_changes == self._changes:
            return
        new = model.output_changes - self._changes if model is self._model else len(model.output)
        self._model, self._changes = model, model.output_changes
        lines = model.output
        names = min(max([NAME_WIDTH, *(cell_len(model.name_of(pid)) for pid in {e.pid for e in lines})]), NAME_MAX)
        if names != self._names:  # a longer name came: every line is drawn again
            self._names, self._widest, new = names, 0, len(lines)
            self._drawn.clear()
        for i in range(max(0, len(lines) - new), len(lines)):  # the lines that may be new or grown
            self._widest = max(self._widest, self._strip(lines[i]).cell_length)
        self.virtual_size = Size(self._widest, len(lines))
        self.refresh()
        # (force: before a layout has given it its scrollbar, a scroll would be refused)
        self.scroll_end(animate=False, x_axis=False, force=True)  # the newest lines, as they come

    def clear(self) -> None:
        """Forget the lines drawn (a replay moved: another model's lines come)."""
        self._model, self._changes, self._widest = None, -1, 0
        self._drawn.clear()
        self.virtual_size = Size(0, 0)
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self.scroll_end(
            animate=False, x_axis=False, force=True
        )  # keep following the newest lines (see EventLog.on_resize)

    def _strip(self, event: Event) -> Strip:
        drawn = self._drawn.get(id(event))
        if drawn is not None and drawn[0] is event:
            return drawn[1]
        assert self._model is not None
        console = self.app.console
        text = printed(self._model, event, self._names)
        # A Text's own style (the process's colour) is the ground its spans are drawn on.
        strip = Strip(text.render(console)).apply_style(console.get_style(text.style))
        self._drawn[id(event)] = (event, strip)
        return strip

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        lines = self._model.output if self._model is not None else ()
        index = scroll_y + y
        if index >= len(lines):
            return Strip.blank(width, self.rich_style)
        strip = self._strip(lines[index]).crop_extend(scroll_x, scroll_x + width, self.rich_style)
        return strip.apply_style(self.rich_style)
