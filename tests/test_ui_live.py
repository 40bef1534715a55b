"""The live dashboard driven by keys, with real processes behind it."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import psutil
from conftest import ROOT, none_alive
from helpers.dashboard import SIZE, live, rows, select, text_of, until

from mpviz.model import Phase
from mpviz.program import Program, Watched
from mpviz.runtime import Run, Settings
from mpviz.ui.app import make_app
from mpviz.ui.screens.run import Alerts
from mpviz.ui.sources import LiveSource
from mpviz.ui.widgets.output import OutputView
from mpviz.ui.widgets.process_table import ProcessTable


async def test_light_key_lets_waiting_cars_pass() -> None:
    # A light whose first red lasts an hour: only the key can turn it green.
    source = live("traffic", speed=20, cars=3, light=3600)
    app = make_app(source)
    model = source.model
    try:
        async with app.run_test(size=SIZE) as pilot:
            waiting = lambda: [c for c in model.by_role("car") if c.phase is Phase.BLOCKED]  # noqa: E731
            await until(pilot, lambda: len(waiting()) == 3, what="three cars at the red light")
            assert not source.run.lesson.light.is_set()
            assert "RED · cars wait" in text_of(app.screen.query_one("#panel-main"))
            await pilot.press("space")
            await until(pilot, lambda: all(not c.alive for c in model.by_role("car")), what="the cars to pass")
            assert source.run.lesson.light.is_set(), "the key set the real Event"
            passed = [c for c in model.by_role("car") if c.said_count("passes the crossing")]
            assert len(passed) == 3 and all(c.exit_code == 0 for c in passed)
            panel = app.screen.query_one("#panel-main")
            await until(pilot, lambda: "GREEN · cars go" in text_of(panel), what="the lamp to show green")
            await pilot.press("space")
            await until(pilot, lambda: not model.prim("light").is_set, what="the light to turn red again")
    finally:
        app.close_all()


async def test_add_group_adds_a_row_with_a_real_pid_and_its_stats() -> None:
    source = live("ktv", speed=0.2, rooms=1, groups=1)
    app = make_app(source)
    try:
        async with app.run_test(size=SIZE) as pilot:
            model = source.model
            await until(pilot, lambda: len(model.by_role("group")) == 1, what="the first group")
            # Main started its group: it waits for keys (it is this process, which waits), never "running".
            main = model.procs[source.run.supervisor.pid]
            idle = "idle: waits for your keys"
            await until(pilot, lambda: main.state == idle, what="main idle")
            assert main.phase is Phase.SLEEPING
            await pilot.press("a")
            await until(pilot, lambda: len(model.by_role("group")) == 2, what="the added group")
            await until(pilot, lambda: main.state == idle, what="main idle again after the key's action")
            assert len([e for e in model.log if e.kind == "proc.idle"]) == 2
            new = model.by_role("group")[1]
            assert psutil.pid_exists(new.pid)
            assert psutil.Process(new.pid).ppid() == source.run.supervisor.pid
            table = app.screen.query_one(ProcessTable)
            await until(pilot, lambda: new.pid in rows(table), what="its row")
            # psutil's figures arrive with the next sample, once a second.
            await until(pilot, lambda: re.search(r" \d+\.\dM ", rows(table).get(new.pid, "")), what="its RSS")
            assert re.search(r"\b(sleeping|running|disk-sleep)\b", rows(table)[new.pid])
            # One room, taken: the new group comes to wait at the door (however long its start takes).
            await until(pilot, lambda: new.phase is Phase.BLOCKED, what="the new group waiting for the room")
    finally:
        app.close_all()


async def test_quit_stops_every_child() -> None:
    source = live("ktv", speed=0.1, groups=4)
    app = make_app(source)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: len(source.run.supervisor.pids()) == 4, what="four groups")
            pids = set(source.run.supervisor.pids())
            await pilot.press("q")
        assert app.return_code in (0, None)
    finally:
        app.close_all()
    assert none_alive(pids)


async def test_restart_and_speed_keys() -> None:
    source = live("ktv", speed=0.5, groups=2)
    app = make_app(source)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: len(source.model.by_role("group")) == 2, what="two groups")
            await pilot.press("plus")
            assert source.speed == 1.0
            await pilot.press("minus", "minus")
            assert source.speed == 0.25
            old = set(source.run.supervisor.pids())
            await pilot.press("r")
            await until(pilot, lambda: app.screen.source is not source, what="a new run")
            new = app.screen.source
            assert new.speed == 0.25, "a restart keeps the speed"
            await until(pilot, lambda: len(new.model.by_role("group")) == 2, what="the new groups")
            assert not old & set(new.run.supervisor.pids())
            await until(pilot, lambda: none_alive(old), what="the old run's processes to end")
    finally:
        app.close_all()


async def test_killing_the_lock_holder_is_named_a_deadlock_and_pause_resumes() -> None:
    # A long read delay: the first buyer holds the lock while the others line up.
    source = live("tickets", buyers=4, read_delay=60.0)
    app = make_app(source)
    model = source.model
    try:
        async with app.run_test(size=SIZE) as pilot:
            lock = lambda: model.prim("ticket")  # noqa: E731
            await until(
                pilot, lambda: lock() and lock().holders and len(lock().waiters) == 3, what="a holder and 3 waiting"
            )
            holder = next(iter(lock().holders))
            table = app.screen.query_one(ProcessTable)
            await select(pilot, table, holder)
            await pilot.press("k")
            await until(pilot, lambda: not model.procs[holder].alive, what="the holder to die")
            assert model.procs[holder].state == "killed by SIGKILL"
            alerts = app.screen.query_one(Alerts)
            name = model.procs[holder].name
            named = f"deadlock: lock 'ticket' held by dead pid {holder} ({name}); 3 waiting forever"
            await until(pilot, lambda: named in text_of(alerts), what="the deadlock named")
            panel = app.screen.query_one("#panel-main")
            await until(pilot, lambda: "dead: it will never release" in text_of(panel), what="the panel to say so")

            waiter = next(iter(lock().waiters))
            await select(pilot, table, waiter)
            await pilot.press("z")
            await until(pilot, lambda: psutil.Process(waiter).status() == psutil.STATUS_STOPPED, what="SIGSTOP")
            await until(pilot, lambda: model.procs[waiter].phase is Phase.STOPPED, what="the row to say paused")
            await until(pilot, lambda: " stopped " in rows(table).get(waiter, ""), what="its status")
            assert re.fullmatch(
                r"paused \(waiting for lock 'ticket' at workers\.py:\d+ in buy_ticket\)", model.procs[waiter].state
            )
            await pilot.press("z")
            await until(pilot, lambda: psutil.Process(waiter).status() != psutil.STATUS_STOPPED, what="SIGCONT")
            await until(pilot, lambda: model.procs[waiter].phase is Phase.BLOCKED, what="blocked again, as before")
    finally:
        app.close_all()


async def test_a_typed_line_goes_through_the_selected_client_and_its_reply_shows() -> None:
    source = live("chat", clients=2, messages=0, every=60.0)
    app = make_app(source)
    model = source.model
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(
                pilot,
                lambda: len([c for c in model.by_role("client") if c.said == "connected"]) == 2,
                what="two clients",
            )
            second = model.by_role("client")[1]
            await select(pilot, app.screen.query_one(ProcessTable), second.pid)
            await pilot.press("tab")
            assert app.focused is app.screen.query_one("#chat-input")
            await pilot.press(*"bonjour", "enter")
            replied = lambda: any(  # noqa: E731
                e.pid == second.pid and e.obj == "got reply" and e.data.get("text") == "bonjour (received)"
                for e in list(model.log)
            )
            await until(pilot, replied, what="the reply to the typed line")
            await until(
                pilot,
                lambda: "bonjour (received)" in text_of(app.screen.query_one("#panel-main")),
                what="the reply on screen",
            )
            await pilot.press("escape")
            assert app.screen.__class__.__name__ == "ChatScreen", "escape leaves the box, not the lesson"
            await pilot.press("x")
            await until(pilot, lambda: not second.alive, what="the selected client to close")
            assert model.by_role("client")[0].alive
    finally:
        app.close_all()


async def test_a_watched_program_gets_a_typed_line_and_its_print_shows(tmp_path) -> None:
    """A program in the dashboard: its lock under its own name, and a line typed for its stdin."""
    program = tmp_path / "ask.py"
    program.write_text(
        "from multiprocessing import Lock\n"
        "door = Lock()\n"
        "with door:\n"
        "    line = input('say: ')\n"
        "print('you said', line)\n"
    )
    source = LiveSource.start(Settings(Watched, {"program": Program(str(program)), "stdin_pipe": True}))
    app = make_app(source)
    model = source.model
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: model.prim("door").holders, what="the program to hold its lock 'door'")
            panel = app.screen.query_one("#panel-main")
            await until(pilot, lambda: "Lock 'door'  ask.py:2" in text_of(panel), what="the lock on screen")
            await until(pilot, lambda: "say:" in text_of(app.screen.query_one(OutputView)), what="the prompt")
            app.screen.query_one("#stdin").focus()
            await pilot.press(*"hello", "enter")
            await until(
                pilot,
                lambda: "you said hello" in text_of(app.screen.query_one(OutputView)),
                what="the program's answer in the printed pane",
            )
            await until(pilot, lambda: not any(p.alive for p in model.procs.values()), what="the program to end")
            # The alerts follow the model at the next redraw, not at once.
            await until(pilot, lambda: "nothing went wrong" in text_of(app.screen.query_one(Alerts)), what="no alert")
    finally:
        app.close_all()


async def test_a_line_written_in_pieces_grows_in_place(tmp_path: Path) -> None:
    """Five dots 0.3 s apart, then 'done': one row of the printed pane that grows, never a row per piece."""
    # The row waits after two dots until the test has seen them: a loaded machine that redrew
    # late saw the whole row, done, and never two dots.
    gate = tmp_path / "seen"
    program = Program(str(ROOT / "tests" / "programs" / "in_pieces.py"), (str(gate),))
    source = LiveSource.start(Settings(Watched, {"program": program}))
    app = make_app(source)
    try:
        async with app.run_test(size=SIZE) as pilot:
            output = app.screen.query_one(OutputView)
            dotted = lambda: [row for row in text_of(output).splitlines() if row.startswith("main") and ". " in row]  # noqa: E731
            await until(pilot, lambda: dotted() and dotted()[0].rstrip().endswith(". ."), what="two dots")
            assert len(dotted()) == 1
            gate.touch()
            await until(pilot, lambda: "main again" in text_of(output), what="the program's next line")
            assert [row.split(maxsplit=1)[1].rstrip() for row in dotted()] == [". . . . . done"]
    finally:
        app.close_all()


async def test_the_living_come_first_and_are_on_screen() -> None:
    """Twelve groups in a 160×48 terminal: once many have left, every live group's row is still in view."""
    source = live("ktv", groups=12, rooms=4)
    app = make_app(source)
    model = source.model
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            groups = lambda: model.by_role("group")  # noqa: E731
            await until(
                pilot,
                lambda: sum(not g.alive for g in groups()) >= 5 and sum(g.alive for g in groups()) >= 3,
                timeout=120,
                what="most groups gone, a few still there",
            )
            table = app.screen.query_one(ProcessTable)

            def in_view() -> bool:
                alive = [p.pid for p in model.procs.values() if p.alive]
                return list(rows(table))[: len(alive)] == alive and len(alive) < table.size.height - 1

            await until(pilot, in_view, what="every live process's row first, on screen")
            await pilot.press("h")
            await until(
                pilot, lambda: table.virtual_size.height - 1 == len(model.procs), what="h to show the exited too"
            )
    finally:
        app.close_all()


def test_closing_a_live_source_lets_a_waiting_reader_go_at_once(tmp_path) -> None:
    """The screen's reader waits long for records; closing the run (a quit, a restart) wakes it."""
    program = tmp_path / "quiet.py"
    program.write_text("import time\ntime.sleep(600)\n")
    # No psutil samples: after the program's first records, nothing at all comes.
    source = LiveSource(Run(Settings(Watched, {"program": Program(str(program))}), sample_every=None))
    source.begin()
    waiting_since: list[float] = []
    pids: set[int] = set()
    returned = threading.Event()

    def reader() -> None:
        while not source._stopping:
            waiting_since[:] = [time.monotonic()]
            # Nothing wakes it in ten minutes but records and the closing.
            pids.update(e.pid for e in source.read(600) if e.kind == "proc.start")
            waiting_since.clear()
        returned.set()

    threading.Thread(target=reader, daemon=True).start()
    try:
        # The program's first records read, the reader waits: a quiet second in read().
        deadline = time.monotonic() + 60
        while not (waiting_since and time.monotonic() - waiting_since[0] > 1.0):
            assert time.monotonic() < deadline, "the reader never waited"
            time.sleep(0.05)
    finally:
        # From a thread of its own: a close that did not wake the reader would wait with it.
        closing = threading.Thread(target=source.close, daemon=True)
        closing.start()
    assert returned.wait(60), "the reader still waits after the run closed"
    closing.join(60)
    assert not closing.is_alive() and pids and none_alive(pids)


async def test_under_a_flood_the_log_is_written_with_the_drawings() -> None:
    """Twelve processes reporting as fast as they can: a whole batch of lines waiting is written
    only with the drawings (at most four times a second), not at the refreshes between them."""
    from mpviz.ui.widgets.event_log import MOST_PER_BATCH, EventLog

    source = live("prodcons", speed=1000, producers=6, consumers=6, items=20_000)
    app = make_app(source)
    writes: list[tuple[int, bool]] = []  # each write: how many lines waited, and did the drawings come too
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            plan, add = screen._pace.plan, screen.query_one(EventLog).add
            planned: list[object] = []

            def planning(*args: object, **kwargs: object) -> object:
                planned.append(made := plan(*args, **kwargs))  # type: ignore[arg-type]
                return made

            def adding(model: object, events: list) -> None:
                last = planned[-1] if planned else None
                writes.append((len(events), last is None or last.pictures))  # type: ignore[attr-defined]
                add(model, events)  # type: ignore[arg-type]

            screen._pace.plan = planning  # type: ignore[method-assign]
            screen.query_one(EventLog).add = adding  # type: ignore[method-assign]
            await until(pilot, lambda: sum(1 for n, _ in writes if n == MOST_PER_BATCH) >= 8, what="a flood")
            full = [drawings for n, drawings in writes if n == MOST_PER_BATCH]
            assert all(full), "a whole batch waiting is written with the drawings"
            assert any(p is not None and not p.pictures for p in planned), "refreshes without them"
    finally:
        app.close_all()
