"""However the dashboard ends — q, Ctrl+C, SIGTERM, a closed terminal, SIGKILL — no lesson process survives it."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from conftest import none_alive, wait_for
from helpers.terminal import Terminal


@pytest.fixture
def terminal() -> Iterator[Callable[..., Terminal]]:
    opened: list[Terminal] = []

    def open_(*args: str, size: tuple[int, int] = (120, 40)) -> Terminal:
        t = Terminal(*args, size=size)
        opened.append(t)
        return t

    yield open_
    for t in opened:
        t.close()


def running(term: Terminal, count: int) -> set[int]:
    def enough() -> set[int] | None:
        pids = term.lesson_pids()
        return pids if len(pids) >= count else None

    return wait_for(enough, 60, what=f"{count} lesson processes")  # type: ignore[return-value]


def drawn(term: Terminal, text: bytes) -> None:
    wait_for(lambda: text in term.output, 60, what=f"{text!r} on screen")


@pytest.mark.parametrize(("keys", "code"), [(b"q", 0), (b"\x03", 0)], ids=["q", "ctrl+c"])
def test_quit_key(terminal, keys: bytes, code: int) -> None:
    term = terminal("ktv", "--groups", "5", "--speed", "0.1")
    kids = running(term, 5)
    drawn(term, b"Processes")
    term.type(keys)
    assert term.proc.wait(30) == code
    assert none_alive(kids)
    assert b"\x1b[?1049l" in term.output, "the terminal's main screen is restored"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup(terminal, sig: signal.Signals) -> None:
    term = terminal("ktv", "--groups", "5", "--speed", "0.1")
    kids = running(term, 5)
    drawn(term, b"Processes")
    term.proc.send_signal(sig)
    assert term.proc.wait(30) == 128 + sig
    assert none_alive(kids)


def test_a_flood_of_records_does_not_freeze_the_keys(terminal) -> None:
    """Twelve processes reporting as fast as they can; the speed keys still answer.

    Bounded generously: this checks that keys are not starved, not how fast
    they are (bench/run.py measures that)."""
    term = terminal("prodcons", "--producers", "6", "--consumers", "6", "--items", "100000", "--speed", "1000")
    running(term, 12)
    drawn(term, b"speed \xc3\x971000")
    for key, shows in [(b"-", b"speed \xc3\x97500"), (b"+", b"speed \xc3\x971000")] * 3:
        offset = len(term.output)
        term.type(key)
        wait_for(
            lambda shows=shows, offset=offset: term.output.find(shows, offset) >= 0, 10, every=0.01, what=repr(shows)
        )
    term.type(b"q")
    assert term.proc.wait(60) == 0


def test_terminal_closed(terminal) -> None:
    term = terminal("ktv", "--groups", "5", "--speed", "0.1")
    kids = running(term, 5)
    drawn(term, b"Processes")
    term.hang_up()
    term.proc.wait(30)
    wait_for(lambda: none_alive(kids), 10, what="children to stop after the hang-up")


def test_sigkill_with_a_paused_child(terminal) -> None:
    term = terminal("ktv", "--groups", "5", "--speed", "0.1")
    kids = running(term, 5)
    os.kill(min(kids), signal.SIGSTOP)
    term.proc.kill()
    term.proc.wait(30)
    wait_for(lambda: none_alive(kids), 30, what="children to die with the dashboard")


def test_home_screen_starts_a_lesson_with_enter(terminal) -> None:
    term = terminal()
    drawn(term, b"Lessons")
    term.type(b"\r")
    kids = running(term, 5)  # ktv's five groups
    drawn(term, b"Semaphore")
    term.type(b"\x1b")  # escape: back to the lessons, the lesson stopped
    wait_for(lambda: none_alive(kids), 30, what="the lesson's processes to stop")
    term.type(b"q")
    assert term.proc.wait(30) == 0


def paused(pids: set[int]) -> bool:
    try:
        return all(psutil.Process(pid).status() == psutil.STATUS_STOPPED for pid in pids)
    except psutil.NoSuchProcess:
        return False


def recorded(record: Path, text: str) -> None:
    """Wait for a record in the run's recording (the screen's log may have scrolled away from it)."""
    wait_for(lambda: text in record.read_text(encoding="utf-8"), 60, what=f"{text} in the recording")


def test_quit_with_paused_workers_and_an_action_waiting_on_them(terminal, tmp_path: Path) -> None:
    """Z pauses every worker; g asks for another round, which waits for the paused round to end.
    q resumes and stops them all, and the dashboard ends (it used to hang, the workers paused)."""
    record = tmp_path / "run.jsonl"
    term = terminal("run", "printlock", "--mode", "lock", "--workers", "3", "--speed", "0.1", "--record", str(record))
    kids = running(term, 3)
    drawn(term, b"Processes")
    term.type(b"Z")
    wait_for(lambda: paused(kids), 30, what="the workers to be paused")
    term.type(b"g")
    recorded(record, '"ui.action","Run again"')  # the action has begun: it waits for the round to end
    term.type(b"q")
    assert term.proc.wait(30) == 0
    assert none_alive(kids)


@pytest.mark.parametrize("pause", [True, False], ids=["holder paused", "holder sleeping"])
def test_quit_while_restock_waits_for_the_lock(terminal, tmp_path: Path, pause: bool) -> None:
    """The buyer holds the lock for ten minutes (paused, or in its read delay); restock waits for it.
    q ends everything at once: the waiting restock is abandoned (it used to take the whole delay, or for ever)."""
    record = tmp_path / "run.jsonl"
    term = terminal("run", "tickets", "--buyers", "1", "--read-delay", "600", "--record", str(record))
    (buyer,) = running(term, 1)
    drawn(term, b"reads the file")  # the buyer holds the lock
    if pause:
        term.type(b"\x1b[Bz")  # down to the buyer's row (under main's), and pause it
        wait_for(lambda: paused({buyer}), 30, what="the buyer to be paused")
    term.type(b"t")  # restock
    recorded(record, '"lock.wait"')  # main's restock waits for the lock
    term.type(b"q")
    assert term.proc.wait(30) == 0
    assert none_alive({buyer})


def test_quit_after_the_dashboard_was_stopped_and_continued(terminal) -> None:
    """kill -STOP then kill -CONT of the dashboard, five times, keys in between: q still ends it.
    Textual resumed on every SIGCONT, with a second input thread left blocked on the terminal."""
    term = terminal("run", "traffic")
    kids = running(term, 2)
    drawn(term, b"Processes")
    for speed in (b"2", b"4", b"8", b"16", b"32"):
        term.proc.send_signal(signal.SIGSTOP)
        wait_for(lambda: paused({term.proc.pid}), 30, what="the dashboard to be stopped")
        term.proc.send_signal(signal.SIGCONT)
        shown, offset = b"speed \xc3\x97" + speed, len(term.output)
        term.type(b"+")
        wait_for(lambda shown=shown, offset=offset: term.output.find(shown, offset) >= 0, 30, what=repr(shown))
    term.type(b"q")
    assert term.proc.wait(30) == 0
    assert none_alive(kids)


def test_a_storm_of_pause_all_while_processes_start(terminal) -> None:
    """Z twenty times a second while forty processes start: no crash (the supervisor's
    list of processes changing under it), and q ends everything."""
    term = terminal("run", "ktv", "--groups", "40", "--speed", "0.02")
    drawn(term, b"Processes")
    deadline = time.monotonic() + 120
    while len(term.lesson_pids()) < 40 and time.monotonic() < deadline and term.proc.poll() is None:
        term.type(b"Z")
        time.sleep(0.05)  # the storm's pace, not a wait for something
    assert term.proc.poll() is None, term.output[-3000:]
    kids = running(term, 40)
    term.type(b"q")
    assert term.proc.wait(30) == 0
    assert b"Traceback" not in term.output and b"RuntimeError" not in term.output
    assert none_alive(kids)


def _select_waiters(pid: int) -> dict[int, int]:
    """The threads of ``pid`` waiting in select() (the terminal's input thread), by their
    count of voluntary context switches (one per wake-up)."""
    waiting = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/wchan") as f:
                wchan = f.read()
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                switches = next(int(line.split()[1]) for line in f if line.startswith("voluntary_ctxt_switches"))
        except (OSError, StopIteration):
            continue
        if wchan.startswith("poll_schedule_timeout"):  # select() and poll(); the others use epoll or futexes
            waiting[int(tid)] = switches
    return waiting


def test_the_input_thread_sleeps_until_a_key_and_a_lone_escape_still_works(terminal) -> None:
    """Textual's input thread wakes ten times a second; ours waits for a key. An Escape typed
    into that sleep is still told from the start of a sequence: it leaves the lesson."""
    term = terminal()
    drawn(term, b"Lessons")
    term.type(b"\r")
    running(term, 5)
    drawn(term, b"Semaphore")

    def asleep() -> bool:
        before = _select_waiters(term.proc.pid)
        time.sleep(2)
        after = _select_waiters(term.proc.pid)
        # Polling, it would have woken about twenty times in these two seconds.
        return any(tid in before and after[tid] - before[tid] <= 2 for tid in after)

    wait_for(asleep, 60, what="the input thread asleep, not polling")
    before = len(term.output)
    term.type(b"\x1b")
    wait_for(lambda: b"Lessons" in term.output[before:], 30, what="Escape back to the lessons")
    term.type(b"q")
    assert term.proc.wait(30) == 0
