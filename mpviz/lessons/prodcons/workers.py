"""The tutorial's producers and consumers around one Queue.

The tutorial's first version hangs: when the producer is done, the consumer
blocks in ``q.get()`` forever.  The fixed version sends ``None`` as an end
signal.
"""

from __future__ import annotations

import random
from enum import StrEnum

from mpviz.sync import Queue, sleep
from mpviz.telemetry import report


class Said(StrEnum):
    PRODUCING = "producing"
    MADE = "made"
    EATING = "eating"
    DONE = "done"


def consumer(q: Queue) -> None:
    while True:
        res = q.get()
        if res is None:
            break  # the end signal
        report(Said.EATING, item=res)  # print('%s 吃 %s' % (os.getpid(), res))
        sleep(random.randint(1, 3))
    report(Said.DONE)


def consumer_naive(q: Queue) -> None:
    while True:  # the tutorial's first version: no end signal, so no way out
        res = q.get()
        report(Said.EATING, item=res)
        sleep(random.randint(1, 3))


def producer(q: Queue, items: int, food: str = "bun") -> None:
    for i in range(items):
        report(Said.PRODUCING)
        sleep(random.randint(1, 3))
        res = f"{food} {i}"  # '包子%s' % i
        q.put(res)
        report(Said.MADE, item=res)  # print('%s 生产了 %s' % (os.getpid(), res))
    report(Said.DONE)
