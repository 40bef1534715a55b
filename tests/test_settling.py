"""The channels' settling window (mpviz/runtime/settling.py): records given out in time order,
the same records and in the same order as one stable sort of everything held and read would give."""

from __future__ import annotations

import random

from mpviz.runtime.settling import Settling
from mpviz.telemetry import Event


def _record(t_ns: int, n: int) -> Event:
    return Event(t_ns, 1000 + n % 4, "proc.state", "s", {"n": n})


def test_given_out_as_one_stable_sort_would() -> None:
    """Against the plain way: everything held and read sorted at once, cut at the last record not
    later than the cut."""
    rng = random.Random(7)
    settling = Settling()
    held: list[Event] = []
    n = 0
    clock = 0
    for _ in range(500):
        got = []
        for _ in range(rng.randrange(0, 40)):
            # Records near the clock, some from the past (a late sibling), many of one same time.
            got.append(_record(max(0, clock - rng.choice((0, 0, 5, 50, 500))), n))
            n += 1
            clock += rng.randrange(0, 3)
        cut = clock - rng.randrange(0, 200)
        pending = sorted(held + got, key=lambda e: e.t_ns)
        split = len(pending)
        while split and pending[split - 1].t_ns > cut:
            split -= 1
        held = pending[split:]
        assert settling.give(got, cut) == pending[:split]
    assert settling.take_all() == held
    assert n > 5000 and held, "a run with records held at its end"


def test_a_batch_as_a_stable_sort_of_held_and_read() -> None:
    settling = Settling()
    first = [_record(10, 0), _record(30, 1), _record(30, 2), _record(50, 3)]
    assert settling.give(list(first), 20) == [first[0]]
    later = [_record(60, 4), _record(30, 5), _record(40, 6), _record(5, 7)]
    expected = sorted(first[1:] + later, key=lambda e: e.t_ns)  # stable: held first among equals
    assert settling.give(list(later), 45) == [e for e in expected if e.t_ns <= 45]
    assert settling.take_all() == [e for e in expected if e.t_ns > 45]
    assert not settling
