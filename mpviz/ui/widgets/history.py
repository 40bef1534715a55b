"""A process's CPU and RSS over time as bars: the table's sparklines and the details pane's graph.

Drawn with the Line API's means (strings of ``▁▂▃▄▅▆▇█``, one cell a column
of time), the way Textual's own ``Sparkline`` draws, but into a table's row
and over several rows: a ``Sparkline`` widget per row of a table would be a
hundred widgets laid out every second.  Columns are aligned to multiples of
their step, so a row's bars change when a figure does or a column begins,
not every time the clock moves.
"""

from __future__ import annotations

from collections.abc import Sequence

from mpviz.model import Proc
from mpviz.model.samples import Figure

BARS = "▁▂▃▄▅▆▇█"
# The table's sparklines: 8 columns of 7.5 s, the last minute.
CELLS = 8
STEP_NS = 7_500_000_000


def grid(now_ns: int, step_ns: int, columns: int) -> int:
    """The start of ``columns`` columns of ``step_ns`` ending with the one ``now_ns`` is in."""
    return (now_ns // step_ns - (columns - 1)) * step_ns


def values(procs: Sequence[Proc], figure: Figure, start_ns: int, step_ns: int, columns: int) -> list[float | None]:
    """Each column's figure, added up over ``procs`` (a folded subtree's); None where none was alive."""
    total: list[float | None] = [None] * columns
    for proc in procs:
        for i, v in enumerate(proc.samples.columns(figure, start_ns, step_ns, columns, proc.exited_ns)):
            if v is not None:
                total[i] = v + (total[i] or 0.0)
    return total


def scale(figure: Figure, known: list[float]) -> tuple[float, float]:
    """The bottom and top of the bars: CPU from 0 to 100 % of a core (more, if it used more);
    memory between its lowest and highest, so that growth shows."""
    if figure == "cpu":
        return 0.0, max(100.0, *known)
    return min(known), max(known)


def bars(column_values: list[float | None], figure: Figure, rows: int = 1) -> list[str]:
    """The values as ``rows`` lines of bars, top line first; a column with no value is blank."""
    known = [v for v in column_values if v is not None]
    if not known:
        return [" " * len(column_values)] * rows
    low, high = scale(figure, known)
    levels = rows * len(BARS)
    heights = [
        None if v is None else max(1, round((v - low) / (high - low) * levels) if high > low else 1)
        for v in column_values
    ]
    lines = []
    for r in range(rows):
        floor = (rows - 1 - r) * len(BARS)  # the levels below this line
        line = []
        for h in heights:
            if h is None or h <= floor:
                line.append(" ")
            else:
                line.append(BARS[min(h - floor, len(BARS)) - 1])
        lines.append("".join(line))
    return lines


def sparkline(procs: Sequence[Proc], figure: Figure, now_ns: int) -> str:
    """The table's sparkline of the last minute."""
    start = grid(now_ns, STEP_NS, CELLS)
    return bars(values(procs, figure, start, STEP_NS, CELLS), figure)[0]
