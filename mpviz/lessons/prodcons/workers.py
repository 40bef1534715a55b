"""The tutorial's producers and consumers around one Queue.

The tutorial's first version hangs: when the producer is done, the consumer
blocks in ``q.get()`` forever.  The fixed version has the producer put
``None`` after its items: the end signal that lets the consumer break out.
"""

from __future__ import annotations

import random
from enum import StrEnum

from mpviz.sync import Queue, sleep
from mpviz.telemetry import report


class Said(StrEnum):
    """What producers and consumers report; ``{item}`` is filled from the record."""

    PRODUCING = "producing"
    MADE = "made {item}"
    EATING = "eating {item}"
    ATE = "ate {item}"
    DONE = "done"


def consumer(q: Queue) -> None:
    while True:
        res = q.get()
        if res is None:
            break  # 收到结束信号则结束
        report(Said.EATING, item=res)
        sleep(random.randint(1, 3))
        report(Said.ATE, item=res)  # print('%s 吃 %s' % (os.getpid(), res))
    report(Said.DONE)


def consumer_naive(q: Queue) -> None:
    while True:  # the tutorial's first version: no end signal, so no way out
        res = q.get()
        report(Said.EATING, item=res)
        sleep(random.randint(1, 3))
        report(Said.ATE, item=res)


def producer(q: Queue, items: int, food: str = "bun", end_signal: bool = True) -> None:
    for i in range(items):
        report(Said.PRODUCING)
        sleep(random.randint(1, 3))
        res = f"{food} {i}"  # '包子%s' % i
        q.put(res)
        report(Said.MADE, item=res)  # print('%s 生产了 %s' % (os.getpid(), res))
    if end_signal:
        q.put(None)  # 发送结束信号
    report(Said.DONE)
