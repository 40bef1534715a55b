"""Step mode's keys: in a scheduled run, which process goes on from its point, and how far."""

from __future__ import annotations

from mpviz.ui.messages import RestartLesson
from mpviz.ui.screens.run.drawing import DrawingScreen
from mpviz.ui.screens.run.words import SAY
from mpviz.ui.widgets.process_table import ProcessTable
from mpviz.ui.widgets.step_view import StepView


class SteppingScreen(DrawingScreen):
    """The step mode's actions (whether the run has them: ``ActingScreen.check_action``)."""

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
