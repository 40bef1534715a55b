"""A row per PID: who it is, what it is doing in the lesson's words, and its psutil figures."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widgets import DataTable

from mpviz.model import Model, Phase, Proc
from mpviz.ui.theme import PHASE_STYLE, duration, megabytes

# Fixed widths, so that columns do not jump as states come and go.  State
# takes what the terminal has left, within bounds; on a narrow terminal the
# columns with a ``drop`` rank go first, lowest rank first.
COLUMNS = (
    # key, label, width, drop rank (0: never dropped)
    ("pid", "PID", 7, 0),
    ("who", "Who", 11, 0),
    ("state", "State", 0, 0),
    ("for", "For", 5, 4),
    ("holds", "Holds", 9, 1),
    ("status", "Status", 9, 5),
    ("cpu", "CPU%", 5, 0),
    ("rss", "RSS", 7, 3),
    ("threads", "Thr", 3, 2),
)
STATE_WIDTH = (22, 60)
RIGHT = ("cpu", "rss", "threads")


def layout(width: int) -> tuple[list[str], int]:
    """The columns to show in a table ``width`` cells wide, and State's width."""
    low, high = STATE_WIDTH
    shown = [c for c in COLUMNS]
    room = width - 4  # border and scrollbar

    def needed() -> int:
        return sum(w + 2 for _, _, w, _ in shown) + low + 2

    for rank in sorted({c[3] for c in COLUMNS if c[3]}):
        if needed() <= room:
            break
        shown = [c for c in shown if c[3] != rank]
    state = min(max(room - sum(w + 2 for _, _, w, _ in shown) - 2, low), high)
    return [c[0] for c in shown], state


Cells = tuple[object, ...]


def cells(proc: Proc, now_ns: int) -> Cells:
    """The row of one process.  Plain values where the style never changes,
    so that comparing rows to find changed cells stays cheap."""
    state = Text(proc.state, style=PHASE_STYLE[proc.phase], no_wrap=True, overflow="ellipsis")
    if proc.error:
        state.append(f"  {proc.error}", style="red")
    since = "" if proc.phase is Phase.EXITED else duration(now_ns - proc.since_ns)
    holds = ", ".join(proc.holds)
    stats = proc.stats
    if stats is None or not proc.alive:
        status = "exited" if not proc.alive else ""
        row: tuple[object, ...] = (proc.pid, proc.name, state, since, holds, status, "", "", "")
    else:
        status = "stopped" if proc.stopped else stats.status
        cpu, rss = f"{stats.cpu:5.1f}", megabytes(stats.rss)
        row = (proc.pid, proc.name, state, since, holds, status, cpu, rss, str(stats.threads))
    # Text, not str: DataTable reads a str cell as markup, and a label or an
    # item may contain brackets.
    return tuple(
        Text(c, justify="right" if i >= 6 else "left", no_wrap=True, overflow="ellipsis") if isinstance(c, str) else c
        for i, c in enumerate(row)
    )


def _style(cell: object) -> object:
    return cell.style if isinstance(cell, Text) else None


class ProcessTable(DataTable):
    """Keyed by PID and updated by diff: a live refresh never moves the cursor."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._shown: dict[int, Cells] = {}
        self._layout: tuple[list[str], int] = ([], 0)

    def on_resize(self, event: events.Resize) -> None:
        self.relayout(event.size.width)

    def relayout(self, width: int) -> None:
        """Choose the columns for this width; rebuild the table only if they change."""
        wanted = layout(width)
        if wanted == self._layout:
            return
        self._layout = wanted
        keys, state = wanted
        selected = self.selected_pid
        self.clear(columns=True)
        for key, label, width_, _ in COLUMNS:
            if key in keys:
                justify = "right" if key in RIGHT else "left"
                self.add_column(Text(label, justify=justify), key=key, width=width_ or state)
        for pid, row in self._shown.items():
            self.add_row(*self._visible(row), key=str(pid))
        if selected is not None and str(selected) in self.rows:
            self.move_cursor(row=self.get_row_index(str(selected)))

    def _visible(self, row: Cells) -> list[object]:
        keys = self._layout[0]
        return [cell for (key, _, _, _), cell in zip(COLUMNS, row, strict=True) if key in keys]

    def sync(self, model: Model, now_ns: int, pids: set[int] | None) -> None:
        """Bring the rows of ``pids`` (all of them if None) up to date, new rows in order of appearance."""
        keys = self._layout[0]
        for pid, proc in model.procs.items():
            if pids is not None and pid not in pids:
                continue
            row = cells(proc, now_ns)
            old = self._shown.get(pid)
            self._shown[pid] = row
            if not keys:
                continue  # not laid out yet: the first layout adds every row
            if old is None:
                self.add_row(*self._visible(row), key=str(pid))
            elif old != row or _style(old[2]) != _style(row[2]):
                for (key, _, _, _), before, after in zip(COLUMNS, old, row, strict=True):
                    if key in keys and (before != after or _style(before) != _style(after)):
                        self.update_cell(str(pid), key, after)

    @property
    def selected_pid(self) -> int | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return int(key) if key is not None else None
