"""Logs that grow without a layout of the screen: line after line, their scrollbars and lines are
those of a log given all its lines at once."""

from __future__ import annotations

import html

from textual.app import App, ComposeResult
from textual.widgets import Log

from mpviz.model import Model
from mpviz.telemetry import Event
from mpviz.ui.widgets.event_log import EventLog
from mpviz.ui.widgets.output import OutputView

SIZE = (40, 8)


def lines(n: int) -> list[str]:
    # Mostly short lines, now and then one wider than the log: both scrollbars come and go.
    return [
        f"line {i}" + (" and a long tail, well past the right edge of the log" if i % 7 == 3 else "") for i in range(n)
    ]


class One(App[None]):
    def __init__(self, log: Log | OutputView) -> None:
        super().__init__()
        self.log_view = log
        self.model = Model()  # what an OutputView shows

    def compose(self) -> ComposeResult:
        yield self.log_view


def write(log: Log | OutputView, new: list[str]) -> None:
    if isinstance(log, Log):
        log.write_lines(new)
    else:
        model = log.app.model
        for line in new:
            model.apply_one(Event(0, 1, "proc.output", "", {"stream": "out", "text": line}))
        log.show(model)


async def picture(log: Log | OutputView, all_lines: list[str]) -> str:
    app = One(log)
    async with app.run_test(size=SIZE) as pilot:
        write(log, all_lines)
        await pilot.pause()
        await pilot.pause()
        return app.export_screenshot()


async def test_the_logs_grow_line_by_line_as_if_written_at_once() -> None:
    for make in (EventLog, OutputView):
        app = One(make())
        written: list[str] = []
        seen = {}
        async with app.run_test(size=SIZE) as pilot:
            for count in (1, 2, 3, 5, 6, 7, 9, 14, 15, 30):
                new = lines(count)[len(written) :]
                write(app.log_view, new)
                written += new
                await pilot.pause()
                await pilot.pause()
                seen[count] = app.export_screenshot()
            assert app.log_view.show_vertical_scrollbar and app.log_view.show_horizontal_scrollbar
        for count, drawn in seen.items():
            assert drawn == await picture(make(), lines(count)), f"{make.__name__} with {count} lines"


async def test_a_full_log_shows_its_newest_lines() -> None:
    """At its most lines, a write drops the oldest and moves every line up: the view shows the
    newest lines, as a log given the same lines at once does (Textual's Log redrew only the new
    lines, below the view: the event log stood still at the moment it filled)."""
    log = EventLog()
    app = One(log)
    async with app.run_test(size=SIZE) as pilot:
        log.max_lines = 12
        for start in (0, 20, 23):
            write(log, [f"line {i}" for i in range(start, start + (20 if start == 0 else 3))])
            await pilot.pause()
            await pilot.pause()
        drawn = app.export_screenshot()
    assert "line 25" in html.unescape(drawn).replace("\xa0", " ")
    again = EventLog()
    again.max_lines = 12
    assert drawn == await picture(again, [f"line {i}" for i in range(14, 26)])


async def test_a_scrollbar_is_drawn_again_when_its_thumb_moves_on_screen_and_only_then() -> None:
    """A log following its newest line, a line at a time, growing and then full: its thumb, as
    small as it gets, stays at the bottom, and its bar is drawn as a log given the lines at once
    draws it, but not drawn again (Textual drew it again, whole, at every write while the log
    grew); scrolled to the top, its thumb is drawn there."""
    log = EventLog()
    app = One(log)
    seen = {}
    async with app.run_test(size=SIZE) as pilot:
        write(log, lines(900))
        await pilot.pause()
        await pilot.pause()
        bar = log.vertical_scrollbar
        drawn = 0
        render = bar.render

        def counted() -> object:
            nonlocal drawn
            drawn += 1
            return render()

        bar.render = counted  # type: ignore[method-assign]
        for count in range(901, 1101):
            write(log, lines(count)[-1:])
            await pilot.pause()
            if count in (937, 1100):
                await pilot.pause()
                seen[count] = app.export_screenshot()
        assert drawn == 0
        log.scroll_home(animate=False)
        await pilot.pause()
        await pilot.pause()
        assert drawn == 1
        top = app.export_screenshot()
    for count, screen in seen.items():
        assert screen == await picture(EventLog(), lines(count)[-1000:]), f"{count} lines"
    again = One(EventLog())
    async with again.run_test(size=SIZE) as pilot:
        write(again.log_view, lines(1100)[-1000:])
        await pilot.pause()
        again.log_view.scroll_home(animate=False)
        await pilot.pause()
        await pilot.pause()
        assert top == again.export_screenshot()
