"""The process table's pure helpers: the columns a width takes, a cell's fit, the tree, the sparklines, a row."""

from __future__ import annotations

from rich.cells import cell_len

from mpviz.model import Model, Phase
from mpviz.telemetry import Event
from mpviz.ui.widgets import history
from mpviz.ui.widgets.process_columns import COLUMNS, GAP, STATE_WIDTH, fit, layout
from mpviz.ui.widgets.process_rows import row_of
from mpviz.ui.widgets.process_tree import OPEN, SHUT, tree

S = 1_000_000_000


def test_a_wide_table_shows_every_column_and_state_takes_the_rest_within_bounds() -> None:
    everything = layout(300)
    assert everything.keys == tuple(c[0] for c in COLUMNS)
    assert everything.widths[everything.keys.index("state")] == STATE_WIDTH[1], "state stops growing at its bound"
    fixed = sum(w + GAP for _, _, w, _ in COLUMNS) + GAP
    just = layout(fixed + 40)
    assert just.widths[just.keys.index("state")] == 40, "between its bounds, state takes what is left"
    assert just.width <= fixed + 40


def test_a_narrow_table_drops_columns_lowest_rank_first_and_never_the_essential_ones() -> None:
    ranks = {key: rank for key, _, _, rank in COLUMNS}
    previous = set(layout(300).keys)
    for width in range(300, 20, -1):
        shown = set(layout(width).keys)
        assert shown <= previous, "a narrower table never shows a column a wider one dropped"
        dropped = {key for key in previous - shown}
        kept_ranks = [ranks[key] for key in shown if ranks[key]]
        assert all(ranks[key] <= min(kept_ranks, default=99) for key in dropped), "lowest rank first"
        previous = shown
    assert {key for key, rank in ranks.items() if rank == 0} <= set(layout(20).keys), "rank 0 is never dropped"
    assert layout(20).widths[layout(20).keys.index("state")] == STATE_WIDTH[0], "state never below its bound"


def test_fit_pads_cuts_and_counts_cells_not_characters() -> None:
    assert fit("ab", 5) == "ab   "
    assert fit("ab", 5, right=True) == "   ab"
    assert fit("abcdef", 4) == "abc…"
    assert fit("abcd", 4) == "abcd", "exactly the width: no ellipsis"
    wide = fit("进程进程进程", 7)  # two cells a character
    assert cell_len(wide) == 7 and wide.endswith("…")


def _spawn(pid: int, ppid: int, label: str, t: int = 1) -> Event:
    return Event(t, pid, "proc.spawn", label, {"role": "worker", "label": label, "ppid": ppid})


def test_the_tree_puts_children_under_their_parents_with_tree_lines() -> None:
    model = Model()
    model.apply(
        [
            _spawn(10, 1, "main", 1),
            _spawn(11, 10, "a", 2),
            _spawn(12, 10, "b", 3),
            _spawn(13, 11, "a's child", 4),
            _spawn(14, 11, "a's other", 5),
            _spawn(20, 999, "orphan", 6),  # its parent was never seen: a root
        ]
    )
    found = tree(model, set())
    drawn = [row.prefix + model.procs[row.pid].name for row in found.rows]
    assert drawn == ["▾ main", "├ ▾ a", "│ ├ a's child", "│ └ a's other", "└ b", "orphan"]
    assert found.rest == []
    # Folded: one row for the subtree, saying how many it hides.
    folded = tree(model, {11})
    assert [(r.pid, r.mark, r.hidden) for r in folded.rows[:3]] == [(10, OPEN, 0), (11, SHUT, 2), (12, "", 0)]


def test_an_exited_parent_stays_in_the_tree_while_a_child_of_it_lives() -> None:
    model = Model()
    model.apply(
        [_spawn(10, 1, "main", 1), _spawn(11, 10, "a", 2), _spawn(12, 11, "a's child", 3), _spawn(13, 10, "b", 4)]
    )
    model.apply([Event(5, 11, "proc.exit", "", {"code": 0}), Event(5, 13, "proc.exit", "", {"code": 0})])
    found = tree(model, set())
    assert [row.pid for row in found.rows] == [10, 11, 12], "the living hang from their real parents"
    assert found.rest == [13], "the exited with nothing living under them come after the tree"


def test_the_tree_survives_a_cycle_of_parents() -> None:
    """Reused pids can make two processes each other's parent: both shown, none lost."""
    model = Model()
    model.apply([_spawn(30, 31, "x"), _spawn(31, 30, "y")])
    assert {row.pid for row in tree(model, set()).rows} == {30, 31}


def _stats(t: float, pid: int, cpu: float, rss: int) -> Event:
    return Event(int(t * S), pid, "proc.stats", "", {"cpu": cpu, "rss": rss, "threads": 1, "status": "running"})


def test_a_sparkline_draws_the_last_minute_in_columns_of_its_step() -> None:
    model = Model()
    model.apply([_spawn(10, 1, "w", 0), _spawn(11, 10, "v", 0)])
    step = history.STEP_NS / S
    model.apply([_stats(i * step, 10, cpu, 1 << 20) for i, cpu in enumerate((0, 50, 100, 25, 0, 0, 0, 200))])
    now = int((history.CELLS - 1) * step * S + S)
    assert history.sparkline([model.procs[10]], "cpu", now) == "▁▂▄▁▁▁▁█", "from 0 to 100 %, or to the most used"
    assert history.sparkline([model.procs[11]], "cpu", now) == " " * history.CELLS, "no sample: no bars"
    assert history.sparkline([model.procs[10]], "rss", now) == "▁" * history.CELLS, "a flat memory: the lowest bar"
    assert history.bars([0.0, 50.0, 100.0, None], "cpu", rows=2) == ["  █ ", "▁██ "], "taller: each line 8 levels"


def test_a_folded_row_adds_up_the_figures_under_it() -> None:
    model = Model()
    model.apply([_spawn(10, 1, "main", 0), _spawn(11, 10, "a", 0), _spawn(12, 10, "b", 0)])
    model.apply([_stats(1, 10, 1.0, 1 << 20), _stats(1, 11, 2.0, 2 << 20), _stats(1, 12, 4.0, 4 << 20)])
    found = tree(model, {10})
    (root,) = found.rows
    row = row_of(model, model.procs[10], 2 * S, root, [model.procs[p] for p in (10, 11, 12)])
    assert row[1] == "▸ main (+2)"
    assert (row[6].strip(), row[8]) == ("7.0", "7.0M")


def test_a_row_says_who_what_for_how_long_and_the_psutil_figures() -> None:
    model = Model()
    model.apply(
        [
            _spawn(10, 1, "main", 0),
            _spawn(11, 10, "group 0", 0),
            Event(0, 11, "prim.new", "11.1", {"kind": "lock", "name": "door", "site": "x.py:1"}),
            Event(1 * S, 11, "lock.acquired", "11.1", {}),
            Event(2 * S, 11, "proc.stats", "", {"cpu": 12.5, "rss": 3 * 1048576, "threads": 2, "status": "sleeping"}),
        ]
    )
    proc = model.procs[11]
    branch = tree(model, set()).rows[1]
    row = row_of(model, proc, 5 * S, branch)
    pid, who, state, since, holds, status, cpu, cpu_h, rss, rss_h, threads, phase = row
    assert (pid, who, state) == ("11", "└ group 0", "holding 'door'")
    assert cpu_h.strip() == "▁" and rss_h.strip() == "▁", "one sample: one column of the last minute"
    assert holds == "door" and phase == Phase.HOLDING.value
    assert since == "4s", "in its state since the acquire"
    assert (status, cpu.strip(), rss, threads) == ("sleeping", "12.5", "3.0M", "2")
    model.apply([Event(6 * S, 11, "proc.exit", "", {"code": 0})])
    exited = row_of(model, model.procs[11], 7 * S)
    assert exited[5] == "exited" and (exited[6], exited[8], exited[10]) == ("", "", "") and exited[3] == "", (
        "no figures for the dead"
    )
