"""Five philosophers at a round table, a fork between each two, and a plate of noodles.

A philosopher thinks, takes one fork, then the other, eats, and puts both
down.  If every one of them takes the fork on the left first, they can all
hold one fork and wait for the other forever: the classic deadlock.  The
main part hands each philosopher its two forks in the order it takes them.
"""

from __future__ import annotations

import random
from enum import StrEnum

from mpviz.sync import Barrier, Lock, Semaphore, sleep
from mpviz.telemetry import report


class Said(StrEnum):
    """What a philosopher reports."""

    THINKING = "thinking"
    ONE_FORK = "has one fork, reaches for the other"
    EATING = "eating"
    FULL = "has eaten enough"


def philosopher(first: Lock, second: Lock, meals: int, seated: Barrier, waiter: Semaphore | None = None) -> None:
    seated.wait()  # dinner starts when everyone is at the table
    for meal in range(meals):
        report(Said.THINKING)
        sleep(random.uniform(0, 0.5))
        if waiter is not None:
            waiter.acquire()  # at most four at the table at once: one of them always gets both forks
        first.acquire()
        report(Said.ONE_FORK)
        sleep(1)  # long enough for every neighbour to take a first fork too
        second.acquire()
        report(Said.EATING, meal=meal + 1)
        sleep(random.randint(1, 2))
        second.release()
        first.release()
        if waiter is not None:
            waiter.release()
    report(Said.FULL)
