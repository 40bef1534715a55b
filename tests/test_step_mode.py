"""Step mode in the dashboard, driven by keys, with real processes behind it: you are the scheduler."""

from __future__ import annotations

import re

from conftest import none_alive
from helpers.dashboard import SIZE, select, text_of, until
from test_model import ev, spawn

from mpviz.model import Model
from mpviz.registry import lesson_class
from mpviz.runtime import Settings
from mpviz.runtime.scheduler import Turns
from mpviz.schedule.choice import Nobody
from mpviz.ui.app import make_app
from mpviz.ui.screens.run import Alerts
from mpviz.ui.sources import LiveSource
from mpviz.ui.widgets.process_table import ProcessTable
from mpviz.ui.widgets.step_view import StepView, step_text
from mpviz.ui.widgets.text_view import TextView


def stepping(lesson: str, **params: object) -> LiveSource:
    return LiveSource.start(Settings(lesson_class(lesson), dict(params), seed=1, turns=Turns(Nobody())))


async def test_keys_drive_the_tickets_without_a_lock_into_the_oversell() -> None:
    source = stepping("tickets", no_lock=True)
    app = make_app(source)
    model = source.model
    try:
        async with app.run_test(size=SIZE) as pilot:
            view = app.screen.query_one(StepView).query_one(TextView)

            def offered() -> list[str]:
                return [option[0] for option in model.turns.offer or () if option[4]]

            async def go(who: str, key: str | None = None) -> None:
                """Press the key of ``who``'s row (or ``key``) once the view offers it; wait for the decision."""
                await until(pilot, lambda: who in offered() and who in text_of(view), what=f"{who} offered")
                made = model.turns.made
                await pilot.press(key or str(offered().index(who) + 1))
                await until(pilot, lambda: model.turns.made == made + 1, what=f"{who} to go")
                assert model.turns.recent[-1].data["who"] == who

            for _ in range(5):
                await go("main")  # main starts the five buyers, one at a time
            await until(pilot, lambda: len(offered()) == 5, what="five buyers at their first point")
            assert "main" not in offered(), "main's part is done: it watches the file"
            await go("buyer 0")  # it checks, reads 3, and waits at its read delay
            await go("buyer 1")  # it reads 3 too: nobody has written yet
            # (What a buyer says once let go comes after the decision: waited for, on a loaded machine.)
            both_read = ["reads the file", "reads the file"]
            await until(pilot, lambda: [p.said for p in model.by_role("buyer")[:2]] == both_read, what="both read")
            await until(pilot, lambda: "reads the file … then sleep at workers.py:" in text_of(view), what="the offer")
            await go("buyer 0")  # it writes 2
            buyer_1 = next(p for p in model.by_role("buyer") if p.label == "buyer 1")
            await select(pilot, app.screen.query_one(ProcessTable), buyer_1.pid)
            await go("buyer 1", key="enter")  # the selected process: it writes 2 as well
            await until(
                pilot,
                lambda: (
                    model.said("bought a ticket") == 2 and model.values.get("ticket file", {}).get("count") == 3 - 1
                ),
                what="both bought, and main saw 2 left in the file",
            )
            await pilot.press("F")  # run free: the other three buy what the file says is left (two or more)
            alerts = app.screen.query_one(Alerts)
            await until(
                pilot, lambda: re.search(r"oversold: [45] tickets sold of 3", text_of(alerts)), what="the oversell"
            )
            await until(pilot, lambda: "Running free" in text_of(view), what="the view in free mode")
            pids = {p.pid for p in model.procs.values()} - {source.run.supervisor.pid}
            await pilot.press("q")
        assert none_alive(pids)
    finally:
        app.close_all()


async def test_until_blocked_lets_one_process_go_on_without_a_key_each_time() -> None:
    source = stepping("tickets", buyers=2)
    app = make_app(source)
    model = source.model
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: model.turns.offer and model.turns.offer[0][0] == "main", what="main offered")
            await pilot.press("u")  # main starts both buyers, on and on: its part is then done
            await until(pilot, lambda: [o[0] for o in model.turns.offer or ()] == ["buyer 0", "buyer 1"])
            assert [e.data["who"] for e in model.turns.recent] == ["main", "main"]
            await pilot.press("u")  # row 1: buyer 0 begins, takes the lock, reads, sleeps, writes, releases, ends
            buyer_0 = next(p for p in model.by_role("buyer") if p.label == "buyer 0")
            await until(pilot, lambda: not buyer_0.alive, what="buyer 0 to end")
            went = [e.data["op"] for e in model.turns.recent if e.data["who"] == "buyer 0"]
            assert went == ["proc.run", "lock.acquire", "proc.sleep", "proc.sleep", "lock.release"]
            assert buyer_0.said_count("bought a ticket") == 1
            await until(pilot, lambda: [o[0] for o in model.turns.offer or ()] == ["buyer 1"], what="buyer 1 alone")
    finally:
        app.close_all()


def test_the_step_view_says_who_runs_until_it_has_ended() -> None:
    m = Model()
    m.apply([spawn(0, 10, "buyer", "buyer 0"), ev(1, 10, "turn.ask", "", op="proc.sleep", n=1)])
    m.apply([ev(2, 10, "turn.go", "", who="buyer 0", op="proc.sleep", what="", at="workers.py:142", step=1)])
    shown = step_text(m).plain
    assert "buyer 0 runs to its next point" in shown and "1 decision · the last ones:" in shown
    m.apply([ev(3, 10, "proc.exit", "", code=0)])
    shown = step_text(m).plain
    assert "buyer 0 has ended · nobody waits at a point" in shown and "runs to its next point" not in shown
