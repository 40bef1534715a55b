"""``?``: what the lesson teaches, and what every key does."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from mpviz.lessons.base import Lesson

LEGEND = """\
| on the timeline | means |
|---|---|
| `━━` blue | running: doing its own work |
| `██` green | holding a lock or semaphore |
| `▒▒` red | blocked: waiting for a lock, a semaphore, an event, a queue or a pipe |
| `▚▚` magenta | paused (SIGSTOP) |
| `··` grey | starting up |
"""


def help_text(lesson: type[Lesson], keys: list[tuple[str, str]]) -> str:
    rows = "\n".join(f"- `{key}` {what}" for key, what in keys)
    return f"""\
# {lesson.title}

{lesson.teaches}.

{lesson.explain}

**Watch for:** {lesson.watch}.

## Keys

{rows}
- `q` quit: every lesson process is stopped

## Reading the screen

Each row of **Processes** is a real PID. *State* is what the process is doing
in the lesson's words; when it is blocked, the words come from the primitive
it waits on. *Status*, *CPU%*, *RSS* and *Thr* come from psutil once a second.
psutil cannot tell "blocked on a lock" from "sleeping": the blocked states come
from the records the primitives send.

{LEGEND}
Press `escape` or `?` to close.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def __init__(self, lesson: type[Lesson], keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.lesson = lesson
        self.keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(help_text(self.lesson, self.keys))

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "Help"
        self.query_one("#help").border_subtitle = "escape to close"
