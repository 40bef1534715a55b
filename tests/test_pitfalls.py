"""What could go wrong, named (issue 23): lock-order cycles that did not deadlock, and the docs' pitfalls.

Each with a program of our own (``tests/programs/``), watched headless as a
user runs it; and no false alarm on the lessons' runs and the tutorial's own
programs (``test_registry``, ``test_programs``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_programs import OURS, no_false_alarm, printed, watch

from mpviz.model import Model
from mpviz.model.pitfall_words import SECTIONS
from mpviz.telemetry import Event

BANK = """
import time
from multiprocessing import Lock, Process

cash_lock = Lock()
books_lock = Lock()


def clerk():
    with cash_lock:
        with books_lock:
            pass


def auditor():
    time.sleep(0.5)  # the clerk is done by then: this run never deadlocks
    with books_lock:
        with cash_lock:
            pass


if __name__ == "__main__":
    people = [Process(target=clerk, name="clerk"), Process(target=auditor, name="auditor")]
    for p in people:
        p.start()
    for p in people:
        p.join()
"""


def test_a_lock_order_inversion_is_a_potential_deadlock_though_this_run_never_deadlocked(tmp_path: Path) -> None:
    bank = tmp_path / "bank.py"
    bank.write_text(BANK)
    done = watch(bank, cwd=tmp_path)
    assert done.returncode == 0, "the program's own exit code: nothing went wrong this time"
    assert (
        "potential deadlock: auditor takes 'books_lock' (bank.py:17) then 'cash_lock' (bank.py:18); "
        "clerk takes 'cash_lock' (bank.py:10) then 'books_lock' (bank.py:11)"
    ) in done.stdout, done.stdout[-2000:]
    assert done.stdout.rstrip().endswith(
        "nothing went wrong this time, but it could deadlock (the potential deadlock above)"
    )
    strict = watch(bank, "--strict", cwd=tmp_path)
    assert strict.returncode == 1, "--strict: a potential deadlock fails the run"


def _order_model(*takings: tuple[int, str, str]) -> Model:
    """Processes taking two locks each, in the given order (pid, first, second), one after the other."""
    m = Model()
    t = 0
    events = [Event(0, 1, "prim.new", name, {"kind": "lock", "name": name}) for name in ("a", "b", "gate")]
    for pid, first, second in takings:
        for kind, lock in (("acquired", first), ("acquired", second), ("released", second), ("released", first)):
            t += 1
            events.append(Event(t, pid, f"lock.{kind}", lock, {}))
    m.apply(events)
    return m


def test_a_consistent_order_or_one_taker_alone_is_no_potential_deadlock() -> None:
    assert not _order_model((10, "a", "b"), (11, "a", "b")).potentials, "the same order"
    assert not _order_model((10, "a", "b"), (10, "b", "a")).potentials, "one taker cannot deadlock with itself"
    assert _order_model((10, "a", "b"), (11, "b", "a")).potentials, "two takers, opposite orders"


def test_a_gate_held_around_both_orders_keeps_them_apart() -> None:
    m = Model()
    events = [Event(0, 1, "prim.new", name, {"kind": "lock", "name": name}) for name in ("a", "b", "gate")]
    t = 0
    for pid, first, second in ((10, "a", "b"), (11, "b", "a")):
        for kind, lock in (("acquired", "gate"), ("acquired", first), ("acquired", second)):
            t += 1
            events.append(Event(t, pid, f"lock.{kind}", lock, {}))
        for lock in (second, first, "gate"):
            t += 1
            events.append(Event(t, pid, "lock.released", lock, {}))
    m.apply(events)
    assert not m.potentials, "only one of them can be inside the gate at a time"


@pytest.mark.parametrize("fix", ["ordered", "waiter"])
def test_the_philosophers_fixes_are_never_warned(tmp_path: Path, fix: str) -> None:
    from conftest import mpviz

    done = mpviz("run", "philosophers", "--fix", fix, "--speed", "5", "--seed", "1", "--headless")
    assert done.returncode == 0, done.stdout[-2000:]
    assert "potential deadlock" not in done.stdout and "pitfall" not in done.stdout


# --- the docs' pitfalls ------------------------------------------------------------------------------


def pitfalls(out: str) -> list[str]:
    return sorted({line.split("pitfall: ", 1)[1] for line in out.splitlines() if "pitfall: " in line})


def test_the_docs_feeder_example_is_named_and_ends_with_exit_1(tmp_path: Path) -> None:
    done = watch(OURS / "pitfall_feeder.py", cwd=tmp_path, timeout=60)
    assert done.returncode == 1, done.stdout[-2000:]
    (said,) = pitfalls(done.stdout)
    assert re.match(
        r"main joins f #0 \(at pitfall_feeder\.py:14 in <module>\), but f #0 put 1 item\(s\) into 'queue'", said
    )
    assert said.endswith("(docs: Joining processes that use queues)")


@pytest.mark.parametrize(
    ("program", "options", "expected", "code"),
    [
        (
            "pitfall_main_guard.py",
            (),
            r"work #0 was started \(at pitfall_main_guard\.py:12 in <module>\) while the main module",
            0,
        ),
        (
            "pitfall_pickle.py",
            (),
            r"<lambda> #0 could not start \(at pitfall_pickle\.py:8 in <module>\): PicklingError",
            1,
        ),
        (
            "pool_lambda.py",
            (),
            r"a task of <lambda> could not be sent to pool 'pool' \(at pool_lambda\.py:8 in <module>\): PicklingError",
            1,
        ),
        (
            "pitfall_terminate.py",
            (),
            r"main ended keeper with SIGTERM \(at pitfall_terminate\.py:20 in <module>\) while it held 'lock': "
            r"nobody can take it again unless another process releases it",
            0,  # (main's own: a Lock another process may release is a warning, not a failure of the run)
        ),
        ("pitfall_shm.py", (), r"shared memory 'block' \(psm_\w+, made at pitfall_shm\.py:5\) was never unlinked", 0),
        (
            "pitfall_pool_results.py",
            (),
            r"pool 'pool' was terminated \(at pitfall_pool_results\.py:13 in <module>\) with 1 task",
            0,
        ),
        (
            "pitfall_pool_stuck.py",
            ("--duration", "12"),
            r"pool 'pool': 1 task\(s\) never returned .* at pitfall_pool_stuck\.py:9 in task",
            0,
        ),
        (
            "pitfall_daemon.py",
            (),
            r"daemon #0, a daemonic process, tried to start grandchild #0 \(at pitfall_daemon\.py:11 in daemon\)",
            0,
        ),
        (
            "zombie.py",
            (),
            r"quick ended and main has not joined it: it stays a zombie until then \(started at zombie\.py:14",
            0,
        ),
        (
            "pitfall_value.py",
            (),
            r"'total' was read and then written outside total\.get_lock\(\) by add #\d \(at pitfall_value\.py:8 in add\)"
            r" and add #\d \(at pitfall_value\.py:8 in add\).* Fix: `with total\.get_lock\(\): total\.value \+= 1`",
            0,
        ),
        (
            "pitfall_value.py",
            (),
            r"'counts' was read and then written outside counts\.get_lock\(\) by .* Fix: `with counts\.get_lock\(\): counts\[i\] \+= 1`",
            0,
        ),
        (
            "pitfall_barrier.py",
            (),
            r"barrier 'b' needs 3 parties; stage #2 \(pid \d+\) ended \(RuntimeError: worker 2 failed to load its "
            r"data\) before reaching it: the 2 at the barrier wait for ever\. Fix: wait\(timeout=…\)",
            1,
        ),
    ],
)
def test_each_pitfall_is_named_with_its_line_its_fix_and_its_section(
    tmp_path: Path, program: str, options: tuple[str, ...], expected: str, code: int
) -> None:
    done = watch(OURS / program, *options, "--no-stacks", cwd=tmp_path, timeout=90)
    assert done.returncode == code, done.stdout[-2000:] + done.stderr
    said = pitfalls(done.stdout)
    assert any(re.search(expected, line) for line in said), said or done.stdout[-2000:]
    assert all(line.endswith(tuple(f"(docs: {s})" for s in SECTIONS.values())) for line in said)
    assert all(" Fix: " in line for line in said)
    # A program that ran into a pitfall is never told "nothing went wrong".
    assert "nothing went wrong" not in done.stdout.splitlines()[-1], done.stdout[-500:]


def test_a_pool_whose_initializer_raises_names_the_initializer_not_a_missing_worker(tmp_path: Path) -> None:
    """Each worker dies in its initializer and the pool starts another, for ever: map() never returns.
    Before: "nobody works on them: no worker is left", and the initializer was never named."""
    done = watch(OURS / "pitfall_pool_init.py", "--no-stacks", cwd=tmp_path, timeout=90)
    assert done.returncode == 1, done.stdout[-2000:]
    init = "init (at pitfall_pool_init.py:7 in init): ConnectionError: cannot reach the database"
    assert pitfalls(done.stdout) == [
        f"pool 'pool''s workers die in their initializer {init}; the pool starts new ones for ever, and no task is "
        "ever done (a map() or a get() with no timeout waits for ever). Fix: let the initializer catch what it can "
        "recover from, and check what it needs before making the pool (docs: Process Pools)"
    ]
    hang = done.stdout.splitlines()[-1]
    assert hang.startswith("hang: main") and "waits for results from pool 'pool' that will never come" in hang
    assert hang.endswith(f"every worker dies in its initializer {init}, and the pool starts another, which dies alike")


def test_a_managers_value_changed_in_place_is_named_and_a_value_written_back_never(tmp_path: Path) -> None:
    """``d["wrong"].append(i)`` changes a copy, lost; ``lst = d["right"]; lst.append(i); d["right"] = lst``,
    ``d[k] += [i]`` and a Manager's own list in the dict are right.  Before: "nothing went wrong"."""
    done = watch(OURS / "pitfall_proxy_copy.py", "--no-stacks", cwd=tmp_path, timeout=90)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "prints: wrong [] True 0" in done.stdout and "prints: right [1, 2] [1, 2] [1, 2]" in done.stdout
    said = pitfalls(done.stdout)
    assert [line.split(" changes a copy")[0] for line in said] == [
        "`d.setdefault('seen', …).append(…)` (at pitfall_proxy_copy.py:11 in add)",
        "`d['wrong'].append(…)` (at pitfall_proxy_copy.py:10 in add)",
        "`rows[0][…] = …` (at pitfall_proxy_copy.py:12 in add)",
    ], "once a line, by whichever process did it first; never the right lines"
    assert said[1].endswith(
        ": `d['wrong']` gives the process a copy of the list that the Manager's dict 'd' holds, and the change is "
        "lost with it (the proxy cannot know of it). Fix: `v = d['wrong']; v.append(…); d['wrong'] = v` — write the "
        "copy back (under a lock if other processes change it too) (docs: Proxy Objects)"
    )
    assert done.stdout.splitlines()[-1].endswith("it ended, but not safely: 3 pitfalls named above")


# --- no false alarm: correct programs whose every visible process waits for a while ---------------


@pytest.mark.parametrize(
    ("program", "printed"),
    [
        ("correct_thread_holds_lock.py", "got it"),  # a helper thread holds the lock main waits for, 4 s
        ("correct_thread_sets_event.py", "set"),  # a helper thread sets the event main waits on, after 4 s
        ("correct_thread_puts.py", "late"),  # a helper thread puts what main gets, after 4 s
        ("correct_timer_sets_event.py", "woke"),  # a threading.Timer in main sets what a child waits on
        ("correct_slow_unpickle.py", "took Slow"),  # the item is in the getter, being unpickled for 4 s
        ("correct_value_locked.py", "total 1500 1500 100"),  # every read-modify-write under get_lock()
        # Under a lock of the program's own, or a Condition's (before: "lost updates" named, "not safely").
        ("correct_value_own_lock.py", "counter 600"),
        ("correct_value_under_condition.py", "final 9"),
        # main held a threading lock when it forked: the child's copy is its main thread's to release.
        ("correct_fork_then_a_thread_takes_the_lock.py", "done"),
        # Its workers in their initializer for 4 s (before: "no worker is left" while both were starting).
        ("correct_slow_pool_init.py", "[1, 2, 3, 4]"),
    ],
)
def test_a_correct_program_whose_threads_will_act_is_never_called_hung(
    tmp_path: Path, program: str, printed: str
) -> None:
    done = watch(OURS / program, cwd=tmp_path, timeout=90)
    assert done.returncode == 0, done.stdout[-2000:]
    assert any(line.endswith(f"prints: {printed}") for line in done.stdout.splitlines()), done.stdout[-2000:]
    assert "hang:" not in done.stdout and "deadlock:" not in done.stdout
    assert "pitfall:" not in done.stdout, done.stdout[-2000:]


def test_a_slow_pool_task_warned_of_while_it_is_out_is_not_counted_once_it_came_back(tmp_path: Path) -> None:
    """Before: "1 task(s) never returned while the others did" stayed counted after the task came
    back, and the program, correct, ended "not safely: 1 pitfall named above" (and ✔ beside it)."""
    done = watch(OURS / "correct_slow_pool_task.py", cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "prints: 140" in done.stdout
    assert "task(s) never returned while the others did" in done.stdout  # said while it was true
    assert done.stdout.splitlines()[-1].endswith("; nothing went wrong"), done.stdout[-1000:]


def test_a_lock_a_dead_process_held_and_another_released_is_no_failure(tmp_path: Path) -> None:
    """A Lock has no owner: a child takes it and ends, main releases it 3 s later.  Before: "it will
    never be released" for those 3 s (a ✘ in the dashboard); now a warning that says what is true."""
    done = watch(OURS / "correct_lock_handoff.py", cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "prints: main passed the gate" in done.stdout
    assert "never be released" not in done.stdout
    assert "only a release() by another process can free it now" in done.stdout
    assert done.stdout.splitlines()[-1].endswith("; nothing went wrong"), done.stdout[-1000:]


def test_a_fork_while_another_thread_holds_a_threading_lock_is_named(tmp_path: Path) -> None:
    """The child inherits the lock held by a thread it does not have.  Before: the child's wait was
    on the parent's lock, shown "free" (its holder had released it, in the parent), and nothing said
    why the child waits for ever."""
    done = watch(OURS / "fork_while_a_thread_holds_a_lock.py", "--hang-timeout", "3", "--no-stacks", cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-2000:]
    said = [line for line in done.stdout.splitlines() if line.startswith("pitfall: ")]
    assert len(said) == 1 and "was forked while another thread of main held threading lock 'cache_lock'" in said[0]
    assert "(at fork_while_a_thread_holds_a_lock.py:19 in child: it waits for ever)" in said[0], said
    assert "on lock 'cache_lock'" in done.stdout.splitlines()[-1]  # the hang: on the child's own copy


def test_threading_locks_free_at_a_fork_or_held_by_the_thread_that_forks_are_no_pitfall(tmp_path: Path) -> None:
    done = watch(OURS / "correct_fork_with_thread_locks.py", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:]
    assert printed(done.stdout) == ["child took the free lock", "child took its copy again", "done 0"]
    no_false_alarm(done.stdout)
    assert done.stdout.splitlines()[-1].endswith("; nothing went wrong"), done.stdout[-1000:]


def test_a_pool_task_that_cannot_be_pickled_fails_as_plainly_and_is_no_result(tmp_path: Path) -> None:
    """The traceback is the plain one (no mpviz frame between the pool's thread and the pickler), and
    the wait that ends in the error is not said to have got results."""
    done = watch(OURS / "pool_lambda.py", "--no-stacks", cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-2000:]
    traceback = [line for line in done.stdout.splitlines() if " stderr: " in line]
    assert any("multiprocessing/pool.py" in line and "in _handle_tasks" in line for line in traceback), traceback
    assert not any("mpviz" in line.split(" stderr: ", 1)[1] for line in traceback), traceback
    assert "got an error instead of results from pool 'pool'" in done.stdout
    assert "got results from pool" not in done.stdout
    assert "pitfall.pickle" not in done.stdout, "the pitfall says it, not its raw record"


def test_a_pitfall_every_worker_falls_into_alike_is_said_once(tmp_path: Path) -> None:
    """Each spawned worker re-runs the module and starts its own pool: the same words from many
    processes (22 times before) are one pitfall.  (The pool replaces its failing workers for ever,
    plainly too: --duration ends it.)"""
    done = watch(OURS / "no_guard_pool.py", "--duration", "8", "--no-stacks", cwd=tmp_path, timeout=120)
    said = [line for line in pitfalls(done.stdout) if "while the main module was being imported" in line]
    assert len(said) == 1, said
    assert done.stdout.count(" was started (at no_guard_pool.py:12 in <module>) while the main module") >= 1
