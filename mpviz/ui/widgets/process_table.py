"""A row per PID: who it is, what it is doing in the lesson's words, and its psutil figures.

A Line-API widget rather than a DataTable.  Measured here, a DataTable of 100
rows with one column changing each second costs 3.8 % of a core; this table,
which keeps each row's line and redraws only the rows that changed, is what
lets the whole dashboard stay near htop's cost (see bench/run.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from mpviz.lang import T, words_for
from mpviz.model import Model, Phase, Proc
from mpviz.model.state import Thread
from mpviz.ui.theme import PHASE_STYLE, STATUS, duration, megabytes
from mpviz.ui.widgets.scrolling import SteadyScrollView

# Fixed widths, so that columns do not jump as states come and go.  State
# takes what the terminal has left, within bounds; on a narrow terminal the
# columns with a drop rank go first, lowest rank first.
COLUMNS = (
    # key, label (in the current language), width, drop rank (0: never dropped)
    ("pid", T("PID", "PID"), 7, 0),
    ("who", T("Who", "进程"), 15, 0),
    ("state", T("State", "状态"), 0, 0),
    ("for", T("For", "持续"), 5, 4),
    ("holds", T("Holds", "持有"), 9, 1),
    ("status", T("Status", "系统状态"), 9, 5),
    ("cpu", T("CPU%", "CPU%"), 5, 0),
    ("rss", T("RSS", "RSS"), 7, 3),
    ("threads", T("Thr", "Thr"), 3, 2),
)
STATE_WIDTH = (22, 60)
# Who grows to the longest name shown (a pool's "ForkPoolWorker-12"), within bounds.
WHO_WIDTH = (15, 26)
RIGHT = ("cpu", "rss", "threads")
GAP = 2

# A row as plain strings, cheap to build and compare every second; the last
# one is the phase, which colours the State cell.
Row = tuple[str, ...]

_PHASE_STYLES = {phase.value: Style.parse(style) for phase, style in PHASE_STYLE.items()}


def thread_row(model: Model, thread: Thread, now_ns: int, depth: int = 0) -> Row:
    """A thread that waits or holds something, under its process: its native id, its name, its state."""
    holds = ", ".join(model.prim_name(i) for i in thread.holds)
    who = "  " * depth + "↳ " + thread.label
    return (
        str(thread.tid),
        who,
        thread.state,
        duration(now_ns - thread.since_ns),
        holds,
        "",
        "",
        "",
        "",
        thread.phase.value,
    )


def shown_threads(proc: Proc) -> list[int]:
    """The threads of a live process that have a row: those that wait for (or in) or hold something."""
    if not proc.alive:
        return []
    return [tid for tid, t in proc.threads.items() if (t.blocked or t.holds or t.elsewhere) and not t.ended]


def row_of(model: Model, proc: Proc, now_ns: int, depth: int = 0) -> Row:
    since = "" if proc.phase is Phase.EXITED else duration(now_ns - proc.since_ns)
    holds = ", ".join(model.prim_name(i) for i in proc.holds)
    stats = proc.stats
    if stats is None or not proc.alive:
        status = words_for("zombie" if proc.zombie else "exited", STATUS) if not proc.alive else ""
        cpu = rss = threads = ""
    else:
        status = words_for("stopped" if proc.stopped else stats.status, STATUS)
        cpu, rss, threads = f"{stats.cpu:5.1f}", megabytes(stats.rss), str(stats.threads)
    state = f"{proc.state}  {proc.error}" if proc.error else proc.state
    who = ("  " * (depth - 1) + "└ " if depth else "") + proc.name
    return (str(proc.pid), who, state, since, holds, status, cpu, rss, threads, proc.phase.value)


@dataclass(frozen=True)
class Layout:
    keys: tuple[str, ...]
    widths: tuple[int, ...]

    @property
    def width(self) -> int:
        return sum(w + GAP for w in self.widths)


def layout(width: int, who: int = WHO_WIDTH[0]) -> Layout:
    """The columns to show in a table ``width`` cells wide, and their widths; ``who``: the
    widest name to show (Who takes it, within ``WHO_WIDTH``)."""
    low, high = STATE_WIDTH
    who = min(max(who, WHO_WIDTH[0]), WHO_WIDTH[1])
    shown = [(key, label, who if key == "who" else w, rank) for key, label, w, rank in COLUMNS]

    def fixed() -> int:
        return sum(w + GAP for _, _, w, _ in shown) + GAP

    for rank in sorted({c[3] for c in COLUMNS if c[3]}):
        if fixed() + low <= width:
            break
        shown = [c for c in shown if c[3] != rank]
    state = min(max(width - fixed(), low), high)
    return Layout(tuple(c[0] for c in shown), tuple(w or state for _, _, w, _ in shown))


def fit(text: str, width: int, right: bool = False) -> str:
    """Exactly ``width`` cells: padded, or cut with an ellipsis."""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text.rjust(width) if right else text, width)


# How the rows can be ordered (``<`` and ``>`` go through them).
SORTS = ("start", "cpu", "state", "pid")
SORT_WORDS = {
    "start": T("in order of start", "按启动顺序"),
    "cpu": T("by CPU", "按 CPU"),
    "state": T("by state", "按状态"),
    "pid": T("by PID", "按 PID"),
}
FOLDED = T("  {n} more exited — h to show them", "  还有 {n} 个已退出 —— 按 h 显示")
# The line that stands for the exited processes while they are folded.
FOLD = -1


class ProcessTable(SteadyScrollView, can_focus=True):
    """Rows keyed by PID, the living first; a cursor that live updates never move off its process.

    Exited processes come after the living, folded into one line when all
    rows would not fit (``h`` shows or folds them); rows can be sorted by CPU,
    state or PID, and filtered by name.  A watched program's processes are a
    tree: each child under its parent (its "start" order).  A thread that
    waits for or holds something has a row of its own under its process,
    keyed by its native id (never a pid of another process: Linux numbers
    threads and processes from one space).
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
    ]

    cursor: reactive[int] = reactive(0)

    class Highlighted(Message):
        """The cursor is on another process."""

        def __init__(self, pid: int | None) -> None:
            super().__init__()
            self.pid = pid

    def __init__(self, tree: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # A watched program's processes parent before child, each child under its parent.
        self.as_tree = tree
        self.sort = SORTS[0]
        self.show_exited = False
        self.filter = ""
        self._depth: dict[int, int] = {}
        self._order: list[int] = []  # what is shown, in order: pids, and maybe FOLD
        self._index: dict[int, int] = {}
        self._rows: dict[int, Row] = {}
        self._strips: dict[int, Strip] = {}
        self._alive: dict[int, bool] = {}
        self._cpu: dict[int, float] = {}
        self._threads: dict[int, list[int]] = {}  # pid → its threads that have a row, in order
        self._folded = 0
        self._arranged = 0  # how many processes the order knows
        self._model: Model | None = None
        self._now_ns = 0
        self._stale: set[int] = set()  # rows out of sight whose process changed since they were made
        self._width, self._who = 120, WHO_WIDTH[0]
        self._layout = layout(self._width)

    # --- data ------------------------------------------------------------------

    def sync(self, model: Model, now_ns: int, pids: set[int] | None, clock: bool = False) -> None:
        """Bring the rows of ``pids`` (all of them if None) up to date; redraw only rows that changed.

        With ``clock`` (a second passed) the rows in view are brought up to date too, for their
        times. The others' times wait until they scroll into view: with hundreds of processes,
        refreshing every row each second cost more than all the drawing."""
        self._model = model
        self._now_ns = now_ns
        moved = False
        if self.as_tree and len(self._depth) != len(model.procs):
            self._depth = depths(model)
            pids = None  # depths may have moved: every row again
        in_view = self._in_view()
        if pids is not None:
            pids = pids | in_view if clock else set(pids)
            if len(self._rows) != len(model.procs):
                pids.update(pid for pid in model.procs if pid not in self._rows)
        for pid, proc in model.procs.items():
            if pids is not None and pid not in pids:
                continue
            threads = shown_threads(proc)
            before = self._threads.get(pid, [])
            if threads != before:
                moved = True
                self._threads[pid] = threads
                for tid in set(before) - set(threads):
                    self._rows.pop(tid, None)
                    self._strips.pop(tid, None)
            for tid in threads:
                row = thread_row(model, proc.threads[tid], now_ns, self._depth.get(pid, 0) + 1)
                if self._rows.get(tid) != row:
                    self._rows[tid] = row
                    self._strips.pop(tid, None)
                    if tid in self._index:
                        self.refresh_line(self._index[tid] + 1)
            cpu = proc.stats.cpu if proc.stats and proc.alive else 0.0
            if self._alive.get(pid) != proc.alive or (self.sort == "cpu" and self._cpu.get(pid) != cpu):
                moved = True
            self._alive[pid] = proc.alive
            self._cpu[pid] = cpu
            if pid in self._rows and pid not in in_view:
                # Out of sight: its row is made when it is drawn (a psutil sample a second
                # for hundreds of hidden rows would cost more than all the drawing).
                self._stale.add(pid)
                moved |= self.sort == "state"
                continue
            if not self._remake(pid):
                continue
            if self.sort == "state":
                moved = True
            if pid in self._index:
                self.refresh_line(self._index[pid] + 1)
        if moved or len(self._alive) != self._arranged:
            self.order_rows()

    def _remake(self, pid: int) -> bool:
        """Make the row of ``pid`` (its process in the last synced model) again; True if it changed."""
        assert self._model is not None
        self._stale.discard(pid)
        if pid not in self._model.procs:
            return False  # a thread's row: made with its process's
        row = row_of(self._model, self._model.procs[pid], self._now_ns, self._depth.get(pid, 0))
        if self._rows.get(pid) == row:
            return False
        self._rows[pid] = row
        self._strips.pop(pid, None)
        if cell_len(row[_INDEX["who"]]) > self._who:
            self._who = cell_len(row[_INDEX["who"]])
            self._relayout()
        return True

    def _row(self, pid: int) -> Row:
        """The row of ``pid``, made now if it was left stale out of sight."""
        if pid in self._stale and self._model is not None and pid in self._model.procs:
            self._remake(pid)
        return self._rows[pid]

    def _in_view(self) -> set[int]:
        top = round(self.scroll_offset.y)
        return {pid for pid in self._order[top : top + max(1, self.size.height - 1)] if pid != FOLD}

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self._model is not None and round(old) != round(new):
            self.sync(self._model, self._now_ns, set(), clock=True)  # the rows coming into view, up to date

    def order_rows(self) -> None:
        """Put the rows in order: the living, sorted, then the exited (or one line for them)."""
        model = self._model
        if model is None:
            return
        selected = self.selected_pid
        self._arranged = len(self._alive)
        base = list(self._depth) if self.as_tree else list(model.procs)
        wanted = self.filter.casefold()
        shown = [pid for pid in base if pid in self._rows and wanted in model.procs[pid].name.casefold()]
        live = [pid for pid in shown if self._alive.get(pid)]
        gone = [pid for pid in shown if not self._alive.get(pid)]
        if self.sort == "cpu":
            live.sort(key=lambda pid: -self._cpu.get(pid, 0.0))
        elif self.sort == "state":
            live.sort(key=lambda pid: (model.procs[pid].phase.value, model.procs[pid].state))
        elif self.sort == "pid":
            live.sort()
            gone.sort()
        room = max(1, self.size.height - 1) if self.size.height else len(shown)
        if gone and not self.show_exited and len(shown) > room:
            # As many of the exited as fit, the latest to end; one line for the rest.
            keep = max(0, room - len(live) - 1)
            latest = sorted(gone, key=lambda pid: model.procs[pid].exited_ns or 0)[len(gone) - keep :] if keep else []
            order = live + [pid for pid in gone if pid in latest] + [FOLD]
            self._folded = len(gone) - len(latest)
        else:
            order = live + gone
            self._folded = 0
        order = [key for pid in order for key in (pid, *self._threads.get(pid, ()))]
        if order != self._order:
            self._order = order
            self._index = {pid: i for i, pid in enumerate(order) if pid != FOLD}
            self.virtual_size = Size(self._layout.width, len(order) + 1)
            if selected in self._index:
                self.set_reactive(ProcessTable.cursor, self._index[selected])
            elif self.cursor >= len(order):
                self.set_reactive(ProcessTable.cursor, max(0, len(order) - 1))
            if self.selected_pid != selected:
                self.post_message(self.Highlighted(self.selected_pid))
            self.refresh()

    def toggle_exited(self) -> None:
        self.show_exited = not self.show_exited
        self.order_rows()

    def next_sort(self, step: int) -> str:
        self.sort = SORTS[(SORTS.index(self.sort) + step) % len(SORTS)]
        self.order_rows()
        return str(SORT_WORDS[self.sort])

    def set_filter(self, text: str) -> None:
        self.filter = text
        self.order_rows()

    def reset(self) -> None:
        """Forget every row (a replay moved to another moment); the next ``sync`` fills them in again."""
        self._depth, self._order, self._index, self._rows, self._strips, self._threads = {}, [], {}, {}, {}, {}
        self._alive, self._cpu, self._arranged, self._folded = {}, {}, 0, 0
        self._stale = set()
        self._who = WHO_WIDTH[0]
        self._relayout()
        self.refresh()

    @property
    def selected_pid(self) -> int | None:
        """The process of the row under the cursor (a thread's row: its process)."""
        if 0 <= self.cursor < len(self._order):
            key = self._order[self.cursor]
            if key == FOLD:
                return None
            return self._model.pid_of(key) if self._model is not None else key
        return None

    # --- drawing --------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self.order_rows()  # room for more rows, or for fewer
        # Leave room for the vertical scrollbar, so that no horizontal one is needed.
        self._width = event.size.width - self.styles.scrollbar_size_vertical
        self._relayout()

    def _relayout(self) -> None:
        new = layout(self._width, self._who)
        if new != self._layout:
            self._layout = new
            self._strips.clear()
            self.virtual_size = Size(new.width, len(self._order) + 1)
            self.refresh()

    def _line(self, values: Row | None, style: Style | None, state_style: Style | None = None) -> Strip:
        segments = [Segment(" ")]
        for key, width in zip(self._layout.keys, self._layout.widths, strict=True):
            text = str(_LABELS[key]) if values is None else values[_INDEX[key]]
            cell_style = state_style if key == "state" and state_style is not None else None
            segments.append(Segment(fit(text, width, key in RIGHT), cell_style))
            segments.append(Segment(" " * GAP))
        return Strip(segments).apply_style(style) if style else Strip(segments)

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
        index = event.y - 1 + self.scroll_offset.y
        if event.y >= 1 and 0 <= index < len(self._order):
            self.cursor = index


def depths(model: Model) -> dict[int, int]:
    """Every process's depth under its parent, in tree order: parent first, then its children depth first."""
    children: dict[int | None, list[int]] = {}
    for pid, proc in model.procs.items():
        parent = proc.ppid if proc.ppid in model.procs and proc.ppid != pid else None
        children.setdefault(parent, []).append(pid)
    out: dict[int, int] = {}
    stack = [(pid, 0) for pid in reversed(children.get(None, []))]
    while stack:
        pid, depth = stack.pop()
        if pid in out:
            continue
        out[pid] = depth
        stack.extend((child, depth + 1) for child in reversed(children.get(pid, [])))
    for pid in model.procs:  # a cycle of parents (pids reused): shown at the top
        out.setdefault(pid, 0)
    return out


_INDEX = {key: i for i, (key, _, _, _) in enumerate(COLUMNS)}
_DIM = Style(dim=True, italic=True)
_LABELS = {key: label for key, label, _, _ in COLUMNS}
