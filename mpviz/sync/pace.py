"""Lesson time: how fast it runs (changed live by the dashboard) and the seed of each process's ``random``."""

from __future__ import annotations

import time

TYPE_CHECKING = False  # (not typing's: a watched program's every process imports this module)
if TYPE_CHECKING:
    from typing import Any


class Pace:
    """How fast lesson time runs, and the seed of each process's ``random``.

    ``speed`` is a shared double (a ``RawValue``) so the dashboard can change it
    while the lesson runs; every :func:`sleep` in every process follows it.
    (A plain class, as every class here: dataclasses costs each process ~10 ms to import.)
    """

    def __init__(self, speed: Any = None, seed: int | None = None) -> None:
        self.speed = speed
        self.seed = seed

    def factor(self) -> float:
        return 1.0 if self.speed is None else max(self.speed.value, 1e-6)


# This process's pace; a lesson process gets its own from its bootstrap.
current = Pace()

# A sleep is cut into steps so a change of speed takes effect within one step.
_SLEEP_STEP = 0.1


def real_seconds(seconds: float) -> float:
    """How long ``seconds`` of lesson time last now, at the lesson's speed (for timeouts)."""
    return seconds / current.factor()


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
        speed = current.factor()
        step = min(remaining / speed, _SLEEP_STEP)
        time.sleep(step)
        remaining -= step * speed
    say("proc.slept")
