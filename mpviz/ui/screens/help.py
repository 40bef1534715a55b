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


PROGRAM = """\
# Watching {name}

Every process of the program is a row of **Processes**, parent before child.
**Primitives** shows each lock, semaphore, event, queue and pipe it made,
named after the variable it was assigned to, with who holds it and who waits.
**Printed** is what each process printed, in its own colour; type a line in
the box below it for the program's standard input. A deadlock, a lock held
by a dead process, or a wait nobody can end is named at the top.
"""


def help_text(lesson: type[Lesson] | None, name: str, keys: list[tuple[str, str]]) -> str:
    rows = "\n".join(f"- `{key}` {what}" for key, what in keys)
    about = (
        PROGRAM.format(name=name)
        if lesson is None
        else f"# {lesson.title}\n\n{lesson.teaches}.\n\n{lesson.explain}\n\n**Watch for:** {lesson.watch}.\n"
    )
    return f"""\
{about}
## Keys

{rows}
- `q` quit: every process is stopped first

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

    def __init__(self, lesson: type[Lesson] | None, name: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.lesson = lesson
        self.name_shown = name
        self.keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(help_text(self.lesson, self.name_shown, self.keys))

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "Help"
        self.query_one("#help").border_subtitle = "escape to close"
