"""Bad input: one short line on stderr, exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import mpviz

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
    assert done.stderr.endswith("it is a directory\n")


def test_help_and_version() -> None:
    done = mpviz("--help")
    assert done.returncode == 0
    assert "replay" in done.stdout and "list" in done.stdout
    assert mpviz("--version").stdout.startswith("mpviz ")
    ktv = mpviz("run", "ktv", "--help")
    assert "--rooms N" in ktv.stdout and "--groups N" in ktv.stdout and "--headless" in ktv.stdout
