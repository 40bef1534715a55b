"""The process table's columns: which a width shows, how wide each is, and a cell fitted to its width."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size

from mpviz.lang import T
from mpviz.ui.widgets import history

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
# A column's place in a row, and its header.
INDEX = {key: i for i, (key, _, _, _) in enumerate(COLUMNS)}
LABELS = {key: label for key, label, _, _ in COLUMNS}


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
