"""The channels' settling window: records held back a moment and given out in time order.

Records from different connections and rings can arrive out of order by the
time it takes a process to get from an operation to its write.  A batch holds
back records younger than ``SETTLE_NS`` (and those later than a ring not yet
read to its end: see rings.py), so that a late sibling can join them and be
sorted in.

Under a flood the records held can be a large share of a run's (a ring's
bounded take leaves the others' newer records waiting for it): they are kept
sorted, a new batch is merged in where it overlaps them, and the cut is found
by bisection, so that a record held over many reads is not sorted or walked
over again at each.
"""

from __future__ import annotations

from bisect import bisect_right
from operator import itemgetter

from mpviz.telemetry import Event

SETTLE_NS = 20_000_000

# A record's time, as the sort key of a batch (a C call, not a lambda: every record is sorted).
BY_TIME = itemgetter(0)


class Settling:
    """The records held back, in time order (records of the same time in the order they came)."""

    def __init__(self) -> None:
        self._held: list[Event] = []

    def __bool__(self) -> bool:
        return bool(self._held)

    def give(self, got: list[Event], cut: int) -> list[Event]:
        """``got`` (sorted here, in place) joined to those held: those of ``cut`` or earlier,
        in time order; the later ones held."""
        got.sort(key=BY_TIME)
        held = self._held
        if held and got and got[0].t_ns < held[-1].t_ns:
            # (As one stable sort of ``held + got`` would order them: only the part they overlap
            # sorted again, the held first among records of the same time.)
            at = bisect_right(held, got[0].t_ns, key=BY_TIME)
            tail = held[at:]
            tail += got
            tail.sort(key=BY_TIME)
            pending = held[:at]
            pending += tail
        elif held:
            pending = held + got
        else:
            pending = got
        split = bisect_right(pending, cut, key=BY_TIME)
        self._held = pending[split:]
        return pending[:split] if split < len(pending) else pending

    def take_all(self) -> list[Event]:
        """Everything held (the end of a run), and nothing held from now on."""
        held, self._held = self._held, []
        return held
