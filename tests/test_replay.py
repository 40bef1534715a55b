"""mpviz replay: a recording played back in the same screens, with pause, step and speed."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest
from conftest import load, mpviz
from helpers.dashboard import until
from helpers.gallery import RECORDINGS

from mpviz.model import Model
from mpviz.model.stats import contention
from mpviz.recording import index
from mpviz.telemetry import Event
from mpviz.ui.app import make_app
from mpviz.ui.sources import ReplaySource
from mpviz.ui.widgets.event_log import EventLog
from mpviz.ui.widgets.process_table import ProcessTable
from mpviz.ui.widgets.title_bar import TitleBar


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
    # Slowly (the recording's 6 s take 12 here): at 4 ×, a loaded machine played all of it between
    # the first record and the key.
    source = ReplaySource(RECORDINGS / "ktv.jsonl", speed=0.5)
    _, events = load(RECORDINGS / "ktv.jsonl")
    app = make_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        # Paused as soon as records arrive (a fixed wait let a loaded machine play the whole recording).
        await until(pilot, lambda: source.model.applied > 0, what="playing: records arrive")
        await pilot.press("space")
        assert source.paused
        await pilot.pause(0.3)
        frozen = source.model.applied
        assert frozen < len(events), "paused before the end"
        await pilot.pause(0.5)
        assert source.model.applied == frozen, "paused: nothing moves"
        moment = events[frozen].t_ns
        same = sum(1 for e in events if e.t_ns == moment)
        await pilot.press("n")
        assert source.model.applied == frozen + same, "n steps to the next moment, and its records only"
        assert source.now_ns() == moment
        await pilot.pause(0.3)
        assert source.model.applied == frozen + same
        await pilot.press("plus")
        assert source.speed == 1
        await pilot.press("space")
        assert not source.paused
        await pilot.pause(0.2)
        table = app.screen.query_one(ProcessTable)
        assert table.virtual_size.height - 1 >= 2, "a row per process, under the header"


async def test_replay_to_the_end_gives_the_recorded_verdict() -> None:
    source = ReplaySource(RECORDINGS / "ktv.jsonl", speed=64)
    _, events = load(RECORDINGS / "ktv.jsonl")
    app = make_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(400):
            if source.model.applied == len(events):
                break
            await pilot.pause(0.05)
        assert source.done and source.model.applied == len(events)
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


async def test_enter_on_the_home_screen_before_anything_is_highlighted_opens_the_first_lesson() -> None:
    """An Enter before the list has highlighted a lesson (at once, on a loaded machine) opens the one
    the screen describes from the start.  Before: it did nothing (CI: 'waiting for 5 lesson processes')."""
    from textual.widgets import OptionList

    from mpviz.registry import NAMES
    from mpviz.ui.screens.run.screen import RunScreen

    app = make_app()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            app.screen.query_one(OptionList).highlighted = None
            app.screen.action_start()  # type: ignore[attr-defined]
            await until(pilot, lambda: isinstance(app.screen, RunScreen), what="a lesson opened")
            assert app.screen.source.name == NAMES[0]
    finally:
        app.close_all()


async def test_the_event_log_keeps_following_when_it_shrinks() -> None:
    """The alerts growing (a deadlock's warning) or the terminal shrinking make the log shorter:
    its newest lines stay in view."""
    source = ReplaySource(RECORDINGS / "chat.jsonl", speed=2.0)
    # Paused, and stepped (n): the lines come when the test asks.  Played, the recording (2 s at
    # this speed) could end on a loaded machine before the log shrank, and nothing came after.
    source.toggle_pause()
    app = make_app(source)
    async with app.run_test(size=(120, 48)) as pilot:
        log = app.screen.query_one(EventLog)
        deadline = time.monotonic() + 60
        while log.line_count <= log.size.height + 5:
            assert time.monotonic() < deadline and not source.done, "too few lines to scroll"
            await pilot.press("n")
            await pilot.pause(0.05)  # (the pace of the steps: the log is written at the next refresh)
        await pilot.resize_terminal(120, 40)
        seen = log.line_count
        while log.line_count < seen + 3:  # more lines come after the log shrank
            assert time.monotonic() < deadline and not source.done, "nothing came after the log shrank"
            await pilot.press("n")
            await pilot.pause(0.05)
        await pilot.pause()
        assert log.is_vertical_scroll_end, "the log still shows its newest lines"


def fingerprint(model: Model, now_ns: int) -> object:
    """What the views read of a model: equal fingerprints, equal screens."""
    procs = {p.pid: (p.state, p.phase, dict(p.holds), p.waiting_on, p.alive, p.lines) for p in model.procs.values()}
    prims = {
        p.id: (
            (dict(p.holders), dict(p.waiters), p.value, p.depth, p.is_set, p.broken),
            (p.puts, p.gets, p.passed, p.tasks, p.results, p.max_holders),
        )
        for p in model.prims.values()
    }
    return model.applied, procs, prims, contention(model, now_ns), [e.t_ns for e in model.log]


def straight(events: list[Event], t_ns: int) -> Model:
    model = Model()
    for event in events:
        if event.t_ns <= t_ns:
            model.apply_one(event)
    return model


@pytest.mark.parametrize("name", ["prodcons", "ktv", "tickets-deadlock"])
def test_a_moment_from_checkpoints_is_the_moment_played_straight(monkeypatch, name: str) -> None:
    monkeypatch.setattr(index, "CHECKPOINT_EVERY", 7)
    monkeypatch.setattr(index, "MAX_CHECKPOINTS", 4)  # thinned, and thinned again
    path = RECORDINGS / f"{name}.jsonl"
    _, events = load(path)
    recording = index.Recording(path)
    recording.index.scan()
    assert recording.index.done and recording.index.records == len(events)
    assert recording.index.every > 7 and recording.index.checkpoints <= 4
    assert recording.end_ns == max(e.t_ns for e in events)
    rng = random.Random(4)
    moments = [recording.t0 - 1, recording.t0, recording.end_ns, *(rng.choice(events).t_ns for _ in range(20))]
    for t in moments:
        moment = recording.moment(t)
        assert fingerprint(moment.model, t) == fingerprint(straight(events, t), t)
        assert moment.applied == moment.model.applied
    recording.close()


def test_seeks_back_and_forth_give_the_moment() -> None:
    path = RECORDINGS / "prodcons.jsonl"
    _, events = load(path)
    source = ReplaySource(path, at=3.0, frozen=True)
    source.model.apply(source.read(0))
    t0 = source.t0
    for seconds in (5.0, 9.5, 2.0, 16.0, 0.0, 30.0, 7.25):
        source.seek_to(t0 + int(seconds * 1e9))
        batch = source.read(0)
        source.model.apply(batch)
        now = source.now_ns()
        assert now == min(t0 + int(seconds * 1e9), source.end_ns)
        assert fingerprint(source.model, now) == fingerprint(straight(events, now), now), seconds
    source.close()


async def test_scrub_keys_move_the_replay(tmp_path: Path) -> None:
    path = RECORDINGS / "prodcons.jsonl"
    _, events = load(path)
    source = ReplaySource(path)
    app = make_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")  # paused
        screen = app.screen

        async def at(seconds: float) -> None:
            target = min(source.t0 + int(seconds * 1e9), source.end_ns)
            for _ in range(200):
                if source.now_ns() == target and screen.model.applied == straight(events, target).applied:
                    return
                await pilot.pause(0.02)
            raise AssertionError(f"not at {seconds} s: {(source.now_ns() - source.t0) / 1e9} s")

        await pilot.press("end")
        await at(100)
        assert screen.model.applied == len(events)
        await pilot.press("home")
        await at(0)
        await pilot.press("shift+right", "right", "right")
        await at(12)
        await pilot.press("left")
        await at(11)
        await pilot.press("shift+left")
        await at(1)
        assert "0:01 / 0:16" in screen.query_one(TitleBar).plain
        assert screen.model is source.model
    source.close()


async def test_a_refresh_due_while_the_screen_is_removed_draws_nothing() -> None:
    """Leaving a run (quitting, or back to the menu) removes the screen's widgets before the screen:
    a refresh or tick due in between must not look for them (it ended a CI run with NoMatches)."""
    app = make_app(ReplaySource(RECORDINGS / "ktv.jsonl", speed=64))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        screen = app.screen
        loop = asyncio.get_running_loop()
        without_table = 0

        def due() -> None:  # a timer due at every turn of the loop until the screen is gone
            nonlocal without_table
            without_table += not screen.query(ProcessTable)
            screen._pace._last_second = -1  # the clock's full redraw is due
            screen._call(screen.refresh_views)
            if screen.is_attached:
                loop.call_soon(due)

        due()
        await screen.remove()
        await pilot.pause(0.1)
        assert without_table, "a refresh came while the screen had lost its widgets"
    # run_test raises here what the app met, as it did in CI (NoMatches: ProcessTable)
