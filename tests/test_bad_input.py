"""A table of bad inputs: every option of every lesson with a wrong type and out of range,
files that are missing, unreadable or malformed, a port in use, no terminal, a terminal too small.
Each answered with one clear line and exit code 2, never a traceback."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
from conftest import ROOT, mpviz, wait_for
from helpers.terminal import Terminal

from mpviz.lesson import Param
from mpviz.registry import lessons


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def wrong_values(param: Param) -> list[tuple[str, str]]:
    """(value, expected message) pairs that must be refused for one option."""
    if isinstance(param.default, bool):
        return [("=yes", f"argument {param.flag}: ignored explicit argument 'yes'")]
    if param.choices:
        return [("nosuch", f"argument {param.flag}: must be one of {', '.join(param.choices)}, not 'nosuch'")]
    if isinstance(param.default, str):
        return []  # any text is a path or a name: checked by its own lesson (below)
    noun = "a whole number" if isinstance(param.default, int) else "a number"
    # Plain ASCII decimals only: int() and float() would take the last three.
    cases = [(v, f"must be {noun}, not {v!r}") for v in ("abc", "", "5_0", " 3 ", "١٢")]
    if isinstance(param.default, int):
        cases.append(("1.5", "must be a whole number, not '1.5'"))
    else:
        cases += [("nan", "must be a number, not 'nan'"), ("1e999", "must be a finite number, not '1e999'")]
    if param.low is not None:
        below = param.low - 1
        cases.append((_num(below), f"must be at least {_num(param.low)}, not {_num(below)}"))
    if param.high is not None:
        above = param.high * 10 + 1
        cases.append((_num(above), f"must be at most {_num(param.high)}, not {_num(above)}"))
    return [(v, m if m.startswith("argument") else f"argument {param.flag}: {m}") for v, m in cases]


CASES = [
    (cls.name, param.flag, value, message)
    for cls in lessons()
    for param in cls.params
    for value, message in wrong_values(param)
]


@pytest.mark.parametrize(("lesson", "flag", "value", "message"), CASES, ids=[f"{c[0]} {c[1]}{c[2]}" for c in CASES])
def test_every_option_refuses_wrong_types_and_ranges(lesson: str, flag: str, value: str, message: str) -> None:
    args = [flag + value] if value.startswith("=") else [flag, value]
    done = mpviz("run", lesson, "--headless", *args, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("mpviz: error: ") and done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr


def test_the_table_covers_every_lesson_and_option() -> None:
    covered = {(c[0], c[1]) for c in CASES}
    for cls in lessons():
        for param in cls.params:
            if not isinstance(param.default, str) or param.choices:
                assert (cls.name, param.flag) in covered


FILES = [
    (["run", "tickets", "--db", "/proc/version"], "mpviz: error: /proc/version is not valid JSON\n"),
    (["run", "tickets", "--db", "/"], "mpviz: error: cannot read /: Is a directory\n"),
    (["run", "tickets", "--db", "/proc/version/x"], "mpviz: error: cannot create /proc/version/x: Not a directory\n"),
    (
        ["run", "ktv", "--record", "/proc/no/such.jsonl"],
        "mpviz: error: cannot write /proc/no/such.jsonl: No such file or directory\n",
    ),
    (
        ["run", "ktv", "--record", "/dev/full", "--groups", "1"],
        "mpviz: error: cannot write /dev/full: No space left on device\n",
    ),
    (["replay", "/no/such.jsonl"], "mpviz: error: cannot replay /no/such.jsonl: No such file or directory\n"),
    (["replay", "/"], "mpviz: error: cannot replay /: Is a directory\n"),
    (
        ["replay", "/proc/version"],
        "mpviz: error: cannot replay /proc/version: line 1 is not JSON: not an mpviz recording\n",
    ),
    (
        ["run", "chat", "--host", "256.1.1.1"],
        "mpviz: error: --host '256.1.1.1' is not an address this machine can listen on\n",
    ),
    (
        ["run", "chat", "--host", "192.0.2.1"],  # an address of no machine here (TEST-NET-1)
        "mpviz: error: --host '192.0.2.1' cannot be used (Cannot assign requested address)\n",
    ),
    (
        ["run", "chat", "--host", "8.8.8.8", "--port", "7"],
        "mpviz: error: port 7 on 8.8.8.8 cannot be used (Cannot assign requested address)\n",
    ),
]


@pytest.mark.parametrize(("args", "expected"), FILES, ids=[" ".join(a) for a, _ in FILES])
def test_files_and_addresses(args: list[str], expected: str) -> None:
    if args[0] == "run":
        args = [*args, "--headless"]
    done = mpviz(*args, timeout=60)
    assert (done.returncode, done.stderr) == (2, expected)


def test_a_port_in_use() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = mpviz("run", "chat", "--headless", "--port", str(port))
    assert (done.returncode, done.stderr) == (2, f"mpviz: error: port {port} on 127.0.0.1 is in use\n")


def test_the_dashboard_without_a_terminal() -> None:
    done = mpviz("ktv", stdin=open("/dev/null"))  # noqa: SIM115 - closed with the process
    assert (done.returncode, done.stderr) == (
        2,
        "mpviz: error: the dashboard needs a terminal; for plain output use: mpviz run LESSON --headless\n",
    )


def test_a_terminal_too_small() -> None:
    term = Terminal("ktv", size=(40, 10))
    try:
        assert term.proc.wait(60) == 2
        wait_for(lambda: b"\n" in term.output, 10, what="the message")
        assert b"mpviz: error: the terminal is 40\xc3\x9710; the dashboard needs at least 60\xc3\x9718" in term.output
        assert b"Traceback" not in term.output
    finally:
        term.close()


def test_a_host_not_on_this_machine_in_the_dashboard() -> None:
    term = Terminal("run", "chat", "--host", "192.0.2.1")
    try:
        assert term.proc.wait(60) == 2
        wait_for(lambda: b"\n" in term.output, 10, what="the message")
        assert b"mpviz: error: --host '192.0.2.1' cannot be used (Cannot assign requested address)" in term.output
        assert b"Traceback" not in term.output
    finally:
        term.close()


def test_no_traceback_for_a_closed_stdout(tmp_path: Path) -> None:
    """``mpviz run ... | head -1``: the reader goes away; mpviz stops quietly."""
    import subprocess

    pipeline = subprocess.run(
        f"{sys.executable} -m mpviz run ktv --headless --speed 20 | head -1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert pipeline.stdout.count("\n") == 1
    assert "Traceback" not in pipeline.stderr and "Error" not in pipeline.stderr
