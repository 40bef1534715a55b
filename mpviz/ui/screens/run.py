"""The screen of a run, live or replayed: processes, the lesson's picture, the timeline, the log.

One screen for lessons and watched programs alike: a program is a lesson
(:class:`~mpviz.program.Watched`) whose panel draws its primitives and which
asks for what its processes print, with a box to type into its stdin
(``Lesson.printed``).  The keys are in :mod:`mpviz.ui.keys`, the redraw
pacing in :mod:`mpviz.ui.pacing`.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from operator import attrgetter
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Footer, Input
from textual.worker import Worker, WorkerState, get_current_worker

from mpviz import lang
from mpviz.lang import T
from mpviz.lesson import Lesson
from mpviz.model import Model, find_anomalies
from mpviz.model.state import UNLOGGED
from mpviz.registry import panel_class
from mpviz.runtime.scheduler import Scheduler
from mpviz.telemetry import Event
from mpviz.ui.keys import LIVE_ONLY, NOT_OURS, OVER_TEXT, REPLAY_ONLY, STEPPING, common_keys, detach_key
from mpviz.ui.messages import LeaveLesson, LessonAction, RecordsArrived, RestartLesson, SeekTo
from mpviz.ui.pacing import Pacer
from mpviz.ui.sources import Source
from mpviz.ui.widgets.contention import ContentionView
from mpviz.ui.widgets.details import Details
from mpviz.ui.widgets.event_log import MOST_PER_BATCH, EventLog
from mpviz.ui.widgets.filter_input import FilterInput
from mpviz.ui.widgets.lesson_panel import LessonPanel
from mpviz.ui.widgets.output import OutputView
from mpviz.ui.widgets.process_table import ProcessTable
from mpviz.ui.widgets.program_panel import ProgramInput
from mpviz.ui.widgets.stack_view import StackView
from mpviz.ui.widgets.step_view import StepView
from mpviz.ui.widgets.text_view import TextView
from mpviz.ui.widgets.timeline import Timeline
from mpviz.ui.widgets.title_bar import TitleBar, position_bar
from mpviz.ui.widgets.wait_graph import WaitGraph

# The reader gathers a flood of records for this long before posting them.
BATCH_S = 0.03
# While the screen applies a batch, the reader reads on at this pace, gathering the next one,
# up to this many records (about two seconds of the fastest flood measured).
BUSY_S = 0.01
MOST_HELD = 50_000
# The screen applies records in slices of this long at most (checked every SLICE_RECORDS), and
# leaves the event loop free for this long between two: a key press waits for a slice, not a batch.
SLICE_S = 0.01
SLICE_RECORDS = 50
SLICE_GAP_S = 0.001
# The clock's refresh comes a second after the last refresh, looked for this often.
TICK_S = 0.25
# With nothing to read, the reader waits this long (a live run's records and its
# closing wake it at once; a replay looks more often, see Player.read).
READ_WAIT_S = 1.0
SPEED_RANGE = (1 / 64, 1000.0)  # as far as --speed goes


SAY = {
    "stdin": T("a line for the program's stdin (Tab here, Enter)", "给程序 stdin 的一行(Tab 到这里,回车)"),
    "table_keys": T("⏎ fold · < > sort · / filter", "⏎ 折叠 · < > 排序 · / 筛选"),
    "processes": T("Processes", "进程"),
    "events": T("Events", "事件记录"),
    "selected": T("Selected process", "选中的进程"),
    "printed": T("Printed", "打印输出"),
    "filter": T(
        "only processes whose name has… (Enter keeps it, Esc clears)", "只看名字里有……的进程(回车保留,Esc 清除)"
    ),
    "record_error": T("⚠ recording stopped: {error}\n", "⚠ 录制停止了:{error}\n"),
    "status": T("{where} · speed ×{speed:g} · {n} {processes} alive", "{where} · 速度 ×{speed:g} · {n} 个进程活着"),
    "attached": T("{where} · attached: q detaches · {n} {processes} alive", "{where} · 已附加:q 脱离 · {n} 个进程活着"),
    "live": T("live", "实时"),
    "replay": T("replay", "回放"),
    "replay, paused": T("replay, paused", "回放,已暂停"),
    "a_replay": T("This is a replay: nothing to act on.", "这是回放:没有可以操作的。"),
    "select": T(
        "Select a running lesson process first (↑/↓ in the table).", "先选一个正在运行的课程进程(在表格里按 ↑/↓)。"
    ),
    "graph": T("Wait-for graph (w: back to the timeline)", "等待图(w:回到时间线)"),
    "contention": T("Contention (s: back to the timeline)", "争用统计(s:回到时间线)"),
    "live_history": T(
        "Live: the bars are the last minutes. In a replay (--record, then mpviz replay) a click moves there.",
        "实时:这些条是最近几分钟。回放时(--record,再 mpviz replay)点一下就跳到那里。",
    ),
    "no_samples": T(
        "This process has used no CPU so far: no spike to go back to.", "这个进程到现在没用过 CPU:没有峰值可回去。"
    ),
    "stacks": T("Stacks of the selected process (d: back to the timeline)", "选中进程的调用栈(d:回到时间线)"),
    "steps": T("Step mode: who goes next", "单步模式:下一个谁走"),
    "not_offered": T("{who} is not waiting at a point that it may go on from.", "{who} 不在可以走的调度点上。"),
    "no_row": T("No row {n}.", "没有第 {n} 行。"),
}


class Alerts(TextView):
    """The verdict so far, and anything wrong right now (a deadlock, a hang)."""


class RunScreen(Screen):
    BINDINGS: ClassVar[list[BindingType]] = []  # the screen classes of lesson_screen() have the keys

    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source
        self.model = source.model
        self._frozen = source.frozen
        self._refresh_timer: Timer | None = None
        self._pace = Pacer()
        # The view beside the picture when no other is asked for: a scheduled run's decisions, or the timeline.
        self._home = "steps" if source.scheduled else "timeline"
        # Records not yet written to the event log: only the newest are kept.
        self._unlogged: deque[Event] = deque(maxlen=MOST_PER_BATCH)
        # Records posted by the reader, not yet applied (see _apply_slice); set: all were.
        self._pending: deque[Event] = deque()
        self._taken = threading.Event()
        self._taken.set()
        self._figures_shown: set[int] | None = None  # told the run (see _show_figures)
        self._said = False  # records a lesson's picture may show came since the last redraw (see pacing)
        self._looked_at = 0.0  # time.monotonic() of the last look for stacks (see _tick)

    @property
    def lesson(self) -> type[Lesson]:
        return self.source.lesson

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Alerts(id="alerts")
        yield ProcessTable(id="procs")
        yield FilterInput(placeholder=str(SAY["filter"]), id="filter")
        with Horizontal(id="middle"):
            yield panel_class(self.lesson)(id="panel")
            with ContentSwitcher(initial=self._home, id="views"):
                yield Timeline(id="timeline")
                yield WaitGraph(id="graph")
                yield ContentionView(id="contention")
                yield StackView(id="stacks")
                yield StepView(id="steps")
        with Horizontal(id="bottom"):
            if self.lesson.printed:
                with Vertical(id="printed"):
                    yield OutputView(id="output")
                    if self.source.controls is not None:
                        yield ProgramInput(placeholder=str(SAY["stdin"]), id="stdin")
            yield EventLog(compact=self.lesson.printed, id="log")
            yield Details(id="details")
        yield Footer()

    def on_mount(self) -> None:
        lesson = self.lesson
        self.set_class(lesson.printed, "-printed")
        heading = lesson.heading(self.source.values)
        self._title = f"mpviz · {self.source.name}: {heading}"
        self.query_one(TitleBar).set(self._title)
        self.query_one("#procs").border_title = str(SAY["processes"])
        self.query_one("#procs").border_subtitle = str(SAY["table_keys"])  # the keys the footer has no room for
        self.query_one("#panel").border_title = lesson.panel_title(self.source.values)
        self.query_one("#log").border_title = str(SAY["events"])
        self.query_one("#graph").border_title = str(SAY["graph"])
        self.query_one("#contention").border_title = str(SAY["contention"])
        self.query_one("#stacks").border_title = str(SAY["stacks"])
        self.query_one("#steps").border_title = str(SAY["steps"])
        self.query_one("#details").border_title = str(SAY["selected"])
        if lesson.printed:
            self.query_one("#printed").border_title = str(SAY["printed"])
        if self._frozen:
            self._take(self.source.read(0))
            # Drawn once, after layout, so every widget knows its size.
            self.call_after_refresh(self.refresh_views)
            return
        self.read_records()
        # The run's processes start once the screen is drawn: from their first record on.
        self.call_after_refresh(self.source.begin)
        # Records ask for a refresh themselves; the passing of time needs one a
        # second after the last (see _tick).
        self.set_interval(TICK_S, self._tick)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.height < 32, "-short")
        self.set_class(event.size.width < 100, "-narrow")
        self.set_class(event.size.width < 150, "-medium")
        self.query_one(Footer).compact = event.size.width < 140
        self._pace.reset()  # redraw everything at the new size
        if self._frozen:
            self.call_after_refresh(self.refresh_views)

    # --- records in -------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="reader", name="channel reader")
    def read_records(self) -> None:
        """The one reader of the channels: records in batches, posted to the screen.

        Records are gathered for up to BATCH_S before a batch goes out, and a
        batch goes out only once the screen has applied the one before: under
        a flood the screen's queue holds one batch at most, however far behind
        the screen is, and a key press waits behind none.  The screen behind
        by MOST_HELD records, the reader stops reading until it catches up:
        what more comes waits in the rings (and a full ring drops and counts).
        """
        worker = get_current_worker()
        model = self.source.model
        batch: list[Event] = []
        since = 0.0  # time.monotonic() of the batch's first records
        swapped = False  # a replay's seek: the new model goes to the screen, with or without records
        while not worker.is_cancelled:
            free = self._taken.is_set()
            quiet = False
            if len(batch) >= MOST_HELD:
                self._taken.wait(0.1)
            else:
                wait = READ_WAIT_S if not batch else max(0.0, since + BATCH_S - time.monotonic()) if free else BUSY_S
                more = self.source.read(wait)
                # A replay's seek makes a new model in read(): handed over with the records after it
                # (what was gathered before it belongs to the model left behind).
                if self.source.model is not model:
                    model, batch, swapped = self.source.model, [], True
                if more:
                    if not batch:
                        since = time.monotonic()
                    batch.extend(more)
                quiet = not more
            if not (batch or swapped) or not self._taken.is_set():
                continue
            if swapped or quiet or time.monotonic() >= since + BATCH_S:
                self._taken.clear()
                self.post_message(RecordsArrived(batch, model))
                batch, swapped = [], False

    def on_records_arrived(self, message: RecordsArrived) -> None:
        if message.model is not None and message.model is not self.model:
            self._swap(message.model)
        # In time order, as Model.apply would put them, before they are cut into slices.
        self._pending.extend(sorted(message.events, key=attrgetter("t_ns")))
        self._apply_slice()

    def _apply_slice(self) -> None:
        """Apply pending records for up to SLICE_S, then let the event loop go (a key press, a
        redraw) before the next slice; the last slice lets the reader post its next batch."""
        pending = self._pending
        until = time.perf_counter() + SLICE_S
        while pending and time.perf_counter() < until:
            n = min(SLICE_RECORDS, len(pending))
            self._take([pending.popleft() for _ in range(n)])
        if pending:
            self.set_timer(SLICE_GAP_S, self._apply_slice)
        else:
            self._taken.set()

    def _take(self, events: list, model: Model | None = None) -> None:
        if model is not None and model is not self.model:
            self._swap(model)
        self.model.apply(events)
        self._unlogged.extend(events)
        kinds = {e.kind for e in events}
        # What a lesson's picture may show moved: anything but psutil's figures (see pacing).
        self._said |= bool(kinds - {"proc.stats"})
        # The psutil samples (and stacks) alone wait for the tick: drawn with the passing second
        # they cost one pass of the screen a second instead of two.
        if kinds - UNLOGGED:
            self._ask_refresh()

    def _swap(self, model: Model) -> None:
        """A replay moved to another moment: every view starts again from the new model."""
        self.model = model
        self._unlogged.clear()
        self._pending.clear()  # the moment left behind's
        recent = list(model.log)[-MOST_PER_BATCH:]
        log = self.query_one(EventLog)
        log.clear()
        log.add(model, recent)
        self.call_after_refresh(log.scroll_end, animate=False)  # once it knows its new length
        for output in self.query(OutputView):
            output.clear()
            output.show(model)
        self.query_one(ProcessTable).reset()
        for view in self.query(TextView):
            view.fit()  # the panels, the alerts, the details: as tall as the new moment's text
        self._pace.reset()

    def _ask_refresh(self, at_least: float = 0.0) -> None:
        """Refresh soon, but not more often than the pace allows, however fast records come."""
        if self._refresh_timer is None:
            self._refresh_timer = self.set_timer(self._pace.wait(time.monotonic(), at_least), self._refresh_now)

    def _tick(self) -> None:
        """What time moves, a second after the last refresh; and (live), once a second, what
        only stacks can tell.

        A second after the last refresh, not at each new second: a refresh for records moves
        the clock's own along (in the busy KTV scene, 1.4 passes of the screen a second for
        about one a second of records and one a second of clock, each pass costing about a
        whole screen in Textual's compositor)."""
        now = time.monotonic()
        controls = self.source.controls
        if controls is not None and now - self._looked_at >= 1.0:
            self._looked_at = now
            controls.look(self.model, self.source.now_ns())
            self._ask_stacks()
        if now - self._pace.refreshed_at >= 1.0:
            self.refresh_views()

    def _refresh_now(self) -> None:
        self._refresh_timer = None
        self.refresh_views()

    # --- records out --------------------------------------------------------------

    def refresh_views(self) -> None:
        """Bring the views up to the model: what moved since the last time, and every second
        whatever shows the passing of time (see :mod:`mpviz.ui.pacing`)."""
        if self._unlogged:
            self.query_one(EventLog).add(self.model, list(self._unlogged))
            self._unlogged.clear()
        for output in self.query(OutputView):
            output.show(self.model)
        now = self.source.now_ns()
        procs, prims = self.model.take_dirty()
        plan = self._pace.plan(now, bool(procs or prims), time.monotonic(), self._said)
        self._said = False
        if plan is None:
            return
        table = self.query_one(ProcessTable)
        table.sync(self.model, now, procs, clock=plan.full)
        self._show_figures(table)
        self._show_alerts(now)
        self._show_status(now)
        if plan.panel:
            self.query_one(LessonPanel).show(self.model, now, self.source.values)
        if plan.pictures:
            self._sync_view(now)
            self.query_one(Details).present(self.model, table.selected_pid, now)
        if plan.later is not None:  # the drawings wait for their turn: make sure it comes
            self._ask_refresh(plan.later)

    def _show_figures(self, table: ProcessTable) -> None:
        """Live: tell the run which processes' figures are on screen (the others are sampled less often)."""
        controls = self.source.controls
        if controls is None:
            return
        shown = table.figures_in_view()
        if shown is not None and table.selected_pid is not None:
            shown.add(table.selected_pid)  # the details pane's
        if shown != self._figures_shown:
            self._figures_shown = shown
            controls.show(shown)

    def _sync_view(self, now: int) -> None:
        """The view beside the picture: the timeline, the wait-for graph (w) or the contention figures (s)."""
        shown = self.query_one(ContentSwitcher).current
        if shown == "graph":
            self.query_one(WaitGraph).present(self.model, now, str(self.lesson.unseen))
        elif shown == "contention":
            self.query_one(ContentionView).present(self.model, now)
        elif shown == "stacks":
            pid = self.query_one(ProcessTable).selected_pid
            self.query_one(StackView).present(self.model, pid, now, asked=self.source.controls is not None)
        elif shown == "steps":
            scheduler = self._scheduler()
            self.query_one(StepView).present(self.model, free=scheduler is not None and scheduler.free_mode)
        else:
            self.query_one(Timeline).sync(self.model, now)

    def _show_alerts(self, now: int) -> None:
        verdict = self.source.verdict()
        text = Text()
        controls = self.source.controls
        if controls is not None and controls.record_error:
            text.append(SAY["record_error"](error=controls.record_error), style="bold red")
        player = self.source.player
        if player is not None and player.problem:
            text.append(f"⚠ {player.problem}\n", style="bold red")
        for anomaly in find_anomalies(self.model, now):
            if anomaly.text not in verdict.text:
                text.append(f"⚠ {anomaly.text}\n", style="bold red")
        for refusal in self.model.refusals():
            text.append(f"⚠ {refusal}\n", style="bold red")
        mark, style = {True: ("✔", "green3"), False: ("✘", "bold red"), None: ("…", "")}[verdict.ok]
        text.append(f"{mark} {verdict.text}", style=style)
        alerts = self.query_one(Alerts)
        alerts.show(text)
        alerts.set_class(verdict.ok is False or "⚠" in text.plain, "-bad")

    def _show_status(self, now: int) -> None:
        source = self.source
        alive = sum(1 for p in self.model.procs.values() if p.alive)
        where = str(SAY.get(source.where) or source.where)
        if source.player is not None:
            where += " " + position_bar(*source.player.position())
        attached = self.lesson.detaches and source.player is None  # a replay of one detaches nothing
        status = SAY["attached" if attached else "status"](
            where=where,
            speed=round(source.speed, 3),
            n=alive,
            processes="process" if alive == 1 else "processes",
        )
        self.query_one(TitleBar).set(self._title, status)

    @on(LessonAction)
    def _lesson_action(self, message: LessonAction) -> None:
        """A panel asks for a lesson action (the chat's typed line)."""
        if self.source.controls is None:
            self.notify(str(SAY["a_replay"]), severity="warning")
            return
        selected = [self.query_one(ProcessTable).selected_pid] if message.selected else []
        self._act(message.method, *selected, *message.args)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(ProcessTable).set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_kept(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(ProcessTable).focus()

    @on(Input.Submitted, "#stdin")
    def _typed(self, event: Input.Submitted) -> None:
        """A line typed for the program: to its main's stdin."""
        event.stop()
        if event.value and self.source.controls is not None:
            self._act("send_line", event.value)
            event.input.value = ""

    @on(ProcessTable.Highlighted)
    def _row_highlighted(self, event: ProcessTable.Highlighted) -> None:
        self.query_one(Details).present(self.model, event.pid, self.source.now_ns())
        self._ask_stacks()
        if self.query_one(ContentSwitcher).current == "stacks":
            self._sync_view(self.source.now_ns())

    # --- keys ----------------------------------------------------------------------

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

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """A key's action or the reader failed: say so on screen and in the event log."""
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            text = f"{type(error).__name__}: {error}" if error is not None else "failed"
            self.notify(text, title=f"{event.worker.name} failed", severity="error")
            self._take([Event(self.source.now_ns(), os.getpid(), "ui.error", event.worker.name, {"error": text})])

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

    def _ask_stacks(self) -> None:
        """Live, with the stacks shown: ask the selected process for them."""
        if self.query_one(ContentSwitcher).current != "stacks" or self.source.controls is None:
            return
        pid = self.query_one(ProcessTable).selected_pid
        proc = self.model.procs.get(pid) if pid is not None else None
        if proc is not None and proc.alive:
            self.source.controls.ask_stacks(proc.pid)

    def action_view(self, name: str) -> None:
        """Show ``name`` beside the picture, or the home view (the timeline, a scheduled run's steps) again."""
        views = self.query_one(ContentSwitcher)
        views.current = self._home if views.current == name else name
        self._pace.reset()
        self.call_after_refresh(self.refresh_views)  # once the view has its size

    # --- step mode ----------------------------------------------------------------------

    def _scheduler(self) -> Scheduler | None:
        controls = self.source.controls
        return controls.scheduler if controls is not None else None

    def action_go_row(self, n: int) -> None:
        """Let the process of row ``n`` of the step view go."""
        who = self.query_one(StepView).row(self.model, n)
        if who is None:
            self.notify(SAY["no_row"](n=n), severity="warning", timeout=2)
            return
        self._go(who)

    def action_go_selected(self) -> None:
        """Enter: let the process selected in the table go."""
        who = self._selected_who()
        if who is not None:
            self._go(who)

    def action_until_blocked(self) -> None:
        """Let the selected process (or row 1) go, and on at each point, as long as it may."""
        scheduler = self._scheduler()
        who = self._selected_who(quiet=True) or self.query_one(StepView).row(self.model, 1)
        if scheduler is not None and who is not None and not scheduler.go_until_blocked(who):
            self.notify(SAY["not_offered"](who=who), severity="warning", timeout=2)

    def action_free(self) -> None:
        scheduler = self._scheduler()
        if scheduler is not None:
            scheduler.set_free(not scheduler.free_mode)
            self._pace.reset()
            self._ask_refresh()

    def action_step_mode(self) -> None:
        self.post_message(RestartLesson(step=True))

    def _selected_who(self, quiet: bool = False) -> str | None:
        """The label of the process selected in the table, if it waits at a point."""
        pid = self.query_one(ProcessTable).selected_pid
        proc = self.model.procs.get(pid) if pid is not None else None
        offered = [option[0] for option in self.model.turns.offer or ()]
        if proc is None or proc.label not in offered:
            if not quiet:
                who = proc.name if proc is not None else "?"
                self.notify(SAY["not_offered"](who=who), severity="warning", timeout=2)
            return None
        return proc.label

    def _go(self, who: str) -> None:
        scheduler = self._scheduler()
        if scheduler is not None and not scheduler.go(who):
            self.notify(SAY["not_offered"](who=who), severity="warning", timeout=2)


_SCREENS: dict[tuple[str, str], type[RunScreen]] = {}


def screen_class(lesson: type[Lesson]) -> type[RunScreen]:
    """The screen class of a lesson, its keys in the current language: under a class with the
    common keys, its own keys, then the common ones again (Textual merges bindings down the
    classes: the footer shows the common keys first).

    Made once per lesson and language: Textual keeps caches per class, and a
    class made on every restart would keep them all."""
    cls = _SCREENS.get((lesson.name, lang.current()))
    if cls is not None:
        return cls
    # They take precedence, as the common keys do, but for those that act on the selected process
    # (see keys.common_keys).
    keys: list[BindingType] = [
        Binding(a.key, f"lesson('{a.method}')", str(a.description), tooltip=str(a.help), priority=not a.selected)
        for a in lesson.actions
    ]
    keys += [
        Binding(t.key, f"flip('{t.param}')", str(t.description), tooltip=str(t.help), priority=True)
        for t in lesson.toggles
    ]
    if lesson.detaches:
        keys.insert(0, detach_key())
    base = type("RunScreen", (RunScreen,), {"BINDINGS": common_keys()})
    cls = type(f"{lesson.__name__}Screen", (base,), {"BINDINGS": keys + common_keys()})
    _SCREENS[(lesson.name, lang.current())] = cls
    return cls


def run_screen(source: Source) -> RunScreen:
    return screen_class(source.lesson)(source)
