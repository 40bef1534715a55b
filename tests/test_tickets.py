"""tickets and printlock on real processes and a real file."""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import time
from pathlib import Path

import pytest
from conftest import load, mpviz, none_alive, wait_for

from mpviz.lessons.tickets.workers import read_count, write_count
from mpviz.model import Model, Phase
from mpviz.runtime import Supervisor


def run(tmp_path: Path, *args: str) -> tuple[int, str, list]:
    record = tmp_path / "run.jsonl"
    done = mpviz("run", *args, "--headless", "--record", str(record))
    assert done.stderr == ""
    _, events = load(record)
    assert none_alive({e.pid for e in events if e.kind == "proc.spawn"})
    return done.returncode, done.stdout, sorted(events, key=lambda e: e.t_ns)


def said(events: list, words: str) -> list:
    return [e for e in events if e.kind == "proc.state" and e.obj == words]


def test_with_the_lock_fifty_buyers_never_oversell(tmp_path: Path) -> None:
    db = tmp_path / "ticket"
    code, out, events = run(tmp_path, "tickets", "--db", str(db), "--stock", "20", "--buyers", "50", "--speed", "20")
    assert code == 0, out
    left = json.loads(db.read_text())["count"]
    sold = len(said(events, "bought a ticket"))
    assert (sold, left) == (20, 0)
    buyers = {e.pid for e in events if e.kind == "proc.spawn" and e.data["role"] == "buyer"}
    ended = {e.pid for e in said(events, "bought a ticket") + said(events, "sold out")}
    assert len(buyers) == 50 and ended == buyers, "every buyer ends bought or sold out"
    # One holder at a time, from the records alone.
    holders = 0
    for e in events:
        holders += {"lock.acquired": 1, "lock.released": -1}.get(e.kind, 0)
        assert holders <= 1
    assert "20 sold, 0 left in the file, 20 in stock: sold + left == stock, invariant held" in out
    assert not list(tmp_path.glob(".ticket.*.tmp")), "no stray temp files"
    # Main started its buyers: then it only watches the file for the dashboard, idle, not running.
    main = next(e.pid for e in events if e.kind == "proc.start" and e.obj == "main")
    idle = [e.t_ns for e in events if e.kind == "proc.idle" and e.pid == main]
    assert len(idle) == 1 and idle[0] >= max(e.t_ns for e in events if e.kind == "proc.spawn")


def test_without_the_lock_tickets_oversell_and_mpviz_says_so(tmp_path: Path) -> None:
    # A one-second read delay: every buyer reads before any writes, not by luck.
    db = tmp_path / "ticket"
    code, out, events = run(
        tmp_path, "tickets", "--db", str(db), "--no-lock", "--read-delay", "1", "--write-delay", "0"
    )
    assert code == 1
    sold = len(said(events, "bought a ticket"))
    assert sold == 5 and json.loads(db.read_text())["count"] == 2, "five sold from three; the file says two left"
    assert not any(e.kind.startswith("lock.") for e in events)
    assert "oversold: 5 tickets sold of 3 in stock; read–write windows overlapped: " in out
    for n in range(5):
        assert f"buyer {n}" in out.splitlines()[-1]


def test_an_existing_file_keeps_its_count(tmp_path: Path) -> None:
    db = tmp_path / "ticket"
    db.write_text('{"count": 2}')
    code, out, _ = run(tmp_path, "tickets", "--db", str(db), "--buyers", "3", "--speed", "20")
    assert code == 0
    assert "2 sold, 0 left in the file, 2 in stock" in out


def test_a_symlinked_file_is_written_through(tmp_path: Path) -> None:
    """The link stays a link; its target is the ticket file."""
    target = tmp_path / "target.json"
    target.write_text('{"count": 3}\n')
    link = tmp_path / "link.json"
    link.symlink_to(target.name)
    code, out, _ = run(tmp_path, "tickets", "--db", str(link), "--buyers", "5", "--speed", "20")
    assert code == 0, out
    assert os.readlink(link) == target.name
    assert target.read_text() == '{"count": 0}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "run.jsonl", "target.json"], "no stray temp file"


def test_only_the_count_changes(tmp_path: Path) -> None:
    """Other keys, their order, the indentation and the words stay as they were."""
    db = tmp_path / "ticket.json"
    before = '{\n    "owner": "Ålice",\n    "count" :  3,\n    "history": [{"count": 9}, "\\"count\\": 1"]\n}\n'
    db.write_text(before, encoding="utf-8")
    code, out, _ = run(tmp_path, "tickets", "--db", str(db), "--buyers", "2", "--speed", "20")
    assert code == 0, out
    assert db.read_text(encoding="utf-8") == before.replace('"count" :  3', '"count" :  1')


BAD_FILES = [
    ('{"count": ', "is not valid JSON"),
    ("[1, 2]", 'must hold a JSON object like {"count": 3}'),
    ('{"count": "three"}', 'must hold a JSON object like {"count": 3}'),
    ('{"count": -1}', 'must hold a JSON object like {"count": 3}'),
    (b"\xff\xfe\x00", "is not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, "is nested too deeply: not a ticket file"),
    ('{"count": 5, "pad": "' + "x" * (1 << 21) + '"}', "is over 1 MiB: not a ticket file"),
]


@pytest.mark.parametrize(
    ("content", "message"), BAD_FILES, ids=["truncated", "array", "string", "negative", "binary", "nested", "big"]
)
def test_a_bad_ticket_file_is_refused_and_left_untouched(tmp_path: Path, content: str | bytes, message: str) -> None:
    db = tmp_path / "ticket"
    data = content.encode() if isinstance(content, str) else content
    db.write_bytes(data)
    os.chmod(db, 0o640)
    before = db.stat()
    done = mpviz("run", "tickets", "--headless", "--db", str(db))
    assert done.returncode == 2
    assert done.stderr == f"mpviz: error: {db} {message}\n"
    assert (
        db.read_bytes() == data and db.stat().st_mode == before.st_mode and db.stat().st_mtime_ns == before.st_mtime_ns
    )
    assert list(tmp_path.iterdir()) == [db]


def test_an_unreadable_or_unwritable_path_is_refused(tmp_path: Path) -> None:
    done = mpviz("run", "tickets", "--headless", "--db", str(tmp_path))
    assert (done.returncode, done.stderr) == (2, f"mpviz: error: cannot read {tmp_path}: Is a directory\n")
    missing = tmp_path / "no" / "ticket"
    done = mpviz("run", "tickets", "--headless", "--db", str(missing))
    assert (done.returncode, done.stderr) == (2, f"mpviz: error: cannot create {missing}: No such file or directory\n")


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
def test_not_a_regular_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    """A FIFO would block the read for ever; /dev/zero never ends."""
    db = Path(kind)
    if kind == "fifo":
        db = tmp_path / "fifo"
        os.mkfifo(db)
    done = mpviz("run", "tickets", "--headless", "--db", str(db), timeout=60)
    assert (done.returncode, done.stderr) == (2, f"mpviz: error: {db} is not a regular file\n")


def test_a_read_only_file_or_folder_is_refused(tmp_path: Path, as_a_user: dict) -> None:
    """Refused up front, untouched, rather than rewritten (a read-only file) or a buyer
    dying on its temp file while it holds the lock (a read-only folder)."""
    read_only = tmp_path / "read-only.json"
    read_only.write_text('{"count": 3}')
    read_only.chmod(0o444)
    done = mpviz("run", "tickets", "--headless", "--db", str(read_only), timeout=60, **as_a_user)
    assert (done.returncode, done.stderr) == (2, f"mpviz: error: cannot write {read_only}: Permission denied\n")
    assert read_only.read_text() == '{"count": 3}'

    folder = tmp_path / "folder"
    folder.mkdir()
    inside = folder / "ticket.json"
    inside.write_text('{"count": 3}')
    folder.chmod(0o555)
    try:
        done = mpviz("run", "tickets", "--headless", "--db", str(inside), timeout=60, **as_a_user)
        assert (done.returncode, done.stderr) == (
            2,
            f"mpviz: error: cannot write {inside}: {folder} takes no temp file (Permission denied)\n",
        )
        new = folder / "new.json"
        done = mpviz("run", "tickets", "--headless", "--db", str(new), timeout=60, **as_a_user)
        assert (done.returncode, done.stderr) == (2, f"mpviz: error: cannot create {new}: Permission denied\n")
        assert [p.name for p in folder.iterdir()] == ["ticket.json"] and inside.read_text() == '{"count": 3}'
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize("exists", [True, False], ids=["existing", "new"])
def test_the_ticket_file_is_never_the_recording(tmp_path: Path, exists: bool) -> None:
    """The same file for --db and --record (by any name) is refused, and nothing is created."""
    db = tmp_path / "tickets.json"
    if exists:
        db.write_text('{"count": 3}')
    link = tmp_path / "link.json"
    link.symlink_to(db.name)
    for record in (str(db), f"{tmp_path}/./tickets.json", str(link)):
        done = mpviz("run", "tickets", "--headless", "--db", str(db), "--record", record)
        assert (done.returncode, done.stderr) == (
            2,
            f"mpviz: error: --db and --record name the same file: {Path(record)}\n",
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == (["link.json", "tickets.json"] if exists else ["link.json"])
    assert not exists or db.read_text() == '{"count": 3}'


def test_a_headless_run_ends_when_main_fails(tmp_path: Path) -> None:
    """Main cannot start its buyers (too few file descriptors): the run ends with the error,
    exit 1, and no process left.  It used to wait for the lesson to finish, for ever."""

    def few_descriptors() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (60, 60))

    record = tmp_path / "run.jsonl"
    done = mpviz(
        "run", "tickets", "--headless", "--buyers", "100", "--speed", "50", "--record", str(record),
        timeout=120, preexec_fn=few_descriptors,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-2000:]
    assert done.stderr == ""
    assert done.stdout.splitlines()[-1].endswith("stopped: main failed: OSError: [Errno 24] Too many open files")
    _, events = load(record)
    assert none_alive({e.pid for e in events if e.kind == "proc.spawn"})


def test_the_file_is_valid_json_whenever_a_writer_is_killed(tmp_path: Path) -> None:
    db = str(tmp_path / "ticket")
    write_count(db, 3)
    os.chmod(db, 0o640)
    from helpers.workers import rewrite_forever

    sup = Supervisor(sample_every=None)
    rng = random.Random(1)
    try:
        for _ in range(40):
            write_count(db, 5000)  # the writer only writes counts below 1000
            pid = sup.start(rewrite_forever, (db,), role="writer", label="writer")
            wait_for(lambda: read_count(db) < 1000, 30, what="the writer to be writing")
            time.sleep(rng.uniform(0, 0.02))
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda pid=pid: not sup.alive(pid), 30, what="the writer to die")
            assert 0 <= read_count(db) < 1000  # whole, valid JSON, every time
            assert os.stat(db).st_mode & 0o777 == 0o640
    finally:
        sup.close()


def test_printlock_lock_and_join_make_it_serial(tmp_path: Path) -> None:
    code, out, events = run(tmp_path, "printlock", "--speed", "4", "--seed", "1")
    assert code == 1, "the round without a lock interleaves: the broken outcome, named"
    labels = {e.pid: e.data["label"] for e in events if e.kind == "proc.spawn"}
    running: dict[str, int] = {}
    most: dict[str, int] = {}
    for e in events:
        if e.kind == "proc.state" and e.obj in ("is running", "is done"):
            mode = labels[e.pid].split()[0]
            running[mode] = running.get(mode, 0) + (1 if e.obj == "is running" else -1)
            most[mode] = max(most.get(mode, 0), running[mode])
    assert most["lock"] == 1 and most["join"] == 1
    assert most["none"] > 1, "started together, the workers overlap"
    # With the lock, "running" and "done" come in pairs from the same worker.
    lines = [(e.pid, e.obj) for e in events if e.kind == "proc.state" and labels[e.pid].startswith("lock")]
    assert all(
        a[0] == b[0] and (a[1], b[1]) == ("is running", "is done") for a, b in zip(lines[::2], lines[1::2], strict=True)
    )
    assert all(e.data.get("code") == 0 for e in events if e.kind == "proc.exit"), "every exit code is known"
    last = out.splitlines()[-1]
    assert "without a lock the lines interleave" in last and "should be serial" not in last
    # Main joins the workers one after the other, as the tutorial's does: meanwhile it is shown
    # waiting for that worker to end, not running, and each join ends only once its worker exited.
    main = next(e.pid for e in events if e.kind == "proc.start" and e.obj == "main")
    joins = [e for e in events if e.pid == main and e.kind in ("proc.join", "proc.joined")]
    assert joins and [e.kind for e in joins] == ["proc.join", "proc.joined"] * (len(joins) // 2)
    # (Those that ended while main joined another are not joined: their join would not wait.)
    joined = {labels[e.data["child"]] for e in joins}
    assert {"join 0", "join 1", "join 2"} <= joined and joined & {"none 0", "none 1", "none 2"}
    exits = {e.pid: e.t_ns for e in events if e.kind == "proc.exit"}
    for join, joined in zip(joins[::2], joins[1::2], strict=True):
        child = join.data["child"]
        assert joined.data == {"child": child, "ended": True} and exits[child] <= joined.t_ns
        model = Model()
        model.apply(e for e in events if e.t_ns <= (join.t_ns + joined.t_ns) // 2)
        shown = model.procs[main]
        assert shown.phase is Phase.BLOCKED and shown.state == f"waiting for {labels[child]} to end (join)"
