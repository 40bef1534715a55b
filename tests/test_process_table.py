"""The process table's pure helpers: the columns a width takes, a cell's fit, the tree's depths, a row."""

from __future__ import annotations

from rich.cells import cell_len

from mpviz.model import Model, Phase
from mpviz.telemetry import Event
from mpviz.ui.widgets.process_table import COLUMNS, GAP, STATE_WIDTH, depths, fit, layout, row_of

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


def test_depths_put_children_under_their_parents_in_tree_order() -> None:
    model = Model()
    model.apply(
        [
            _spawn(10, 1, "main", 1),
            _spawn(11, 10, "a", 2),
            _spawn(12, 10, "b", 3),
            _spawn(13, 11, "a's child", 4),
            _spawn(20, 999, "orphan", 5),  # its parent was never seen: a root
        ]
    )
    got = depths(model)
    assert list(got) == [10, 11, 13, 12, 20], "parent first, then its children depth first"
    assert got == {10: 0, 11: 1, 13: 2, 12: 1, 20: 0}


def test_depths_survive_a_cycle_of_parents() -> None:
    """Reused pids can make two processes each other's parent: both shown, none lost."""
    model = Model()
    model.apply([_spawn(30, 31, "x"), _spawn(31, 30, "y")])
    assert set(depths(model)) == {30, 31}


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
    row = row_of(model, proc, 5 * S, depth=1)
    pid, who, state, since, holds, status, cpu, rss, threads, phase = row
    assert (pid, who, state) == ("11", "└ group 0", "holding 'door'")
    assert holds == "door" and phase == Phase.HOLDING.value
    assert since == "4s", "in its state since the acquire"
    assert (status, cpu.strip(), rss, threads) == ("sleeping", "12.5", "3.0M", "2")
    model.apply([Event(6 * S, 11, "proc.exit", "", {"code": 0})])
    exited = row_of(model, model.procs[11], 7 * S)
    assert exited[5] == "exited" and exited[6:9] == ("", "", "") and exited[3] == "", "no figures for the dead"
