"""The box that filters the process table by name: hidden until ``/``, cleared by escape."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input

from mpviz.ui.keys import KEYS
from mpviz.ui.widgets.process_table import ProcessTable


class FilterInput(Input):
    """The name to filter the processes by; hidden until ``/``; escape clears it."""

    BINDINGS = [Binding("escape", "clear", str(KEYS["clear_filter"]), show=False)]

    def on_mount(self) -> None:
        self.display = False

    def action_clear(self) -> None:
        self.value = ""
        self.display = False
        self.screen.query_one(ProcessTable).focus()
