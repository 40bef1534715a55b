"""A view of one ``rich.text.Text`` that redraws only the lines that changed.

Panels, alerts and details are rebuilt every refresh, mostly to the same text,
and where they change (a duration ticking) it is a few lines of many.  A
Static redraws all of its lines for any change; this Line-API widget wraps
the text into lines once, compares them with what is shown, and asks Textual
to redraw only the lines that differ (and a layout pass only when the number
of lines changes).  Measured with 100 processes, the panels' redraws were
most of the dashboard's drawing cost.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget


class TextView(Widget):
    """Shows one ``rich.text.Text``, wrapped to the widget's width."""

    DEFAULT_CSS = """
    TextView { height: auto; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: Text | None = None
        self._strips: list[Strip] = []
        self._wrapped_at = -1
        # Each line of the text as wrapped at ``_wrapped_at``, by its text and styles.
        self._known: dict[tuple[object, ...], list[Strip]] = {}

    @property
    def plain(self) -> str:
        """What it shows, as plain text before wrapping."""
        return self._shown.plain if self._shown is not None else ""

    def show(self, text: Text) -> None:
        if self._shown is not None and text == self._shown and text.style == self._shown.style:
            return
        self._shown = text
        self._wrap(self.content_size.width, redraw=True)

    def _wrap(self, width: int, redraw: bool = False) -> None:
        """The text as lines ``width`` cells wide; with ``redraw``, the changed lines redrawn.

        Each line of the text is wrapped on its own and kept: a panel whose one line
        ticks (a duration) wraps that line again, not the thirty around it."""
        if width <= 0 or self._shown is None or not self.is_mounted:
            return
        console = self.app.console
        options = console.options.update_width(width)
        known = self._known if width == self._wrapped_at else {}
        self._known = {}
        new: list[Strip] = []
        for line in self._shown.split("\n", allow_blank=True):
            key = (line.plain, tuple(line.spans), line.style)
            strips = known.get(key)
            if strips is None:
                lines = console.render_lines(line, options, style=self.rich_style, pad=False)
                strips = [Strip(segments).extend_cell_length(width, self.rich_style) for segments in lines]
            self._known[key] = strips
            new.extend(strips)
        old, self._strips, self._wrapped_at = self._strips, new, width
        if not redraw:
            return
        if len(new) != len(old):
            self.refresh(layout=True)
            return
        for y, (was, now) in enumerate(zip(old, new, strict=True)):
            if was != now:
                self.refresh(Region(0, y, self.size.width, 1))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width != self._wrapped_at:
            self._wrap(width)
        return len(self._strips)

    def on_resize(self) -> None:
        if self.content_size.width != self._wrapped_at:
            self._wrap(self.content_size.width, redraw=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._wrapped_at = -1  # colours from the stylesheet are part of every line
        self._wrap(self.content_size.width, redraw=True)

    def render_line(self, y: int) -> Strip:
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.content_size.width, self.rich_style)
