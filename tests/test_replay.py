"""mpviz replay: a recording played back in the same screens, with pause, step and speed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import mpviz
from gallery import RECORDINGS

from mpviz.ui.app import make_app
from mpviz.ui.sources import ReplaySource
from mpviz.ui.widgets.event_log import EventLog
from mpviz.ui.widgets.process_table import ProcessTable


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No such file or directory"),
        ("", "empty file, not an mpviz recording"),
        ("hello\n", "line 1 is not JSON: not an mpviz recording"),
        ('{"mpviz": 1, "lesson": "nosuch"}\n', "recording of an unknown lesson 'nosuch'"),
        ('{"mpviz": 1, "lesson": "ktv"}\n[1, 2, "x"]\n', "line 2: not an event"),
    ],
    ids=["missing", "empty", "not-json", "unknown-lesson", "bad-event"],
)
def test_bad_recordings_are_one_line_and_exit_2(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "rec.jsonl"
    if content is not None:
        path.write_text(content)
    done = mpviz("replay", str(path))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"mpviz: error: cannot replay {path}: ")
    assert message in done.stderr


async def test_replay_plays_pauses_and_steps() -> None:
    source = ReplaySource(RECORDINGS / "ktv.jsonl", speed=4)
    app = make_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        assert source.model.applied > 0, "playing: records arrive"
        await pilot.press("space")
        assert source.paused
        await pilot.pause(0.3)
        frozen = source.model.applied
        await pilot.pause(0.5)
        assert source.model.applied == frozen, "paused: nothing moves"
        moment = source.events[frozen].t_ns
        same = sum(1 for e in source.events if e.t_ns == moment)
        await pilot.press("n")
        assert source.model.applied == frozen + same, "n steps to the next moment, and its records only"
        assert source.now_ns() == moment
        await pilot.pause(0.3)
        assert source.model.applied == frozen + same
        await pilot.press("plus")
        assert source.speed == 8
        await pilot.press("space")
        assert not source.paused
        await pilot.pause(0.2)
        table = app.screen.query_one(ProcessTable)
        assert table.row_count >= 2


async def test_replay_to_the_end_gives_the_recorded_verdict() -> None:
    source = ReplaySource(RECORDINGS / "ktv.jsonl", speed=64)
    app = make_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(400):
            if source.model.applied == len(source.events):
                break
            await pilot.pause(0.05)
        assert source.done and source.model.applied == len(source.events)
        verdict = source.verdict()
        assert verdict.ok is True
        assert verdict.text == "7 of 7 groups sang; at most 4 inside at once (rooms: 4): invariant held"


async def test_command_palette_opens_a_lesson() -> None:
    app = make_app()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("ctrl+p")
            await pilot.press(*"Lesson: traffic")
            await pilot.pause(0.3)
            await pilot.press("enter")
            for _ in range(100):
                if app.screen.__class__.__name__ == "TrafficScreen":
                    break
                await pilot.pause(0.05)
            assert app.screen.__class__.__name__ == "TrafficScreen"
            assert app.screen.source.controls is not None
    finally:
        app.close_all()


async def test_the_event_log_keeps_following_when_it_shrinks() -> None:
    """The alerts growing (a deadlock's warning) or the terminal shrinking make the log shorter:
    its newest lines stay in view."""
    source = ReplaySource(RECORDINGS / "chat.jsonl", speed=2.0)
    app = make_app(source)
    async with app.run_test(size=(120, 48)) as pilot:
        log = app.screen.query_one(EventLog)
        deadline = time.monotonic() + 60
        while log.line_count <= log.size.height + 5:
            assert time.monotonic() < deadline, "too few lines to scroll"
            await pilot.pause(0.05)
        await pilot.resize_terminal(120, 40)
        seen = log.line_count
        while log.line_count < seen + 3:  # more lines come after the log shrank
            assert time.monotonic() < deadline, "nothing came after the log shrank"
            await pilot.pause(0.05)
        await pilot.pause()
        assert log.is_vertical_scroll_end, "the log still shows its newest lines"
