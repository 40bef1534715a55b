"""The sampler: each process's figures from /proc, as psutil gives them, and fewer reads of the
processes nobody sees that do not run.  Real processes; rounds are called, never waited for."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import psutil
import pytest
from conftest import wait_for

from mpviz.runtime.sampler import IDLE_EVERY, Gone, Sampler, read_stat
from mpviz.telemetry import Event

BUSY = "while True: pass"
SLEEPER = "sleep"


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for child in started:
        child.kill()
        child.wait()


def start(children: list[subprocess.Popen[bytes]], code: str) -> int:
    """A Python child running ``code``; SLEEPER: a child that sleeps from its first instruction on."""
    child = subprocess.Popen(["sleep", "60"] if code == SLEEPER else [sys.executable, "-c", code])
    children.append(child)
    if code == SLEEPER:
        wait_for(lambda: psutil.Process(child.pid).status() == "sleeping", what="its sleep")
    return child.pid


def stats(events: list[Event], pid: int) -> dict[str, object] | None:
    return next((e.data for e in events if e.pid == pid and e.kind == "proc.stats"), None)


def test_the_figures_are_psutil_s(children: list[subprocess.Popen[bytes]]) -> None:
    """Status, CPU time, threads and resident memory as psutil reads them, from one file."""
    pid = start(children, "import time, threading; threading.Thread(target=time.sleep, args=(60,)).start()")
    proc = psutil.Process(pid)
    wait_for(lambda: proc.num_threads() == 2 and proc.status() == "sleeping", what="two sleeping threads")
    stat = read_stat(pid)
    assert stat.status == "sleeping" and stat.threads == 2
    times = proc.cpu_times()
    assert abs(stat.cpu_s - (times.user + times.system)) < 0.05
    assert abs(stat.rss - proc.memory_info().rss) < 1 << 20
    with pytest.raises(Gone):
        read_stat(2**22 + 1)  # above pid_max: no such process


def test_a_busy_process_shows_its_cpu_and_an_idle_one_none(children: list[subprocess.Popen[bytes]]) -> None:
    busy, idle = start(children, BUSY), start(children, SLEEPER)
    sampler = Sampler()
    for pid in (busy, idle):
        sampler.track(pid)
    first = sampler.sample()  # the first round: no CPU % yet, only a start
    assert stats(first, busy)["cpu"] == stats(first, idle)["cpu"] == 0.0  # type: ignore[index]
    seen: dict[int, float] = {}

    def busy_seen() -> bool:
        for event in sampler.sample():
            seen[event.pid] = float(event.data["cpu"])
        return seen.get(busy, 0.0) > 0

    wait_for(busy_seen, what="the busy process's CPU")
    assert seen.get(idle, 0.0) == 0.0
    assert sampler.status(idle) == "sleeping" and sampler.status(busy) in ("running", "sleeping")


def test_a_process_that_ends_is_said_gone_and_a_zombie_reaped(children: list[subprocess.Popen[bytes]]) -> None:
    pid = start(children, "pass")
    sampler = Sampler()
    sampler.track(pid)
    # Ended, not yet waited for: a zombie, said once.
    wait_for(lambda: psutil.Process(pid).status() == "zombie", what="a zombie")
    said = sampler.sample()
    assert stats(said, pid) == {"status": "zombie"} and sampler.take_gone() == [pid]
    assert stats(sampler.sample(), pid) is None
    children[0].wait()  # reaped: said so
    assert [e.kind for e in sampler.sample() if e.pid == pid] == ["proc.reaped"]
    assert sampler.status(pid) == ""


def rounds_until_gone(sampler: Sampler, pid: int) -> int:
    for n in range(1, 3 * IDLE_EVERY):
        sampler.sample()
        if pid in sampler.take_gone():
            return n
    raise AssertionError("never found gone")


def idle(sampler: Sampler, pid: int) -> bool:
    """A round in which the process did not run (read from what the sampler sends: nothing new)."""
    return stats(sampler.sample(), pid) is None


@pytest.mark.parametrize("in_view", [True, False])
def test_a_process_out_of_view_that_does_not_run_is_read_less_often(
    children: list[subprocess.Popen[bytes]], in_view: bool
) -> None:
    """In view (or while no screen says), every round; out of view and idle, every IDLE_EVERY rounds
    (at a round of its own, by pid, so that the idle are spread over rounds): its end is found at
    that round, not the next."""
    pid = start(children, SLEEPER)
    sampler = Sampler()
    sampler.track(pid)
    sampler.show([pid] if in_view else [])
    wait_for(lambda: idle(sampler, pid), what="a round in which it did not run")
    read_at = sampler._rounds - 1  # that round read it
    if (pid - read_at - 1) % IDLE_EVERY == 0:  # its own round is the next: one more, so that the next is further
        sampler.sample()
        read_at += 1
    children[0].kill()
    children[0].wait()
    n = rounds_until_gone(sampler, pid)
    assert n == (1 if in_view else 1 + (pid - read_at - 1) % IDLE_EVERY) and (in_view or n > 1)


def test_a_pid_taken_by_another_process_is_not_sampled_as_the_first(children: list[subprocess.Popen[bytes]]) -> None:
    pid = start(children, SLEEPER)
    sampler = Sampler()
    sampler.track(pid)
    sampler._procs[pid].start -= 1  # as if the process tracked had started before this one
    sampler.sample()
    assert sampler.take_gone() == [pid] and sampler.status(pid) == ""


def test_a_pid_tracked_anew_during_a_round_stays_tracked(
    children: list[subprocess.Popen[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The round read the pid's old entry; meanwhile a connection's thread tracked the process that now
    # has the pid (track() in another thread).  The old one's end must not forget the new one.
    from mpviz.runtime import sampler as module

    pid = start(children, SLEEPER)
    sampler = Sampler()
    sampler.track(pid)
    sampler._procs[pid].start -= 1  # the process the round knows of started before this one
    real, calls = module.read_stat, []

    def read_during_a_track(of: int) -> module.Stat:
        calls.append(of)
        if len(calls) == 1:
            sampler.track(of)  # (the other thread, between the round's look at the entry and its read)
        return real(of)

    monkeypatch.setattr(module, "read_stat", read_during_a_track)
    sampler.sample()
    assert len(calls) == 2
    assert sampler.take_gone() == [] and sampler.status(pid) == "sleeping", "the new process is still followed"
