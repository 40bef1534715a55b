"""The files mpviz writes (issue 24 items 9 and 10): only what their reader takes back, and ``-o``,
``--record`` and ``--trace-out`` treated as the ticket file is — never one of the run's inputs,
through a symlink, a device or a FIFO written to as it is, the existing mode kept."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import ROOT, mpviz

RECORDING = ROOT / "tests" / "recordings" / "ktv.jsonl"

ODD = """
import multiprocessing as mp, time

def work():
    pass

if __name__ == "__main__":
    for name in ("x" * 100_000, "y" * 3000):
        p = mp.Process(target=work, name=name)
        p.start()
        p.join()
    for bad in (float("inf"), float("nan")):
        try:
            time.sleep(bad)
        except (OverflowError, ValueError):
            pass
    raise SystemExit(3)
"""


def run(prog: Path, *options: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "mpviz", "run", str(prog), "--headless", *options]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=prog.parent)


def test_a_recording_is_read_back_whole(tmp_path: Path) -> None:
    """A caught ``time.sleep(inf)`` and a process named with 100 000 characters.  Before: the
    recording held ``Infinity`` and a line over 64 KiB, stats, export and replay refused it, and
    --trace-out ended the run with exit 2 instead of the program's 3."""
    prog = tmp_path / "odd.py"
    prog.write_text(ODD)
    record, trace = tmp_path / "run.jsonl", tmp_path / "trace.json"
    done = run(prog, "--record", str(record), "--trace-out", str(trace))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "left out of the recording" not in done.stdout
    assert trace.stat().st_size > 0
    stats = mpviz("stats", str(record), timeout=60)
    assert stats.returncode == 0 and stats.stderr == "", stats.stderr
    assert "yyyyyyyyyy" in stats.stdout, "the long names, cut, still name their processes"


def private_device(tmp_path: Path, name: str, minor: int, system: str) -> Path:
    """A character device of the test's own (``/dev/null`` is 1,3, ``/dev/full`` 1,7) where this
    user may make one; else the system's, which no output of mpviz's replaces any more."""
    node = tmp_path / name
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, minor))
        os.close(os.open(node, os.O_WRONLY))
    except OSError:
        return Path(system)
    return node


def test_a_trace_that_cannot_be_written_keeps_the_programs_exit_code(tmp_path: Path) -> None:
    prog = tmp_path / "three.py"
    prog.write_text("raise SystemExit(3)\n")
    full = private_device(tmp_path, "full", 7, "/dev/full")
    done = run(prog, "--trace-out", str(full))
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stderr == f"mpviz: error: the trace: cannot write {full}: No space left on device\n"
    assert stat.S_ISCHR(full.stat().st_mode), "still the device it was"


def test_an_output_that_is_an_input_is_refused(tmp_path: Path) -> None:
    """Before: the recording silently replaced by the trace, the input of export destroyed."""
    recording = tmp_path / "in.jsonl"
    recording.write_bytes(RECORDING.read_bytes())
    link = tmp_path / "link.jsonl"
    link.symlink_to(recording.name)
    for out in (recording, link):
        done = mpviz("export", str(recording), "-o", str(out), timeout=60)
        assert (done.returncode, done.stderr) == (2, f"mpviz: error: -o names the recording it reads: {out}\n")
    assert recording.read_bytes() == RECORDING.read_bytes()

    prog = tmp_path / "prog.py"
    prog.write_text("print('hi')\n")
    same = tmp_path / "same.jsonl"
    cases = [
        (["--record", str(same), "--trace-out", str(same)], f"--record and --trace-out name the same file: {same}"),
        (["--trace-out", str(prog)], f"the program and --trace-out name the same file: {prog}"),
        (["--record", str(prog)], f"the program and --record name the same file: {prog}"),
    ]
    for options, message in cases:
        done = run(prog, *options)
        assert (done.returncode, done.stderr) == (2, f"mpviz: error: {message}\n"), options
    assert prog.read_text() == "print('hi')\n" and not same.exists()


def test_export_through_a_symlink_keeps_the_link_and_the_mode(tmp_path: Path) -> None:
    """Before: the link and the file replaced by a new file of mode 0600."""
    target = tmp_path / "trace.json"
    target.write_text("old")
    target.chmod(0o644)
    link = tmp_path / "link.json"
    link.symlink_to(target.name)
    done = mpviz("export", str(RECORDING), "-o", str(link), timeout=60)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and os.readlink(link) == target.name
    assert target.read_text().startswith("{") and stat.S_IMODE(target.stat().st_mode) == 0o644
    fresh = tmp_path / "fresh.json"
    assert mpviz("export", str(RECORDING), "-o", str(fresh), timeout=60).returncode == 0
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask, "a new file as any program makes one"


def test_export_to_a_device_writes_to_it(tmp_path: Path) -> None:
    """Before (as root): ``-o /dev/null`` replaced the device node with a regular file."""
    null = private_device(tmp_path, "null", 3, "/dev/null")
    done = mpviz("export", str(RECORDING), "-o", str(null), timeout=60)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISCHR(null.stat().st_mode)


def test_export_to_a_fifo_writes_to_its_reader(tmp_path: Path) -> None:
    """Before: the FIFO was replaced by a regular file."""
    fifo = tmp_path / "trace.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    done = mpviz("export", str(RECORDING), "-o", str(fifo), timeout=60)
    reader.join(60)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode) and got and got[0].startswith(b"{")


def test_export_to_a_fifo_nobody_reads_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "trace.fifo"
    os.mkfifo(fifo)
    done = mpviz("export", str(RECORDING), "-o", str(fifo), timeout=60)
    assert (done.returncode, done.stderr) == (2, f"mpviz: error: cannot write {fifo}: No such device or address\n")
    assert stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.parametrize("kind", ["trace-out"])
def test_a_recording_or_a_trace_into_a_fifo_nobody_reads(tmp_path: Path, kind: str) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    prog = tmp_path / "prog.py"
    prog.write_text("print('hi')\n")
    done = run(prog, f"--{kind}", str(fifo))
    assert stat.S_ISFIFO(fifo.stat().st_mode), "never replaced"
    assert "No such device or address" in done.stderr or "no one reads it" in done.stderr, done.stderr
