"""A watched program cannot make mpviz kill, crash or lie (issue 24): what a program writes on the
run's socket is checked and not believed, and mpviz signals only the processes of the run.

The forged records come from programs that write frames on the socket themselves; a process that
must not be signalled is one the test owns, or lives in a throwaway pid namespace.
"""

from __future__ import annotations

import marshal
import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from conftest import ROOT, load, wait_for

from mpviz.model import Model
from mpviz.model.state import MAX_PRIMITIVES
from mpviz.telemetry import Event, Malformed, wire

# A watched program that writes frames on the run's socket, as mpviz's own processes do.
FORGER = """
import marshal, os, socket, struct, sys, time
now = time.monotonic_ns

def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.environ["MPVIZ_ENDPOINT"])
    return s

def send(s, *records):
    for r in records:
        p = marshal.dumps(r)
        s.sendall(struct.pack("!I", len(p)) + p)
"""


def program(tmp_path: Path, body: str, name: str = "forger.py") -> Path:
    path = tmp_path / name
    path.write_text(FORGER + textwrap.dedent(body))
    return path


def headless(prog: Path, *options: str, args: tuple[str, ...] = (), timeout: float = 90, **kw: object):
    argv = [sys.executable, "-m", "mpviz", "run", str(prog), "--headless", *options, "--", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=prog.parent, **kw)


@pytest.fixture
def victim():
    """A process of the test's own, outside every run: nothing mpviz does may reach it."""
    proc = subprocess.Popen(["sleep", "600"])
    yield proc
    proc.kill()
    proc.wait()


def in_a_pid_namespace(script: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``script`` (a shell script) run as pid 1's child in a throwaway pid namespace: a signal to
    every process (``kill(-1)``) reaches only what runs in there."""
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    argv = ["unshare", *user, "--pid", "--fork", "--mount-proc", "sh", "-c", script]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


# --- 1. trust: a record is its sender's, a signal goes only to the run ------------------------


def test_a_record_naming_another_process_is_refused(tmp_path: Path, victim: subprocess.Popen) -> None:
    """Before: the foreign process was shown as the program's child, and a spawn of a pid that does
    not exist kept a headless run waiting for its end for ever."""
    prog = program(
        tmp_path,
        """
        victim = int(sys.argv[1])
        s = connect()
        send(s, (now(), victim, "proc.start", "victim", {"role": "worker", "label": "victim", "ppid": os.getpid()}),
                (now(), victim, "proc.spawn", "victim", {"role": "worker", "label": "victim", "ppid": os.getpid()}),
                (now(), 4_000_000, "proc.spawn", "ghost", {"role": "worker", "label": "ghost", "ppid": os.getpid()}),
                (now(), 0, "proc.state", "zero", {}),
                (now(), victim, "lock.acquired", "x", {}),
                (now(), os.getpid(), "proc.stats", "", {"cpu": 99.0}),
                (now(), os.getpid(), "proc.state", "still here", {}))
        time.sleep(0.5)
        """,
    )
    record = tmp_path / "run.jsonl"
    done = headless(prog, "--record", str(record), args=(str(victim.pid),))
    assert done.returncode == 0, done.stdout + done.stderr
    # (The ghost's spawn is not believed, and not counted: a pid gone or never there, nobody can tell.)
    assert "refused 5 records that named a process other than their sender" in done.stdout
    _, events = load(record)
    pids = {e.pid for e in events if not e.kind.startswith("run.")}
    assert victim.pid not in pids and 4_000_000 not in pids and 0 not in pids
    assert [e.obj for e in events if e.kind == "proc.state"] == ["still here"]
    assert not any(e.kind == "proc.stats" and e.data.get("cpu") == 99.0 for e in events)
    assert victim.poll() is None


def test_an_unrelated_process_that_connects_is_never_signalled(tmp_path: Path) -> None:
    """A process of the user, not of the run, that connects to the run's socket.  Before: it was
    taken for a process of the run, and ended with it (SIGTERM, then SIGKILL)."""
    endpoint_file = tmp_path / "endpoint"
    prog = program(
        tmp_path,
        """
        open(sys.argv[1] + ".tmp", "w").write(os.environ["MPVIZ_ENDPOINT"])
        os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        while not os.path.exists(sys.argv[1] + ".connected"):
            time.sleep(0.05)
        """,
    )
    run = subprocess.Popen(
        [sys.executable, "-m", "mpviz", "run", str(prog), "--headless", "--", str(endpoint_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    wait_for(endpoint_file.exists, what="the program's socket path")
    outsider = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket, sys, time; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
            "open(sys.argv[2], 'w').close(); time.sleep(600)",
            endpoint_file.read_text(),
            str(endpoint_file) + ".connected",
        ]
    )
    try:
        out, err = run.communicate(timeout=90)
        assert run.returncode == 0, out + err
        assert outsider.poll() is None, "the outsider is alive"
        assert "refused 1 connections from processes not of the run" in out
    finally:
        outsider.kill()
        outsider.wait()


SIGNALS = """
import signal, subprocess, sys, time
from mpviz.runtime import Supervisor

sup = Supervisor(sample_every=None)
connect = "import socket, sys, time; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(600)"
first = subprocess.Popen([sys.executable, "-c", connect, sup.channels.endpoint])
deadline = time.monotonic() + 60
while first.pid not in sup.grandchildren and time.monotonic() < deadline:
    sup.channels.read(0.05)
pid = first.pid
print("a process of the run:", pid in sup.grandchildren)
first.kill()
first.wait()
time.sleep(0.1)  # a start time is counted in clock ticks: the next process starts a tick later at least
# The next process gets the same pid: this namespace's pids are handed out in order.
with open("/proc/sys/kernel/ns_last_pid", "w") as f:
    f.write(str(pid - 1))
second = subprocess.Popen(["sleep", "600"])
print("same pid:", second.pid == pid)
print("signalled:", sup.send_signal(pid, signal.SIGKILL))
sup.close()
time.sleep(0.2)
print("alive after the run:", second.poll() is None)
second.kill()
"""


def test_a_child_gone_while_its_connection_is_taken_is_heard_not_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child of the run that raised at once and was reaped (its parent's ``join``) between the
    reading of its start and its adding, while its connection waited on a loaded machine: nothing
    says it was not the run's, so its records are heard.  Before: it was refused as "not of the
    run", and its failure was lost (CI: ``raises.py`` said "nothing went wrong")."""
    from mpviz.runtime import members

    run = members.Members.__new__(members.Members)
    run.root, run.mark, run._known, run._lock, run._before = 100, None, {}, threading.Lock(), set()
    run._adopted = set()
    run._tell = lambda line: None  # type: ignore[method-assign]
    monkeypatch.setattr(members, "parent", lambda pid: 100)
    starts = iter([5, None])  # read once alive, gone when added
    monkeypatch.setattr(members, "start_time", lambda pid: next(starts))
    assert run.admit(4242) is None
    monkeypatch.setattr(members, "start_time", lambda pid: 5)
    assert run.admit(4243) is True, "a child still there is a member"


def test_a_pid_reused_by_another_process_is_not_signalled(tmp_path: Path) -> None:
    """A process of the run's pid, once it has ended, may name a new process: its start time differs,
    and mpviz leaves it alone, at a key and at the end.  In a throwaway pid namespace, where the next
    pid can be chosen.  Before: the new process was killed (by the key, and by the end of the run)."""
    script = tmp_path / "signals.py"
    script.write_text(SIGNALS)
    done = in_a_pid_namespace(f"{sys.executable} {script}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        "a process of the run: True",
        "same pid: True",
        "signalled: False",
        "alive after the run: True",
    ]


def test_forged_pids_0_and_minus_1_signal_nothing(tmp_path: Path) -> None:
    """Records for pid 0 and -1, in a pid namespace of their own with a bystander beside mpviz.
    Before: the run never ended (it waited for those processes), and when stopped it signalled them:
    kill(-1) reached every process of the user, kill(0) mpviz's own group."""
    prog = program(
        tmp_path,
        """
        s = connect()
        for pid in (-1, 0, 1):
            send(s, (now(), pid, "proc.start", "p", {"role": "worker", "label": f"pid {pid}", "ppid": os.getpid()}),
                    (now(), pid, "proc.spawn", "p", {"role": "worker", "label": f"pid {pid}", "ppid": os.getpid()}))
        time.sleep(0.5)
        """,
    )
    script = f"""
        sleep 600 & bystander=$!
        timeout 60 {sys.executable} -m mpviz run {prog} --headless > {tmp_path}/out.txt 2> {tmp_path}/err.txt
        echo "mpviz: $?"
        kill -0 $bystander && echo "bystander: alive"
        kill $bystander
    """
    done = in_a_pid_namespace(textwrap.dedent(script))
    out, err = (tmp_path / "out.txt").read_text(), (tmp_path / "err.txt").read_text()
    assert done.stdout.splitlines() == ["mpviz: 0", "bystander: alive"], done.stdout + done.stderr + out + err
    assert "Traceback" not in err
    assert "2 malformed records dropped" in out, "pid -1 is no pid: not a record"
    assert "refused 4 records that named a process other than their sender" in out


# --- 2. what a record may hold; limits ----------------------------------------------------------


def test_a_file_handed_over_as_stdout_is_refused(tmp_path: Path) -> None:
    """Before: a KeyError in the channels at the end of the run."""
    prog = program(
        tmp_path,
        """
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(os.environ["MPVIZ_ENDPOINT"])
        f = open(__file__, "rb")
        hello = marshal.dumps((now(), os.getpid(), "proc.stdio", "", {"streams": ["out", "err"]}))
        socket.send_fds(s, [struct.pack("!I", len(hello)) + hello], [f.fileno(), f.fileno()])
        send(s, (now(), os.getpid(), "proc.state", "after", {}))
        time.sleep(0.5)
        """,
    )
    done = headless(prog)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "after" in done.stdout


def test_numbers_too_big_and_not_finite_are_not_records(tmp_path: Path) -> None:
    """An integer of 5000 digits (its text cannot even be made), infinity, NaN.  Before: a ValueError
    in the dashboard; headless with --record, the run ended with exit 2."""
    prog = program(
        tmp_path,
        """
        s = connect()
        me = os.getpid()
        send(s, (now(), me, "proc.state", "big", {"n": 10**5000}),
                (now(), me, "prim.new", "x", {"kind": "sem", "name": "s", "site": "", "value": 10**30}),
                (now(), me, "proc.sleep", "", {"s": float("inf")}),
                (now(), me, "proc.state", "nan", {"x": float("nan")}),
                (now(), me, "x" * 100, "", {}),
                (now(), me, "proc.state", "deep", {"x": [[[1]]]}),
                (now(), me, "proc.state", "fine", {"n": 2**62}))
        time.sleep(0.5)
        """,
    )
    record = tmp_path / "run.jsonl"
    done = headless(prog, "--record", str(record))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 malformed records dropped" in done.stdout
    _, events = load(record)
    assert [e.obj for e in events if e.kind == "proc.state"] == ["fine"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ((1, 2, 3), "not an event"),
        ((1, -1, "proc.state", "", {}), "time or pid out of range"),
        ((1, 2**31, "proc.state", "", {}), "time or pid out of range"),
        ((-1, 2, "proc.state", "", {}), "time or pid out of range"),
        ((1, 2, "k" * 65, "", {}), "too long to be a record"),
        ((1, 2, "proc.state", "o" * 1025, {}), "too long to be a record"),
        ((1, 2, "proc.state", "", {str(i): i for i in range(65)}), "too long to be a record"),
        ((1, 2, "proc.state", "", {"n": 10**5000}), "proc.state n (a number too big to show) is not what it must be"),
        ((1, 2, "proc.state", "", {"x": float("inf")}), "proc.state x Infinity is not what it must be"),
        ((1, 2, "proc.state", "", {"x": "t" * 5000}), "proc.state x"),
        ((1, 2, "proc.state", "", {"x": list(range(1025))}), "proc.state x"),
        ((1, 2, "proc.state", "", {5: 1}), "proc.state 5 1 is not what it must be"),
        ((1, 2, "proc.exit", "", {"code": "0"}), 'proc.exit code "0" is not what it must be'),
        ((1, 2, "lock.acquired", "l", {"value": 2**63}), "lock.acquired value"),
        ((1, 2, "lock.acquired", "l", {"th": -5}), "lock.acquired th -5"),
        ((1, 2, "proc.sleep", "", {"s": -1.0}), "proc.sleep s -1.0"),
        ((1, 2, "proc.state", "", {"x": b"bytes"}), "proc.state x"),
    ],
)
def test_a_record_is_checked_by_its_kind_with_bounded_sizes(value: tuple, reason: str) -> None:
    with pytest.raises(Malformed, match=None) as refused:
        wire.check(value)
    assert reason in str(refused.value)
    # The same over the wire: a frame of it is counted as malformed, the next record comes.
    splitter = wire.Splitter()
    payload = marshal.dumps(value)
    assert splitter.feed(len(payload).to_bytes(4, "big") + payload) == []
    good = Event(1, 2, "proc.state", "ok", {"th": 3, "at": "2@1"})
    assert splitter.feed(wire.frame(good)) == [good]
    assert splitter.malformed == 1


def test_a_record_too_big_keeps_its_place_with_a_short_name() -> None:
    """A process named with 100 000 characters: its records fit a frame, cut (before: a frame no
    reader takes, which made the rest of the connection's stream unreadable)."""
    event = Event(1, 2, "proc.spawn", "x" * 100_000, {"label": "x" * 100_000})
    payload = wire.encode(event)
    assert len(payload) <= wire.MAX_RECORD_BYTES
    got = wire.decode(payload)
    assert got.kind == "proc.spawn" and got.obj.startswith("xxx") and got.data == {"truncated": True}


def test_primitives_past_the_limit_are_counted_not_kept() -> None:
    """Before: 100 000 forged primitives took 578 MB."""
    model = Model()
    for i in range(MAX_PRIMITIVES + 50):
        model.apply_one(Event(i, 10, "prim.new", f"10.{i}", {"kind": "lock", "name": "lock", "site": ""}))
    model.apply_one(Event(10**6, 10, "lock.acquired", f"10.{MAX_PRIMITIVES + 3}", {}))
    assert len(model.prims) == MAX_PRIMITIVES and model.refused["primitives"] == 50
    assert 10 not in model.procs, "a record about a primitive not kept is dropped"
    assert model.refusals() == [f"50 primitives past the limit of {MAX_PRIMITIVES} not shown"]


def test_naming_ten_thousand_locks_of_one_name_is_linear() -> None:
    """Before: each new "lock" tried lock#2, lock#3 … again: quadratic (14 s for 10 000).  Counted
    in steps, not seconds: the names the model tries."""
    model = Model()
    tried = 0
    named = model._named

    class Counting(dict):
        def __contains__(self, key: object) -> bool:
            nonlocal tried
            tried += 1
            return dict.__contains__(self, key)

    model._named = Counting(named)
    for i in range(10_000):
        model.add_prim(f"10.{i}", "lock", "lock")
    assert model.prim("lock#10000").id == "10.9999"
    assert tried < 3 * 10_000, tried


CONNECTIONS = """
import os, socket, sys, time, multiprocessing as mp

def flood(n, ready, done):
    held = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(os.environ["MPVIZ_ENDPOINT"])
        held.append(s)
    ready.set()
    done.wait()

if __name__ == "__main__":
    # Each flooder opens as many connections as its own descriptors allow.
    done = mp.Event()
    ready = [mp.Event() for _ in range({processes})]
    flooders = [mp.Process(target=flood, args=({n}, r, done)) for r in ready]
    for p in flooders:
        p.start()
    for r in ready:
        r.wait()
    # A process of the program's own, started after the flood, still runs and ends as it would.
    lock = mp.Lock()
    with lock:
        print("after the flood", flush=True)
    done.set()
    for p in flooders:
        p.join()
"""


def test_connections_past_the_limit_are_refused_and_said(tmp_path: Path) -> None:
    """A program that opens hundreds of connections, under a limit of 400 descriptors.  Before:
    mpviz ran out of descriptors and spun in accept, and ended saying nothing went wrong."""
    prog = tmp_path / "flood.py"
    prog.write_text(CONNECTIONS.format(processes=3, n=200))
    argv = ["prlimit", "--nofile=400:400", sys.executable, "-m", "mpviz", "run", str(prog), "--headless"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "prints: after the flood" in done.stdout
    assert "connections past the run's limit" in done.stdout


RESTING = """
import os, socket, sys, time
from mpviz.runtime.channels import Channels
from mpviz.telemetry import Event, now_ns

channels = Channels(lambda pid: Event(now_ns(), pid, "proc.exit", "", {{}}))
clients = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(4)]
for client in clients:
    client.connect(channels.endpoint)
# Every descriptor of this process taken: the listener has connections it cannot accept.
held = []
try:
    while True:
        held.append(os.open(os.devnull, os.O_RDONLY))
except OSError:
    pass
calls, end = 0, time.monotonic() + 1.5
while time.monotonic() < end:
    channels.read(0.5)
    calls += 1
for fd in held:
    os.close(fd)
print(calls, channels.trust.refused["connections"])
"""


def test_out_of_descriptors_the_listener_rests(tmp_path: Path) -> None:
    """Before: accept failed with EMFILE and the listener was ready again at once: a read returned
    at once, for ever, at 100 % of a core.  Counted in calls: a read that waits is called a few times."""
    script = tmp_path / "resting.py"
    script.write_text(RESTING.format())
    done = subprocess.run(
        ["prlimit", "--nofile=64:64", sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    calls, refused = (int(w) for w in done.stdout.split())
    assert calls <= 10 and refused >= 1, done.stdout


SAMPLED = """
import multiprocessing as mp, time
def wait(e):
    e.wait()
if __name__ == "__main__":
    e = mp.Event()
    ps = [mp.Process(target=wait, args=(e,)) for _ in range({n})]
    for p in ps:
        p.start()
    time.sleep(2.5)  # the sampler's rounds, with every process alive
    e.set()
    for p in ps:
        p.join()
    print("all joined", flush=True)
"""


def test_a_correct_program_with_more_processes_than_descriptors(tmp_path: Path) -> None:
    """Each process costs the dashboard three descriptors; 40 processes under a limit of 100.
    Before: the sampler's psutil call failed with EMFILE and the run crashed."""
    prog = tmp_path / "many.py"
    prog.write_text(SAMPLED.format(n=40))
    argv = ["prlimit", "--nofile=100:100", sys.executable, "-m", "mpviz", "run", str(prog), "--headless"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "prints: all joined" in done.stdout and "Traceback" not in done.stderr


# --- 4. what does not need threads: mpviz never changes what a program does ---------------------

CLOSER = """
import multiprocessing as mp, os, socket, sys

def child():
    os.closerange(3, 4096)
    check()

def check():
    # The program's own sockets take the numbers mpviz's connection had: mpviz writes on none of them.
    pairs = [socket.socketpair() for _ in range(20)]
    lock = mp.Lock()
    for _ in range(3):
        with lock:
            pass
    for a, b in pairs:
        for s in (a, b):
            s.setblocking(False)
            try:
                got = s.recv(100)
            except BlockingIOError:
                continue
            print("mpviz wrote on the program's socket:", got, flush=True)
            sys.exit(3)
    print(os.getpid(), "clean", flush=True)

if __name__ == "__main__":
    os.closerange(3, 4096)
    check()
    p = mp.Process(target=child)
    p.start()
    p.join()
    print("child", p.exitcode, flush=True)
"""


def test_a_program_that_closes_every_descriptor(tmp_path: Path) -> None:
    """``os.closerange(3, 4096)`` in main and in a child, then sockets of the program's own.  Before:
    mpviz went on writing its records on the descriptor numbers the program now used for its own
    sockets, and its watchdog took the hang-up for the dashboard's end (exit 70)."""
    prog = tmp_path / "closer.py"
    prog.write_text(CLOSER)
    record = tmp_path / "run.jsonl"
    done = headless(prog, "--record", str(record))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line.split("prints: ", 1)[1] for line in done.stdout.splitlines() if "prints: " in line]
    # Each process's lines in its order.  (Across processes, lines written before the dashboard's
    # first read, a watched program starting while mpviz loads, come in the order they are read.)
    main_pid = lines[0].split()[0]
    assert [line.split()[-1] for line in lines if line.startswith(main_pid) or line.startswith("child")] == [
        "clean",
        "0",
    ], lines
    assert sorted(line.split()[-1] for line in lines) == ["0", "clean", "clean"], lines
    _, events = load(record)
    # Its records go on, on a connection made again.
    assert sum(1 for e in events if e.kind == "lock.acquired") == 6


def test_an_item_without_a_preview_is_put_as_it_would_be(tmp_path: Path) -> None:
    """``q.put(10**5000)``: its text cannot be made (Python refuses an int of more than 4300 digits).
    Before: the put raised ValueError in the program, from mpviz's preview."""
    prog = tmp_path / "big.py"
    prog.write_text(
        textwrap.dedent(
            """
            import multiprocessing as mp
            class Shy:
                def __repr__(self):
                    raise RuntimeError("no")
            if __name__ == "__main__":
                q = mp.Queue()
                q.put(10**5000)
                q.put(Shy())
                print(q.get() == 10**5000, type(q.get()).__name__, flush=True)
            """
        )
    )
    done = headless(prog)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "prints: True Shy" in done.stdout
    assert "put '<int: no preview>' into queue 'q'" in done.stdout


def test_records_a_process_could_not_send_are_counted_exactly(tmp_path: Path) -> None:
    """A dashboard that takes nothing: the process's backlog fills, then it drops.  What it says
    it lost at its end plus what did arrive is every record it made.  Before: a record half sent
    put the count of the backlog off ("1 records lost" for thousands)."""
    from mpviz.telemetry.backlog import lost_note
    from mpviz.telemetry.reporter import SocketReporter

    path = str(tmp_path / "records")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()
    reporter = SocketReporter(path)
    peer, _ = listener.accept()
    made = 200_000
    for i in range(made):
        reporter(Event(i, os.getpid(), "proc.state", "tick", {"i": i}))
    # The dashboard takes a little, then nothing: the process's last flush sends what fits (ending
    # in the middle of a record, most likely), then gives up.
    splitter = wire.Splitter()
    arrived = len(splitter.feed(peer.recv(65536 + 17)))
    reporter.flush(timeout=0.2)
    note = Path(lost_note(path, os.getpid()))
    lost = int(note.read_text())
    peer.setblocking(False)
    while True:
        try:
            chunk = peer.recv(1 << 20)
        except BlockingIOError:
            break
        arrived += len(splitter.feed(chunk))
    assert splitter.malformed == 0 and 0 < arrived < made
    assert arrived + lost == made, (arrived, lost)


async def test_twenty_thousand_primitives_are_not_all_drawn(tmp_path: Path) -> None:
    """A program with 20 000 locks, one of them held.  Before: the panel drew a view of every one
    four times a second, and a key (``?``, ``q``) waited 20 s for its turn."""
    from mpviz.ui.app import make_app
    from mpviz.ui.sources import ReplaySource
    from mpviz.ui.widgets.lesson_panel import LessonPanel

    drawn_at_most = 100  # the panel's MAX_DRAWN
    path = tmp_path / "locks.jsonl"
    with path.open("w") as f:
        f.write('{"mpviz": 1, "program": "locks.py", "argv": ["locks.py"]}\n')
        f.write('[1000, 10, "proc.spawn", "main", {"role": "main", "label": "main"}]\n')
        for i in range(20_000):
            f.write(
                f'[{2000 + i}, 10, "prim.new", "10.{i}", {{"kind": "lock", "name": "lock", "site": "locks.py:4"}}]\n'
            )
        f.write('[100000, 10, "lock.acquired", "10.15000", {}]\n')
    source = ReplaySource(path, at=100, frozen=True)
    app = make_app(source)
    async with app.run_test(size=(160, 48)) as pilot:
        panel = app.screen.query_one(LessonPanel)
        await pilot.pause(0.5)
        drawn = panel.part("main").plain
    source.close()
    assert drawn.count("Lock 'lock") == drawn_at_most
    assert f"… and {20_000 - drawn_at_most} more primitives, not drawn" in drawn
    assert "Lock 'lock#15001'" in drawn, "the held one is drawn"


# --- 5. say what happened ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "code", "last"),
    [
        ("print('hi')\ndef (:\n", 1, "main exited with code 1: SyntaxError: invalid syntax"),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n", 128 + 11, "main killed by SIGSEGV"),
        ("raise ValueError('no such thing')\n", 1, "main exited with code 1: ValueError: no such thing"),
    ],
    ids=["SyntaxError", "SIGSEGV", "ValueError"],
)
def test_a_main_that_fails_is_not_nothing_went_wrong(tmp_path: Path, source: str, code: int, last: str) -> None:
    """Before: "… main exited with code 1; nothing went wrong"."""
    prog = tmp_path / "fails.py"
    prog.write_text(source)
    done = headless(prog)
    assert done.returncode == code, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == f"fails.py: 1 process, {last}"
    assert "nothing went wrong" not in done.stdout


def test_a_listing_into_a_pipe_nobody_reads_is_no_error() -> None:
    """``mpviz list | head -1``, its reader gone before it writes.  Before: a BrokenPipeError
    traceback and exit 1, 3 runs in 5."""
    r, w = os.pipe()
    os.close(r)  # nobody will read: the first write fails
    try:
        done = subprocess.run([sys.executable, "-m", "mpviz", "list"], stdout=w, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(w)
    assert done.returncode == 141 and done.stderr == b"", done.stderr


def test_stats_into_a_pipe_closed_early_is_no_error(tmp_path: Path) -> None:
    """``mpviz stats FILE | head``.  Before: "mpviz: error: cannot read FILE: Broken pipe"."""
    path = tmp_path / "many.jsonl"
    with path.open("w") as f:
        f.write('{"mpviz": 1, "program": "many.py", "argv": ["many.py"]}\n')
        for pid in range(10, 3010):
            f.write(f'[{pid}, {pid}, "proc.spawn", "w", {{"role": "worker", "label": "worker {pid}"}}]\n')
    stats = subprocess.Popen(
        [sys.executable, "-m", "mpviz", "stats", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert stats.stdout is not None and stats.stderr is not None
    assert stats.stdout.readline().startswith(b"many.py:")
    stats.stdout.close()  # as head does once it has its lines
    err = stats.stderr.read()
    assert stats.wait(60) == 141 and err == b"", err


DESCRIPTORS = """
import os, time
start = time.monotonic()
time.sleep(2)  # at --speed 20: 0.1 s
print("slept", round(time.monotonic() - start, 1) < 1, flush=True)
print("open", sorted(int(fd) for fd in os.listdir("/proc/self/fd") if int(fd) < 512), flush=True)
"""


def test_a_watched_program_finds_no_descriptor_of_mpviz_among_its_own(tmp_path: Path) -> None:
    """The descriptors a program can stumble on (those below mpviz's own, high ones) are those it
    would have plainly.  Before: the run's speed, mapped with ``mmap.mmap``, kept a duplicate
    descriptor at the lowest free number (4) in every watched process."""
    prog = tmp_path / "fds.py"
    prog.write_text(DESCRIPTORS)
    env = {k: v for k, v in os.environ.items() if k != "MPVIZ_LANG"}
    plain = subprocess.run(
        [sys.executable, str(prog)], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=env
    )
    watched = headless(prog, "--speed", "20", stdin=subprocess.DEVNULL, env=env)
    assert watched.returncode == 0, watched.stdout + watched.stderr
    printed = [line.split("prints: ", 1)[1] for line in watched.stdout.splitlines() if "prints: " in line]
    assert "slept True" in printed, "the speed still reaches time.sleep"
    opened = [line for line in printed if line.startswith("open ")]
    # (The listing's own descriptor is in both.)
    assert opened == [line for line in plain.stdout.splitlines() if line.startswith("open ")], (opened, plain.stdout)


LOW_LIMIT = """
import multiprocessing, os
lock = multiprocessing.Lock()
print("open", sorted(int(fd) for fd in os.listdir("/proc/self/fd") if int(fd) < 50), flush=True)
with lock:
    print("held", flush=True)
"""


def test_under_a_low_limit_of_descriptors_mpvizs_own_stay_above_half_of_it(tmp_path: Path) -> None:
    """Under a limit of 100 descriptors, mpviz's connection and (until it is mapped) ring are at
    64 and above: the program finds none of them below half the limit, and is watched as usual."""
    import resource

    prog = tmp_path / "low.py"
    prog.write_text(LOW_LIMIT)
    env = {k: v for k, v in os.environ.items() if k != "MPVIZ_LANG"}

    def low() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (100, 100))

    plain = subprocess.run(
        [sys.executable, str(prog)], capture_output=True, text=True, timeout=60, env=env, preexec_fn=low
    )
    watched = headless(prog, "--record", str(tmp_path / "run.jsonl"), env=env, preexec_fn=low)
    assert watched.returncode == 0, watched.stdout + watched.stderr
    printed = [line.split("prints: ", 1)[1] for line in watched.stdout.splitlines() if "prints: " in line]
    assert printed == plain.stdout.splitlines(), (printed, plain.stdout)
    kinds = [event.kind for event in load(tmp_path / "run.jsonl")[1]]
    assert "lock.acquired" in kinds and "lock.released" in kinds


def test_a_child_whose_parent_ends_while_its_ancestry_is_read_is_of_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lesson's process starts one and leaves while the dashboard reads the new one's ancestry:
    the parent is gone when its own parent is asked for, and the new process has been handed to the
    dashboard (its run's subreaper) meanwhile.  Before: "not of the run", its connection refused."""
    from mpviz.runtime import members

    run = members.Members.__new__(members.Members)
    run.root, run.mark, run._known, run._lock, run._before = 100, None, {}, threading.Lock(), set()
    run._adopted = set()
    run._tell = lambda line: None  # type: ignore[method-assign]
    monkeypatch.setattr(members, "start_time", lambda pid: 5)
    # The first walk: 4242's parent is 300, gone when asked; the second: 4242 is the dashboard's child.
    parents = iter([300, None, 100])
    monkeypatch.setattr(members, "parent", lambda pid: next(parents))
    assert run.admit(4242) is True
    monkeypatch.setattr(members, "parent", lambda pid: {4243: 1}.get(pid))
    assert run.admit(4243) is False, "a process of no run's tree is still refused"
