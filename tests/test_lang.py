"""--lang zh: the words shown change, the records do not; wide characters line up."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest
from conftest import load, mpviz

from mpviz import lang
from mpviz.lang import T
from mpviz.lessons.ktv.lesson import Ktv
from mpviz.model import Model, describe
from mpviz.registry import NAMES, lesson_class, panel_class
from mpviz.telemetry import Event


def ev(kind: str, obj: str, **data: object) -> Event:
    return Event(1, 10, kind, obj, dict(data))


def test_every_module_loads_its_words() -> None:
    """A text whose Chinese needs a value its English does not, or a record word given two
    meanings by two lessons, is an error when its module loads: load them all."""
    for name in NAMES:
        panel_class(lesson_class(name))
    importlib.import_module("mpviz.ui.app")


def test_a_text_is_checked_when_it_is_made() -> None:
    with pytest.raises(ValueError, match="needs n"):
        T("many", "{n} 个")
    with pytest.raises(ValueError, match="already"):
        lang.vocabulary({"enters to sing": "别的意思"})
    with pytest.raises(ValueError, match="same placeholders"):
        lang.vocabulary({"ate {item}": "吃了"})


def test_words_follow_the_language_and_the_records_stay_english() -> None:
    sem = ev("sem.wait", "rooms", value=0, of=4)
    assert describe(sem) == "waits for semaphore 'rooms' (value 0/4)"
    lang.use("zh")
    assert describe(sem) == "等待信号量 'rooms' (值 0/4)"
    assert describe(ev("proc.state", "enters to sing")) == "进来唱歌了"
    assert describe(ev("proc.state", "ate {item}", item="bun 3")) == "吃 bun 3"
    assert describe(ev("proc.exit", "x", code=-15, signal="SIGTERM")) == "被 SIGTERM 杀死"
    m = Model()
    m.apply([Event(1, 11, "proc.spawn", "group 2", {"role": "group", "label": "group 2", "ppid": 1})])
    m.apply([Event(2, 11, "proc.state", "enters to sing", {})])
    assert m.procs[11].name == "person 2" and m.procs[11].label == "group 2"
    assert m.procs[11].state == "进来唱歌了" and m.procs[11].said == "enters to sing"
    assert Ktv.heading({"rooms": 1}) == "信号量:1 间迷你 KTV"
    lang.use("en")
    assert Ktv.heading({"rooms": 1}) == "Semaphore: 1 KTV room"
    assert Ktv.heading({"rooms": 4}) == "Semaphore: 4 KTV rooms"


def test_a_keys_words_from_a_table_or_the_key_itself() -> None:
    """One helper for the kinds of primitive and psutil's statuses."""
    table = {"sem": T("semaphore", "信号量")}
    assert lang.words_for("sem", table) == "semaphore" and lang.words_for("tuple", table) == "tuple"
    lang.use("zh")
    assert lang.words_for("sem", table) == "信号量" and lang.words_for("tuple", table) == "tuple"


def test_wide_characters_are_measured_in_cells() -> None:
    assert lang.cells("进来唱歌了") == 10 and lang.cells("group 0") == 7
    assert lang.ljust("主进程", 8) == "主进程  " and lang.rjust("等了", 6) == "  等了"
    lang.use("zh")
    line = Model().line(Event(2_000_000_000, 7, "proc.state", "enters to sing", {}))
    assert line is not None and line.endswith("pid 7          进来唱歌了")


def test_ktv_headless_in_the_tutorials_words_and_its_recording_in_english(tmp_path: Path) -> None:
    record = tmp_path / "ktv.jsonl"
    done = mpviz("run", "ktv", "--headless", "--lang", "zh", "--groups", "2", "--speed", "20", "--record", str(record))
    assert done.returncode == 0, done.stderr
    assert "person 0       进来唱歌了" in done.stdout and "从ktv出去了" in done.stdout
    assert done.stdout.rstrip().endswith("不变式成立")
    _, events = load(record)
    said = {e.obj for e in events if e.kind == "proc.state"}
    assert said == {"enters to sing", "leaves"}, "the records keep the English vocabulary"


@pytest.mark.parametrize(
    "args",
    [
        ("--lang", "zh", "run", "ktv", "--headless"),  # mpviz serve's dashboards: --lang before the command
        ("--lang=zh", "run", "ktv", "--headless"),
        ("run", "ktv", "--headless", "--lang", "zh"),
    ],
)
def test_the_language_before_or_after_the_command(args: tuple[str, ...]) -> None:
    done = mpviz(*args, "--groups", "1", "--speed", "20")
    assert (done.returncode, done.stderr) == (0, "")
    assert "进来唱歌了" in done.stdout


def test_the_environment_chooses_and_the_option_wins() -> None:
    env = {**os.environ, "MPVIZ_LANG": "zh"}
    assert "进来唱歌了" in mpviz("run", "ktv", "--headless", "--groups", "1", "--speed", "20", env=env).stdout
    done = mpviz("run", "ktv", "--headless", "--groups", "1", "--speed", "20", "--lang", "en", env=env)
    assert "enters to sing" in done.stdout and "进来" not in done.stdout
    listed = mpviz("list", env=env).stdout
    assert "Semaphore(4) 同时最多放 4 批人进去唱歌" in listed


@pytest.mark.parametrize(
    ("args", "env", "error"),
    [
        (("--lang", "fr", "list"), {}, "mpviz: error: argument --lang: must be one of en, zh, not 'fr'\n"),
        (("--lang",), {}, "mpviz: error: argument --lang: must be one of en, zh, not ''\n"),
        (("list",), {"MPVIZ_LANG": "de"}, "mpviz: error: MPVIZ_LANG must be one of en, zh, not 'de'\n"),
    ],
)
def test_a_language_mpviz_does_not_speak(args: tuple[str, ...], env: dict[str, str], error: str) -> None:
    done = mpviz(*args, env={**os.environ, **env})
    assert (done.returncode, done.stdout, done.stderr) == (2, "", error)
