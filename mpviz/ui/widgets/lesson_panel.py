"""The base of every lesson's panel, and the drawing helpers panels share.

Panels are drawn as plain ``Text`` (box-drawing characters included) rather
than nested Rich panels and tables: a panel is rebuilt every refresh, and
plain text is cheap to compare and to draw.  Times are whole seconds, so a
panel changes at most once a second while nothing happens.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll

from mpviz.model import Model
from mpviz.ui.messages import LessonAction
from mpviz.ui.widgets.text_view import TextView

ROOM_WIDTH = 17


def boxes(cells: list[tuple[str, list[Text], str]], width: int) -> Text:
    """Titled boxes side by side, as many to a row as ``width`` takes, widened to fill it."""
    per_row = max(1, width // ROOM_WIDTH)
    inner = min(width // per_row, ROOM_WIDTH + 8) - 2
    out = Text()
    for start in range(0, len(cells), per_row):
        row = cells[start : start + per_row]
        height = max(len(lines) for _, lines, _ in row)
        top, bottom = Text(), Text()
        middles = [Text() for _ in range(height)]
        for title, lines, style in row:
            label = f" {title} "
            top.append("╭─" + label + "─" * (inner - 1 - cell_len(label)) + "╮", style=style)
            for i in range(height):
                line = lines[i] if i < len(lines) else Text()
                line = line.copy()
                line.truncate(inner - 2, overflow="ellipsis", pad=True)
                middles[i].append("│ ", style=style)
                middles[i].append_text(line)
                middles[i].append(" │", style=style)
            bottom.append("╰" + "─" * inner + "╯", style=style)
        for line in (top, *middles, bottom):
            out.append_text(line)
            out.append("\n")
    return out


class LessonPanel(VerticalScroll, can_focus=False):
    """A lesson's picture: a scrolling column that :meth:`show` fills in.

    By default one ``TextView`` (``#panel-main``); a panel composes more
    where it needs them.  Not focusable itself: Tab goes from the process
    table to what the panel holds that takes keys (the chat's input box); the
    mouse wheel scrolls it.  A panel asks for a lesson action by posting
    :class:`~mpviz.ui.messages.LessonAction`.
    """

    def compose(self) -> ComposeResult:
        yield TextView(id="panel-main")

    def part(self, name: str) -> TextView:
        return self.query_one(f"#panel-{name}", TextView)

    @property
    def inner_width(self) -> int:
        return max(ROOM_WIDTH, self.scrollable_content_region.width)

    def act(self, method: str, *args: object, selected: bool = False) -> None:
        self.post_message(LessonAction(method, args, selected))

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        raise NotImplementedError
