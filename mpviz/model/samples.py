"""A process's psutil figures over the last minutes: what its sparklines draw, and where its spikes were.

The sampler sends a process's figures only when they moved, so a figure
holds until the next sample: a column of time with no sample in it shows
the last one before it.  Kept as three arrays, not tuples: a replay's
checkpoints pickle every process's samples.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from typing import Literal

# How far back the figures are kept (for the details pane's graph and a replay's scrub),
# and how much older the oldest may get before they are cut (cutting is a copy).
KEEP_NS = 10 * 60 * 1_000_000_000
SLACK_NS = 60 * 1_000_000_000

Figure = Literal["cpu", "rss"]


class Samples:
    """Times (ns), CPU % and RSS (bytes) of one process, oldest first."""

    def __init__(self) -> None:
        self.times = array("q")
        self.cpu = array("d")
        self.rss = array("q")

    def __len__(self) -> int:
        return len(self.times)

    def add(self, t_ns: int, cpu: float, rss: int) -> None:
        if self.times and t_ns < self.times[-1]:
            return  # a sample a little late (two rounds' records crossed): the later one stands
        self.times.append(t_ns)
        self.cpu.append(cpu)
        self.rss.append(rss)
        if t_ns - self.times[0] > KEEP_NS + SLACK_NS:
            # Keep one sample older than the window: it is what the window's first column shows.
            cut = max(0, bisect_left(self.times, t_ns - KEEP_NS) - 1)
            del self.times[:cut], self.cpu[:cut], self.rss[:cut]

    def columns(
        self, figure: Figure, start_ns: int, step_ns: int, n: int, until_ns: int | None = None
    ) -> list[float | None]:
        """The highest value of ``figure`` in each of ``n`` columns of ``step_ns`` from ``start_ns``:
        the last sample before a column if none falls in it; None before the first sample
        and after ``until_ns`` (the process's end)."""
        values = self.cpu if figure == "cpu" else self.rss
        times = self.times
        out: list[float | None] = [None] * n
        i = bisect_right(times, start_ns) - 1  # the last sample at or before the start
        held: float | None = values[i] if i >= 0 else None
        i += 1
        for c in range(n):
            begin = start_ns + c * step_ns
            if until_ns is not None and begin > until_ns:
                break
            end = begin + step_ns
            # The figure before the column holds in it until its first sample (unless that is at its start).
            top = held if i >= len(times) or times[i] > begin else None
            while i < len(times) and times[i] < end:
                held = values[i]
                top = held if top is None else max(top, held)
                i += 1
            out[c] = top
        return out

    def peak(self, since_ns: int, until_ns: int) -> tuple[int, float] | None:
        """When the CPU was highest between the two times, and how high: the first moment it got
        there (a spike is scrubbed back to where it began)."""
        lo, hi = bisect_left(self.times, since_ns), bisect_right(self.times, until_ns)
        best: tuple[int, float] | None = None
        for i in range(lo, hi):
            if best is None or self.cpu[i] > best[1]:
                best = (self.times[i], self.cpu[i])
        return best

    def at(self, t_ns: int) -> tuple[float, int] | None:
        """The CPU % and RSS shown at ``t_ns`` (the last sample at or before it)."""
        i = bisect_right(self.times, t_ns) - 1
        return (self.cpu[i], self.rss[i]) if i >= 0 else None
