"""A view of one ``rich.text.Text`` that redraws only the lines that changed, and draws only those in sight.

Panels, alerts and details are rebuilt every refresh, mostly to the same text,
and where they change (a duration ticking) it is a few lines of many.  A
Static redraws all of its lines for any change; this Line-API widget cuts the
text into lines once, compares them with what is shown, and asks Textual to
redraw only the lines that differ (and a layout pass only when the number of
lines changes).  A line is drawn (made into a strip) only when Textual asks for
it: a panel taller than its scrolling view draws the lines in view, not those
below it.  Measured with 100 processes, the panels' drawing was most of the
dashboard's; then a busy panel's durations ticking, two thirds of each refresh.
"""

from __future__ import annotations

import time
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.containers import ScrollableContainer
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

# A line of the text, as what it shows: its words, their styles, its own style.
Key = tuple[object, ...]
# A text that gets shorter keeps its height (blank rows at its end) until it has been shorter
# for this long: a new height is a layout of the whole screen (10 ms here, 90 under a flood on a
# loaded machine), and a list that wraps to a row more or less from one refresh to the next (a
# queue's items, a figure a digit longer) asked for one at every other refresh.
SHRINK_AFTER_S = 5.0
# In a scrolling view of fixed size (a lesson's panel), a shorter text leaves blank rows inside
# that view and moves nothing else on the screen, but a new height is still a layout of the whole
# screen (16 ms in the busy KTV scene, where the waiting line shortens as each group leaves: a
# layout every 14 s, 5 % of the dashboard's CPU). There the height waits this long.
SHRINK_IN_SCROLL_S = 60.0


class TextView(Widget):
    """Shows one ``rich.text.Text``, wrapped to the widget's width."""

    DEFAULT_CSS = """
    TextView { height: auto; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: Text | None = None
        self._wrapped_at = -1
        # Each line of the text, wrapped at ``_wrapped_at``: its pieces, one per row.
        self._known: dict[Key, list[Text]] = {}
        # The rows shown, top to bottom: (the line's key, which of its pieces), and the piece.
        self._rows: list[tuple[tuple[Key, int], Text]] = []
        self._strips: dict[tuple[Key, int], Strip] = {}  # rows drawn so far, by key
        self._height = 0  # rows given to the layout: at least len(_rows) (see SHRINK_AFTER_S)
        self._shorter_since: float | None = None  # time.monotonic() since when the text is shorter
        self._exact = False  # the next text shown sets the height, shorter or not (see fit)

    @property
    def plain(self) -> str:
        """What it shows, as plain text before wrapping."""
        return self._shown.plain if self._shown is not None else ""

    def row_text(self, y: int) -> str:
        """The plain text of row ``y`` as shown ("" past the end)."""
        return self._rows[y][1].plain if 0 <= y < len(self._rows) else ""

    def fit(self) -> None:
        """The next text shown sets the height, however much shorter it is (a replay moved: no
        height is kept from the moment left)."""
        self._exact = True

    def show(self, text: Text) -> None:
        if self._shown is not None and text == self._shown and text.style == self._shown.style:
            self._settle_height()
            return
        self._shown = text
        self._wrap(self.content_size.width, redraw=True)

    def _settle_height(self) -> bool:
        """Shrink to the text once it has been shorter for SHRINK_AFTER_S (True: a layout was asked for)."""
        rows = len(self._rows)
        exact, self._exact = self._exact, False
        if rows >= self._height:
            self._shorter_since = None
            return False
        now = time.monotonic()
        if self._shorter_since is None:
            self._shorter_since = now
        wait = SHRINK_IN_SCROLL_S if self._in_scroll() else SHRINK_AFTER_S
        if now - self._shorter_since < wait and not exact:
            return False
        self._height, self._shorter_since = rows, None
        self.refresh(layout=True)
        return True

    def _in_scroll(self) -> bool:
        """In a scrolling view whose own size does not follow its content."""
        parent = self.parent
        return isinstance(parent, ScrollableContainer) and not parent.styles.auto_dimensions

    def _wrap(self, width: int, redraw: bool = False) -> None:
        """The text as rows ``width`` cells wide; with ``redraw``, the rows that changed redrawn.

        Each line of the text is wrapped on its own and kept: a panel whose one line
        ticks (a duration) wraps that line again, not the thirty around it; a line
        that fits (most do) is not wrapped at all."""
        if width <= 0 or self._shown is None or not self.is_mounted:
            return
        known = self._known if width == self._wrapped_at else {}
        self._known = {}
        rows: list[tuple[tuple[Key, int], Text]] = []
        for line in self._shown.split("\n", allow_blank=True):
            key = (line.plain, tuple(line.spans), line.style)
            pieces = known.get(key)
            if pieces is None:
                fits = "\t" not in line.plain and cell_len(line.plain) <= width
                pieces = [line] if fits else list(line.wrap(self.app.console, width))
            self._known[key] = pieces
            rows.extend(((key, i), piece) for i, piece in enumerate(pieces))
        old, rewrapped = self._rows, width != self._wrapped_at
        if rewrapped:
            self._strips = {}
        else:
            keys = {key for key, _ in rows}
            self._strips = {key: strip for key, strip in self._strips.items() if key in keys}
        self._rows, self._wrapped_at = rows, width
        if rewrapped or len(rows) > self._height:
            # Another width (a layout is under way, or asked for here), or taller: as tall as the text.
            self._height, self._shorter_since, self._exact = len(rows), None, False
            if redraw:
                self.refresh(layout=True)
            return
        if not redraw or self._settle_height():
            return
        for y in range(max(len(old), len(rows))):
            was = old[y][0] if y < len(old) else None
            now = rows[y][0] if y < len(rows) else None
            if was != now:
                self.refresh(Region(0, y, self.size.width, 1))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width != self._wrapped_at:
            self._wrap(width)
        return self._height

    def on_resize(self) -> None:
        if self.content_size.width != self._wrapped_at:
            self._wrap(self.content_size.width, redraw=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips = {}  # colours from the stylesheet are part of every row
        self.refresh()

    def render_line(self, y: int) -> Strip:
        if y >= len(self._rows):
            return Strip.blank(self.content_size.width, self.rich_style)
        key, piece = self._rows[y]
        strip = self._strips.get(key)
        if strip is None:
            console, style = self.app.console, self.rich_style
            # The piece's own style under its spans' (Text.render leaves it out of a text without spans).
            under = style + console.get_style(piece.style, default=Style.null()) if piece.style else style
            segments = [s for s in Segment.apply_style(piece.render(console, end=""), under) if s.text]
            strip = Strip(segments).crop(0, self._wrapped_at).extend_cell_length(self._wrapped_at, style)
            self._strips[key] = strip
        return strip
