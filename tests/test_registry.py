"""The lesson registry: every lesson is one package whose parts fit together."""

from __future__ import annotations

import inspect

import pytest
from conftest import lesson_pids, load, mpviz, none_alive

from mpviz.lesson import Lesson
from mpviz.registry import NAMES, lesson_class, panel_class
from mpviz.ui.widgets.lesson_panel import LessonPanel


@pytest.mark.parametrize("name", NAMES)
def test_each_lesson_has_its_parts(name: str) -> None:
    cls = lesson_class(name)
    assert issubclass(cls, Lesson) and cls.name == name
    assert cls.__module__ == f"mpviz.lessons.{name}.lesson"
    panel = panel_class(cls)
    assert panel.__module__ == f"mpviz.lessons.{name}.panel"
    assert issubclass(panel, LessonPanel)
    # Every key names a method the lesson has, taking the selected pid if it says so.
    for action in cls.actions:
        method = getattr(cls, action.method, None)
        assert callable(method), f"{name}: key {action.key} calls a missing {action.method}()"
        wanted = 2 if action.selected else 1
        assert len(inspect.signature(method).parameters) >= wanted, f"{name}.{action.method} takes the selected pid"
    for toggle in cls.toggles:
        assert any(p.name == toggle.param for p in cls.params), f"{name}: key {toggle.key} flips a missing option"
    assert cls.quick and cls.busy and cls.samples, f"{name} declares its quick run, busy run and samples"


@pytest.mark.parametrize("name", NAMES)
def test_each_lesson_runs_headless_and_its_invariant_holds(name: str, tmp_path) -> None:
    record = tmp_path / "run.jsonl"
    done = mpviz("run", name, *lesson_class(name).quick, "--headless", "--record", str(record))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert done.stdout.rstrip().endswith("invariant held"), done.stdout[-500:]
    assert "pitfall: " not in done.stdout and "potential deadlock" not in done.stdout, "no false alarm on a lesson"
    _, events = load(record)
    assert none_alive(lesson_pids(events)), "no lesson process outlives the run"


@pytest.mark.parametrize("name", NAMES)
def test_no_lesson_key_hides_a_key_every_screen_has(name: str) -> None:
    """w (the wait-for graph), s (contention), the replay's and the app's keys work in every lesson."""
    from textual.binding import Binding

    from mpviz.ui.app import MpvizApp
    from mpviz.ui.keys import REPLAY_ONLY, common_keys

    # A lesson's keys act on a live run: a replay's keys (space, n, ←) may be the same.
    bindings = [b for b in [*common_keys(), *MpvizApp.BINDINGS] if isinstance(b, Binding)]
    common = {key for b in bindings if b.action.partition("(")[0] not in REPLAY_ONLY for key in b.key.split(",")}
    cls = lesson_class(name)
    keys = [a.key for a in cls.actions] + [t.key for t in cls.toggles]
    assert not set(keys) & common, f"{name}: {sorted(set(keys) & common)} taken by every screen"
    assert len(keys) == len(set(keys)), f"{name}: a key used twice"
