"""The process table's rows kept: each made again as its process changes, all put in order
(a tree, or sorted, or filtered; the exited after the living, folded into a line when they
do not fit).  The widget that draws them and moves among them is
:class:`~mpviz.ui.widgets.process_table.ProcessTable`.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip

from mpviz.lang import T
from mpviz.model import Model, Phase, Proc
from mpviz.ui.theme import duration_lasts
from mpviz.ui.widgets import history
from mpviz.ui.widgets.process_columns import INDEX, WHO_WIDTH, layout
from mpviz.ui.widgets.process_rows import Row, children_lines, row_of, shown_threads, thread_row
from mpviz.ui.widgets.process_tree import SHUT, Branch, below, tree
from mpviz.ui.widgets.scrolling import SteadyScrollView

# How the rows can be ordered (``<`` and ``>`` go through them).
SORTS = ("start", "cpu", "state", "pid")
SORT_WORDS = {
    "start": T("in order of start", "按启动顺序"),
    "cpu": T("by CPU", "按 CPU"),
    "state": T("by state", "按状态"),
    "pid": T("by PID", "按 PID"),
}
# The line that stands for the exited processes while they are folded.
FOLD = -1


class OrderedRows(SteadyScrollView):
    """Rows keyed by PID (a thread's by its native id), made from the last synced model, in order."""

    cursor: reactive[int] = reactive(0)

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
        # pid → when its row, made last at _now_ns, reads otherwise by the clock alone (a duration, a
        # sparkline's column): until then a second passing leaves it as it is, unless a record came.
        self._due: dict[int, int] = {}
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
            if clock:  # the rows in view whose times read otherwise now (the others' text is what it was)
                due = self._due.get
                pids = pids | {pid for pid in in_view if due(pid, 0) <= now_ns}
            else:
                pids = set(pids)
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
        lines = children_lines(branch) if branch is not None else ""
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
        proc = model.procs[pid]
        row = row_of(model, proc, self._now_ns, branch, under)
        self._due[pid] = self._changes_at(proc)
        if self._rows.get(pid) == row:
            return False
        self._rows[pid] = row
        self._strips.pop(pid, None)
        if cell_len(row[INDEX["who"]]) > self._who:
            self._who = cell_len(row[INDEX["who"]])
            self._relayout()
        return True

    def _changes_at(self, proc: Proc) -> int:
        """When the row of ``proc`` (and of its threads), made at ``_now_ns``, reads otherwise by the
        clock alone: the next column of its sparklines, or a duration's next figure."""
        now = self._now_ns
        due = (now // history.STEP_NS + 1) * history.STEP_NS
        since = [proc.since_ns] if proc.phase is not Phase.EXITED else []
        since += [proc.threads[tid].since_ns for tid in self._threads.get(proc.pid, ()) if tid in proc.threads]
        return min([due, *(now + duration_lasts(now - ns) for ns in since)])

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

    def _relayout(self) -> None:
        """The columns for the table's width and its widest name (see ``process_columns.layout``)."""
        new = layout(self._width, self._who)
        if new != self._layout:
            self._layout = new
            self._strips.clear()
            self.virtual_size = Size(new.width, len(self._order) + 1)
            self.refresh()

    # --- order ------------------------------------------------------------------

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
                self.set_reactive(OrderedRows.cursor, self._index[selected])
            elif self.cursor >= len(order):
                self.set_reactive(OrderedRows.cursor, max(0, len(order) - 1))
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
        self._due = {}
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
