"""Lesson time: a sleep and a timeout at the lesson's speed (its ``Pace``, this process's ``boot.current.pace``:
the class is the setup's, which every child unpickles before its first line; this module loads with
the first sleep)."""

from __future__ import annotations

import time

from mpviz.sync import boot
from mpviz.sync.boot import Pace

__all__ = ["Pace", "real_seconds", "sleep"]

# A sleep is cut into steps so a change of speed takes effect within one step.
_SLEEP_STEP = 0.1


def real_seconds(seconds: float) -> float:
    """How long ``seconds`` of lesson time last now, at the lesson's speed (for timeouts)."""
    return seconds / boot.current.pace.factor()


def sleep(seconds: float) -> None:
    """``time.sleep`` in lesson time: divided by the lesson's speed.

    Said as ``proc.sleep`` … ``proc.slept``, so that a process's time splits
    into sleeping and running (the contention figures).  In a scheduled run a
    sleep is a point and takes no time (:mod:`mpviz.sync.turns`)."""
    from mpviz.sync.sites import say  # (here: every process unpickles a Pace, few sleep in lesson time)
    from mpviz.sync.turns import asleep

    remaining = float(seconds)
    if asleep(remaining) or remaining <= 0:
        return
    say("proc.sleep", "", {"s": remaining})
    while remaining > 0:
        speed = boot.current.pace.factor()
        step = min(remaining / speed, _SLEEP_STEP)
        time.sleep(step)
        remaining -= step * speed
    say("proc.slept")
