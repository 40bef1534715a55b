"""The run screen whole: its widgets laid out, the messages they send answered, and a screen
class per lesson with the lesson's keys."""

from __future__ import annotations

from operator import attrgetter
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, Footer, Input

from mpviz import lang
from mpviz.lesson import Lesson
from mpviz.registry import panel_class
from mpviz.ui.keys import common_keys, detach_key
from mpviz.ui.messages import RecordsArrived
from mpviz.ui.screens.run.actions import ActingScreen
from mpviz.ui.screens.run.drawing import TICK_S, Alerts
from mpviz.ui.screens.run.steps import SteppingScreen
from mpviz.ui.screens.run.words import SAY
from mpviz.ui.sources import Source
from mpviz.ui.widgets.contention import ContentionView
from mpviz.ui.widgets.details import Details
from mpviz.ui.widgets.event_log import EventLog
from mpviz.ui.widgets.filter_input import FilterInput
from mpviz.ui.widgets.output import OutputView
from mpviz.ui.widgets.process_table import ProcessTable
from mpviz.ui.widgets.program_panel import ProgramInput
from mpviz.ui.widgets.stack_view import StackView
from mpviz.ui.widgets.step_view import StepView
from mpviz.ui.widgets.timeline import Timeline
from mpviz.ui.widgets.title_bar import TitleBar
from mpviz.ui.widgets.wait_graph import WaitGraph


class RunScreen(ActingScreen, SteppingScreen):
    """The screen of a run: the layers below it (see :mod:`mpviz.ui.screens.run`) and its widgets."""

    BINDINGS: ClassVar[list[BindingType]] = []  # the screen classes of lesson_screen() have the keys

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
            self.call_after_refresh(self._call, self.refresh_views)
            return
        self.read_records()
        # The run's processes start once the screen is drawn: from their first record on.
        self.call_after_refresh(self.source.begin)
        # Records ask for a refresh themselves; the passing of time needs one a
        # second after the last (see _tick).
        self._tick_timer = self._later(TICK_S, self._tick)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.height < 32, "-short")
        self.set_class(event.size.width < 100, "-narrow")
        self.set_class(event.size.width < 150, "-medium")
        footer = self.query_one(Footer)
        footer.compact = event.size.width < 140
        # Narrow, the keys run under the palette's key docked at the right (ctrl+p still opens it).
        footer.show_command_palette = event.size.width >= 100
        self._pace.reset()  # redraw everything at the new size
        if self._frozen:
            self.call_after_refresh(self._call, self.refresh_views)

    # Here rather than with the reader in reading.py: Textual calls the handler of each class of
    # the MRO that has one, and bench/tally.py wraps RunScreen's (a base class's would run twice).
    def on_records_arrived(self, message: RecordsArrived) -> None:
        if self._pruning:
            return  # the screen is being removed: its views are going (see DrawingScreen._call)
        if message.model is not None and message.model is not self.model:
            self._swap(message.model)
        # In time order, as Model.apply would put them, before they are cut into slices.
        self._pending.extend(sorted(message.events, key=attrgetter("t_ns")))
        self._apply_slice()

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
