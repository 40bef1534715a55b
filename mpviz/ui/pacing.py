"""How often the run screen redraws, whatever the flow of records.

Records ask for a redraw, at most every ``REFRESH_S``, and ``GATHER_S`` after
the first of them (those that follow closely are drawn with it); the passing
of time needs one a second.  The table, the alerts and the title follow at that
pace; the drawings (the lesson's picture, the timeline, the details) at most
every ``PICTURE_NS`` under a flood, and with every new second.  The lesson's
picture is drawn again for what records said and with every new second (its
durations), not for psutil's figures alone, which it does not show.  (It was
drawn every 5 s for time alone: a wait of 5 s read "1s" there while the table
beside it said 5 s.  Only the lines that change are drawn again, see
``TextView``: in the busy KTV scene a few lines a second.)
"""

from __future__ import annotations

from dataclasses import dataclass

# The screen redraws at most this often, whatever the flow of records.
REFRESH_S = 0.1
# A redraw for records waits this long after the first of them, for those that follow closely: in
# the busy KTV scene a group's process ends 40 to 100 ms after it leaves the room, and the two
# drawn at once cost one pass of the screen instead of two (about 5 ms of the dashboard's main
# thread each, a full pass being 7 to 10).  What the screen shows is at most this much later.
GATHER_S = 0.1
# The drawings (panel, timeline, details) redraw at most this often.
PICTURE_NS = 250_000_000
NS = 1_000_000_000


@dataclass(frozen=True)
class Plan:
    """What one redraw brings up to date."""

    full: bool  # a new second (or a reset): everything that shows the passing of time
    pictures: bool  # the drawings too
    panel: bool  # the lesson's picture among them
    later: float | None  # seconds until the drawings that had to wait are due (None: none wait)


class Pacer:
    def __init__(self) -> None:
        self.refreshed_at = 0.0  # time.monotonic() of the last redraw
        self._last_second = -1
        self._stale = False  # the drawings are behind the model
        self._pictured_ns = 0
        self._said = False  # records (other than psutil figures) came since the lesson's picture was drawn

    def reset(self) -> None:
        """Redraw everything at the next redraw (a new size, another view, a seek)."""
        self._last_second = -1

    def wait(self, now: float, at_least: float = 0.0) -> float:
        """Seconds from ``now`` (monotonic) until a redraw asked for now may happen."""
        return max(at_least, self.refreshed_at + REFRESH_S - now, 0.001)  # Textual: no 0 s timers

    def plan(self, now_ns: int, moved: bool, mono: float, said: bool = False) -> Plan | None:
        """A redraw at ``now_ns`` (the source's clock), ``moved``: the model changed since the last one,
        ``said``: by records a lesson's picture may show (anything but psutil's figures).

        None: nothing to draw."""
        self.refreshed_at = mono
        self._said |= said
        second = now_ns // NS
        full = second != self._last_second
        self._stale |= moved
        if not (moved or full or self._stale):  # (stale: the drawings that had to wait are due)
            return None
        self._last_second = second
        pictures = full or (self._stale and now_ns - self._pictured_ns >= PICTURE_NS)
        if pictures:
            self._stale = False
            # The pace is for floods of records: the second's redraw does not count, or a record
            # just after it would be drawn in two passes (the table now, the pictures later).
            if not full:
                self._pictured_ns = now_ns
        panel = pictures and (self._said or full)
        if panel:
            self._said = False
        later = (self._pictured_ns + PICTURE_NS - now_ns) / NS if self._stale else None
        return Plan(full, pictures, panel, later)
