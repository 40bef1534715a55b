"""A flood of one actor's frequent operations is said in bulk in the headless log: its first lines
one by one, then counts; every record still applied, every count said."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from mpviz.model import Model
from mpviz.model.floods import SAID_EVERY, SHOWN, Floods
from mpviz.telemetry import Event

S = 1_000_000_000


def ev(t: float, pid: int, kind: str, obj: str = "", **data: object) -> Event:
    return Event(int(t * S), pid, kind, obj, dict(data))


def begun() -> tuple[Model, Floods, list[str]]:
    """A model with two processes and a lock, and the lines their start made."""
    model, floods = Model(), Floods()
    lines = floods.take(
        model,
        [
            ev(0, 10, "proc.spawn", "main", role="main", label="main", ppid=1),
            ev(0, 11, "proc.spawn", "work", role="worker", label="work", ppid=10),
            Event(0, 10, "prim.new", "L", {"kind": "lock", "name": "lock"}),
        ],
    )
    return model, floods, lines


def counted(lines: list[str]) -> int:
    """How many records the counts said, over ``lines``."""
    return sum(int(m[1]) for line in lines for m in [re.search(r"… (\d+) more, ", line)] if m)


def test_an_actors_first_lines_are_said_then_the_rest_counted_until_another_line() -> None:
    model, floods, _ = begun()
    t = iter(range(1, 10**6))
    flood = [ev(next(t) / 1000, 11, kind, "L") for _ in range(500) for kind in ("lock.acquired", "lock.released")]
    lines = floods.take(model, flood)
    assert len(lines) == SHOWN  # (the rest counted, said when the actor says something else)
    assert lines[0].endswith("work           acquired lock 'lock'") and lines[1].endswith("released lock 'lock'")
    lines = floods.take(model, [ev(2, 11, "proc.output", "", stream="out", text="done")])
    assert len(lines) == 2, lines
    assert lines[0].endswith(
        f"work           … {1000 - SHOWN} more, from 0.101 to 1.000 s: "
        f"acquired lock 'lock' ×{500 - SHOWN // 2}, released lock 'lock' ×{500 - SHOWN // 2}"
    ), lines[0]
    assert lines[0].startswith("   2.000 ")  # (stamped as the line it comes before: the log stays in time order)
    assert lines[1].endswith("work           prints: done")
    # Every record applied: the figures count them all.
    assert model.prims["L"].acquisitions == 500
    # The printed line ended the streak: the next ones are said again.
    again = floods.take(model, [ev(3, 11, "lock.acquired", "L"), ev(3.1, 11, "lock.released", "L")])
    assert len(again) == 2 and again[0].endswith("acquired lock 'lock'")


def test_a_wait_is_said_after_the_counts_before_it_and_the_flood_goes_on() -> None:
    model, floods, _ = begun()
    ops = [ev(1 + i / 1000, 11, "lock.acquired" if i % 2 == 0 else "lock.released", "L") for i in range(SHOWN + 10)]
    lines = floods.take(model, ops)
    lines += floods.take(model, [ev(2, 11, "lock.wait", "L")])
    assert "… 10 more, " in lines[-2] and lines[-1].endswith("waits for lock 'lock'"), lines[-2:]
    # (a contended lock's flood is full of waits: they do not start a new streak of lines said one by one)
    assert floods.take(model, [ev(2.1, 11, "lock.acquired", "L"), ev(2.2, 11, "lock.released", "L")]) == []
    assert counted(floods.rest(model)) == 2


def test_each_actor_floods_alone_and_a_long_flood_is_said_as_it_goes() -> None:
    model, floods, _ = begun()
    n = SAID_EVERY + SHOWN + 5
    flood = [ev(1 + i / 10**6, pid, "queue.put", "L", item=str(i)) for i in range(n) for pid in (10, 11)]
    lines = floods.take(model, flood)
    ones = [line for line in lines if "…" not in line]
    assert len(ones) == 2 * SHOWN
    counts = [line for line in lines if "…" in line]
    assert len(counts) == 2 and all(f"… {SAID_EVERY} more, " in line for line in counts), counts
    # A queue's end signal is said, whatever the flood, after the counts before it.
    pill = floods.take(model, [ev(2, 11, "queue.put", "L", item="None", none=True)])
    assert (
        len(pill) == 2 and "… 5 more, " in pill[0] and pill[1].endswith("put 'None' into queue 'lock' (end signal)")
    ), pill
    rest = floods.rest(model)
    assert len(rest) == 1 and counted(rest) == 5
    assert floods.rest(model) == []


def test_a_flooding_program_headless(tmp_path: Path) -> None:
    """A real program: its lock's thousand takings said as its first lines and one count, the figures whole."""
    prog = tmp_path / "takes.py"
    prog.write_text(
        "from multiprocessing import Lock\n"
        "if __name__ == '__main__':\n"
        "    lock = Lock()\n"
        "    for _ in range(1000):\n"
        "        with lock:\n"
        "            pass\n"
        "    print('done')\n"
    )
    argv = [sys.executable, "-m", "mpviz", "run", str(prog), "--headless"]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    log = done.stdout.splitlines()
    said = [line for line in log if line.endswith(("acquired lock 'lock'", "released lock 'lock'"))]
    assert len(said) == SHOWN, said[-3:]
    at = next(i for i, line in enumerate(log) if line.endswith("prints: done"))
    assert log[at - 1].endswith(
        f": acquired lock 'lock' ×{1000 - SHOWN // 2}, released lock 'lock' ×{1000 - SHOWN // 2}"
    )
    assert f"… {2000 - SHOWN} more, " in log[at - 1]
    assert any(re.match(r"lock 'lock' +1000 ", line) for line in log), log[-12:]
