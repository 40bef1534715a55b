"""The first screen: every lesson, what it teaches, what to watch for."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Markdown, OptionList
from textual.widgets.option_list import Option

from mpviz import lang
from mpviz.lang import T
from mpviz.registry import NAMES, lesson_class
from mpviz.ui.messages import OpenLesson
from mpviz.ui.widgets.title_bar import TitleBar

SAY = {
    "watch": T("**Watch for:** {watch}.", "**注意看:** {watch}。"),
    "keys": T("Keys in this lesson", "这一课的按键"),
    "command": T("From the command line:", "在命令行里:"),
    "or": T("or", "或"),
    "default": T("default", "默认"),
    "start": T("Start lesson", "开始这一课"),
    "subtitle": T("multiprocessing lessons, run as real processes", "multiprocessing 课程,用真实的进程运行"),
    "lessons": T("Lessons: pick one, press Enter", "课程:选一个,按回车"),
    "about": T("About this lesson", "关于这一课"),
}


def lesson_option(name: str) -> Option:
    cls = lesson_class(name)
    # Two columns, so that a narrow terminal wraps the text under the text, not under the name.
    prompt = Table.grid(padding=(0, 1))
    prompt.add_column(width=9, no_wrap=True)
    prompt.add_column()
    prompt.add_row(Text(name, "bold"), Text.assemble((str(cls.title), "bold"), "\n", (str(cls.teaches), "dim")))
    return Option(prompt, id=name)


def describe(name: str) -> str:
    cls = lesson_class(name)
    params = "\n".join(f"- `{p.flag}` {p.help} ({SAY['default']} {p.default})" for p in cls.params)
    keys = "\n".join(
        [f"- `{a.key}` {a.help or a.description}" for a in cls.actions]
        + [f"- `{t.key}` {t.help or t.description}" for t in cls.toggles]
    )
    return f"""\
## {cls.title}

{cls.explain}

{SAY["watch"](watch=cls.watch)}

**{SAY["keys"]}**

{keys}

**{SAY["command"]}** `mpviz {name}` {SAY["or"]} `mpviz run {name} --headless`

{params}
"""


class HomeScreen(Screen):
    BINDINGS: ClassVar[list[BindingType]] = []  # home_screen()'s classes have the keys, in their language

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Horizontal(id="home"):
            yield OptionList(*(lesson_option(name) for name in NAMES), id="lessons")
            yield Markdown(describe(NAMES[0]), id="about")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TitleBar).set("mpviz", str(SAY["subtitle"]))
        self.query_one("#lessons").border_title = str(SAY["lessons"])
        self.query_one("#about").border_title = str(SAY["about"])

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
        # None before the list has highlighted anything (an Enter at once): the first lesson, the one
        # the screen describes from the start.
        option = lessons.get_option_at_index(lessons.highlighted or 0)
        if option.id:
            self.post_message(OpenLesson(option.id))


_HOMES: dict[str, type[HomeScreen]] = {}


def home_screen() -> HomeScreen:
    """The home screen, its keys described in the current language (one class per language)."""
    cls = _HOMES.get(lang.current())
    if cls is None:
        # priority: the list's own Enter would hide this one from the footer.
        keys: list[BindingType] = [Binding("enter", "start", str(SAY["start"]), priority=True)]
        cls = _HOMES[lang.current()] = type("HomeScreen", (HomeScreen,), {"BINDINGS": keys})
    return cls()
