"""Shorter ways to the same failure: schedules with fewer switches to try, replayed loosely.

A failing schedule found by PCT switches from one process to another more
often than the bug needs.  Each candidate here is a list of decisions to
follow where it can (:class:`~mpviz.schedule.replay.Replay`, loose): past its
end, or where its process cannot go, whoever went last keeps going.  The
explorer runs each; one that fails the same way with fewer switches becomes
the schedule, and the candidates start again from it.
"""

from __future__ import annotations

from collections.abc import Iterator

from mpviz.schedule.choice import Step


def candidates(steps: list[Step]) -> Iterator[list[Step]]:
    """Most promising first: the schedule cut short after each switch (nothing forced after it),
    shortest first; then each switch undone (the process that went before keeps going)."""
    switches = [k for k in range(1, len(steps)) if steps[k].who != steps[k - 1].who]
    for k in switches:
        yield steps[:k]
    for k in reversed(switches):
        yield [*steps[:k], steps[k - 1], *steps[k + 1 :]]
