"""A run of one process's records of one kind and object, applied together (``state.REPEATS``),
leaves the model exactly as the same records applied one by one do: every state, time split,
fact, count, log and history entry the views read."""

from __future__ import annotations

import random
from array import array
from collections import Counter, deque
from enum import Enum
from typing import Any

import pytest

from mpviz import lang
from mpviz.model import Model, state
from mpviz.model.state import REPEATS, Repeats
from mpviz.shown import needs_showing, none_need_showing
from mpviz.telemetry import Event

S = 1_000_000_000


def ev(t: float, pid: int, kind: str, obj: str = "", **data: object) -> Event:
    return Event(int(t * S), pid, kind, obj, dict(data))


def plain(value: Any) -> Any:
    """``value`` as plain, comparable data: every attribute of every object in it, recursively."""
    if value is None or isinstance(value, (str, int, float, bool, bytes, Enum)):
        return value
    if isinstance(value, Counter):
        return ("Counter", {k: plain(v) for k, v in value.items()})
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return value
    if isinstance(value, deque):
        return ("deque", value.maxlen, [plain(v) for v in value])
    if isinstance(value, (list, tuple, array)):
        return (type(value).__name__, [plain(v) for v in value])
    fields = vars(value) if hasattr(value, "__dict__") else {s: getattr(value, s) for s in value.__slots__}
    return (type(value).__name__, {k: plain(v) for k, v in fields.items()})


def applied(batches: list[list[Event]], one_by_one: bool, monkeypatch: pytest.MonkeyPatch) -> Model:
    model = Model()
    with monkeypatch.context() as patch:
        if one_by_one:
            patch.setattr(state, "REPEATS", {})
        for batch in batches:
            model.apply(batch)
    return model


def same(batches: list[list[Event]], monkeypatch: pytest.MonkeyPatch) -> int:
    """Assert the batches leave the same model either way; how many records went by ``again``."""
    taken = 0
    said = REPEATS["proc.state"]

    def again(model: Model, proc: Any, run: list[Event]) -> None:
        nonlocal taken
        taken += len(run)
        said.again(model, proc, run)

    with monkeypatch.context() as patch:
        patch.setitem(REPEATS, "proc.state", Repeats(said.ready, again))
        fast = applied(batches, False, monkeypatch)
    assert plain(fast) == plain(applied(batches, True, monkeypatch))
    return taken


@pytest.fixture
def mp(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    return monkeypatch


def flood(seed: int) -> list[list[Event]]:
    """Three processes' reports (numbers, floats, flags, texts), each in stretches of 1 to 40 of one
    state, the stretches of two of them mixed record by record; now and then another record, a
    process started late; in batches cut anywhere."""
    rng = random.Random(seed)
    events, t = [ev(0, 10, "proc.spawn", "a", role="worker", ppid=1), ev(0, 11, "proc.spawn", "b", ppid=1)], 1.0
    for _ in range(60):
        stretches = [
            (pid, rng.choice(("flood", "flood", "other")), rng.randint(1, 40)) for pid in rng.sample((10, 11, 12), 2)
        ]
        said = [(pid, state_) for pid, state_, n in stretches for _ in range(n)]
        rng.shuffle(said)
        for pid, state_ in said:
            t += 0.001
            data = {"i": rng.randint(0, 9), "x": rng.random(), "ok": rng.random() < 0.5, "who": "w"}
            events.append(ev(t, pid, "proc.state", state_, **data))
        if rng.random() < 0.2:
            events.append(ev(t, rng.choice((10, 11)), "proc.stats", cpu=1.0, rss=1 << 20, threads=1, status="running"))
    cuts = sorted(rng.sample(range(1, len(events)), 8))
    return [events[a:b] for a, b in zip([0, *cuts], [*cuts, len(events)], strict=True)]


@pytest.mark.parametrize("seed", range(5))
def test_flood_of_reports(seed: int, mp: pytest.MonkeyPatch) -> None:
    batches = flood(seed)
    # (Most went the quick way: the comparison is not of two slow paths.)
    assert same(batches, mp) > sum(map(len, batches)) // 2


def test_words_that_name_the_data(mp: pytest.MonkeyPatch) -> None:
    """Each report of ``sent {n} items`` changes the state (its words name n): applied one by one."""
    batch = [ev(1 + i / 100, 10, "proc.state", "sent {n} items", n=i) for i in range(20)]
    assert same([batch], mp) == 0


def test_texts_that_need_showing_inside_a_run(mp: pytest.MonkeyPatch) -> None:
    """Reports whose data (or state) a terminal would act on, first, inside and last in a run."""
    batch = [
        ev(1 + i / 100, 10, "proc.state", "got", text="\x1b[2J" if i in (0, 5, 6, 19) else "ok", i=i) for i in range(20)
    ]
    batch += [ev(2 + i / 100, 10, "proc.state", "bad\x07", i=i) for i in range(5)]
    assert same([batch], mp) > 0


def test_reports_of_processes_between_each_other(mp: pytest.MonkeyPatch) -> None:
    """One's report between two of another's, a state changed and said back, a text to show among them."""
    said = [(10, "x", "ok"), (11, "y", "ok"), (10, "x", "ok"), (10, "x", "\x1b[2J"), (10, "x", "ok"), (11, "y", "ok")]
    said += [(10, "z", "ok"), (11, "y", "ok"), (10, "x", "ok"), (10, "x", "ok"), (11, "x", "ok"), (10, "x", "ok")]
    batch = [ev(1 + i / 100, pid, "proc.state", state_, text=text, i=i) for i, (pid, state_, text) in enumerate(said)]
    assert same([batch], mp) > 0


def test_a_run_across_state_changes_and_an_exit(mp: pytest.MonkeyPatch) -> None:
    """A state said, another, the first again; the process's end among its reports; reports after it."""
    words = ["a"] * 5 + ["b"] * 3 + ["a"] * 4
    batch = [ev(0, 10, "proc.spawn", "p", ppid=1)]
    batch += [ev(1 + i / 100, 10, "proc.state", w, i=i) for i, w in enumerate(words)]
    batch += [ev(2, 10, "proc.exit", "", code=0)]
    batch += [ev(3 + i / 100, 10, "proc.state", "a", i=i) for i in range(6)]
    batch += [ev(4, 1, "proc.exit", "", code=0)]
    assert same([batch[:9], batch[9:]], mp) > 0


def test_reports_while_it_holds_waits_or_is_stopped(mp: pytest.MonkeyPatch) -> None:
    """Reports while it holds a lock, after it lets it go, while paused, while a stack says it sleeps
    (its first report from another thread: the sleep still stands, the next of its main thread ends it)."""
    batch = [
        ev(0, 10, "proc.spawn", "p", ppid=1),
        Event(int(0.1 * S), 10, "prim.new", "L", {"kind": "lock", "name": "lock", "site": ""}),
        ev(0.2, 10, "lock.acquired", "L"),
        *[ev(1 + i / 100, 10, "proc.state", "busy", i=i) for i in range(5)],
        ev(1.5, 10, "lock.released", "L"),
        *[ev(2 + i / 100, 10, "proc.state", "busy", i=i) for i in range(5)],
        ev(2.5, 10, "proc.signal", "SIGSTOP"),
        *[ev(3 + i / 100, 10, "proc.state", "busy", i=i) for i in range(5)],
        ev(3.5, 10, "proc.signal", "SIGCONT"),
        Event(4 * S, 10, "proc.seen", "", {"kind": "sleep", "func": "sleep", "file": "x.py", "line": 3}),
        ev(4.1, 10, "proc.state", "busy", th=999),
        *[ev(4.2 + i / 100, 10, "proc.state", "busy", i=i) for i in range(5)],
        *[ev(5 + i / 100, 12, "proc.state", "unknown", i=i) for i in range(5)],  # a process never started
    ]
    assert same([batch], mp) > 0


def test_in_chinese(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(lang, "_current", lang.Lang.ZH)
    assert same(flood(7), mp) > 0


PLAIN = [{}, {"i": 1}, {"x": 1.5, "ok": True, "n": None, "big": 10**30}, {"who": "w", "text": "naïve 中文"}]
NOT_PLAIN = [
    {"text": "\x1b[2J"},
    {"te\x07xt": 1},
    {"who": "a\u2028b"},
    {1: "a"},
    {"items": [1, 2]},
    {"items": ["\x1b"]},
    {"d": {"k": "v"}},
    {"d": {"k\x1b": "v"}},
]


def test_none_need_showing_never_passes_what_needs_showing() -> None:
    """A run's data looked at at once says none needs showing only when none does; and says so of
    numbers and plain texts (lists and dicts it leaves to ``needs_showing``, one by one)."""
    for a in PLAIN + NOT_PLAIN:
        for b in PLAIN + NOT_PLAIN:
            if none_need_showing([a, b]):
                assert not needs_showing(a) and not needs_showing(b), (a, b)
    assert none_need_showing(PLAIN)
    assert not none_need_showing([*PLAIN, {"text": "\x1b[2J"}])
