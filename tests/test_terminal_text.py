"""What a program or a file supplies never drives the terminal (issue 24 item 8): escape sequences in a
process's name, a printed line, a queue item or a recording's program name are shown with their
control characters made visible, in the dashboard, headless, ``mpviz stats`` and ``mpviz replay``;
the printed pane and a headless run on a terminal keep colour codes, and nothing else.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from conftest import mpviz, wait_for
from helpers.terminal import Terminal, mpviz_argv

from mpviz.shown import visible

# What a hostile program could make a terminal do: wipe the screen, set the window's title, write
# the clipboard (OSC 52), ring the bell.
WIPE, TITLE, CLIP, BELL = "\x1b[2J", "\x1b]0;pwned\x07", "\x1b]52;c;ZXZpbA==\x07", "\x07"
RED, RESET = "\x1b[31m", "\x1b[0m"

PROGRAM = f"""
import multiprocessing as mp, time

def child(q):
    q.put({WIPE + "item" + CLIP!r})
    print({TITLE + "hello" + BELL + RED + "red" + RESET!r}, flush=True)

if __name__ == "__main__":
    q = mp.Queue()
    p = mp.Process(target=child, args=(q,), name={TITLE + "worker"!r})
    p.start()
    print("got", repr(q.get())[:8], flush=True)
    p.join()
    time.sleep({{linger}})
"""

HOSTILE = [b"\x1b[2J", b"\x1b]0;pwned", b"\x1b]52;", b"hello\x07"]


def write_program(tmp_path: Path, linger: float = 0) -> Path:
    prog = tmp_path / "hostile.py"
    prog.write_text(PROGRAM.replace("{linger}", str(linger)))
    return prog


def test_visible() -> None:
    assert visible("plain text, 中文") == "plain text, 中文"
    assert visible(WIPE + "x" + BELL) == "\\x1b[2Jx\\x07"
    assert visible("a\tb\nc\x7f\x9b") == "a\\x09b\\x0ac\\x7f\\x9b"
    assert visible("\u202eevil\u2028") == "\\u202eevil\\u2028", "reordering and line breaking characters"
    assert visible("a\u00a0b\u200dc") == "a\u00a0b\u200dc", "not printable, but harmless"
    assert visible(RED + "red" + RESET + WIPE, colours=True) == RED + "red" + RESET + "\\x1b[2J"


def test_headless_into_a_file_writes_no_control_character(tmp_path: Path) -> None:
    """Before: the process's name, the item and the printed line went out as they were."""
    prog = write_program(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "mpviz", "run", str(prog), "--headless"], capture_output=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout.decode()
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;pwned\\x07worker" in out, "the name, made visible"
    assert "put '\\x1b[2Jitem\\x1b]52;c;ZXZpbA==\\x07' into queue 'q'" in out
    assert "prints: \\x1b]0;pwned\\x07hello\\x07red" in out, "colour codes left out in a file"


def headless_on_a_terminal(prog: Path) -> bytes:
    terminal = Terminal(argv=mpviz_argv("run", str(prog), "--headless"))
    try:
        terminal.proc.wait(120)
        time.sleep(0.2)  # the reader thread takes the last bytes from the terminal
        return bytes(terminal.output)
    finally:
        terminal.close()


def test_headless_on_a_terminal_keeps_colours_only(tmp_path: Path) -> None:
    output = headless_on_a_terminal(write_program(tmp_path))
    assert b"prints: \\x1b]0;pwned\\x07hello\\x07" + RED.encode() + b"red" + RESET.encode() in output
    for sequence in HOSTILE:
        assert sequence not in output, sequence


def test_the_dashboard_shows_a_hostile_program_harmlessly(tmp_path: Path) -> None:
    """The process table, the events, the selected process and the printed pane draw the name, the
    item and the line; the terminal gets none of their sequences.  Before: it got them all."""
    prog = write_program(tmp_path, linger=600)
    terminal = Terminal(str(prog), size=(160, 48))
    try:
        wait_for(lambda: b"pwned" in terminal.output and b"hello" in terminal.output, 120, what="the program")
        terminal.type(b"\x1b[B")  # the cursor moves: the selected process is drawn too
        wait_for(lambda: terminal.output.count(b"pwned") >= 10, 60, what="the name drawn, again and again")
        output = bytes(terminal.output)
    finally:
        terminal.close()
    for sequence in HOSTILE:
        assert sequence not in output, sequence
    assert b"\\x1b]0;pwned" in output


def hostile_recording(tmp_path: Path) -> Path:
    """A recording whose program name and records hold escape sequences."""
    path = tmp_path / "hostile.jsonl"
    lines = [
        {"mpviz": 1, "program": "\x1b]0;pwned\x07.py", "argv": ["\x1b]0;pwned\x07.py"]},
        [1_000, 10, "proc.spawn", "main", {"role": "main", "label": "\x1b]52;c;ZXZpbA==\x07main"}],
        [2_000, 10, "prim.new", "10.1", {"kind": "lock", "name": "\x1b[2Jlock", "site": "x.py:1"}],
        [3_000, 10, "lock.acquired", "10.1", {}],
        [4_000, 10, "proc.output", "", {"stream": "out", "text": "hello\x07"}],
        [5_000, 10, "proc.exit", "main", {"code": 0}],
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_stats_of_a_hostile_recording(tmp_path: Path) -> None:
    path = hostile_recording(tmp_path)
    for args in ([], ["--json"]):
        done = mpviz("stats", str(path), *args, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "\\x1b[2Jlock" in mpviz("stats", str(path), timeout=60).stdout


def test_replay_of_a_hostile_recording(tmp_path: Path) -> None:
    terminal = Terminal("replay", str(hostile_recording(tmp_path)), size=(160, 48))
    try:
        wait_for(lambda: b"pwned" in terminal.output and b"2Jlock" in terminal.output, 60, what="the replay")
        output = bytes(terminal.output)
    finally:
        terminal.close()
    for sequence in HOSTILE:
        assert sequence not in output, sequence
    assert b"\\x1b]0;pwned\\x07.py" in output, "the program's name in the title, made visible"
