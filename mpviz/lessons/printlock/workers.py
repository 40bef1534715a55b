"""The tutorial's "is running" / "is done" workers: with nothing, a Lock, or join().

Three workers each say "n : pid is running", sleep ``random()`` and say
"n : pid is done".  With nothing, the lines interleave; with a Lock around
the two lines they come in pairs; with ``join()`` after each start the
workers run one after another.
"""

from __future__ import annotations

import random
from enum import StrEnum

from mpviz.sync import Lock, sleep
from mpviz.telemetry import report

MODES = ("none", "lock", "join")
HOW = {
    "none": " (nothing around the prints)",
    "lock": " (a Lock around both prints)",
    "join": " (p.join() after each p.start())",
}


class Said(StrEnum):
    RUNNING = "is running"
    DONE = "is done"


def work(n: int, lock: Lock | None) -> None:
    if lock is not None:
        lock.acquire()  # 给进程上锁
    report(Said.RUNNING)  # print('{} : {} is running'.format(n, os.getpid()))
    sleep(random.random())
    report(Said.DONE)  # print('{} : {} is done'.format(n, os.getpid()))
    if lock is not None:
        lock.release()  # 给进程下锁
