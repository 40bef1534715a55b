"""A row per PID, as a tree: who it is, what it is doing in the lesson's words, its psutil figures and their last minute.

A Line-API widget rather than a DataTable.  Measured here, a DataTable of 100
rows with one column changing each second costs 3.8 % of a core; this table,
which keeps each row's line and redraws only the rows that changed, is what
lets the whole dashboard stay near htop's cost (see bench/run.py).  The
columns are in :mod:`.process_columns`, a row's strings in
:mod:`.process_rows`, the rows kept and their order in :mod:`.process_order`.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip

from mpviz.lang import T
from mpviz.ui.messages import SeekTo
from mpviz.ui.theme import PHASE_STYLE
from mpviz.ui.widgets import history
from mpviz.ui.widgets.process_columns import GAP, HISTORY, INDEX, LABELS, RIGHT, fit
from mpviz.ui.widgets.process_order import FOLD, OrderedRows
from mpviz.ui.widgets.process_rows import Row

FOLDED = T("  {n} more exited — h to show them", "  还有 {n} 个已退出 —— 按 h 显示")

_PHASE_STYLES = {phase.value: Style.parse(style) for phase, style in PHASE_STYLE.items()}
_DIM = Style(dim=True, italic=True)


class ProcessTable(OrderedRows, can_focus=True):
    """Rows keyed by PID, as a tree; a cursor that live updates never move off its process.

    In order of start the processes are a tree, each child under its parent,
    and a subtree folds into its root's row (``enter``, or a click on its
    mark), which then adds up the figures of every process under it.  Sorted
    by CPU, state or PID, or filtered by name, the rows are a flat list.
    Exited processes come after the living (unless a living one is under
    them), folded into one line when all rows would not fit (``h`` shows or
    folds them).  A thread that waits for or holds something has a row of
    its own under its process, keyed by its native id (never a pid of another
    process: Linux numbers threads and processes from one space).
    """

    DEFAULT_CSS = """
    ProcessTable { height: 1fr; }
    ProcessTable > .process-table--header { text-style: bold; background: $panel; }
    ProcessTable > .process-table--cursor { background: $block-cursor-blurred-background; }
    ProcessTable:focus > .process-table--cursor { background: $block-cursor-background; text-style: bold; }
    """
    COMPONENT_CLASSES = {"process-table--header", "process-table--cursor"}
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "move(-1000000)", "First", show=False),
        Binding("end", "move(1000000)", "Last", show=False),
        Binding("enter", "fold", "Fold", show=False),
    ]

    class Highlighted(Message):
        """The cursor is on another process."""

        def __init__(self, pid: int | None) -> None:
            super().__init__()
            self.pid = pid

    def order_rows(self) -> None:
        """Put the rows in order (see ``OrderedRows.order_rows``); say so if the cursor is on another process now."""
        selected = self.selected_pid
        super().order_rows()
        if self.selected_pid != selected:
            self.post_message(self.Highlighted(self.selected_pid))

    # --- drawing --------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self.order_rows()  # room for more rows, or for fewer
        # Leave room for the vertical scrollbar, so that no horizontal one is needed.
        self._width = event.size.width - self.styles.scrollbar_size_vertical
        self._relayout()

    def _line(self, values: Row | None, style: Style | None, state_style: Style | None = None) -> Strip:
        """A row's line, each cell given its whole style as it is made, and the line's width known:
        ``Strip.apply_style`` made every segment again and measured the line again, two thirds of
        the cost of a row (about 100 µs a row here, a row a second for each process in view)."""
        base = style or None  # (a null style adds nothing: the cells keep their own)
        gap = Segment(" " * GAP, base)
        segments = [Segment(" ", base)]
        for key, width in zip(self._layout.keys, self._layout.widths, strict=True):
            text = str(LABELS[key]) if values is None else values[INDEX[key]]
            cell_style = state_style if key == "state" and state_style is not None else None
            segments.append(Segment(fit(text, width, key in RIGHT), base + cell_style if base else cell_style))
            segments.append(gap)
        return Strip(segments, 1 + self._layout.width)  # fit: each cell exactly its width

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        x = self.scroll_offset.x
        if y == 0:
            header = self.get_component_rich_style("process-table--header")
            return self._line(None, None).crop_extend(x, x + width, header)
        index = y - 1 + self.scroll_offset.y
        if index >= len(self._order):
            return Strip.blank(width, self.rich_style)
        pid = self._order[index]
        if pid == FOLD:
            style = self.rich_style + (
                self.get_component_rich_style("process-table--cursor") if index == self.cursor else Style()
            )
            words = FOLDED(n=self._folded)
            return Strip([Segment(words, style + _DIM)]).crop_extend(x, x + width, style)
        values = self._row(pid)
        if index == self.cursor:
            cursor = self.get_component_rich_style("process-table--cursor")
            strip = self._line(values, self.rich_style + cursor)  # the cursor's colours, readable on any phase
        else:
            cached = self._strips.get(pid)
            if cached is None:
                cached = self._strips[pid] = self._line(values, self.rich_style, _PHASE_STYLES[values[-1]])
            strip = cached
        return strip.crop_extend(x, x + width, self.rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    # --- cursor -----------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh_line(old + 1)
        self.refresh_line(new + 1)
        # Keep the cursor in view, below the header line.
        top, visible = self.scroll_offset.y, max(1, self.size.height - 1)
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + visible:
            self.scroll_to(y=new - visible + 1, animate=False)
        self.post_message(self.Highlighted(self.selected_pid))

    def action_move(self, by: int) -> None:
        if self._order:
            self.cursor = min(max(self.cursor + by, 0), len(self._order) - 1)

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.size.height - 2))

    def on_click(self, event: events.Click) -> None:
        """A row selects its process; its fold mark folds or unfolds; a moment of its sparkline is clicked."""
        at = event.get_content_offset(self)  # inside the border: the header is line 0
        if at is None:
            return
        index = at.y - 1 + self.scroll_offset.y
        if not (at.y >= 1 and 0 <= index < len(self._order)):
            return
        self.cursor = index
        pid = self._order[index]
        if pid == FOLD or self._model is None or pid not in self._model.procs:
            return  # the exited's line, or a thread's row
        key, offset = self._column_at(at.x + self.scroll_offset.x)
        branch = self._branches.get(pid)
        if key == "who" and branch is not None and branch.mark and len(branch.lines) <= offset < len(branch.prefix):
            self.action_fold()
        elif key in HISTORY:
            start = history.grid(self._now_ns, history.STEP_NS, history.CELLS) + offset * history.STEP_NS
            peak = self._model.procs[pid].samples.peak(start, start + history.STEP_NS - 1)
            self.post_message(SeekTo(peak[0] if peak else start))  # its highest CPU in that column

    def _column_at(self, x: int) -> tuple[str, int]:
        """The column at ``x`` cells from the row's left, and how far into it ("" between columns)."""
        left = 1
        for key, width in zip(self._layout.keys, self._layout.widths, strict=True):
            if left <= x < left + width:
                return key, x - left
            left += width + GAP
        return "", 0
