"""The tutorial's traffic light: an Event the cars wait on.

The light is a process that clears the Event (red), then sets it (green),
every 2 seconds.  Cars are processes too: a car that finds the flag clear
waits in ``e.wait()`` until the light sets it.
"""

from __future__ import annotations

from enum import StrEnum

from mpviz.sync import Event, sleep
from mpviz.telemetry import report


class Said(StrEnum):
    WAITING = "waiting at the red light"
    PASSED = "passes the crossing"
    RED = "red"
    GREEN = "green"
    CYCLING_OFF = "cycling off"


def car(i: int, e: Event) -> None:
    if not e.is_set():  # red light
        report(Said.WAITING)  # print('car{}正在等待'.format(i))
        e.wait()  # blocks until the light calls e.set()
    report(Said.PASSED)  # print('car{}通过路口'.format(i))


def traffic_light(e: Event, cycling: Event, period: float = 2) -> None:
    report(Said.RED)  # the Event starts clear: red
    sleep(period)
    while True:
        if not cycling.is_set():  # mpviz: a key switches automatic cycling off
            report(Said.CYCLING_OFF)
            cycling.wait()
        if not e.is_set():
            report(Said.GREEN)
            e.set()
        elif e.is_set():
            report(Said.RED)
            e.clear()
        sleep(period)
