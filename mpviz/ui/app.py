"""The dashboard app, built by a factory the tests call with a replay and a frozen clock."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import replace
from functools import partial
from typing import Any, ClassVar

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from mpviz import lang
from mpviz.lang import T
from mpviz.registry import NAMES, lesson_class, lessons
from mpviz.runtime.run import Settings
from mpviz.ui.driver import TerminalDriver
from mpviz.ui.messages import LeaveLesson, OpenLesson, RestartLesson
from mpviz.ui.screens.home import home_screen
from mpviz.ui.screens.run import RunScreen, run_screen
from mpviz.ui.sources import LiveSource, Source

# Seconds the app has to end by itself after SIGTERM or SIGHUP.
HARD_EXIT_AFTER = 3.0


SAY = {
    "quit": T("Quit", "退出"),
    "cannot_start": T("cannot start the lesson", "无法开始这一课"),
    "cannot_restart": T("cannot restart the lesson", "无法重新开始这一课"),
    "failed": T("{name} failed", "{name} 失败"),
    "lesson": T("Lesson: {name}", "课程:{name}"),
}


class MpvizApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "mpviz"
    BINDINGS: ClassVar[list[BindingType]] = []  # make_app()'s classes have the keys, in their language

    def __init__(self, source: Source | None = None, defaults: Settings | None = None) -> None:
        super().__init__()
        self.defaults = defaults or Settings(lesson_class(NAMES[0]))
        self._first = source
        # Every source this app opened: all are closed when it ends, whatever happens.
        self.sources: list[Source] = [] if source is None else [source]
        self._running_loop: asyncio.AbstractEventLoop | None = None

    def get_driver_class(self) -> type[Driver]:
        driver = super().get_driver_class()
        return TerminalDriver if driver is LinuxDriver else driver  # a browser's driver (mpviz serve) is kept

    def on_mount(self) -> None:
        self._running_loop = asyncio.get_running_loop()
        # The lessons underneath, so that leaving a lesson always lands there.
        self.push_screen(home_screen())
        if self._first is not None:
            self.push_screen(run_screen(self._first))

    # --- lessons ----------------------------------------------------------------

    @on(OpenLesson)
    def _open(self, message: OpenLesson) -> None:
        self.open_lesson(message.name)

    def open_lesson(self, name: str, params: dict[str, Any] | None = None) -> None:
        cls = lesson_class(name)
        if params is None:
            params = self.defaults.params if cls is self.defaults.lesson else {}
        settings = replace(self.defaults, lesson=cls, params=dict(params), record=None)
        try:
            source = LiveSource.start(settings)
        except ValueError as exc:
            self.notify(str(exc), title=str(SAY["cannot_start"]), severity="error")
            return
        self.sources.append(source)
        self.push_screen(run_screen(source))

    @on(LeaveLesson)
    def _leave(self, message: LeaveLesson) -> None:
        """Back to the lessons: the lesson's processes are stopped."""
        if isinstance(self.screen, RunScreen):
            self._close(self.screen.source)
            self.pop_screen()

    @on(RestartLesson)
    def _restart(self, message: RestartLesson) -> None:
        if not isinstance(self.screen, RunScreen):
            return
        old = self.screen.source
        self._close(old)
        try:
            new = old.again(message.flip, message.step)
        except ValueError as exc:
            self.notify(str(exc), title=str(SAY["cannot_restart"]), severity="error")
            self.pop_screen()
            return
        self.sources.append(new)
        self.switch_screen(run_screen(new))

    def _close(self, source: Source) -> None:
        def close() -> None:
            source.close()
            # Forgotten once closed: a restarted lesson's model and primitives go with it.
            with contextlib.suppress(ValueError):
                self.sources.remove(source)

        self.run_worker(close, thread=True, group="closing", name="stop lesson")

    def close_all(self) -> None:
        for source in list(self.sources):
            source.close()

    async def action_quit(self) -> None:
        """Stop every process (the paused ones too) as the app ends, not after.

        The app's end waits for the keys' actions, and an action may wait on a
        lesson process (restock, on the lock a paused buyer holds); once its
        run stops, the action gives up.  The command line's ``close_all`` then
        waits for the stop to finish.
        """
        threading.Thread(target=self.close_all, name="mpviz-quit", daemon=True).start()
        self.exit()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """The app's own workers (stopping a lesson): a failure is told, never a traceback over the screen.
        A lesson screen's workers are handled by the screen, which also logs them."""
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            text = f"{type(error).__name__}: {error}" if error is not None else "failed"
            self.notify(text, title=SAY["failed"](name=event.worker.name), severity="error")

    def end_by_signal(self, signum: int, frame: object = None) -> None:
        """SIGTERM or SIGHUP: stop every lesson process, then leave.

        After SIGHUP the terminal is gone, and Textual may never finish
        restoring it; so the children are stopped first, in a thread, and if
        the app has not ended a few seconds later the process ends anyway.
        """
        threading.Thread(target=self._end_hard, args=(signum,), name="mpviz-end", daemon=True).start()
        if self._running_loop is not None:
            # Safe from a signal handler, whatever the loop was doing.
            self._running_loop.call_soon_threadsafe(partial(self.exit, return_code=128 + signum))

    def _end_hard(self, signum: int) -> None:
        self.close_all()
        time.sleep(HARD_EXIT_AFTER)
        os._exit(128 + signum)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for cls in lessons():
            yield SystemCommand(
                SAY["lesson"](name=cls.name), f"{cls.title}: {cls.teaches}", partial(self._switch_to, cls.name)
            )

    def _switch_to(self, name: str) -> None:
        if isinstance(self.screen, RunScreen):
            self._close(self.screen.source)
            self.pop_screen()
        self.open_lesson(name)


_APPS: dict[str, type[MpvizApp]] = {}


def make_app(source: Source | None = None, defaults: Settings | None = None) -> MpvizApp:
    """The app the console script runs and the tests drive, its keys in the current language."""
    cls = _APPS.get(lang.current())
    if cls is None:
        keys = [
            Binding("q", "quit", str(SAY["quit"])),
            Binding("ctrl+c", "quit", str(SAY["quit"]), show=False, priority=True),
        ]
        cls = _APPS[lang.current()] = type(
            "MpvizApp", (MpvizApp,), {"BINDINGS": keys, "__module__": __name__}
        )  # CSS_PATH is beside this module
    return cls(source, defaults)
