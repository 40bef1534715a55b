"""Bad input: one short line on stderr, exit code 2, never a traceback."""

from __future__ import annotations

import os
import select
import threading
from pathlib import Path

import pytest
from conftest import load, mpviz

BAD = [
    (["run", "nosuch"], "no lesson or file 'nosuch'"),
    (["nosuch"], "no lesson or file 'nosuch'"),
    (["run", "ktv", "--groups", "-1"], "argument --groups: must be at least 0, not -1"),
    (["run", "ktv", "--groups", "2.5"], "argument --groups: must be a whole number, not '2.5'"),
    (["run", "ktv", "--rooms", "0"], "argument --rooms: must be at least 1, not 0"),
    (["run", "ktv", "--speed", "0"], "argument --speed: must be more than 0, not 0"),
    (["run", "ktv", "--speed", "-3"], "argument --speed: must be more than 0, not -3"),
    (["run", "ktv", "--speed", "nan"], "argument --speed: must be a number, not 'nan'"),
    (["run", "ktv", "--speed", "1e999"], "argument --speed: must be a finite number, not '1e999'"),
    (["run", "ktv", "--duration", "1e300"], "argument --duration: must be at most 10000000, not 1e300"),
    (["run", "ktv", "--speed", "fast"], "argument --speed: must be a number, not 'fast'"),
    (["run", "ktv", "--duration", "abc"], "argument --duration: must be a number of seconds, not 'abc'"),
    (["run", "ktv", "--duration", "0"], "argument --duration: must be more than 0, not 0"),
    (["run", "ktv", "--seed", "x"], "argument --seed: must be a whole number, not 'x'"),
    (["run", "ktv", "--seed", "-1"], "argument --seed: must be at least 0, not -1"),
    # Plain ASCII decimals only, for the run's own options as for a lesson's.
    (["run", "ktv", "--speed", "5_0"], "argument --speed: must be a number, not '5_0'"),
    (["run", "ktv", "--duration", " 3 "], "argument --duration: must be a number of seconds, not ' 3 '"),
    (["run", "ktv", "--seed", "١٢"], "argument --seed: must be a whole number, not '١٢'"),
    (["serve", "--port", "5_0"], "argument --port: must be a whole number, not '5_0'"),
    (["serve", "--max-visitors", " 3 "], "argument --max-visitors: must be a whole number, not ' 3 '"),
    (["run", "ktv", "--start-method", "thread"], "argument --start-method: invalid choice: 'thread'"),
    (["run", "traffic", "--cars", "1e9"], "argument --cars: must be a whole number, not '1e9'"),
    (["run", "traffic", "--light", "0"], "argument --light: must be at least 0.1, not 0"),
    (["run", "prodcons", "--naive=yes"], "argument --naive: ignored explicit argument 'yes'"),
    (["run", "prodcons", "--items", "2000000"], "argument --items: must be at most 1000000, not 2000000"),
    (["ktv", "--nosuch"], "unrecognized arguments: --nosuch"),
    (["run"], "the following arguments are required: LESSON"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    done = mpviz(*args, "--headless" if args[:1] == ["run"] and len(args) > 1 else "--version")
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("mpviz: error: ")
    assert message in lines[0]
    assert "Traceback" not in done.stderr


def test_record_into_a_missing_directory(tmp_path: Path) -> None:
    done = mpviz("run", "ktv", "--headless", "--record", str(tmp_path / "no" / "such" / "dir.jsonl"))
    assert done.returncode == 2
    assert (
        done.stderr
        == f"mpviz: error: cannot write {tmp_path / 'no' / 'such' / 'dir.jsonl'}: No such file or directory\n"
    )


def test_record_onto_a_directory(tmp_path: Path) -> None:
    done = mpviz("run", "ktv", "--headless", "--record", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.endswith(": Is a directory\n")  # the system's own words, as when reading


def test_record_where_the_user_cannot_write(tmp_path: Path, as_a_user: dict) -> None:
    """A folder the user cannot enter, or cannot write: one line, no traceback, nothing created."""
    closed, read_only = tmp_path / "closed", tmp_path / "read-only"
    closed.mkdir(mode=0o000)
    read_only.mkdir(mode=0o555)
    try:
        for folder in (closed, read_only):
            record = folder / "run.jsonl"
            done = mpviz("run", "ktv", "--headless", "--record", str(record), **as_a_user)
            assert (done.returncode, done.stderr) == (2, f"mpviz: error: cannot write {record}: Permission denied\n")
            assert not record.exists()
    finally:
        closed.chmod(0o755)
        read_only.chmod(0o755)


def test_a_refused_run_creates_nothing(tmp_path: Path) -> None:
    """Not the recording, not the ticket file: everything is checked before anything is made."""
    record, db = tmp_path / "leftover.jsonl", tmp_path / "new.json"
    done = mpviz("run", "tickets", "--headless", "--db", "/proc/version", "--record", str(record))
    assert (done.returncode, done.stderr) == (2, "mpviz: error: /proc/version is not valid JSON\n")
    done = mpviz("run", "chat", "--headless", "--host", "256.1.1.1", "--record", str(record))
    assert done.returncode == 2
    done = mpviz("run", "tickets", "--headless", "--db", str(db), "--record", str(tmp_path / "no" / "run.jsonl"))
    assert done.returncode == 2
    assert list(tmp_path.iterdir()) == []


def test_record_to_a_fifo(tmp_path: Path) -> None:
    """With a reader, the recording flows through the FIFO, opened once; with none, it is refused at once."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    done = mpviz("run", "ktv", "--headless", "--groups", "1", "--record", str(fifo), timeout=60)
    assert (done.returncode, done.stderr) == (2, f"mpviz: error: cannot write {fifo}: no one reads it\n")

    # A reader from now on, before mpviz starts (O_NONBLOCK: the open does not wait for a writer).
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    data = bytearray()

    def read() -> None:
        # Until the writer's end: on Linux, a FIFO no writer has opened yet is not readable.
        while select.select([fd], [], [], 60)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            data.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        done = mpviz("run", "ktv", "--headless", "--groups", "2", "--speed", "20", "--record", str(fifo))
        reader.join(60)
    finally:
        os.close(fd)
    assert done.returncode == 0, done.stderr
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(data)
    header, events = load(copy)
    assert header["lesson"] == "ktv"
    assert sum(e.kind == "proc.exit" for e in events) == 2, "every record, to the last"


def test_duration_only_headless() -> None:
    """The dashboard runs until it is quit: --duration there is refused, not ignored."""
    message = "mpviz: error: --duration only with --headless: the dashboard runs until you quit it\n"
    for args in (["run", "traffic"], ["traffic"], ["run", "tests/programs/pool_map.py"]):
        done = mpviz(*args, "--duration", "2", timeout=60)
        assert (done.returncode, done.stderr) == (2, message)


def test_help_and_version() -> None:
    done = mpviz("--help")
    assert done.returncode == 0
    assert "replay" in done.stdout and "list" in done.stdout
    assert mpviz("--version").stdout.startswith("mpviz ")
    ktv = mpviz("run", "ktv", "--help")
    assert "--rooms N" in ktv.stdout and "--groups N" in ktv.stdout and "--headless" in ktv.stdout
