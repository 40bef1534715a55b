"""The process tree (folded with a key and a click), each process's last minutes, and a replay scrubbed
back to a spike — in a replay of a real attached run (tests/recordings/attach.jsonl: tests/programs/service.py)."""

from __future__ import annotations

from helpers.dashboard import rows, text_of
from helpers.gallery import RECORDINGS

from mpviz.ui.app import make_app
from mpviz.ui.sources import ReplaySource
from mpviz.ui.widgets import history
from mpviz.ui.widgets.details import LABEL, Details
from mpviz.ui.widgets.process_table import ProcessTable
from mpviz.ui.widgets.title_bar import TitleBar

SIZE = (160, 48)
RECORDING = RECORDINGS / "attach.jsonl"


def by_label(source: ReplaySource, label: str) -> list[int]:
    return [p.pid for p in source.model.procs.values() if p.label == label]


async def test_a_subtree_folds_into_its_row_with_its_figures_added_up_by_key_and_by_click() -> None:
    source = ReplaySource(RECORDING, at=20.0, frozen=True)
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.query_one(ProcessTable)
        (crew,) = by_label(source, "crew")
        workers = by_label(source, "work")
        shown = rows(table)
        assert "▾ crew" in shown[crew] and all(pid in shown for pid in workers), "unfolded: the workers under it"
        title = app.screen.query_one(TitleBar).plain
        assert "replay" in title and "detaches" not in title, "a replay of an attached run detaches nothing"
        assert app.screen.active_bindings["q"].binding.description == "Quit", "the footer's q: it quits the replay"
        assert list(shown).index(crew) < min(list(shown).index(w) for w in workers)
        table.focus()
        await pilot.press("down", "enter")
        shown = rows(table)
        assert "▸ crew (+3)" in shown[crew] and not set(workers) & set(shown), "folded: one row for four processes"
        rss = sum(source.model.procs[p].stats.rss for p in [crew, *workers])  # type: ignore[union-attr]
        assert f"{rss / 1048576:.1f}M" in shown[crew], "its memory added up"
        # A click on the mark unfolds it again.
        line = list(shown).index(crew) + 1  # under the header
        column = text_of(table).splitlines()[line + 1].index("▸")  # the border's line first
        await pilot.click(ProcessTable, offset=(column, line + 1))
        assert "▾ crew" in rows(table)[crew] and set(workers) <= set(rows(table))


async def test_the_spike_key_takes_the_replay_back_to_the_highest_cpu_and_shows_every_process_then() -> None:
    source = ReplaySource(RECORDING, at=20.0, frozen=True)
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.query_one(ProcessTable)
        (burst,) = by_label(source, "burst")
        assert "sleeping at service.py" in rows(table)[burst]
        samples = source.model.procs[burst].samples
        peak = samples.peak(0, source.now_ns())
        assert peak is not None and peak[1] > 20, "it burst"
        table.focus()
        while table.selected_pid != burst:
            await pilot.press("down")
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert source.now_ns() == peak[0] and source.paused, "there, and it stays there"
        assert "running at service.py in burst" in rows(table)[burst], "what it did at that moment"
        assert source.model.procs[burst].stats.cpu == peak[1]  # type: ignore[union-attr]


async def test_a_click_on_a_sparkline_or_on_the_graph_moves_the_replay_to_that_moment() -> None:
    source = ReplaySource(RECORDING, at=20.0, frozen=True)
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.query_one(ProcessTable)
        (burst,) = by_label(source, "burst")
        line = list(rows(table)).index(burst) + 1
        header = text_of(table).splitlines()[1]
        # The column of the sparkline the spike is in: the replay goes to the highest CPU in it.
        now = source.now_ns()
        start = history.grid(now, history.STEP_NS, history.CELLS)
        peak = source.model.procs[burst].samples.peak(start, now)
        assert peak is not None and peak[1] > 20
        column = (peak[0] - start) // history.STEP_NS
        await pilot.click(ProcessTable, offset=(header.index("CPU 1m") + column, line + 1))
        assert source.now_ns() == peak[0] and source.paused
        assert table.selected_pid == burst
        # The details pane draws the selected process's graph; a click on it is a moment too.
        details = app.screen.query_one(Details)
        await pilot.pause()
        lines = text_of(details).splitlines()  # the border's line first, then the text inside border and padding
        (graph,) = [i for i, text in enumerate(lines) if text.strip("│ ").startswith("cpu ")]
        moved = source.now_ns()
        await pilot.click(Details, offset=(2 + LABEL, graph))  # its first column: a minute back, before the start
        assert moved > source.now_ns() == source.t0 and source.paused
