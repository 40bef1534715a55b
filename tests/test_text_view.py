"""The text view: as tall as its text, at once when the text grows, a while later when it shrinks."""

from __future__ import annotations

import time

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

from mpviz.ui.widgets import text_view
from mpviz.ui.widgets.text_view import TextView


class One(App[None]):
    def compose(self) -> ComposeResult:
        yield TextView()


def text(rows: int) -> Text:
    return Text("\n".join(f"row {i}" for i in range(rows)), style="bold")


async def test_it_grows_at_once_and_shrinks_when_shorter_for_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_view, "SHRINK_AFTER_S", 0.3)
    app = One()
    async with app.run_test(size=(30, 12)) as pilot:
        view = app.query_one(TextView)
        view.show(text(3))
        await pilot.pause()
        assert view.size.height == 3
        view.show(text(5))
        await pilot.pause()
        assert view.size.height == 5  # taller: at once
        # A row less (a list that wraps to one row less): the height stays, the rows that went are blank.
        view.show(text(4))
        await pilot.pause()
        assert view.size.height == 5 and view.row_text(3) == "row 3" and view.row_text(4) == ""
        assert view.render_line(4).text.strip() == ""
        deadline = time.monotonic() + 30
        while view.size.height != 4:  # shown again and again, as each refresh does
            assert time.monotonic() < deadline, "it never shrank"
            view.show(text(4))
            await pilot.pause(0.05)
        # A replay moved: the next text sets the height at once.
        view.fit()
        view.show(text(2))
        await pilot.pause()
        assert view.size.height == 2


async def test_a_line_is_drawn_as_rich_draws_it() -> None:
    """A line's own style under its spans', cut and padded to the width; a long one wrapped."""
    app = One()
    async with app.run_test(size=(20, 12)) as pilot:
        view = app.query_one(TextView)
        line = Text("plain ", style="italic")
        line.append("bold", style="bold")
        view.show(Text.assemble(line, "\n", "a line long enough to wrap at twenty"))
        await pilot.pause()
        first = view.render_line(0)
        assert first.text == "plain bold".ljust(20)
        assert all(segment.style is not None and segment.style.italic for segment in list(first)[:2])
        assert [view.row_text(y).strip() for y in (1, 2)] == ["a line long enough", "to wrap at twenty"]


class InPanel(App[None]):
    """A text view in a scrolling view of fixed size, as a lesson's panel holds one."""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield TextView()


async def test_in_a_scrolling_view_it_shrinks_later(monkeypatch: pytest.MonkeyPatch) -> None:
    """There a shorter text moves nothing else on the screen: the height waits for SHRINK_IN_SCROLL_S."""
    monkeypatch.setattr(text_view, "SHRINK_AFTER_S", 0.05)
    monkeypatch.setattr(text_view, "SHRINK_IN_SCROLL_S", 3600)
    app = InPanel()
    async with app.run_test(size=(30, 12)) as pilot:
        view = app.query_one(TextView)
        view.show(text(5))
        await pilot.pause()
        assert view.size.height == 5
        shorter_since = time.monotonic()
        while time.monotonic() < shorter_since + 0.5:  # ten times SHRINK_AFTER_S
            view.show(text(4))
            await pilot.pause(0.05)
        assert view.size.height == 5 and view.row_text(4) == ""
        monkeypatch.setattr(text_view, "SHRINK_IN_SCROLL_S", 0.3)
        deadline = time.monotonic() + 30
        while view.size.height != 4:
            assert time.monotonic() < deadline, "it never shrank"
            view.show(text(4))
            await pilot.pause(0.05)
