"""Killing or pausing children never stalls the rest; the dashboard never leaves a child behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil
import pytest
from conftest import ROOT, descendants, none_alive, wait_for

from mpviz.runtime import Supervisor
from mpviz.telemetry import Event


@pytest.fixture
def supervisor():
    sup = Supervisor(sample_every=None)
    yield sup
    sup.close()


def collect(sup: Supervisor, until, timeout: float = 60, got: list[Event] | None = None) -> list[Event]:
    """Read records into ``got`` until ``until(got)`` holds."""
    got = [] if got is None else got
    deadline = time.monotonic() + timeout
    while not until(got):
        assert time.monotonic() < deadline, "timed out waiting for records"
        got.extend(sup.channels.read(0.05))
    return got


def ticks(events: list[Event]) -> Counter[int]:
    return Counter(e.pid for e in events if e.obj in ("tick", "flood"))


def test_kill_and_stop_children_mid_flood_others_keep_reporting(supervisor: Supervisor) -> None:
    from helpers.workers import flood

    n = 20000
    # The first two write for as long as they live: killed and stopped mid-flood.
    pids = [supervisor.start(flood, (10**9 if i < 2 else n,), role="flooder", label=f"f{i}") for i in range(5)]
    counted: Counter[int] = Counter()
    exits: dict[int, dict] = {}

    def count(got: list[Event]) -> None:
        counted.update(ticks(got))
        exits.update({e.pid: e.data for e in got if e.kind == "proc.exit"})
        got.clear()  # counted, not kept: a flood is millions of records

    collect(supervisor, lambda got: (count(got), all(counted[p] > 100 for p in pids[:2]))[1])
    # Kill one and stop another while they write as fast as they can.
    supervisor.send_signal(pids[0], signal.SIGKILL)
    supervisor.send_signal(pids[1], signal.SIGSTOP)
    rest = pids[2:]
    collect(supervisor, lambda got: (count(got), all(counted[p] == n for p in rest))[1], timeout=120)
    collect(supervisor, lambda got: (count(got), pids[0] in exits)[1])
    assert exits[pids[0]]["signal"] == "SIGKILL"
    assert pids[1] not in exits
    # The stopped one resumes where it was and goes on writing.
    before = counted[pids[1]]
    supervisor.send_signal(pids[1], signal.SIGCONT)
    collect(supervisor, lambda got: (count(got), counted[pids[1]] > before + 1000)[1], timeout=120)
    assert supervisor.channels.malformed == 0


def test_malformed_records_are_counted_and_dropped(supervisor: Supervisor) -> None:
    from helpers.workers import write_garbage_then_tick

    pid = supervisor.start(write_garbage_then_tick, (), role="bad", label="bad")
    got = collect(supervisor, lambda got: any(e.kind == "proc.exit" and e.pid == pid for e in got))
    assert supervisor.channels.malformed == 2
    assert [e.obj for e in got if e.kind == "proc.state"] == ["after garbage"]


def test_grandchildren_report_on_connections_of_their_own(supervisor: Supervisor) -> None:
    from helpers.workers import spawn_child

    pid = supervisor.start(spawn_child, (0.2,), role="parent", label="parent")
    got = collect(supervisor, lambda got: any(e.kind == "proc.exit" and e.pid == pid for e in got))
    spawned = [e for e in got if e.kind == "proc.spawn" and e.data["role"] == "grandchild"]
    assert len(spawned) == 1 and spawned[0].data["ppid"] == pid
    grandchild = spawned[0].pid
    assert any(e.kind == "proc.start" and e.pid == grandchild for e in got)
    assert any(e.kind == "proc.exit" and e.pid == grandchild and e.data["code"] == 0 for e in got)


def test_a_child_ended_while_it_is_being_started_is_no_orphan_to_reap(
    supervisor: Supervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sampler's round (the dashboard, its run's subreaper, adopts the run's orphans and reaps
    those that ended) comes while a child is being started, on a loaded machine, and the child has
    ended already (it raised at once): it is the dashboard's child before it is the supervisor's.
    Before: the round took it for an orphan and reaped it, and its exit code was lost (multiprocessing
    asks ``waitpid`` again and hears nothing): its exit said no code, a program's main exited 0."""
    from mpviz import sync
    from mpviz.runtime.guardian import zombie

    supervisor.members._adopting = True  # as the dashboard is (a subreaper); pytest is not
    process_class = sync.get_context(supervisor.method).Process
    start = process_class.start
    rounds: list[threading.Thread] = []

    def start_then_a_round(process: Any) -> None:
        start(process)
        wait_for(lambda: zombie(process.pid), timeout=60, what="the child to end at once")
        # The sampler's thread, now: before, its round ran at once; now it waits for the start to end.
        # (The join's timeout only lets a round that does not wait do its harm; a round that waits
        # finishes once the start is over.)
        rounds.append(threading.Thread(target=supervisor._sample_round))
        rounds[0].start()
        rounds[0].join(1.0)

    monkeypatch.setattr(process_class, "start", start_then_a_round)
    pid = supervisor.start(sys.exit, (3,), role="raiser", label="raiser")
    rounds[0].join(60)
    got = collect(supervisor, lambda got: any(e.kind == "proc.exit" and e.pid == pid for e in got))
    assert [e.data.get("code") for e in got if e.kind == "proc.exit" and e.pid == pid] == [3]


def test_a_run_that_stops_ends_none_of_the_next_runs_processes() -> None:
    """A lesson restarted: the run left stops in a thread while the new one starts, in the same
    process, whose children are all the dashboard's (its subreaper's) children.  Before: the run
    stopping took the new run's processes, and its guardian, for orphans of its own, and killed them."""
    from helpers.workers import sleep_forever

    from mpviz.runtime.guardian import start_time, zombie

    old = Supervisor(sample_every=None)
    new = Supervisor(sample_every=None)
    open_ = [old, new]
    try:
        for run in open_:
            run.members._adopting = True  # as the dashboard is (a subreaper); pytest is not
        left = old.start(sleep_forever, (), role="old", label="old")
        started = new.start(sleep_forever, (), role="new", label="new")
        open_.remove(old)
        old.close()
        assert not old.alive(left), "the run that stopped ended its own"
        guard = new.members._guardian.pid
        assert new.members.is_member(started) and not zombie(started), "the new run's process lives on"
        assert start_time(guard) is not None and not zombie(guard), "and its guardian"
    finally:
        for run in open_:
            run.close()
    assert not new.alive(started)


def test_a_child_that_connects_while_it_is_being_started_is_a_child_only(
    supervisor: Supervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child's connection is taken while its start() is not over (a loaded machine: the thread that
    starts it paused after the fork), and start() ends while it is admitted.  Before: it was a child
    and a grandchild at once, in ``pids()`` twice (pause-all signalled it twice)."""
    from helpers.workers import sleep_forever

    pid = supervisor.start(sleep_forever, (), role="child", label="child")
    child = supervisor.children.pop(pid)  # as it was before start() put it there
    admit = supervisor.members.admit

    def admitted_while_start_ends(pid: int) -> bool | None:
        member = admit(pid)
        supervisor.children[pid] = child  # start() ends now: the child is put there,
        supervisor.grandchildren.discard(pid)  # and taken out of the grandchildren (none yet)
        return member

    monkeypatch.setattr(supervisor.members, "admit", admitted_while_start_ends)
    assert supervisor._connected(pid) is True
    assert supervisor.pids().count(pid) == 1 and pid not in supervisor.grandchildren


def test_an_orphan_the_next_run_adopted_first_still_ends_with_the_run_that_stops() -> None:
    """A lesson restarted: a process of the run that stops, orphaned (its parent ended first), is
    handed to the dashboard and adopted by whichever run's round comes first.  Adopted by the new run,
    it is still ended with the run that stops (not left to live, unseen, until the new one ends)."""
    from mpviz.runtime.guardian import start_time, zombie

    old = Supervisor(sample_every=None)
    new = Supervisor(sample_every=None)
    open_ = [old, new]
    orphan = subprocess.Popen(["sleep", "600"])  # (a child of the dashboard neither run started)
    try:
        for run in open_:
            run.members._adopting = True  # as the dashboard is (a subreaper); pytest is not
        new.members.adopt(set(new.children))
        assert new.members.is_member(orphan.pid), "adopted by the new run first"
        open_.remove(old)
        old.close()
        assert start_time(orphan.pid) is None or zombie(orphan.pid), "ended with the run that stopped"
    finally:
        for run in open_:
            run.close()
        orphan.kill()
        orphan.wait(30)


def test_lesson_children_never_import_textual(supervisor: Supervisor) -> None:
    import textual  # noqa: F401 - the dashboard has it loaded; its children must not
    from helpers.workers import modules

    pid = supervisor.start(modules, (), role="probe", label="probe")
    got = collect(supervisor, lambda got: any(e.kind == "proc.state" and e.pid == pid for e in got))
    report = next(e for e in got if e.kind == "proc.state")
    assert report.data["ui"] == ""


def test_modules_a_child_imports_do_not_pull_in_the_ui() -> None:
    code = (
        "import sys, mpviz.cli, mpviz.__main__, mpviz.sync, mpviz.telemetry, mpviz.lessons\n"
        "from mpviz.registry import workers_modules\n"
        "import importlib\n"
        "[importlib.import_module(m) for m in workers_modules()]\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'psutil', 'mpviz.ui'))\n"
        "bad += sorted(m for m in sys.modules if m.startswith(('mpviz.ui', 'mpviz.runtime', 'mpviz.model')))\n"
        "print(bad)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


def start_headless(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mpviz", "run", *args, "--headless"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def running_children(proc: subprocess.Popen[str], count: int) -> set[int]:
    """Wait for ``count`` lesson processes past their bootstrap (each leads its own process group)."""

    def enough() -> set[int] | None:
        kids = set()
        for p in descendants(proc.pid):
            try:
                if "spawn_main" in " ".join(p.cmdline()) and os.getpgid(p.pid) == p.pid:
                    kids.add(p.pid)
            except (psutil.NoSuchProcess, ProcessLookupError):
                continue
        return kids if len(kids) >= count else None

    return wait_for(enough, 60, what=f"{count} lesson processes")  # type: ignore[return-value]


def test_sigkill_of_the_dashboard_leaves_no_child(run_dir) -> None:
    proc = start_headless("ktv", "--groups", "6", "--speed", "0.2")
    kids = running_children(proc, 6)
    # One child paused: it cannot run its watchdog; the kernel must end it.
    os.kill(sorted(kids)[0], signal.SIGSTOP)
    proc.kill()
    proc.wait(30)
    wait_for(lambda: none_alive(kids), 30, what="children to die with the dashboard")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_sigterm_sighup_sigint_stop_cleanly(sig: signal.Signals) -> None:
    proc = start_headless("ktv", "--groups", "5", "--speed", "0.2")
    kids = running_children(proc, 5)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig
    assert err == ""
    assert f"stopped by {sig.name}" in out
    assert out.count("killed by SIGTERM") == 5
    assert none_alive(kids)


# Modules a watched program's processes must not pay for before their first line unless the program
# itself imports them: each costs every process of the program (spawned children too) its time.
# (typing: ~3 ms to import and ~2 ms to tear down; the ring's reader and the shared memory's
# wrapper: the dashboard's, and a program's that uses shared memory; ctypes, ~2 ms, and the
# mapping that needs it: a process's first operation, or first sleep, before its first line; the
# wire's check of a record, its table of every kind's fields: the reader's.)
HEAVY = (
    "ctypes",
    "mpviz.telemetry.mapping",
    "mpviz.telemetry.wire",
    "importlib.abc",
    "importlib.resources",
    "tempfile",
    "shutil",
    "random",
    "inspect",
    "dataclasses",
    "sysconfig",
    "typing",
    "mpviz.telemetry.ring_reader",
    "mpviz.sync.shm",
)

SAYS_ITS_MODULES = """
import multiprocessing, sys

def child(q):
    q.put(sorted(sys.modules))

if __name__ == "__main__":
    print(" ".join(sorted(sys.modules)))
    ctx = multiprocessing.get_context("spawn")
    q = ctx.SimpleQueue()
    p = ctx.Process(target=child, args=(q,))
    p.start()
    print(" ".join(q.get()))
    p.join()
"""


def test_a_watched_programs_processes_import_nothing_heavy_of_their_own(tmp_path: Path) -> None:
    """What mpviz's hook imports in a program's main and in a spawned child: none of ``HEAVY``
    that the plain run does not import too.  Before: ``importlib.abc`` (a finder for shared
    memory) brought importlib.resources, tempfile, shutil and random into every process, ~5 ms each."""
    from helpers.plainly import plainly, watched

    prog = tmp_path / "modules.py"
    prog.write_text(SAYS_ITS_MODULES)
    plain, seen = plainly([str(prog)], tmp_path), watched([str(prog)], tmp_path, tmp_path / "run.jsonl")
    assert plain.code == seen.code == 0, seen.mpviz_out + seen.mpviz_err
    assert len(plain.out) == len(seen.out) == 2, seen.out
    for where, mine, theirs in zip(("main", "child"), seen.out, plain.out, strict=True):
        extra = set(mine.split()) - set(theirs.split())
        assert not extra & set(HEAVY), f"the watched {where} imports {sorted(extra & set(HEAVY))}"


SAYS_WHAT_IT_COLLECTS = """
import gc, multiprocessing, sys


class Cycle:
    def __init__(self):
        self.me = self


def collects():
    # A class that exists before the first line (loaded by the hook, watched), one of the program's.
    listed = {id(o) for o in gc.get_objects()}
    Cycle()
    start_up = sys.modules["multiprocessing.process"].BaseProcess
    return [gc.get_freeze_count() > 0, id(start_up) in listed, id(Cycle) in listed, gc.collect() > 0]


def child(q):
    q.put(collects())


if __name__ == "__main__":
    print(*collects())
    ctx = multiprocessing.get_context("spawn")
    q = ctx.SimpleQueue()
    p = ctx.Process(target=child, args=(q,))
    p.start()
    print(*q.get())
    p.join()
"""


def test_what_a_watched_process_has_before_its_first_line_is_set_aside_from_the_collector(tmp_path: Path) -> None:
    """In a watched program's main and in a spawned child, what exists before the program's first
    line (the interpreter's start-up, the modules mpviz's hook loads) is frozen (``gc.freeze``): the
    collector no longer goes over it again and again and in full at the exit (~12 M instructions of
    a spawned child's start).  What the program makes (its classes, a cycle it drops) is collected
    as plainly."""
    from helpers.plainly import plainly, watched

    prog = tmp_path / "collects.py"
    prog.write_text(SAYS_WHAT_IT_COLLECTS)
    plain, seen = plainly([str(prog)], tmp_path), watched([str(prog)], tmp_path, tmp_path / "run.jsonl")
    assert plain.code == seen.code == 0, seen.mpviz_out + seen.mpviz_err
    assert plain.out == ["False True True True"] * 2, plain.out
    assert seen.out == ["True False True True"] * 2, seen.out


SAYS_ITS_PATH = """
import multiprocessing, os, sys

def child(q):
    q.put(sys.path)

if __name__ == "__main__":
    print(os.pathsep.join(sys.path))
    ctx = multiprocessing.get_context("spawn")
    q = ctx.SimpleQueue()
    p = ctx.Process(target=child, args=(q,))
    p.start()
    print(os.pathsep.join(q.get()))
    p.join()
"""


def test_a_watched_program_has_the_plain_runs_path_and_its_own_sitecustomize_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mpviz's hook is first on the program's PYTHONPATH, and leaves ``sys.path`` once it ran (every
    import by name would look there first): the program's path is the plain run's, in main and in
    a spawned child; and a ``sitecustomize`` of the program's own, which the hook stands in front
    of, still runs, in every process."""
    from helpers.plainly import plainly, watched

    from mpviz.runtime.program import HOOK

    own = tmp_path / "own"
    own.mkdir()
    (own / "sitecustomize.py").write_text("print('own sitecustomize')\n")
    monkeypatch.setenv("PYTHONPATH", str(own))
    prog = tmp_path / "path.py"
    prog.write_text(SAYS_ITS_PATH)
    plain, seen = plainly([str(prog)], tmp_path), watched([str(prog)], tmp_path, tmp_path / "run.jsonl")
    assert plain.code == seen.code == 0, seen.mpviz_out + seen.mpviz_err
    assert sorted(plain.out) == sorted(seen.out), (plain.out, seen.out)
    # main, its spawned child (and multiprocessing's resource tracker, in both runs or neither)
    assert seen.out.count("own sitecustomize") == plain.out.count("own sitecustomize") >= 2
    assert not any(HOOK in line.split(os.pathsep) for line in seen.out)


SAYS_ITS_THREADS = """
import multiprocessing, threading

def child(q):
    q.put(sorted(t.name for t in threading.enumerate()))

if __name__ == "__main__":
    print(sorted(t.name for t in threading.enumerate()), threading.active_count())
    for method in ("fork", "spawn"):
        ctx = multiprocessing.get_context(method)
        q = ctx.SimpleQueue()
        p = ctx.Process(target=child, args=(q,))
        p.start()
        print(method, q.get(), sorted(t.name for t in threading.enumerate()))
        p.join()
"""


def test_a_watched_program_finds_only_its_own_threads(tmp_path: Path) -> None:
    """mpviz's threads in a program's processes (each one's connection, a parent's watch on its
    child's end) are the interpreter's, not threading's: a program that lists its threads, in main,
    in its children, in a parent of a running child, finds what it finds plainly."""
    from helpers.plainly import plainly, watched

    prog = tmp_path / "threads.py"
    prog.write_text(SAYS_ITS_THREADS)
    plain, seen = plainly([str(prog)], tmp_path), watched([str(prog)], tmp_path, tmp_path / "run.jsonl")
    assert plain.code == seen.code == 0, seen.mpviz_out + seen.mpviz_err
    assert seen.out == plain.out


def test_what_the_command_line_loads_before_a_program_starts_is_light() -> None:
    """Headless, a program's main starts once the command line is read (runtime/program.py,
    Early), while the rest of mpviz loads: what comes before it is on every run's path.  Before:
    tempfile, shutil and random came with it (~6 ms), none of them needed there; then typing
    (for TYPE_CHECKING) and dataclasses (with inspect, ast, dis, tokenize), ~18 ms."""
    code = (
        "import sys, mpviz.cli, mpviz.runtime.program, mpviz.runtime.members\n"
        "print(sorted(m for m in sys.modules if m in ('tempfile', 'shutil', 'random', 'psutil', 'typing', 'dataclasses')"
        " or m.startswith(('mpviz.model', 'mpviz.runtime.supervisor', 'mpviz.ui', 'textual'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_a_dashboard_that_dies_before_it_takes_the_connection_is_a_hang_up(tmp_path) -> None:
    """A process connected while the dashboard still loaded (a watched program started early), and
    the dashboard died before it accepted: the connection is reset, which is the dashboard gone
    (before: taken as closed by the process itself, the program outlived a SIGKILLed mpviz)."""
    import socket
    import threading

    from mpviz.telemetry.reporter import SocketReporter

    path = str(tmp_path / "records")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    reporter = SocketReporter(path)
    hung_up = threading.Event()
    reporter.serve(hung_up.set)
    listener.close()  # never accepted
    assert hung_up.wait(30), "the dashboard's end gone: a hang-up"
