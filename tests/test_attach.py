"""``mpviz attach PID``: a program started by the test, not by mpviz, read from outside — each
process's state named at its line within seconds — and left exactly as it was when mpviz goes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from conftest import ROOT, load, mpviz, wait_for
from helpers.dashboard import rows, until

from mpviz.model import Model
from mpviz.model.stacks import Frame, ThreadStack
from mpviz.program import Attached
from mpviz.runtime import Settings, attach, procfs, pyspy
from mpviz.ui.app import make_app
from mpviz.ui.sources import LiveSource
from mpviz.ui.widgets.process_table import ProcessTable
from mpviz.ui.widgets.text_view import TextView
from mpviz.ui.widgets.title_bar import TitleBar
from mpviz.ui.widgets.wait_graph import WaitGraph

PROGRAM = ROOT / "tests" / "programs" / "attach_me.py"
WIDE = (200, 50)  # the State column at its widest
SOURCE = PROGRAM.read_text().splitlines()


def line_of(text: str) -> int:
    """The line of attach_me.py that holds ``text``."""
    return next(i for i, line in enumerate(SOURCE, 1) if text in line)


class Program:
    """attach_me.py running in a session of its own, started here: its processes by what they run."""

    def __init__(self, method: str) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, str(PROGRAM), method], stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        assert self.popen.stdout is not None
        ready, *pids = self.popen.stdout.readline().split()
        assert ready == "ready", ready
        self.pid = self.popen.pid
        self.targets = dict(zip(("consume", "parent", "spin"), map(int, pids), strict=True))
        parent = psutil.Process(self.targets["parent"])
        self.targets["nap"] = wait_for(lambda: [c.pid for c in parent.children()], what="the parent's child")[0]  # type: ignore[index]

    def processes(self) -> list[psutil.Process]:
        root = psutil.Process(self.pid)
        return [root, *root.children(recursive=True)]

    def by_target(self, name: str) -> int:
        return self.targets[name]

    def snapshot(self) -> dict[int, tuple[float, str]]:
        """Each process's start time and status: what must be the same after mpviz has gone."""
        return {p.pid: (p.create_time(), p.status()) for p in self.processes()}

    def end(self) -> None:
        os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait(30)


@pytest.fixture(params=["fork", "spawn"])
def program(request: pytest.FixtureRequest) -> Iterator[Program]:
    running = Program(request.param)
    try:
        yield running
    finally:
        running.end()


def expected(program: Program) -> dict[str, str]:
    """What mpviz must say of each process, at the program's own lines."""
    nap, consume = program.by_target("nap"), program.by_target("consume")
    return {
        "consume": f"waiting in multiprocessing Queue.get at attach_me.py:{line_of('q.get()')} in consume",
        "parent": f"joining nap (pid {nap}) at attach_me.py:{line_of('child.join()')} in parent",
        "nap": f"sleeping at attach_me.py:{line_of('time.sleep(3600)')} in nap",
        "spin": "running at attach_me.py in spin",
        "main": f"joining consume (pid {consume}) at attach_me.py:{line_of('w.join()')} in <module>",
    }


def test_attached_headless_each_state_is_named_at_its_line_and_detaching_leaves_the_program(
    program: Program, tmp_path: Path
) -> None:
    record = tmp_path / "attached.jsonl"
    before = program.snapshot()
    argv = [sys.executable, "-m", "mpviz", "attach", str(program.pid), "--headless", "--record", str(record)]
    watcher = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.extend(iter(watcher.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    want = expected(program)
    try:
        wait_for(lambda: all(any(words in line for line in out) for words in want.values()), 60, what=f"{want}")
    finally:
        watcher.send_signal(signal.SIGINT)  # the user's Ctrl+C
        watcher.wait(60)
        reader.join(10)  # the reader has the output to its end
        err = watcher.stderr.read()  # type: ignore[union-attr]
    assert watcher.returncode == 128 + signal.SIGINT, err
    assert "Traceback" not in err
    assert "detached: the program goes on" in "".join(out)
    # Left exactly as it was: the same processes, none stopped or ended, the spinner still spinning.
    after = program.snapshot()
    assert after.keys() == before.keys()
    assert all(status != psutil.STATUS_STOPPED for _, status in after.values())
    assert {pid: started for pid, (started, _) in after.items()} == {p: s for p, (s, _) in before.items()}
    spinner = psutil.Process(program.by_target("spin"))
    used = sum(spinner.cpu_times()[:2])
    wait_for(lambda: sum(spinner.cpu_times()[:2]) > used + 0.05, what="the spinner to go on spinning")
    # The recording holds the stacks, as py-spy read them, and replays to the same states.
    header, events = load(record)
    assert header["attached"] == program.pid and header["program"] == "attach_me.py"
    stacks = [e for e in events if e.kind == "proc.stack"]
    assert stacks and all(e.data["by"] == "py-spy" and e.data["frames"] for e in stacks)
    model = Model()
    model.apply(events)
    states = {proc.label: proc.state for proc in model.procs.values()}
    assert states["consume"] == want["consume"] and states["nap"] == want["nap"]
    main = model.procs[program.pid]
    assert (main.role, main.state) == ("main", want["main"])


def test_a_timed_headless_attachment_detaches_at_its_end_with_exit_code_0_when_nothing_hangs() -> None:
    program = Program("fork")
    try:
        before = program.snapshot()
        started = time.monotonic()
        done = mpviz("attach", str(program.pid), "--headless", "--duration", "4", timeout=120)
        took = time.monotonic() - started
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        assert done.stdout.rstrip().endswith("detached: the program goes on")
        assert f"sleeping at attach_me.py:{line_of('time.sleep(3600)')} in nap" in done.stdout
        assert 4 <= took < 60
        after = program.snapshot()
        assert after.keys() == before.keys() and all(status != psutil.STATUS_STOPPED for _, status in after.values())
    finally:
        program.end()


def test_killing_mpviz_while_attached_leaves_the_program_as_it_was() -> None:
    """SIGKILL: mpviz's guardian, which ends a run's processes when the dashboard dies, ends none of
    a program mpviz attached to."""
    program = Program("fork")
    watcher = None
    try:
        before = program.snapshot()
        argv = [sys.executable, "-m", "mpviz", "attach", str(program.pid), "--headless"]
        watcher = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        out: list[str] = []
        reader = threading.Thread(target=lambda: out.extend(iter(watcher.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
        reader.start()
        wait_for(lambda: any("sleeping at attach_me.py" in line for line in out), 60, what="the nap seen")
        helpers = [p for p in psutil.Process(watcher.pid).children(recursive=True) if p.pid not in before]
        watcher.kill()
        watcher.wait(30)
        # Whatever mpviz left to act after it died (its guardian) has done so and gone.
        wait_for(lambda: not any(h.is_running() and h.status() != psutil.STATUS_ZOMBIE for h in helpers), 60)
        after = program.snapshot()
        assert after.keys() == before.keys() and all(status != psutil.STATUS_STOPPED for _, status in after.values())
        assert {pid: started for pid, (started, _) in after.items()} == {p: s for p, (s, _) in before.items()}
    finally:
        if watcher is not None and watcher.poll() is None:
            watcher.kill()
            watcher.wait(30)
        program.end()


async def test_the_dashboard_attached_names_each_state_and_q_detaches(program: Program) -> None:
    before = program.snapshot()
    source = LiveSource.start(Settings(Attached, {"pid": program.pid, "name": "attach_me.py", "argv": []}))
    app = make_app(source)
    want = expected(program)
    async with app.run_test(size=WIDE) as pilot:
        table = app.screen.query_one(ProcessTable)

        def shown() -> bool:
            text = "\n".join(rows(table).values())
            # The table cuts long states: each is told by its start, up to the line.
            return all(words[:55] in text for words in want.values())

        await until(pilot, shown, what=f"{want} in the table")
        assert "attached: q detaches" in app.screen.query_one(TitleBar).plain
        footer = " ".join(what for _, what in app.screen.active_bindings_help())
        assert "Kill" not in footer and "Pause" not in footer, "no key signals a process mpviz did not start"
        q = app.screen.active_bindings["q"]
        assert q.binding.description == "Detach" and q.enabled, "the footer's q: it detaches"
        assert not source.controls.send_signal(program.pid, signal.SIGSTOP), "nor can anything else here"
        await pilot.press("w")
        graph = app.screen.query_one(WaitGraph).query_one(TextView)
        await until(pilot, lambda: "who holds a lock is not" in graph.plain, what="what cannot be seen, said")
        assert "──join──▶ consume" in graph.plain and "──join──▶ nap" in graph.plain, "the joins, which can be"
        await pilot.press("q")
    app.close_all()
    after = program.snapshot()
    assert after.keys() == before.keys() and all(status != psutil.STATUS_STOPPED for _, status in after.values())


def test_a_get_on_a_queue_nobody_else_holds_is_named_a_hang_from_outside() -> None:
    """The consumer waits on a queue whose write end no other process holds: nobody can ever feed it."""
    program = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "programs" / "unfed_attached.py")],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    watcher = None
    try:
        assert program.stdout is not None
        _, consumer = program.stdout.readline().split()  # "ready PID"
        argv = [sys.executable, "-m", "mpviz", "attach", str(program.pid), "--headless", "--no-stacks"]
        watcher = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out: list[str] = []
        reader = threading.Thread(target=lambda: out.extend(iter(watcher.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
        reader.start()
        hang = f"hang: 1 consumer blocked on get from empty queue 'q' and no producer left: consume (pid {consumer})"
        wait_for(lambda: any(hang in line for line in out), 60, what=hang)
        watcher.send_signal(signal.SIGINT)
        watcher.wait(60)
        reader.join(10)
        assert all(psutil.Process(pid).status() != psutil.STATUS_STOPPED for pid in (program.pid, int(consumer)))
    finally:
        if watcher is not None and watcher.poll() is None:
            watcher.kill()
            watcher.wait(30)
        os.killpg(program.pid, signal.SIGKILL)
        program.wait(30)


def test_each_wait_a_stack_can_name_is_named_at_its_line_and_the_program_s_own_waits_are_put_together() -> None:
    """A lock taken with acquire() (a C call: only the futex on its semaphore says it is one), a
    condition, an event, a full queue's put, a pipe's recv, a socket's recv; a child that is not
    Python said to be so (it was 'running', whatever it did)."""
    path = ROOT / "tests" / "programs" / "attach_waits.py"
    source = path.read_text().splitlines()

    def at(text: str, function: str) -> str:
        return f"at attach_waits.py:{next(i for i, line in enumerate(source, 1) if text in line)} in {function}"

    program = subprocess.Popen([sys.executable, str(path)], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert program.stdout is not None
        ready, *pids = program.stdout.readline().split()
        assert ready == "ready"
        names = ("locked", "conditioned", "evented", "putting", "piped", "talking")
        *pids, sleeper = pids
        by = dict(zip(names, map(int, pids), strict=True))
        want = {
            by["locked"]: f"waiting in multiprocessing lock acquire {at('lock.acquire()  #', 'locked')}",
            by["conditioned"]: f"waiting in multiprocessing Condition.wait {at('cond.wait()', 'conditioned')}",
            by["evented"]: f"waiting in multiprocessing Event.wait {at('event.wait()', 'evented')}",
            by["putting"]: f"waiting in multiprocessing Queue.put {at('q.put(2)', 'putting')}",
            by["piped"]: f"waiting in multiprocessing Connection.recv {at('conn.recv()', 'piped')}",
            by["talking"]: f"waiting in sock.recv() {at('sock.recv(1)', 'talking')}",
            program.pid: f"sleeping {at('time.sleep(3600)', '<module>')}",
            int(sleeper): "not Python: its stack cannot be read",
        }
        model = Model()
        attachment = attach.Attachment(program.pid, model.apply, lambda pid: None)

        def named() -> bool:
            model.apply(attachment.round())
            return {pid: model.procs[pid].state for pid in want if pid in model.procs} == want

        wait_for(named, 60, every=0.2, what=f"{want}")
        # The program's own waits are waits on its primitives (who holds them cannot be seen);
        # a socket's and a sleep are on nothing of the program's.
        waiting = {
            pid for prim in model.prims.values() for pid in (*prim.waiters, *prim.blocked_get, *prim.blocked_put)
        }
        assert waiting == {by[n] for n in names[:-1]}
        lock = model.procs[by["locked"]].waiting_on
        assert lock is not None and model.prims[lock].family == "lock" and model.prims[lock].name == "lock"
        assert model.procs[by["talking"]].elsewhere and model.procs[program.pid].elsewhere_sleeps
    finally:
        os.killpg(program.pid, signal.SIGKILL)
        program.wait(30)


def test_a_child_read_while_it_starts_is_named_after_its_target_once_it_runs(tmp_path: Path) -> None:
    """A spawned child read while it still imports the program is named by its command line
    ("spawn"); once it runs its target, by the target, and the join on it names it too, its
    parent waiting since it began."""
    go = tmp_path / "go"
    source = (ROOT / "tests" / "programs" / "slow_start.py").read_text().splitlines()
    at = {text: next(i for i, line in enumerate(source, 1) if text in line) for text in ("q.get()", "child.join()")}
    program = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "programs" / "slow_start.py")],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "MPVIZ_TEST_GO": str(go)},
    )
    try:
        assert program.stdout is not None
        child = int(program.stdout.readline().split()[1])  # "ready PID"
        model = Model()
        attachment = attach.Attachment(program.pid, model.apply, lambda pid: None)
        main = model.procs

        def joining() -> bool:
            model.apply(attachment.round())
            return program.pid in main and main[program.pid].state.startswith(
                f"joining {main[child].name} (pid {child})"
            )

        wait_for(joining, 60, every=0.2, what="the main joining its child")
        since = main[program.pid].since_ns
        assert main[child].label != "work", "read while it starts: its target not called yet"
        go.touch()
        want = {
            child: f"waiting in multiprocessing Queue.get at slow_start.py:{at['q.get()']} in work",
            program.pid: f"joining work (pid {child}) at slow_start.py:{at['child.join()']} in <module>",
        }

        def named() -> bool:
            model.apply(attachment.round())
            return {pid: main[pid].state for pid in want} == want

        wait_for(named, 60, every=0.2, what=f"{want}")
        assert main[child].label == "work"
        assert main[program.pid].since_ns == since, "the same join, since it began"
    finally:
        os.killpg(program.pid, signal.SIGKILL)
        program.wait(30)


def test_a_forked_child_is_not_named_after_its_parent_s_target_while_it_starts() -> None:
    """A forked child's stack goes on below its parent's: until it calls its own target, the
    parent's is not its name."""
    here = "/usr/lib/python3/multiprocessing/process.py"

    def frame(file: str, function: str) -> Frame:
        return Frame(file, 1, function, "")

    parent = [frame("prog.py", "<module>"), frame(here, "BaseProcess._bootstrap"), frame(here, "BaseProcess.run")]
    parent += [frame("prog.py", "crew"), frame(here, "BaseProcess.start"), frame("popen_fork.py", "Popen._launch")]
    starting = [*parent, frame(here, "BaseProcess._bootstrap")]
    running = [*starting, frame(here, "BaseProcess.run"), frame("prog.py", "work"), frame("prog.py", "helper")]

    def target(frames: list[Frame]) -> str:
        return attach._target([pyspy.Thread(ThreadStack(1, "MainThread", tuple(frames)), True)])

    assert target(parent) == "crew"
    assert target(starting) == ""
    assert target([*starting, frame("util.py", "_run_after_forkers")]) == ""
    assert target(running) == "work"


# --- what cannot be attached to: one line, exit code 2 ----------------------------------------


def test_a_process_that_is_not_python_is_refused() -> None:
    sleeper = subprocess.Popen(["sleep", "600"])
    try:
        done = mpviz("attach", str(sleeper.pid), timeout=60)
    finally:
        sleeper.kill()
        sleeper.wait(30)
    assert done.returncode == 2 and done.stderr == f"mpviz: error: pid {sleeper.pid} (sleep) is not a Python process\n"
    assert sleeper.returncode == -signal.SIGKILL, "refused, and left alone until the test ended it"


def test_the_dashboard_without_a_terminal_says_how_to_attach_headless() -> None:
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sleeper.stdout is not None and sleeper.stdout.readline() == "ready\n"
        done = mpviz("attach", str(sleeper.pid), timeout=60, stdin=open("/dev/null"))  # noqa: SIM115 - closed with the process
    finally:
        sleeper.kill()
        sleeper.wait(30)
    want = (
        f"mpviz: error: the dashboard needs a terminal; for plain output use: mpviz attach {sleeper.pid} --headless\n"
    )
    assert (done.returncode, done.stderr) == (2, want)
    assert sleeper.returncode == -signal.SIGKILL, "left alone until the test ended it"


def test_a_pid_that_is_gone_is_refused() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(30)
    done = mpviz("attach", str(gone.pid), "--headless", timeout=60)
    assert done.returncode == 2 and done.stderr == f"mpviz: error: no process with pid {gone.pid}\n"
    for bad, why in (("0", "must be at least 1"), ("x", "must be a process id, not 'x'")):
        done = mpviz("attach", bad, timeout=60)
        assert done.returncode == 2 and why in done.stderr and done.stderr.count("\n") == 1


def test_without_the_rights_one_line_says_which_and_how_to_get_them(without_ptrace: dict) -> None:
    """Another user's process, and mpviz without the right to read it (root without CAP_SYS_PTRACE:
    a container started without SYS_PTRACE; not root: any other user's process)."""
    if os.geteuid() == 0:
        code = "import os, time; os.setgid(65534); os.setuid(65534); print('ready', flush=True); time.sleep(600)"
        other = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        assert other.stdout is not None and other.stdout.readline() == "ready\n"
        pid, why = (
            other.pid,
            "mpviz runs as root without CAP_SYS_PTRACE (in a container: start it with --cap-add SYS_PTRACE)",
        )
    else:
        other, pid, why = None, 1, "it belongs to root"
    try:
        done = mpviz("attach", str(pid), timeout=60, **without_ptrace)
    finally:
        if other is not None:
            other.kill()
            other.wait(30)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"mpviz: error: cannot attach to pid {pid}") and why in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_each_lack_of_rights_says_how_to_get_them() -> None:
    """The reasons a process cannot be read, from the facts /proc gives (fixed here)."""

    def why(their: int = 1000, ours: int = 1000, scope: int | None = None, cap: bool = False) -> str:
        return procfs.rights_problem(42, "prog", their, ours, scope, cap)

    assert "ptrace_scope = 3" in why(scope=3, cap=True)
    assert "--cap-add SYS_PTRACE" in why(their=1000, ours=0)
    assert "belongs to uid 4242424" in why(their=4242424) and "sudo -u uid 4242424" in why(their=4242424)
    assert "only root may (kernel.yama.ptrace_scope = 2)" in why(scope=2)
    assert "sudo sysctl kernel.yama.ptrace_scope=0" in why(scope=1)
    assert "not dumpable" in why(scope=1, cap=True) and why(scope=1, cap=True).endswith("attach with sudo")
    assert why(their=0, ours=0, cap=True).endswith("or is not dumpable)"), "root: sudo would change nothing"


def test_only_processes_that_moved_are_read_again_and_at_most_a_rounds_worth(
    program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A round reads every new process; then only those that ran since they were read (a blocked one
    cannot have moved) and are not back in the very system call they were read waiting in, the
    longest unread first, at most READS_PER_ROUND of them (a read costs py-spy CPU)."""
    first = attach.Attachment(program.pid, lambda events: None, lambda pid: None)
    read = {e.pid for e in first.round() if e.kind == "proc.stacks"}
    assert read == {program.pid, *program.targets.values()}, "every new process is read at once"
    spin = {program.by_target("spin")}
    # Once the program's processes have settled (the last one may have been read starting up):
    wait_for(lambda: {e.pid for e in first.round() if e.kind == "proc.stacks"} == spin, what="only the spinner read")
    # Processes that wake five times a second, back in the same sleep each time; processes that spin.
    nappers = _parent_of(3, "import time\nwhile True: time.sleep(0.2)")
    spinners = None
    try:
        napping = _children_of(nappers.pid, 3)
        wait_for(lambda: all(_napping(pid) for pid in napping), what="the nappers in their loop")
        ours = attach.Attachment(nappers.pid, lambda events: None, lambda pid: None)
        assert napping <= {e.pid for e in ours.round() if e.kind == "proc.stacks"}

        def read_again() -> set[int]:
            """A round once each napper has run since the last: the nappers it read again."""
            _each_ran(napping)
            return {e.pid for e in ours.round() if e.kind == "proc.stacks"} & napping

        # They ran, but are back in the same sleep: where they were. (A napper caught waking up at
        # that very moment is read; on a loaded machine that happens now and then: a round soon comes
        # where none is, which a rule that read whoever ran would never give.)
        wait_for(lambda: not read_again(), what="a round that reads none of them again")
        # More spinners than a round reads (fewer reads a round here: fewer spinners on two cores).
        monkeypatch.setattr(attach, "READS_PER_ROUND", 2)
        spinners = _parent_of(3, "while True: pass")
        spinning = _children_of(spinners.pid, 3)
        # (Their parent read still on its way into its wait would be read again: it moved since.)
        wait_for(lambda: _napping(spinners.pid), what="the spinners' parent in its wait")
        theirs = attach.Attachment(spinners.pid, lambda events: None, lambda pid: None)
        assert spinning <= {e.pid for e in theirs.round() if e.kind == "proc.stacks"}, "new: read at once"
        # (Each spinner given the time to run since its read: three spinners on two loaded cores
        # may not all get one between two rounds, and one that did not run is rightly not read.)
        _each_ran(spinning)
        second = {e.pid for e in theirs.round() if e.kind == "proc.stacks"}
        assert len(second) == 2 and second <= spinning, "a round's worth, of those that ran"
        _each_ran(spinning)
        third = {e.pid for e in theirs.round() if e.kind == "proc.stacks"}
        assert spinning - second <= third, "then the one left unread the longest"
    finally:
        for parent in (nappers, spinners):
            if parent is not None:
                os.killpg(parent.pid, signal.SIGKILL)
                parent.wait(30)


def _each_ran(pids: set[int]) -> None:
    """Once each of ``pids`` has run since now."""
    ran = {pid: procfs.ran(pid) for pid in pids}
    wait_for(lambda: all(procfs.ran(pid) != before for pid, before in ran.items()), what="each to run")


def _children_of(pid: int, n: int) -> set[int]:
    """The ``n`` children of ``pid``, once it has started them."""
    wait_for(lambda: len(psutil.Process(pid).children()) == n, what=f"{n} children")
    return {c.pid for c in psutil.Process(pid).children()}


def _parent_of(n: int, code: str) -> subprocess.Popen[bytes]:
    """A process (in a session of its own) that starts ``n`` Python children running ``code`` and waits."""
    parent = f"import subprocess, sys\nkids = [subprocess.Popen([sys.executable, '-c', {code!r}]) for _ in range({n})]\nkids[0].wait()"
    return subprocess.Popen([sys.executable, "-c", parent], start_new_session=True)


def _napping(pid: int) -> bool:
    """In its sleep, past its start: the same system call, twice in a row."""
    first = procfs.calls(pid)
    return first is not None and wait_for(lambda: procfs.calls(pid), every=0.01) == first


def test_a_child_of_the_dashboard_that_ended_is_not_reaped_as_an_orphan_while_attached() -> None:
    """Attached, the dashboard (a subreaper) runs py-spy for each read of stacks, and its sampler's
    round adopts the run's orphans and reaps those that ended.  Before: a py-spy that had ended, not yet
    waited for by its ``subprocess.run``, was reaped by the round: its exit code read 0, its failure
    read as a dump ("py-spy said something that is not JSON")."""
    from mpviz.runtime import Supervisor
    from mpviz.runtime.guardian import zombie

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    sup = Supervisor(sample_every=None, main_is_here=False)
    try:
        sup.members._adopting = True  # as the dashboard is (a subreaper); pytest is not
        sup.attach(sleeper.pid)
        failed = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])  # as a py-spy that failed
        wait_for(lambda: zombie(failed.pid), timeout=60, what="the child to end")
        sup._sample_round()
        assert failed.wait(60) == 3
    finally:
        sup.close()
        sleeper.kill()
        sleeper.wait(30)
