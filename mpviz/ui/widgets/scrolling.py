"""Scroll views that grow and shrink without a layout of the whole screen.

Textual's ``virtual_size`` asks for a layout of the screen whenever it changes:
every widget arranged again, every scrollbar redrawn, and a second pass of the
compositor for them.  The event log changes length with each record, the
process table and the timeline with each process that ends; measured with 100
processes, those layouts were a third of the dashboard's drawing.  Yet all that
moves is this view's own scrollbar thumb, unless a scrollbar comes or goes.
Here the thumb is moved alone, and a layout is asked for only when a scrollbar
may appear or disappear.
"""

from __future__ import annotations

from typing import ClassVar

from textual.geometry import Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView


class SteadyScrollView(ScrollView):
    """A ``ScrollView`` whose change of length moves its scrollbar, not the screen's layout."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=False)
    # A new length repaints every line, as Textual's does (the logs count on it);
    # a view that redraws the lines that changed itself says False.
    repaint_on_length: ClassVar[bool] = True

    def watch_virtual_size(self, old: Size, new: Size) -> None:
        if self.repaint_on_length:
            self.refresh()
        if not self.is_mounted or self._bars_may_change(old, new):
            self.refresh(layout=True)
            return
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.window_virtual_size = new.height
        if self.show_horizontal_scrollbar:
            self.horizontal_scrollbar.window_virtual_size = new.width
        # Shorter than the view scrolled to: back within it, as a layout would.
        self.scroll_to(
            self.validate_scroll_x(self.scroll_x), self.validate_scroll_y(self.scroll_y), animate=False, immediate=True
        )

    def _bars_may_change(self, old: Size, new: Size) -> bool:
        """Whether a scrollbar may appear or disappear between the two lengths.

        Textual shows a bar when the length exceeds the view, which the other
        bar, when shown, makes shorter: a length beyond the whole view surely
        has a bar, one within the shortened view surely has none, and between
        the two it is for a layout to decide."""
        styles = self.styles
        width, height = self.container_size
        for overflow, before, after, room, other_bar in (
            (styles.overflow_y, old.height, new.height, height, styles.scrollbar_size_horizontal),
            (styles.overflow_x, old.width, new.width, width, styles.scrollbar_size_vertical),
        ):
            if overflow != "auto":
                continue

            def surely(length: int, room: int = room, other_bar: int = other_bar) -> str:
                return "bar" if length > room else "none" if length <= room - other_bar else "maybe"

            if surely(before) != surely(after) or surely(after) == "maybe":
                return True
        return False
