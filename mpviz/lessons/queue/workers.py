"""The tutorial's Queue: its one-way example, and a bounded queue between a producer and a consumer.

``haha`` is the tutorial's child: it gets what main put and prints it.  The
producer puts numbered items into a queue of ``maxsize`` and blocks on
``put`` while it is full; the consumer gets them, one every few seconds.
"""

from __future__ import annotations

from enum import StrEnum

from mpviz.sync import Queue, sleep
from mpviz.telemetry import report

ITEM = "item {}"


class Said(StrEnum):
    """What the processes report; main reports what each method returned.  ``{…}`` comes from the record."""

    OUT_OF_ORDER = "got {item} out of order"
    EMPTY = "empty() returned {value}"
    FULL = "full() returned {value}"
    QSIZE = "qsize() returned {value}"
    PUT_FULL = "put_nowait() raised queue.Full"
    GET_EMPTY = "get_nowait() raised queue.Empty"


def haha(q: Queue) -> None:
    print(q.get())  # 返回q中的一个项目。如果q为空,此方法将阻塞,直到队列中有项目可用为止


def producer(q: Queue, items: int) -> None:
    for i in range(items):
        q.put(ITEM.format(i))  # 如果队列已满,此方法将阻塞至有空间可用为止


def consumer(q: Queue, items: int, every: float) -> None:
    last = -1  # the producer's items must come in the order they were put
    for _ in range(items):
        sleep(every)
        item = q.get()
        number = item.removeprefix("item ") if isinstance(item, str) else ""
        if number.isdigit():  # an item put by hand is not the producer's
            if int(number) <= last:
                report(Said.OUT_OF_ORDER, item=repr(item))
            last = int(number)


def put_one(q: Queue, item: str) -> None:
    q.put(item)  # a key: blocks while the queue is full


def get_one(q: Queue) -> None:
    q.get()  # a key: blocks while the queue is empty
