"""A row per PID, as a tree: who it is, what it is doing in the lesson's words, its psutil figures and their last minute.

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
from mpviz.model.actors import Thread
from mpviz.ui.messages import SeekTo
from mpviz.ui.theme import PHASE_STYLE, STATUS, duration, megabytes
from mpviz.ui.widgets import history
from mpviz.ui.widgets.process_tree import SHUT, Branch, below, tree
from mpviz.ui.widgets.scrolling import SteadyScrollView

# Fixed widths, so that columns do not jump as states come and go.  State
# takes what the terminal has left, within bounds; on a narrow terminal the
# columns with a drop rank go first, lowest rank first.
COLUMNS = (
    # key, label (in the current language), width, drop rank (0: never dropped)
    ("pid", T("PID", "PID"), 7, 0),
    ("who", T("Who", "进程"), 18, 0),
    ("state", T("State", "状态"), 0, 0),
    ("for", T("For", "持续"), 5, 6),
    ("holds", T("Holds", "持有"), 9, 3),
    ("status", T("Status", "系统状态"), 9, 7),
    ("cpu", T("CPU%", "CPU%"), 5, 0),
    ("cpu_h", T("CPU 1m", "CPU 1分"), history.CELLS, 2),
    ("rss", T("RSS", "RSS"), 7, 5),
    ("rss_h", T("RSS 1m", "RSS 1分"), history.CELLS, 1),
    ("threads", T("Thr", "Thr"), 3, 4),
)
STATE_WIDTH = (22, 60)
# Who grows to the longest name shown (a pool's "ForkPoolWorker-12", its tree lines and fold
# mark before it), within bounds: at least the column's own width.
WHO_WIDTH = (next(w for key, _, w, _ in COLUMNS if key == "who"), 26)
RIGHT = ("cpu", "rss", "threads")
# The sparklines: a click on one is a moment of time (a replay moves there).
HISTORY = {"cpu_h": "cpu", "rss_h": "rss"}
GAP = 2

# A row as plain strings, cheap to build and compare every second; the last
# one is the phase, which colours the State cell.
Row = tuple[str, ...]

_PHASE_STYLES = {phase.value: Style.parse(style) for phase, style in PHASE_STYLE.items()}


def thread_row(model: Model, thread: Thread, now_ns: int, lines: str = "") -> Row:
    """A thread that waits or holds something, under its process (``lines``: the tree's lines
    of its process's children): its native id, its name, its state."""
    holds = ", ".join(model.prim_name(i) for i in thread.holds)
    who = lines + "↳ " + thread.label
    since = duration(now_ns - thread.since_ns)
    return (str(thread.tid), who, thread.state, since, holds, "", "", "", "", "", "", thread.phase.value)


def shown_threads(proc: Proc) -> list[int]:
    """The threads of a live process that have a row: those that wait for (or in) or hold something."""
    if not proc.alive:
        return []
    return [tid for tid, t in proc.threads.items() if (t.blocked or t.holds or t.elsewhere) and not t.ended]


def row_of(model: Model, proc: Proc, now_ns: int, branch: Branch | None = None, under: list[Proc] | None = None) -> Row:
    """A process's row; in a tree, its ``branch`` (tree lines, fold mark); folded, the figures of
    every living process ``under`` its row added up."""
    since = "" if proc.phase is Phase.EXITED else duration(now_ns - proc.since_ns)
    holds = ", ".join(model.prim_name(i) for i in proc.holds)
    stats = proc.stats
    group = under or [proc]
    if not proc.alive:
        status = words_for("zombie" if proc.zombie else "exited", STATUS)
    else:
        status = words_for("stopped" if proc.stopped else stats.status, STATUS) if stats is not None else ""
    live = [p.stats for p in group if p.alive and p.stats is not None]
    cpu = f"{sum(s.cpu for s in live):5.1f}" if live else ""
    rss = megabytes(sum(s.rss for s in live)) if live else ""
    threads = str(sum(s.threads for s in live)) if live else ""
    state = f"{proc.state}  {proc.error}" if proc.error else proc.state
    who = (branch.prefix if branch else "") + proc.name + (f" (+{branch.hidden})" if branch and branch.hidden else "")
    cpu_h = history.sparkline(group, "cpu", now_ns)
    rss_h = history.sparkline(group, "rss", now_ns)
    return (str(proc.pid), who, state, since, holds, status, cpu, cpu_h, rss, rss_h, threads, proc.phase.value)


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

    cursor: reactive[int] = reactive(0)

    class Highlighted(Message):
        """The cursor is on another process."""

        def __init__(self, pid: int | None) -> None:
            super().__init__()
            self.pid = pid

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sort = SORTS[0]
        self.show_exited = False
        self.filter = ""
        self.folded: set[int] = set()  # roots of the folded subtrees
        self._branches: dict[int, Branch] = {}  # the tree's rows, when the rows are a tree
        self._under: dict[int, list[int]] = {}  # each process's children in the tree
        self._folded_into: dict[int, int] = {}  # a process under a folded row → that row
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
        in_view = self._in_view()
        if pids is not None:
            pids = pids | in_view if clock else set(pids)
            if len(self._rows) != len(model.procs):
                pids.update(pid for pid in model.procs if pid not in self._rows)
            # A folded row adds up the figures of the processes under it.
            pids.update(self._folded_into[pid] for pid in list(pids) if pid in self._folded_into)
        for pid, proc in model.procs.items():
            if pids is not None and pid not in pids:
                continue
            moved |= self._sync_threads(model, proc, now_ns)
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

    def _sync_threads(self, model: Model, proc: Proc, now_ns: int) -> bool:
        """The rows of a process's threads up to date; True if which threads have one changed."""
        threads = shown_threads(proc)
        before = self._threads.get(proc.pid, [])
        if threads != before:
            self._threads[proc.pid] = threads
            for tid in set(before) - set(threads):
                self._rows.pop(tid, None)
                self._strips.pop(tid, None)
        branch = self._branches.get(proc.pid)
        lines = _children_lines(branch) if branch is not None else ""
        for tid in threads:
            row = thread_row(model, proc.threads[tid], now_ns, lines)
            if self._rows.get(tid) != row:
                self._rows[tid] = row
                self._strips.pop(tid, None)
                if tid in self._index:
                    self.refresh_line(self._index[tid] + 1)
        return threads != before

    def _remake(self, pid: int) -> bool:
        """Make the row of ``pid`` (its process in the last synced model) again; True if it changed."""
        model = self._model
        assert model is not None
        self._stale.discard(pid)
        if pid not in model.procs:
            return False  # a thread's row: made with its process's
        branch = self._branches.get(pid)
        under = None
        if branch is not None and branch.mark == SHUT:
            under = [model.procs[p] for p in below(pid, self._under) if p in model.procs]
        row = row_of(model, model.procs[pid], self._now_ns, branch, under)
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

    def figures_in_view(self) -> set[int] | None:
        """The processes whose psutil figures the table shows now: its rows in view, and every
        process folded into one of them (None: every process's count, sorted by CPU)."""
        model = self._model
        if model is None or self.sort == "cpu":
            return None
        pids = set()
        for key in self._in_view():
            pid = model.pid_of(key)
            pids.add(pid)
            branch = self._branches.get(pid)
            if branch is not None and branch.mark == SHUT:
                pids.update(below(pid, self._under))
        return pids

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self._model is not None and round(old) != round(new):
            self.sync(self._model, self._now_ns, set(), clock=True)  # the rows coming into view, up to date

    @property
    def as_tree(self) -> bool:
        """The rows are a tree: in order of start, unfiltered."""
        return self.sort == "start" and not self.filter

    def _arrange_tree(self, model: Model) -> tuple[list[int], list[int], bool]:
        """The tree's rows and the exited after it; rows whose tree lines moved are made again (True)."""
        found = tree(model, self.folded)
        branches = {b.pid: b for b in found.rows}
        redraw = branches != self._branches
        if redraw:
            moved = {
                pid for pid in branches.keys() | self._branches.keys() if branches.get(pid) != self._branches.get(pid)
            }
            self._branches, self._under = branches, found.under
            self._folded_into = {
                hidden: b.pid for b in found.rows if b.mark == SHUT for hidden in below(b.pid, found.under)[1:]
            }
            for pid in moved & self._rows.keys():
                self._stale.add(pid)
        rows = [b.pid for b in found.rows if b.pid in self._rows]
        return rows, [pid for pid in found.rest if pid in self._rows], redraw

    def order_rows(self) -> None:
        """Put the rows in order: the tree (or the living, sorted), then the exited (or one line for them)."""
        model = self._model
        if model is None:
            return
        selected = self.selected_pid
        self._arranged = len(self._alive)
        redraw = False
        if self.as_tree:
            live, gone, redraw = self._arrange_tree(model)
        else:
            if self._branches:
                self._branches, self._folded_into = {}, {}
                self._stale.update(self._rows)  # their tree lines go
                redraw = True
            wanted = self.filter.casefold()
            shown = [pid for pid in model.procs if pid in self._rows and wanted in model.procs[pid].name.casefold()]
            live = [pid for pid in shown if self._alive.get(pid)]
            gone = [pid for pid in shown if not self._alive.get(pid)]
        if self.sort == "cpu":
            live.sort(key=lambda pid: -self._cpu.get(pid, 0.0))
        elif self.sort == "state":
            live.sort(key=lambda pid: (model.procs[pid].phase.value, model.procs[pid].state))
        elif self.sort == "pid":
            live.sort()
            gone.sort()
        shown_count = len(live) + len(gone)
        room = max(1, self.size.height - 1) if self.size.height else shown_count
        if gone and not self.show_exited and shown_count > room:
            # As many of the exited as fit, the latest to end; one line for the rest.
            keep = max(0, room - len(live) - 1)
            latest = sorted(gone, key=lambda pid: model.procs[pid].exited_ns or 0)[len(gone) - keep :] if keep else []
            order = live + [pid for pid in gone if pid in latest] + [FOLD]
            self._folded = len(gone) - len(latest)
        else:
            order = live + gone
            self._folded = 0
        order = [key for pid in order for key in (pid, *self._threads.get(pid, ()))]
        if order != self._order or redraw:
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

    def action_fold(self) -> None:
        """Fold the selected process's subtree into its row, or unfold it."""
        pid = self.selected_pid
        if pid is not None and self.as_tree and self._under.get(pid):
            self.folded ^= {pid}
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
        self._order, self._index, self._rows, self._strips = [], {}, {}, {}
        self._branches, self._under, self._folded_into, self._threads = {}, {}, {}, {}
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


def _children_lines(branch: Branch) -> str:
    """The tree's lines before the rows under a process: its own, each turned into a line going on."""
    if not branch.lines:
        return ""
    return branch.lines[:-2] + ("│ " if branch.lines.endswith("├ ") else "  ")


_INDEX = {key: i for i, (key, _, _, _) in enumerate(COLUMNS)}
_DIM = Style(dim=True, italic=True)
_LABELS = {key: label for key, label, _, _ in COLUMNS}
