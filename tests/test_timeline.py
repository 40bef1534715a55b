"""The timeline's lanes: the right phase in each column, and a screen that matches a fresh drawing
however lanes come and go."""

from __future__ import annotations

import random

from textual.app import App, ComposeResult

from mpviz.model import Model, Phase
from mpviz.model.actors import Proc
from mpviz.telemetry import Event
from mpviz.ui.widgets.timeline import LABEL, Timeline, lane

S = 1_000_000_000


def ev(t: float, pid: int, kind: str, obj: str = "", **data: object) -> Event:
    return Event(int(t * S), pid, kind, obj, dict(data))


def group(pid: int, start: float, wait: float, hold: float) -> list[Event]:
    """A process that starts, waits for the lock, holds it, and exits."""
    label = f"group {pid}"
    return [
        ev(start, pid, "proc.spawn", label, role="group", label=label, ppid=1),
        ev(start + 0.5, pid, "lock.wait", "door"),
        ev(start + 0.5 + wait, pid, "lock.acquired", "door"),
        ev(start + 0.5 + wait + hold, pid, "lock.released", "door"),
        ev(start + 0.5 + wait + hold, pid, "proc.exit", "", code=0),
    ]


def test_each_column_shows_the_phase_that_filled_most_of_it() -> None:
    model = Model()
    # Starts at 1.0, blocked 1.5–3.7, holds 3.7–5.2, exits at 5.2.
    model.apply(group(7, start=1.0, wait=2.2, hold=1.5))
    phases = lane(model.procs[7], 0, S, 8)
    running = model.procs[7].history[0][1]
    assert phases == [None, running, Phase.BLOCKED, Phase.BLOCKED, Phase.HOLDING, Phase.HOLDING, None, None]
    # Column 1 (1.0–2.0 s): half running, half blocked; the earlier one wins the tie.
    assert lane(model.procs[7], S // 2, S, 2) == [running, Phase.BLOCKED]
    # A window before it started or after it ended is empty.
    assert lane(model.procs[7], 10 * S, S, 3) == [None, None, None]


def weighed(proc: Proc, start: int, step: int, columns: int) -> list[Phase | None]:
    """A lane worked out column by column, the long way: each phase's time in the column, the
    first of the longest winning."""
    history = list(proc.history)
    out: list[Phase | None] = []
    for c in range(columns):
        begin, end = start + c * step, start + (c + 1) * step
        spans: dict[Phase, int] = {}
        for i, (t, phase, _) in enumerate(history):
            until = history[i + 1][0] if i + 1 < len(history) else start + columns * step
            overlap = min(until, end) - max(t, begin)
            if overlap > 0 and phase is not Phase.EXITED:
                spans[phase] = spans.get(phase, 0) + overlap
        out.append(max(spans, key=spans.__getitem__) if spans else None)
    return out


def test_a_lane_is_each_column_weighed() -> None:
    """Histories of every shape (changes far apart, hundreds in one column, a window past
    them or before them): the lane is what weighing each column the long way gives."""
    rng = random.Random(26)
    for _ in range(2000):
        proc = Proc(1)
        t = rng.randint(0, 100)
        for _ in range(rng.randint(0, 80)):
            proc.history.append((t, rng.choice(list(Phase)), ""))
            t += rng.choice([0, 1, 1, 2, 3, 5, 10, 37])
        start, step, columns = rng.randint(-20, t + 5), rng.randint(1, 12), rng.randint(1, 30)
        assert lane(proc, start, step, columns) == weighed(proc, start, step, columns)


class TimelineApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Timeline()


async def test_lanes_that_come_and_go_leave_the_screen_as_a_fresh_drawing_would() -> None:
    """Twelve processes over four minutes, more than the rows shown, most of them blocked for
    longer than the window (a bar that does not change as the window moves): at each moment the
    screen, drawn line by line as lanes left the window and moved up, equals the timeline drawn anew."""
    model = Model()
    for n in range(12):
        model.apply(group(100 + n, start=5.0 * n, wait=70.0 + 3 * n + 4 * (n % 3), hold=2.5 + n % 4))
    size = (LABEL + 40, 9)
    screens = {}
    app = TimelineApp()
    async with app.run_test(size=size) as pilot:
        timeline = app.query_one(Timeline)
        lanes_shown = set()
        for second in range(2, 240, 2):
            now = second * S
            timeline.sync(model, now)
            await pilot.pause()
            screens[second] = drawn = app.export_screenshot()
            lanes_shown.add(len(timeline._procs))
            # Scrolls down to the last lane, not past it: the legend and the axis take two rows.
            assert timeline.max_scroll_y == max(0, len(timeline._procs) + 2 - timeline.size.height)
            # The same moment drawn again from nothing: every line of it.
            timeline._frame = ()
            timeline._drawn = ()
            timeline.sync(model, now)
            await pilot.pause()
            assert drawn == app.export_screenshot(), f"the screen at {second} s differs from a fresh drawing"
        assert max(lanes_shown) > timeline.size.height - 2, "more lanes than rows, at some moment"
        assert 0 in lanes_shown, "and at the end none"
    # The scrollbar too: a timeline that shows only this moment, in an app of its own.
    for second in range(10, 240, 20):
        app = TimelineApp()
        async with app.run_test(size=size) as pilot:
            app.query_one(Timeline).sync(model, second * S)
            await pilot.pause()
            assert screens[second] == app.export_screenshot(), f"the timeline at {second} s, drawn alone"


async def test_the_living_come_first_when_the_lanes_do_not_fit() -> None:
    """Eight processes that ended a moment ago and three still waiting, in a view of five lanes:
    the three living are on screen, those that ended below them; with room for all, the order
    is the order they came in."""
    now = 30 * S
    events = [e for n in range(8) for e in group(200 + n, start=1.0 + n, wait=0.5, hold=0.5)]
    events += [e for n in range(3) for e in group(300 + n, start=10.0 + n, wait=100.0, hold=1.0)]
    model = Model()
    model.apply(sorted((e for e in events if e.t_ns <= now), key=lambda e: e.t_ns))  # the run so far
    alive = [300, 301, 302]
    app = TimelineApp()
    async with app.run_test(size=(LABEL + 40, 7)) as pilot:  # the legend, five lanes, the axis
        timeline = app.query_one(Timeline)
        timeline.sync(model, now)
        await pilot.pause()
        assert [p.pid for p in timeline._procs[:3]] == alive
        assert [p.pid for p in timeline._procs[3:]] == list(range(200, 208))
        on_screen = [timeline.render_line(y).text.split("  ")[0] for y in range(1, 6)]
        assert on_screen == ["group 300", "group 301", "group 302", "group 200", "group 201"]
    app = TimelineApp()
    async with app.run_test(size=(LABEL + 40, 14)) as pilot:  # room for all eleven
        timeline = app.query_one(Timeline)
        timeline.sync(model, now)
        await pilot.pause()
        assert [p.pid for p in timeline._procs] == [*range(200, 208), *alive]


async def test_a_phase_within_a_second_is_drawn_at_the_next_second_at_the_latest() -> None:
    """Lanes worked out at most once a second for phases alone (a flood changes them at every
    refresh): a phase that began in this second is not drawn yet, never drawn ahead of the
    model, and at the next second the screen is the timeline drawn anew; a new process is
    drawn at once."""
    events = group(100, start=1.0, wait=20.0, hold=5.0)
    model = Model()
    model.apply([e for e in events if e.t_ns <= 10 * S])
    app = TimelineApp()
    async with app.run_test(size=(LABEL + 40, 9)) as pilot:
        timeline = app.query_one(Timeline)
        timeline.sync(model, int(10.1 * S))
        await pilot.pause()
        before = app.export_screenshot()
        model.apply([ev(10.3, 100, "lock.acquired", "door")])  # blocked → holding, within the second
        timeline.sync(model, int(10.9 * S))
        await pilot.pause()
        assert app.export_screenshot() == before, "the lanes of 10.1 s until the next second"
        model.apply(group(101, start=10.95, wait=5.0, hold=1.0)[:1])
        timeline.sync(model, int(10.96 * S))
        await pilot.pause()
        assert "group 101" in " ".join(timeline.render_line(y).text for y in range(1, 4)), "a new process at once"
        timeline.sync(model, int(11.0 * S))
        await pilot.pause()
        drawn = app.export_screenshot()
        assert drawn != before
        timeline._frame = ()
        timeline._drawn = ()
        timeline.sync(model, int(11.0 * S))
        await pilot.pause()
        assert drawn == app.export_screenshot(), "at the next second, as a fresh drawing"
