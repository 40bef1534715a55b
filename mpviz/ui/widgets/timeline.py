"""One lane per process: its phases as coloured segments over the last minute."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from mpviz.model import Model, Phase, Proc
from mpviz.ui.theme import PHASE_GLYPH, PHASE_STYLE, PHASE_WORDS

LABEL = 16
NS = 1_000_000_000
# The window grows with the run, in steps, up to a minute: a short lesson
# fills the width instead of huddling at the right edge.
WINDOW_STEP_S = 10
WINDOW_MAX_S = 60


def window_ns(model: Model, now_ns: int) -> int:
    elapsed = max(0, now_ns - (model.t0 or now_ns))
    steps = -(-elapsed // (WINDOW_STEP_S * NS))
    return min(max(steps, 1) * WINDOW_STEP_S, WINDOW_MAX_S) * NS


_STYLES = {phase: Style.parse(style) for phase, style in PHASE_STYLE.items()}
_LABEL_STYLE = Style.parse("bold")
_DIM = Style.parse("grey50")


def lane(proc: Proc, start_ns: int, step_ns: int, columns: int) -> list[Phase | None]:
    """The phase that filled most of each column of the window, or None (not alive)."""
    spans: list[dict[Phase, int]] = [{} for _ in range(columns)]
    end_ns = start_ns + step_ns * columns
    history = list(proc.history)
    for i, (t, phase, _) in enumerate(history):
        until = history[i + 1][0] if i + 1 < len(history) else end_ns
        if phase is Phase.EXITED or until <= start_ns or t >= end_ns:
            continue
        t, until = max(t, start_ns), min(until, end_ns)
        first, last = (t - start_ns) // step_ns, (until - 1 - start_ns) // step_ns
        for c in range(first, last + 1):
            c_start = start_ns + c * step_ns
            covered = min(until, c_start + step_ns) - max(t, c_start)
            spans[c][phase] = spans[c].get(phase, 0) + covered
    return [max(s, key=s.__getitem__) if s else None for s in spans]


class Timeline(ScrollView):
    """Lanes scroll left as time passes; the right edge is now."""

    DEFAULT_CSS = """
    Timeline { height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.window_ns = WINDOW_STEP_S * NS
        self._procs: list[Proc] = []
        # The phases drawn in each lane, by pid: only lanes that change are redrawn.
        self._lanes: dict[int, list[Phase | None]] = {}
        self._drawn: tuple[int, ...] = ()
        self._frame: tuple[int, ...] = ()
        self._grid = (0, NS, 1)  # start, step and columns of the last sync

    def sync(self, model: Model, now_ns: int) -> None:
        """Show the lanes as of ``now_ns``: those alive in the window, in order of appearance."""
        window = window_ns(model, now_ns)
        if window != self.window_ns or not self.border_title:
            self.window_ns = window
            self.border_title = f"Timeline (last {window // NS} s)"
        # Look again only when the picture may move: a second has passed, or
        # some process changed phase.
        drawn = (now_ns // NS, self.window_ns, model.history_changes, len(model.procs), self.size.width)
        if drawn == self._drawn:
            return
        self._drawn = drawn
        columns = max(1, self.size.width - LABEL)
        step = max(1, self.window_ns // columns)
        start = now_ns - step * columns
        self._grid = (start, step, columns)
        procs = [p for p in model.procs.values() if p.exited_ns is None or p.exited_ns >= now_ns - self.window_ns]
        frame = (self.window_ns, self.size.width, self.size.height, *(p.pid for p in procs))
        if frame != self._frame:
            # Other lanes, another size or window: everything moves.
            self._frame, self._procs, self._lanes = frame, procs, {}
            self.virtual_size = Size(self.size.width, len(procs) + 2)
            self.refresh()
        # Within the frame, redraw the visible lanes whose picture changed.  A
        # process blocked all minute long draws the same bar second after
        # second: nothing to redraw.
        top = self.scroll_offset.y
        for index in range(top, min(len(procs), top + max(0, self.size.height - 2))):
            proc = procs[index]
            phases = lane(proc, start, step, columns)
            if self._lanes.get(proc.pid) != phases:
                self._lanes[proc.pid] = phases
                self.refresh_line(index + 1)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        columns = max(1, width - LABEL)
        if y == 0:
            return self._legend(width)
        if y == self.size.height - 1:
            return self._axis(columns, width)
        index = y - 1 + self.scroll_offset.y
        if index >= len(self._procs):
            return Strip.blank(width)
        proc = self._procs[index]
        phases = self._lanes.get(proc.pid)
        if phases is None:  # scrolled into view since the last sync
            phases = self._lanes[proc.pid] = lane(proc, *self._grid)
        segments = [Segment(f"{proc.name[: LABEL - 1]:<{LABEL}}", _LABEL_STYLE)]
        for phase, run in groupby(phases):
            n = sum(1 for _ in run)
            if phase is None:
                segments.append(Segment(" " * n))
            else:
                segments.append(Segment(PHASE_GLYPH[phase] * n, _STYLES[phase]))
        return Strip(segments).crop(0, width)

    def _legend(self, width: int) -> Strip:
        segments = []
        for phase in (Phase.RUNNING, Phase.HOLDING, Phase.BLOCKED, Phase.STOPPED):
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
        axis[columns - 3 :] = "now"
        return Strip([Segment(" " * LABEL), Segment("".join(axis)[:columns], _DIM)]).crop(0, width)
