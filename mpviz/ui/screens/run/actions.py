"""The run screen's keys and what they do: to the lesson, the processes, the replay, the views.
Step mode's are in :mod:`.steps`; the keys themselves in :mod:`mpviz.ui.keys`."""

from __future__ import annotations

import signal

from textual import on, work
from textual.binding import Binding
from textual.widgets import ContentSwitcher, Input

from mpviz.ui.keys import LIVE_ONLY, NOT_OURS, OVER_TEXT, REPLAY_ONLY, STEPPING
from mpviz.ui.messages import LeaveLesson, LessonAction, RestartLesson, SeekTo
from mpviz.ui.screens.run.reading import ReadingScreen
from mpviz.ui.screens.run.words import SAY
from mpviz.ui.widgets.filter_input import FilterInput
from mpviz.ui.widgets.process_table import ProcessTable

SPEED_RANGE = (1 / 64, 1000.0)  # as far as --speed goes


class ActingScreen(ReadingScreen):
    """The screen's actions, and which of them this run has."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in OVER_TEXT and isinstance(self.app.focused, Input):
            return None  # the screen's keys come first (see keys.common_keys): a typed character is the box's
        if action in NOT_OURS and self.lesson.detaches:
            return False
        if action in STEPPING:
            return self._scheduler() is not None
        if action in LIVE_ONLY:
            return self.source.controls is not None
        if action in REPLAY_ONLY:
            return self.source.player is not None
        return True

    async def action_detach(self) -> None:
        """q, attached: the app quits, and the program goes on (its run stops reading, signals nothing)."""
        await self.app.run_action("quit")

    def action_lesson(self, method: str) -> None:
        action = next((a for a in self.lesson.actions if a.method == method), None)
        if action is None:
            return
        self._act(method, *([self.query_one(ProcessTable).selected_pid] if action.selected else []))

    @work(thread=True, group="actions", exit_on_error=False)
    def _act(self, method: str, *args: object) -> None:
        """Lesson actions start processes: off the event loop."""
        if self.source.controls is not None:
            self.source.controls.act(method, *args)

    def action_help(self) -> None:
        from mpviz.ui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.lesson, self.source.name, self.active_bindings_help()))

    def active_bindings_help(self) -> list[tuple[str, str]]:
        keys = []
        covered: set[str] = set()  # "-" is told with "+/-"
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            action = binding.action.partition("(")[0]
            display = self.app.get_key_display(binding)
            if action in ("app.quit", "detach"):
                continue  # q is told on a line of its own: what quitting does to the processes
            if self.check_action(action, ()) is False or display in covered:
                continue
            keys.append((display, binding.tooltip or binding.description))
            covered.update(display.split("/"))
        return keys

    def action_restart(self) -> None:
        self.post_message(RestartLesson())

    def action_flip(self, param: str) -> None:
        self.post_message(RestartLesson(flip=param))

    def action_home(self) -> None:
        self.post_message(LeaveLesson())

    def _set_speed(self, factor: float) -> None:
        low, high = SPEED_RANGE
        speed = min(max(self.source.speed * factor, low), high)
        self.source.set_speed(speed)
        self._show_status(self.source.now_ns())

    def action_faster(self) -> None:
        self._set_speed(2)

    def action_slower(self) -> None:
        self._set_speed(0.5)

    def _selected(self) -> int | None:
        pid = self.query_one(ProcessTable).selected_pid
        proc = self.model.procs.get(pid) if pid is not None else None
        if proc is None or not proc.alive or proc.role == "main":
            self.notify(str(SAY["select"]), severity="warning", timeout=3)
            return None
        return pid

    def action_pause(self) -> None:
        pid = self._selected()
        if pid is not None and self.source.controls is not None:
            sig = signal.SIGCONT if self.model.procs[pid].stopped else signal.SIGSTOP
            self.source.controls.send_signal(pid, sig)

    def action_pause_all(self) -> None:
        if self.source.controls is not None:
            stopped = any(p.stopped for p in self.model.procs.values() if p.alive)
            self.source.controls.signal_all(signal.SIGCONT if stopped else signal.SIGSTOP)

    def action_kill(self) -> None:
        pid = self._selected()
        if pid is not None and self.source.controls is not None:
            self.source.controls.send_signal(pid, signal.SIGKILL)

    def action_exited(self) -> None:
        self.query_one(ProcessTable).toggle_exited()

    def action_sort(self, step: int) -> None:
        words = self.query_one(ProcessTable).next_sort(step)
        self.query_one("#procs").border_title = f"{SAY['processes']} {words}"

    def action_filter(self) -> None:
        box = self.query_one(FilterInput)
        box.display = True
        box.focus()

    def action_replay_pause(self) -> None:
        if self.source.player is not None:
            self.source.player.toggle_pause()
            self._pace.reset()
            self._ask_refresh()

    def action_step(self) -> None:
        if self.source.player is not None:
            self._take(self.source.player.step())
            self._pace.reset()

    def action_seek(self, seconds: float) -> None:
        if self.source.player is not None:
            self.source.player.seek(seconds)
            self._moved()

    def action_seek_edge(self, end: int) -> None:
        player = self.source.player
        if player is not None:
            player.seek_to(player.end_ns if end else player.t0)
            self._moved()

    @on(SeekTo)
    def _seek_to(self, message: SeekTo) -> None:
        """A moment of a process's history clicked: a replay goes there, and stays, to be looked at."""
        self._go_to(message.t_ns)

    def action_spike(self) -> None:
        """Back to the moment the selected process's CPU was highest, as far back as its figures go."""
        pid = self.query_one(ProcessTable).selected_pid
        proc = self.model.procs.get(pid) if pid is not None else None
        peak = proc.samples.peak(0, self.source.now_ns()) if proc is not None else None
        if peak is None or peak[1] <= 0:
            self.notify(str(SAY["no_samples"]), severity="warning", timeout=3)
            return
        self._go_to(peak[0])

    def _go_to(self, t_ns: int) -> None:
        player = self.source.player
        if player is None:
            self.notify(str(SAY["live_history"]), timeout=4)
            return
        if not player.paused:
            player.toggle_pause()
        player.seek_to(t_ns)
        self._moved()

    def _moved(self) -> None:
        """After a seek: a frozen replay has no reader, so the new moment is read here, at once."""
        self._pace.reset()
        if self._frozen:
            self._take(self.source.read(0), self.source.model)
            self.refresh_views()
        else:
            self._show_status(self.source.now_ns())

    def action_stacks(self) -> None:
        """Show the selected process's stacks (live: asked for now, and again each second), or the timeline again."""
        self.action_view("stacks")
        self._ask_stacks()

    def action_view(self, name: str) -> None:
        """Show ``name`` beside the picture, or the home view (the timeline, a scheduled run's steps) again."""
        views = self.query_one(ContentSwitcher)
        views.current = self._home if views.current == name else name
        # (Where the views give way to the rest, a program on a short terminal, the one asked for
        # takes the primitives' place until it is asked for again: a key never shows nothing.)
        self.set_class(views.current != self._home, "-viewing")
        self._pace.reset()
        self.call_after_refresh(self._call, self.refresh_views)  # once the view has its size

    @on(LessonAction)
    def _lesson_action(self, message: LessonAction) -> None:
        """A panel asks for a lesson action (the chat's typed line)."""
        if self.source.controls is None:
            self.notify(str(SAY["a_replay"]), severity="warning")
            return
        selected = [self.query_one(ProcessTable).selected_pid] if message.selected else []
        self._act(message.method, *selected, *message.args)
