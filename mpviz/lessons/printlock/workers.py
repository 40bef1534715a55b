"""The tutorial's "is running" / "is done" workers: with nothing, a Lock, or join().

Three workers each print "n : pid is running", sleep ``random()`` and print
"n : pid is done", as the tutorial's do.  With nothing, the lines interleave;
with a Lock around the two prints they come in pairs; with ``join()`` after
each start the workers run one after another.
"""

from __future__ import annotations

import os
import random
from enum import StrEnum

from mpviz.sync import Lock, sleep
from mpviz.telemetry import report

MODES = ("none", "lock", "join")


class Said(StrEnum):
    RUNNING = "is running"
    DONE = "is done"


def work(n: int, lock: Lock | None) -> None:
    if lock is not None:
        lock.acquire()  # 给进程上锁
    report(Said.RUNNING)
    print(f"{n} : {os.getpid()} is running")  # print('{} : {} is running'.format(n, os.getpid()))
    sleep(random.random())
    report(Said.DONE)
    print(f"{n} : {os.getpid()} is done")  # print('{} : {} is done'.format(n, os.getpid()))
    if lock is not None:
        lock.release()  # 给进程下锁
