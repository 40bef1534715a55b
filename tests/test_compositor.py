"""The run screen's compositor: a partial update renders only the widgets refreshed, and what it
writes leaves the terminal as a full render of the screen would draw it."""

from __future__ import annotations

from typing import Any

import pytest
from rich.segment import ControlType, Segment
from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widget import Widget

from mpviz.ui.compositor import SparseCompositor
from mpviz.ui.widgets.text_view import TextView

SIZE = (60, 20)


def lines(word: str, n: int = 3) -> Text:
    return Text("\n".join(f"{word} {i}" for i in range(n)))


class Views(Screen[None]):
    def __init__(self) -> None:
        super().__init__()
        self._compositor = SparseCompositor()

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield TextView(id="a")
            yield TextView(id="b")
        yield TextView(id="middle")
        yield TextView(id="bottom")

    def on_mount(self) -> None:
        for view in self.query(TextView):
            view.styles.border = ("round", "white")
            view.show(lines(view.id or ""))


class Shown(App[None]):
    def on_mount(self) -> None:
        self.push_screen(Views())


def paint(screen: list[list[str]], segments: list[Segment]) -> None:
    """What a terminal does with a partial update's segments (one cell a character)."""
    x = y = 0
    for segment in segments:
        if segment.control:
            for code in segment.control:
                if code[0] is ControlType.CURSOR_MOVE_TO:
                    x, y = code[1], code[2]
            continue
        for char in segment.text:
            if char != "\n":
                screen[y][x] = char
                x += 1


async def test_a_partial_update_renders_the_widgets_refreshed_and_draws_what_a_full_render_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = Shown()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, Views)
        compositor = screen._compositor
        terminal = [list(strip.text) for strip in compositor.render_strips()]
        updates: list[Any] = []
        rendered: list[str] = []
        partial, render_lines = SparseCompositor.render_partial_update, Widget.render_lines

        def recorded(self: SparseCompositor) -> Any:
            update = partial(self)
            if update is not None:
                updates.append(update)
            return update

        def counted(self: Widget, crop: Any) -> Any:
            rendered.append(self.id or type(self).__name__)
            return render_lines(self, crop)

        monkeypatch.setattr(SparseCompositor, "render_partial_update", recorded)
        monkeypatch.setattr(Widget, "render_lines", counted)
        # A line changes at the top left, and one at the bottom: the box around them is the screen.
        screen.query_one("#a", TextView).show(Text("a 0\nA 1 changed\na 2"))
        screen.query_one("#bottom", TextView).show(Text("bottom 0\nbottom 1\nbottom 2 changed"))
        await pilot.pause()
        await pilot.pause()
        assert updates, "no partial update"
        assert "a" in rendered and "bottom" in rendered
        assert "b" not in rendered and "middle" not in rendered  # neither was refreshed
        for update in updates:
            paint(terminal, list(update.__rich_console__(app.console, app.console.options)))
        monkeypatch.undo()
        drawn = ["".join(row) for row in terminal]
        assert drawn == [strip.text for strip in compositor.render_strips()]
        assert any("A 1 changed" in row for row in drawn) and any("bottom 2 changed" in row for row in drawn)
