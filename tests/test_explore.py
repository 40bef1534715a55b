"""mpviz explore and mpviz run --schedule, as a user runs them: real processes, real files.

Each search has a fixed seed, so it finds what it finds within the same
number of runs every time; a replayed schedule gives the same interleaving,
the same output and the same failure, every time.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import ROOT, load, mpviz

TUTORIAL = ROOT / "tests" / "tutorial"
BROKEN = ROOT / "tests" / "broken"
OURS = ROOT / "tests" / "programs"
SOLD = "购票成功"
TICKET = b'{"count":3}'


def run(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``mpviz ARGS`` in ``cwd``, as a user types it there."""
    return subprocess.run(
        [sys.executable, "-m", "mpviz", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A folder with the tutorial's programs, our broken copies of two, and the ticket file."""
    for folder in (TUTORIAL, BROKEN):
        for program in folder.glob("*.py"):
            shutil.copy(program, tmp_path / program.name)
    (tmp_path / "ticket").write_bytes(TICKET)
    return tmp_path


def left_behind(folder: Path) -> list[str]:
    """Processes still running a program from ``folder`` (none may be, once mpviz ended)."""
    found = []
    # (By its path or its working folder: a folder's name alone may be another test run's, as it was
    # in a run beside another pytest with the same test.)
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        with_it = " ".join(proc.info["cmdline"] or ())
        if str(folder) in with_it or proc.info["cwd"] == str(folder):
            found.append(with_it)
    return found


def printed(out: str) -> list[str]:
    """Each printed line, by who printed it, without pids: what two runs of one schedule share."""
    return [re.sub(r"^\s*\S+\s+\d+\s+", "", line) for line in out.splitlines() if " prints: " in line]


def decisions(out: str) -> list[str]:
    """Who went at each decision, and what it did, without times and pids."""
    return [re.sub(r"^\s*\S+\s+\d+\s+", "", line) for line in out.splitlines() if " goes: " in line]


def test_explore_finds_the_ticket_programs_oversell_and_the_schedule_replays_it(scratch: Path) -> None:
    schedule = scratch / "oversell.schedule"
    found = run(
        "explore", "ticket_nolock.py", "--seed", "7", "--runs", "30", "--restore", "ticket",
        "--at-most", "3", SOLD, "-o", str(schedule), cwd=scratch,
    )  # fmt: skip
    assert found.returncode == 1, found.stdout + found.stderr
    first = found.stdout.splitlines()[0]
    assert re.fullmatch(
        rf"explore ticket_nolock\.py: run \d+ of 30 failed: more than 3 printed lines match '{SOLD}': \d: invariant broken",
        first,
    )
    command = re.search(r"replay it: (.*)", found.stdout)
    assert command and command[1] == (
        f"mpviz run ticket_nolock.py --headless --at-most 3 '{SOLD}' --restore ticket --schedule {schedule}"
    )
    assert (scratch / "ticket").read_bytes() == TICKET, "--restore put the file back as it was"
    head = json.loads(schedule.read_text().splitlines()[0])
    assert head["schedule"] == 1 and head["program"] == "ticket_nolock.py" and head["failure"] in first
    sold = int(first.rsplit(": ", 2)[1])
    replays = []
    for _ in range(5):  # the command as printed, nothing put back by hand between two
        again = run(*shlex.split(command[1])[1:], cwd=scratch)
        assert again.returncode == 1, again.stdout + again.stderr
        assert (scratch / "ticket").read_bytes() == TICKET, "the replay put the file back as it found it"
        assert f"more than 3 printed lines match '{SOLD}': {sold}: invariant broken" in again.stdout
        assert "no longer fits" not in again.stdout
        replays.append((printed(again.stdout), decisions(again.stdout)))
    assert all(r == replays[0] for r in replays), "five replays, one interleaving, one output"
    assert sum(SOLD in line for line in replays[0][0]) == sold > 3, "what the failing run sold in the end"
    assert not left_behind(scratch)


def test_explore_finds_the_lessons_oversell_and_replays_it_five_times_of_five(tmp_path: Path) -> None:
    schedule = tmp_path / "tickets.schedule"
    found = mpviz("explore", "tickets", "--no-lock", "--seed", "3", "--runs", "20", "-o", str(schedule))
    assert found.returncode == 1, found.stdout + found.stderr
    oversold = re.search(r"failed: oversold: (\d+) tickets sold of 3", found.stdout)
    assert oversold, found.stdout
    command = re.search(r"replay it: (.*)", found.stdout)
    assert command and command[1] == f"mpviz run tickets --headless --no-lock --start-method fork --schedule {schedule}"
    runs = [mpviz(*command[1].split()[1:]) for _ in range(5)]
    for again in runs:
        assert again.returncode == 1, again.stdout + again.stderr
        assert f"oversold: {oversold[1]} tickets sold of 3 in stock" in again.stdout
        assert "no longer fits" not in again.stdout
    assert len({tuple(decisions(r.stdout)) for r in runs}) == 1


def test_explore_finds_the_hang_of_the_ping_pong_without_its_sleep(scratch: Path) -> None:
    found = run("explore", "queue2_nosleep.py", "--seed", "1", "--runs", "30", cwd=scratch)
    assert found.returncode == 1, found.stdout + found.stderr
    assert "failed: hang: " in found.stdout and "on queue 'q'" in found.stdout
    assert (scratch / "queue2_nosleep.schedule").exists()
    replay = run("run", "queue2_nosleep.py", "--headless", "--schedule", "queue2_nosleep.schedule", cwd=scratch)
    assert replay.returncode == 1 and "hang: " in replay.stdout, replay.stdout
    assert not left_behind(scratch)


def test_explore_finds_the_philosophers_deadlock_and_none_with_the_fix(tmp_path: Path) -> None:
    found = mpviz("explore", "philosophers", "--seed", "2", "--runs", "20", "--shrink", "5", "-o", str(tmp_path / "d"))
    assert found.returncode == 1, found.stdout + found.stderr
    assert "failed: deadlock: phil " in found.stdout
    fixed = mpviz("explore", "philosophers", "--fix", "ordered", "--seed", "2", "--runs", "15")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert re.fullmatch(
        r"explore philosophers: 15 runs, no failure; (\d+) distinct interleavings \(PCT, depth 3, seed 2\) in [\d.]+ s\n",
        fixed.stdout,
    )


def test_a_correct_program_explored_fails_nowhere_and_says_what_it_covered(scratch: Path) -> None:
    done = run(
        "explore", "ticket.py", "--runs", "12", "--restore", "ticket", "--at-most", "3", SOLD, cwd=scratch
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    covered = re.fullmatch(r"explore ticket\.py: 12 runs, no failure; (\d+) distinct interleavings .*\n", done.stdout)
    assert covered and 1 < int(covered[1]) <= 12, done.stdout
    assert not (scratch / "ticket.schedule").exists()
    assert (scratch / "ticket").read_bytes() == TICKET


def test_a_changed_program_says_where_the_schedule_stopped_fitting(scratch: Path) -> None:
    found = run(
        "explore", "ticket_nolock.py", "--runs", "10", "--restore", "ticket", "--at-most", "3", SOLD, cwd=scratch
    )
    assert found.returncode == 1, found.stdout
    source = (scratch / "ticket_nolock.py").read_text()
    # One more point in each buyer: a sleep before it checks the count.
    changed = source.replace("    check_ticket(i)", "    time.sleep(0)\n    check_ticket(i)")
    assert changed != source
    (scratch / "ticket_nolock.py").write_text(changed)
    (scratch / "ticket").write_bytes(TICKET)
    again = run("run", "ticket_nolock.py", "--headless", "--schedule", "ticket_nolock.schedule", cwd=scratch)
    diverged = re.search(
        r"! the schedule no longer fits this program: step (\d+): the schedule says (.*)", again.stdout
    )
    assert diverged, again.stdout
    # The lines below the new one moved, but they are the same lines: the new sleep is where it diverges.
    assert diverged[2].startswith("buy_ticket #"), diverged[2]
    assert "about to sleep at ticket_nolock.py:20, but it is about to sleep at ticket_nolock.py:17" in diverged[2]


def test_processes_that_talk_past_mpviz_cannot_be_scheduled_and_are_said_to_be(tmp_path: Path) -> None:
    shutil.copy(OURS / "socket_between.py", tmp_path)
    done = run("explore", "socket_between.py", "--runs", "20", "--step-timeout", "1", cwd=tmp_path, timeout=600)
    assert done.returncode == 3, done.stdout + done.stderr
    assert re.match(
        r"explore socket_between\.py: run \d+ cannot be scheduled: listen #0 did not come back to a point within 1 s: it runs free\n",
        done.stdout,
    )
    assert not left_behind(tmp_path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file, not an mpviz recording"),
        (b"not json\n", "line 1 is not JSON: not an mpviz recording"),
        (b'{"mpviz": 1, "schedule": 1, "lesson": "tickets"}\n{"go": "main"}\n', 'line 2: not a decision ({"go", "op", "what", "at", "code"})'),
        (b'{"mpviz": 1, "schedule": 1, "lesson": "tickets"}\n{"go": "", "op": "x", "what": "", "at": "", "code": ""}\n', "line 2: a decision names who goes and what it does"),
        (b'{"mpviz": 1, "schedule": 1, "lesson": "tickets"}\n[1, 2]\n', "line 2: not an event"),
        (b'{"mpviz": 1, "lesson": "tickets"}\n', "a recording of a run nobody scheduled: no decisions in it"),
        (b'{"mpviz": 1, "schedule": 1, "lesson": "ktv"}\n', "is a schedule of ktv, not of tickets"),
        (b'{"mpviz": 1, "schedule": 1, "lesson": "tickets", "params": {"no_lock": true}}\n', "was made with other --no-lock: give the same options"),
    ],
)  # fmt: skip
def test_a_bad_schedule_is_one_line_and_exit_2(tmp_path: Path, content: bytes, reason: str) -> None:
    bad = tmp_path / "bad.schedule"
    bad.write_bytes(content)
    done = mpviz("run", "tickets", "--headless", "--schedule", str(bad), timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("mpviz: error: ") and reason in done.stderr


def test_explore_refuses_bad_options_in_one_line(tmp_path: Path) -> None:
    for args, reason in (
        (("explore", "tickets", "--runs", "0"), "argument --runs: must be at least 1, not 0"),
        (("explore", "tickets", "--depth", "x"), "argument --depth: must be a whole number, not 'x'"),
        (("explore", "tickets", "--at-most", "3", "("), "argument --at-most: missing ), unterminated subpattern"),
        (("explore", "nosuch.py"), "no lesson or file 'nosuch.py'"),
        (("explore", "tickets", "--restore", str(tmp_path / "none")), "cannot restore"),
        (("run", "tickets", "--headless", "--restore", str(tmp_path / "none")), "cannot restore"),
        (("run", "tickets", "--headless", "--step"), "--step only in the dashboard"),
        (("run", "tickets", "--at-most", "3", "x"), "--at-most only with --headless"),
        (("run", "tickets", "--headless", "--schedule", str(tmp_path)), "cannot read"),
    ):
        done = mpviz(*args, timeout=60)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stdout == "" and len(done.stderr.splitlines()) == 1 and reason in done.stderr, (args, done.stderr)


def test_the_replay_command_keeps_what_the_search_checked_and_put_back() -> None:
    from mpviz.explore import replay_command
    from mpviz.headless import AtMost
    from mpviz.registry import lesson_class

    rules = (AtMost(3, re.compile("bought")),)
    tickets = replay_command(lesson_class("tickets"), {"no_lock": True}, None, "fork", rules, (Path("my db"),))
    assert tickets == (
        "mpviz run tickets --headless --no-lock --start-method fork --at-most 3 bought --restore 'my db' --schedule {file}"
    )
    program = replay_command(lesson_class("tickets"), {}, ["prog.py", "-n", "2"], "spawn", rules, (Path("t"),))
    assert program == "mpviz run prog.py --headless --at-most 3 bought --restore t --schedule {file} -- -n 2"


def test_a_program_cannot_forge_a_decision_or_another_process_s_point(tmp_path: Path) -> None:
    """A decision (turn.go …) is the dashboard's alone, a point (turn.ask) its asker's own: a program
    writing them on the run's socket is refused, and neither reaches the model or the recording."""
    from test_hostile import headless, program

    prog = program(
        tmp_path,
        """
        s = connect()
        step = {"who": "main", "op": "lock.acquire", "what": "l", "at": "x.py:1", "code": "", "step": 1}
        send(s, (now(), os.getpid(), "turn.go", "", step),
                (now(), os.getpid(), "turn.free", "", {"who": "main"}),
                (now(), os.getpid(), "turn.stuck", "", {"who": ["main"]}),
                (now(), os.getpid(), "turn.offer", "", {"options": []}),
                (now(), 4_000_000, "turn.ask", "l", {"op": "lock.acquire", "n": 1}),
                (now(), os.getpid(), "proc.state", "still here", {}))
        time.sleep(0.5)
        """,
    )
    record = tmp_path / "run.jsonl"
    done = headless(prog, "--record", str(record))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "refused 5 records" in done.stdout, done.stdout
    assert " goes: " not in done.stdout and "runs free" not in done.stdout
    _, events = load(record)
    assert not [e for e in events if e.kind.startswith("turn.")]
    assert [e.obj for e in events if e.kind == "proc.state"] == ["still here"]


@pytest.mark.parametrize("name", ["pool_map.py", "manager_dict.py"])
def test_a_pool_or_a_manager_the_program_ends_is_no_failure(tmp_path: Path, name: str) -> None:
    """A pool's with ends its workers by terminate(), a manager's its server: killed by SIGTERM, as the
    program asked.  Before: explore named such a run a failure ('ForkPoolWorker-4 killed by
    SIGTERM', 'SyncManager-1 killed by SIGTERM')."""
    shutil.copy(OURS / name, tmp_path / name)
    done = run("explore", name, "--runs", "10", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.fullmatch(
        rf"explore {re.escape(name)}: 10 runs, no failure; \d+ distinct interleavings .*\n", done.stdout
    )
    assert not left_behind(tmp_path)


def test_explore_finds_a_lost_update_through_a_manager_dict_and_its_replay_loses_it_every_time(tmp_path: Path) -> None:
    """Every call through a proxy is a point, before it is sent: two processes' ``d["n"]`` reads can
    both come before either's write.  Before: the calls were only said, each process's read and write
    went at one turn, and explore said '100 runs, no failure' of a program that fails 2 runs in 3."""
    shutil.copy(OURS / "manager_dict_race.py", tmp_path)
    found = run("explore", "manager_dict_race.py", "--seed", "7", cwd=tmp_path)
    assert found.returncode == 1, found.stdout + found.stderr
    assert re.match(
        r"explore manager_dict_race\.py: run \d+ of 100 failed: .*main exited with code 1\n", found.stdout
    ), found.stdout
    assert (
        "replayed 3 times: it failed the same way each time\nreplay it: mpviz run manager_dict_race.py" in found.stdout
    )
    steps = (tmp_path / "manager_dict_race.schedule").read_text()
    assert '"op": "proxy.__getitem__", "what": "d"' in steps and '"op": "proxy.__setitem__", "what": "d"' in steps
    for _ in range(3):
        again = run(
            "run", "manager_dict_race.py", "--headless", "--schedule", "manager_dict_race.schedule", cwd=tmp_path
        )
        assert again.returncode == 1, again.stdout + again.stderr
        assert "main exited with code 1" in again.stdout and "nothing went wrong" not in again.stdout
        assert "no longer fits" not in again.stdout
    assert not left_behind(tmp_path)


def test_a_manager_lock_around_the_same_counter_is_scheduled_and_never_fails(tmp_path: Path) -> None:
    """A proxied Lock's acquire is that lock's point: who holds it is known, so the other waits at its
    acquire instead of in the server, unseen (which would run free after --step-timeout)."""
    shutil.copy(OURS / "manager_dict_locked.py", tmp_path)
    done = run("explore", "manager_dict_locked.py", "--seed", "7", "--runs", "15", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.fullmatch(
        r"explore manager_dict_locked\.py: 15 runs, no failure; \d+ distinct interleavings .*\n", done.stdout
    )
    assert not left_behind(tmp_path)


NOT_AGAIN = "this replay did not: the failure does not depend on the order alone (randomness, time, the outside world)"


def test_a_failure_no_order_decides_is_checked_and_not_promised_to_replay(tmp_path: Path) -> None:
    """Explore replays its schedule before it offers it.  Before: it printed 'replay it: …' for a
    failure of os.urandom's, and the replays that passed said 'nothing went wrong'."""
    shutil.copy(OURS / "fails_first_time.py", tmp_path)
    found = run("explore", "fails_first_time.py", "--seed", "1", "--runs", "10", cwd=tmp_path)
    assert found.returncode == 1, found.stdout + found.stderr  # a run did fail
    lines = found.stdout.splitlines()
    assert (
        lines[0]
        == "explore fails_first_time.py: run 1 of 10 failed: fails_first_time.py: 2 processes, main exited with code 1"
    )
    assert lines[2] == (
        "replayed 3 times: it failed the same way 0 of 3: the failure does not depend on the order alone "
        "(randomness, time, the outside world)"
    )
    assert (
        lines[3]
        == "a replay may not fail: mpviz run fails_first_time.py --headless --schedule fails_first_time.schedule"
    )
    assert "replay it" not in found.stdout
    head = json.loads((tmp_path / "fails_first_time.schedule").read_text().splitlines()[0])
    assert head["failure"] in lines[0] and head["failure_kind"] == "invariant"
    # The replay whose run does not fail says that the schedule's did, never a bare "nothing went wrong".
    again = run("run", "fails_first_time.py", "--headless", "--schedule", "fails_first_time.schedule", cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    verdict = next(line for line in again.stdout.splitlines() if line.startswith("fails_first_time.py: 2 processes"))
    assert verdict == (
        "fails_first_time.py: 2 processes, main done; nothing went wrong; the schedule's run failed: "
        f"fails_first_time.py: 2 processes, main exited with code 1; {NOT_AGAIN}"
    )
    # One that fails as the schedule's run did says nothing more.
    (tmp_path / "ran").unlink()
    failing = run("run", "fails_first_time.py", "--headless", "--schedule", "fails_first_time.schedule", cwd=tmp_path)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "main exited with code 1" in failing.stdout and "this replay did not" not in failing.stdout
    assert not left_behind(tmp_path)


def test_the_dashboard_s_verdict_of_a_replay_that_did_not_fail_says_the_schedule_s_run_did(tmp_path: Path) -> None:
    """The dashboard's verdict is the run's (LiveSource.verdict, drawn by the run screen's alerts)."""
    from mpviz.program import Program, Watched
    from mpviz.runtime import Settings
    from mpviz.runtime.scheduler import Turns
    from mpviz.schedule import file as schedule_file
    from mpviz.schedule.replay import Replay
    from mpviz.ui.sources import LiveSource

    shutil.copy(OURS / "fails_first_time.py", tmp_path)
    found = run("explore", "fails_first_time.py", "--seed", "1", "--runs", "3", "--shrink", "0", cwd=tmp_path)
    assert found.returncode == 1, found.stdout + found.stderr
    schedule = schedule_file.read(tmp_path / "fails_first_time.schedule")
    turns = Turns(Replay(schedule.steps, True, *schedule.failure), seed=schedule.seed or 0)
    program = Program(str(tmp_path / "fails_first_time.py"))
    source = LiveSource.start(Settings(Watched, {"program": program}, turns=turns))
    try:
        source.begin()
        deadline = time.monotonic() + 120
        while not source.run.finished(source.model) and time.monotonic() < deadline:
            source.model.apply(source.read(0.1))
        assert source.run.finished(source.model), "the replay ended"
        verdict = source.verdict()
        assert verdict.ok is not False and verdict.text.endswith(NOT_AGAIN), verdict.text
        assert "the schedule's run failed: fails_first_time.py: 2 processes, main exited with code 1" in verdict.text
    finally:
        source.close()
    assert not left_behind(tmp_path)


def test_a_decision_at_a_call_through_a_proxy_reads_as_the_program_wrote_it() -> None:
    from mpviz.model.words import doing

    assert doing("proxy.__getitem__", "d", "race.py:6") == "call d[…] through its manager at race.py:6"
    assert doing("proxy.append", "items") == "call items.append() through its manager"
