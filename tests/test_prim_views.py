"""A watched program's primitives, each in the view of its kind (Primitives panel), from records."""

from __future__ import annotations

from test_model import S, ev, new, spawn

from mpviz.model import Model
from mpviz.ui.widgets.primitives import prim_view


def test_a_barrier_shows_its_parties_what_passed_and_who_waits_at_it() -> None:
    m = Model()
    m.apply([new(0, 1, "b", "barrier", "b"), spawn(0, 10, "worker", "w0"), spawn(0, 11, "worker", "w1")])
    m.apply([ev(1, 10, "barrier.wait", "b", parties=3), ev(2, 11, "barrier.wait", "b", parties=3)])
    text = prim_view(m, m.prims["b"], 4 * S).plain
    assert "Barrier 'b'" in text and "parties 3  passed 0" in text
    assert "at the barrier (2): w0 3s, w1 2s" in text
    m.apply([ev(5, 10, "barrier.broken", "b")])
    assert "broken: every wait() raises BrokenBarrierError" in prim_view(m, m.prims["b"], 6 * S).plain


def test_a_condition_shows_its_notifies_a_lost_one_and_who_waits() -> None:
    m = Model()
    m.apply([new(0, 1, "c", "cond", "c"), spawn(0, 10, "worker", "w"), ev(1, 1, "cond.notify", "c", n=1)])
    m.apply([ev(2, 10, "cond.wait", "c")])
    text = prim_view(m, m.prims["c"], 5 * S).plain
    assert "Condition 'c'" in text and "1 notify()" in text
    assert "the last notify() found nobody waiting: lost" in text
    assert "blocked in wait() (1): w 3s" in text
    m.apply([ev(6, 1, "cond.notify", "c", n=1)])
    assert "lost" not in prim_view(m, m.prims["c"], 7 * S).plain, "that one found a waiter"


def test_an_rlock_is_written_as_python_writes_it() -> None:
    m = Model()
    m.apply([new(0, 1, "r", "rlock", "r")])
    assert prim_view(m, m.prims["r"], S).plain.startswith("RLock 'r'")
