"""The first screen: every lesson, what it teaches, what to watch for."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Markdown, OptionList
from textual.widgets.option_list import Option

from mpviz.lessons import NAMES, lesson_class
from mpviz.ui.messages import OpenLesson
from mpviz.ui.widgets.title_bar import TitleBar


def lesson_option(name: str) -> Option:
    cls = lesson_class(name)
    # Two columns, so that a narrow terminal wraps the text under the text, not under the name.
    prompt = Table.grid(padding=(0, 1))
    prompt.add_column(width=9, no_wrap=True)
    prompt.add_column()
    prompt.add_row(Text(name, "bold"), Text.assemble((cls.title, "bold"), "\n", (cls.teaches, "dim")))
    return Option(prompt, id=name)


def describe(name: str) -> str:
    cls = lesson_class(name)
    params = "\n".join(f"- `--{p.name}` {p.help} (default {p.default})" for p in cls.params)
    keys = "\n".join(
        [f"- `{a.key}` {a.help or a.description}" for a in cls.actions]
        + [f"- `{t.key}` {t.help or t.description}" for t in cls.toggles]
    )
    return f"""\
## {cls.title}

{cls.explain}

**Watch for:** {cls.watch}.

**Keys in this lesson**

{keys}

**From the command line:** `mpviz {name}` or `mpviz run {name} --headless`

{params}
"""


class HomeScreen(Screen):
    # priority: the list's own Enter would hide this one from the footer.
    BINDINGS = [Binding("enter", "start", "Start lesson", priority=True)]

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Horizontal(id="home"):
            yield OptionList(*(lesson_option(name) for name in NAMES), id="lessons")
            yield Markdown(describe(NAMES[0]), id="about")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TitleBar).set("mpviz", "multiprocessing lessons, run as real processes")
        self.query_one("#lessons").border_title = "Lessons: pick one, press Enter"
        self.query_one("#about").border_title = "About this lesson"

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self.query_one("#about", Markdown).update(describe(event.option.id))

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.post_message(OpenLesson(event.option.id))

    def action_start(self) -> None:
        lessons = self.query_one(OptionList)
        if lessons.highlighted is not None:
            option = lessons.get_option_at_index(lessons.highlighted)
            if option.id:
                self.post_message(OpenLesson(option.id))
