"""One lane per process: its phases as coloured segments over the last minute."""

from __future__ import annotations

from bisect import bisect_right
from itertools import groupby
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip

from mpviz.lang import T
from mpviz.model import Model, Phase, Proc
from mpviz.ui.theme import PHASE_GLYPH, PHASE_STYLE, PHASE_WORDS
from mpviz.ui.widgets.scrolling import SteadyScrollView

# The names' column: at least this wide, and wider for a longer name ("ForkPoolWorker-12"), up to LABEL_MAX.
LABEL = 16
LABEL_MAX = 27
NS = 1_000_000_000
# The window grows with the run, in steps, up to a minute: a short lesson
# fills the width instead of huddling at the right edge.
WINDOW_STEP_S = 10
WINDOW_MAX_S = 60


def window_ns(model: Model, now_ns: int) -> int:
    elapsed = max(0, now_ns - (model.t0 or now_ns))
    steps = -(-elapsed // (WINDOW_STEP_S * NS))
    return min(max(steps, 1) * WINDOW_STEP_S, WINDOW_MAX_S) * NS


TITLE = T("Timeline (last {s} s)", "时间线(最近 {s} 秒)")
NOW = T("now", "现在")

_STYLES = {phase: Style.parse(style) for phase, style in PHASE_STYLE.items()}
_LABEL_STYLE = Style.parse("bold")
_DIM = Style.parse("grey50")


def lane(proc: Proc, start_ns: int, step_ns: int, columns: int) -> list[Phase | None]:
    """The phase that filled most of each column of the window, or None (not alive).

    Every visible lane is drawn again each second: the history before the window is
    skipped (a bisection), the columns a phase covers whole are filled in one slice,
    and the phases that share a column are weighed there. A process that changes
    state hundreds of times a second (a flood) has its whole history in the last few
    columns: those changes, one column each, take the shortest way."""
    out: list[Phase | None] = [None] * columns
    shared: dict[int, dict[str, int]] = {}  # column → phase name → time in it (names: an Enum hashes slowly)
    end_ns = start_ns + step_ns * columns
    history = list(proc.history)
    n = len(history)
    for i in range(max(0, bisect_right(history, start_ns, key=_time) - 1), n):
        t, phase, _ = history[i]
        until = history[i + 1][0] if i + 1 < n else end_ns
        if t < start_ns:
            t = start_ns
        if until > end_ns:
            until = end_ns
        if until <= t or phase is Phase.EXITED:
            continue
        first, last = (t - start_ns) // step_ns, (until - 1 - start_ns) // step_ns
        if first == last:  # within one column
            spans = shared.setdefault(first, {})
            spans[phase._name_] = spans.get(phase._name_, 0) + until - t
            continue
        whole_from = first if t == start_ns + first * step_ns else first + 1
        whole_to = last if until == start_ns + (last + 1) * step_ns else last - 1
        if whole_from <= whole_to:
            out[whole_from : whole_to + 1] = [phase] * (whole_to - whole_from + 1)
        for c in (first, last):
            if not whole_from <= c <= whole_to:
                c_start = start_ns + c * step_ns
                spans = shared.setdefault(c, {})
                spans[phase._name_] = spans.get(phase._name_, 0) + min(until, c_start + step_ns) - max(t, c_start)
    for c, spans in shared.items():
        out[c] = Phase[max(spans, key=spans.__getitem__)]
    return out


def _time(entry: tuple[int, Phase, str]) -> int:
    return entry[0]


class Timeline(SteadyScrollView):
    """Lanes scroll left as time passes; the right edge is now."""

    # Room for the vertical scrollbar is kept whether it shows or not: the lanes'
    # width does not change when it comes, and "now" is never under it.
    DEFAULT_CSS = """
    Timeline { height: 1fr; overflow-x: hidden; scrollbar-gutter: stable; }
    """
    repaint_on_length = False  # sync redraws the rows that changed

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.window_ns = WINDOW_STEP_S * NS
        self._procs: list[Proc] = []
        # The phases drawn in each lane, by pid: only lanes that change are redrawn.
        self._lanes: dict[int, list[Phase | None]] = {}
        self._drawn: tuple[object, ...] = ()
        self._frame: tuple[object, ...] = ()
        self._grid = (0, NS, 1)  # start, step and columns of the last sync
        self._label = LABEL

    def sync(self, model: Model, now_ns: int) -> None:
        """Show the lanes as of ``now_ns``: those alive in the window, in order of appearance
        (the living first when they do not all fit)."""
        window = window_ns(model, now_ns)
        if window != self.window_ns or not self.border_title:
            self.window_ns = window
            self.border_title = TITLE(s=window // NS)
        # Look again only when the picture may move: a second has passed, a process came, or
        # (once a second at most) some process changed phase. A lane is worked out from up to
        # 512 phases: under a flood, every lane at every refresh of the drawings (4 a second)
        # was 6 ms a refresh with a dozen lanes. A column is a hundredth of the window: a phase
        # is drawn at the next second at the latest, behind the table, never ahead of it.
        view = self.scrollable_content_region.size  # without the scrollbar, when there is one
        drawn = (now_ns // NS, self.window_ns, len(model.procs), view, model, model.history_changes)
        if drawn[:-1] == self._drawn[:-1]:
            return
        self._drawn = drawn
        procs = [p for p in model.procs.values() if p.exited_ns is None or p.exited_ns >= now_ns - self.window_ns]
        label = min(max([LABEL, *(cell_len(p.name) + 1 for p in procs)]), LABEL_MAX)
        columns = max(1, view.width - label)
        step = max(1, self.window_ns // columns)
        start = now_ns - step * columns
        self._grid = (start, step, columns)
        if len(procs) > view.height - 2:
            # More lanes than rows: the living first, as in the table; those that ended
            # in the last minute below them, instead of hiding the living from view.
            procs = [p for p in procs if p.exited_ns is None] + [p for p in procs if p.exited_ns is not None]
        frame = (self.window_ns, view, label)
        if frame != self._frame:
            # Another size, window or column of names: every lane moves.
            self._frame, self._lanes, self._label = frame, {}, label
            self.refresh()
        shown, self._procs = self._procs, procs
        if len(procs) != len(shown):
            # No width: nothing to scroll sideways (and Textual updates the scrollbar
            # at a layout only when this differs from the view's size).
            self.virtual_size = Size(0, len(procs) + 2)
        if len(self._lanes) > len(procs):  # lanes that left the window are forgotten
            pids = {p.pid for p in procs}
            self._lanes = {pid: phases for pid, phases in self._lanes.items() if pid in pids}
        # Redraw the visible rows whose lane or picture changed: a process leaving
        # the window moves the rows below it up; a process blocked all minute long
        # draws the same bar second after second, nothing to redraw.
        top = self.scroll_offset.y
        rows = range(top, top + max(0, view.height - 2))
        for index in rows:
            if index >= len(procs):
                if index < len(shown):
                    self.refresh_line(index + 1)  # a lane left: its row is blank now
                continue
            proc = procs[index]
            phases = lane(proc, start, step, columns)
            moved = index >= len(shown) or shown[index] is not proc
            if moved or self._lanes.get(proc.pid) != phases:
                self._lanes[proc.pid] = phases
                self.refresh_line(index + 1)

    def render_line(self, y: int) -> Strip:
        width, height = self.scrollable_content_region.size
        columns = max(1, width - self._label)
        if y == 0:
            return self._legend(width)
        if y == height - 1:
            return self._axis(columns, width)
        index = y - 1 + self.scroll_offset.y
        if index >= len(self._procs):
            return Strip.blank(width)
        proc = self._procs[index]
        phases = self._lanes.get(proc.pid)
        if phases is None:  # scrolled into view since the last sync
            phases = self._lanes[proc.pid] = lane(proc, *self._grid)
        segments = [Segment(set_cell_size(proc.name, self._label - 1) + " ", _LABEL_STYLE)]
        for phase, run in groupby(phases):
            n = sum(1 for _ in run)
            if phase is None:
                segments.append(Segment(" " * n))
            else:
                segments.append(Segment(PHASE_GLYPH[phase] * n, _STYLES[phase]))
        return Strip(segments).crop(0, width)

    def _legend(self, width: int) -> Strip:
        segments = []
        for phase in (Phase.RUNNING, Phase.SLEEPING, Phase.HOLDING, Phase.BLOCKED, Phase.STOPPED):
            segments += [Segment(PHASE_GLYPH[phase] * 2, _STYLES[phase]), Segment(f" {PHASE_WORDS[phase]}  ", _DIM)]
        return Strip(segments).crop(0, width).extend_cell_length(width)

    def _axis(self, columns: int, width: int) -> Strip:
        seconds = self.window_ns // NS
        left = f"-{seconds}s"
        middle = f"-{seconds // 2}s"
        axis = list(" " * columns)
        axis[: len(left)] = left
        mid = columns // 2 - len(middle) // 2
        axis[mid : mid + len(middle)] = middle
        now = str(NOW)
        axis[columns - cell_len(now) :] = now  # a wide character takes two cells
        return Strip([Segment(" " * self._label), Segment("".join(axis), _DIM)]).crop(0, width)
