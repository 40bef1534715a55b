"""Any program, unmodified, watched: the tutorial's own programs and programs of our own, on real processes.

The tutorial's programs are in ``tests/tutorial/`` (the tutorial's code with
its line breaks restored, nothing else changed).  They run from a scratch
copy, as the tutorial's reader would run them (the ticket program rewrites
its file in the current directory).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from conftest import ROOT, load, none_alive, wait_for

from mpviz.model import Model

SEED = ROOT / "tests" / "tutorial"  # the tutorial's own programs, unchanged
OURS = ROOT / "tests" / "programs"


def watch(
    prog: str | Path,
    *options: str,
    cwd: Path,
    args: tuple[str, ...] = (),
    stdin: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``mpviz run PROG --headless [options] -- ARGS``, as a user types it."""
    argv = [sys.executable, "-m", "mpviz", "run", str(prog), "--headless", *options, "--", *args]
    return subprocess.run(argv, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=timeout)


def no_false_alarm(out: str) -> None:
    """A correct program is warned of nothing: no pitfall, no potential deadlock."""
    assert "pitfall: " not in out and "potential deadlock" not in out, out[-2000:]


def printed(out: str) -> list[str]:
    """The lines the program's processes printed, in the headless output."""
    return [line.split(" prints: ", 1)[1] for line in out.splitlines() if " prints: " in line]


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    if SEED.is_dir():
        for program in SEED.iterdir():
            shutil.copy(program, tmp_path / program.name)
        (tmp_path / "ticket").chmod(0o644)
    return tmp_path


def test_the_tutorials_ktv(scratch: Path) -> None:
    record = scratch / "ktv.jsonl"
    done = watch("ktv.py", "--speed", "10", "--record", str(record), cwd=scratch)
    assert done.returncode == 0, done.stdout + done.stderr
    no_false_alarm(done.stdout)
    assert sorted(line for line in printed(done.stdout) if "进来唱歌了" in line) == [
        f"person {i} 进来唱歌了" for i in range(5)
    ]
    assert "semaphore 'sem' at ktv.py:15: 5 acquired, 1 waited, at most 4 holding at once" in done.stdout
    header, events = load(record)
    assert header["program"] == "ktv.py"
    ids = {e.obj for e in events if e.kind == "prim.new" and e.data["name"] == "sem"}
    inside, most = set(), 0
    for e in sorted(events, key=lambda e: e.t_ns):
        if e.obj in ids and e.kind == "sem.acquired":
            inside.add(e.pid)
            most = max(most, len(inside))
        elif e.obj in ids and e.kind == "sem.released":
            inside.discard(e.pid)
    assert most == 4


def test_the_tutorials_ticket_rush(scratch: Path) -> None:
    done = watch("ticket.py", cwd=scratch)
    assert done.returncode == 0, done.stdout + done.stderr
    no_false_alarm(done.stdout)
    assert sum("购票成功" in line for line in printed(done.stdout)) == 3
    assert json.loads((scratch / "ticket").read_text()) == {"count": 0}
    # The tutorial's check_ticket reads the file without the lock: a buyer that reads it while
    # another writes it (open 'w' empties it first) fails with JSONDecodeError before it takes the
    # lock, plainly as watched (rare; seen under load).  Every other buyer takes the lock once.
    raced = done.stdout.splitlines()[-1].count("JSONDecodeError")
    assert f"lock 'lock' at ticket.py:34: {5 - raced} acquired" in done.stdout


def test_the_tutorials_naive_producer_consumer_hangs_and_is_named(scratch: Path) -> None:
    done = watch("prodcons_naive.py", "--speed", "10", cwd=scratch)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "hang: 1 consumer blocked on get from empty queue 'q' and no producer left" in done.stdout


def test_the_tutorials_fixed_producer_consumer_ends(scratch: Path) -> None:
    done = watch("prodcons_fixed.py", "--speed", "10", cwd=scratch)
    assert done.returncode == 0, done.stdout + done.stderr
    no_false_alarm(done.stdout)
    assert "queue 'q' at prodcons_fixed.py:23: 11 put, 11 got" in done.stdout
    assert "nothing went wrong" in done.stdout


def test_the_tutorials_second_event_example_waits_forever(scratch: Path) -> None:
    done = watch("event2.py", cwd=scratch)
    assert done.returncode == 1, done.stdout + done.stderr
    assert printed(done.stdout) == ["False"]
    assert "hang: main (pid" in done.stdout and "waits forever on event 'e': no live process can set it" in done.stdout


def test_the_tutorials_two_way_queue(scratch: Path) -> None:
    done = watch("queue2.py", cwd=scratch)
    assert done.returncode == 0, done.stdout + done.stderr
    no_false_alarm(done.stdout)
    assert sorted(printed(done.stdout)) == ["hi", "你好"]


def test_the_tutorials_traffic_light_is_stopped_by_duration(scratch: Path) -> None:
    done = watch("traffic.py", "--speed", "4", "--duration", "4", cwd=scratch)
    assert done.returncode == 0, done.stdout + done.stderr
    no_false_alarm(done.stdout)
    lines = printed(done.stdout)
    assert any("绿灯亮" in line for line in lines) and any("通过路口" in line for line in lines)
    assert "\x1b[" not in done.stdout, "colour codes are stripped when the output is not a terminal"
    assert "stopped before it ended" in done.stdout


def test_the_tutorials_chat_server_and_its_client_through_stdin(scratch: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    server = subprocess.Popen(
        [sys.executable, "-m", "mpviz", "run", "chat_server.py", "--headless", "--duration", "60", "--", port],
        cwd=scratch,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def listening() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", int(port))) == 0

        wait_for(listening, 60, what="the tutorial's server to listen")
        client = watch("chat_client.py", cwd=scratch, args=(port,), stdin="hello\nworld\n")
        assert printed(client.stdout)[:2] == [">>>hello_sb", ">>>world_sb"]
        assert client.returncode == 1, "the tutorial's client ends on EOFError at the end of its input"
        assert "EOFError" in client.stdout
    finally:
        server.send_signal(signal.SIGINT)
        out, _ = server.communicate(timeout=60)
    assert "chat #0" in out and "prints: hello" in out


def test_a_lock_order_deadlock_is_named(tmp_path: Path) -> None:
    done = watch(OURS / "deadlock.py", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "holds 'fork_lock' and waits for 'knife_lock'" in done.stdout
    assert "holds 'knife_lock' and waits for 'fork_lock'" in done.stdout
    assert "alice (pid" in done.stdout and "bob (pid" in done.stdout


def test_a_consumer_starved_by_a_producer_that_failed_is_told_why(tmp_path: Path) -> None:
    done = watch(OURS / "failed_producer.py", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    hang = next(line for line in done.stdout.splitlines() if line.startswith("hang: "))
    assert hang.startswith("hang: 1 consumer blocked on get from empty queue 'results' and no producer left: main")
    assert hang.endswith("; adder #0 failed: ValueError: cannot handle 7"), hang


def test_a_hang_on_a_condition_notified_while_nobody_waited_says_so(tmp_path: Path) -> None:
    done = watch(OURS / "lost_notify.py", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    hang = next(line for line in done.stdout.splitlines() if line.startswith("hang: "))
    assert "waiter #0 (pid" in hang and "on condition 'ready'" in hang
    assert "main notified condition 'ready' at lost_notify.py:15 in <module> while nobody waited" in hang


@pytest.mark.parametrize(
    ("program", "said"),
    [
        ("timed_get.py", ["blocked on get: queue 'inbox' is empty (gives up after 4 s)"]),
        ("timed_event.py", ["waits for event 'go' (flag False) (gives up after 4 s)"]),
        (
            "timed_pool_result.py",
            [
                "waits for results from pool 'pool' (gives up after 5 s)",
                "gave up waiting for results from pool 'pool'",
                # What did go wrong: the callback's exception ended the pool's result-handler thread.
                "pitfall: on_done (at timed_pool_result.py:13 in on_done), a callback of pool 'pool', raised "
                "ValueError: callbacks run in the pool's result-handler thread, and the exception ended it",
            ],
        ),
        ("timed_backoff.py", ["(gives up after 2 s) at timed_backoff.py:18 in move"]),
    ],
)
def test_a_wait_with_a_timeout_is_no_hang_and_the_program_ends_as_it_does_plainly(
    tmp_path: Path, program: str, said: list[str]
) -> None:
    """Each program's waits end by themselves (a get, an event and a join, a pool's result, a lock's
    back-off): watched, it must end as it ends plainly, with the same lines and exit code.  Before,
    mpviz called each a hang or a deadlock after a second or two and stopped it."""
    plainly = subprocess.run(
        [sys.executable, str(OURS / program)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    done = watch(OURS / program, "--no-stacks", cwd=tmp_path)
    assert done.returncode == plainly.returncode, done.stdout[-3000:]
    assert sorted(printed(done.stdout)) == sorted(plainly.stdout.splitlines()), done.stdout[-3000:]
    assert all(words in done.stdout for words in said), done.stdout[-3000:]
    for claim in ("hang", "deadlock", "mpviz stopped it", "stopped before it ended", "when mpviz stopped it"):
        assert claim not in done.stdout, done.stdout[-3000:]
    if program == "timed_pool_result.py":
        # The wait that gave up got nothing; an imap's next() that got its item did not give up.
        lines = done.stdout.splitlines()
        gave_up = [i for i, line in enumerate(lines) if "gave up waiting for results" in line]
        got = [i for i, line in enumerate(lines) if "got results from pool" in line]
        assert len(gave_up) == 1 and all(i < gave_up[0] for i in got), done.stdout[-3000:]
        # The callback's traceback, as the program's thread prints it, has no frame of mpviz's.
        traceback = [line.split(" stderr: ", 1)[1] for line in lines if " stderr: " in line]
        assert any("in on_done" in line for line in traceback), traceback
        assert not any("mpviz" in line for line in traceback), traceback


def test_a_program_stopped_after_hang_timeout_is_not_said_to_be_fine(tmp_path: Path) -> None:
    """main blocked on a queue nobody feeds, beside a thread that sleeps: mpviz cannot be sure it
    hangs, and stops it after --hang-timeout.  Before: "stopped before it ended: nothing went wrong
    so far", exit 0."""
    done = watch(OURS / "stalls_beside_a_sleeper.py", "--hang-timeout", "2", "--no-stacks", cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-2000:]
    last = done.stdout.splitlines()[-1]
    assert "nothing went wrong" not in last and "no progress for " in last, last
    assert last.endswith("; mpviz stopped it after 2 s with no progress (--hang-timeout)"), last


def test_pool_map(tmp_path: Path) -> None:
    done = watch(OURS / "pool_map.py", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert printed(done.stdout) == ["328350"]
    assert done.stdout.count("PoolWorker-") >= 4
    assert "pool 'pool' at pool_map.py:11: 100 tasks, 100 results" in done.stdout


def test_process_pool_executor_with_a_spawn_context(tmp_path: Path) -> None:
    done = watch(OURS / "executor.py", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert printed(done.stdout) == ["36100"]
    # Its workers keep multiprocessing's names, as the program sees them (not "_process_worker #1").
    assert "SpawnProcess-2" in done.stdout and "_process_worker" not in done.stdout


def test_a_managers_dict(tmp_path: Path) -> None:
    done = watch(OURS / "manager_dict.py", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert printed(done.stdout) == ["[(0, 0), (1, 10), (2, 20)]"]
    assert "SyncManager-1" in done.stdout and "fill #2" in done.stdout


def test_every_managers_calls_in_words(tmp_path: Path) -> None:
    """A program's own BaseManager as well as multiprocessing's, each proxy by its variable, in every process."""
    done = watch(OURS / "managers.py", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert printed(done.stdout) == ["tally 2 5", "shared {'child': 'hello'} answer 42"]
    out = done.stdout
    assert "created manager 'counters' at managers.py:28" in out
    assert "tally.add(…) through manager 'counters'" in out
    assert "created manager 'manager' at managers.py:33" in out
    assert "ns.answer = … through manager 'manager'" in out
    assert "inbox.put(…) through manager 'manager'" in out
    child_lines = [line for line in out.splitlines() if " child #0 " in line]
    assert any("inbox.get(…) through manager 'manager'" in line for line in child_lines)
    assert any("shared[…] = … through manager 'manager'" in line for line in child_lines)
    assert "manager 'counters' at managers.py:28: 2 calls through tally (Counter)" in out


def test_a_grandchild_under_fork_takes_a_lock_passed_down(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    done = watch(OURS / "fork_grandchild.py", "--record", str(record), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    _, events = load(record)
    spawned = {e.data["label"]: (e.pid, e.data["ppid"]) for e in events if e.kind == "proc.spawn"}
    child, grandchild = spawned["child #0"], spawned["grandchild #0"]
    assert grandchild[1] == child[0], "the grandchild's parent is the child"
    lock = next(e.obj for e in events if e.kind == "prim.new" and e.data["name"] == "lock")
    assert any(e.kind == "lock.acquired" and e.obj == lock and e.pid == grandchild[0] for e in events)
    assert "grandchild holds the lock" in printed(done.stdout)


def test_forks_while_another_thread_reports(tmp_path: Path) -> None:
    """A forked child never inherits a connection locked by a thread it does not have: all forty start and end."""
    done = watch(OURS / "fork_while_reporting.py", "--duration", "60", cwd=tmp_path)
    assert printed(done.stdout) == ["40 children started and ended"], done.stdout[-2000:]
    assert done.returncode == 0


def test_a_main_that_fails_never_ends_with_nothing_went_wrong(tmp_path: Path) -> None:
    """An uncaught exception, or sys.exit(3): its own exit code, and a verdict that says how it failed."""
    program = tmp_path / "fails.py"
    program.write_text(
        "import sys\n"
        "from multiprocessing import Lock\n"
        "lock = Lock()\n"
        "if len(sys.argv) > 1:\n"
        "    sys.exit(int(sys.argv[1]))\n"
        "raise ValueError('no tickets left')\n"
    )
    done = watch(program, cwd=tmp_path)
    verdict = done.stdout.splitlines()[-1]
    assert done.returncode == 1
    assert verdict == "fails.py: 1 process, main exited with code 1: ValueError: no tickets left"
    done = watch(program, cwd=tmp_path, args=("3",))
    assert done.returncode == 3
    assert done.stdout.splitlines()[-1] == "fails.py: 1 process, main exited with code 3"


def test_a_task_lost_with_its_worker_is_a_hang_named_with_the_line_that_waits(tmp_path: Path) -> None:
    """The worker running square(3) is killed: the pool starts another, the task is gone, map() never returns."""
    done = watch(OURS / "lost_task.py", cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-3000:]
    verdict = done.stdout.splitlines()[-1]
    assert re.fullmatch(
        r"hang: main \(pid \d+\) at lost_task\.py:16 in <module> waits for results from pool 'pool' that will "
        r"never come: 1 task out, and nobody works on them: ForkPoolWorker-\d \(pid \d+\) ended \(killed by "
        r"SIGKILL\) while working on a task, which is lost with it; every worker waits for a task",
        verdict,
    ), verdict
    assert printed(done.stdout) == []


def test_an_executors_workers_are_seen_waiting_for_a_task(tmp_path: Path) -> None:
    """Its futures failed (a Queue cannot be pickled): every task came back, and the workers wait for the next.

    (Main then waits for ever on a queue nobody feeds; naming that hang needs the executor's own
    threads in main, which could still move as far as mpviz knows, to be seen waiting: the model's
    threads, issue 22.)"""
    record = tmp_path / "run.jsonl"
    done = watch(OURS / "futures_idle.py", "--duration", "4", "--record", str(record), cwd=tmp_path)
    out = done.stdout
    assert "handed 1 task of square_into to pool 'executor'" in out
    assert "pool 'executor' at futures_idle.py:13: 3 tasks, 3 results" in out
    _, events = load(record)
    model = Model()
    model.apply([e for e in events if e.kind != "proc.exit"])  # as it stood before --duration ended it
    workers = [p for p in model.procs.values() if p.role == "pool"]
    assert len(workers) == 2 and all(p.state == "waiting for a task from pool 'executor'" for p in workers)
    main = next(p for p in model.procs.values() if p.role == "main")
    assert main.state == "blocked on get from 'q' at futures_idle.py:15 in <genexpr>"


def test_a_child_that_raises(tmp_path: Path) -> None:
    done = watch(OURS / "raises.py", cwd=tmp_path)
    assert done.returncode == 0, "the program itself ended well"
    assert "fail #0        failed: ValueError: no such ticket" in done.stdout
    assert "stderr: ValueError: no such ticket" in done.stdout
    assert "fail #0              exited with code 1" in done.stdout
    assert printed(done.stdout) == ["child exit code 1"]
    assert (
        done.stdout.splitlines()[-1] == "raises.py: 2 processes, main done; fail #0 failed: ValueError: no such ticket"
    )


async def test_a_child_that_raises_is_never_a_tick_in_the_dashboard(tmp_path: Path) -> None:
    """The program ended well (main's code 0), but a child failed: a warning beside the verdict,
    never a ✔.  Before: "✔ raises.py: 2 processes, main done; fail #0 failed: ValueError: …"."""
    from helpers.dashboard import until

    from mpviz.ui.app import make_app
    from mpviz.ui.screens.run.drawing import Alerts
    from mpviz.ui.sources import ReplaySource

    record = tmp_path / "run.jsonl"
    assert watch(OURS / "raises.py", "--record", str(record), cwd=tmp_path).returncode == 0
    source = ReplaySource(record, speed=64)
    app = make_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: source.done, what="the recording played to its end")
        alerts = app.screen.query_one(Alerts)
        await until(pilot, lambda: "fail #0 failed" in alerts.plain, what="the final verdict shown")
        last = alerts.plain.splitlines()[-1]
        assert last.startswith("⚠ raises.py: 2 processes, main done; fail #0 failed: ValueError"), alerts.plain
        assert alerts.has_class("-bad")


def test_the_program_never_waits_for_a_stopped_dashboard(tmp_path: Path) -> None:
    """mpviz stopped (SIGSTOP) while the program floods it with records: the program runs to its end,
    what could not be sent is dropped and counted, and said once mpviz goes on."""
    started, finished = tmp_path / "started", tmp_path / "done"
    argv = [
        sys.executable,
        "-m",
        "mpviz",
        "run",
        str(OURS / "flood.py"),
        "--headless",
        "--",
        str(started),
        str(finished),
        "300000",
    ]
    with (tmp_path / "out.txt").open("w") as out:
        mpviz = subprocess.Popen(argv, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for(started.exists, 60, what="the program to start")
            mpviz.send_signal(signal.SIGSTOP)
            wait_for(finished.exists, 120, what="the program to end while mpviz is stopped")
            mpviz.send_signal(signal.SIGCONT)
            assert mpviz.wait(120) == 0
        finally:
            mpviz.send_signal(signal.SIGCONT)
            mpviz.kill()
    assert "records lost" in (tmp_path / "out.txt").read_text()


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_sigkill_of_mpviz_leaves_no_process_of_the_program(tmp_path: Path, method: str) -> None:
    # (A spawned or a forkserver's child that the dashboard never asked anything has no thread
    # that would see the dashboard gone: the guardian ends it.)
    mpviz = subprocess.Popen(
        [sys.executable, "-m", "mpviz", "run", str(OURS / "sleepers.py"), method, "--headless"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        program: list[psutil.Process] = []

        def four() -> bool:
            program[:] = [
                p
                for p in psutil.Process(mpviz.pid).children(recursive=True)
                if "sleepers" in " ".join(p.cmdline()) or "multiprocessing" in " ".join(p.cmdline())
            ]
            return len(program) >= 4  # main, parent, two sleepers

        wait_for(four, 60, what="the program's four processes")
        pids = {p.pid for p in program}
    finally:
        os.kill(mpviz.pid, signal.SIGKILL)
        mpviz.wait(10)
    wait_for(lambda: none_alive(pids), 60, what="no process of the program to outlive mpviz")


def test_a_module_and_bad_names(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "hello.py").write_text("import sys\nprint('hello', *sys.argv[1:])\n")
    done = subprocess.run(
        [sys.executable, "-m", "mpviz", "run", "-m", "pkg.hello", "--headless", "--", "a", "b"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert printed(done.stdout) == ["hello a b"]
    nosuch = subprocess.run(
        [sys.executable, "-m", "mpviz", "nosuch.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert (nosuch.returncode, nosuch.stderr) == (2, "mpviz: error: no lesson or file 'nosuch.py'\n")


def test_a_programs_arguments_need_no_dashes(tmp_path: Path) -> None:
    """``mpviz run prog.py 4 --headless`` runs ``python prog.py 4``, as ``mpviz prog.py 4`` would
    (words before ``--`` that are no option of mpviz's go first); ``-m MODULE a`` gives "a" to the
    module; an option mpviz does not know is refused with where the program's own options go."""
    (tmp_path / "args.py").write_text("import sys\nprint('args', *sys.argv[1:])\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "hello.py").write_text("import sys\nprint('hello', *sys.argv[1:])\n")

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mpviz", "run", *argv], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )

    done = run("args.py", "4", "five", "--headless", "--", "--six")
    assert done.returncode == 0, done.stdout + done.stderr
    assert printed(done.stdout) == ["args 4 five --six"]
    done = run("-m", "pkg.hello", "a", "--headless", "b")
    assert done.returncode == 0, done.stdout + done.stderr
    assert printed(done.stdout) == ["hello a b"]
    refused = run("args.py", "4", "--verbose", "--headless")
    assert refused.returncode == 2
    assert refused.stderr.startswith("mpviz: error: unrecognized arguments: --verbose (the program's own options go ")
    assert "-- --verbose" in refused.stderr and len(refused.stderr.splitlines()) == 1


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_every_kind_of_primitive_is_seen_under_every_start_method(tmp_path: Path, method: str) -> None:
    record = tmp_path / "run.jsonl"
    done = watch(OURS / "every_primitive.py", "--record", str(record), cwd=tmp_path, args=(method,))
    assert done.returncode == 0, done.stdout + done.stderr
    assert printed(done.stdout) == ["[0, 2, 4, 6, 8, 10]"]
    _, events = load(record)
    model = Model()
    model.apply(events)
    cond, barrier, pool = model.prim("cond"), model.prim("barrier"), model.prim("pool")
    assert (cond.family, cond.waits) == ("cond", 2), "two processes waited on the condition"
    assert (barrier.family, barrier.capacity, barrier.passed) == ("barrier", 3, 3), "three arrived and passed"
    assert (pool.family, pool.tasks, pool.results) == ("pool", 6, 6), "six items handed out, six results back"
    workers = [p for p in model.procs.values() if p.role == "pool"]
    assert len(workers) == 2 and all(p.ppid in model.procs for p in workers)
    assert model.prim("counter").family == "value"
    assert "nothing went wrong" in done.stdout


def test_a_process_that_ends_without_a_word_is_seen_ended_with_its_code(tmp_path: Path) -> None:
    """``os._exit(3)`` in a child, in a plain Process and in a pool's workers.  Before: each was
    "ended (how, nobody could tell)", and the verdict said nothing went wrong."""
    record = tmp_path / "run.jsonl"
    done = watch(OURS / "ends_by_os_exit.py", "--record", str(record), cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr  # the program's own: its main ended well
    assert printed(done.stdout) == ["woke", "child code 3", "pool: BrokenProcessPool"], done.stdout[-3000:]
    _, events = load(record)
    model = Model()
    model.apply(events)
    woke = next(e.t_ns for e in events if e.kind == "proc.output" and "woke" in e.data.get("text", ""))
    workers = [p for p in model.procs.values() if p.role == "pool"]
    first = next(p for p in model.procs.values() if p.role == "worker")
    # Seen ended while its parent still slept (a zombie's stat tells its code), not at the join.
    assert first.exit_code == 3 and first.exited_ns is not None and first.exited_ns < woke
    assert len(workers) == 2 and all(p.exit_code is not None for p in workers), [p.state for p in workers]
    # How each ended, in the end (a worker its parent reaped at once is told by the parent's join,
    # which under load may come after a line that could not yet tell).
    # (The executor may end a worker with SIGTERM before its task ran: told as such.)
    summary = done.stdout.split("\nprocesses:\n", 1)[1].split("\nprimitives:", 1)[0].splitlines()
    assert "nobody could tell" not in "\n".join(summary), summary
    ends = [line for line in summary if " die #0 " in line or "Process-" in line]
    assert len(ends) == 3 and all(("exited with code 3" in e or "killed by SIGTERM" in e) for e in ends), summary
    # Each end is said once, however many of its parent, its stat and itself told it.
    ends = [line for line in done.stdout.splitlines() if "exited with code" in line and "prints:" not in line]
    pids = [line.split()[1] for line in ends if line.split()[1].isdigit()]
    assert len(pids) == len(set(pids)), ends
    assert "failed: exited with code 3" in done.stdout.splitlines()[-1], done.stdout[-1500:]
    # The pool's futures failed: no result came back (before: "got 1 result" four times).
    assert done.stdout.count("got 1 failed result from pool 'pool' (BrokenProcessPool)") == 4, done.stdout[-3000:]
    assert "4 tasks, 4 results (4 failed)" in done.stdout and "got 1 result " not in done.stdout
    assert "proc.terminate" not in done.stdout, "a record in words, not raw"


def test_a_join_of_a_queue_whose_tasks_nobody_finishes_is_a_hang(tmp_path: Path) -> None:
    """main in ``q.join()`` after the only worker took the item without ``task_done()`` and ended.
    Before: the queue's feeder thread, waiting for main's puts, counted as a thread that could
    still move, and the run went on until killed, "nothing went wrong so far"."""
    done = watch(OURS / "unfinished_tasks.py", "--hang-timeout", "60", "--no-stacks", cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-2000:]
    assert done.stdout.splitlines()[-1] == (
        f"hang: main (pid {_main_pid(done.stdout)}) at unfinished_tasks.py:16 in <module> waits forever"
        " on queue 'q': 1 item got and never marked done (work #0 got 1): join() waits for a task_done() for each get()"
    ), done.stdout[-2000:]


def _main_pid(out: str) -> str:
    return next(line.split()[1] for line in out.splitlines() if "started as main" in line)


def test_a_subprocess_whose_output_the_program_reads_prints_to_the_program(tmp_path: Path) -> None:
    """Output captured (``capture_output``, ``check_output``, ``communicate``) or sent to a file by
    the program, in main and in a multiprocessing child, reaches the program as it does plainly.
    Before: mpviz took every Python process's stdout and stderr, and the program read ''."""
    program = OURS / "captures_output.py"
    plain = subprocess.run([sys.executable, str(program)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0, plain.stderr
    done = watch(program, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert printed(done.stdout) == plain.stdout.splitlines(), done.stdout[-3000:]
    # What a subprocess prints where its parent prints is shown, as its own (its stderr too).
    err = [line for line in done.stdout.splitlines() if " stderr: warn" in line]
    assert len(err) == 2 and all(" main " not in line for line in err), done.stdout[-3000:]
    # Named by what it runs (it has no name of multiprocessing's): before, "pid 22331".
    assert all(re.search(r" python -c \(pid \d+\) +stderr: warn$", line) for line in err), err


def test_the_pipes_the_processes_print_on_are_marked_in_their_environment(tmp_path: Path) -> None:
    """Which pipe a process prints to the dashboard on (and what it starts may take over) is said in
    the environment it hands down, under every start method.  Before: a file in the run's directory
    for each, made by each process as it started (~0.1 ms of a forkserver's child)."""
    done = watch(OURS / "pipe_marks.py", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert printed(done.stdout) == [f"{who} True []" for who in ("main", "fork", "spawn", "forkserver")]


def test_a_join_that_waits_for_a_missing_task_done_names_the_items_and_who_got_them(tmp_path: Path) -> None:
    """Before: "waits forever on queue 'jobs': it is the only process left", and the queue looked
    empty (every item got): nothing said why join() cannot return."""
    done = watch(OURS / "missing_task_done.py", "--no-stacks", cwd=tmp_path, timeout=120)
    assert done.returncode == 1, done.stdout[-3000:]
    hang = next(line for line in done.stdout.splitlines() if "hang: " in line)
    found = re.search(r"3 items got and never marked done \((.*)\): join\(\) waits for a task_done\(\)", hang)
    assert found is not None, hang
    # Who got them: the workers, each with its own count, adding up to the three odd jobs.
    counts = [int(n) for n in re.findall(r"worker #\d got (\d)", found.group(1))]
    assert sum(counts) == 3 and counts, hang
    assert "joins queue 'jobs': waits until each item is marked done" in done.stdout


def test_a_hang_after_the_workers_failed_says_how_they_failed(tmp_path: Path) -> None:
    """Before: "waits forever on queue 'q': it is the only process left", and nothing tied the
    hang to the workers' tracebacks above it."""
    done = watch(OURS / "children_fail_main_waits.py", "--no-stacks", cwd=tmp_path, timeout=120)
    assert done.returncode == 1, done.stdout[-3000:]
    hang = done.stdout.splitlines()[-1]
    assert re.fullmatch(
        r"hang: main \(pid \d+\) at children_fail_main_waits\.py:17 in <genexpr> waits forever on queue 'q': "
        r"it is the only process left(; work #\d failed: ValueError: cannot do \d){2}",
        hang,
    ), hang


def test_a_managers_queue_counts_what_every_proxy_put_and_got(tmp_path: Path) -> None:
    """Before: "queue 'results' 0 put 0 got" for a Manager's queue that carried 12 items (its
    puts and gets were calls through proxies, counted only as the manager's)."""
    done = watch(OURS / "manager_queue_pool.py", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert printed(done.stdout) == ["collected 12 items"]
    row = next(line for line in done.stdout.splitlines() if line.startswith("queue 'results' "))
    assert row.split()[2:5] == ["12", "12", "12"], row


@pytest.mark.parametrize("unbuffered", [False, True])
def test_a_line_printed_while_a_lock_is_held_is_shown_between_its_acquire_and_release(
    tmp_path: Path, unbuffered: bool
) -> None:
    """Before: a process's lines were stamped when the dashboard read its pipe, a moment after the
    print, and the release that followed the print was shown before it (every round of the
    program's three: "released", "released", "released", then the three lines).  Buffered and
    not (``python -u``: the text layer writes straight through)."""
    record = tmp_path / "run.jsonl"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    argv = [sys.executable, "-m", "mpviz", "run", str(OURS / "prints_inside_a_lock.py"), "--headless"]
    done = subprocess.run(
        [*argv, "--record", str(record)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    _, events = load(record)
    lines = [e for e in events if e.kind == "proc.output"]
    assert len(lines) == 13, [e.data for e in lines]
    for line in lines:
        if line.data["text"] == "main: done":
            continue
        # The last lock record of the same process before the line is its acquire, and the first after, its release.
        mine = [e for e in events if e.pid == line.pid and e.kind.startswith("lock.")]
        before = [e for e in mine if e.t_ns <= line.t_ns]
        after = [e for e in mine if e.t_ns > line.t_ns]
        assert before and before[-1].kind == "lock.acquired", (line.data, [e.kind for e in mine])
        assert after and after[0].kind == "lock.released", (line.data, [e.kind for e in mine])
    # And in the log a user reads, in the same order.
    log = [x for x in done.stdout.splitlines() if " work #" in x and ("prints:" in x or "stderr:" in x or "lock" in x)]
    for i, x in enumerate(log):
        if "prints:" in x or "stderr:" in x:
            pid = x.split()[1]
            mine_before = [y for y in log[:i] if y.split()[1] == pid and "lock 'lock'" in y]
            assert mine_before and "acquired" in mine_before[-1], log


def test_a_program_that_points_its_stdout_at_a_file_writes_there(tmp_path: Path) -> None:
    """What Python prints goes into the records only while the descriptor is still the pipe to
    the dashboard: a program that dup2s a file onto it writes into the file, as unwatched."""
    done = watch(OURS / "redirects_its_stdout.py", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert printed(done.stdout) == ["back on stdout", "the file says: into the file"], done.stdout[-2000:]
    assert (tmp_path / "out.txt").read_text() == "into the file\n"


def test_an_executor_worker_that_left_after_its_last_task_is_not_said_to_have_lost_it(tmp_path: Path) -> None:
    """Each worker ends after its max_tasks_per_child-th task, its result sent.  Whether the
    executor replaces them or not (Python 3.11 may not: the map then waits for ever), no task was
    lost with a worker.  Before: "SpawnProcess-3 … ended (done) while working on a task, which is
    lost with it"."""
    done = watch(OURS / "executor_max_tasks.py", "--hang-timeout", "3", "--no-stacks", cwd=tmp_path)
    assert "while working on a task" not in done.stdout, done.stdout[-2000:]
    if done.returncode == 0:  # (replaced, as a later Python does)
        assert printed(done.stdout) == ["recycled workers used: 4"], done.stdout[-2000:]
    else:
        assert "nobody works on them: no worker is left" in done.stdout.splitlines()[-1], done.stdout[-2000:]


def test_a_child_of_os_fork_or_subprocess_is_seen_ended_with_the_code_its_parent_reaped(tmp_path: Path) -> None:
    """Before: each was "ended (how, nobody could tell)" (its parent reaped it at once: no zombie
    to read), and the verdict said nothing went wrong.  A command that is no Python is no process
    of the run, and its parent's word on it is no forgery."""
    done = watch(OURS / "forks_and_runs.py", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert printed(done.stdout) == ["forked child leaves", "forked child: 5", "python child: 3", "true: 0"]
    summary = done.stdout.split("\nprocesses:\n", 1)[1].split("\nprocess ", 1)[0]
    assert "nobody could tell" not in summary, summary
    assert "forks_and_runs.py (pid " in summary and "exited with code 5" in summary, summary
    assert "python -c (pid " in summary and "exited with code 3" in summary, summary
    assert "refused" not in done.stdout and "forged" not in done.stdout, done.stdout[-2000:]
    assert "nothing went wrong" not in done.stdout.splitlines()[-1]


@pytest.mark.parametrize("unbuffered", [False, True])
def test_lines_written_in_pieces_or_all_at_once_are_whole_and_in_their_place(tmp_path: Path, unbuffered: bool) -> None:
    """Before (review): unbuffered, what one write could not put in the records whole was lost
    (the text layer writes straight to the raw one, which has no buffer to write the rest); a
    line's first pieces, sent before the process's ring was mapped, came as a line of their own
    after the rest; a child's unended last line came at the end of the run."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    argv = [sys.executable, "-m", "mpviz", "run", str(OURS / "prints_in_pieces.py"), "--headless"]
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    lines = printed(done.stdout)
    pieces = ",".join(str(i) for i in range(30)) + ", done"
    assert lines[0] == pieces, lines[:3]
    assert [line[:4] for line in lines[1:41]] == [f"{i:04d}" for i in range(40)], lines[1:41]
    assert lines[41:] == ["child partial", "main: joined"], lines[41:]
    log = done.stdout.splitlines()
    partial = next(i for i, line in enumerate(log) if line.endswith("prints: child partial"))
    exited = next(i for i, line in enumerate(log) if " child #0 " in line and line.endswith(" exited"))
    assert partial < exited, log[partial - 2 : exited + 2]
