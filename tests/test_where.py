"""Where each process is (issue 22): the line it waits on, its threads, its stacks, never "running" when it waits.

Programs of our own (``tests/programs/``), watched headless as a user runs them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import load
from test_programs import OURS, printed, watch

from mpviz.model import Model, Phase
from mpviz.model.stacks import ThreadStack


def summary(out: str) -> dict[str, str]:
    """The headless summary's process lines: name → state (and the parent, if said)."""
    lines = out.split("\nprocesses:\n", 1)[1].split("\n")
    states = {}
    for line in lines:
        match = re.match(r"\s+\d+\s+(.+?)\s{2,}(.*)$", line)
        if match is None:
            break
        states[match.group(1)] = match.group(2)
    return states


def model_of(record: Path, until: str | tuple[str, ...] | None = None) -> Model:
    """A recording's records in a model (up to the first of kind ``until``, or of one of them, not included)."""
    _, events = load(record)
    model = Model()
    kinds = (until,) if isinstance(until, str) else until or ()
    for event in events:
        if event.kind in kinds:
            break
        model.apply_one(event)
    return model


def test_two_threads_deadlocking_in_a_child_are_named_with_threads_locks_and_sites(tmp_path: Path) -> None:
    done = watch(OURS / "threads_deadlock.py", cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr
    out = done.stdout
    alice = re.search(
        r"dinner \(pid \d+, thread 'alice'\) at threads_deadlock\.py:14 in alice holds 'fork_lock' and waits for 'knife_lock'",
        out,
    )
    bob = re.search(
        r"dinner \(pid \d+, thread 'bob'\) at threads_deadlock\.py:21 in bob holds 'knife_lock' and waits for 'fork_lock'",
        out,
    )
    assert alice and bob, out[-3000:]
    # Named once it happened, then every process's stacks: the threads with their own lines.
    assert "stacks of dinner" in out and "thread 'alice'" in out and "with knife_lock:  # alice waits here" in out


def test_a_pool_task_waiting_on_a_managers_event_is_a_hang_named_with_its_line(tmp_path: Path) -> None:
    """map() never returns: each stuck worker waits on the Manager's event 'go' (named after the
    proxy's variable), on its own line, never 'running'; every process waits, so it is a hang."""
    record = tmp_path / "run.jsonl"
    done = watch(OURS / "pool_manager_event.py", "--record", str(record), cwd=tmp_path, timeout=90)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr
    states = summary(done.stdout)
    workers = [state for name, state in states.items() if name.startswith("ForkPoolWorker")]
    assert len(workers) == 2, done.stdout[-3000:]
    assert all(
        state.startswith("waiting for event 'go' (a Manager's) at pool_manager_event.py:8 in task") for state in workers
    ), states
    hang = next(line for line in done.stdout.splitlines() if "mpviz" in line and "hang:" in line)
    assert re.search(r"main \(pid \d+\) at pool_manager_event\.py:16 in <module> on pool 'pool'", hang), hang
    assert (
        len(re.findall(r"ForkPoolWorker-\d \(pid \d+\) at pool_manager_event\.py:8 in task on event 'go'", hang)) == 2
    )
    # The waits in the model, as a wait on one of mpviz's own events is: the event's waiters, the time split.
    # Up to mpviz's stop: the first end, or a wait the manager's end broke (it may end first).
    model = model_of(record, until=("proc.exit", "manager.call"))
    go = model.prim("go")
    assert (go.family, go.via) == ("event", next(p.id for p in model.prims.values() if p.family == "manager"))
    stuck = [p for p in model.procs.values() if p.name.startswith("ForkPoolWorker")]
    assert {p.pid for p in stuck} == set(go.waiters)
    for proc in stuck:
        assert proc.waiting_on == go.id and proc.phase is Phase.BLOCKED
        assert proc.split.totals(model.last_ns)["event"] > 1_000_000_000, "its time counts as waiting for an event"


def test_every_wait_through_a_managers_proxy_is_a_wait_on_its_object_with_its_line(tmp_path: Path) -> None:
    """Each call that may wait (an Event's wait, a Lock's, RLock's, Semaphore's and Condition's
    acquire, a Condition's and a Barrier's wait, a queue's get, put and join) is a wait on the
    proxied object from just before the call until it returns, at the program's own line."""
    record = tmp_path / "run.jsonl"
    done = watch(OURS / "manager_waits.py", "--record", str(record), cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "child exited with 0" in done.stdout
    _, events = load(record)
    model = Model()
    for event in events:
        model.apply_one(event)
    child = next(p for p in model.procs.values() if p.name.startswith("waiter"))
    source = (OURS / "manager_waits.py").read_text().splitlines()
    waited: list[tuple[str, str, str]] = []
    for i, event in enumerate(events):
        if event.pid != child.pid or event.kind != "manager.wait":
            continue
        site = model.sites[event.data["at"]]
        assert site.file.endswith("manager_waits.py") and site.func == "waiter", site
        waited.append((event.data["proxy"], event.data["method"], source[site.line - 1].split("# wait: ")[1]))
        ended = next(e for e in events[i + 1 :] if e.pid == child.pid and e.kind.startswith("manager."))
        assert ended.kind == "manager.call" and ended.data["method"] == event.data["method"], ended
    assert waited == [
        ("ev", "wait", "event"),
        ("lock", "acquire", "lock"),
        ("rlock", "acquire", "rlock"),
        ("sem", "acquire", "sem"),  # (its acquire(False) is no wait)
        ("cond", "acquire", "cond acquire"),
        ("cond", "wait", "cond"),
        ("inbox", "get", "get"),
        ("full", "put", "put"),
        ("jobs", "join", "join"),
        ("barrier", "wait", "barrier"),
    ]
    families = {name: model.prim(name).family for name, _, _ in waited}
    assert families == {
        "ev": "event",
        "lock": "lock",
        "rlock": "rlock",
        "sem": "sem",
        "cond": "cond",
        "inbox": "queue",
        "full": "queue",
        "jobs": "queue",
        "barrier": "barrier",
    }
    # The states it was in, with their lines; and no wait left open once each call returned.
    said = {words for _, _, words in child.history}
    for words in (
        "waiting for event 'ev' (a Manager's) at manager_waits.py:7 in waiter",
        "waiting for lock 'lock' (a Manager's) at manager_waits.py:8 in waiter",
        "waiting on condition 'cond' (a Manager's) at manager_waits.py:16 in waiter",
        "blocked on get from 'inbox' (a Manager's) at manager_waits.py:17 in waiter",
        "blocked on put to 'full' (full) (a Manager's) at manager_waits.py:18 in waiter",
        "joining queue 'jobs' (until each item is marked done) (a Manager's) at manager_waits.py:19 in waiter",
        "waiting at barrier 'barrier' (a Manager's) at manager_waits.py:20 in waiter",
    ):
        assert words in said, sorted(said)
    for name in families:
        prim = model.prim(name)
        assert not (prim.waiters or prim.blocked_get or prim.blocked_put), name
        assert prim.wait_sites, f"{name}: where it was waited for"


def test_a_consumer_on_a_queue_nobody_feeds_is_named_with_its_line_and_its_stack(tmp_path: Path) -> None:
    done = watch(OURS / "unfed_consumer.py", cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr
    hang = next(line for line in done.stdout.splitlines() if "mpviz" in line and "hang:" in line)
    assert re.search(r"consumer \(pid \d+\) at unfed_consumer\.py:8 in consume on queue 'inbox'", hang), hang
    assert re.search(r"main \(pid \d+\) at unfed_consumer\.py:16 in <module> joining consumer", hang), hang
    # The stacks printed with it: the consumer's waiting line, innermost last.
    stacks = done.stdout.split("stacks of consumer", 1)[1]
    assert "blocked on get from 'inbox' at unfed_consumer.py:8 in consume" in stacks
    assert 'File "' in stacks and "item = inbox.get()  # nobody puts anything" in stacks


def test_waits_no_primitive_sees_are_named_from_the_stack_never_running(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    done = watch(OURS / "waits_elsewhere.py", "--duration", "6", "--record", str(record), "--no-stacks", cwd=tmp_path)
    states = summary(done.stdout)
    assert states["listener"].startswith("waiting in sock.recv(1024) at waits_elsewhere.py:10 in listen"), states
    assert states["builder"].startswith("waiting in subprocess wait at waits_elsewhere.py:16 in build"), states
    assert "stacks of" not in done.stdout, "--no-stacks: none printed"
    model = model_of(record, until="proc.signal")
    for name in ("listener", "builder"):
        proc = next(p for p in model.procs.values() if p.name == name)
        running = [t for t, phase, _ in proc.history if phase is Phase.RUNNING and t - proc.started_ns > 2_000_000_000]
        assert not running, f"{name} never running after its first seconds"
        assert proc.split.totals(model.last_ns)["elsewhere"] > 1_000_000_000, "its time is counted as waiting elsewhere"


def test_a_child_not_joined_is_a_zombie_until_its_parent_joins_it(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    done = watch(OURS / "zombie.py", "--record", str(record), cwd=tmp_path, args=("4",))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    before = model_of(record, until="proc.reaped")
    quick = next(p for p in before.procs.values() if p.name == "quick")
    assert quick.zombie and quick.state == "done, not joined yet: a zombie (started at zombie.py:14 in <module>)"
    after = model_of(record)
    quick = next(p for p in after.procs.values() if p.name == "quick")
    assert not quick.zombie and quick.state == "done", "joined at last"


def test_stacks_of_a_thread_from_the_process_itself() -> None:
    """A process answers for every thread but mpviz's own, innermost frame last, its call read off the line."""
    import _thread
    import subprocess
    import sys
    import threading

    from conftest import wait_for

    from mpviz.model.stacks import from_record
    from mpviz.sync.process import _Exit
    from mpviz.telemetry import install_reporter, uninstall_reporter
    from mpviz.telemetry.stacks import report_stacks

    got = []
    release = threading.Event()

    def hold() -> None:
        release.wait()  # the helper waits here

    helper = threading.Thread(target=hold, name="helper")
    ours = threading.Thread(target=release.wait, name="mpviz-hidden")
    helper.start()
    ours.start()
    # Threads started without threading: mpviz's (a child's exit watcher, its frames all mpviz's)
    # is not said; the program's is, by its number.
    sleeper = subprocess.Popen(["sleep", "60"])
    _thread.start_new_thread(_Exit(sleeper.pid, "sleeper").watch, ())
    raw_done = threading.Event()
    raw = []

    def raw_thread() -> None:
        raw.append(threading.get_ident())
        release.wait()
        raw_done.set()

    _thread.start_new_thread(raw_thread, ())

    def watching() -> int | None:
        """The exit watcher's thread, once it waits."""
        for ident, frame in sys._current_frames().items():
            while frame is not None and frame.f_code.co_name != "watch":
                frame = frame.f_back
            if frame is not None:
                return ident
        return None

    install_reporter(got.append)
    try:
        wait_for(lambda: raw and watching(), 30)
        watcher = watching()
        report_stacks(7)
    finally:
        uninstall_reporter()
        release.set()
        helper.join()
        ours.join()
        sleeper.kill()
        sleeper.wait()
        raw_done.wait(30)
    stacks = [from_record(e.data) for e in got if e.kind == "proc.stack"]
    end = [e for e in got if e.kind == "proc.stacks"]
    assert end and end[0].data == {"req": 7, "threads": len(stacks)}
    names = {s.name for s in stacks}
    assert "helper" in names and "mpviz-hidden" not in names, "mpviz's own threads are not the program's"
    assert f"thread {raw[0]}" in names, "a thread of the program's, started without threading"
    assert f"thread {watcher}" not in names, "mpviz's thread started without threading is not said"
    helper_stack: ThreadStack = next(s for s in stacks if s.name == "helper")
    assert helper_stack.tid == helper.native_id
    mine = [f for f in helper_stack.frames if f.file == __file__]
    assert mine and mine[-1].text == "release.wait()  # the helper waits here"
    assert helper_stack.frames[-1].file.endswith("threading.py"), "innermost last: inside Event.wait"


def test_a_forked_child_never_speaks_for_its_parents_threads(tmp_path: Path) -> None:
    """Forking beside a named thread: only the parent says that thread ended, and the child does not hang.

    The child drops the other threads' holdings inside ``os.fork()``, before it has a
    reporter of its own; speaking then wrote through the parent's, and hung the child
    when another thread of the parent held its lock at the fork.
    """
    record = tmp_path / "run.jsonl"
    done = watch(OURS / "fork_beside_thread.py", "--record", str(record), cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    _, events = load(record)
    said = [e for e in events if e.kind == "proc.thread" and e.obj == "helper"]
    assert len(said) == 1
    ends = [e.pid for e in events if e.kind == "proc.thread_end" and e.data.get("th") == said[0].data["th"]]
    assert ends == [said[0].pid]


def test_a_process_in_a_loop_of_its_own_is_running_never_waiting(tmp_path: Path) -> None:
    """Its stack's innermost frame is the program's own line, in no call: it runs. Before, it was
    "waiting in spin at busy_loop.py:10" beside psutil's 100 % CPU."""
    record = tmp_path / "run.jsonl"
    done = watch(OURS / "busy_loop.py", "--duration", "5", "--record", str(record), cwd=tmp_path)
    states = summary(done.stdout)
    assert states["spinner"].startswith("running"), states
    stacks = done.stdout.split("stacks of spinner", 1)[1]
    assert "thread 'MainThread'" in stacks and ": running spin at busy_loop.py:" in stacks, stacks[:600]
    model = model_of(record, until="proc.signal")
    spinner = next(p for p in model.procs.values() if p.name == "spinner")
    totals = spinner.split.totals(model.last_ns)
    assert totals["running"] > 3 * totals["elsewhere"], totals


def test_a_holder_waiting_in_a_subprocess_is_no_progress_never_a_hang(tmp_path: Path) -> None:
    """The holder's own line says where it waits, beside what it holds; its wait may end by itself:
    mpviz cannot call it a hang, and stops the program after --hang-timeout.  Before: "holding 'lock'"
    alone, then "hang: … nobody can wake them", and headless never stopped it."""
    done = watch(OURS / "holds_in_subprocess.py", "--hang-timeout", "3", "--no-stacks", cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-3000:]
    states = summary(done.stdout)
    assert re.match(
        r"holding 'lock', waiting in subprocess\.run at holds_in_subprocess\.py:11 in build", states["builder"]
    )
    assert "hang:" not in done.stdout, done.stdout[-3000:]
    last = done.stdout.splitlines()[-1]
    assert "no progress for " in last and "'MainThread' is in subprocess.run, which may still end by itself" in last
    assert last.endswith("; mpviz stopped it after 3 s with no progress (--hang-timeout)"), last


def test_a_child_blocked_in_a_socket_while_main_joins_it_is_no_progress(tmp_path: Path) -> None:
    """A wait no primitive sees (a recv) and main's join: no progress, named with
    the lines; headless stops it after --hang-timeout.  Before, it ran until --duration or for ever."""
    done = watch(OURS / "recv_join.py", "--hang-timeout", "3", "--no-stacks", cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-3000:]
    last = done.stdout.splitlines()[-1]
    assert "no progress for " in last, last
    assert re.search(r"listener \(pid \d+\) waiting in sock\.recv\(1024\) at recv_join\.py:8 in listen", last)
    assert "mpviz stopped it after 3 s with no progress" in last, last


def test_a_process_that_stops_itself_holding_a_lock_is_paused_and_named(tmp_path: Path) -> None:
    """A SIGSTOP that mpviz did not send (its own, kill -STOP, Ctrl+Z) is seen by psutil's status: the
    holder is paused, the lock held by a paused process, and the run makes no progress.  Before:
    "holding 'lock'" and "nothing went wrong so far" until killed."""
    done = watch(OURS / "stops_itself.py", "--hang-timeout", "3", "--no-stacks", cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-3000:]
    states = summary(done.stdout)
    assert states["holder"].startswith("paused (holding 'lock')"), states
    last = done.stdout.splitlines()[-1]
    assert re.fullmatch(r"lock 'lock' held by paused pid \d+ \(holder\); 1 waiting until it resumes", last), last
    assert re.search(
        r"no progress for \d+ s: .* holder \(pid \d+\) is stopped \(SIGSTOP\): only a SIGCONT", done.stdout
    )


def test_a_hang_says_which_processes_failed_before_it(tmp_path: Path) -> None:
    """Why the waiters wait for ever: the one that would have set the event failed first (a signal
    counts too). Before, the hang listed the waiters only."""
    done = watch(OURS / "setter_died.py", "--no-stacks", cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-3000:]
    last = done.stdout.splitlines()[-1]
    assert last.startswith("hang: all 3 live processes are blocked"), last
    assert last.endswith("; setter failed: KeyError: 'port'"), last


def test_a_process_that_cannot_answer_for_its_stacks_is_said_so_not_left_out(tmp_path: Path) -> None:
    """Headless prints every live process's stacks when --duration stops it: one busy in C code that
    holds the GIL cannot answer, and the output says so (it was left out silently)."""
    done = watch(OURS / "holds_the_gil.py", "--duration", "4", cwd=tmp_path)
    stacks = done.stdout.split("stacks of regex (pid", 1)
    assert len(stacks) == 2, done.stdout[-3000:]
    assert "no stack: it did not answer within a second: busy in C code that holds the GIL" in stacks[1][:400]


def test_an_idle_server_waiting_for_clients_is_never_no_progress(tmp_path: Path) -> None:
    """A server in accept() is idle by design: its workers' waits for work make no "no progress",
    and headless never stops it for that (only --duration does)."""
    done = watch(OURS / "idle_server.py", "--hang-timeout", "2", "--duration", "6", "--no-stacks", cwd=tmp_path)
    assert "no progress" not in done.stdout, done.stdout[-3000:]
    last = done.stdout.splitlines()[-1]
    assert "waiting in socket accept at idle_server.py:20" in last and last.endswith("nothing went wrong so far"), last


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_a_child_answers_from_the_dashboards_first_question_on(tmp_path: Path, method: str) -> None:
    """A forkserver's child, or a spawned one, makes the thread that answers the dashboard only when
    the dashboard first asks it something (a signal comes with the request): until then it has its
    main thread alone, as plainly (before: two, each child's start paying for the second).  One that
    waits for ever still answers for its stacks."""
    done = watch(OURS / "lazy_children.py", cwd=tmp_path, args=(method,))
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr
    assert printed(done.stdout) == ["threads: 1"], done.stdout[-3000:]
    hang = next(line for line in done.stdout.splitlines() if "mpviz" in line and "hang:" in line)
    assert re.search(r"consumer \(pid \d+\) at lazy_children\.py:14 in consume on queue 'inbox'", hang), hang
    stacks = done.stdout.split("stacks of consumer", 1)[1]
    assert 'File "' in stacks and "item = inbox.get()  # nobody puts anything" in stacks, stacks[:1000]
