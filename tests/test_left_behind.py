"""Nothing of a run outlives it (issue 24 items 6 and 7): processes the program started without
multiprocessing, in its group or a session of their own, orphans with no environment, and processes
paused when mpviz itself is killed.  Every process here is the test's own (a descendant of the
``mpviz`` it starts)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest
from conftest import none_alive, wait_for
from helpers.terminal import Terminal

# A program that starts processes mpviz never hears from, writes their pids down, and ends (or waits).
LEAVER = """
import os, subprocess, sys, time
out = sys.argv[1]
pids = []
pids.append(subprocess.Popen(["sleep", "600"]).pid)                            # in the program's group
pids.append(subprocess.Popen(["sleep", "601"], start_new_session=True).pid)    # a session of its own
# An orphan with no environment at all: no mark of the run, its parent gone at once.
subprocess.run(["sh", "-c", "sleep 602 & echo $! > " + out + ".orphan"], env={})
pids.append(int(open(out + ".orphan").read()))
open(out + ".tmp", "w").write(" ".join(map(str, pids)))
os.rename(out + ".tmp", out)
if sys.argv[2:] == ["wait"]:
    time.sleep(600)
"""


def pids_in(path: Path) -> set[int]:
    wait_for(path.exists, 60, what="the program to write its processes down")
    return {int(p) for p in path.read_text().split()}


def gone(pids: set[int]) -> bool:
    return none_alive(pids)


def test_processes_the_program_left_end_with_the_run(tmp_path: Path) -> None:
    """main ends, leaving a ``sleep`` in its group, one in a session of its own, one orphaned with
    an empty environment.  Before: all three outlived mpviz."""
    prog = tmp_path / "leaver.py"
    prog.write_text(LEAVER)
    out = tmp_path / "pids"
    done = subprocess.run(
        [sys.executable, "-m", "mpviz", "run", str(prog), "--headless", "--", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    pids = pids_in(out)
    try:
        assert done.returncode == 0, done.stdout + done.stderr
        wait_for(lambda: gone(pids), 30, what="every process the program started to end")
    finally:
        for pid in pids:
            if not gone({pid}):
                os.kill(pid, signal.SIGKILL)


PAUSED = """
import multiprocessing as mp, os, signal, sys, time

def pause():
    os.kill(os.getpid(), signal.SIGSTOP)

if __name__ == "__main__":
    child = mp.Process(target=pause)
    child.start()
    open(sys.argv[1] + ".tmp", "w").write(f"{os.getpid()} {child.pid}")
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    while open(f"/proc/{child.pid}/stat").read().rpartition(")")[2].split()[0] != "T":
        time.sleep(0.01)
    pause()  # every process of the program paused, as the dashboard's Z does
"""


def paused_then_killed(mpviz: subprocess.Popen | psutil.Process, out: Path) -> None:
    """Wait for the program's child to be paused, SIGKILL mpviz: every process of the run ends."""
    pids = pids_in(out)
    program = [psutil.Process(pid) for pid in pids]
    try:
        wait_for(
            lambda: all(p.status() == psutil.STATUS_STOPPED for p in program), 60, what="the program to pause itself"
        )
        mpviz.send_signal(signal.SIGKILL)
        wait_for(lambda: gone(pids), 30, what="the program's processes to end")
    finally:
        for pid in pids:
            if not gone({pid}):
                os.kill(pid, signal.SIGKILL)


def test_sigkill_of_headless_mpviz_ends_a_paused_child(tmp_path: Path) -> None:
    """A paused process cannot run the watchdog that would end it, and with every process of the
    program paused nobody else does.  Before: they stayed, paused, for ever (6 of 6)."""
    prog = tmp_path / "paused.py"
    prog.write_text(PAUSED)
    out = tmp_path / "pids"
    mpviz = subprocess.Popen(
        [sys.executable, "-m", "mpviz", "run", str(prog), "--headless", "--", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        paused_then_killed(mpviz, out)
    finally:
        mpviz.kill()
        mpviz.wait()


def test_sigkill_of_the_dashboard_ends_a_paused_child(tmp_path: Path) -> None:
    """The same with the dashboard in a terminal.  Before: 3 of 3 stayed paused."""
    prog = tmp_path / "paused.py"
    prog.write_text(PAUSED)
    out = tmp_path / "pids"
    terminal = Terminal(str(prog), str(out))
    try:
        paused_then_killed(terminal.proc, out)
    finally:
        terminal.close()


def _leaver_watched(tmp_path: Path, output: int) -> tuple[subprocess.Popen[bytes], Path]:
    """``LEAVER`` watched headless, its processes waiting; where it writes their pids."""
    prog = tmp_path / "waits.py"
    prog.write_text(textwrap.dedent(LEAVER))
    out = tmp_path / "pids"
    argv = [sys.executable, "-m", "mpviz", "run", str(prog), "--headless", "--", str(out), "wait"]
    return subprocess.Popen(argv, stdout=output, stderr=output, cwd=tmp_path), out


def _guardian_of(mpviz: subprocess.Popen[bytes]) -> psutil.Process:
    """Headless mpviz's guardian: its child forked and named so."""
    from mpviz.runtime.guardian import NAME

    (guardian,) = [p for p in psutil.Process(mpviz.pid).children() if p.name() == NAME]
    return guardian


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGTSTP])
def test_the_guardian_is_not_ended_by_the_terminals_signals(tmp_path: Path, signum: int) -> None:
    """It shares mpviz's process group, so that nothing more is needed to start it: the terminal's
    signals reach it too, and it ignores them.  It is not a group leader.  (Headless, it is forked
    from mpviz, and named so.)"""
    mpviz, out = _leaver_watched(tmp_path, subprocess.DEVNULL)
    try:
        pids = pids_in(out)
        guardian = _guardian_of(mpviz)
        assert os.getpgid(guardian.pid) == os.getpgid(mpviz.pid) != guardian.pid
        guardian.send_signal(signum)
        mpviz.send_signal(signal.SIGKILL)
        wait_for(lambda: gone(pids), 30, what="the program's processes to end")
        wait_for(lambda: not guardian.is_running() or guardian.status() == psutil.STATUS_ZOMBIE, 30)
    finally:
        mpviz.kill()
        mpviz.wait()
        for pid in pids_in(out):
            if not gone({pid}):
                os.kill(pid, signal.SIGKILL)


def test_the_forked_guardian_holds_nothing_of_mpviz(tmp_path: Path) -> None:
    """Headless, the guardian is a copy of mpviz: it keeps its orders' pipe and /dev/null, and none
    of mpviz's descriptors (its output, which a reader would wait on while the guardian lives; the
    run's socket; the program's pipes).  Before it was forked: a new interpreter, none inherited."""
    mpviz, out = _leaver_watched(tmp_path, subprocess.PIPE)
    try:
        pids_in(out)
        guardian = _guardian_of(mpviz)
        held = {int(fd): os.readlink(f"/proc/{guardian.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{guardian.pid}/fd")}
        assert sorted(held) == [0, 1, 2], held
        assert held[0].startswith("pipe:"), held
        assert held[1] == held[2] == os.devnull, held
    finally:
        mpviz.send_signal(signal.SIGTERM)
        mpviz.communicate(timeout=60)
        for pid in pids_in(out):
            if not gone({pid}):
                os.kill(pid, signal.SIGKILL)


def test_sigkill_of_headless_mpviz_as_the_program_starts_ends_it_all(tmp_path: Path) -> None:
    """Headless, a program's main starts at once, while mpviz still loads (runtime/program.py,
    Early): killed then, before its supervisor exists, mpviz leaves nothing behind, the processes
    its program started without multiprocessing (and the one it orphaned with no environment)
    included.  Before: the guardian came with the supervisor; what the program started outlived
    mpviz.  (A dashboard that never gets further than the early start stands for mpviz here.)"""
    prog = tmp_path / "waits.py"
    prog.write_text(textwrap.dedent(LEAVER))
    out = tmp_path / "pids"
    early = "import sys, time; from mpviz.runtime.program import Early; e = Early(sys.argv[1:], 1.0); time.sleep(600)"
    dashboard = subprocess.Popen([sys.executable, "-c", early, str(prog), str(out), "wait"], cwd=tmp_path)
    try:
        pids = pids_in(out)
        dashboard.send_signal(signal.SIGKILL)
        wait_for(lambda: gone(pids), 30, what="the program's processes to end")
    finally:
        dashboard.kill()
        dashboard.wait()
        for pid in pids_in(out):
            if not gone({pid}):
                os.kill(pid, signal.SIGKILL)


FORKS_LATE = """
import os, sys, time
while not os.path.exists(sys.argv[1]):  # the dashboard is gone
    time.sleep(0.02)
pid = os.fork()
if pid == 0:
    time.sleep(60)  # never heard of by anyone: it would sleep on, unwatched
    os._exit(0)
_, status = os.waitpid(pid, 0)
with open(sys.argv[2], "w") as f:
    f.write(str(os.waitstatus_to_exitcode(status)))
"""


def test_a_child_forked_once_the_dashboard_is_gone_ends(tmp_path: Path) -> None:
    """A process of a watched program that connects when nobody listens at the run's socket any
    more (the dashboard killed) ends, as one that was connected does (exit 70).  Before: it ran
    on, unwatched, for ever."""
    import socket

    from mpviz.runtime.program import HOOK
    from mpviz.sync.boot import ORPHAN_EXIT
    from mpviz.telemetry.env import ENDPOINT_ENV

    prog = tmp_path / "forks_late.py"
    prog.write_text(FORKS_LATE)
    endpoint = str(tmp_path / "records")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(endpoint)
    listener.listen()
    env = {**os.environ, ENDPOINT_ENV: endpoint, "PYTHONPATH": HOOK}
    gone_flag, result = tmp_path / "gone", tmp_path / "result"
    main = subprocess.Popen([sys.executable, str(prog), str(gone_flag), str(result)], env=env, cwd=tmp_path)
    try:
        conn, _ = listener.accept()  # main's connection, kept open: main lives on
        listener.close()
        os.unlink(endpoint)
        gone_flag.touch()
        wait_for(result.exists, 30, what="main's child to end")
        assert result.read_text() == str(ORPHAN_EXIT)
        main.wait(30)
        conn.close()
    finally:
        for child in psutil.Process(main.pid).children(recursive=True) if main.poll() is None else []:
            child.kill()
        main.kill()
        main.wait()


# A subreaper with a run: a member that leaves a ``sleep`` in its group, one in a session of its own
# and an orphan with no environment, then ends; what the run's end finds, and how many processes'
# ``/proc/PID/stat`` and environments it read to find them.
TREE = """
import os, subprocess, sys, tempfile
from mpviz.runtime import guardian, members
assert members.become_subreaper()
read = []
stat, carries = guardian.stat_fields, guardian.carries
guardian.stat_fields = lambda pid: read.append(pid) or stat(pid)
guardian.carries = lambda pid, mark: read.append(pid) or carries(pid, mark)
run = members.Members("MPVIZ_ENDPOINT=" + sys.argv[1], tempfile.mkdtemp())
main = subprocess.Popen([sys.executable, "-c", sys.argv[2], sys.argv[3]])
run.add(main.pid)
main.wait()
left = {int(p) for p in open(sys.argv[3]).read().split()}
if sys.argv[4:5] == ["escaped"]:  # a process of the run that connects from outside the tree
    assert run.admit(int(sys.argv[5])), "an outsider with the mark is the run's"
read.clear()
found = run.everyone({main.pid})
print(sorted(left - set(found)), len(set(read)), int(sys.argv[5]) in found if sys.argv[4:] else "-")
for pid, start in found.items():
    guardian.signal_exactly(pid, start, 9)
run.close()
"""

# A main that leaves its processes, as LEAVER does, and ends at once.
LEAVES = LEAVER.replace("out = sys.argv[1]", "out = sys.argv[1]; sys.argv[2:] = []")


def test_the_end_of_a_subreapers_run_reads_its_tree_not_the_machine(tmp_path: Path) -> None:
    """At the end of a run, the dashboard (the subreaper of its run) finds what the program left
    (in main's group, in a session of its own, an orphan with no environment) by reading the
    run's own tree: a few processes, not every process of the machine and its environment (what
    cost a short program's run ~20-60 ms on a busy machine, twice).  Before: every process's
    ``stat`` and environment were read."""
    out = tmp_path / "pids"
    done = subprocess.run(
        [sys.executable, "-c", TREE, str(tmp_path / "records"), LEAVES, str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    try:
        assert done.returncode == 0, done.stderr
        missed, read, _ = done.stdout.split()
        assert missed == "[]", "every process the program left is found"
        assert int(read) < 20, f"{read} processes read to find the run's 3"
    finally:
        stragglers = pids_in(out)
        wait_for(lambda: gone(stragglers), 30, what="every process the program left to end")


def test_a_process_of_the_run_outside_its_tree_is_still_ended(tmp_path: Path) -> None:
    """A process that carries the run's mark and connects from outside the dashboard's tree (a
    service of the machine started it): from then on, the end looks at every process again, and
    ends it with the rest."""
    out = tmp_path / "pids"
    endpoint = str(tmp_path / "records")
    outsider = subprocess.Popen(["sleep", "600"], env={"MPVIZ_ENDPOINT": endpoint})  # the test's, not the run's child
    try:
        done = subprocess.run(
            [sys.executable, "-c", TREE, endpoint, LEAVES, str(out), "escaped", str(outsider.pid)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        missed, _, found = done.stdout.split()
        assert missed == "[]" and found == "True", done.stdout
        assert outsider.wait(30) == -signal.SIGKILL
    finally:
        outsider.kill()
        outsider.wait()
        stragglers = pids_in(out)
        wait_for(lambda: gone(stragglers), 30, what="every process the program left to end")


def test_the_guardian_ignores_the_terminals_signals_from_its_first_instant(tmp_path: Path) -> None:
    """A Ctrl+C (or a hang-up) that comes while the guardian's interpreter is still starting.
    Before: it ended the guardian in the instant before it set them aside (2 runs in 20 of the
    test above)."""
    from mpviz.runtime import guardian

    started = guardian.start(None, str(tmp_path))
    try:
        for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGTSTP):
            os.kill(started.pid, signum)
        assert started.stdin is not None
        started.stdin.write(b"end\n")
        started.stdin.flush()
        assert started.wait(timeout=60) == 0  # alive, not stopped, and still taking its orders
    finally:
        started.kill()
        started.wait()
