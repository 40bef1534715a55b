"""Scroll views that grow and shrink without a layout of the whole screen.

Textual's ``virtual_size`` asks for a layout of the screen whenever it changes:
every widget arranged again, every scrollbar redrawn, and a second pass of the
compositor for them.  The event log changes length with each record, the
process table and the timeline with each process that ends; measured with 100
processes, those layouts were a third of the dashboard's drawing.  Yet all that
moves is this view's own scrollbar thumb, unless a scrollbar comes or goes.
Here the thumb is moved alone, and a layout is asked for only when a scrollbar
may appear or disappear.

And the thumb is redrawn only when it moves on screen.  Textual repaints a
scrollbar, its whole height, at every change of the view's length or position:
a log that follows its newest line moved its bar at each write, though a bar of
20 rows for 1000 lines moves a cell every 50 lines.  Measured with 100
processes, scrollbars were a third of the lines drawn, and a bar's repaint, as
tall as its view, had the compositor go over every row of the screen from the
table's top to the log's bottom.
"""

from __future__ import annotations

from math import ceil
from typing import ClassVar

from textual.geometry import Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar


class SteadyScrollBar(ScrollBar):
    """A ``ScrollBar`` repainted only when what it draws changes (its size or its thumb)."""

    window_virtual_size: Reactive[int] = Reactive(100, repaint=False)
    window_size: Reactive[int] = Reactive(0, repaint=False)
    position: Reactive[float] = Reactive(0, repaint=False)

    def __init__(self, vertical: bool = True, name: str | None = None, *, thickness: int = 1) -> None:
        super().__init__(vertical, name, thickness=thickness)
        self._drawn: tuple[object, ...] = ()
        self._looking = False  # a look at what it draws is on its way

    def _moved(self) -> None:
        # Looked at once its view is done moving: a log's write changes its length, then its
        # position, and the thumb in between (not at the end yet) is drawn nowhere.
        if not self._looking:
            self._looking = True
            self.call_next(self._look)

    def _look(self) -> None:
        """Repainted if what ScrollBar.render would draw now, made by its own renderer, differs
        from what it drew: the segments say where the thumb's ends are, to an eighth of a cell."""
        self._looking = False
        length = self.size.height if self.vertical else self.size.width
        window = self.window_size if self.window_size < self.window_virtual_size else 0
        bar = self.renderer.render_bar(
            size=length,
            virtual_size=ceil(self.window_virtual_size),
            window_size=ceil(window),
            position=self.position,
            vertical=self.vertical,
        )
        drawn = (length, *bar.segments)
        if drawn != self._drawn:
            self._drawn = drawn
            self.refresh()

    def watch_window_virtual_size(self) -> None:
        self._moved()

    def watch_window_size(self) -> None:
        self._moved()

    def watch_position(self) -> None:
        self._moved()


class SteadyScrollView(ScrollView):
    """A ``ScrollView`` whose change of length moves its scrollbar, not the screen's layout."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=False)
    # A new length repaints every line, as Textual's does (the logs count on it);
    # a view that redraws the lines that changed itself says False.
    repaint_on_length: ClassVar[bool] = True

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        """The vertical scrollbar, a steady one (made when first asked for, as Textual's is)."""
        if self._vertical_scrollbar is None:
            self._vertical_scrollbar = self._steady_bar(True, self.scrollbar_size_vertical)
        return self._vertical_scrollbar

    @property
    def horizontal_scrollbar(self) -> ScrollBar:
        """The horizontal scrollbar, a steady one."""
        if self._horizontal_scrollbar is None:
            self._horizontal_scrollbar = self._steady_bar(False, self.scrollbar_size_horizontal)
        return self._horizontal_scrollbar

    def _steady_bar(self, vertical: bool, thickness: int) -> SteadyScrollBar:
        """A scrollbar made and started as Textual makes its own, hidden until needed."""
        bar = SteadyScrollBar(vertical=vertical, name="vertical" if vertical else "horizontal", thickness=thickness)
        bar.display = False
        self.app._start_widget(self, bar)
        return bar

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
