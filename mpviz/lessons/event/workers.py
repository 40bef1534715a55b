"""The tutorial's four Event examples, each a process of its own, as each is a program of its own.

1. ``is_set()`` is False when the event is made.
2. ``wait()`` blocks while the flag is False: here, forever (``print(1111)`` never runs).
3. ``set()``, then ``wait()`` returns at once.
4. ``set()`` and ``wait()`` as in 3; then ``clear()``, and ``wait()`` blocks forever again.

Where the tutorial's program hangs for good, the example gives its
``wait()`` a few seconds and then says that it would never have returned.
The event comes from main (the examples' ``e = Event()``): then the
dashboard's keys set and clear the very flag the example waits on.
"""

from __future__ import annotations

from enum import StrEnum

from mpviz.sync import Event, real_seconds
from mpviz.telemetry import report


class Said(StrEnum):
    FALSE = "is_set() returned False"
    TRUE = "is_set() returned True"
    FOREVER = "wait() would never return: nobody calls set()"
    PAST = "got past wait(): the line after it runs"


def show(e: Event) -> None:
    flag = e.is_set()
    print(flag)  # print(e.is_set())
    report(Said.TRUE if flag else Said.FALSE)


def wait_forever(e: Event, forever: float) -> bool:
    """``e.wait()`` where nobody will call ``e.set()``: the tutorial's program hangs here.
    Waits ``forever`` seconds of lesson time (a key may set the flag meanwhile), then says so."""
    if e.wait(real_seconds(forever)):
        return True
    report(Said.FOREVER)
    return False


def example1(e: Event, forever: float) -> None:
    show(e)  # 在事件的创始之初,状态为False


def example2(e: Event, forever: float) -> None:
    show(e)
    if wait_forever(e, forever):  # e.wait(): 阻塞,等待is_set()的值变成True,如果不为True,会一直等待
        print(1111)  # 后面的代码不会执行
        report(Said.PAST)


def example3(e: Event, forever: float) -> None:
    show(e)
    e.set()  # 将is_set()的值改为True
    e.wait()
    show(e)


def example4(e: Event, forever: float) -> None:
    show(e)
    e.set()
    e.wait()
    show(e)
    e.clear()  # 将is_set()的值改为False
    show(e)
    if wait_forever(e, forever):  # e.wait(): 阻塞,等待is_set()的值变成True
        print(111)  # 代码不会被执行,上面被阻塞了
        report(Said.PAST)


EXAMPLES = (example1, example2, example3, example4)
