"""The run screen's drawing: its views brought up to the model, no more often than the pace
allows (:mod:`mpviz.ui.pacing`), and a second after the last refresh for the clock."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from rich.text import Text
from textual.screen import Screen
from textual.widgets import ContentSwitcher

from mpviz.lesson import Lesson
from mpviz.model import find_anomalies
from mpviz.runtime.scheduler import Scheduler
from mpviz.telemetry import Event
from mpviz.ui.pacing import Pacer
from mpviz.ui.screens.run.words import SAY
from mpviz.ui.sources import Source
from mpviz.ui.widgets.contention import ContentionView
from mpviz.ui.widgets.details import Details
from mpviz.ui.widgets.event_log import MOST_PER_BATCH, EventLog
from mpviz.ui.widgets.lesson_panel import LessonPanel
from mpviz.ui.widgets.output import OutputView
from mpviz.ui.widgets.process_table import ProcessTable
from mpviz.ui.widgets.stack_view import StackView
from mpviz.ui.widgets.step_view import StepView
from mpviz.ui.widgets.text_view import TextView
from mpviz.ui.widgets.timeline import Timeline
from mpviz.ui.widgets.title_bar import TitleBar, position_bar
from mpviz.ui.widgets.wait_graph import WaitGraph

# The clock's refresh comes this long after the last refresh (and, live, the look for stacks this
# long after the last): the tick is set for the first of the two due, not polled.
TICK_S = 1.0
# A tick is never set sooner than this (a refresh just missed, a timer fired a little early).
TICK_LEAST_S = 0.05
# The look for stacks may come this much early or late, with the clock's tick, rather than wake the
# event loop on its own: the two keep one pace, one wake-up a second.  Half a second either way
# brings them together from any step apart; with a quarter early only (before), once a refresh for
# records had put them out of step (the clock's tick is a second after the last refresh), they
# stayed apart: 2.0 ticks a second for 1.0 refresh, in both scenes of bench/run.py --only cpu100.
LOOK_SLACK_S = 0.5


class Alerts(TextView):
    """The verdict so far, and anything wrong right now (a deadlock, a hang)."""


class DrawingScreen(Screen):
    """The run's source and model, and the views drawn from them (see :mod:`.screen` for the whole screen)."""

    _title: str  # set on mount: the title bar's left part

    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source
        self.model = source.model
        self._frozen = source.frozen
        self._refresh_timer: asyncio.TimerHandle | None = None
        self._tick_timer: asyncio.TimerHandle | None = None
        self._pace = Pacer()
        # The view beside the picture when no other is asked for: a scheduled run's decisions, or the timeline.
        self._home = "steps" if source.scheduled else "timeline"
        # Records not yet written to the event log: only the newest are kept.
        self._unlogged: deque[Event] = deque(maxlen=MOST_PER_BATCH)
        self._figures_shown: set[int] | None = None  # told the run (see _show_figures)
        self._said = False  # records a lesson's picture may show came since the last redraw (see pacing)
        self._looked_at = 0.0  # time.monotonic() of the last look for stacks (see _tick)
        self._output_views: list[OutputView] | None = None  # see _outputs

    @property
    def lesson(self) -> type[Lesson]:
        return self.source.lesson

    def _scheduler(self) -> Scheduler | None:
        controls = self.source.controls
        return controls.scheduler if controls is not None else None

    def _ask_refresh(self, at_least: float = 0.0) -> None:
        """Refresh soon, but not more often than the pace allows, however fast records come."""
        if self._refresh_timer is None:
            self._refresh_timer = self._later(self._pace.wait(time.monotonic(), at_least), self._refresh_now)

    def _later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        """``callback`` called on the event loop in ``delay`` seconds, as Textual's ``set_timer``
        would, for a tenth of its cost: a one-shot Timer is a task, an event and a message through
        the screen's queue, about 0.6 ms of CPU a firing against 0.15 for asyncio's own timer
        (measured in an idle app). The run screen sets one or two a second."""
        return asyncio.get_running_loop().call_later(delay, self._call, callback)

    def _call(self, callback: Callable[[], None]) -> None:
        # Gone (see on_unmount), or going: a screen being removed loses its widgets before it is
        # detached itself, and a timer due in between would find no table to draw.
        if not self.is_attached or self._pruning or self._closing:
            return
        try:
            callback()
        except Exception as error:  # as a Textual timer does: the app shows it and ends
            self.app._handle_exception(error)

    def on_unmount(self) -> None:
        for timer in (self._refresh_timer, self._tick_timer):
            if timer is not None:
                timer.cancel()

    def _tick(self) -> None:
        """What time moves, a second after the last refresh; and (live), once a second, what
        only stacks can tell.

        A second after the last refresh, not at each new second: a refresh for records moves
        the clock's own along (in the busy KTV scene, 1.4 passes of the screen a second for
        about one a second of records and one a second of clock, each pass costing about a
        whole screen in Textual's compositor)."""
        now = time.monotonic()
        controls = self.source.controls
        refresh = now - self._pace.refreshed_at >= TICK_S
        if refresh:
            self.refresh_views()
        if controls is not None and now - self._looked_at >= TICK_S - (LOOK_SLACK_S if refresh else 0.0):
            # Stamped as the refresh is, when they come together: stamped before it, the look fell
            # due a few ms before the clock, and its tick found the clock not yet due.
            self._looked_at = self._pace.refreshed_at if refresh else now
            controls.look(self.model, self.source.now_ns())
            self._ask_stacks()
        # Set for when the next is due, rather than polled four times a second by an interval timer
        # (three wake-ups a second for nothing, each about 0.2 ms). A refresh in between moves the
        # clock's due time: the tick then finds nothing due and is set again.
        due = self._pace.refreshed_at + TICK_S
        if controls is not None and self._looked_at + TICK_S < due - LOOK_SLACK_S:
            due = self._looked_at + TICK_S  # the clock is far off (records keep the screen drawn)
        self._tick_timer = self._later(max(due - time.monotonic(), TICK_LEAST_S), self._tick)

    def _refresh_now(self) -> None:
        self._refresh_timer = None
        self.refresh_views()

    # --- records out --------------------------------------------------------------

    def refresh_views(self) -> None:
        """Bring the views up to the model: what moved since the last time, and every second
        whatever shows the passing of time (see :mod:`mpviz.ui.pacing`)."""
        now = self.source.now_ns()
        procs, prims = self.model.take_dirty()
        plan = self._pace.plan(now, bool(procs or prims), time.monotonic(), self._said)
        self._said = False
        # Under a flood (a whole batch of lines waiting, the older ones already dropped) the log
        # is written with the drawings, at most four times a second: written at every refresh,
        # ten a second, the log was a third of the CPU of each redraw under the prodcons flood
        # (1.1 ms to write, 2.2 ms more of the screen's pass, bench/tally.py).
        if self._unlogged and (plan is None or plan.pictures or len(self._unlogged) < MOST_PER_BATCH):
            self.query_one(EventLog).add(self.model, list(self._unlogged))
            self._unlogged.clear()
        for output in self._outputs():
            output.show(self.model)
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

    def _outputs(self) -> list[OutputView]:
        """The views of what the processes print (none for most lessons), found once: a query walks
        the whole screen, at every refresh."""
        if self._output_views is None:
            views = list(self.query(OutputView))
            if not self.is_mounted:
                return views  # not composed yet: looked for again next time
            self._output_views = views
        return self._output_views

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
        found = find_anomalies(self.model, now)
        for anomaly in found:
            if anomaly.text not in verdict.text:
                text.append(f"⚠ {anomaly.text}\n", style="bold red")
        # A pitfall named earlier and counted by the verdict, though not found now (a zombie since reaped).
        shown = {a.text for a in found}
        for named in self.source.named():
            if named not in shown and named not in verdict.text:
                text.append(f"⚠ {named}\n", style="bold red")
        for refusal in self.model.refusals():
            text.append(f"⚠ {refusal}\n", style="bold red")
        mark, style = {True: ("✔", "green3"), False: ("✘", "bold red"), None: ("…", "")}[verdict.ok]
        warned = verdict.warns or "⚠" in text.plain
        if verdict.ok and warned:
            mark, style = "⚠", "bold yellow"  # it ended, but not safely: never a ✔ beside a warning
        text.append(f"{mark} {verdict.text}", style=style)
        alerts = self.query_one(Alerts)
        alerts.show(text)
        alerts.set_class(verdict.ok is False or warned, "-bad")

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

    def _ask_stacks(self) -> None:
        """Live, with the stacks shown: ask the selected process for them."""
        if self.query_one(ContentSwitcher).current != "stacks" or self.source.controls is None:
            return
        pid = self.query_one(ProcessTable).selected_pid
        proc = self.model.procs.get(pid) if pid is not None else None
        if proc is not None and proc.alive:
            self.source.controls.ask_stacks(proc.pid)
