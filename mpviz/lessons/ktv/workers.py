"""The tutorial's KTV: a ``Semaphore(4)`` lets at most four groups in at once.

The fifth group waits at the door until a group comes out.
"""

from __future__ import annotations

import random
from enum import StrEnum

from mpviz.sync import Semaphore, sleep
from mpviz.telemetry import report


class Said(StrEnum):
    """What a group reports (the tutorial prints these)."""

    SINGING = "enters to sing"
    LEAVES = "leaves"


def ktv(i: int, sem: Semaphore) -> None:
    sem.acquire()  # wait for a free room
    report(Said.SINGING)  # print('person {} 进来唱歌了'.format(i))
    sleep(random.randint(1, 5))  # singing
    report(Said.LEAVES)  # print('person {} 从ktv出去了'.format(i))
    sem.release()
